"""Benchmark of the minor computations (issue 3, item 7). A script, not a test:

    python benchmarks/bench_minors.py [--quick]      (kag_utils installed: scripts/setup.sh)

(a) the random-rotation-ratio workload of one P1 model (m = 32, n = 3, k = 1, 2, 3,
    B = 1000 examples, N = 400 Haar rotations): our fused kernel vs the naive baseline that
    gathers k x k submatrices and calls torch.linalg.det in chunks of 500 combinations (the
    MNIST paper's method), timed on a subset of examples and extrapolated linearly;
(b) sampled 3-minors of an MNIST-shaped Jacobian (m = 256, n = 784), minors per second,
    streamed reduction vs materialised grid vs the naive gather + det;
(c) peak memory: process peak RSS (resource.getrusage) and tracemalloc's peak of Python/numpy
    allocations during (a).
Prints the device, thread settings and the load average before and after.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import resource
import statistics
import time
import tracemalloc

import torch

from kag_utils.core.jacobians import mlp_jacobian
from kag_utils.core.metrics import p1_metrics, random_rotation_ratios
from kag_utils.core.minors import (combinations_index, sample_combinations,
                              sampled_minor_stats, sampled_minors)
from kag_utils.core.rotations import haar_rotations, rotated_max_minors, warm_up_kernels

try:
    import numba
except Exception:  # pragma: no cover
    numba = None


def rss_mib() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss   # KiB on Linux
    return r / 1024.0


def timeit(fn, repeat=3):
    ts = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return min(ts), statistics.median(ts), out


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ----------------------------------------------------------------------------- naive baseline
def naive_rotated_max(J, R, k, chunk=500):
    """The MNIST paper's method applied to (IV.6): for every example, rotate, gather all k x k
    submatrices for chunks of 500 row combinations (x all column combinations) and call
    torch.linalg.det; running max. J: [B, m, n], R: [P, m, m] -> [B, P]."""
    B, m, n = J.shape
    rows = combinations_index(m, k)
    cols = combinations_index(n, k)
    out = torch.zeros(B, R.shape[0], dtype=J.dtype)
    for b in range(B):
        Q = R @ J[b]                                                   # [P, m, n]
        best = torch.zeros(R.shape[0], dtype=J.dtype)
        for r0 in range(0, rows.shape[0], chunk):
            rc = rows[r0:r0 + chunk]                                   # [c, k]
            sub = Q[:, rc][:, :, :, cols]                              # [P, c, k, C, k]
            sub = sub.permute(0, 1, 3, 2, 4)                           # [P, c, C, k, k]
            best = torch.maximum(best, torch.linalg.det(sub).abs().amax(dim=(1, 2)))
        out[b] = best
    return out


def naive_sampled(J, rows, cols, chunk=500):
    """P2's sampled minors: gather k x k blocks for chunks of 500 x 500 tuples, batched det."""
    out = []
    for r0 in range(0, rows.shape[0], chunk):
        rc = rows[r0:r0 + chunk]
        for c0 in range(0, cols.shape[0], chunk):
            cc = cols[c0:c0 + chunk]
            sub = J[:, rc][:, :, :, cc].permute(0, 1, 3, 2, 4)            # [B, r, c, k, k]
            out.append(torch.linalg.det(sub).abs().sum())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    ap.add_argument("--naive-examples", type=int, default=20)
    args = ap.parse_args()
    B, P, m, n = (200, 100, 32, 3) if args.quick else (1000, 400, 32, 3)
    torch_threads = torch.get_num_threads()

    print("=" * 78)
    print("bench_minors: device and settings")
    print(f"  device        : CPU, {cpu_name()}, {os.cpu_count()} logical cores")
    print(f"  python/torch  : {platform.python_version()} / torch {torch.__version__}"
          + (f" / numba {numba.__version__} ({numba.config.THREADING_LAYER} layer, "
             f"{numba.get_num_threads()} threads)" if numba else " / numba unavailable"))
    print(f"  torch threads : {torch_threads}")
    print(f"  load average  : {' '.join(f'{x:.2f}' for x in os.getloadavg())} (before)")
    rss0 = rss_mib()

    # ---------------------------------------------------------------- (a)
    print("-" * 78)
    print(f"(a) random rotation ratio workload: m = {m}, n = {n}, k = 1, 2, 3, B = {B}, N_rot = {P}")
    g = torch.Generator().manual_seed(0)
    A = torch.randn(n, m, dtype=torch.float64, generator=g) / math.sqrt(n)   # P1 init scale
    a = torch.zeros(m, dtype=torch.float64)
    x = torch.rand(B, n, dtype=torch.float64, generator=g) * 2 - 1
    J = mlp_jacobian(x, A, a)                                          # [B, m, n] float64
    R = haar_rotations(m, P, g)

    t_compile = warm_up_kernels()
    print(f"  numba first call (compile or load from cache, excluded below): {t_compile:.2f} s")

    tracemalloc.start()
    best, med, res = timeit(lambda: rotated_max_minors(J, R, (1, 2, 3)))
    _, tm_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_a = rss_mib()
    print(f"  ours, k = 1,2,3 fused (numba, {numba.get_num_threads() if numba else 0} threads): "
          f"{best:.3f} s (median {med:.3f} s of 3)")
    best3, med3, _ = timeit(lambda: rotated_max_minors(J, R, (3,)))
    print(f"  ours, k = 3 only                      : {best3:.3f} s (median {med3:.3f} s)")
    b1, m1, _ = timeit(lambda: rotated_max_minors(J, R, (1, 2, 3), num_threads=1), repeat=2)
    print(f"  ours, k = 1,2,3 fused, 1 numba thread : {b1:.3f} s")
    bf, _, _ = timeit(lambda: random_rotation_ratios(J, (1, 2, 3), R))
    print(f"  random_rotation_ratios(k = 1,2,3) end to end: {bf:.3f} s")

    # torch backend of ours on a subset
    bt = max(1, B // 50)
    with torch.no_grad():
        tt, _, _ = timeit(lambda: rotated_max_minors(J[:bt], R, (1, 2, 3), backend="torch"), repeat=1)
    print(f"  ours, torch backend (CUDA/fallback path), B = {bt}: {tt:.3f} s "
          f"-> {tt * B / bt:.1f} s extrapolated to B = {B}")

    # naive baseline on a subset, 1 torch thread (faster than 2 on this class of CPU)
    nb_ex = min(args.naive_examples, B)
    torch.set_num_threads(1)
    naive = {}
    for k in (1, 2, 3):
        t = time.perf_counter()
        out = naive_rotated_max(J[:nb_ex], R, k)
        naive[k] = time.perf_counter() - t
        ref = rotated_max_minors(J[:nb_ex], R, (k,))[k]
        assert torch.allclose(out, ref, rtol=1e-9, atol=1e-15), "naive and ours disagree"
    torch.set_num_threads(torch_threads)
    scale = B / nb_ex
    print(f"  naive baseline (gather + torch.linalg.det, chunks of 500, 1 torch thread), timed on "
          f"B = {nb_ex} and extrapolated linearly x{scale:.0f}:")
    for k in (1, 2, 3):
        print(f"    k = {k}: {naive[k]:.2f} s at B = {nb_ex} -> {naive[k] * scale:.1f} s at B = {B}")
    tot = sum(naive.values()) * scale
    print(f"    k = 1,2,3: {tot:.1f} s at B = {B}")
    print(f"  speed-up vs naive: k = 3: {naive[3] * scale / best3:.0f}x ; k = 1,2,3 fused: {tot / best:.0f}x")
    print(f"  targets: k = 3 >= 100x [{'MET' if naive[3] * scale / best3 >= 100 else 'MISSED'}], "
          f"k = 1,2,3 <= 3 s [{'MET' if best <= 3 else 'MISSED'}]")

    # ---------------------------------------------------------------- (c) memory of (a)
    print("-" * 78)
    print("(c) memory during (a)")
    print(f"  tracemalloc peak (numpy/Python allocations) during the fused call: {tm_peak / 2**20:.1f} MiB")
    print(f"  process peak RSS after (a): {rss_a:.0f} MiB (after imports: {rss0:.0f} MiB; "
          f"increase {rss_a - rss0:.0f} MiB) [{'MET' if rss_a < 1024 else 'MISSED'}: < 1 GiB]")

    # one whole P1 model state, for the notebooks' budget
    Ji = mlp_jacobian(x, A + 0.3 * torch.randn(n, m, dtype=torch.float64, generator=g),
                      0.1 * torch.randn(m, dtype=torch.float64, generator=g))
    tp, _, _ = timeit(lambda: p1_metrics(J, Ji, rotations=R), repeat=2)
    tq, _, _ = timeit(lambda: p1_metrics(J, Ji), repeat=2)
    print(f"  p1_metrics(trained + initial, k = 1,2,3, 3 q1): {tp:.2f} s with RR of both, "
          f"{tq:.2f} s without RR")

    # ---------------------------------------------------------------- (b)
    print("-" * 78)
    mm, nn, Bm = 256, 784, 2
    Rn, Cn = (500, 500) if args.quick else (2000, 2000)
    print(f"(b) sampled 3-minors, MNIST-shaped J: m = {mm}, n = {nn}, B = {Bm}, "
          f"{Rn} x {Cn} sampled tuples (grid)")
    Jm = torch.randn(Bm, mm, nn, dtype=torch.float64, generator=g)
    gs = torch.Generator().manual_seed(42)
    rows = sample_combinations(mm, 3, Rn, gs)
    cols = sample_combinations(nn, 3, Cn, gs)
    count = Bm * Rn * Cn
    ts, _, _ = timeit(lambda: sampled_minor_stats(Jm, rows, cols, powers=(1, 2, 4)), repeat=2)
    print(f"  ours, streamed reduction (numba; sums of |mu|^1,2,4, max, min, zeros): "
          f"{ts:.2f} s = {count / ts / 1e6:.1f} M minors/s")
    tmz, _, _ = timeit(lambda: sampled_minors(Jm, rows, cols), repeat=2)
    print(f"  ours, materialised grid [{Bm}, {Rn}, {Cn}] (numba block kernel): {tmz:.2f} s = "
          f"{count / tmz / 1e6:.1f} M minors/s")
    import kag_utils.core.minors as minors_mod
    minors_mod.USE_NUMBA = False
    torch.set_num_threads(1)
    ttc, _, _ = timeit(lambda: sampled_minors(Jm, rows[:1000], cols[:1000]), repeat=2)
    ttc_count = Bm * 1000 * 1000
    print(f"  ours, torch closed form (the CUDA path) on CPU, 1 torch thread: "
          f"{ttc_count / ttc / 1e6:.1f} M minors/s")
    minors_mod.USE_NUMBA = True
    sub_r, sub_c = rows[:500], cols[:500]
    tn, _, _ = timeit(lambda: naive_sampled(Jm, sub_r, sub_c), repeat=2)
    torch.set_num_threads(torch_threads)
    cn = Bm * 500 * 500
    print(f"  naive gather + torch.linalg.det (one 500 x 500 chunk, 1 torch thread): "
          f"{cn / tn / 1e6:.2f} M minors/s -> streamed ours is {(count / ts) / (cn / tn):.0f}x faster")
    print("-" * 78)
    print(f"  load average  : {' '.join(f'{x:.2f}' for x in os.getloadavg())} (after)")
    print(f"  process peak RSS at exit: {rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
