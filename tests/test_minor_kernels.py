"""The compiled minor-grid kernels (kag_utils.core.minor_kernels) against slow references:
numpy.linalg.det over itertools-style loops (tests/ka_reference.py), the element-wise closed
form kernel, and numpy's log10 + searchsorted for the histograms; invariants (scaling by c^k,
row order, thread count); the public wrappers on the numba and the torch (CUDA) paths."""
import math

import numpy as np
import pytest
import torch

import ka_reference as ref
import kag_utils.core.minors as minors_mod
from kag_utils.core import minor_kernels as mk
from kag_utils.core.minors import (sample_combinations, sampled_minor_histogram,
                                   sampled_minor_max, sampled_minor_stats, sampled_minors)

D = torch.float64
numba = pytest.importorskip("numba")


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def case(k, seed=0, L=3, m=11, n=40, R=37, C=150, dtype=D):
    """J [L, m, n] with an all-zero example, a zero row and zero columns; R row tuples (not a
    multiple of 4) x C column tuples (more than two tiles, the last one partial)."""
    g = gen(seed)
    J = torch.randn(L, m, n, generator=g, dtype=dtype) * torch.logspace(-3, 1, n, dtype=dtype)
    J[1] = 0.0
    J[0, 2] = 0.0
    J[-1, :, :3] = 0.0
    rows = sample_combinations(m, k, R, g)
    cols = sample_combinations(n, k, C, g)
    return J, rows, cols


def elementwise(J, rows, cols):
    """|minors| [L, R*C] by the element-wise closed-form kernel (abs_minor)."""
    out = np.empty((J.shape[0], rows.shape[0], cols.shape[0]), dtype=J.numpy().dtype)
    mk.grid_minors(J.numpy(), rows.numpy(), cols.numpy(), out)
    return out.reshape(J.shape[0], -1)


