"""MLP parameters, the paper's initialisation, forward pass and ensemble stacking.

Model (P1 II.2): f(x) = sigma(x . A + a) . B + b with sigma the exact-erf GeLU (A-09), or
another hidden activation of :mod:`kag_utils.core.activations` (P1 §V's oscillatory ones;
``activation=`` below, default GeLU). In code a
layer is ``x @ W + b`` with ``W: [fan_in, fan_out]``, so the first layer's ``W`` is the paper's
A: [n, m] and its ``b`` is a: [m]. Deeper models (App. B controls) repeat hidden layers.

Parameters are a list of layer dicts ``[{"W": W0, "b": b0}, {"W": W1, "b": b1}, ...]`` (the
last layer is the linear read-out). An *ensemble* stacks a leading member axis E on every
tensor: ``W: [E, fan_in, fan_out]``, ``b: [E, fan_out]``. This layout is a valid cache payload.

Initialisation (A-04, A-05): every W ~ N(0, 1/fan_in) (variance), every bias zero. The draws
come from the model seed alone (one numpy stream per (seed, layer)), never from the target, so
the initial model of a given (seed, widths, n_in) is identical across target functions. They
are drawn in float64 and then cast, so a float32 init is the rounded float64 init.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from ..core.activations import GELU, Activation, act_forward

Params = list  # list[dict[str, torch.Tensor]]

_TAG_INIT = 0x4B41_0010
_SQRT1_2 = 1.0 / math.sqrt(2.0)


def check_widths(hidden: Sequence[int]) -> tuple[int, ...]:
    hidden = tuple(int(h) for h in hidden)
    if not hidden or any(h < 1 for h in hidden):
        raise ValueError(f"hidden widths must be a non-empty tuple of positive ints, got {hidden!r}")
    return hidden


def layer_shapes(hidden: Sequence[int], n_in: int = 3, n_out: int = 1) -> list[tuple[int, int]]:
    """[(fan_in, fan_out)] per layer, read-out last."""
    dims = (int(n_in), *check_widths(hidden), int(n_out))
    return list(zip(dims[:-1], dims[1:]))


def init_params(seed: int, hidden: Sequence[int] = (32,), n_in: int = 3, n_out: int = 1,
                dtype: torch.dtype = torch.float64) -> Params:
    """The paper's initial model: W ~ N(0, 1/fan_in) i.i.d., zero biases (A-04)."""
    params = []
    for layer, (fan_in, fan_out) in enumerate(layer_shapes(hidden, n_in, n_out)):
        rng = np.random.default_rng(np.random.SeedSequence([_TAG_INIT, int(seed), layer]))
        w = rng.standard_normal((fan_in, fan_out)) * math.sqrt(1.0 / fan_in)
        params.append({"W": torch.from_numpy(w).to(dtype),
                       "b": torch.zeros(fan_out, dtype=dtype)})
    return params


def gelu(z: torch.Tensor) -> torch.Tensor:
    """Exact GeLU z * Phi(z) (erf form, A-09)."""
    return torch.nn.functional.gelu(z)


def forward(params: Params, x: torch.Tensor, activation: Activation = GELU) -> torch.Tensor:
    """Model output. x: [..., N, n_in] (leading axes broadcast with the params') -> [..., N, n_out].
    ``activation``: the hidden layers' sigma (default P1's GeLU)."""
    h = x
    for layer, p in enumerate(params):
        h = torch.matmul(h, p["W"]) + p["b"].unsqueeze(-2)
        if layer < len(params) - 1:
            h = act_forward(activation, h)
    return h


def predict(params: Params, x: torch.Tensor, activation: Activation = GELU) -> torch.Tensor:
    """Scalar-output model: [..., N]."""
    return forward(params, x, activation).squeeze(-1)


def hidden_features(params: Params, x: torch.Tensor, activation: Activation = GELU) -> torch.Tensor:
    """The inner map sigma(x . A + a) of the first layer: [..., N, m] (App. B feature extractor)."""
    return act_forward(activation, torch.matmul(x, params[0]["W"]) + params[0]["b"].unsqueeze(-2))


def first_layer(params: Params) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, a) = (W0: [..., n, m], b0: [..., m])."""
    return params[0]["W"], params[0]["b"]


def widths_of(params: Params) -> tuple[int, ...]:
    """Hidden widths of a single model or an ensemble."""
    return tuple(int(p["W"].shape[-1]) for p in params[:-1])


def n_parameters(params: Params) -> int:
    """Parameter count of one model (an ensemble's member axis is not counted)."""
    return sum(math.prod(p["W"].shape[-2:]) + p["b"].shape[-1] for p in params)


def stack_params(members: Sequence[Params]) -> Params:
    """Stack models with identical shapes into an ensemble (leading axis E)."""
    if not members:
        raise ValueError("cannot stack an empty list of models")
    shapes = {tuple((tuple(p["W"].shape), tuple(p["b"].shape)) for p in m) for m in members}
    if len(shapes) != 1:
        raise ValueError(f"models to stack must share their shapes, got {sorted(shapes)}")
    return [{k: torch.stack([m[layer][k] for m in members]) for k in ("W", "b")}
            for layer in range(len(members[0]))]


def member(params: Params, i: int) -> Params:
    """Member i of an ensemble (a view)."""
    return [{k: p[k][i] for k in ("W", "b")} for p in params]


def unstack_params(params: Params) -> list[Params]:
    """An ensemble as a list of independent (cloned) models."""
    return [[{k: p[k][i].clone() for k in ("W", "b")} for p in params]
            for i in range(params[0]["W"].shape[0])]

