"""Composite readings behind comparison rows of notebooks 04 and 05 (issue 12, item 6).

Each function turns the wording of one kind of P1 claim into a verdict (one of
:data:`kag_utils.verdicts.VERDICTS`) with the rules of :mod:`kag_utils.readings`, so that every
row of a figure is judged the same way:

* :func:`near_each`        "tracks", "indistinguishable": every point of a curve is
                           :func:`~kag_utils.readings.near` its counterpart (e.g. test R^2 at
                           every lambda near the training R^2);
* :func:`signal_strength`  "weak signal" / "zero signal" / "KA geometry": the ONE window rule
                           on a single point (significant against the no-KA baseline, and at
                           least ``fraction`` of the reference's effect) turned into a class;
* :func:`weak_signal`      "a weak KA geometry signal": significant, but below ``fraction`` of
                           the reference's effect (the window rule's "modest" points);
* :func:`extremum_near`    "an extremum near x0": the extremum's location is near x0 and it is
                           a significant interior extremum (a plateau reaching an end of the
                           grid cannot tell an extremum from a monotone approach:
                           inconclusive);
* :func:`at_or_before`     "around or even slightly before x0";
* :func:`all_of`, :func:`only_at`  a claim over a grid from per-point verdicts ("at every
                           B", "only at full batch");
* :func:`order_of_magnitude`  "10^45", "about an order of magnitude": log10 values within
                           half a decade (verdicts.WORDING_TOLERANCE), and the alternative
                           reading of a printed power of ten as its decade [10^p, 10^(p+1)).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np

from . import readings
from .verdicts import check_verdict, numeric_verdict

# grid values such as 0.55 - 0.5 carry float rounding: compare with this slack
_EPS = 1e-9

__all__ = ["near_each", "signal_strength", "weak_signal", "extremum_near", "at_or_before",
           "order_of_magnitude", "all_of", "only_at"]


def near_each(values: Sequence[float], targets: Sequence[float], ses: Sequence[float] | float,
              wording: str | None = "close to", target_ses: Sequence[float] | float = 0.0,
              scale: float | None = None) -> dict:
    """Every ``values[i]`` near ``targets[i]`` by :func:`kag_utils.readings.near` (``ses``: SE
    of each value, or of each paired difference with ``target_ses`` = 0). Verdict: not
    reproduced if some point is off, else inconclusive if some point is inconclusive, else
    reproduced. Returns {"verdict", "verdicts" [per point], "n_off", "worst_index" (largest
    |value - target| / allowed), "worst_diff"}."""
    v = np.asarray(values, dtype=float)
    t = np.asarray(targets, dtype=float)
    if v.ndim != 1 or v.shape != t.shape or v.size == 0:
        raise ValueError(f"values and targets must be non-empty 1-D arrays of equal length, got "
                         f"shapes {v.shape} and {t.shape}")
    s = np.broadcast_to(np.asarray(ses, dtype=float), v.shape)
    ts = np.broadcast_to(np.asarray(target_ses, dtype=float), v.shape)
    per = [readings.near(vi, ti, si, wording, target_se=tsi, scale=scale)
           for vi, ti, si, tsi in zip(v, t, s, ts)]
    verdicts = [p["verdict"] for p in per]
    ratio = [abs(p["diff"]) / p["allowed"] if p["allowed"] > 0 else
             (np.inf if p["diff"] else 0.0) for p in per]
    worst = int(np.argmax(ratio))
    n_off = verdicts.count("not reproduced")
    verdict = ("not reproduced" if n_off else
               "inconclusive" if "inconclusive" in verdicts else "reproduced")
    return {"verdict": verdict, "verdicts": verdicts, "n_off": n_off, "worst_index": worst,
            "worst_diff": float(per[worst]["diff"])}


def signal_strength(mean: float, se: float, baseline: float, baseline_se: float,
                    reference: float, direction: int = 1, fraction: float = 0.5) -> dict:
    """Class of one KA signal by the window rule of :func:`kag_utils.readings.window`:
    ``"KA-like"`` (significant excess over the no-KA ``baseline`` and at least ``fraction``
    of the ``reference``'s excess), ``"modest"`` (significant, below that fraction),
    ``"none"`` (no significant excess: a measured null, or a change against the KA
    direction), or ``"inconclusive"`` (too little precision to tell; the scale of the test is
    the reference's excess). Returns {"class", "effect" (excess / reference excess), "z",
    "excess"}."""
    ref_excess = direction * (float(reference) - float(baseline))
    if not ref_excess > 0:
        raise ValueError(f"the reference ({reference}) must show KA geometry against the "
                         f"baseline ({baseline}) in direction {direction}")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie in [0, 1], got {fraction}")
    ex = readings.exceeds(mean, se, baseline, baseline_se, direction, scale=ref_excess)
    effect = ex["excess"] / ref_excess
    if ex["verdict"] == "reproduced":
        cls = "KA-like" if effect >= fraction else "modest"
    elif ex["verdict"] == "inconclusive":
        cls = "inconclusive"
    else:
        cls = "none"
    return {"class": cls, "effect": float(effect), "z": ex["z"], "excess": ex["excess"]}


def weak_signal(mean: float, se: float, baseline: float, baseline_se: float, reference: float,
                direction: int = 1, fraction: float = 0.5) -> dict:
    """"A weak KA geometry signal": :func:`signal_strength` is ``"modest"`` (reproduced);
    ``"inconclusive"`` stays inconclusive; no signal or a KA-like one is not reproduced.
    Returns the strength dict plus "verdict"."""
    s = signal_strength(mean, se, baseline, baseline_se, reference, direction, fraction)
    verdict = {"modest": "reproduced", "inconclusive": "inconclusive"}.get(s["class"],
                                                                          "not reproduced")
    return {"verdict": verdict, **s}


def extremum_near(ext: dict, target: float, wording: str | None = "near",
                  resolution: float = 0.0) -> dict:
    """"An extremum near ``target``" from a :func:`kag_utils.readings.extremum` result.

    The location agrees when |x - target| <= tolerance(wording) * |target| + resolution / 2
    (``resolution``: the grid step, which limits where an extremum can be placed). Verdict:
    not reproduced when the location is off; inconclusive when it agrees but the extremum is
    not a significant interior one (``beyond_ends`` False: its plateau of points within the
    errors reaches an end of the grid, so the curve may be monotone); else reproduced.
    Returns {"verdict", "location" (the near() verdict of the location), "diff", "allowed"}."""
    for key in ("x", "beyond_ends"):
        if key not in ext:
            raise ValueError(f"ext must be a readings.extremum() result (missing {key!r})")
    loc = readings.near(ext["x"], target, 0.0, wording)
    allowed = loc["allowed"] + resolution / 2
    ok = abs(loc["diff"]) <= allowed + _EPS
    verdict = ("not reproduced" if not ok else
               "reproduced" if ext["beyond_ends"] else "inconclusive")
    return {"verdict": verdict, "location": "reproduced" if ok else "not reproduced",
            "diff": loc["diff"], "allowed": float(allowed)}


def at_or_before(value: float | None, target: float, wording: str | None = "near",
                 resolution: float = 0.0) -> dict:
    """"Around or even slightly before ``target``": reproduced when ``value`` <= target, or
    within tolerance(wording) * |target| + resolution / 2 above it; None (no onset at all)
    is not reproduced. Returns {"verdict", "diff", "allowed"}."""
    if value is None:
        return {"verdict": "not reproduced", "diff": None, "allowed": None}
    loc = readings.near(value, target, 0.0, wording)
    allowed = loc["allowed"] + resolution / 2
    ok = loc["diff"] <= allowed + _EPS
    return {"verdict": "reproduced" if ok else "not reproduced", "diff": loc["diff"],
            "allowed": float(allowed)}


def order_of_magnitude(log10_ours: float, log10_paper: float) -> dict:
    """A power of ten stated by the paper ("10^45 vs 10^4", "an order of magnitude larger")
    against ours, both as log10. Default reading: the wording "order of magnitude" of
    :data:`kag_utils.verdicts.WORDING_TOLERANCE` (within half a decade: the paper's exponent
    rounded). Alternative reading ``decade``: the exponent truncated, i.e. ours in the decade
    [10^p, 10^(p+1)) of the paper's 10^p (how "a number of order 10^4" is often meant).
    Returns {"verdict", "decade_verdict", "diff" (log10 ours - log10 paper)}."""
    o, p = float(log10_ours), float(log10_paper)
    if not (np.isfinite(o) and np.isfinite(p)):
        raise ValueError(f"log10 values must be finite, got {log10_ours}, {log10_paper}")
    v = numeric_verdict(10.0 ** p, 10.0 ** o, wording="order of magnitude")["verdict"]
    dec = "reproduced" if np.floor(o) == np.floor(p) else "not reproduced"
    return {"verdict": v, "decade_verdict": dec, "diff": o - p}


def all_of(verdicts: Iterable) -> str:
    """A claim that holds at every point ("at every B"): not reproduced if some point is not
    reproduced, else inconclusive if some point is inconclusive, else reproduced. Takes
    verdicts or rule results (dicts with a "verdict")."""
    verdicts = [check_verdict(v["verdict"] if isinstance(v, Mapping) else v) for v in verdicts]
    if not verdicts:
        raise ValueError("all_of() needs at least one verdict")
    if "not reproduced" in verdicts:
        return "not reproduced"
    return "inconclusive" if "inconclusive" in verdicts else "reproduced"


def only_at(verdicts: dict, at) -> str:
    """A claim that holds only at ``at`` ("noteworthy only at full batch"), from per-point
    verdicts of "it holds here": reproduced at ``at`` and not reproduced everywhere else.
    Not reproduced when it fails at ``at`` or holds elsewhere; otherwise inconclusive."""
    if at not in verdicts:
        raise ValueError(f"{at!r} is not among the points {list(verdicts)}")
    here = verdicts[at]
    others = [v for k, v in verdicts.items() if k != at]
    if here == "not reproduced" or "reproduced" in others:
        return "not reproduced"
    if here == "inconclusive" or "inconclusive" in others:
        return "inconclusive"
    return "reproduced"
