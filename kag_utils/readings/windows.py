"""Parameter windows of noticeable KA geometry (P1's "Goldilocks regime", IV.C and App. C).

P1 reads its windows off figures (0.7 <~ lambda <~ 1.2 for lambda-xor, 0.15 <~ lambda <~ 0.80
for G(lambda)) and states no rule. :func:`ka_window` makes one explicit. A family parameter
value is inside the window for a metric when its seed mean

* differs from a no-KA control (e.g. linear(32), whose zero rows "closely track" the
  false-positive rate, P1 IV.A) by more than ``z`` combined standard errors, in the direction
  of a KA reference (e.g. xor(32)), and
* covers at least ``fraction`` of the reference's effect:
  (mean - control) / (reference - control) >= fraction ("noticeable": by default half of
  xor(32)'s signal).

``fraction = 0`` leaves the significance test alone.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["ka_window"]


def ka_window(params: Sequence[float], mean: Sequence[float], se: Sequence[float],
              control_mean: float, control_se: float | None, reference_mean: float,
              fraction: float = 0.5, z: float = 2.0) -> dict:
    """Which family parameters show noticeable KA geometry in one metric, and their window.

    params, mean, se: one entry per parameter value (se: standard error over seeds; NaN or
    None counts as 0). control_mean/control_se: the no-KA control; reference_mean: the KA
    reference, which fixes the direction (a metric that drops with KA geometry, like the
    normalised PR, has reference < control).
    Returns {"params" (sorted), "effect" ((mean - control) / (reference - control)),
    "inside" [bool], "low", "high" (smallest / largest inside, None if none), "contiguous"
    (all parameters between low and high inside; None if none), "n_inside"}."""
    p = np.asarray(params, dtype=np.float64)
    mu = np.asarray(mean, dtype=np.float64)
    s = np.nan_to_num(np.asarray(se, dtype=np.float64), nan=0.0)
    if not (p.shape == mu.shape == s.shape) or p.ndim != 1 or p.size == 0:
        raise ValueError("params, mean and se must be 1-d arrays of one common, non-zero length")
    if not np.isfinite(mu).all():
        raise ValueError("mean contains NaN/inf")
    span = float(reference_mean) - float(control_mean)
    if not np.isfinite(span) or span == 0:
        raise ValueError("reference_mean must differ from control_mean (it sets the direction)")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    order = np.argsort(p, kind="stable")
    p, mu, s = p[order], mu[order], s[order]
    cs = 0.0 if control_se is None or not np.isfinite(control_se) else float(control_se)
    diff = (mu - float(control_mean)) * np.sign(span)
    significant = diff > z * np.sqrt(s ** 2 + cs ** 2)
    effect = (mu - float(control_mean)) / span
    inside = significant & (effect >= fraction)
    idx = np.flatnonzero(inside)
    out = {"params": p.tolist(), "effect": effect.tolist(), "inside": inside.tolist(),
           "n_inside": int(idx.size), "low": None, "high": None, "contiguous": None}
    if idx.size:
        out["low"], out["high"] = float(p[idx[0]]), float(p[idx[-1]])
        out["contiguous"] = bool(inside[idx[0]:idx[-1] + 1].all())
    return out
