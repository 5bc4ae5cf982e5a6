"""Minors of trained and initial first layers pooled over model seeds (P1 Fig. 4, App. A).

:func:`pooled_minors` computes, for each run (one per seed, same target and width), the
size-k minor matrix J^(k)(x) (|det|, II.3) of the trained first layer and of the same seed's
initial first layer at the inputs x, flattens them and concatenates them over the runs; it
also returns each seed's tail shares of the trained minors against its own initial ones
(:func:`kag_utils.readings.tails.tail_shares`, in percent), which need the per-seed arrays.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from ..core.minors import minor_matrix
from ..readings.tails import tail_shares
from .evaluation import first_layer_jacobian
from .runs import Run

__all__ = ["PooledMinors", "pooled_minors", "seed_minors", "pool_minors"]


@dataclass(frozen=True)
class PooledMinors:
    """Size-k minors of several runs, pooled. ``initial`` and ``trained``: [S * N * C(m,k) *
    C(n,k)] for S runs and N inputs, runs in the order given; ``tail_shares``: one row per
    run (columns seed, below, above), the percentages of that run's trained minors below its
    initial model's 0.01 quantile and above its 0.99 quantile (1 % each without a change)."""
    k: int
    initial: np.ndarray
    trained: np.ndarray
    tail_shares: pd.DataFrame

    def log10_counts(self, bins: int = 100) -> pd.DataFrame:
        """Each model's histogram of log10 |minor| over its own range (A-21: ``bins`` bins;
        exact zeros have no log10 and are left out), long form for plotting: columns
        "log10 |minor|" (bin centres), "count", "model" ("initial", then "trained")."""
        frames = []
        for which in ("initial", "trained"):
            v = getattr(self, which)
            counts, edges = np.histogram(np.log10(v[v > 0]), bins=bins)
            frames.append(pd.DataFrame({"log10 |minor|": (edges[:-1] + edges[1:]) / 2,
                                        "count": counts, "model": which}))
        return pd.concat(frames)


def pooled_minors(runs: Sequence[Run], x: torch.Tensor, k: int) -> PooledMinors:
    """The size-k minors of each run's trained and initial first layer at the inputs
    x: [N, n], pooled over ``runs`` (typically one run per seed of one target and width), and
    each run's tail shares (see :class:`PooledMinors`)."""
    runs = list(runs)
    if not runs:
        raise ValueError("pooled_minors() needs at least one run")
    widths = {r.config.hidden for r in runs}
    if len(widths) != 1:
        raise ValueError(f"runs of one width only (their minors are pooled), got {sorted(widths)}")
    k = int(k)
    if not 1 <= k <= min(runs[0].config.hidden[0], x.shape[-1]):
        raise ValueError(f"k = {k} must lie in 1..min(m, n) = "
                         f"{min(runs[0].config.hidden[0], x.shape[-1])}")
    per_seed = seed_minors(runs, x, (k,))
    shares = []
    for run, trained, initial in zip(runs, per_seed[("trained", k)], per_seed[("initial", k)]):
        ts = tail_shares(trained, initial)
        shares.append({"seed": run.config.seed, "below": 100 * ts["below"],
                       "above": 100 * ts["above"]})
    pooled = pool_minors(per_seed)
    return PooledMinors(k=k, initial=pooled[("initial", k)], trained=pooled[("trained", k)],
                        tail_shares=pd.DataFrame(shares, columns=["seed", "below", "above"]))


def seed_minors(runs: Sequence[Run], x: torch.Tensor, ks: Sequence[int]) -> dict:
    """{(state, k): [one float64 array of size-k minors per run]} of the first layer's
    Jacobian at inputs x: [N, n]; state "trained" (run.params) or "initial"
    (run.init_params). Each array holds all entries of J^(k)(x) over inputs, rows and columns
    (IV.1): [N * C(m, k) * C(n, k)]."""
    minors: dict = {}
    for run in runs:
        for state, params in (("trained", run.params), ("initial", run.init_params)):
            J = first_layer_jacobian(params, x)                     # [N, m, n]
            for k in ks:
                minors.setdefault((state, k), []).append(minor_matrix(J, k).reshape(-1).numpy())
    return minors


def pool_minors(minors: Mapping) -> dict:
    """The per-run arrays of :func:`seed_minors` concatenated: {(state, k): array}."""
    return {key: np.concatenate(v) for key, v in minors.items()}
