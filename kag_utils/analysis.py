"""Operational readings of the paper's qualitative curve statements (P1 §IV.C, App. C).

P1 describes its evolution and interpolation curves in words: zero rows "develop around
R^2 ~ 0.5", a "Goldilocks regime 0.7 <~ lambda <~ 1.2", an "extremum near lambda ~ 1.2", "no
discernible" dependent rows. To compare such statements with numbers, this module reads a
curve given as seed means and standard errors on an increasing grid ``x`` (training-R^2
checkpoints, lambda values, ...) against a *baseline*: the value that means "no KA geometry"
(the initial model's value: q^(k) for zero rows, 1 for normalised PR and RR, 0 for the column
divergence; REPRODUCTION A-24, A-25, A-27).

Each function states its rule; ``direction`` is +1 when KA geometry raises the metric (zero
rows, RR, divergence) and -1 when it lowers it (PR). The *excess* of a point is
``direction * (mean - baseline)`` and a point is *significant* when its excess exceeds
``n_sigma`` combined standard errors, ``sqrt(se^2 + baseline_se^2)`` (A-15: SE = std/sqrt(n),
ddof = 1).

* :func:`onset`       first grid point from which the excess is significant at every later point
                      (a sustained signal; an isolated early fluctuation is not an onset);
* :func:`half_rise`   first grid point whose excess reaches half of the curve's largest excess
                      (a sample-size-independent "where the bulk of the change happens");
* :func:`window`      the contiguous run of significant points around the largest excess
                      (the Goldilocks window under the significance rule);
* :func:`half_max_window`  the contiguous run around the peak where the excess is at least
                      half of the peak excess (the full width at half maximum);
* :func:`extremum`    location of a curve's maximum or minimum, the plateau of points
                      statistically indistinguishable from it ("definitive maximum or broad
                      hump"), and whether it stands above both ends of the grid; for points
                      that are states of the same runs, differences are paired by seed.

All return plain dicts (JSON-ready for ``Recorder.add``) or None when the curve shows no such
feature. Inputs are 1-D sequences of equal length; NaN is refused (drop points with fewer than
2 seeds before calling).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["excess", "significant", "onset", "half_rise", "window", "half_max_window",
           "extremum", "paired_se"]


def _arrays(x, mean, se=None):
    x = np.asarray(x, dtype=float)
    mean = np.asarray(mean, dtype=float)
    if x.ndim != 1 or mean.shape != x.shape or x.size == 0:
        raise ValueError(f"x and mean must be non-empty 1-D arrays of equal length, got shapes "
                         f"{x.shape} and {mean.shape}")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing (sort the curve by its grid first)")
    arrays = [x, mean]
    if se is not None:
        se = np.broadcast_to(np.asarray(se, dtype=float), x.shape)
        if np.any(se < 0):
            raise ValueError("standard errors must be non-negative")
        arrays.append(se)
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise ValueError("curve contains NaN or inf: drop grid points without enough seeds "
                         "before calling")
    return arrays


def _direction(direction: int) -> int:
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 (KA geometry raises the metric) or -1 "
                         f"(lowers it), got {direction!r}")
    return direction


def excess(mean: Sequence[float], baseline: float, direction: int = 1) -> np.ndarray:
    """``direction * (mean - baseline)``: positive where the curve shows KA geometry."""
    return _direction(direction) * (np.asarray(mean, dtype=float) - float(baseline))


def significant(mean: Sequence[float], se: Sequence[float] | float, baseline: float,
                baseline_se: float = 0.0, direction: int = 1,
                n_sigma: float = 2.0) -> np.ndarray:
    """Boolean mask: excess > n_sigma * sqrt(se^2 + baseline_se^2) at each point."""
    mean = np.asarray(mean, dtype=float)
    se = np.broadcast_to(np.asarray(se, dtype=float), mean.shape)
    return excess(mean, baseline, direction) > n_sigma * np.sqrt(se ** 2 + float(baseline_se) ** 2)


def _run_around(mask: np.ndarray, center: int) -> tuple[int, int]:
    lo = hi = center
    while lo > 0 and mask[lo - 1]:
        lo -= 1
    while hi < len(mask) - 1 and mask[hi + 1]:
        hi += 1
    return lo, hi


def _window_dict(x, mask, lo, hi, peak) -> dict:
    return {"low": float(x[lo]), "high": float(x[hi]), "i_low": int(lo), "i_high": int(hi),
            "peak": float(x[peak]), "n_points": int(hi - lo + 1),
            # bounded: a non-window grid point lies beyond the bound (else the window may
            # extend past the grid and the bound is only the grid's edge)
            "bounded_low": bool(lo > 0), "bounded_high": bool(hi < len(x) - 1),
            "n_flagged_outside": int(mask.sum() - (hi - lo + 1))}


def onset(x: Sequence[float], mean: Sequence[float], se: Sequence[float] | float,
          baseline: float, baseline_se: float = 0.0, direction: int = 1,
          n_sigma: float = 2.0) -> dict | None:
    """First grid point x_i such that the excess is significant at x_i and at every later
    point (sustained onset). Returns {"x", "index", "first_significant"} (the latter: the
    first significant point, sustained or not) or None when the last point is not
    significant (no sustained signal)."""
    x, mean, se = _arrays(x, mean, se)
    sig = significant(mean, se, baseline, baseline_se, direction, n_sigma)
    if not sig[-1]:
        return None
    i = len(sig) - 1
    while i > 0 and sig[i - 1]:
        i -= 1
    return {"x": float(x[i]), "index": int(i), "first_significant": float(x[np.argmax(sig)])}


def half_rise(x: Sequence[float], mean: Sequence[float], baseline: float,
              direction: int = 1) -> dict | None:
    """First grid point whose excess reaches half of the largest excess of the curve.
    Returns {"x", "index", "peak_excess"} or None when no point exceeds the baseline."""
    x, mean = _arrays(x, mean)
    e = excess(mean, baseline, direction)
    peak = float(e.max())
    if peak <= 0:
        return None
    i = int(np.argmax(e >= peak / 2))
    return {"x": float(x[i]), "index": i, "peak_excess": peak}


def window(x: Sequence[float], mean: Sequence[float], se: Sequence[float] | float,
           baseline: float, baseline_se: float = 0.0, direction: int = 1,
           n_sigma: float = 2.0) -> dict | None:
    """The maximal contiguous run of significant grid points that contains the significant
    point of largest excess. Returns {"low", "high", "peak", "n_points", "bounded_low",
    "bounded_high", "n_flagged_outside", ...} or None when no point is significant.
    ``bounded_low`` is False when the window starts at the first grid point (it may extend
    below the grid); ``n_flagged_outside`` counts significant points not in the window."""
    x, mean, se = _arrays(x, mean, se)
    sig = significant(mean, se, baseline, baseline_se, direction, n_sigma)
    if not sig.any():
        return None
    e = np.where(sig, excess(mean, baseline, direction), -np.inf)
    peak = int(np.argmax(e))
    lo, hi = _run_around(sig, peak)
    return _window_dict(x, sig, lo, hi, peak)


def half_max_window(x: Sequence[float], mean: Sequence[float], baseline: float,
                    direction: int = 1) -> dict | None:
    """Full width at half maximum: the contiguous run around the point of largest excess
    where the excess is at least half of it. Same keys as :func:`window`; None when no
    point exceeds the baseline."""
    x, mean = _arrays(x, mean)
    e = excess(mean, baseline, direction)
    peak = int(np.argmax(e))
    if e[peak] <= 0:
        return None
    mask = e >= e[peak] / 2
    lo, hi = _run_around(mask, peak)
    return _window_dict(x, mask, lo, hi, peak)


def paired_se(samples: np.ndarray, i: int) -> np.ndarray:
    """Standard error of the per-sample difference between point ``i`` and every point:
    ``samples`` is [n_samples, n_points] (e.g. seeds x checkpoints of the same runs); NaN
    entries (a seed that never reached a point) drop that seed from that pair. NaN where
    fewer than 2 samples have both points."""
    samples = np.asarray(samples, dtype=float)
    d = samples - samples[:, [i]]
    out = np.full(d.shape[1], np.nan)
    for j in range(d.shape[1]):
        dj = d[np.isfinite(d[:, j]), j]
        if len(dj) >= 2:
            out[j] = dj.std(ddof=1) / np.sqrt(len(dj))
    return out


def extremum(x: Sequence[float], mean: Sequence[float], se: Sequence[float] | float,
             kind: str = "max", n_sigma: float = 2.0, samples=None) -> dict:
    """Location of the curve's maximum (``kind="max"``) or minimum (``"min"``).

    Returns {"x", "index", "value", "se", "interior", "plateau_low", "plateau_high",
    "beyond_ends", "paired"}: ``interior`` is False when the extremum sits at the first or
    last grid point (a monotone curve); the plateau is the contiguous run of points whose mean
    is within n_sigma SE of the extremum (a single point: a definite extremum; several: a
    broad hump); ``beyond_ends`` is True when the extremum differs from the values at both
    ends of the grid by more than n_sigma SE (a significant interior extremum).

    The SE of a difference is the combined SE sqrt(se_i^2 + se_j^2) of independent points,
    or, when ``samples`` [n_samples, n_points] holds the per-seed values behind ``mean``
    (points that are states of the same runs, e.g. training checkpoints), the SE of the
    per-seed differences (:func:`paired_se`): the seed-to-seed offset shared by all points of
    a run then cancels."""
    x, mean, se = _arrays(x, mean, se)
    if kind not in ("max", "min"):
        raise ValueError(f"kind must be 'max' or 'min', got {kind!r}")
    s = 1.0 if kind == "max" else -1.0
    i = int(np.argmax(s * mean))
    if samples is not None:
        samples = np.asarray(samples, dtype=float)
        if samples.ndim != 2 or samples.shape[1] != len(x):
            raise ValueError(f"samples must be [n_samples, {len(x)}], got {samples.shape}")
        tol = n_sigma * paired_se(samples, i)
        tol = np.where(np.isfinite(tol), tol, n_sigma * np.sqrt(se ** 2 + se[i] ** 2))
    else:
        tol = n_sigma * np.sqrt(se ** 2 + se[i] ** 2)
    close = s * (mean[i] - mean) <= tol
    lo, hi = _run_around(close, i)
    ends = [0, len(x) - 1]
    beyond = all(s * (mean[i] - mean[j]) > tol[j] for j in ends)
    return {"x": float(x[i]), "index": i, "value": float(mean[i]), "se": float(se[i]),
            "interior": bool(0 < i < len(x) - 1), "plateau_low": float(x[lo]),
            "plateau_high": float(x[hi]), "beyond_ends": bool(beyond),
            "paired": samples is not None}
