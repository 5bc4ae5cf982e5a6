"""Jacobians of the inner maps whose minors the KA-geometry metrics inspect.

* P1 (II.2)-(II.3): the one-hidden-layer map x -> sigma(x.A + a) with the exact-erf GeLU
  sigma(z) = z Phi(z). Its Jacobian has the closed form J_ji = sigma'(z_j) A_ij, z = x.A + a,
  with sigma'(z) = Phi(z) + z phi(z) (II.3). `mlp_jacobian` evaluates it, also for stacked
  ensembles.
* Any other map (the P2 MNIST layers, REPRODUCTION 2.15): `module_jacobian` uses
  `torch.func.vmap(torch.func.jacrev(f))`, chunked over the batch to bound memory.

Convention (docs/ARCHITECTURE.md): `J: [B, m, n]`, rows = the m hidden neurons (outputs),
columns = the n inputs. Everything computes in the dtype and on the device it is given.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["gelu", "gelu_prime", "mlp_jacobian", "module_jacobian"]

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _normal_cdf(z: torch.Tensor) -> torch.Tensor:
    return 0.5 * (1.0 + torch.erf(z * _INV_SQRT2))


def gelu(z: torch.Tensor) -> torch.Tensor:
    """Exact-erf GeLU, sigma(z) = z Phi(z) (P1 II.2; same as `torch.nn.GELU()` default)."""
    return z * _normal_cdf(z)


def gelu_prime(z: torch.Tensor) -> torch.Tensor:
    """Derivative of the exact GeLU, sigma'(z) = Phi(z) + z phi(z) (P1 II.3).

    Not sign-definite: about -0.129 at z = -sqrt(2), about 1.129 at z = +sqrt(2).
    """
    return _normal_cdf(z) + z * torch.exp(-0.5 * z * z) * _INV_SQRT2PI


def mlp_jacobian(x: torch.Tensor, A: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """Closed-form Jacobian (P1 II.3) of the inner map x -> sigma(x.A + a).

    J_ji(x) = sigma'(z_j) A_ij with z = x.A + a (no sum over j): rows j are hidden neurons,
    columns i are input coordinates.

    Shapes:
      single model : x: [B, n], A: [n, m], a: [m]                   -> J: [B, m, n]
      ensemble     : x: [B, n] or [E, B, n], A: [E, n, m], a: [E, m] -> J: [E, B, m, n]
    Computes in the promoted dtype of the inputs (float64 for the P1 metrics, A-09).
    """
    if A.ndim not in (2, 3):
        raise ValueError(f"A must be [n, m] or an ensemble [E, n, m]; got shape {tuple(A.shape)}")
    if a.ndim != A.ndim - 1 or a.shape[-1] != A.shape[-1] or (A.ndim == 3 and a.shape[0] != A.shape[0]):
        raise ValueError(f"bias a {tuple(a.shape)} does not match A {tuple(A.shape)}: expected "
                         f"{tuple(A.shape[:-2]) + (A.shape[-1],)}")
    n = A.shape[-2]
    if x.shape[-1] != n:
        raise ValueError(f"x has {x.shape[-1]} input coordinates but A expects n = {n}")
    if A.ndim == 2:
        if x.ndim != 2:
            raise ValueError(f"x must be [B, n] for a single model; got {tuple(x.shape)}")
        z = x @ A + a                                    # z: [B, m]
        return gelu_prime(z).unsqueeze(-1) * A.T          # [B, m, 1] * [m, n] -> [B, m, n]
    E = A.shape[0]
    if x.ndim == 2:
        z = torch.matmul(x.unsqueeze(0), A)              # [1, B, n] @ [E, n, m] -> [E, B, m]
    elif x.ndim == 3 and x.shape[0] == E:
        z = torch.matmul(x, A)                           # [E, B, n] @ [E, n, m] -> [E, B, m]
    else:
        raise ValueError(f"for an ensemble of E = {E}, x must be [B, n] or [E, B, n]; got {tuple(x.shape)}")
    z = z + a.unsqueeze(1)                               # + [E, 1, m]
    return gelu_prime(z).unsqueeze(-1) * A.transpose(-1, -2).unsqueeze(1)  # [E, B, m, n]


def module_jacobian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                    chunk: int = 64) -> torch.Tensor:
    """Jacobian of an arbitrary map (a callable or `torch.nn.Module`) at each example.

    `f` is applied to ONE example `x_b: [in]` and must return `[out]` (torch.nn.Linear / GELU
    stacks accept unbatched input as is). Computed with `torch.func.vmap(torch.func.jacrev(f))`
    over slices of at most `chunk` examples, so the memory is bounded by `chunk` Jacobians
    plus autograd intermediates (for P2 layers: m x 784 per example).

    x: [B, in] -> J: [B, out, in], in x's dtype and on x's device (parameters of a module must
    live there too). Used for the P2 MNIST layers (REPRODUCTION 2.15); for P1 prefer the closed
    form `mlp_jacobian` (they agree to rounding; tests/test_jacobians.py).
    """
    if x.ndim != 2:
        raise ValueError(f"x must be [B, in]; got shape {tuple(x.shape)} (flatten images first)")
    if chunk < 1:
        raise ValueError(f"chunk must be >= 1, got {chunk}")
    jac = torch.func.vmap(torch.func.jacrev(f))
    parts = []
    for start in range(0, x.shape[0], chunk):
        Jc = jac(x[start:start + chunk])                 # [b, out, in]
        if Jc.ndim != 3:
            raise ValueError(f"f must map [in] -> [out]; its Jacobian has shape {tuple(Jc.shape[1:])}")
        parts.append(Jc.detach())
    if not parts:
        raise ValueError("x has no examples")
    return torch.cat(parts, 0)
