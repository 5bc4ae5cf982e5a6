"""Target functions of P1 and the fixed input sets they are trained and evaluated on.

Registry (all f: [-1, 1]^n -> R; n = 3 in the paper):

=============  ===============  ==========================================================
name           parameter        definition
=============  ===============  ==========================================================
``xor``        none             prod_i sin(pi x_i)                                (III.1)
``linear``     none             x . c + c0, c and c0 ~ U(-1, 1) from the function seed (III.2)
``random``     none             Y ~ U(-1, 1) per example, fixed by the function seed (III.3)
``lambda_xor`` ``lam``          prod_i sin(lam pi x_i), lam in [0.5, 1.5]          (IV.14)
``so_xor``     ``alpha`` (int)  prod_i sin(pi z_i), z = O^(alpha) x,
                                O^(alpha) = special_ortho_group(n, random_state=alpha)   (C.1)
``gaussian``   ``lam``          prod_i exp(-x_i^2 / (2 lam^2)), lam in [0.10, 1.0]       (C.2)
=============  ===============  ==========================================================

Data (REPRODUCTION.md A-01..A-03): inputs x ~ U([-1, 1]^n) i.i.d. from a *data seed*, as
separate train / val / test sets that are shared by every target function and every model
seed; labels are recomputed per function. ``random`` labels are drawn once per example from
the *function seed*, with independent draws for each split. Each split and each use of a seed
has its own random stream (``numpy.random.SeedSequence`` with a domain tag), so changing the
size of one split never changes another, and the data, function and model seeds never share a
stream even when their integer values coincide.

Everything is generated in float64 and cast at the end, so float32 data are the rounded
float64 data.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

SPLITS = ("train", "val", "test")
_SPLIT_TAG = {"train": 0, "val": 1, "test": 2}
# Domain tags: the first entry of every SeedSequence, so streams never collide.
_TAG_INPUTS = 0x4B41_0001
_TAG_LINEAR = 0x4B41_0002
_TAG_RANDOM = 0x4B41_0003


@dataclass(frozen=True)
class TargetSpec:
    name: str
    param: str | None          # name of the family parameter, None if the target has none
    equation: str
    needs_seed: bool           # depends on the function seed
    pointwise: bool            # a function of x (False only for the per-example random labels)


TARGETS: dict[str, TargetSpec] = {
    "xor": TargetSpec("xor", None, "III.1", False, True),
    "linear": TargetSpec("linear", None, "III.2", True, True),
    "random": TargetSpec("random", None, "III.3", True, False),
    "lambda_xor": TargetSpec("lambda_xor", "lam", "IV.14", False, True),
    "so_xor": TargetSpec("so_xor", "alpha", "C.1", False, True),
    "gaussian": TargetSpec("gaussian", "lam", "C.2", False, True),
}


def check_target(name: str, param: Any = None) -> TargetSpec:
    """Validate a (name, parameter) pair; return its spec. Raises ValueError saying what to fix."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; valid targets: {', '.join(TARGETS)}")
    spec = TARGETS[name]
    if spec.param is None and param is not None:
        raise ValueError(f"target {name!r} takes no parameter, got target_param={param!r}")
    if spec.param is not None and param is None:
        raise ValueError(f"target {name!r} needs its parameter {spec.param!r} (target_param)")
    if name == "so_xor" and (isinstance(param, bool) or not float(param).is_integer()
                             or int(param) < 0):
        raise ValueError(f"so_xor needs a non-negative integer alpha (the seed of O), got {param!r}")
    if name in ("lambda_xor", "gaussian") and not (math.isfinite(float(param)) and float(param) > 0):
        raise ValueError(f"{name} needs a positive finite lam, got {param!r}")
    return spec


def _rng(*entropy: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(e) for e in entropy]))


# -- per-function constants --------------------------------------------------------------------
def linear_coefficients(function_seed: int, n_in: int = 3) -> tuple[np.ndarray, float]:
    """(c, c0) of linear (III.2): i.i.d. U(-1, 1) from the function seed (A-03)."""
    draw = _rng(_TAG_LINEAR, function_seed, n_in).uniform(-1.0, 1.0, size=n_in + 1)
    return draw[:n_in], float(draw[n_in])


