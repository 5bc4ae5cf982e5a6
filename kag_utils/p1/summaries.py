"""Tables and statistics computed from trained runs for notebooks 01 and 02 (P1 §II-IV.A).

Each function takes :class:`~kag_utils.p1.runs.Run` objects (from ``ensure_runs``) and the
evaluation inputs explicitly and returns a DataFrame or a dict; the notebooks record and plot
what they return. Pure readings of the evaluation tables (no runs needed) live in
:mod:`kag_utils.readings.setup_tables` and :mod:`kag_utils.readings.zero_rows`.

* Notebook 01: :func:`run_table` (Table I's per-seed rows), :func:`critical_batch_table`
  (III.4), :func:`fig1_panels` (the matrices Fig. 1 shows) and :func:`fig1_claims` (its two
  verbal claims as measured statements).
* Notebook 02: :func:`initial_inflections` and :func:`smallest_row_means` (Figs. 2-3),
  :func:`dead_row_table` (consistently zero rows vs negative biases).
"""
from __future__ import annotations

from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from ..core.metrics import row_means
from ..readings import figure_stats as fstats
from ..readings import paper_values as paper
from ..readings import rules
from .dead_neurons import bias_silenced, dead_neuron_analysis
from .evaluation import first_layer_jacobian
from .models import first_layer
from .runs import Run
from .training import critical_batch_size

__all__ = ["run_table", "critical_batch_table", "fig1_panels", "fig1_claims",
           "initial_inflections", "smallest_row_means", "dead_row_table"]


def _runs(runs: Iterable[Run]) -> list[Run]:
    runs = list(runs)
    if not runs:
        raise ValueError("need at least one run")
    return runs


# ------------------------------------------------------------------------------ notebook 01
def run_table(runs: Iterable[Run]) -> pd.DataFrame:
    """One row per run: target, m (first hidden width), seed, train_r2, test_r2, epochs (the
    epoch training stopped at) and best_epoch, in the order of ``runs``."""
    return pd.DataFrame([{"target": r.config.target, "m": r.config.hidden[0],
                          "seed": r.config.seed, "train_r2": r.r2_train, "test_r2": r.r2_test,
                          "epochs": r.stop_epoch, "best_epoch": r.best_epoch}
                         for r in _runs(runs)])


def critical_batch_table(runs: Iterable[Run], widths: Sequence[int], seeds: Sequence[int],
                         reference_r2: Mapping[int, float], criterion: float = 0.9,
                         batch_small: int = 64, batch_full: int = 1000) -> pd.DataFrame:
    """The critical batch size B_c = E_min / S_min (III.4) of each width.

    ``runs``: xor(m) runs of every width in ``widths`` and seed in ``seeds`` at both batch
    sizes. The criterion (A-07) is a training R^2 of at least ``criterion`` x
    ``reference_r2[m]`` (our Table I xor(m) mean); a width missing there falls back to P1's
    Table I mean. Steps to it come from :meth:`Run.steps_to` (epoch resolution). Returns one
    row per width: m, criterion_r2 and the keys of
    :func:`kag_utils.p1.training.critical_batch_size` (E_min, S_min, B_c; None when the runs
    never reach the criterion)."""
    by_key = {(r.config.hidden[0], r.config.seed, r.config.batch_size): r for r in _runs(runs)}
    missing = [(m, s, b) for m in widths for s in seeds for b in (batch_small, batch_full)
               if (m, s, b) not in by_key]
    if missing:
        raise ValueError(f"no run for (m, seed, batch size) {missing}: pass the runs of every "
                         "width and seed at both batch sizes")
    rows = []
    for m in widths:
        threshold = criterion * float(reference_r2.get(m, paper.TABLE_I["xor"][m][0]))
        small = [by_key[m, s, batch_small].steps_to(threshold) for s in seeds]
        full = [by_key[m, s, batch_full].steps_to(threshold) for s in seeds]
        res = critical_batch_size(small, full, batch_small=batch_small)
        rows.append({"m": m, "criterion_r2": threshold, **res})
    return pd.DataFrame(rows)


def fig1_panels(run: Run, x: torch.Tensor) -> dict[str, dict[str, np.ndarray]]:
    """The matrices of P1 Fig. 1 for the initial and the trained model of ``run``:
    {"initial" | "trained": {"A^T": [m, n] first-layer weights transposed, "B": [m, 1]
    output weights, "J": [m, n] the Jacobian at the single input x: [1, n]}}."""
    if x.ndim != 2 or x.shape[0] != 1:
        raise ValueError(f"x must be one input of shape [1, n], got {tuple(x.shape)}")
    panels = {}
    for tag, params in (("initial", run.init_params), ("trained", run.params)):
        A, _ = first_layer(params)
        panels[tag] = {"A^T": A.T.numpy(), "B": params[-1]["W"].numpy(),
                       "J": first_layer_jacobian(params, x)[0].numpy()}
    return panels


