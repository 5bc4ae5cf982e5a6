"""Wall time of P1's main grid (xor/linear/random x m in {4, 8, 16, 32} x 4 seeds, B = 250,
10,000 max epochs, patience 50) and of one B = 32 random(32) ensemble of 4 seeds, at one torch
thread, into a fresh cache; prints stop epochs and a train R^2 sanity table (P1 Table I).

    PYTHONPATH=$PWD python benchmarks/bench_main_grid.py [--cache DIR] [--dtype float64]
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from kag_utils.pipeline.cache import Cache
from kag_utils.p1.runs import RunConfig, ensure_runs, main_grid

TABLE_I = {"xor": (0.3819, 0.6864, 0.9412, 0.9850), "linear": (1.0, 1.0, 1.0, 1.0),
           "random": (0.0042, 0.0067, 0.0102, 0.0210)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=None, help="cache dir (default: a fresh temporary one, removed after)")
    ap.add_argument("--dtype", default="float64")
    a = ap.parse_args()
    if a.cache:
        return run(a, Cache(a.cache))
    with tempfile.TemporaryDirectory(prefix="kag-bench-") as tmp:
        return run(a, Cache(tmp))


def run(a, cache: Cache):
    configs = main_grid(dtype=a.dtype)
    t, c = time.perf_counter(), time.process_time()
    runs = ensure_runs(configs, cache=cache, progress=False)
    grid_s, grid_cpu = time.perf_counter() - t, time.process_time() - c
    print(f"main grid: {len(runs)} runs in {grid_s:.1f} s wall, {grid_cpu:.1f} s CPU "
          f"({a.dtype}, cache {cache.root})")
    print("function  m   stop epochs (seeds 0-3)      train R2 mean +- std   test R2 mean   P1 Table I")
    for f in TABLE_I:
        for j, m in enumerate((4, 8, 16, 32)):
            rs = [r for r in runs if r.config.target == f and r.config.hidden == (m,)]
            r2 = [r.r2["train"] for r in rs]
            te = [r.r2["test"] for r in rs]
            print(f"{f:8s} {m:3d}   {str([r.stop_epoch for r in rs]):26s} "
                  f"{statistics.mean(r2):.4f} +- {statistics.stdev(r2):.4f}      "
                  f"{statistics.mean(te):+.4f}       {TABLE_I[f][j]:.4f}")
    small = [RunConfig(target="random", hidden=(32,), seed=s, batch_size=32, dtype=a.dtype)
             for s in range(4)]
    t, c = time.perf_counter(), time.process_time()
    rs = ensure_runs(small, cache=cache, progress=False)
    print(f"random(32), B = 32, 4 seeds: {time.perf_counter() - t:.1f} s wall, "
          f"{time.process_time() - c:.1f} s CPU; stop epochs "
          f"{[r.stop_epoch for r in rs]}; train R2 {[round(r.r2['train'], 4) for r in rs]}")


if __name__ == "__main__":
    main()
