"""Closed-form GeLU-MLP Jacobian (P1 II.3) against autograd, and the generic Jacobian."""
import math

import pytest
import torch

from kag_utils.core.jacobians import gelu, gelu_prime, mlp_jacobian, module_jacobian

D = torch.float64


def test_gelu_is_exact_erf_gelu():
    z = torch.linspace(-6, 6, 1001, dtype=D)
    assert torch.allclose(gelu(z), torch.nn.functional.gelu(z), rtol=0, atol=1e-15)


def test_gelu_prime_matches_autograd_and_known_extremes():
    z = torch.linspace(-6, 6, 1001, dtype=D, requires_grad=True)
    (g,) = torch.autograd.grad(gelu(z).sum(), z)
    assert torch.allclose(gelu_prime(z.detach()), g, rtol=0, atol=1e-14)
    s2 = torch.tensor([-math.sqrt(2), math.sqrt(2)], dtype=D)
    lo, hi = gelu_prime(s2).tolist()
    assert lo == pytest.approx(-0.1289, abs=1e-4) and hi == pytest.approx(1.1289, abs=1e-4)
    # extremes of sigma' sit at +-sqrt(2) (REPRODUCTION 2.1)
    zz = torch.linspace(-4, 4, 80001, dtype=D)
    gp = gelu_prime(zz)
    assert zz[gp.argmin()].item() == pytest.approx(-math.sqrt(2), abs=1e-3)
    assert zz[gp.argmax()].item() == pytest.approx(math.sqrt(2), abs=1e-3)


def _mlp(A, a):
    return lambda x: gelu(x @ A + a)


def test_closed_form_equals_torch_func_jacobian():
    g = torch.Generator().manual_seed(0)
    n, m, B = 3, 16, 37
    A = torch.randn(n, m, dtype=D, generator=g)
    a = torch.randn(m, dtype=D, generator=g)
    x = torch.rand(B, n, dtype=D, generator=g) * 2 - 1
    J = mlp_jacobian(x, A, a)
    assert J.shape == (B, m, n) and J.dtype == D
    Jg = module_jacobian(_mlp(A, a), x, chunk=5)                    # chunked over B
    assert torch.allclose(J, Jg, rtol=1e-13, atol=1e-14)
    # J_ji = sigma'(z_j) A_ij, written out for one entry
    z = x[3] @ A + a
    assert J[3, 7, 2].item() == pytest.approx((gelu_prime(z[7]) * A[2, 7]).item(), rel=1e-14)


def test_ensemble_jacobian_shared_and_per_member_inputs():
    g = torch.Generator().manual_seed(1)
    E, n, m, B = 4, 3, 8, 10
    A = torch.randn(E, n, m, dtype=D, generator=g)
    a = torch.randn(E, m, dtype=D, generator=g)
    x = torch.randn(B, n, dtype=D, generator=g)
    J = mlp_jacobian(x, A, a)
    assert J.shape == (E, B, m, n)
    for e in range(E):
        assert torch.allclose(J[e], mlp_jacobian(x, A[e], a[e]), rtol=1e-14, atol=0)
    xe = torch.randn(E, B, n, dtype=D, generator=g)
    Je = mlp_jacobian(xe, A, a)
    for e in range(E):
        assert torch.allclose(Je[e], module_jacobian(_mlp(A[e], a[e]), xe[e]), rtol=1e-13, atol=1e-14)


def test_module_jacobian_on_nn_module():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.GELU(), torch.nn.Linear(7, 4),
                              torch.nn.GELU()).to(D)
    x = torch.randn(9, 5, dtype=D)
    J = module_jacobian(net, x, chunk=4)
    assert J.shape == (9, 4, 5)
    for b in (0, 8):
        ref = torch.autograd.functional.jacobian(net, x[b])
        assert torch.allclose(J[b], ref, rtol=1e-13, atol=1e-14)
    # the P2 L1 closed form diag(sigma'(W1 x + b1)) W1 equals it for the first layer
    W, bias = net[0].weight, net[0].bias
    J1 = module_jacobian(net[:2], x)
    closed = mlp_jacobian(x, W.T.detach(), bias.detach())
    assert torch.allclose(J1, closed, rtol=1e-13, atol=1e-14)


def test_bad_input():
    A = torch.randn(3, 5, dtype=D)
    a = torch.randn(5, dtype=D)
    with pytest.raises(ValueError, match="input coordinates"):
        mlp_jacobian(torch.randn(4, 2, dtype=D), A, a)
    with pytest.raises(ValueError, match="bias"):
        mlp_jacobian(torch.randn(4, 3, dtype=D), A, torch.randn(4, dtype=D))
    with pytest.raises(ValueError, match=r"\[B, in\]"):
        module_jacobian(lambda v: v, torch.randn(2, 2, 2))
