"""Jacobians of the inner maps whose minors the KA-geometry metrics inspect.

* P1 (II.2)-(II.3): the one-hidden-layer map x -> sigma(x.A + a), with sigma P1's exact-erf
  GeLU sigma(z) = z Phi(z) or another activation of :mod:`kag_utils.core.activations`. Its
  Jacobian has the closed form J_ji = sigma'(z_j) A_ij, z = x.A + a, with
  sigma'(z) = Phi(z) + z phi(z) for GeLU (II.3). `mlp_jacobian` evaluates it, also for stacked
  ensembles.
* Deeper MLPs h_l = sigma(h_{l-1} W_l + b_l), h_0 = x: `mlp_layer_jacobians` gives each
  layer's own map Jacobian dh_l/dh_{l-1} = diag(sigma'(z_l)) W_l^T and the composed map's
  dh_l/dx = (dh_l/dh_{l-1}) ... (dh_1/dx), in closed form.
* Any other map (the P2 MNIST layers, REPRODUCTION 2.15): `module_jacobian` uses
  `torch.func.vmap(torch.func.jacrev(f))`, chunked over the batch to bound memory.

Convention (docs/ARCHITECTURE.md): `J: [B, m, n]`, rows = the m hidden neurons (outputs),
columns = the n inputs. Everything computes in the dtype and on the device it is given.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from .activations import GELU, Activation, act_forward, act_prime, gelu, gelu_prime

__all__ = ["gelu", "gelu_prime", "mlp_jacobian", "mlp_layer_jacobians", "module_jacobian"]


def mlp_jacobian(x: torch.Tensor, A: torch.Tensor, a: torch.Tensor,
                 activation: Activation = GELU) -> torch.Tensor:
    """Closed-form Jacobian (P1 II.3) of the inner map x -> sigma(x.A + a).

    J_ji(x) = sigma'(z_j) A_ij with z = x.A + a (no sum over j): rows j are hidden neurons,
    columns i are input coordinates.

    Shapes:
      single model : x: [B, n], A: [n, m], a: [m]                   -> J: [B, m, n]
      ensemble     : x: [B, n] or [E, B, n], A: [E, n, m], a: [E, m] -> J: [E, B, m, n]
    Computes in the promoted dtype of the inputs (float64 for the P1 metrics, A-09).
    ``activation``: sigma (default P1's GeLU); its sigma' is taken in closed form.
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
        return act_prime(activation, z).unsqueeze(-1) * A.T  # [B, m, 1] * [m, n] -> [B, m, n]
    E = A.shape[0]
    if x.ndim == 2:
        z = torch.matmul(x.unsqueeze(0), A)              # [1, B, n] @ [E, n, m] -> [E, B, m]
    elif x.ndim == 3 and x.shape[0] == E:
        z = torch.matmul(x, A)                           # [E, B, n] @ [E, n, m] -> [E, B, m]
    else:
        raise ValueError(f"for an ensemble of E = {E}, x must be [B, n] or [E, B, n]; got {tuple(x.shape)}")
    z = z + a.unsqueeze(1)                               # + [E, 1, m]
    return act_prime(activation, z).unsqueeze(-1) * A.transpose(-1, -2).unsqueeze(1)  # [E, B, m, n]


def mlp_layer_jacobians(x: torch.Tensor, weights: Sequence[torch.Tensor],
                        biases: Sequence[torch.Tensor], activation: Activation = GELU
                        ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Closed-form Jacobians of every hidden layer of h_l = sigma(h_{l-1} W_l + b_l), h_0 = x.

    x: [B, n]; weights[l]: [m_{l-1}, m_l] (m_0 = n), biases[l]: [m_l], l = 1..L (the hidden
    layers only: leave out the read-out). Returns ``(own, composed)``, two lists of L tensors:

      own[l]      = dh_l/dh_{l-1} = diag(sigma'(z_l)) W_l^T : [B, m_l, m_{l-1}]
      composed[l] = dh_l/dx = own[l] @ own[l-1] @ ... @ own[1] : [B, m_l, n]

    (index 0 is the first hidden layer, where both equal :func:`mlp_jacobian`). Rows are the
    layer's neurons, columns its inputs, as everywhere (``J: [B, m, n]``). Computes in the
    promoted dtype of the inputs.
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"need one bias per weight matrix and at least one layer; got "
                         f"{len(weights)} weights and {len(biases)} biases")
    if x.ndim != 2:
        raise ValueError(f"x must be [B, n]; got shape {tuple(x.shape)}")
    own, composed = [], []
    h = x                                                # h: [B, m_{l-1}]
    for layer, (W, b) in enumerate(zip(weights, biases)):
        if W.ndim != 2 or b.shape != (W.shape[1],) or W.shape[0] != h.shape[-1]:
            raise ValueError(f"layer {layer + 1}: W {tuple(W.shape)} and b {tuple(b.shape)} do not "
                             f"fit inputs of width {h.shape[-1]}: expected W [{h.shape[-1]}, m] "
                             "and b [m]")
        z = h @ W + b                                    # z: [B, m_l]
        J = act_prime(activation, z).unsqueeze(-1) * W.T    # [B, m_l, 1] * [m_l, m_{l-1}]
        own.append(J)
        composed.append(J if layer == 0 else torch.matmul(J, composed[-1]))  # [B, m_l, n]
        h = act_forward(activation, z)                   # h: [B, m_l]
    return own, composed


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
