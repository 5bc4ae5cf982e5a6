"""Haar SO(m) sampler and the rotated max-minor kernels (P1 IV.6)."""
import itertools
import math

import numpy as np
import pytest
import torch
from scipy import stats

import ka_reference as ref
from kag_utils.rotations import (haar_rotations, numba_available, rotated_max_minors,
                                 rotated_max_minors_readings)

D = torch.float64
BACKENDS = ["torch", "reference"] + (["numba"] if numba_available() else [])


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- Haar sampler
def test_haar_orthogonal_det_one_reproducible():
    R = haar_rotations(6, 500, gen(1))
    assert R.shape == (500, 6, 6) and R.dtype == D
    eye = torch.eye(6, dtype=D)
    assert torch.allclose(R @ R.transpose(1, 2), eye.expand(500, 6, 6), atol=1e-13)
    assert torch.allclose(torch.linalg.det(R), torch.ones(500, dtype=D), atol=1e-12)
    assert torch.equal(R, haar_rotations(6, 500, gen(1)))
    R32 = haar_rotations(3, 4, gen(1), dtype=torch.float32)
    assert R32.dtype == torch.float32


def _entry_ks_pvalue(R):
    # For Haar measure the first column is uniform on S^{m-1}: (R_11 + 1)/2 ~ Beta((m-1)/2, (m-1)/2)
    m = R.shape[-1]
    u = (R[:, 0, 0].numpy() + 1) / 2
    return stats.kstest(u, stats.beta((m - 1) / 2, (m - 1) / 2).cdf).pvalue


def test_haar_distribution():
    m, N = 7, 4000
    R = haar_rotations(m, N, gen(2))
    assert _entry_ks_pvalue(R) > 1e-3
    # Haar moments on SO(m), m >= 3: E tr R = 0, E (tr R)^2 = 1, E R_ij^2 = 1/m
    tr = torch.diagonal(R, dim1=1, dim2=2).sum(-1)
    assert abs(float(tr.mean())) < 4 / math.sqrt(N)
    assert float((tr ** 2).mean()) == pytest.approx(1.0, abs=0.12)
    assert float((R ** 2).mean(0).mean()) == pytest.approx(1 / m, rel=0.02)
    # the test can fail: QR of a Gaussian without the sign correction is not Haar
    G = torch.randn(N, m, m, dtype=D, generator=gen(3))
    Q, _ = torch.linalg.qr(G)
    assert _entry_ks_pvalue(Q) < 1e-6


def test_haar_bad_input():
    with pytest.raises(ValueError):
        haar_rotations(0, 3, gen())
    with pytest.raises(ValueError, match="Generator"):
        haar_rotations(3, 3, 42)


# ----------------------------------------------------------------------------- kernels
CASES = [  # (B, m, n, ks)
    (4, 7, 3, (1, 2, 3)),
    (3, 9, 4, (1, 2, 3)),
    (3, 6, 5, (2, 3)),
    (3, 5, 2, (1, 2)),
]


