"""Measured statistics behind P1's verbal figure claims (issue 12 item 6).

Each function turns a picture the paper describes in words into a number with a spread, so
that a rule of :mod:`kag_utils.readings` (exceeds / near / stable / monotone) can decide the
claim. The readings chosen here are stated in each docstring and in the notebooks.

* Fig. 1 (II.3): :func:`smallest_weight_row_rank` ("a small row of A^T gives a small Jacobian
  row") and :func:`row_effect_share` ("sharp horizontal bars, not vertically diffused").
* Figs. 2-3: :func:`zipf_inflection` ("the initial row means rise over roughly the first
  50 % of ranks before crossing over to a distinct high-rank behaviour") and
  :func:`smallest_positive_log10` ("size-3 row means approach machine precision").
* Fig. 4 ("peakedness near zero", "heavy tails"): :func:`kag_utils.tails.tail_shares`.
* Fig. 6: :func:`gap_to_max` (xor separates from linear and random).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import torch

from .verdicts import check_verdict

__all__ = ["smallest_weight_row_rank", "row_effect_share", "zipf_inflection",
           "smallest_positive_log10", "gap_to_max"]


def _np(v) -> np.ndarray:
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().to(torch.float64).numpy()
    return np.asarray(v, dtype=np.float64)


def _check_AJ(A, J) -> tuple[np.ndarray, np.ndarray]:
    A, J = _np(A), _np(J)
    if A.ndim != 2 or J.ndim != 3 or J.shape[1] != A.shape[1] or J.shape[2] != A.shape[0]:
        raise ValueError(f"need A: [n, m] (first-layer weights) and J: [B, m, n]; got "
                         f"{A.shape} and {J.shape}")
    return A, J


def smallest_weight_row_rank(A, J) -> np.ndarray:
    """Fig. 1, "a small row of A^T gives a small Jacobian row": for each input x, the
    normalised rank (0 = smallest, 1 = largest; ties averaged) of the Jacobian row
    mean_i |J_ji(x)| of the neuron j whose weight row is smallest (mean_i |A^T_ji|, App. B's
    row size) among the m Jacobian rows. By (II.3) J_ji = sigma'(z_j) A^T_ji, so a small
    weight row gives ranks near 0 at every x; unrelated rows give 0.5 on average.
    A: [n, m], J: [B, m, n] -> [B]."""
    A, J = _check_AJ(A, J)
    m = A.shape[1]
    if m < 2:
        raise ValueError("need m >= 2 rows to rank")
    j = int(np.argmin(np.abs(A).mean(0)))
    rows = np.abs(J).mean(-1)                                          # [B, m]
    below = (rows < rows[:, [j]]).sum(1) + 0.5 * ((rows == rows[:, [j]]).sum(1) - 1)
    return below / (m - 1)


def row_effect_share(J, floor: float = 1e-300) -> np.ndarray:
    """Fig. 1, "sharp horizontal bars that are not vertically diffused": for each input x the
    share of the variance of log10 |J_ji(x)| over the m x n entries that the row index j
    explains (between-row variance / total variance; one-way ANOVA R^2). 1 = every row is
    one constant bar; a rank-one J = r c^T has share var(log r) / (var(log r) + var(log c)).
    Entries below ``floor`` are clipped to it. J: [B, m, n] (n >= 2) -> [B] (nan where all
    entries are equal)."""
    J = _np(J)
    if J.ndim != 3 or J.shape[2] < 2:
        raise ValueError(f"J must be [B, m, n] with n >= 2 columns, got {J.shape}")
    L = np.log10(np.maximum(np.abs(J), floor))                         # [B, m, n]
    mu = L.mean(axis=(1, 2), keepdims=True)
    total = ((L - mu) ** 2).mean(axis=(1, 2))                          # [B]
    between = ((L.mean(2, keepdims=True) - mu) ** 2).mean(axis=(1, 2))  # [B]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, between / np.where(total > 0, total, 1.0), np.nan)


def zipf_inflection(values, lo: float = 0.1, hi: float = 0.9, window: float = 0.1,
                    step: float = 0.01, max_points: int = 20001) -> float:
    """Figs. 2-3, "the initial row means have a fairly consistent rise over roughly the first
    50 % of ranks, before crossing over to a distinct high-rank behaviour": the normalised
    rank of the Zipf curve's inflection point, where the rise of log10(value) against
    normalised rank is slowest. Reading: sort the values (ascending), take the least-squares
    slope of log10(value) against rank over a sliding window of width ``window`` centred on
    a grid from ``lo`` to ``hi`` (step ``step``), and return the centre with the smallest
    slope. The steep lowest and highest ranks (outside [lo, hi]) are left out: they are the
    tails, not the crossover. Non-positive values are dropped; curves longer than
    ``max_points`` are thinned to that many evenly spaced ranks. values: any shape -> float."""
    v = _np(values).ravel()
    v = np.sort(v[v > 0])
    if v.size < 20:
        raise ValueError("need at least 20 positive values for a Zipf curve")
    if not 0 <= lo < hi <= 1 or not 0 < window <= hi - lo or step <= 0:
        raise ValueError("need 0 <= lo < hi <= 1 and 0 < window <= hi - lo, step > 0")
    if v.size > max_points:                   # the sorted curve is smooth: thin it evenly
        v = v[np.linspace(0, v.size - 1, max_points).round().astype(np.int64)]
    r = np.arange(v.size) / (v.size - 1)
    y = np.log10(v)
    centres = np.arange(lo + window / 2, hi - window / 2 + 1e-12, step)
    slopes = []
    for c in centres:
        sel = (r >= c - window / 2) & (r <= c + window / 2)
        slopes.append(np.polyfit(r[sel], y[sel], 1)[0])
    return float(centres[int(np.argmin(slopes))])


def smallest_positive_log10(values) -> tuple[float, int]:
    """Figs. 2-3, "size-3 row means can approach machine precision": (log10 of the smallest
    positive value, number of exact zeros). values: any shape."""
    v = _np(values).ravel()
    pos = v[v > 0]
    if pos.size == 0:
        raise ValueError("no positive values")
    return float(np.log10(pos.min())), int((v == 0).sum())


def gap_to_max(mean: float, se: float, others: Sequence[float],
               others_se: Sequence[float]) -> tuple[float, float]:
    """Fig. 6, "xor separates from linear and random": (gap, se) with gap = mean - max(others)
    and se = sqrt(se^2 + se_max^2), se_max the SE of the largest of the others."""
    others, others_se = _np(others).ravel(), _np(others_se).ravel()
    if others.size == 0 or others.size != others_se.size:
        raise ValueError("others and others_se must be non-empty and of equal length")
    i = int(np.argmax(others))
    return float(mean - others[i]), float(np.hypot(se, others_se[i]))


