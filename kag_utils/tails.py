"""Tails of the minor distributions (P1 App. A): log10 histograms, quantile summaries and
linear fits of the mean excess function over quantile ranks.

REPRODUCTION 2.13, A-20, A-21. Everything runs in float64 on flattened arrays of minors
(|det| values, >= 0). Exact zeros (possible after float64 underflow of sigma'(z), A-20) have no
log10: the histogram counts them separately, the quantile summary reports them and gives the
ratio over the non-zero minors as well.

Mean excess function: MEF(u) = E[X - u | X > u] (kag_utils.metrics.mean_excess), plotted
against the quantile rank q with u = Q(q), q in [0.90, 1.0), so that distributions with
different spans are comparable (P1 App. A). Constant MEF = exponential tail; increasing =
heavier (power-law-like, "polynomial-decaying"); decreasing = lighter than exponential.
:func:`mef_fit` fits a line to MEF(Q(q)) / MEF(Q(q_0)) (q_0 the first grid point) over a
window of q; the sign of the slope is the tail class, and the normalisation makes slopes of
distributions with different scales comparable.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .metrics import mean_excess

__all__ = ["quantile_grid", "quantile_summary", "log10_histogram", "mef_fit", "tail_shares"]


def _flat(values) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("values is empty")
    if not np.isfinite(v).all() or (v < 0).any():
        raise ValueError("values must be finite non-negative minors (|det|)")
    return v


def quantile_grid(lo: float = 0.90, hi: float = 1.0, step: float = 0.001) -> np.ndarray:
    """Quantile ranks lo, lo + step, ... < hi (A-21 default: 0.900, 0.901, ..., 0.999)."""
    if not 0 <= lo < hi <= 1 or step <= 0:
        raise ValueError(f"need 0 <= lo < hi <= 1 and step > 0, got {lo}, {hi}, {step}")
    n = int(math.floor((hi - lo) / step + 1e-9))
    q = lo + step * np.arange(n + 1)
    return q[q < hi - 1e-12]


def quantile_summary(values, hi: float = 0.99, lo: float = 0.01) -> dict:
    """Q(hi), Q(lo), their ratio and its log10 (P1 App. A: Q(0.99)/Q(0.01) of size-3 minors),
    the maximum, and the exact-zero count; the same ratio over the non-zero values (A-20).
    Undefined ratios (Q(lo) = 0) are None, never inf/NaN. numpy "linear" quantiles."""
    v = _flat(values)
    nz = v[v > 0]
    q_hi, q_lo = np.quantile(v, [hi, lo], method="linear")
    out = {"n": int(v.size), "n_zero": int(v.size - nz.size), "q_hi": float(q_hi),
           "q_lo": float(q_lo), "max": float(v.max()), "ratio": None, "log10_ratio": None,
           "ratio_nonzero": None, "log10_ratio_nonzero": None}
    if q_lo > 0:
        out["ratio"] = float(q_hi / q_lo)
        out["log10_ratio"] = float(np.log10(q_hi) - np.log10(q_lo))
    if nz.size:
        h, l = np.quantile(nz, [hi, lo], method="linear")
        out["ratio_nonzero"] = float(h / l)
        out["log10_ratio_nonzero"] = float(np.log10(h) - np.log10(l))
    return out


def log10_histogram(samples: dict, bins: int = 100) -> dict:
    """Density histograms of log10(values) on shared edges spanning the union of the non-zero
    ranges of all samples (A-21: 100 bins in log10 |minor|).

    samples: {name: array of minors}. Returns {"edges": [bins + 1], name: {"density": [bins]
    (integrates to the non-zero fraction, so curves with zeros are not inflated), "n_zero"}}."""
    if bins < 1:
        raise ValueError("bins must be >= 1")
    logs = {}
    for name, vals in samples.items():
        v = _flat(vals)
        nz = v[v > 0]
        logs[name] = (np.log10(nz), v.size)
    finite = [l for l, _ in logs.values() if l.size]
    if not finite:
        raise ValueError("every sample is all zeros: nothing to histogram")
    lo = min(float(l.min()) for l in finite)
    hi = max(float(l.max()) for l in finite)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    out: dict = {"edges": edges}
    width = np.diff(edges)
    for name, (l, n) in logs.items():
        counts, _ = np.histogram(l, bins=edges)
        out[name] = {"density": counts / (n * width), "n_zero": int(n - l.size)}
    return out


def mef_fit(values, q: Sequence[float] | None = None,
            fit_range: tuple[float, float] = (0.90, 0.99)) -> dict:
    """Normalised mean excess function over quantile ranks and its linear fit (P1 Fig. 14).

    values: minors (flattened); q: quantile ranks (default quantile_grid(): 0.900..0.999).
    Returns {"q", "mef" (MEF(Q(q)), raw), "mef_norm" (mef / mef at q[0]), "slope",
    "intercept" (of the least-squares line through mef_norm over fit_range[0] <= q <
    fit_range[1], A-21: [0.90, 0.99), which also excises q > 0.99 at k = 2), "n_fit"}.
    slope > 0: heavier than exponential; < 0: lighter than exponential."""
    v = _flat(values)
    q = quantile_grid() if q is None else np.asarray(q, dtype=np.float64)
    lo, hi = fit_range
    if not lo < hi:
        raise ValueError(f"fit_range must be (lo, hi) with lo < hi, got {fit_range}")
    mef = mean_excess(v, q)
    if not np.isfinite(mef[0]) or mef[0] <= 0:
        raise ValueError(f"MEF at q = {q[0]} is {mef[0]}: too few distinct values above Q(q)")
    norm = mef / mef[0]
    sel = (q >= lo - 1e-12) & (q < hi - 1e-12) & np.isfinite(norm)
    if sel.sum() < 2:
        raise ValueError(f"fewer than 2 quantile ranks inside the fit range {fit_range}")
    slope, intercept = np.polyfit(q[sel], norm[sel], 1)
    return {"q": q, "mef": mef, "mef_norm": norm, "slope": float(slope),
            "intercept": float(intercept), "n_fit": int(sel.sum())}


def tail_shares(trained, initial, lo: float = 0.01, hi: float = 0.99) -> dict:
    """Peakedness near zero and heavy tails of a trained minor distribution, measured against
    its initial one (P1 §IV.B, Fig. 4; App. A, Fig. 13: training gives "simultaneous
    peakedness near zero and heavy tails (large outliers)").

    With Q_0 the initial distribution's quantile function, the share of trained minors
    *below* Q_0(lo) is ``lo`` and the share *above* Q_0(hi) is ``1 - hi`` when training changes
    nothing; both shares grow when training moves mass towards zero and into the far tail at
    once (a pure rescaling raises one and lowers the other). Default levels: P1's own, the
    0.01 and 0.99 quantiles of its App. A ratio. Exact zeros count as below (they are the
    extreme of "near zero"). numpy "linear" quantiles.

    Returns {"below", "above" (shares of trained minors), "below_excess" (below / lo),
    "above_excess" (above / (1 - hi)), "q_lo", "q_hi" (the initial quantiles), "lo", "hi"}."""
    t, i = _flat(trained), _flat(initial)
    if not 0 < lo < hi < 1:
        raise ValueError(f"need 0 < lo < hi < 1, got lo={lo}, hi={hi}")
    q_lo, q_hi = np.quantile(i, [lo, hi], method="linear")
    below = float(np.count_nonzero(t < q_lo) / t.size)
    above = float(np.count_nonzero(t > q_hi) / t.size)
    return {"below": below, "above": above, "below_excess": below / lo,
            "above_excess": above / (1 - hi), "q_lo": float(q_lo), "q_hi": float(q_hi),
            "lo": lo, "hi": hi}
