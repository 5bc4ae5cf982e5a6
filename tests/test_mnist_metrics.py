"""P2 (MNIST) metrics on sampled minors (REPRODUCTION 2.15, M-07..M-11)."""
import math

import numpy as np
import pytest
import torch

import ka_reference as ref
from kag_utils.core.metrics import participation_ratio, random_rotation_ratio
from kag_utils.core.minors import combinations_index, sample_combinations, sampled_minors
from kag_utils.core.sampled_metrics import (inverse_participation_ratio_sampled, kl_from_histograms,
                                     minor_kl_divergence, minor_kl_divergence_sampled,
                                     participation_ratio_sampled, pr_ratio,
                                     sampled_metrics, sampled_rotation_ratio)
from kag_utils.core.rotations import haar_rotations

D = torch.float64


def gen(seed=42):
    return torch.Generator().manual_seed(seed)


def jac(B, m, n, seed=0, scale=1.0):
    g = gen(seed)
    return scale * torch.randn(B, m, n, dtype=D, generator=g) * torch.rand(B, m, 1, dtype=D, generator=g)


def samples(m, n, k, R, C, seed=42):
    g = gen(seed)
    return sample_combinations(m, k, R, g), sample_combinations(n, k, C, g)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_sampled_pr_equals_p1_pr_with_all_combinations(k):
    J = jac(5, 7, 6)
    rows, cols = combinations_index(7, k), combinations_index(6, k)
    assert participation_ratio_sampled(J, rows, cols, chunk=4) == pytest.approx(participation_ratio(J, k), rel=1e-12)


@pytest.mark.parametrize("k", [2, 3])
def test_sampled_pr_ipr_match_reference(k):
    J = jac(4, 20, 30, seed=k)
    rows, cols = samples(20, 30, k, 40, 50)
    prs, iprs = [], []
    for b in range(4):
        mu = ref.sampled_grid(J[b], rows.tolist(), cols.tolist()).ravel()
        prs.append(mu.sum() / math.sqrt((mu ** 2).sum()))
        iprs.append(mu.size * (mu ** 4).sum() / (mu ** 2).sum() ** 2)
    assert participation_ratio_sampled(J, rows, cols, chunk=16) == pytest.approx(np.mean(prs), rel=1e-9)
    per = participation_ratio_sampled(J, rows, cols, reduce=False)
    np.testing.assert_allclose(per.numpy(), prs, rtol=1e-9)
    assert inverse_participation_ratio_sampled(J, rows, cols, chunk=16) == pytest.approx(np.mean(iprs), rel=1e-9)


def test_pr_ratio_direction_and_ipr_limits():
    # a concentrated trained model: PR ratio init/trained > 1 (P2's direction, M-08)
    assert pr_ratio(20.0, 10.0) == 2.0
    J = torch.zeros(1, 4, 3, dtype=D)
    J[0, :3] = torch.eye(3, dtype=D)
    rows, cols = combinations_index(4, 1), combinations_index(3, 1)
    assert inverse_participation_ratio_sampled(J, rows, cols) == pytest.approx(12 / 3)
    Jc = torch.ones(1, 4, 3, dtype=D)
    assert inverse_participation_ratio_sampled(Jc, rows, cols) == pytest.approx(1.0)


def test_minor_kl_matches_reference_histogram():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.lognormal(0, 2, 5000), np.zeros(40)])
    b = np.concatenate([rng.lognormal(0.5, 1, 4000), np.zeros(5)])
    got = minor_kl_divergence(torch.from_numpy(a), b)
    assert got == pytest.approx(ref.histogram_kl(a, b), rel=1e-9)
    assert got > 0.1
    assert minor_kl_divergence(a, a) == pytest.approx(0.0, abs=1e-12)
    # KL is directional
    assert minor_kl_divergence(b, a) != pytest.approx(got, rel=1e-3)
    assert kl_from_histograms([1, 0], [0, 1]) == pytest.approx(math.log(1e10), rel=1e-3)


def test_streamed_kl_equals_materialised():
    Jt, Ji = jac(3, 16, 25, seed=1, scale=3.0), jac(3, 16, 25, seed=2)
    Jt[1, :, 4] = 0                                                   # some exact-zero minors
    rows, cols = samples(16, 25, 2, 60, 80)
    mt, mi = sampled_minors(Jt, rows, cols), sampled_minors(Ji, rows, cols)
    assert int((mt == 0).sum()) > 0
    direct = minor_kl_divergence(mt, mi)
    assert minor_kl_divergence_sampled(Jt, Ji, rows, cols, chunk=13) == pytest.approx(direct, rel=1e-9)
    res = sampled_metrics(Jt, Ji, rows, cols, chunk=13)
    assert res["kl"] == pytest.approx(direct, rel=1e-9)
    assert res["n_zero_trained"] == int((mt == 0).sum()) and res["n_minors"] == mt.numel()
    assert res["pr_ratio"] == pytest.approx(participation_ratio_sampled(Ji, rows, cols)
                                            / participation_ratio_sampled(Jt, rows, cols), rel=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        sampled_metrics(Jt, Ji[:2], rows, cols)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_sampled_rotation_ratio_with_all_combinations_is_p1_rr(k):
    J = jac(4, 6, 5, seed=3)
    R = haar_rotations(6, 9, gen(1))
    rows, cols = combinations_index(6, k), combinations_index(5, k)
    got = sampled_rotation_ratio(J, k, rows, cols, R, chunk=4, max_elements=200)
    assert got == pytest.approx(random_rotation_ratio(J, k, R), rel=1e-10)


def test_sampled_rotation_ratio_subset_matches_reference():
    J = jac(3, 10, 12, seed=4)
    R = haar_rotations(10, 7, gen(2))
    rows, cols = samples(10, 12, 3, 25, 30)
    exp = []
    for b in range(3):
        M = ref.sampled_grid(J[b], rows.tolist(), cols.tolist()).max()
        mp = [ref.sampled_grid(R[p] @ J[b], rows.tolist(), cols.tolist()).max() for p in range(7)]
        exp.append(M / np.mean(mp))
    per = sampled_rotation_ratio(J, 3, rows, cols, R, reduce=False)
    np.testing.assert_allclose(per.numpy(), exp, rtol=1e-9)
    assert sampled_rotation_ratio(5 * J, 3, rows, cols, R) == pytest.approx(np.mean(exp), rel=1e-9)
    with pytest.raises(ValueError, match="k = 2"):
        sampled_rotation_ratio(J, 2, rows, cols, R)


def test_mnist_shaped_streaming_smoke():
    # m = 128, n = 784, 300 x 300 sampled 3-tuples; nothing of size B x R x C is allocated
    J = jac(2, 128, 784, seed=5)
    rows, cols = samples(128, 784, 3, 300, 300)
    res = sampled_metrics(J, J * 1.5, rows, cols, chunk=100)
    assert res["pr_ratio"] == pytest.approx(1.0, rel=1e-12)            # PR is scale-free
    assert res["kl"] > 0                                               # the histogram is not
    assert res["n_minors"] == 2 * 300 * 300
