"""Convergence ladders of P2's sampled estimates on freshly trained networks (prints tables).

Trains one network per hidden width (seed 0; ``train_ensemble``, no cache) on --data for
--epochs, takes the --layer Jacobians of the first test images of the trained and initial
network (float64) and runs ``kag_utils.mnist.convergence.convergence`` with the given tops.
Prints the ladder of every quantity (estimate +- se per count), the per-ladder choices and
the chosen ``MNISTEvalConfig`` counts. P2's tops (10,000 x 10,000, 512 images, 400 rotations)
are GPU work; the defaults here are CPU-sized.

    PYTHONPATH=. python benchmarks/mnist_convergence.py [--data embedded] [--hidden 64]
        [--epochs 20] [--ks 2 3] [--rows 2000 --cols 2000 --images 64]
        [--rr-rows 300 --rr-cols 300 --rr-images 32 --n-rot 100] [--device cpu]
"""
from __future__ import annotations

import argparse
import time

import torch

from kag_utils.core.threads import torch_threads
from kag_utils.mnist.convergence import ConvergenceConfig, convergence
from kag_utils.mnist.data import load_mnist
from kag_utils.mnist.models import MNISTRunConfig, mlp_jacobians, train_ensemble


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="embedded")
    ap.add_argument("--hidden", type=int, nargs="+", default=[64])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--layer", default="L1", choices=["L1", "L2"])
    ap.add_argument("--ks", type=int, nargs="+", default=[2, 3])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--cols", type=int, default=2000)
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--rr-rows", type=int, default=300)
    ap.add_argument("--rr-cols", type=int, default=300)
    ap.add_argument("--rr-images", type=int, default=32)
    ap.add_argument("--n-rot", type=int, default=100)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    data = load_mnist(args.data)
    cfg = ConvergenceConfig(ks=tuple(args.ks), rows=args.rows, cols=args.cols, images=args.images,
                            rr_rows=args.rr_rows, rr_cols=args.rr_cols, rr_images=args.rr_images,
                            n_rot=args.n_rot, steps=args.steps)
    n = max(cfg.images, cfg.rr_images if cfg.n_rot else 0)
    x = data.inputs("test", torch.float64, args.device)[:n]
    pairs = {}
    for h in args.hidden:
        t0 = time.perf_counter()
        with torch_threads(1):
            (p,) = train_ensemble([MNISTRunConfig(hidden=h, seed=0, epochs=args.epochs,
                                                  data=args.data)], data, args.device)
        print(f"h={h}: trained {args.epochs} epochs on {data.n_train:,} {args.data} images in "
              f"{time.perf_counter() - t0:.0f} s, test accuracy {p['test_acc']:.3f}", flush=True)
        J = {s: mlp_jacobians({k: v.to(args.device, torch.float64) for k, v in p[s].items()}, x,
                              (args.layer,))[args.layer] for s in ("final", "initial")}
        pairs[f"h{h}/{args.layer}"] = (J["final"], J["initial"])
    t0 = time.perf_counter()
    res = convergence(pairs, cfg, progress=True)
    print(f"convergence: {time.perf_counter() - t0:.0f} s; {cfg}")
    t = res.table
    for (model, k, q, axis), d in t.groupby(["model", "k", "quantity", "axis"], sort=False):
        cells = "  ".join(f"{c}: {e:.4g}+-{s:.2g}" for c, e, s in
                          zip(d["count"], d["estimate"], d["se"]))
        print(f"{model} k={k} {q:10s} {axis:9s} {cells}")
    print(res.choices.to_string(index=False))
    print("chosen:", res.chosen)


if __name__ == "__main__":
    main()
