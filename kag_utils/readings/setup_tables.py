"""Readings of notebook 01's tables (P1 §II-III): Table I beside the paper, the train/test gap,
the largest critical batch size and the Fig. 1 Jacobian summary. Pure functions on the
DataFrames and arrays that :mod:`kag_utils.p1.summaries` returns.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from . import paper_values as paper
from .aggregate import pm

__all__ = ["table1_display", "train_test_gap", "critical_batch_max", "fig1_jacobian_summary"]


def table1_display(t1: pd.DataFrame, paper_table: Mapping = paper.TABLE_I) -> pd.DataFrame:
    """Table I as shown: target, m, train ("mean ± std" training R^2), paper (P1's value, "–"
    where P1 gives none), test (test R^2) and epochs (mean epoch training stopped at). ``t1``:
    :func:`kag_utils.readings.aggregate.summarize` of the run table over (target, m) with
    values train_r2, test_r2, epochs."""
    show = t1.assign(
        train=[pm(a, b) for a, b in zip(t1.train_r2_mean, t1.train_r2_std)],
        test=[pm(a, b) for a, b in zip(t1.test_r2_mean, t1.test_r2_std)],
        paper=[pm(*paper_table[t][m]) if m in paper_table.get(t, {}) else "–"
               for t, m in zip(t1.target, t1.m)],
        epochs=[f"{a:.0f}" for a in t1.epochs_mean])
    return show[["target", "m", "train", "paper", "test", "epochs"]]


def train_test_gap(table: pd.DataFrame, learnable=("xor", "linear")) -> dict:
    """P1 §III, test R^2 "indistinguishable" from training R^2, and App. B, random(m)'s test
    R^2 "<~ 0", from the run table (columns target, train_r2, test_r2). Returns {"by_target":
    mean and max of train_r2 - test_r2 per target, "learnable_max": the largest gap of the
    ``learnable`` targets present (NaN if none), "random_test_max": the largest test R^2 of
    random(m) (None without random runs)}."""
    gap = (table.assign(gap=table.train_r2 - table.test_r2)
           .groupby("target").gap.agg(["mean", "max"]))
    learnable_gap = float(gap.loc[[t for t in learnable if t in gap.index], "max"].max())
    has_random = bool((table.target == "random").any())
    random_test = float(table[table.target == "random"].test_r2.max()) if has_random else None
    return {"by_target": gap, "learnable_max": learnable_gap, "random_test_max": random_test}


def critical_batch_max(cb: pd.DataFrame) -> float | None:
    """The largest critical batch size B_c over the widths where it is defined (P1 §III
    reports the largest), None when no width reaches the criterion."""
    valid = cb.dropna(subset=["B_c"])
    return float(valid.B_c.max()) if len(valid) else None


def fig1_jacobian_summary(J_trained: np.ndarray, J_initial: np.ndarray) -> dict:
    """Fig. 1's Jacobian at one input, J: [m, n]: "jacobian_scale_ratio" (mean |J| trained
    over initial: "brighter" after training) and "smallest_jacobian_row" (1-based index of
    the trained row with the smallest mean |J_ji|)."""
    J_trained, J_initial = np.asarray(J_trained), np.asarray(J_initial)
    if J_trained.ndim != 2 or J_trained.shape != J_initial.shape:
        raise ValueError(f"need two Jacobians of one shape [m, n], got {J_trained.shape} and "
                         f"{J_initial.shape}")
    row_norm = np.abs(J_trained).mean(1)                                # [m]
    return {"jacobian_scale_ratio": float(np.abs(J_trained).mean() / np.abs(J_initial).mean()),
            "smallest_jacobian_row": int(row_norm.argmin()) + 1}
