"""Benchmark of P2's rotation ratio (notebook 06, issue 14): the RR of one network pair as
``kag_utils.mnist.evaluation.pair_metrics`` computes it. A script, not a test:

    python benchmarks/bench_rr.py [--hidden 512] [--images 4] [--n-rot 16]
                                  [--trained-hidden 128] [--epochs 20] [--skip-trained]

(a) speed, on the same inputs (h = --hidden, He-initialised "trained" network with random
    biases and its own initialisation, the first --images test digits, the paper set's
    rr_rows = rr_cols = 120, k = 1, 2, 3, layers L1 and L2, --n-rot rotations): the Haar
    draw (QR; the det sign with numpy's BLAS on its default threads, as before, and on one
    thread, as now; on --det-count matrices), then ``sampled_rotation_ratios`` with float64
    products (before: rotations drawn afresh per network; now: drawn once per process and
    width), float32 products, and float64 products on two torch threads. Each timing is the fastest of --repeats calls; ratios are
    against "before". Prints the largest relative difference of the per-image ratios.
(b) error of float32 products on a realistically trained network (h = --trained-hidden,
    --epochs epochs of P2's training on the embedded digits, in a temporary cache): per layer
    and k, the relative differences of RR_trained, RR_init and RR_trained / RR_init (64
    images, 120 x 120 combinations, 80 rotations: the paper set) against the float64 values,
    beside the standard error of RR_trained and RR_init over images.
Prints the load average before and after: the machine may be shared.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import tempfile
import time

import numpy as np
import torch

from kag_utils.core.rotations import _one_blas_thread, haar_rotations
from kag_utils.core.threads import torch_threads
from kag_utils.mnist import evaluation as ev
from kag_utils.mnist.data import load_mnist
from kag_utils.mnist.models import MNISTRunConfig, ensure_mnist_runs, init_params, mlp_jacobians

KS = (1, 2, 3)
RR_ROWS = RR_COLS = 120           # params/paper.yaml, 06_mnist_spatial


def fastest(fn, repeats: int) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def inputs(params_t: dict, params_i: dict, x: torch.Tensor, m: int) -> tuple[dict, dict]:
    """({(state, layer): J [B, m, 784]}, {k: (rows [R, k], cols [C, k])}) as pair_metrics."""
    Js = {}
    for name, p in (("trained", params_t), ("init", params_i)):
        J = mlp_jacobians({k: v.to(torch.float64) for k, v in p.items()}, x, ev.LAYERS)
        for layer in ev.LAYERS:
            Js[(name, layer)] = J[layer]
    samples = {k: (ev.row_samples(m, k, RR_ROWS)[0], ev.column_samples(k, RR_COLS)[0]) for k in KS}
    return Js, samples


def det_signs(Q: torch.Tensor, one_thread: bool) -> np.ndarray:
    with _one_blas_thread() if one_thread else contextlib.nullcontext():
        return np.linalg.det(Q.numpy()) < 0


def max_rel(a: dict, b: dict) -> float:
    d = torch.cat([((a[key][k] - b[key][k]).abs() / b[key][k].abs()).flatten()
                   for key in b for k in b[key]])
    return float(d[~torch.isnan(d)].max())


def speed(args) -> None:
    m = args.hidden
    x = load_mnist("embedded").inputs("test", torch.float64)[:args.images]
    pt, pi = init_params(m, 1, torch.float64), init_params(m, 0, torch.float64)
    g = torch.Generator().manual_seed(100)
    for key in ("b1", "b2"):
        pt[key] = 0.3 * torch.randn(pt[key].shape, generator=g, dtype=torch.float64)
    Js, samples = inputs(pt, pi, x, m)
    U = torch.cat([r.flatten() for r, _ in samples.values()]).unique().numel()
    V = torch.cat([c.flatten() for _, c in samples.values()]).unique().numel()
    print(f"(a) h = {m}, {args.images} images, {args.n_rot} rotations, |U| = {U} rows, "
          f"|V| = {V} pixels, 4 Jacobian sets (trained / init x L1 / L2)")
    ev._ROTATION_CACHE.clear()
    with torch_threads(1):
        # warm up the numba kernels for both dtypes
        small = {k: (r[:2], c[:2]) for k, (r, c) in samples.items()}
        one = {("trained", "L1"): Js[("trained", "L1")][:1]}
        rot1 = haar_rotations(m, 1, torch.Generator().manual_seed(0))
        for dt in (None, torch.float32):
            ev.sampled_rotation_ratios(one, small, [rot1], dtype=dt)
        G = torch.randn(args.det_count, m, m, generator=torch.Generator().manual_seed(1),
                        dtype=torch.float64)
        t_qr, Q = fastest(lambda: torch.linalg.qr(G)[0], args.repeats)
        t_det_many, s_many = fastest(lambda: det_signs(Q, False), 1)
        t_det_one, s_one = fastest(lambda: det_signs(Q, True), args.repeats)
        assert (s_many == s_one).all()
        per = 1.0 / args.det_count
        print(f"  Haar draw per rotation: QR {t_qr * per * 1e3:.0f} ms; det sign "
              f"{t_det_many * per * 1e3:.0f} ms with BLAS default threads (before), "
              f"{t_det_one * per * 1e3:.1f} ms on one thread (now)")

        def before():                     # rotations drawn afresh, float64 products
            ev._ROTATION_CACHE.clear()
            return ev.sampled_rotation_ratios(Js, samples, ev.rotation_chunks(m, args.n_rot, 0))

        def draw():
            ev._ROTATION_CACHE.clear()
            return list(ev.rotation_chunks(m, args.n_rot, 0))

        t_draw, _ = fastest(draw, 1)
        rots = list(ev.rotation_chunks(m, args.n_rot, 0))
        t_before, r_before = fastest(before, 1)
        t64, r64 = fastest(lambda: ev.sampled_rotation_ratios(
            Js, samples, ev.rotation_chunks(m, args.n_rot, 0)), args.repeats)
        t32, r32 = fastest(lambda: ev.sampled_rotation_ratios(
            Js, samples, rots, dtype=torch.float32), args.repeats)
    with torch_threads(2):
        t64_2, r64_2 = fastest(lambda: ev.sampled_rotation_ratios(Js, samples, rots), args.repeats)
    print(f"  before this change the det sign alone added {t_det_many * per * args.n_rot:.1f} s "
          f"for {args.n_rot} rotations (BLAS default threads)")
    rows = [("before: rotations drawn afresh + float64 products (1 torch thread)", t_before,
             max_rel(r_before, r64)),
            ("draw only, det on one thread (once per process and width now)", t_draw, None),
            ("now: cached rotations, float64 products (1 torch thread)", t64, max_rel(r64, r64)),
            ("opt-in: cached rotations, float32 products (1 torch thread)", t32, max_rel(r32, r64)),
            ("cached rotations, float64 products, 2 torch threads", t64_2, max_rel(r64_2, r64))]
    print(f"  {'path':72s} {'s':>7s} {'x before':>9s} {'max rel diff vs float64':>24s}")
    for name, t, d in rows:
        print(f"  {name:72s} {t:7.2f} {t_before / t:9.2f} {'' if d is None else f'{d:.2e}':>24s}")


def trained_error(args) -> None:
    h = args.trained_hidden
    cfg = MNISTRunConfig(hidden=h, seed=0, epochs=args.epochs)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        run = ensure_mnist_runs([cfg], cache=tmp, progress=False)[0]
        t_train = time.perf_counter() - t
    x = load_mnist("embedded").inputs("test", torch.float64)[:64]
    Js, _ = inputs(run.final, run.initial, x, h)
    samples = {k: (ev.row_samples(h, k, RR_ROWS)[0], ev.column_samples(k, RR_COLS)[0]) for k in KS}
    with torch_threads(1):
        r64 = ev.sampled_rotation_ratios(Js, samples, ev.rotation_chunks(h, 80, 0))
        r32 = ev.sampled_rotation_ratios(Js, samples, ev.rotation_chunks(h, 80, 0),
                                         dtype=torch.float32)
    print(f"(b) h = {h}, {args.epochs} epochs ({t_train:.0f} s, test accuracy "
          f"{run.test_acc:.3f}), 64 images, 120 x 120 combinations, 80 rotations")
    print(f"  {'':7s} {'RR_tr':>8s} {'RR_init':>8s} {'ratio':>7s} {'rel d RR_tr':>12s} "
          f"{'rel d RR_init':>13s} {'rel d ratio':>12s} {'SE/RR_tr':>9s} {'SE/RR_init':>10s}")
    worst = [0.0, math.inf]
    for layer in ev.LAYERS:
        for k in KS:
            v = {}
            for name, r in (("64", r64), ("32", r32)):
                tr, it = r[("trained", layer)][k], r[("init", layer)][k]
                v[name] = (float(tr.nanmean()), float(it.nanmean()))
            se = [float(r64[(s, layer)][k].std() / math.sqrt(64)) / v["64"][i]
                  for i, s in enumerate(("trained", "init"))]
            d_tr = abs(v["32"][0] / v["64"][0] - 1)
            d_in = abs(v["32"][1] / v["64"][1] - 1)
            ratio64, ratio32 = v["64"][0] / v["64"][1], v["32"][0] / v["32"][1]
            d_ra = abs(ratio32 / ratio64 - 1)
            worst = [max(worst[0], d_tr, d_in, d_ra), min(worst[1], *se)]
            print(f"  {layer}/k{k}  {v['64'][0]:8.3f} {v['64'][1]:8.3f} {ratio64:7.3f} "
                  f"{d_tr:12.1e} {d_in:13.1e} {d_ra:12.1e} {se[0]:9.1e} {se[1]:10.1e}")
    print(f"  largest relative float32 difference {worst[0]:.1e}; smallest relative SE "
          f"{worst[1]:.1e} ({worst[1] / max(worst[0], 1e-300):.0f}x the difference)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--n-rot", type=int, default=16)
    ap.add_argument("--det-count", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--trained-hidden", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--skip-trained", action="store_true")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {os.getloadavg()}")
    speed(args)
    if not args.skip_trained:
        trained_error(args)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
