"""Minor matrices (P1 IV.1) and P2 sampled minors against the loop reference."""
import itertools
import math

import numpy as np
import pytest
import torch

import ka_reference as ref
import kag_utils.core.minors as minors_mod
from kag_utils.core.minors import (combination_rank, combinations_index, iter_minor_blocks,
                              minor_matrix, sample_combinations, sampled_minor_stats,
                              sampled_minors, subset_rank_table)

D = torch.float64


@pytest.fixture(params=["numba", "torch"])
def path(request, monkeypatch):
    """Run a test through the CPU numba block kernel and through the torch closed forms
    (the CUDA path)."""
    monkeypatch.setattr(minors_mod, "USE_NUMBA", request.param == "numba")
    return request.param


def rand(*shape, seed=0, dtype=D):
    return torch.randn(*shape, dtype=dtype, generator=torch.Generator().manual_seed(seed))


# ----------------------------------------------------------------------------- combinations
@pytest.mark.parametrize("m,k", [(1, 1), (5, 1), (5, 2), (7, 3), (8, 4), (6, 6), (12, 3)])
def test_combinations_index_is_itertools_order(m, k):
    idx = combinations_index(m, k)
    assert idx.dtype == torch.int64
    assert idx.tolist() == [list(c) for c in itertools.combinations(range(m), k)]
    assert combinations_index(m, k) is idx                               # cached


def test_combination_rank_and_subset_table():
    for m, k in [(9, 1), (9, 2), (9, 3), (10, 4)]:
        c = combinations_index(m, k)
        assert torch.equal(combination_rank(c, m), torch.arange(c.shape[0]))
    m = 7
    for k in (2, 3):
        tab = subset_rank_table(m, k)
        sub_index = {t: i for i, t in enumerate(itertools.combinations(range(m), k - 1))}
        for r, I in enumerate(itertools.combinations(range(m), k)):
            expect = [sub_index[I[:d] + I[d + 1:]] for d in range(k)]
            assert tab[r].tolist() == expect


# ----------------------------------------------------------------------------- minor matrix
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_minor_matrix_matches_reference(k, path):
    J = rand(3, 6, 5, seed=k)
    M = minor_matrix(J, k, max_elements=37)                              # forces many chunks
    assert M.shape == (3, math.comb(6, k), math.comb(5, k)) and M.dtype == D
    R = ref.minor_matrices(J, k)
    np.testing.assert_allclose(M.numpy(), R, rtol=1e-9, atol=1e-12)