@pytest.mark.parametrize("B,m,n,ks", CASES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_rotated_max_minors_match_loop_reference(B, m, n, ks, backend):
    J = torch.randn(B, m, n, dtype=D, generator=gen(m + n))
    R = haar_rotations(m, 6, gen(m))
    out = rotated_max_minors(J, R, ks, backend=backend, max_elements=100)
    assert set(out) == set(ks)
    for k in ks:
        assert out[k].shape == (B, 6) and out[k].dtype == D
        np.testing.assert_allclose(out[k].numpy(), ref.rotated_max(J, k, R), rtol=1e-9)


def _structured(seed, m=12, n=3):
    """Jacobians that stress the pruning: heavy-tailed rows, zero rows, duplicated rows,
    nearly rank-deficient, exactly rank-2 and an all-zero example."""
    g = gen(seed)
    B = 6
    J = torch.randn(B, m, n, dtype=D, generator=g)
    J[0] *= torch.rand(m, 1, dtype=D, generator=g) ** 6 * 100
    J[1, 3:] = 0
    J[2, 5] = J[2, 2]
    J[3] = torch.randn(m, 2, dtype=D, generator=g) @ torch.randn(2, n, dtype=D, generator=g) \
        + 1e-6 * torch.randn(m, n, dtype=D, generator=g)
    J[4] = torch.randn(m, 2, dtype=D, generator=g) @ torch.randn(2, n, dtype=D, generator=g)
    J[5] = 0
    return J


@pytest.mark.parametrize("backend", BACKENDS)
def test_pruned_kernels_on_structured_jacobians(backend):
    for n in (3, 4):
        J = _structured(n, n=n)
        R = haar_rotations(12, 8, gen(5))
        out = rotated_max_minors(J, R, (1, 2, 3), backend=backend)
        for k in (1, 2, 3):
            exp = ref.rotated_max(J, k, R)
            scale = np.abs(J.numpy()).max(axis=(1, 2)) ** k + 1e-300     # per example
            err = np.abs(out[k].numpy() - exp) / scale[:, None]
            assert err.max() < 1e-12, (n, k, err.max())
            assert np.all(out[k].numpy()[5] == 0)                         # zero Jacobian


def test_k_subsets_and_float32_and_leading_dims():
    J = torch.randn(2, 3, 8, 3, generator=gen(9))                        # float32, [E, B, m, n]
    R = haar_rotations(8, 5, gen(9))
    full = rotated_max_minors(J.double(), R, (1, 2, 3), backend="reference")
    for backend in BACKENDS:
        out = rotated_max_minors(J, R, (3, 1), backend=backend)
        assert set(out) == {1, 3}
        for k in (1, 3):
            assert out[k].dtype == torch.float32 and out[k].shape == (2, 3, 5)
            np.testing.assert_allclose(out[k].numpy(), full[k].numpy(), rtol=1e-4)


def test_torch_backend_k4():
    J = torch.randn(3, 6, 4, dtype=D, generator=gen(4))
    R = haar_rotations(6, 4, gen(4))
    out = rotated_max_minors(J, R, (4,))                                 # auto -> torch
    np.testing.assert_allclose(out[4].numpy(), ref.rotated_max(J, 4, R), rtol=1e-9)


def test_rotated_errors():
    J = torch.randn(2, 5, 3, dtype=D)
    R = haar_rotations(5, 3, gen())
    with pytest.raises(ValueError, match="k"):
        rotated_max_minors(J, R, (4,))
    with pytest.raises(ValueError, match="rotations"):
        rotated_max_minors(J, R[:, :4, :4], (1,))
    with pytest.raises(ValueError, match="backend"):
        rotated_max_minors(J, R, (1,), backend="cuda-magic")
    if numba_available():
        with pytest.raises(ValueError, match="k <= 3"):
            rotated_max_minors(torch.randn(2, 5, 4, dtype=D), R, (4,), backend="numba")


@pytest.mark.skipif(not numba_available(), reason="numba missing")
@pytest.mark.parametrize("n", [3, 4])
def test_numba_equals_torch_on_many_examples(n):
    # many (x, p) pairs with few rows: the pruning bounds are often nearly tight here
    g = gen(11)
    m, B = 5, 400
    J = torch.randn(B, m, n, dtype=D, generator=g) * torch.rand(B, m, 1, dtype=D, generator=g) ** 3
    R = haar_rotations(m, 40, g)
    a = rotated_max_minors(J, R, (1, 2, 3), backend="numba")
    b = rotated_max_minors(J, R, (1, 2, 3), backend="torch")
    for k in (1, 2, 3):
        np.testing.assert_allclose(a[k].numpy(), b[k].numpy(), rtol=1e-10, atol=1e-14)


def test_haar_rotations_in_so_m_after_thread_count_changes():
    """torch 2.14 + MKL: batched torch.linalg.det is wrong for m >= 256 after
    torch.set_num_threads changed (the training loops do); the sign fix must not rely on it."""
    import numpy as np
    from kag_utils.threads import torch_threads
    with torch_threads(1):
        pass
    R = haar_rotations(256, 20, torch.Generator().manual_seed(0))    # 9 of 20 had det -1
    assert (np.linalg.det(R.numpy()) > 0).all()
    torch.testing.assert_close(R @ R.transpose(1, 2), torch.eye(256, dtype=torch.float64).expand(20, 256, 256))


# ----------------------------------------------------------------------------- signed reading
def slow_signed_max(J, k, R):
    """[B, N_rot]: the largest SIGNED k x k minor of R_p J(x), rows and columns in
    itertools.combinations order, by numpy.linalg.det (issue 12 item 5)."""
    J, R = np.asarray(J, np.float64), np.asarray(R, np.float64)
    m, n = J.shape[-2:]
    rows = list(itertools.combinations(range(m), k))
    cols = list(itertools.combinations(range(n), k))
    out = np.empty((J.shape[0], R.shape[0]))
    for b in range(J.shape[0]):
        for p in range(R.shape[0]):
            Q = R[p] @ J[b]
            out[b, p] = max(np.linalg.det(Q[np.ix_(r, c)]) for r in rows for c in cols)
    return out


@pytest.mark.parametrize("B,m,n,ks", CASES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_signed_max_matches_slow_reference(B, m, n, ks, backend):
    J = torch.randn(B, m, n, dtype=D, generator=gen(m + n + 1))
    R = haar_rotations(m, 6, gen(m + 1))
    both = rotated_max_minors_readings(J, R, ks, ("abs", "signed"), backend=backend,
                                       max_elements=100)
    alone = rotated_max_minors(J, R, ks, backend=backend, reading="signed")
    for k in ks:
        exp = slow_signed_max(J.numpy(), k, R.numpy())
        np.testing.assert_allclose(both["signed"][k].numpy(), exp, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(alone[k].numpy(), exp, rtol=1e-9, atol=1e-12)
        # computing both in one pass leaves the literal |minor| reading unchanged
        np.testing.assert_allclose(both["abs"][k].numpy(), ref.rotated_max(J, k, R), rtol=1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_signed_max_on_structured_jacobians(backend):
    # sign bookkeeping under the norm-sorted pruning, zero rows and all-zero examples; also
    # an example whose every minor of one sign is tiny (signed max far below |max|)
    for n in (3, 4):
        J = _structured(n + 10, n=n)
        J[2] = -J[2].abs()                                                # all entries <= 0
        R = torch.cat([torch.eye(12, dtype=D)[None], haar_rotations(12, 5, gen(6))])
        out = rotated_max_minors_readings(J, R, (1, 2, 3), backend=backend)
        for k in (1, 2, 3):
            exp = slow_signed_max(J.numpy(), k, R.numpy())
            scale = np.abs(J.numpy()).max(axis=(1, 2)) ** k + 1e-300
            err = np.abs(out["signed"][k].numpy() - exp) / scale[:, None]
            assert err.max() < 1e-12, (n, k, err.max())
            excess = (out["signed"][k].numpy() - out["abs"][k].numpy()) / scale[:, None]
            assert excess.max() < 1e-12                                  # signed <= |.| max
        # the unrotated k = 1 signed max of a non-positive J is its largest (<= 0) entry
        assert float(out["signed"][1][2, 0]) == pytest.approx(float(J[2].max()), abs=1e-15)


def test_signed_max_can_fail():
    # the test can fail: with the rows taken in the kernel's norm-sorted order (no sign
    # bookkeeping), or with |.|, the signed max is wrong for a generic Jacobian
    J = torch.randn(5, 8, 3, dtype=D, generator=gen(21))
    R = haar_rotations(8, 4, gen(22))
    exp = slow_signed_max(J.numpy(), 3, R.numpy())
    assert np.abs(ref.rotated_max(J, 3, R) - exp).max() > 1e-3
    out = rotated_max_minors(J, R, (3,), reading="signed")[3].numpy()
    np.testing.assert_allclose(out, exp, rtol=1e-9)


def test_signed_torch_k4_and_errors():
    J = torch.randn(3, 6, 4, dtype=D, generator=gen(23))
    R = haar_rotations(6, 4, gen(24))
    out = rotated_max_minors(J, R, (4,), reading="signed")             # auto -> torch
    np.testing.assert_allclose(out[4].numpy(), slow_signed_max(J.numpy(), 4, R.numpy()),
                               rtol=1e-9)
    with pytest.raises(ValueError, match="reading"):
        rotated_max_minors(J, R, (1,), reading="max")
    with pytest.raises(ValueError, match="readings"):
        rotated_max_minors_readings(J, R, (1,), ())


def test_signed_rotation_ratio_by_definition():
    # r(x) = M(x) / mean_p m_p(x) with signed maxima, against the slow reference
    from kag_utils.metrics import random_rotation_ratios, random_rotation_ratios_readings
    J = torch.randn(4, 6, 3, dtype=D, generator=gen(31))
    R = haar_rotations(6, 7, gen(32))
    eye = np.eye(6)[None]
    both = random_rotation_ratios_readings(J, (1, 2, 3), R, return_per_example=True)
    for k in (1, 2, 3):
        M = slow_signed_max(J.numpy(), k, eye)[:, 0]
        mp = slow_signed_max(J.numpy(), k, R.numpy())
        np.testing.assert_allclose(both["signed"][k].numpy(), M / mp.mean(1), rtol=1e-9)
        np.testing.assert_allclose(both["abs"][k].numpy(),
                                   random_rotation_ratios(J, (k,), R, return_per_example=True)[k].numpy(),
                                   rtol=1e-12)
    # the aligned J1 of Table IV: M = 1 in both readings, so the signed ratio is the larger
    J1 = torch.zeros(1, 7, 3, dtype=D)
    J1[0, :3] = torch.eye(3, dtype=D)
    R7 = haar_rotations(7, 200, gen(33))
    res = random_rotation_ratios_readings(J1, (1, 2, 3), R7)
    assert all(res["signed"][k] > res["abs"][k] for k in (1, 2, 3))
