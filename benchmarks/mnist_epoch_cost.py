"""Wall time of one training epoch of P2's MLP (784-h-h-10, GELU) on this CPU.

For each hidden width h, training-set size (4,000: the embedded MNIST split; 60,000:
Fashion-MNIST from Debian's dataset-fashion-mnist, or random uint8 images of that size when it
is absent), torch thread count and standard / augmented training, one model (one seed)
trains for --epochs epochs with ``train_ensemble`` (P2's protocol: AdamW, batch 256, float32);
the time is the payload's ``train_seconds`` (the epoch loop with its per-epoch test
evaluation: 1,000 / 10,000 test images) per epoch, the minimum over --repeats interleaved
repeats (robust to other load on shared cores). Then it projects 200 epochs (P2's schedule)
per run in hours. It also prints the process CPU seconds per epoch (the whole call, so the
initial and final test evaluations are included, a few per cent): with one thread that is
what the wall time would be on an idle core, whatever else runs on the machine.

    PYTHONPATH=. python benchmarks/mnist_epoch_cost.py [--hidden 64 256 512] [--threads 1 2]
        [--sizes 4000 60000] [--epochs 1] [--repeats 2] [--augment both]
"""
from __future__ import annotations

import argparse
import math
import os
import time

import torch

from kag_utils.core.threads import torch_threads
from kag_utils.mnist.data import MNISTData, load_mnist
from kag_utils.mnist.models import MNISTRunConfig, train_ensemble


def _data(n_train: int) -> MNISTData:
    """The embedded split for 4,000; Fashion-MNIST (or same-sized random images) otherwise,
    cut to n_train training images. Relabelled as 'embedded' so that one config fits all (the
    cost does not depend on the pixels)."""
    if n_train <= 4000:
        d = load_mnist("embedded")
    else:
        try:
            d = load_mnist("fashion")
        except FileNotFoundError as exc:
            print(f"(Fashion-MNIST absent: {exc}; timing random images of the same size)")
            g = torch.Generator().manual_seed(0)
            imgs = torch.randint(0, 256, (n_train + 10000, 28, 28), generator=g,
                                 dtype=torch.uint8)
            labels = torch.randint(0, 10, (n_train + 10000,), generator=g)
            d = MNISTData("fashion", imgs[:n_train], labels[:n_train], imgs[n_train:],
                          labels[n_train:], "random images (timing only)")
    if n_train > d.n_train:
        raise SystemExit(f"{n_train} training images requested; {d.source} has {d.n_train}")
    return MNISTData("embedded", d.train_images[:n_train], d.train_labels[:n_train],
                     d.test_images, d.test_labels, f"{d.description} (first {n_train:,})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, nargs="+", default=[64, 256, 512])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 60000])
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--augment", choices=["no", "yes", "both"], default="both")
    args = ap.parse_args()
    augments = {"no": [False], "yes": [True], "both": [False, True]}[args.augment]
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    rows = []
    warm = _data(4000)                  # one-time costs (MKL, allocator) outside the timings
    warm = MNISTData("embedded", warm.train_images[:1000], warm.train_labels[:1000],
                     warm.test_images, warm.test_labels, "warm-up")
    for t in args.threads:
        with torch_threads(t):
            train_ensemble([MNISTRunConfig(hidden=max(args.hidden), seed=0, epochs=1)], warm, "cpu")
    for n in args.sizes:
        data = _data(n)
        print(f"data: {data.description}; {data.n_test:,} test images evaluated per epoch")
        for h in args.hidden:
            for aug in augments:
                cfg = MNISTRunConfig(hidden=h, seed=0, augment=aug, epochs=args.epochs)
                best = {t: math.inf for t in args.threads}
                cpu = {t: math.inf for t in args.threads}
                for _ in range(args.repeats):
                    for t in args.threads:
                        c0 = time.process_time()
                        with torch_threads(t):
                            (p,) = train_ensemble([cfg], data, "cpu")
                        cpu[t] = min(cpu[t], (time.process_time() - c0) / args.epochs)
                        best[t] = min(best[t], p["meta"]["train_seconds"] / args.epochs)
                for t in args.threads:
                    rows.append((n, h, aug, t, best[t]))
                    print(f"n_train {n:6d}  h {h:4d}  {'augmented' if aug else 'standard ':9s}  "
                          f"threads {t}:  {best[t]:7.2f} s/epoch (cpu {cpu[t]:7.2f} s)   "
                          f"200 epochs: {200 * best[t] / 3600:6.2f} h "
                          f"(cpu {200 * cpu[t] / 3600:6.2f} h)   load {os.getloadavg()[0]:.1f}",
                          flush=True)
    print(f"load average {os.getloadavg()}")
    print("\nsummary, s/epoch (standard / augmented):")
    for n in args.sizes:
        for t in args.threads:
            cells = []
            for h in args.hidden:
                v = [r[4] for r in rows if r[0] == n and r[1] == h and r[3] == t]
                cells.append(f"h={h}: " + " / ".join(f"{x:.2f}" for x in v))
            print(f"  n={n:6d} threads={t}:  " + ";  ".join(cells))


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - t0:.0f} s")
