"""Time P2 MNIST training on CPU: seconds per member-epoch on the embedded 4,000 digits.

Ensemble of seeds (one batched ensemble) vs a loop of single models, standard vs augmented,
for each hidden size, at 1 and 2 torch threads; then sanity test accuracies after N epochs.
Each timed epoch includes the per-epoch test evaluation (1,000 images).

    PYTHONPATH=. python benchmarks/mnist_training.py [--epochs 1] [--repeats 3] [--seeds 5] [--threads 1 2]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import torch

from kag_utils.mnist.data import load_mnist
from kag_utils.mnist.models import MNISTRunConfig, train_ensemble
from kag_utils.core.threads import torch_threads


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, nargs="+", default=[32, 64, 128, 256, 512])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--acc-epochs", type=int, default=20)
    ap.add_argument("--acc-hidden", type=int, nargs="*", default=[32, 128])
    ap.add_argument("--acc-seeds", type=int, default=2)
    args = ap.parse_args()
    data = load_mnist()
    print(f"load average {os.getloadavg()}, torch {torch.__version__}, data {data.info['description']}")
    print("min over --repeats interleaved repeats (robust to other load on shared cores)")
    print("threads  h  augment  ensemble s/member-epoch  loop s/member-epoch  loop/ensemble")
    for h in args.hidden:
        for aug in (False, True):
            cfgs = [MNISTRunConfig(hidden=h, seed=s, augment=aug, epochs=args.epochs)
                    for s in range(args.seeds)]
            train_ensemble([MNISTRunConfig(hidden=h, seed=99, augment=aug, epochs=1)], data, "cpu")
            best = {}
            for _ in range(args.repeats):
                for threads in args.threads:
                    with torch_threads(threads):
                        t = time.perf_counter()
                        train_ensemble(cfgs, data, "cpu")
                        ens = (time.perf_counter() - t) / (args.seeds * args.epochs)
                        t = time.perf_counter()
                        for c in cfgs:
                            train_ensemble([c], data, "cpu")
                        loop = (time.perf_counter() - t) / (args.seeds * args.epochs)
                    old = best.get(threads, (math.inf, math.inf))
                    best[threads] = (min(old[0], ens), min(old[1], loop))
            for threads in args.threads:
                ens, loop = best[threads]
                print(f"{threads:7d} {h:3d}  {str(aug):7s}  {ens:22.4f}  {loop:19.4f}  {loop / ens:13.2f}",
                      flush=True)
    print(f"load average {os.getloadavg()}")
    with torch_threads(1):
        for h in args.acc_hidden:
            for aug in (False, True):
                cfgs = [MNISTRunConfig(hidden=h, seed=s, augment=aug, epochs=args.acc_epochs)
                        for s in range(args.acc_seeds)]
                t = time.perf_counter()
                out = train_ensemble(cfgs, data, "cpu")
                accs = [p["test_acc"] for p in out]
                train_accs = ", ".join(f"{float(p['curve']['train_acc'][-1]):.3f}" for p in out)
                print(f"h={h} augment={aug}: test accuracy after {args.acc_epochs} epochs "
                      f"{', '.join(f'{a:.3f}' for a in accs)} (train acc "
                      f"{train_accs}; "
                      f"{time.perf_counter() - t:.1f} s for {len(cfgs)} seeds)", flush=True)


if __name__ == "__main__":
    main()
