"""Hidden-layer activations sigma and their derivatives sigma' (pure math).

* ``"gelu"``: P1's exact-erf GeLU sigma(z) = z Phi(z) (II.2, A-09), sigma'(z) = Phi(z) + z phi(z)
  (II.3). The default everywhere.
* ``"gelu_sin"``: sigma(z) = GeLU(z) + a sin(b z), sigma'(z) = GeLU'(z) + a b cos(b z).
* ``"x_sin"``: sigma(z) = z + a sin(b z), sigma'(z) = 1 + a b cos(b z): the oscillatory
  activation of P1 §V ("x + 0.1 sin(10x)", its ref. [20]), with (a, b) = (0.1, 10).

An :class:`Activation` is a small frozen value (name and the two parameters) that configs
carry; ``GELU`` is the default. Three functions evaluate it on a tensor of pre-activations
``z`` (any shape, elementwise, in z's dtype): :func:`act_forward` (sigma),
:func:`act_prime` (sigma', used by the closed-form Jacobians) and :func:`act_backward`
(``dh * sigma'(z)``, the trainer's hand-written backward). For GeLU the forward and backward
are torch's own kernels (``torch.nn.functional.gelu``, ``aten.gelu_backward``), so the GeLU
trainer is bitwise the one it always was; the sine terms add ``a sin(b z)`` and
``dh * a b cos(b z)`` to them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Activation", "GELU", "ACTIVATIONS", "gelu", "gelu_prime", "act_forward",
           "act_prime", "act_backward"]

#: The activation names and whether they carry the sine term's (a, b).
ACTIVATIONS = {"gelu": False, "gelu_sin": True, "x_sin": True}

_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class Activation:
    """A hidden-layer activation: ``name`` in ACTIVATIONS and the sine term's amplitude ``a``
    and frequency ``b`` (both 0 for "gelu", which has none)."""
    name: str = "gelu"
    a: float = 0.0
    b: float = 0.0

    def __post_init__(self):
        if self.name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.name!r}; valid: {', '.join(ACTIVATIONS)}")
        a, b = float(self.a), float(self.b)
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ValueError(f"activation parameters must be finite, got a = {a}, b = {b}")
        if not ACTIVATIONS[self.name] and (a, b) != (0.0, 0.0):
            raise ValueError(f"activation {self.name!r} has no parameters; got a = {a}, b = {b} "
                             "(use 'gelu_sin' for GeLU(z) + a sin(b z))")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)

    def __str__(self) -> str:
        if self.name == "gelu":
            return "gelu"
        return f"{self.name}(a={self.a:g}, b={self.b:g})"


GELU = Activation()


def gelu(z: torch.Tensor) -> torch.Tensor:
    """Exact-erf GeLU, sigma(z) = z Phi(z) (P1 II.2; same as `torch.nn.GELU()` default)."""
    return z * (0.5 * (1.0 + torch.erf(z * _INV_SQRT2)))


def gelu_prime(z: torch.Tensor) -> torch.Tensor:
    """Derivative of the exact GeLU, sigma'(z) = Phi(z) + z phi(z) (P1 II.3).

    Not sign-definite: about -0.129 at z = -sqrt(2), about 1.129 at z = +sqrt(2).
    """
    return 0.5 * (1.0 + torch.erf(z * _INV_SQRT2)) + z * torch.exp(-0.5 * z * z) * _INV_SQRT2PI


def _check(act: Activation) -> Activation:
    if not isinstance(act, Activation):
        raise ValueError(f"activation must be an Activation (e.g. Activation('x_sin', 0.1, 10.0)), "
                         f"got {act!r}")
    return act


def act_forward(act: Activation, z: torch.Tensor) -> torch.Tensor:
    """sigma(z), elementwise. GeLU is torch's kernel (bitwise the trainer's former forward)."""
    name = _check(act).name
    if name == "gelu":
        return torch.nn.functional.gelu(z)
    if name == "gelu_sin":
        return torch.nn.functional.gelu(z) + act.a * torch.sin(act.b * z)
    return z + act.a * torch.sin(act.b * z)                        # x_sin


def act_prime(act: Activation, z: torch.Tensor) -> torch.Tensor:
    """sigma'(z), elementwise, in closed form (the Jacobians' diagonal factor)."""
    name = _check(act).name
    if name == "gelu":
        return gelu_prime(z)
    osc = (act.a * act.b) * torch.cos(act.b * z)
    return gelu_prime(z) + osc if name == "gelu_sin" else 1.0 + osc


def act_backward(act: Activation, dh: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """dL/dz = dL/dh * sigma'(z) (the trainer's backward). GeLU uses ``aten.gelu_backward``."""
    name = _check(act).name
    if name == "gelu":
        return torch.ops.aten.gelu_backward(dh, z)
    osc = (act.a * act.b) * torch.cos(act.b * z)
    if name == "gelu_sin":
        return torch.ops.aten.gelu_backward(dh, z) + dh * osc
    return dh * (1.0 + osc)                                        # x_sin
