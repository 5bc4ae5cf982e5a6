"""Benchmark of the minor computations (issue 3 item 7, issue 14 items 6-7). A script, not a test:

    python benchmarks/bench_minors.py [--quick] [--sections a,b,c,d,e] [--repeats 5]
                                                     (kag_utils installed: scripts/setup.sh)

(a) the random-rotation-ratio workload of one P1 model (m = 32, n = 3, k = 1, 2, 3,
    B = 1000 examples, N = 400 Haar rotations): our fused kernel vs the naive baseline that
    gathers k x k submatrices and calls torch.linalg.det in chunks of 500 combinations (the
    MNIST paper's method), timed on a subset of examples and extrapolated linearly;
(b) sampled 3-minors of an MNIST-shaped Jacobian (m = 256, n = 784, B = 2, 2000 x 2000
    tuples), minors per second: the streamed reductions (all stats; max only; the log10
    histogram), float32, the materialised grid, the torch closed form (the CUDA path) and the
    naive gather + torch.linalg.det (1 torch thread). The speed-up over the naive baseline is
    measured --repeats times, each time ours and the naive baseline back to back (the fastest
    of several calls each), and the median of the ratios is printed: the machine may be
    shared. Also per thread (ours on 1 numba thread), which other load on the cores disturbs
    less than a 2-thread kernel;
(c) peak memory during (a): process peak RSS (resource.getrusage) and tracemalloc's peak;
(d) peak memory of one image's P2 evaluation (kag_utils.mnist.evaluation.pair_metrics: one
    image, h = 512, k = 3, 10,000 x 10,000 sampled tuples, both networks, both layers, PR /
    IPR / KL passes and a rotation ratio on 1,000 x 1,000 tuples) in a subprocess: peak RSS
    above the process after imports and compilation (peak RSS reset through
    /proc/self/clear_refs), peak anonymous memory sampled every 5 ms, and the tracemalloc
    peak; target < 1 GiB;
(e) float32 vs float64: the relative differences of the PR, KL and RR numbers of
    pair_metrics on synthetic networks (h = 32, 128, 512) computed in float32.
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
                                   sampled_minor_histogram, sampled_minor_max,
                                   sampled_minor_stats, sampled_minors)
from kag_utils.mnist.evaluation import log10_edges
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


def section_a(args, torch_threads, rss0):
    """(a) the P1 rotation-ratio workload and (c) its memory."""
    B, P, m, n = (200, 100, 32, 3) if args.quick else (1000, 400, 32, 3)
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
          f"increase {rss_a - rss0:.0f} MiB) [{'MET' if rss_a - rss0 < 1024 else 'MISSED'}: "
          f"increase < 1 GiB]")

    # one whole P1 model state, for the notebooks' budget
    Ji = mlp_jacobian(x, A + 0.3 * torch.randn(n, m, dtype=torch.float64, generator=g),
                      0.1 * torch.randn(m, dtype=torch.float64, generator=g))
    tp, _, _ = timeit(lambda: p1_metrics(J, Ji, rotations=R), repeat=2)
    tq, _, _ = timeit(lambda: p1_metrics(J, Ji), repeat=2)
    print(f"  p1_metrics(trained + initial, k = 1,2,3, 3 q1): {tp:.2f} s with RR of both, "
          f"{tq:.2f} s without RR")


def min_time(fn, min_total: float = 0.3, max_calls: int = 20) -> float:
    """Shortest of several calls of fn (at least 2, until min_total seconds are spent)."""
    ts = []
    while len(ts) < 2 or (sum(ts) < min_total and len(ts) < max_calls):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def section_b(args, torch_threads):
    """(b) sampled minors of an MNIST-shaped Jacobian; the ratio to the naive baseline."""
    print("-" * 78)
    mm, nn, Bm, k = 256, 784, 2, 3
    Rn, Cn = (500, 500) if args.quick else (2000, 2000)
    print(f"(b) sampled 3-minors, MNIST-shaped J: m = {mm}, n = {nn}, B = {Bm}, "
          f"{Rn} x {Cn} sampled tuples (grid), float64 unless stated")
    g = torch.Generator().manual_seed(1)
    Jm = torch.randn(Bm, mm, nn, dtype=torch.float64, generator=g)
    gs = torch.Generator().manual_seed(42)
    rows = sample_combinations(mm, k, Rn, gs)
    cols = sample_combinations(nn, k, Cn, gs)
    count = Bm * Rn * Cn
    st = sampled_minor_stats(Jm, rows, cols, powers=(1, 2, 4))             # compile / load
    edges = log10_edges(float(st["min_nonzero"].min()), float(st["max"].max()), 100)
    J32 = Jm.float()
    ours = {
        "streamed stats (sums of |mu|^1,2,4, max, min, zeros)":
            lambda: sampled_minor_stats(Jm, rows, cols, powers=(1, 2, 4)),
        "streamed max only (rotation ratio)": lambda: sampled_minor_max(Jm, rows, cols),
        "streamed log10 histogram, 100 bins (KL)":
            lambda: sampled_minor_histogram(Jm, rows, cols, edges),
        "streamed stats, float32 J": lambda: sampled_minor_stats(J32, rows, cols, powers=(1, 2, 4)),
        f"materialised grid [{Bm}, {Rn}, {Cn}] (element-wise kernel)":
            lambda: sampled_minors(Jm, rows, cols),
    }
    for fn in ours.values():
        fn()
    import kag_utils.core.minors as minors_mod
    sub_r, sub_c = rows[:500], cols[:500]
    cn = Bm * sub_r.shape[0] * sub_c.shape[0]
    ratios, ratios1, rates, naive_rates = [], [], {name: [] for name in ours}, []
    first = next(iter(ours))
    one = []                                           # the streamed stats on 1 numba thread
    nthreads = numba.get_num_threads() if numba else 1
    for rep in range(args.repeats):
        for name, fn in ours.items():
            rates[name].append(count / min_time(fn) / 1e6)
        if numba:
            numba.set_num_threads(1)
        try:
            one.append(count / min_time(ours[first]) / 1e6)
        finally:
            if numba:
                numba.set_num_threads(nthreads)
        torch.set_num_threads(1)
        naive_rates.append(cn / min_time(lambda: naive_sampled(Jm, sub_r, sub_c), 0.5, 3) / 1e6)
        torch.set_num_threads(torch_threads)
        ratios.append(rates[first][-1] / naive_rates[-1])
        ratios1.append(one[-1] / naive_rates[-1])
        print(f"  repeat {rep + 1}: streamed stats {rates[first][-1]:7.1f} M minors/s "
              f"({one[-1]:6.1f} on 1 thread), naive {naive_rates[-1]:5.2f} M minors/s -> "
              f"{ratios[-1]:4.0f}x ({ratios1[-1]:4.0f}x per thread)   (load "
              f"{os.getloadavg()[0]:.2f})")
    med = statistics.median
    print(f"  ours (numba, {numba.get_num_threads() if numba else 0} threads), median of "
          f"{args.repeats} repeats:")
    for name, r in rates.items():
        print(f"    {name:58s}: {med(r):7.1f} M minors/s")
    minors_mod.USE_NUMBA = False
    torch.set_num_threads(1)
    try:
        ttc = min_time(lambda: sampled_minors(Jm, rows[:1000], cols[:1000]), 0.5, 3)
    finally:
        minors_mod.USE_NUMBA = True
        torch.set_num_threads(torch_threads)
    print(f"    {'streamed stats on 1 numba thread':58s}: {med(one):7.1f} M minors/s")
    print(f"    {'torch closed form (the CUDA path) on CPU, 1 torch thread':58s}: "
          f"{Bm * 1000 * 1000 / ttc / 1e6:7.1f} M minors/s")
    print(f"  naive gather + torch.linalg.det (one 500 x 500 chunk, 1 torch thread): "
          f"{med(naive_rates):.2f} M minors/s (median)")
    r = med(ratios)
    print(f"  speed-up of the streamed stats ({nthreads} numba threads) over the naive baseline "
          f"(1 torch thread): median {r:.0f}x (repeats: {', '.join(f'{x:.0f}' for x in ratios)}) "
          f"[{'MET' if r >= 150 else 'MISSED'}: >= 150x]")
    print(f"  the same per thread (1 numba thread vs 1 torch thread; less sensitive to other load "
          f"on the cores): median {med(ratios1):.0f}x "
          f"(repeats: {', '.join(f'{x:.0f}' for x in ratios1)})")


def memory_child(quick: bool) -> None:
    """(d), run in a subprocess: one image's pair_metrics at h = 512, k = 3."""
    import threading

    from kag_utils.mnist import evaluation as ma
    from kag_utils.mnist.models import init_params

    def status(key):                                                   # KiB from /proc
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    h, n_tup = (128, 2000) if quick else (512, 10_000)
    D = torch.float64
    g = torch.Generator().manual_seed(0)
    pt, pi = init_params(h, 0, D), init_params(h, 1, D)
    for p in (pt, pi):
        p["b1"] = 0.3 * torch.randn(p["b1"].shape, generator=g, dtype=D)
    x = torch.randn(1, 784, generator=g, dtype=D)
    ecfg = ma.MNISTEvalConfig(n_images=1, ks=(3,), n_rows=n_tup, n_cols=n_tup, n_rot=4,
                              rr_images=1, rr_rows=1000, rr_cols=1000)
    small = ma.MNISTEvalConfig(n_images=1, ks=(3,), n_rows=20, n_cols=20, n_rot=1,
                               rr_images=1, rr_rows=20, rr_cols=20)
    ma.pair_metrics(pt, pi, x, small, device="cpu")                    # imports, compilation
    for k in (3,):                                                     # the samples (cached)
        ma.row_samples(h, k, n_tup, ecfg.sample_seed)
        ma.column_samples(k, n_tup, ecfg.sample_seed)
    reset = True
    try:
        with open("/proc/self/clear_refs", "w") as f:                  # reset the peak RSS
            f.write("5")
    except OSError:
        reset = False
    rss0, hwm0, anon0 = status("VmRSS"), status("VmHWM"), status("RssAnon")
    peak_anon = [anon0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak_anon[0] = max(peak_anon[0], status("RssAnon"))
            time.sleep(0.005)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    tracemalloc.start()
    t = time.perf_counter()
    res = ma.pair_metrics(pt, pi, x, ecfg, device="cpu")
    dt = time.perf_counter() - t
    _, tm_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    done.set()
    th.join()
    hwm1 = status("VmHWM")
    n_minors = res["metrics"]["L1/k3"]["n_minors"]
    print(f"  one image, h = {h}, k = 3, {n_tup} x {n_tup} tuples: {n_minors:.2e} minors per "
          f"(network, layer, pass); pair_metrics took {dt:.1f} s")
    print(f"  process RSS before: {rss0 / 1024:.0f} MiB (torch, numba and kag_utils loaded; "
          f"peak so far {hwm0 / 1024:.0f} MiB{', reset' if reset else ''})")
    print(f"  peak RSS during the evaluation: {hwm1 / 1024:.0f} MiB -> increase "
          f"{(hwm1 - rss0) / 1024:.0f} MiB"
          + ("" if reset else " (peak not resettable here: an upper bound)"))
    print(f"  peak anonymous memory (sampled every 5 ms): {peak_anon[0] / 1024:.0f} MiB, "
          f"increase {(peak_anon[0] - anon0) / 1024:.0f} MiB")
    print(f"  tracemalloc peak (Python / numpy allocations): {tm_peak / 2 ** 20:.1f} MiB")
    inc = (hwm1 - rss0) / 1024
    print(f"  [{'MET' if inc < 1024 else 'MISSED'}: the evaluation's peak memory < 1 GiB]")


def section_d(args):
    import subprocess
    import sys

    print("-" * 78)
    print("(d) peak memory of one image's P2 evaluation (subprocess)")
    cmd = [sys.executable, os.path.abspath(__file__), "--memory-child"] + (["--quick"] if args.quick else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    print(r.stdout, end="")
    if r.returncode:
        print(f"  child failed (exit {r.returncode}):\n{r.stderr[-2000:]}")


def section_e(args):
    """(e) float32 against float64 on the P2 pair metrics."""
    from kag_utils.mnist import evaluation as ma
    from kag_utils.mnist.models import init_params

    print("-" * 78)
    print("(e) float32 vs float64: pair_metrics on synthetic networks (6 images, k = 1, 2, 3, "
          "1500 x 1500 tuples, RR: 3 images, 150 x 150 tuples, 6 rotations)")
    D = torch.float64
    g = torch.Generator().manual_seed(7)
    x = torch.randn(6, 784, generator=g, dtype=D)

    def net(h, seed, scale):
        p = init_params(h, seed, D)
        for key in ("b1", "b2", "b3"):
            p[key] = scale * torch.randn(p[key].shape, generator=g, dtype=D)
        for key in ("W1", "W2"):
            p[key] = p[key] * (1 + scale * torch.rand(p[key].shape, generator=g, dtype=D))
        return p

    worst: dict = {}
    for h in ((32,) if args.quick else (32, 128, 512)):
        pt, pi = net(h, 0, 0.5), init_params(h, 0, D)
        res = {}
        for dt in ("float64", "float32"):
            ecfg = ma.MNISTEvalConfig(n_images=6, ks=(1, 2, 3), n_rows=1500, n_cols=1500,
                                      n_rot=6, rr_images=3, rr_rows=150, rr_cols=150, dtype=dt)
            res[dt] = ma.pair_metrics(pt, pi, x, ecfg, device="cpu")["metrics"]
        for key, m64 in res["float64"].items():
            for name, v in m64.items():
                fam = name.split("_")[0]
                if fam not in ("pr", "kl", "rr", "ipr", "n") or isinstance(v, bool):
                    continue
                fam = name if fam == "n" else fam
                w = res["float32"][key][name]
                d = abs(w - v) / abs(v) if v else float(abs(w - v))
                if d >= worst.get(fam, (-1,))[0]:
                    worst[fam] = (d, h, key, name, v, w)
    for fam, (d, h, key, name, v, w) in sorted(worst.items()):
        print(f"  {fam:15s} largest relative difference {d:9.2e}  (h = {h}, {key} {name}: "
              f"float64 {v:.10g}, float32 {w:.10g})")
    print("  float32 runs Jacobians and minors in float32 (MNISTEvalConfig.dtype); the default "
          "stays float64")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (smoke run)")
    ap.add_argument("--naive-examples", type=int, default=20)
    ap.add_argument("--sections", default="a,b,d,e", help="comma-separated subset of a,b,d,e "
                    "((c) comes with (a))")
    ap.add_argument("--repeats", type=int, default=5, help="repeats of (b)'s ratio")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.quick)
        return
    sections = set(args.sections.split(","))
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
    if "a" in sections:
        section_a(args, torch_threads, rss0)
    if "b" in sections:
        section_b(args, torch_threads)
    if "d" in sections:
        section_d(args)
    if "e" in sections:
        section_e(args)
    print("-" * 78)
    print(f"  load average  : {' '.join(f'{x:.2f}' for x in os.getloadavg())} (after)")
    print(f"  process peak RSS at exit: {rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
