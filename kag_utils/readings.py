"""Operational readings of the papers' verbal claims: one rule for each kind of wording.

Verbal claims become verdicts (:mod:`kag_utils.verdicts`) through these rules, the same in
every notebook:

* :func:`exceeds`     "above", "exceeds", "larger than": a significant excess in the claimed
                      direction (reproduced), a significant one against it or a measured null
                      effect (not reproduced), or too little precision to tell (inconclusive);
* :func:`near`        "~1", "near", "close to", "tracks", "about the same": within the wording's
                      tolerance (verdicts.WORDING_TOLERANCE) plus 2 combined standard errors;
* :func:`stable`      "relatively uniform", "stays ~constant" across a grid: every point near
                      the grid's mean by the rule of :func:`near`;
* :func:`monotone`    "increases with m": a significant change end to end in the claimed
                      direction and no significant step against it;
* the curve readings below, with ONE window rule (:func:`window`): a grid point is *inside*
  when its excess over the no-KA baseline (the initial model) is significant AND, given a
  reference (xor(32)'s effect), at least ``fraction`` of the reference's excess; significant
  points below that fraction are "modest" (P1: "modest indications of KA geometry").

Curve readings (P1 §IV.C, App. C).

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

import math

import numpy as np

from .verdicts import INCONCLUSIVE_FRACTION, WORDING_TOLERANCE, Z

__all__ = ["excess", "significant", "onset", "half_rise", "window", "half_max_window",
           "extremum", "paired_se", "exceeds", "near", "stable", "monotone"]


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
           n_sigma: float = 2.0, reference: float | None = None,
           fraction: float = 0.5) -> dict | None:
    """The window of KA geometry: the maximal contiguous run of *inside* grid points that
    contains the inside point of largest excess. A point is inside when its excess over
    ``baseline`` is significant (n_sigma combined SE) and, when ``reference`` (the KA
    reference's mean, e.g. xor(32)) is given, at least ``fraction`` of the reference's excess.
    Returns {"low", "high", "peak", "n_points", "bounded_low", "bounded_high",
    "n_flagged_outside", "inside" [bool], "modest" [bool: significant, below the fraction],
    "effect" [excess / reference excess, or None]} or None when no point is inside.
    ``bounded_low`` is False when the window starts at the first grid point (it may extend
    below the grid); ``n_flagged_outside`` counts inside points not in the window."""
    x, mean, se = _arrays(x, mean, se)
    sig = significant(mean, se, baseline, baseline_se, direction, n_sigma)
    e = excess(mean, baseline, direction)
    effect = None
    inside = sig
    if reference is not None:
        ref_excess = float(excess([reference], baseline, direction)[0])
        if not ref_excess > 0:
            raise ValueError(f"the reference ({reference}) must show KA geometry against the "
                             f"baseline ({baseline}) in direction {direction}")
        if not 0 <= fraction <= 1:
            raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
        effect = e / ref_excess
        inside = sig & (effect >= fraction)
    if not inside.any():
        return None
    peak = int(np.argmax(np.where(inside, e, -np.inf)))
    lo, hi = _run_around(inside, peak)
    out = _window_dict(x, inside, lo, hi, peak)
    out.update(inside=inside.tolist(), modest=(sig & ~inside).tolist(),
               effect=None if effect is None else effect.tolist())
    return out


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


# ---------------------------------------------------------------------------------------------
# Verbal claims -> verdicts
# ---------------------------------------------------------------------------------------------
def _scalar(v, name):
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def _tol(wording: str | None) -> float:
    if wording is None:
        return 0.0
    if wording not in WORDING_TOLERANCE or WORDING_TOLERANCE[wording].log10 is not None:
        raise ValueError(f"wording {wording!r} has no relative tolerance; use one of "
                         f"{[k for k, t in WORDING_TOLERANCE.items() if t.log10 is None]}")
    return WORDING_TOLERANCE[wording].relative


def exceeds(mean: float, se: float, baseline: float, baseline_se: float = 0.0,
            direction: int = 1, n_sigma: float = Z, scale: float | None = None) -> dict:
    """"A exceeds B" (direction +1) or "A is below B" (-1), on standard errors.

    ``z = direction * (mean - baseline) / sqrt(se^2 + baseline_se^2)``. Verdict: z > n_sigma
    reproduced; z < -n_sigma not reproduced (significant the other way); otherwise
    inconclusive when 2 combined SE exceed INCONCLUSIVE_FRACTION of ``scale`` (the smallest
    effect that would count; default |baseline|), else not reproduced (a measured null
    effect). Returns {"verdict", "z", "excess", "se"}."""
    mean, se = _scalar(mean, "mean"), _scalar(se, "se")
    baseline, baseline_se = _scalar(baseline, "baseline"), _scalar(baseline_se, "baseline_se")
    _direction(direction)
    if se < 0 or baseline_se < 0:
        raise ValueError("standard errors must be >= 0")
    ex = direction * (mean - baseline)
    s = math.hypot(se, baseline_se)
    if scale is None:
        scale = abs(baseline)
        if scale == 0:
            raise ValueError("baseline is 0: pass scale= (the smallest effect that would count)")
    z = ex / s if s > 0 else (math.inf if ex > 0 else -math.inf if ex < 0 else 0.0)
    if z > n_sigma:
        verdict = "reproduced"
    elif z < -n_sigma:
        verdict = "not reproduced"
    elif n_sigma * s > INCONCLUSIVE_FRACTION * abs(scale):
        verdict = "inconclusive"
    else:
        verdict = "not reproduced"
    return {"verdict": verdict, "z": float(z), "excess": float(ex), "se": float(s)}


def near(value: float, target: float, se: float = 0.0, wording: str | None = "~",
         target_se: float = 0.0, n_sigma: float = Z, scale: float | None = None) -> dict:
    """"~target", "near", "close to", "tracks", "about the same as": |value - target| <=
    n_sigma * sqrt(se^2 + target_se^2) + tolerance(wording) * |target|. Consistent but with
    2 combined SE above INCONCLUSIVE_FRACTION of ``scale`` (default |target|): inconclusive.
    Returns {"verdict", "diff", "allowed"}."""
    value, target = _scalar(value, "value"), _scalar(target, "target")
    s = math.hypot(_scalar(se, "se"), _scalar(target_se, "target_se"))
    scale = abs(target) if scale is None else abs(scale)
    allowed = n_sigma * s + _tol(wording) * (abs(target) if target else scale)
    diff = value - target
    if abs(diff) > allowed:
        verdict = "not reproduced"
    elif s > 0 and n_sigma * s > INCONCLUSIVE_FRACTION * scale:
        verdict = "inconclusive"
    else:
        verdict = "reproduced"
    return {"verdict": verdict, "diff": float(diff), "allowed": float(allowed)}


def stable(values: Sequence[float], ses: Sequence[float] | float = 0.0,
           wording: str | None = "about", n_sigma: float = Z) -> dict:
    """"Relatively uniform", "stays ~constant" across a grid: every point is :func:`near` the
    grid's mean (with its own SE). Returns {"verdict", "mean", "worst_index", "worst_diff",
    "n_off"} (n_off: points outside). Inconclusive when none is off but some point is."""
    v = np.asarray(values, dtype=float)
    s = np.broadcast_to(np.asarray(ses, dtype=float), v.shape)
    if v.ndim != 1 or v.size < 2 or not np.all(np.isfinite(v)) or not np.all(np.isfinite(s)):
        raise ValueError("stable() needs at least 2 finite values (and finite SEs)")
    mu = float(v.mean())
    per = [near(float(vi), mu, float(si), wording, n_sigma=n_sigma) for vi, si in zip(v, s)]
    verdicts = [p["verdict"] for p in per]
    worst = int(np.argmax(np.abs(v - mu)))
    n_off = verdicts.count("not reproduced")
    verdict = ("not reproduced" if n_off else
               "inconclusive" if "inconclusive" in verdicts else "reproduced")
    return {"verdict": verdict, "mean": mu, "worst_index": worst,
            "worst_diff": float(v[worst] - mu), "n_off": n_off}


def monotone(x: Sequence[float], mean: Sequence[float], se: Sequence[float] | float,
             direction: int = 1, n_sigma: float = Z) -> dict:
    """"Increases (direction +1) / decreases (-1) with x": reproduced when the change from
    the first to the last point is significant in the claimed direction and no step between
    neighbours is significant against it; not reproduced when a step (or the whole change) is
    significant against it; else inconclusive (a dip or rise within the errors). Returns
    {"verdict", "z_total", "reversals" (indices i of significant steps i -> i+1 against)}."""
    x, mean, se = _arrays(x, mean, se)
    _direction(direction)
    if len(x) < 2:
        raise ValueError("monotone() needs at least 2 points")
    step = direction * np.diff(mean)
    step_se = np.sqrt(se[1:] ** 2 + se[:-1] ** 2)
    rev = np.flatnonzero(step < -n_sigma * step_se)
    tot = direction * (mean[-1] - mean[0])
    tot_se = math.hypot(se[0], se[-1])
    z = tot / tot_se if tot_se > 0 else (math.inf if tot > 0 else -math.inf if tot < 0 else 0.0)
    if rev.size or z < -n_sigma:
        verdict = "not reproduced"
    elif z > n_sigma:
        verdict = "reproduced"
    else:
        verdict = "inconclusive"
    return {"verdict": verdict, "z_total": float(z), "reversals": rev.tolist()}
