"""All 2-minors streamed exactly (kag_utils.core.exact_minors) against the direct computation:
itertools.combinations of rows and columns, numpy.linalg.det, numpy's log10 + searchsorted."""
import itertools
import math

import numpy as np
import pytest
import torch

import kag_utils.core.minors as minors_mod
from kag_utils.core.exact_minors import exact_minor_stats, log10_bin_table, n_minors
from kag_utils.core.minors import combinations_index, sampled_minor_stats


def rand(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


def direct(J: np.ndarray, edges=None) -> dict:
    """The slow, obviously faithful reference for one example J [m, n]: every 2 x 2 minor by
    numpy.linalg.det (values) and by ad - bc (exact zeros and bins)."""
    m, n = J.shape
    dets, adbc = [], []
    for i, j in itertools.combinations(range(m), 2):
        for p, q in itertools.combinations(range(n), 2):
            dets.append(abs(np.linalg.det(J[np.ix_([i, j], [p, q])])))
            adbc.append(abs(J[i, p] * J[j, q] - J[i, q] * J[j, p]))
    d, a = np.array(dets), np.array(adbc)
    out = {"sum_p1": d.sum(), "sum_p2": (d * d).sum(), "max": d.max(), "count": d.size,
           "n_zero": int((a == 0).sum()),
           "min_nonzero": a[a > 0].min() if (a > 0).any() else math.inf}
    if edges is not None:
        nz = a[a > 0]
        b = np.searchsorted(edges[1:-1], np.log10(nz), side="right")
        out["hist"] = np.bincount(b, minlength=len(edges) - 1)
    return out


@pytest.mark.parametrize("m,n,seed", [(2, 2, 0), (5, 7, 1), (9, 13, 2)])
def test_exact_matches_direct_determinants(m, n, seed):
    J = rand(3, m, n, seed=seed)
    edges = np.linspace(-4.0, 1.0, 41)             # values below and above: end bins
    st = exact_minor_stats(J, edges)
    assert st["count"] == n_minors(m, n) == math.comb(m, 2) * math.comb(n, 2)
    for b in range(3):
        ref = direct(J[b].numpy(), edges)
        for key in ("sum_p1", "sum_p2", "max", "min_nonzero"):
            np.testing.assert_allclose(float(st[key][b]), ref[key], rtol=1e-12)
        assert int(st["n_zero"][b]) == ref["n_zero"]
        np.testing.assert_array_equal(st["hist"][b].numpy(), ref["hist"])
        assert int(st["hist"][b].sum()) + ref["n_zero"] == ref["count"]


def test_exact_zeros_clipping_and_no_edges():
    J = rand(6, 10, seed=3)
    J[4] = 2.0 * J[1]                  # every minor of rows (1, 4) is exactly zero
    J[:, 7] = 0.0                      # and every minor with column 7
    J[2, 3] = 1e6                      # large minors: above the top edge (last bin)
    edges = np.array([-1.0, 0.0, 1.0])
    st = exact_minor_stats(J, edges)
    ref = direct(J.numpy(), edges)
    assert int(st["n_zero"]) == ref["n_zero"] > math.comb(10, 2)
    np.testing.assert_array_equal(st["hist"].numpy(), ref["hist"])
    np.testing.assert_allclose(float(st["min_nonzero"]), ref["min_nonzero"], rtol=1e-12)
    one = exact_minor_stats(J, np.array([-1.0, 1.0]))              # a single bin
    assert int(one["hist"].sum()) == ref["count"] - ref["n_zero"]
    plain = exact_minor_stats(J)
    assert "hist" not in plain
    np.testing.assert_allclose(float(plain["sum_p1"]), ref["sum_p1"], rtol=1e-12)
    allzero = exact_minor_stats(torch.zeros(3, 4, dtype=torch.float64), edges)
    assert int(allzero["n_zero"]) == 18 and math.isinf(float(allzero["min_nonzero"]))


def test_exact_equals_sampled_kernel_on_the_exhaustive_grid(monkeypatch):
    """The same numbers as minors.sampled_minor_stats over all row pairs x all column pairs,
    through its numba kernel and through the torch blocks (the CUDA path) -- also the fallback
    of exact_minor_stats off the CPU."""
    J = rand(2, 12, 30, seed=4)
    edges = torch.linspace(-6.0, 1.5, 101, dtype=torch.float64)
    st = exact_minor_stats(J, edges)
    rows, cols = combinations_index(12, 2), combinations_index(30, 2)
    for use_numba in (True, False):
        monkeypatch.setattr(minors_mod, "USE_NUMBA", use_numba)
        ref = sampled_minor_stats(J, rows, cols, powers=(1, 2), log10_edges=edges)
        for key in ("sum_p1", "sum_p2", "max", "min_nonzero"):
            np.testing.assert_allclose(st[key].numpy(), ref[key].numpy(), rtol=1e-12)
        assert torch.equal(st["n_zero"], ref["n_zero"])
        assert torch.equal(st["hist"], ref["hist"])
        fb = exact_minor_stats(J, edges)                # USE_NUMBA off: the torch fallback
        assert torch.equal(fb["hist"], ref["hist"])


def test_float32_leading_dims_and_threads_partition():
    J = rand(2, 3, 8, 9, seed=5, dtype=torch.float32)
    st = exact_minor_stats(J, np.linspace(-3, 2, 11))
    assert st["sum_p1"].shape == (2, 3) and st["hist"].shape == (2, 3, 10)
    assert st["sum_p1"].dtype == torch.float64
    ref = direct(J[1, 2].double().numpy())
    np.testing.assert_allclose(float(st["sum_p1"][1, 2]), ref["sum_p1"], rtol=1e-5)
    # the result does not depend on how the row pairs are split into work items
    J64 = rand(1, 11, 9, seed=6)
    a = exact_minor_stats(J64, np.linspace(-3, 2, 11), chunks_per_thread=1)
    b = exact_minor_stats(J64, np.linspace(-3, 2, 11), chunks_per_thread=50)
    assert torch.equal(a["hist"], b["hist"]) and torch.equal(a["n_zero"], b["n_zero"])
    np.testing.assert_allclose(a["sum_p2"].numpy(), b["sum_p2"].numpy(), rtol=1e-13)


def test_bin_table_agrees_with_log10_searchsorted():
    edges = np.linspace(-20.0, 3.0, 101)
    key_lo, table = log10_bin_table(edges)
    rng = np.random.default_rng(0)
    v = 10.0 ** rng.uniform(-22, 5, 200_000)
    v = np.concatenate([v, 10.0 ** edges, np.nextafter(10.0 ** edges, 0)])
    expect = np.searchsorted(edges[1:-1], np.log10(v), side="right")
    k = (v.view(np.int64) >> (52 - 8)) - key_lo
    got = np.where(k < 0, 0, np.where(k >= table.size, len(edges) - 2,
                                      table[np.clip(k, 0, table.size - 1)]))
    known = got >= 0
    assert known.mean() > 0.98                     # few straddling intervals
    np.testing.assert_array_equal(got[known], expect[known])


def test_bad_input_raises():
    with pytest.raises(ValueError, match="k = 2 exceeds"):
        exact_minor_stats(rand(1, 5))
    with pytest.raises(ValueError, match="NaN"):
        exact_minor_stats(torch.full((3, 3), math.nan, dtype=torch.float64))
    with pytest.raises(ValueError, match="increasing"):
        exact_minor_stats(rand(3, 3), np.array([1.0, 0.0]))


@pytest.mark.parametrize("use_numba", [True, False])
def test_grid_kernel_equals_sampled_stats(use_numba, monkeypatch):
    """grid_minor_stats on a sampled grid = sampled_minor_stats (numba stats kernel)."""
    from kag_utils.core.exact_minors import grid_minor_stats
    from kag_utils.core.minors import sample_combinations
    J = rand(3, 15, 40, seed=7)
    J[0, 3] = 0.0                                     # some exact zeros
    g = torch.Generator().manual_seed(0)
    rows = sample_combinations(15, 2, 50, g)
    cols = sample_combinations(40, 2, 300, g)
    edges = torch.linspace(-5.0, 1.0, 61, dtype=torch.float64)
    ref = sampled_minor_stats(J, rows, cols, powers=(1, 2), log10_edges=edges)
    monkeypatch.setattr(minors_mod, "USE_NUMBA", use_numba)
    st = grid_minor_stats(J, rows, cols, edges)
    assert st["count"] == ref["count"] == 50 * 300
    for key in ("sum_p1", "sum_p2", "max", "min_nonzero"):
        np.testing.assert_allclose(st[key].numpy(), ref[key].numpy(), rtol=1e-12)
    assert torch.equal(st["n_zero"], ref["n_zero"]) and int(st["n_zero"][0]) > 0
    assert torch.equal(st["hist"], ref["hist"])
    with pytest.raises(ValueError, match="2-minors"):
        grid_minor_stats(J, sample_combinations(15, 3, 5, g), sample_combinations(40, 3, 5, g))