def fig1_claims(run: Run, x: torch.Tensor) -> dict:
    """Fig. 1's two verbal claims, measured over the inputs x: [N, n] of one model.

    * "a small row of A^T gives a small Jacobian row": the normalised rank of the smallest
      weight row among the Jacobian rows (:func:`figure_stats.smallest_weight_row_rank`),
      mean over inputs, :func:`readings.exceeds` against 0.5 with direction -1 (SE over
      inputs);
    * "sharp horizontal bars": the row-explained share of the variance of log10 |J|
      (:func:`figure_stats.row_effect_share`), trained against initial, mean ± SE over the
      inputs where it is defined, :func:`readings.exceeds`.

    Returns {"rank": mean rank, "rank_reading": exceeds() result, "row_effect_share":
    {"trained" | "initial": (mean, se)}, "bars_reading": exceeds() result}."""
    J_tr = first_layer_jacobian(run.params, x)                           # [N, m, n]
    J_in = first_layer_jacobian(run.init_params, x)
    rank_small = fstats.smallest_weight_row_rank(first_layer(run.params)[0], J_tr)   # [N]
    res_rank = rules.exceeds(rank_small.mean(), rank_small.std(ddof=1) / np.sqrt(rank_small.size),
                             0.5, direction=-1)
    bars = {tag: fstats.row_effect_share(J) for tag, J in (("trained", J_tr), ("initial", J_in))}
    bar_stat = {tag: (float(np.nanmean(v)),
                      float(np.nanstd(v, ddof=1) / np.sqrt(np.isfinite(v).sum())))
                for tag, v in bars.items()}
    res_bars = rules.exceeds(*bar_stat["trained"], *bar_stat["initial"])
    return {"rank": float(rank_small.mean()), "rank_reading": res_rank,
            "row_effect_share": bar_stat, "bars_reading": res_bars}


# ------------------------------------------------------------------------------ notebook 02
def initial_inflections(runs: Iterable[Run], x: torch.Tensor,
                        ks: Sequence[int] = (1, 2, 3)) -> pd.DataFrame:
    """Figs. 2-3, "the initial row means rise over roughly the first 50 % of ranks": the
    Zipf inflection rank (:func:`figure_stats.zipf_inflection`) of the size-k row means
    (IV.2) of each run's *initial* model at the inputs x: [N, n]. One row per (run, k):
    seed, k, inflection."""
    rows = []
    for run in _runs(runs):
        J_in = first_layer_jacobian(run.init_params, x)                 # [N, m, n]
        for k in ks:
            rows.append({"seed": run.config.seed, "k": k,
                         "inflection": fstats.zipf_inflection(row_means(J_in, k))})
    return pd.DataFrame(rows)


def smallest_row_means(runs: Iterable[Run], x: torch.Tensor, k: int = 3) -> pd.DataFrame:
    """Figs. 2-3, "size-k row means approach machine precision": per trained run, log10 of
    its smallest positive size-k row mean at the inputs x: [N, n] and its number of exact
    zeros (:func:`figure_stats.smallest_positive_log10`). Columns seed, log10_min,
    exact_zeros."""
    rows = []
    for run in _runs(runs):
        J_tr = first_layer_jacobian(run.params, x)                      # [N, m, n]
        lg, n0 = fstats.smallest_positive_log10(row_means(J_tr, k))
        rows.append({"seed": run.config.seed, "log10_min": lg, "exact_zeros": n0})
    return pd.DataFrame(rows)


def dead_row_table(runs: Iterable[Run], x: torch.Tensor, q1: float = 0.01) -> pd.DataFrame:
    """Consistently zero size-1 rows of each trained run at the inputs x: [N, n]
    (:func:`kag_utils.p1.dead_neurons.dead_neuron_analysis`, thresholds from the same seed's
    initial model at quantile ``q1``) and how many of them a negative bias silences
    (:func:`~kag_utils.p1.dead_neurons.bias_silenced`). Columns model ("target(m)"), seed,
    consistently_zero, bias_silenced, coincide_smallest_weight_rows."""
    rows = []
    for run in _runs(runs):
        res = dead_neuron_analysis(run.params, run.init_params, x, q1=q1)
        rows.append({"model": f"{run.config.target}({run.config.hidden[0]})",
                     "seed": run.config.seed, "consistently_zero": res["n_consistent"],
                     "bias_silenced": bias_silenced(res),
                     "coincide_smallest_weight_rows": res["coincide_smallest"]})
    return pd.DataFrame(rows)
