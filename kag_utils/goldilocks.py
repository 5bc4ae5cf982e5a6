"""Goldilocks windows of a target family under ONE rule (P1 IV.C Figs. 11-12, App. C Fig. 18).

A family parameter (lambda of lambda-xor or G(lambda)) is *inside* the window of a metric when
its seed mean is

* significant against the initial model (the no-KA baseline): its excess over the baseline,
  in the direction KA geometry moves the metric, exceeds ``z`` combined standard errors, and
* "noticeable": at least ``fraction`` (0.5) of the reference's effect, the reference being
  ``xor(32)`` (lambda-xor at lambda = 1).

Significant but below ``fraction`` is "modest" (P1: below 0.7 "modest indications of KA
geometry, which decrease as lambda -> 0.5"). The rule is :func:`kag_utils.windows.ka_window`
with the initial model as the control; this module adds the reference's own significance,
whether the window is bounded inside the grid, and the reading of the "modest" wording.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .windows import ka_window

__all__ = ["family_grid", "goldilocks_window", "modest_below"]


def family_grid(low: float, mid: float, high: float, step: float, step_high: float) -> list[float]:
    """low, low + step, ..., mid, then mid + step_high, ..., high (rounded to 1e-6)."""
    if not (low <= mid <= high) or step <= 0 or step_high <= 0:
        raise ValueError("need low <= mid <= high and positive steps")
    a = np.arange(low, mid + 1e-9, step)
    b = np.arange(mid + step_high, high + 1e-9, step_high) if high > mid else np.array([])
    return sorted({round(float(v), 6) for v in np.concatenate([a, b])})


def goldilocks_window(params: Sequence[float], mean: Sequence[float], se: Sequence[float],
                      baseline: float, baseline_se: float, reference: float,
                      reference_se: float, direction: int, fraction: float = 0.5,
                      z: float = 2.0) -> dict:
    """The window of one metric under the unified rule (module docstring).

    params, mean, se: one entry per family parameter; baseline(_se): the initial models;
    reference(_se): xor(32); direction: +1 if KA geometry raises the metric, -1 if it lowers
    it (PR). Returns the dict of :func:`ka_window` ("params", "effect" (share of the reference's
    effect), "inside", "low", "high", "contiguous", "n_inside") plus "significant" and
    "modest" (significant, not inside) per parameter, "bounded_low"/"bounded_high" (the
    window ends inside the grid, not at its end) and "reference_significant". A reference
    without a significant effect in ``direction`` has no window (every "inside" False)."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    p = np.asarray(params, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    s = np.nan_to_num(np.asarray(se, dtype=np.float64), nan=0.0)
    b_se = float(np.nan_to_num(baseline_se or 0.0))
    r_se = float(np.nan_to_num(reference_se or 0.0))
    order = np.argsort(p, kind="stable")
    p, mu, s = p[order], mu[order], s[order]
    significant = (mu - baseline) * direction > z * np.sqrt(s ** 2 + b_se ** 2)
    ref_sig = bool((reference - baseline) * direction > z * np.hypot(r_se, b_se))
    if ref_sig:
        out = ka_window(p, mu, s, baseline, b_se, reference, fraction=fraction, z=z)
    else:
        span = reference - baseline
        out = {"params": p.tolist(),
               "effect": ((mu - baseline) / span).tolist() if span else [float("nan")] * p.size,
               "inside": [False] * p.size, "n_inside": 0, "low": None, "high": None,
               "contiguous": None}
    inside = np.asarray(out["inside"], dtype=bool)
    out["significant"] = significant.tolist()
    out["modest"] = (significant & ~inside).tolist()
    out["reference_significant"] = ref_sig
    out["bounded_low"] = out["low"] is not None and out["low"] > p[0] + 1e-9
    out["bounded_high"] = out["high"] is not None and out["high"] < p[-1] - 1e-9
    return out


def modest_below(window: dict, bound: float, start: float | None = None) -> dict:
    """P1's "modest indications of KA geometry below ``bound``, which decrease as lambda ->
    ``start``" read on a :func:`goldilocks_window`: every parameter in [start, bound) is
    outside the window (at most modest: significant but below the fraction, or not
    significant), and the effect at ``start`` (default: the smallest parameter) is smaller
    than at the largest parameter <= ``bound``. Returns {"below" (params), "not_noticeable",
    "decreasing", "effect_start", "effect_bound", "n_modest", "holds"}."""
    p = np.asarray(window["params"], dtype=np.float64)
    eff = np.asarray(window["effect"], dtype=np.float64)
    inside = np.asarray(window["inside"], dtype=bool)
    modest = np.asarray(window["modest"], dtype=bool)
    start = float(p[0]) if start is None else float(start)
    below = (p >= start - 1e-9) & (p < bound - 1e-9)
    at_bound = np.flatnonzero(p <= bound + 1e-9)
    i0 = int(np.argmin(np.abs(p - start)))
    if not below.any() or at_bound.size == 0 or at_bound[-1] == i0:
        return {"below": p[below].tolist(), "not_noticeable": None, "decreasing": None,
                "effect_start": None, "effect_bound": None, "n_modest": 0, "holds": None}
    ib = int(at_bound[-1])
    not_noticeable = bool(not inside[below].any())
    decreasing = bool(eff[i0] < eff[ib])
    return {"below": p[below].tolist(), "not_noticeable": not_noticeable,
            "decreasing": decreasing, "effect_start": float(eff[i0]),
            "effect_bound": float(eff[ib]), "n_modest": int(modest[below].sum()),
            "holds": not_noticeable and decreasing}