def log10_hist(S, edges):
    """numpy's definition: non-zero values by searchsorted(edges[1:-1], log10 v, 'right')."""
    nb = len(edges) - 1
    out = []
    for s in S:
        v = s[s != 0].astype(np.float64)
        with np.errstate(divide="ignore"):
            idx = np.searchsorted(edges[1:-1], np.log10(v), side="right")
        out.append(np.bincount(idx, minlength=nb))
    return np.array(out)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_full_reductions_match_det_reference(k):
    J, rows, cols = case(k, seed=k)
    red, hist = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL)
    assert hist is None and red.shape == (3, 6)
    for b in range(3):
        mu = ref.sampled_grid(J[b], rows.tolist(), cols.tolist()).ravel()      # numpy det
        for slot, p in ((mk.S1, 1), (mk.S2, 2), (mk.S4, 4)):
            assert red[b, slot] == pytest.approx((mu ** p).sum(), rel=1e-9, abs=1e-300)
        assert red[b, mk.MAX] == pytest.approx(mu.max(), rel=1e-9)
    S = elementwise(J, rows, cols)
    # extremes and zeros bit-identical to the element-wise closed form
    np.testing.assert_array_equal(red[:, mk.MAX], S.max(1))
    np.testing.assert_array_equal(red[:, mk.MIN_NONZERO],
                                  [s[s > 0].min() if (s > 0).any() else np.inf for s in S])
    np.testing.assert_array_equal(red[:, mk.N_ZERO], (S == 0).sum(1))
    assert red[1, mk.N_ZERO] == rows.shape[0] * cols.shape[0] and red[1, mk.S1] == 0.0
    assert red[1, mk.MIN_NONZERO] == math.inf
    np.testing.assert_allclose(red[:, mk.S1], S.sum(1), rtol=1e-13)
    np.testing.assert_allclose(red[:, mk.S4], (S ** 4).sum(1), rtol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("R,C", [(1, 1), (3, 64), (5, 65), (8, 129)])
def test_padding_of_tuples_and_tiles(k, R, C):
    # row counts below / at multiples of 4 and column counts around the tile size
    J, rows, cols = case(k, seed=R + C, L=3, m=9, n=30, R=R, C=C)
    R, C = rows.shape[0], cols.shape[0]
    edges = np.linspace(-6, 2, 17)
    red, hist = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL, edges)
    S = elementwise(J, rows, cols)
    np.testing.assert_array_equal(red[:, mk.N_ZERO], (S == 0).sum(1))
    np.testing.assert_array_equal(hist, log10_hist(S, edges))
    assert (hist.sum(1) + red[:, mk.N_ZERO] == R * C).all()
    np.testing.assert_allclose(red[:, mk.S2], (S ** 2).sum(1), rtol=1e-13)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_modes_agree(k):
    J, rows, cols = case(k, seed=10 + k)
    edges = np.linspace(-7, 3, 41)
    full, h_full = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL, edges)
    full_nh, _ = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL)
    mx, _ = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_MAX)
    none, h_none = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_NONE, edges)
    np.testing.assert_array_equal(full, full_nh)
    np.testing.assert_array_equal(mx[:, mk.MAX], full[:, mk.MAX])
    np.testing.assert_array_equal(h_none, h_full)
    np.testing.assert_array_equal(none[:, mk.N_ZERO], full[:, mk.N_ZERO])
    np.testing.assert_array_equal(h_full, log10_hist(elementwise(J, rows, cols), edges))
    with pytest.raises(ValueError, match="edges"):
        mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_NONE)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_scaling_by_c_to_the_k(k):
    # J -> 2J scales every k-minor by 2^k exactly (a power of two: no rounding)
    J, rows, cols = case(k, seed=20 + k)
    a, _ = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL)
    b, _ = mk.grid_reduce((2 * J).numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL)
    c = 2.0 ** k
    for slot, p in ((mk.S1, 1), (mk.S2, 2), (mk.S4, 4), (mk.MAX, 1), (mk.MIN_NONZERO, 1)):
        np.testing.assert_array_equal(b[:, slot], a[:, slot] * c ** p)
    np.testing.assert_array_equal(b[:, mk.N_ZERO], a[:, mk.N_ZERO])
    # and by c = 3 up to rounding
    b3, _ = mk.grid_reduce((3 * J).numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL)
    np.testing.assert_allclose(b3[:, mk.S1], a[:, mk.S1] * 3.0 ** k, rtol=1e-13)


def test_row_order_and_thread_count_do_not_matter():
    J, rows, cols = case(3, seed=30, L=4, m=16, n=50, R=101, C=300)
    edges = np.linspace(-8, 2, 61)
    a, ha = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL, edges)
    perm = torch.randperm(rows.shape[0], generator=gen(1))
    b, hb = mk.grid_reduce(J.numpy(), rows[perm].numpy(), cols.numpy(), mk.MODE_FULL, edges)
    np.testing.assert_array_equal(a, b)                 # rows are sorted inside: identical
    np.testing.assert_array_equal(ha, hb)
    prev = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        c, hc = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL, edges)
    finally:
        numba.set_num_threads(prev)
    np.testing.assert_array_equal(a, c)                 # tiles, not threads, fix the order
    np.testing.assert_array_equal(ha, hc)
    # a permutation of the column tuples changes only the summation order
    pc = torch.randperm(cols.shape[0], generator=gen(2))
    d, hd = mk.grid_reduce(J.numpy(), rows.numpy(), cols[pc].numpy(), mk.MODE_FULL, edges)
    np.testing.assert_allclose(d, a, rtol=1e-13)
    np.testing.assert_array_equal(hd, ha)


def test_float32_input():
    J, rows, cols = case(3, seed=40, dtype=torch.float32)
    red, _ = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL)
    S = elementwise(J, rows, cols)                                 # float32 closed form
    assert S.dtype == np.float32
    np.testing.assert_array_equal(red[:, mk.MAX], S.max(1).astype(np.float64))
    np.testing.assert_allclose(red[:, mk.S1], S.astype(np.float64).sum(1), rtol=1e-12)
    red64, _ = mk.grid_reduce(J.double().numpy(), rows.numpy(), cols.numpy(), mk.MODE_FULL)
    np.testing.assert_allclose(red[:, mk.S1], red64[:, mk.S1], rtol=1e-4)