def so_matrix(alpha: int, n_in: int = 3) -> np.ndarray:
    """O^(alpha) of SO(alpha)-xor (C.1): Haar on SO(n) from scipy with random_state=alpha
    (A-30; an int random_state means numpy's legacy RandomState(alpha))."""
    from scipy.stats import special_ortho_group
    return np.asarray(special_ortho_group.rvs(n_in, random_state=int(alpha)), dtype=np.float64)


def target_info(name: str, param: Any = None, function_seed: int = 0, n_in: int = 3) -> dict:
    """Everything that fixes the target, for recording next to a run (c, c0, O, ...)."""
    check_target(name, param)
    info: dict[str, Any] = {"name": name, "param": param, "equation": TARGETS[name].equation}
    if name == "linear":
        c, c0 = linear_coefficients(function_seed, n_in)
        info.update(c=torch.from_numpy(c.copy()), c0=c0, function_seed=int(function_seed))
    elif name == "so_xor":
        info.update(O=torch.from_numpy(so_matrix(int(param), n_in)))
    elif name == "random":
        info.update(function_seed=int(function_seed))
    return info


# -- evaluation ----------------------------------------------------------------------------------
def _xor(x, lam=1.0):
    return torch.prod(torch.sin(lam * math.pi * x), dim=-1)


def evaluate_target(name: str, x: torch.Tensor, param: Any = None,
                    function_seed: int = 0) -> torch.Tensor:
    """f(x) for x: [..., N, n] -> [..., N], computed in float64 and returned in x's dtype.

    ``random`` is not a function of x (its labels are fixed per example): use
    ``random_labels`` / ``make_dataset`` for it.
    """
    spec = check_target(name, param)
    if not spec.pointwise:
        raise ValueError("target 'random' has per-example labels, not a formula: "
                         "use make_dataset() or random_labels()")
    x = torch.as_tensor(x)
    out_dtype = x.dtype if x.is_floating_point() else torch.float64
    x64 = x.to(torch.float64)
    n_in = x64.shape[-1]
    if name == "xor":
        y = _xor(x64)
    elif name == "lambda_xor":
        y = _xor(x64, float(param))
    elif name == "linear":
        c, c0 = linear_coefficients(function_seed, n_in)
        y = x64 @ torch.from_numpy(c.copy()) + c0
    elif name == "so_xor":
        O = torch.from_numpy(so_matrix(int(param), n_in))
        y = _xor(x64 @ O.T)          # z_i = O_ii' x_i'
    elif name == "gaussian":
        y = torch.exp(-(x64 ** 2).sum(-1) / (2.0 * float(param) ** 2))
    else:  # pragma: no cover - registry and branches kept in sync by tests
        raise AssertionError(name)
    return y.to(out_dtype)


def random_labels(n: int, split: str, function_seed: int = 0) -> torch.Tensor:
    """Per-example U(-1, 1) labels of ``random`` (III.3) for one split, float64 [n] (A-03)."""
    if split not in _SPLIT_TAG:
        raise ValueError(f"unknown split {split!r}; valid: {SPLITS}")
    return torch.from_numpy(_rng(_TAG_RANDOM, function_seed, _SPLIT_TAG[split]).uniform(-1.0, 1.0, n))


def make_inputs(n: int, split: str, data_seed: int = 0, n_in: int = 3) -> torch.Tensor:
    """x ~ U([-1, 1]^n_in) for one split, float64 [n, n_in] (A-01, A-02)."""
    if split not in _SPLIT_TAG:
        raise ValueError(f"unknown split {split!r}; valid: {SPLITS}")
    if n < 1:
        raise ValueError(f"split sizes must be >= 1, got {split}={n}")
    return torch.from_numpy(_rng(_TAG_INPUTS, data_seed, n_in, _SPLIT_TAG[split])
                            .uniform(-1.0, 1.0, size=(n, n_in)))


def make_dataset(name: str, param: Any = None, *, n_train: int = 1000, n_val: int = 1000,
                 n_test: int = 1000, data_seed: int = 0, function_seed: int = 0, n_in: int = 3,
                 dtype: torch.dtype = torch.float64) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """{split: (x [N, n_in], y [N])} for train/val/test; the x sets do not depend on the target."""
    check_target(name, param)
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    out = {}
    for split, n in sizes.items():
        x = make_inputs(n, split, data_seed, n_in)
        if name == "random":
            y = random_labels(n, split, function_seed)
        else:
            y = evaluate_target(name, x, param, function_seed)
        out[split] = (x.to(dtype), y.to(dtype))
    return out

