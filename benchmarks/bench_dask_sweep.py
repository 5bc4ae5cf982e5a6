"""Wall time of one sweep, serial (in-process) vs on a Dask LocalCluster, each into a fresh
cache: P1's main grid (xor/linear/random x m in {4, 8, 16, 32} x 4 seeds, the protocol's
patience 50) at ``--max-epochs`` (default 10,000: notebook 01's `default`/`paper` grid), then
the metrics of every trained and initial model (``--n-rot`` rotations, 0 skips the RR).
Rounds alternate serial and Dask (``--rounds``) so that load from other processes hits both.
The Dask time includes starting the cluster (printed separately) and checks that both caches
hold identical results.

    PYTHONPATH=$PWD python benchmarks/bench_dask_sweep.py [--workers 2] [--max-epochs 300]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import pandas as pd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-epochs", type=int, default=10_000)
    ap.add_argument("--n-rot", type=int, default=40)
    ap.add_argument("--n-x", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()

    import kag_utils as kag
    from kag_utils.pipeline import sweep
    from kag_utils.pipeline.cache import Cache

    configs = kag.main_grid(max_epochs=a.max_epochs)
    ecfg = kag.EvalConfig(n_x=a.n_x, n_rot=a.n_rot, n_x_rot=min(a.n_x, 1000))
    scheduler = f"local:{a.workers}"
    times = {"serial": [], "dask": []}
    for r in range(a.rounds):
        frames = {}
        for mode in ("serial", "dask"):
            with tempfile.TemporaryDirectory(prefix="kag-bench-") as tmp:
                t0 = time.perf_counter()
                startup = 0.0
                if mode == "dask":
                    sweep.close_clients()
                    sweep.get_client(scheduler)
                    startup = time.perf_counter() - t0
                frames[mode] = kag.evaluate(configs, ("final", "init"), ecfg, cache=Cache(tmp),
                                            progress=False,
                                            scheduler=scheduler if mode == "dask" else None)
                dt = time.perf_counter() - t0
                times[mode].append(dt)
                print(f"round {r + 1} {mode:6s}: {dt:7.1f} s"
                      + (f" (cluster start {startup:.1f} s)" if mode == "dask" else "")
                      + f"  load avg {os.getloadavg()[0]:.1f}", flush=True)
        pd.testing.assert_frame_equal(frames["serial"], frames["dask"], check_exact=True)
    sweep.close_clients()
    s, d = min(times["serial"]), min(times["dask"])
    print(f"{len(configs)} runs + {2 * len(configs)} evaluations, max_epochs={a.max_epochs}: "
          f"serial {s:.1f} s, Dask {a.workers} workers {d:.1f} s (best of {a.rounds}); "
          f"speed-up {s / d:.2f}x; results identical")


if __name__ == "__main__":
    main()