# ----------------------------------------------------------------------------- histograms
@pytest.mark.parametrize("edges", [np.linspace(-30, 5, 101), np.linspace(-4, 2, 101),
                                   np.linspace(0.0, 0.002, 9), np.array([-300.0, -1.0, 300.0]),
                                   np.array([-1.0, 1.0]), np.array([-400.0, -350.0, 0.0, 400.0, 500.0]),
                                   np.array([-9.0, -8.5, -2.0, 0.1, 0.2, 3.0])])    # non-uniform
def test_bin_thresholds_are_log10_searchsorted(edges):
    g = np.random.default_rng(0)
    v = 10.0 ** g.uniform(max(edges[0] - 3, -320), min(edges[-1] + 3, 305), 200_000)
    inner = edges[1:-1]
    # and values at every edge and a few float64 steps either side
    with np.errstate(over="ignore", under="ignore"):
        at = 10.0 ** inner
        near = np.concatenate([at] + [np.nextafter(at, s * np.inf) for s in (1, -1)]
                              + [at * (1 + d * 2.0 ** -52) for d in (-3, -2, 2, 3)])
    v = np.concatenate([v, near, [np.inf, 5e-324, 1e-310]])
    v = v[v > 0]
    want = np.searchsorted(inner, np.log10(v), side="right")
    T = mk.bin_thresholds(edges)
    assert T.shape == (len(edges),) and T[0] == 0 and np.isnan(T[-1])
    assert np.all(np.diff(T[:-1]) >= 0)
    np.testing.assert_array_equal(np.searchsorted(T[1:-1], v, side="right"), want)
    lo, inv, eps = mk.bin_guess(edges)
    uniform = np.allclose(np.diff(edges), edges[1] - edges[0])
    assert (lo, inv) == ((edges[0], 1 / (edges[1] - edges[0])) if uniform else (0.0, 0.0))
    assert (0 < eps < 0.1) if uniform else eps == math.inf
    # the kernel's guess, in numpy: exponent + polynomial is within GUESS_ERROR of log10
    if uniform:
        bits = v.view(np.int64)
        f = ((bits & mk.MANTISSA_MASK) | mk.ONE_BITS).view(np.float64) - 1.0
        l2 = ((bits >> 52) - 1023) + np.polynomial.Polynomial(mk.LOG2_POLY)(f)
        normal = (bits >= mk.NORMAL) & np.isfinite(v)
        err = np.abs(l2 * mk.LOG10_2 - np.log10(v))[normal]
        assert err.max() < mk.GUESS_ERROR / 4


@pytest.mark.parametrize("edges", [np.linspace(-310, 5, 64),                    # guessed bins
                                   np.concatenate([np.linspace(-310, -20, 40),
                                                   np.linspace(-19.5, 5, 23)])])   # searched
def test_histogram_at_edges_subnormals_and_overflow(edges):
    # k = 1: the minors are the entries, so values can be placed exactly
    at = 10.0 ** edges[1:-1]
    vals = np.concatenate([at, np.nextafter(at, 0), np.nextafter(at, np.inf),
                           [5e-324, 1e-310, 2.2e-308, 1e-320, 3e5, 1e-320, 0.0, 7.0]])
    vals = vals[np.isfinite(vals)]
    J = torch.from_numpy(vals.reshape(1, 1, -1).copy())
    rows = torch.tensor([[0]])
    cols = torch.arange(vals.size).reshape(-1, 1)
    _, h = mk.grid_reduce(J.numpy(), rows.numpy(), cols.numpy(), mk.MODE_NONE, edges)
    np.testing.assert_array_equal(h, log10_hist(J.numpy().reshape(1, -1), edges))
    # k = 2 minors that overflow to inf land in the last bin, like log10(inf)
    Jo = torch.tensor([[[1e200, 1e-3], [2.0, 1e200]]], dtype=D)
    two = torch.tensor([[0, 1]])
    _, ho = mk.grid_reduce(Jo.numpy(), two.numpy(), two.numpy(), mk.MODE_NONE,
                           np.array([-1.0, 0.0, 1.0]))
    assert ho.tolist() == [[0, 1]]


