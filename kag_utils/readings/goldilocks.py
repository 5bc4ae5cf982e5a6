"""Goldilocks windows of a target family under ONE rule (P1 IV.C Figs. 11-12, App. C Fig. 18).

A family parameter (lambda of lambda-xor or G(lambda)) is *inside* the window of a metric when
its seed mean is

* significant against the initial model (the no-KA baseline): its excess over the baseline,
  in the direction KA geometry moves the metric, exceeds ``z`` combined standard errors, and
* "noticeable": at least ``fraction`` (0.5) of the reference's effect, the reference being
  ``xor(32)`` (lambda-xor at lambda = 1).

Significant but below ``fraction`` is "modest" (P1: below 0.7 "modest indications of KA
geometry, which decrease as lambda -> 0.5"). The rule is :func:`kag_utils.readings.window`
(the one window rule of notebooks 04 and 05); this module adds the reference's own
significance, per-parameter effects, the comparison of a bound with P1's, and the reading of
the "modest" wording.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import rules as readings

__all__ = ["family_grid", "goldilocks_window", "window_bound", "modest_below"]


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
    """The window of one metric under the ONE window rule, :func:`kag_utils.readings.window`
    (significant against ``baseline``, the initial models, and at least ``fraction`` of the
    reference's effect; the window is the contiguous run of inside points around the inside
    point of largest excess).

    params, mean, se: one entry per family parameter; baseline(_se): the initial models;
    reference(_se): xor(32); direction: +1 if KA geometry raises the metric, -1 if it lowers
    it (PR). Returns {"params" (sorted), "effect" (share of the reference's effect), "inside",
    "significant", "modest" (significant, not inside) per parameter; "low", "high" (None
    without a window), "n_inside", "bounded_low"/"bounded_high" (the window ends inside the
    grid, not at its end), "reference_significant"}. A reference without a significant
    effect in ``direction`` (z combined SE of reference and baseline) has no window."""
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {direction!r}")
    p = np.asarray(params, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    s = np.nan_to_num(np.asarray(se, dtype=np.float64), nan=0.0)
    if not (p.shape == mu.shape == s.shape) or p.ndim != 1 or p.size == 0:
        raise ValueError("params, mean and se must be 1-d arrays of one common, non-zero length")
    b_se = float(np.nan_to_num(baseline_se or 0.0))
    r_se = float(np.nan_to_num(reference_se or 0.0))
    order = np.argsort(p, kind="stable")
    p, mu, s = p[order], mu[order], s[order]
    significant = readings.significant(mu, s, baseline, b_se, direction, z)
    ref_excess = (reference - baseline) * direction
    ref_sig = bool(ref_excess > z * np.hypot(r_se, b_se))
    w = (readings.window(p, mu, s, baseline, b_se, direction, z, reference=reference,
                         fraction=fraction) if ref_sig else None)
    inside = np.zeros(p.size, dtype=bool) if w is None else np.asarray(w["inside"], dtype=bool)
    effect = ((mu - baseline) * direction / ref_excess if ref_excess != 0
              else np.full(p.size, np.nan))
    return {"params": p.tolist(), "effect": effect.tolist(), "inside": inside.tolist(),
            "significant": np.asarray(significant, dtype=bool).tolist(),
            "modest": (np.asarray(significant, dtype=bool) & ~inside).tolist(),
            "n_inside": int(inside.sum()), "low": None if w is None else float(w["low"]),
            "high": None if w is None else float(w["high"]),
            "bounded_low": bool(w is not None and w["bounded_low"]),
            "bounded_high": bool(w is not None and w["bounded_high"]),
            "reference_significant": ref_sig}


def window_bound(window: dict, side: str, target: float, wording: str = "near",
                 resolution: float = 0.0) -> dict:
    """P1's window bound "``target`` <~ lambda" (side "low") or "lambda <~ ``target``" ("high")
    against a :func:`goldilocks_window`: reproduced when the window closes inside the grid on
    that side and its bound is near the target (:func:`kag_utils.readings.near` with the
    wording's tolerance, plus half the grid step ``resolution``); not reproduced when there is
    no window, it runs into the end of the grid, or the bound is off. Returns {"verdict",
    "ours", "why"}."""
    if side not in ("low", "high"):
        raise ValueError(f"side must be 'low' or 'high', got {side!r}")
    ours = window[side]
    if not window["reference_significant"]:
        return {"verdict": "not reproduced", "ours": None,
                "why": "xor(32) itself shows no significant effect in this metric"}
    if ours is None:
        return {"verdict": "not reproduced", "ours": None,
                "why": "no parameter reaches half of xor(32)'s effect with a significant excess"}
    if not window[f"bounded_{side}"]:
        return {"verdict": "not reproduced", "ours": ours,
                "why": f"the window reaches the {'lower' if side == 'low' else 'upper'} end of "
                       f"the grid ({ours:g}): no bound inside the grid"}
    loc = readings.near(ours, target, 0.0, wording)
    ok = abs(loc["diff"]) <= loc["allowed"] + resolution / 2 + 1e-9
    return {"verdict": "reproduced" if ok else "not reproduced", "ours": ours,
            "why": f"our window is {window['low']:g}-{window['high']:g}"}


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