def test_minor_matrix_leading_dims_float32_and_wide(path):
    J = rand(2, 3, 4, 7, seed=1, dtype=torch.float32)                     # [E, B, m, n], n > m
    M = minor_matrix(J, 3)
    assert M.dtype == torch.float32 and M.shape == (2, 3, 4, 35)
    np.testing.assert_allclose(M[1, 2].numpy(), ref.minor_matrix(J[1, 2], 3), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_cauchy_binet(k):
    # sum of squared k-minors = e_k(eigenvalues of J^T J)
    J = rand(7, 5, seed=10 + k)
    M = minor_matrix(J, k)
    ev = np.linalg.eigvalsh((J.T @ J).numpy())
    e_k = sum(math.prod(c) for c in itertools.combinations(ev, k))
    assert float((M ** 2).sum()) == pytest.approx(e_k, rel=1e-10)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_scaling_and_permutation_equivariance(k, path):
    J = rand(6, 4, seed=20 + k)
    M = minor_matrix(J, k)
    assert torch.allclose(minor_matrix(2.5 * J, k), 2.5 ** k * M, rtol=1e-12)
    pr = torch.tensor([3, 0, 5, 1, 4, 2])
    pc = torch.tensor([2, 0, 3, 1])
    Mp = minor_matrix(J[pr][:, pc], k)
    rows = {c: i for i, c in enumerate(itertools.combinations(range(6), k))}
    cols = {c: i for i, c in enumerate(itertools.combinations(range(4), k))}
    for a, I in enumerate(itertools.combinations(range(6), k)):
        for b, Ip in enumerate(itertools.combinations(range(4), k)):
            src = rows[tuple(sorted(pr[list(I)].tolist()))], cols[tuple(sorted(pc[list(Ip)].tolist()))]
            assert Mp[a, b].item() == pytest.approx(M[src].item(), rel=1e-12)


def test_minor_matrix_errors():
    J = rand(2, 4, 3)
    for bad_k in (0, -1, 4):
        with pytest.raises(ValueError, match="k"):
            minor_matrix(J, bad_k)
    with pytest.raises(ValueError, match="dimensions"):
        minor_matrix(torch.randn(5), 1)
    J2 = J.clone()
    J2[1, 2, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        minor_matrix(J2, 2)
    J2[1, 2, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN/inf"):
        minor_matrix(J2, 1)


def test_iter_minor_blocks_cover_grid_once():
    J = rand(3, 8, 5, seed=3)
    rows, cols = combinations_index(8, 3), combinations_index(5, 3)
    full = minor_matrix(J, 3)
    seen = torch.zeros(full.shape[1:], dtype=torch.int64)
    for r0, c0, blk in iter_minor_blocks(J, rows, cols, max_elements=50):
        assert blk.numel() <= 3 * 50 or blk.shape[-2:] == (1, 1)
        assert torch.equal(blk, full[:, r0:r0 + blk.shape[1], c0:c0 + blk.shape[2]])
        seen[r0:r0 + blk.shape[1], c0:c0 + blk.shape[2]] += 1
    assert bool((seen == 1).all())


# ----------------------------------------------------------------------------- sampling
def gen(seed=42):
    return torch.Generator().manual_seed(seed)


def test_sample_all_when_few():
    idx, info = sample_combinations(10, 3, 10_000, gen(), return_info=True)
    assert idx.tolist() == [list(c) for c in itertools.combinations(range(10), 3)]
    assert info["exhaustive"] and info["n_returned"] == 120


@pytest.mark.parametrize("enumerate_limit", [2_000_000, 0])          # exact and rejection paths
def test_sample_distinct_sorted_deterministic(enumerate_limit):
    a = sample_combinations(40, 3, 500, gen(42), enumerate_limit=enumerate_limit)
    b = sample_combinations(40, 3, 500, gen(42), enumerate_limit=enumerate_limit)
    c = sample_combinations(40, 3, 500, gen(7), enumerate_limit=enumerate_limit)
    assert a.shape == (500, 3) and torch.equal(a, b) and not torch.equal(a, c)
    assert bool((a[:, 1:] > a[:, :-1]).all())
    assert len({tuple(r) for r in a.tolist()}) == 500
    assert int(a.min()) >= 0 and int(a.max()) < 40


@pytest.mark.parametrize("enumerate_limit", [2_000_000, 0])
def test_sample_is_uniform(enumerate_limit):
    # 10 pairs of 5 points; draw 3 of them 3000 times: each pair appears with prob 0.3
    counts = torch.zeros(5, 5)
    for s in range(600):
        idx = sample_combinations(5, 2, 3, gen(s), enumerate_limit=enumerate_limit)
        for i, j in idx.tolist():
            counts[i, j] += 1
    freq = counts[torch.triu(torch.ones(5, 5, dtype=torch.bool), 1)] / 600
    assert float((freq - 0.3).abs().max()) < 0.07                         # ~4 sigma


def test_sample_allowed_and_min_distance():
    coords = torch.tensor([(r, c) for r in range(28) for c in range(28)], dtype=D)
    allowed = torch.tensor([r * 28 + c for r in range(7, 21) for c in range(7, 21)])  # 14x14
    for limit in (2_000_000, 0):
        idx, info = sample_combinations(784, 3, 2000, gen(), allowed=allowed, min_distance=7,
                                        coords=coords, enumerate_limit=limit, return_info=True)
        assert idx.shape == (2000, 3) and 0 < info["acceptance_rate"] < 1
        assert set(idx.flatten().tolist()) <= set(allowed.tolist())
        for t in idx.tolist():
            for i, j in itertools.combinations(t, 2):
                assert float(((coords[i] - coords[j]) ** 2).sum()) >= 49 - 1e-9
    # exact count when enumerated: few valid tuples -> all of them, in combinations order
    small = torch.tensor([0, 1, 27, 14 * 28 + 14])
    idx = sample_combinations(784, 2, 100, gen(), allowed=small, min_distance=14, coords=coords)
    assert idx.tolist() == [[0, 27], [0, 406], [1, 27], [1, 406], [27, 406]]  # not (0, 1): d = 1


def test_sample_too_few_valid():
    coords = torch.tensor([(r, c) for r in range(28) for c in range(28)], dtype=D)
    with pytest.raises(ValueError, match="no 3-tuple"):
        sample_combinations(784, 3, 10, gen(), allowed=[0, 1, 2, 3], min_distance=50, coords=coords)
    # rejection path with a cap on draws: fewer tuples, with a warning
    with pytest.warns(RuntimeWarning, match="only"):
        idx, info = sample_combinations(784, 2, 50_000, gen(), min_distance=36, coords=coords,
                                        enumerate_limit=0, max_draws=200_000, return_info=True)
    assert 0 < idx.shape[0] < 50_000 and info["n_returned"] == idx.shape[0]
    with pytest.raises(ValueError, match="coords"):
        sample_combinations(784, 2, 10, gen(), min_distance=3)
    with pytest.raises(ValueError, match="Generator"):
        sample_combinations(10, 2, 5, 42)


def test_sample_prefix_is_random_order():
    idx = sample_combinations(784, 2, 5000, gen())
    # draw order, not sorted: the first 500 are spread over the whole index range
    assert float(idx[:500, 0].double().mean()) > 150


def test_sampled_minors_grid_matches_reference(path):
    J = rand(2, 30, 40, seed=5)
    g = gen()
    for k in (1, 2, 3, 4):
        rows = sample_combinations(30, k, 23, g)
        cols = sample_combinations(40, k, 17, g)
        S = sampled_minors(J, rows, cols, chunk=7)
        assert S.shape == (2, rows.shape[0], cols.shape[0])
        for b in range(2):
            np.testing.assert_allclose(S[b].numpy(), ref.sampled_grid(J[b], rows.tolist(), cols.tolist()),
                                       rtol=1e-9, atol=1e-12)
    # with all combinations the grid IS the minor matrix
    full = sampled_minors(J[:, :6, :5], combinations_index(6, 2), combinations_index(5, 2), chunk=4)
    assert torch.allclose(full, minor_matrix(J[:, :6, :5], 2), rtol=0, atol=0)


def test_sampled_minor_stats_match_materialised(path):
    J = rand(3, 20, 30, seed=6)
    J[1] = 0.0                                                           # an all-zero example
    g = gen()
    rows = sample_combinations(20, 3, 60, g)
    cols = sample_combinations(30, 3, 70, g)
    S = sampled_minors(J, rows, cols).reshape(3, -1)
    edges = torch.linspace(-4, 2, 31, dtype=D)
    st = sampled_minor_stats(J, rows, cols, powers=(1, 2, 4), log10_edges=edges, chunk=16,
                             max_elements=600)
    for p in (1, 2, 4):
        assert torch.allclose(st[f"sum_p{p}"], (S ** p).sum(1), rtol=1e-12)
    assert torch.equal(st["max"], S.amax(1))
    assert st["n_zero"].tolist() == (S == 0).sum(1).tolist() and st["n_zero"][1] == S.shape[1]
    assert st["min_nonzero"][1] == math.inf
    assert st["min_nonzero"][0] == S[0][S[0] > 0].min()
    for b in (0, 2):
        v = S[b][S[b] > 0].log10().numpy()
        idx = np.clip(np.searchsorted(edges[1:-1].numpy(), v, side="right"), 0, 29)
        assert st["hist"][b].tolist() == np.bincount(idx, minlength=30).tolist()
    assert st["count"] == 60 * 70


def test_sampled_errors():
    J = rand(2, 6, 5)
    rows = combinations_index(6, 2)
    with pytest.raises(ValueError, match="size"):
        sampled_minors(J, rows, combinations_index(5, 3))
    with pytest.raises(ValueError, match="outside"):
        sampled_minors(J, rows, torch.tensor([[0, 5]]))
    with pytest.raises(ValueError, match="increasing"):
        sampled_minors(J, rows, torch.tensor([[2, 1]]))