# ----------------------------------------------------------------------------- the public API
@pytest.fixture(params=["numba", "torch"])
def path(request, monkeypatch):
    monkeypatch.setattr(minors_mod, "USE_NUMBA", request.param == "numba")
    return request.param


@pytest.mark.parametrize("k", [1, 2, 3])
def test_max_and_histogram_wrappers(k, path):
    J, rows, cols = case(k, seed=50 + k, L=4)
    J = J.reshape(2, 2, *J.shape[1:])                                  # leading dims [2, 2]
    edges = torch.linspace(-6, 2, 33, dtype=D)
    S = sampled_minors(J, rows, cols).reshape(2, 2, -1)
    mx = sampled_minor_max(J, rows, cols)
    assert mx.shape == (2, 2) and mx.dtype == D
    torch.testing.assert_close(mx, S.amax(-1).to(D), rtol=1e-12, atol=0)
    h, z = sampled_minor_histogram(J, rows, cols, edges)
    assert h.shape == (2, 2, 32) and z.shape == (2, 2)
    want = log10_hist(S.reshape(4, -1).numpy(), edges.numpy()).reshape(2, 2, 32)
    np.testing.assert_array_equal(h.numpy(), want)
    np.testing.assert_array_equal(z.numpy(), (S == 0).sum(-1).numpy())
    st = sampled_minor_stats(J, rows, cols, powers=(1, 2, 4), log10_edges=edges)
    assert torch.equal(st["hist"], h) and torch.equal(st["n_zero"], z)
    assert torch.equal(st["max"], mx)
    with pytest.raises(ValueError, match="increasing"):
        sampled_minor_histogram(J, rows, cols, edges.flip(0))


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("k", [1, 2, 3])
def test_cuda_torch_path_matches_cpu_kernel(k):
    """The torch closed forms on CUDA give the CPU kernels' numbers (same inputs)."""
    J, rows, cols = case(k, seed=60 + k, L=3, m=40, n=120, R=300, C=500)
    edges = torch.linspace(-8, 3, 101, dtype=D)
    cpu = sampled_minor_stats(J, rows, cols, powers=(1, 2, 4), log10_edges=edges)
    gpu = sampled_minor_stats(J.cuda(), rows.cuda(), cols.cuda(), powers=(1, 2, 4),
                              log10_edges=edges.cuda())
    for key in ("sum_p1", "sum_p2", "sum_p4", "max", "min_nonzero"):
        torch.testing.assert_close(gpu[key].cpu(), cpu[key], rtol=1e-10, atol=0)
    assert torch.equal(gpu["n_zero"].cpu(), cpu["n_zero"])
    # histogram counts may differ only for values within an ulp of an edge
    assert int((gpu["hist"].cpu() - cpu["hist"]).abs().sum()) <= 2
    torch.testing.assert_close(sampled_minor_max(J.cuda(), rows, cols).cpu(),
                               sampled_minor_max(J, rows, cols), rtol=1e-12, atol=0)


def test_numba_uses_the_workqueue_layer_unless_told_otherwise():
    """core.threads.use_workqueue_layer: after a kernel, torch's CPU operations ran up to 40x
    slower on numba's OpenMP layer; the kernels select numba's workqueue layer unless
    NUMBA_THREADING_LAYER names one."""
    import os
    import subprocess
    import sys

    code = ("import numpy as np, numba, kag_utils.core.minor_kernels as mk; "
            "mk.grid_reduce(np.ones((1, 3, 3)), np.array([[0, 1]]), np.array([[0, 2]]), "
            "mk.MODE_MAX); print(numba.threading_layer())")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_THREADING_LAYER"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "workqueue", out.stderr
    env["NUMBA_THREADING_LAYER"] = "omp"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "omp", out.stderr
