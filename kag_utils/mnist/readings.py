"""Notebook 06's numbers, read from the tables of :mod:`kag_utils.mnist.evaluation` (pure pandas,
no I/O, no training): seed summaries per cell, the cell-by-cell checks behind P2's Fig. 1-3
claims, ball sizes, GELU-slope and timeline summaries, and the lr x weight-decay ablation.

A *cell* is one (training, layer, k, h) combination (plus the spatial key: radius, d or
region) after averaging over seeds; its ``<metric>_mean``, ``_std``, ``_se``, ``_n`` come from
:func:`kag_utils.readings.aggregate.summarize` (std over seeds, ddof = 1). Inputs:

* ``ev``: :func:`~kag_utils.mnist.evaluation.evaluate_mnist` (one row per run, layer, k);
* ``sp``: :func:`~kag_utils.mnist.evaluation.spatial_mnist` (one row per run, layer, k,
  selection, image);
* ``tl``: :func:`~kag_utils.mnist.evaluation.timeline_mnist`;
* ``runs``: :func:`~kag_utils.mnist.models.ensure_mnist_runs`.

The comparison rows built from these numbers are in :mod:`kag_utils.mnist.comparison`.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..pipeline.results import defined
from ..readings import rules
from ..readings.aggregate import pm, summarize
from ..readings.claims import all_of
from .evaluation import run_columns
from .models import MNISTRunConfig
from .spatial import ball_mask, lattice_disc_size, max_ball_size, mean_ball_size

TRAININGS = ("standard", "augmented")
CELL = ["training", "layer", "k", "hidden"]        # a Fig. 1 cell (after the seed mean)
# The ablation's settings: columns that tell its runs apart beyond the main grid's.
SETTING = ["lr", "weight_decay"]


# ----------------------------------------------------------------------------- helpers
def per_training(mask: pd.Series) -> str:
    """'standard a/b, augmented c/d' for a boolean Series with a 'training' index level: how
    many cells hold, per training procedure."""
    g = mask.groupby(level="training")
    return ", ".join(f"{t} {int(g.get_group(t).sum())}/{len(g.get_group(t))}"
                     for t in TRAININGS if t in g.groups)


def _check_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing} (has {list(frame.columns)}); pass the "
                         "table that kag_utils.mnist.evaluation returns")


# ----------------------------------------------------------------------------- accuracy
def run_table(runs: Sequence[Any]) -> pd.DataFrame:
    """One row per trained network: its :func:`~kag_utils.mnist.evaluation.run_columns`,
    test_acc, test_acc_initial and train_acc (the last epoch's running training accuracy)."""
    return pd.DataFrame([{**run_columns(r.config), "test_acc": r.test_acc,
                          "test_acc_initial": r.test_acc_initial,
                          "train_acc": float(r.curve["train_acc"][-1])} for r in runs])


def accuracy_curves(runs: Sequence[Any]) -> pd.DataFrame:
    """Test accuracy after every epoch, one row per (run, epoch); epochs count from 1."""
    return pd.DataFrame([{**run_columns(r.config), "epoch": e + 1, "test_acc": float(v)}
                         for r in runs for e, v in enumerate(r.curve["test_acc"])])


def accuracy_summary(acc: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, se, n over seeds of test_acc, train_acc, test_acc_initial per (training, h)."""
    return summarize(acc, ["training", "hidden"], ["test_acc", "train_acc", "test_acc_initial"])


def accuracy_display(acc_sum: pd.DataFrame, paper_accuracy: dict[str, float]) -> pd.DataFrame:
    """The accuracy table in percent ('mean ± std'), next to P2's value per training."""
    s = acc_sum
    table = s.assign(
        test=[pm(100 * a, 100 * b, 2) for a, b in zip(s.test_acc_mean, s.test_acc_std)],
        train=[pm(100 * a, 100 * b, 2) for a, b in zip(s.train_acc_mean, s.train_acc_std)],
        initial=[f"{100 * a:.1f}" for a in s.test_acc_initial_mean],
        paper=[f"{100 * paper_accuracy[t]:.0f}" for t in s.training])
    return table[["training", "hidden", "test", "train", "initial", "paper"]].rename(
        columns={"test": "test acc. (%)", "train": "train acc. (%, last epoch)",
                 "initial": "initial (%)", "paper": "P2 (%)"})


def accuracy_numbers(acc_sum: pd.DataFrame) -> dict[str, dict]:
    """``{"accuracy.<training>.h<h>": {test_mean, test_std, train_mean}}`` for the results."""
    return {f"accuracy.{r.training}.h{r.hidden}": defined({
        "test_mean": r.test_acc_mean, "test_std": r.test_acc_std, "train_mean": r.train_acc_mean})
        for r in acc_sum.itertuples()}


def pooled_accuracy(acc: pd.DataFrame, training: str) -> tuple[float, float | None]:
    """Mean and std (ddof 1; None for one run) of the test accuracy of one training procedure
    over every width and seed."""
    sub = acc[acc.training == training].test_acc
    if not len(sub):
        raise ValueError(f"no {training!r} runs in the accuracy table")
    return float(sub.mean()), float(sub.std(ddof=1)) if len(sub) > 1 else None


# ----------------------------------------------------------------------------- Fig. 1
def fig1_metrics(with_rr: bool) -> list[str]:
    """The Fig. 1 columns that are summarised over seeds (RR only when it was computed)."""
    return (["pr_ratio", "kl"] + (["rr_ratio", "rr_trained", "rr_init"] if with_rr else [])
            + ["ipr_ratio", "pr_trained", "pr_init"])


def fig1_summary(ev: pd.DataFrame, with_rr: bool, by: Sequence[str] = ()) -> pd.DataFrame:
    """Seed summaries of the Fig. 1 metrics per cell (training, layer, k, h), grouped first by
    ``by`` (e.g. the ablation's lr and weight_decay)."""
    return summarize(ev, list(by) + CELL, fig1_metrics(with_rr))


def fig1_samples(ev: pd.DataFrame, with_rr: bool) -> pd.DataFrame:
    """Sampled row and column k-tuples per (h, k), and whether they were all of them."""
    cols = ["hidden", "k", "n_rows", "rows_total", "n_cols", "cols_total", "rows_exhaustive",
            "cols_exhaustive"] + (["rr_rows", "rr_cols"] if with_rr else [])
    return (ev.drop_duplicates(["hidden", "k"])[cols].sort_values(["hidden", "k"])
            .reset_index(drop=True))


FIG1_LABELS = {"pr_ratio": "PR ratio (init / trained)", "kl": "KL(trained || init)",
               "rr_ratio": "RR ratio (trained / init)"}


def fig1_long(ev: pd.DataFrame, with_rr: bool) -> pd.DataFrame:
    """Long format for the Fig. 1 grid: one row per (run, layer, k, metric) with the metric's
    label (:data:`FIG1_LABELS`) and value."""
    long = ev.melt(id_vars=["training", "layer", "k", "hidden", "seed"],
                   value_vars=["pr_ratio", "kl"] + (["rr_ratio"] if with_rr else []),
                   var_name="metric", value_name="value")
    return long.assign(metric=long.metric.map(FIG1_LABELS))


def rr_long(ev: pd.DataFrame) -> pd.DataFrame:
    """Long format of the rotation ratios: one row per (run, layer, k, state) with state
    'trained' or 'init' and its RR."""
    long = ev.melt(id_vars=["training", "layer", "k", "hidden", "seed"],
                   value_vars=["rr_trained", "rr_init"], var_name="state", value_name="RR")
    return long.assign(state=long.state.str.replace("rr_", ""))


def fig1_numbers(f1: pd.DataFrame, with_rr: bool) -> dict[str, dict]:
    """``{"fig1.<training>.<layer>.k<k>.h<h>": {...}}``: seed means (and the PR ratio's std)."""
    out = {}
    for r in f1.itertuples():
        out[f"fig1.{r.training}.{r.layer}.k{r.k}.h{r.hidden}"] = defined({
            "pr_ratio_mean": r.pr_ratio_mean, "pr_ratio_std": r.pr_ratio_std,
            "kl_mean": r.kl_mean, "ipr_ratio_mean": r.ipr_ratio_mean,
            "pr_trained_mean": r.pr_trained_mean, "pr_init_mean": r.pr_init_mean,
            **({"rr_ratio_mean": r.rr_ratio_mean, "rr_trained_mean": r.rr_trained_mean,
                "rr_init_mean": r.rr_init_mean} if with_rr else {})})
    return out


def fig1_display(f1: pd.DataFrame, with_rr: bool) -> pd.DataFrame:
    """The Fig. 1 table as 'mean ± std' strings."""
    show = f1.assign(**{
        "PR ratio": [pm(a, b, 3) for a, b in zip(f1.pr_ratio_mean, f1.pr_ratio_std)],
        "KL": [pm(a, b, 3) for a, b in zip(f1.kl_mean, f1.kl_std)],
        "IPR ratio": [pm(a, b, 2) for a, b in zip(f1.ipr_ratio_mean, f1.ipr_ratio_std)]})
    if with_rr:
        show["RR ratio"] = [pm(a, b, 3) for a, b in zip(f1.rr_ratio_mean, f1.rr_ratio_std)]
    return show[["training", "layer", "k", "hidden", "PR ratio", "KL"]
                + (["RR ratio"] if with_rr else []) + ["IPR ratio"]]


def cells(f1: pd.DataFrame) -> pd.DataFrame:
    """The Fig. 1 summary indexed by cell (training, layer, k, hidden)."""
    _check_columns(f1, CELL, "the Fig. 1 summary")
    return f1.set_index(CELL)


def fig1_checks(c: pd.DataFrame, with_rr: bool) -> dict[str, Any]:
    """Counts over the cells: PR (and IPR, RR) ratio above 1, the KL range."""
    return {"cells": len(c), "pr_ratio_above_1": int((c.pr_ratio_mean > 1).sum()),
            "ipr_ratio_above_1": int((c.ipr_ratio_mean > 1).sum()),
            "kl_min": float(c.kl_mean.min()), "kl_max": float(c.kl_mean.max()),
            **({"rr_ratio_above_1": int((c.rr_ratio_mean > 1).sum())} if with_rr else {})}


def layer_order(c: pd.DataFrame, metric: str = "pr_ratio") -> pd.Series | None:
    """Per (training, k, h): the cell mean of ``metric`` is larger for L1 than for L2 (None
    when one of the layers was not evaluated)."""
    l12 = c[f"{metric}_mean"].unstack("layer")
    if not {"L1", "L2"} <= set(l12.columns):
        return None
    return l12.L1 > l12.L2


def increasing(c: pd.DataFrame, level: str, metric: str = "pr_ratio") -> pd.Series | None:
    """Per cell of the other levels: the means of ``metric`` rise strictly along ``level``
    ('k' or 'hidden', in increasing order); None when the level has a single value."""
    wide = c[f"{metric}_mean"].unstack(level)
    if wide.shape[1] < 2:
        return None
    return pd.Series(np.all(np.diff(wide.to_numpy(), axis=1) > 0, axis=1), index=wide.index)


def trend_verdicts(c: pd.DataFrame, level: str, metric: str) -> pd.Series | None:
    """Per cell of the other levels, the verdict of :func:`kag_utils.readings.monotone`
    ("increases with ``level``", on the seed standard errors). A cell with an undefined
    standard error (one seed) is 'inconclusive'. None when the level has a single value."""
    mean = c[f"{metric}_mean"].unstack(level)
    se = c[f"{metric}_se"].unstack(level)
    if mean.shape[1] < 2:
        return None
    x = [float(v) for v in mean.columns]
    out = []
    for m, s in zip(mean.to_numpy(float), se.to_numpy(float)):
        finite = bool(np.all(np.isfinite(m)) and np.all(np.isfinite(s)))
        out.append(rules.monotone(x, m, s)["verdict"] if finite else "inconclusive")
    return pd.Series(out, index=mean.index, name="verdict")


def layer_verdicts(c: pd.DataFrame, metric: str) -> pd.Series | None:
    """Per (training, k, h), the verdict of :func:`kag_utils.readings.exceeds` for "L1 above
    L2" on the seed standard errors (scale: the L2 value). One seed: 'inconclusive'."""
    mean = c[f"{metric}_mean"].unstack("layer")
    se = c[f"{metric}_se"].unstack("layer")
    if not {"L1", "L2"} <= set(mean.columns):
        return None
    out = []
    for vals in zip(mean.L1, se.L1, mean.L2, se.L2):
        vals = [float(v) for v in vals]
        finite = all(math.isfinite(v) for v in vals) and vals[2] != 0
        out.append(rules.exceeds(*vals)["verdict"] if finite else "inconclusive")
    return pd.Series(out, index=mean.index, name="verdict")


def aug_reduction_cells(c: pd.DataFrame) -> pd.Series | None:
    """Per (layer, k, h): 1 - PR ratio(augmented) / PR ratio(standard) of the cell means
    (M-19); None without both trainings."""
    aug = c.pr_ratio_mean.unstack("training")
    if not set(TRAININGS) <= set(aug.columns):
        return None
    return 1 - aug.augmented / aug.standard


def seed_cv(c: pd.DataFrame) -> tuple[float, float]:
    """Mean over cells of the seed coefficient of variation (std / mean) of the RR ratio and
    of the PR ratio (P2: RR has 'higher baseline variance')."""
    return (float((c.rr_ratio_std / c.rr_ratio_mean).mean()),
            float((c.pr_ratio_std / c.pr_ratio_mean).mean()))


def pr_ratio_range(c: pd.DataFrame) -> pd.DataFrame:
    """Min, mean, max of the cell means of the PR ratio per (training, layer)."""
    return c.pr_ratio_mean.groupby(level=["training", "layer"]).agg(["min", "mean", "max"])


# ----------------------------------------------------------------------------- GELU slopes
ACTIVITY = ["off_trained", "off_init", "on_trained", "on_init", "z_mean_trained"]


def activity_summary(ev: pd.DataFrame) -> pd.DataFrame:
    """Seed summaries of the GELU-slope shares ('off': |sigma'| < 0.05, 'on': sigma' > 0.95)
    per (training, layer, h); one row of ``ev`` per network and layer (k does not matter)."""
    act = ev.drop_duplicates(["training", "hidden", "seed", "layer"])
    return summarize(act, ["training", "layer", "hidden"], ACTIVITY)


def activity_long(ev: pd.DataFrame) -> pd.DataFrame:
    """Long format of the GELU-slope shares: one row per (model, h, seed, layer, slope) with
    model 'initial', 'standard (trained)' or 'augmented (trained)' and slope 'off' or 'on'
    (the standard and augmented networks of one seed share their initial network)."""
    act = ev.drop_duplicates(["training", "hidden", "seed", "layer"])
    both = pd.concat([act.assign(off=act[f"off_{state}"], on=act[f"on_{state}"],
                                 model="initial" if state == "init"
                                 else act.training + " (trained)")
                      for state in ("trained", "init")])
    both = both.drop_duplicates(["model", "hidden", "seed", "layer"])
    return both.melt(id_vars=["model", "hidden", "seed", "layer"], value_vars=["off", "on"],
                     var_name="slope", value_name="share")


def activity_numbers(act_sum: pd.DataFrame) -> dict[str, dict]:
    """``{"activity.<training>.<layer>.h<h>": {...}}`` (seed means)."""
    return {f"activity.{r.training}.{r.layer}.h{r.hidden}": defined({
        "off_trained": r.off_trained_mean, "off_init": r.off_init_mean,
        "on_trained": r.on_trained_mean, "on_init": r.on_init_mean,
        "z_mean_trained": r.z_mean_trained_mean}) for r in act_sum.itertuples()}


def activity_display(act_sum: pd.DataFrame) -> pd.DataFrame:
    """:func:`activity_summary` for display: the seed means of the 'off' and 'on' shares
    (initial, trained) and of the trained pre-activation mean, rounded to 0.001."""
    return act_sum[["training", "layer", "hidden", "off_init_mean", "off_trained_mean",
                    "on_init_mean", "on_trained_mean", "z_mean_trained_mean"]].round(3)


def activity_by_training(f1: pd.DataFrame, act_sum: pd.DataFrame) -> pd.DataFrame:
    """Per (training, layer): the mean PR ratio over k and h, and the change of the 'off'
    share (trained - initial, in percentage points) averaged over h."""
    pr = f1.groupby(["training", "layer"]).pr_ratio_mean.mean()
    d_off = act_sum.assign(d_off=act_sum.off_trained_mean - act_sum.off_init_mean).groupby(
        ["training", "layer"]).d_off.mean()
    return pd.DataFrame({"mean PR ratio": pr, "'off' share change (points)": 100 * d_off})


def off_share_correlation(f1: pd.DataFrame, act_sum: pd.DataFrame) -> float:
    """Pearson correlation over the Fig. 1 cells between the change of the 'off' share
    (trained - initial, of the cell's training, layer and h) and the PR ratio; NaN with fewer
    than 3 cells."""
    merged = f1.merge(act_sum, on=["training", "layer", "hidden"])
    d_off = (merged.off_trained_mean - merged.off_init_mean).to_numpy()
    if len(merged) <= 2:
        return float("nan")
    return float(np.corrcoef(d_off, merged.pr_ratio_mean.to_numpy())[0, 1])


# ----------------------------------------------------------------------------- timeline
def timeline_summary(tl: pd.DataFrame) -> pd.DataFrame:
    """Seed means of the PR ratio, KL and 'off' share per (training, layer, k, epoch)."""
    return tl.groupby(["training", "layer", "k", "epoch"], as_index=False)[
        ["pr_ratio", "kl", "off"]].mean()


def timeline_long(tl: pd.DataFrame, k_off: int) -> pd.DataFrame:
    """Long format of the timeline: the PR ratio (every k) and the trained network's 'off'
    share (from the rows of minor order ``k_off``; it does not depend on k), as
    quantity/value."""
    return pd.concat([tl.assign(quantity="PR ratio", value=tl.pr_ratio),
                      tl[tl.k == k_off].assign(quantity="'off' share (trained)",
                                               value=lambda d: d.off)])


def timeline_numbers(tl_sum: pd.DataFrame) -> dict[str, dict]:
    """``{"timeline.<training>.<layer>.k<k>.e<epoch>": {pr_ratio, kl, off}}``."""
    return {f"timeline.{r.training}.{r.layer}.k{r.k}.e{r.epoch}":
            {"pr_ratio": r.pr_ratio, "kl": r.kl, "off": r.off} for r in tl_sum.itertuples()}


def timeline_display(tl_sum: pd.DataFrame) -> pd.DataFrame:
    """The timeline's seed-mean PR ratio, (layer, k, training) x epoch, rounded to 0.001."""
    return tl_sum.pivot_table(index=["layer", "k", "training"], columns="epoch",
                              values="pr_ratio").round(3)


def timeline_trend(tl_sum: pd.DataFrame, epochs: int, training: str = "standard",
                   tolerance: float = 0.02) -> dict | None:
    """How the mean PR ratio (over layers and k) of ``training`` moves after the main runs'
    length: {"epoch_main" (the checkpoint nearest ``epochs``), "at_main", "epoch_end",
    "at_end", "trend" ('rises', 'falls' or 'stays': a change beyond ``tolerance``)}; None
    without a timeline of that training."""
    sub = tl_sum[tl_sum.training == training]
    if not len(sub):
        return None
    e_main = int(sub.epoch.iloc[(sub.epoch - epochs).abs().argmin()])
    at_main = float(sub[sub.epoch == e_main].pr_ratio.mean())
    e_end = int(sub.epoch.max())
    at_end = float(sub[sub.epoch == e_end].pr_ratio.mean())
    trend = ("rises" if at_end > at_main + tolerance else "falls"
             if at_end < at_main - tolerance else "stays")
    return {"epoch_main": e_main, "at_main": at_main, "epoch_end": e_end, "at_end": at_end,
            "trend": trend}


def timeline_trend_numbers(trend: dict | None) -> dict[str, dict]:
    """``{"timeline_standard": {pr_ratio_at_main_epochs, pr_ratio_at_end}}`` from
    :func:`timeline_trend` (empty without a timeline)."""
    if trend is None:
        return {}
    return {"timeline_standard": {"pr_ratio_at_main_epochs": trend["at_main"],
                                  "pr_ratio_at_end": trend["at_end"]}}


# ----------------------------------------------------------------------------- spatial
def spatial_frame(sp: pd.DataFrame, analysis: str) -> pd.DataFrame:
    """The rows of one spatial analysis with its key as a typed column: 'radius' (int) for
    'ball', 'd' (int) for 'distance', 'region' (str) for 'region'."""
    key = {"ball": "radius", "distance": "d", "region": "region"}
    if analysis not in key:
        raise ValueError(f"analysis must be one of {sorted(key)}, got {analysis!r}")
    sub = sp[sp.analysis == analysis]
    if analysis == "region":
        return sub.assign(region=lambda x: x.value.astype(str))
    return sub.assign(**{key[analysis]: lambda x: x.value.astype(float).astype(int)})


def spatial_summary(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Per model: mean PR ratio over images (and seed-pixel draws); then mean ± std over seeds,
    per (training, h, layer, k) and ``by``."""
    per_model = frame.groupby(["training", "hidden", "seed", "layer", "k"] + list(by),
                              as_index=False).pr_ratio.mean()
    return summarize(per_model, ["training", "hidden", "layer", "k"] + list(by), "pr_ratio")


def spatial_numbers(summary: pd.DataFrame, prefix: str, key: str, tag: str = "") -> dict:
    """``{"<prefix>.<training>.<layer>.k<k>.h<h>.<tag><value of key>": {mean, std}}``."""
    return {f"{prefix}.{r.training}.{r.layer}.k{r.k}.h{r.hidden}.{tag}{getattr(r, key)}":
            defined({"pr_ratio_mean": r.pr_ratio_mean, "pr_ratio_std": r.pr_ratio_std})
            for r in summary.itertuples()}


def spatial_display(summary: pd.DataFrame, key: str, hidden: int) -> pd.DataFrame:
    """A :func:`spatial_summary` at width ``hidden`` for display: the seed-mean PR ratio,
    (layer, k, training) x ``key``, rounded to 0.001."""
    return summary[summary.hidden == hidden].pivot_table(
        index=["layer", "k", "training"], columns=key, values="pr_ratio_mean").round(3)


def min_cell(summary: pd.DataFrame, layer: str) -> tuple[float, int, int, str, pd.Series]:
    """For one layer: (smallest cell mean of the PR ratio, cells above 1, cells,
    'standard a/b, augmented c/d', boolean Series of the cells at or below 1)."""
    sub = summary[summary.layer == layer]
    above1 = (sub.pr_ratio_mean > 1).set_axis(pd.Index(sub.training, name="training"))
    return (float(sub.pr_ratio_mean.min()), int(above1.sum()), len(sub), per_training(above1),
            ~above1)


def spread(summary: pd.DataFrame, key: str, layer: str) -> float:
    """Largest relative spread (max/min - 1) of the cell means over ``key`` per
    (training, k, h): how far the PR ratio changes across scales."""
    piv = summary[summary.layer == layer].pivot_table(index=["training", "k", "hidden"],
                                                      columns=key, values="pr_ratio_mean")
    return float((piv.max(axis=1) / piv.min(axis=1) - 1).max())


def aug_reduction(summary: pd.DataFrame, key: str, layer: str) -> pd.Series | None:
    """Per (k, h, ``key``) of one layer: 1 - PR ratio(augmented) / PR ratio(standard) of the
    cell means (M-19); None without both trainings."""
    piv = summary[summary.layer == layer].pivot_table(index=["k", "hidden", key],
                                                      columns="training", values="pr_ratio_mean")
    if not set(TRAININGS) <= set(piv.columns):
        return None
    return 1 - piv.augmented / piv.standard


def distance_ratio(summary: pd.DataFrame, layer: str, d_lo: float, d_hi: float
                   ) -> tuple[pd.Series, int, int]:
    """For one layer, per (training, k, h): PR ratio(d_hi) / PR ratio(d_lo) of the cell means,
    the number of cells above 1 at d_hi, and the number of cells."""
    piv = summary[summary.layer == layer].pivot_table(index=["training", "k", "hidden"],
                                                      columns="d", values="pr_ratio_mean")
    return piv[d_hi] / piv[d_lo], int((piv[d_hi] > 1).sum()), len(piv)


def region_display(summary: pd.DataFrame, regions: Sequence[str]) -> pd.DataFrame:
    """PR ratio per region as 'mean ± std' over seeds, one column per region."""
    tab = summary.assign(v=[pm(a, b, 3) for a, b in zip(summary.pr_ratio_mean,
                                                         summary.pr_ratio_std)])
    return tab.pivot_table(index=["hidden", "layer", "k", "training"], columns="region",
                           values="v", aggfunc="first")[list(regions)]


def ball_size_table(radii: Sequence[float], selections: Sequence[dict],
                    nominal: dict[float, int]) -> pd.DataFrame:
    """Pixels per ball for each radius: P2's stated size (``nominal``, '–' where P2 gives
    none), pi r^2, the unclipped disc (lattice points within r), the ball around the centre
    pixel (14, 14), the largest ball any seed pixel gives, the mean over a uniform seed pixel,
    and the mean over the seed pixels the analysis drew (``selections``)."""
    return pd.DataFrame({
        "radius": list(radii), "paper": [nominal.get(r, "–") for r in radii],
        "pi_r2": [round(np.pi * r * r) for r in radii],
        "disc": [lattice_disc_size(r) for r in radii],
        "centre": [int(ball_mask((14, 14), r).sum()) for r in radii],
        "max": [max_ball_size(r) for r in radii],
        "uniform": [mean_ball_size(r) for r in radii],
        "draws": [float(np.mean([s["n_pixels"] for s in selections
                                 if s["analysis"] == "ball" and s["value"] == r]))
                  for r in radii]})


BALL_SIZE_LABELS = {"paper": "P2 (approx.)", "pi_r2": "pi r^2", "disc": "unclipped disc",
                    "centre": "seed (14, 14)", "max": "largest", "uniform": "mean, uniform seed",
                    "draws": "mean, our seed pixels"}


def ball_size_display(sizes: pd.DataFrame) -> pd.DataFrame:
    """:func:`ball_size_table` for display: rounded to 0.1 pixel, columns labelled."""
    return sizes.round(1).rename(columns=BALL_SIZE_LABELS)


def ball_size_numbers(sizes: pd.DataFrame) -> dict[str, dict]:
    """``{"ball_size.r<r>": {mean_uniform, mean_draws}}`` from :func:`ball_size_table`."""
    return {f"ball_size.r{r.radius}": {"mean_uniform": r.uniform, "mean_draws": r.draws}
            for r in sizes.itertuples()}


def acceptance_numbers(samples: pd.DataFrame, m: int) -> dict[str, float]:
    """``{"k<k>.d<d>": acceptance rate}`` of the distance constraint (width ``m``'s rows of
    :func:`~kag_utils.mnist.evaluation.spatial_sample_table`; the rate does not depend on m)."""
    sub = samples[(samples.analysis == "distance") & (samples.m == m)]
    return {f"k{r.k}.d{r.value}": r.acceptance_rate for r in sub.itertuples()}


# ----------------------------------------------------------------------------- ablation
def ablation_configs(hidden: Iterable[int], seeds: Iterable[int], lrs: Iterable[float],
                     weight_decays: Iterable[float], **kwargs: Any) -> list[MNISTRunConfig]:
    """The lr x weight-decay grid (M-03) at the given widths and seeds, standard and augmented
    (other fields from ``kwargs``, e.g. epochs and data). lr and weight decay are floats, so
    that ``0`` and ``0.0`` name the same cached run."""
    return [MNISTRunConfig(hidden=h, seed=s, augment=a, lr=float(lr), weight_decay=float(wd),
                           **kwargs)
            for lr in lrs for wd in weight_decays for h in hidden for a in (False, True)
            for s in seeds]


def decay_factor(lr: float, weight_decay: float, steps: int) -> float:
    """The factor by which AdamW's decoupled weight decay alone shrinks a weight over ``steps``
    optimiser steps at a constant learning rate: (1 - lr * weight_decay) ** steps."""
    if steps < 0 or lr < 0 or weight_decay < 0:
        raise ValueError(f"need steps, lr, weight_decay >= 0, got {steps}, {lr}, {weight_decay}")
    return float((1.0 - lr * weight_decay) ** steps)


def matched_weight_decay(lr: float, weight_decay: float, steps: int, target_steps: int,
                         digits: int = 2) -> float:
    """The weight decay whose total shrinkage over ``steps`` equals that of ``weight_decay``
    over ``target_steps`` (at learning rate ``lr``; :func:`decay_factor`), rounded *up* to
    ``digits`` significant digits (so it shrinks at least as much): e.g. 1e-2 over P2's
    47,000 steps, matched in 1,600 steps, is 0.30. A short training tests weight decay only
    with such a value."""
    if steps < 1 or target_steps < 1 or lr <= 0:
        raise ValueError(f"need steps, target_steps >= 1 and lr > 0, got {steps}, "
                         f"{target_steps}, {lr}")
    total = decay_factor(lr, weight_decay, target_steps)
    exact = (1.0 - total ** (1.0 / steps)) / lr
    if exact <= 0:
        return 0.0
    q = 10.0 ** (math.floor(math.log10(exact)) - (digits - 1))
    return float(f"{math.ceil(exact / q - 1e-9) * q:.{digits}g}")


def setting_label(lr: float, weight_decay: float) -> str:
    """'lr 1e-03, wd 0' style label of an ablation setting."""
    return f"lr {lr:.0e}, wd {weight_decay:g}"


def setting_key(lr: float, weight_decay: float) -> str:
    """'lr0p001_wd0p01' style results key of an ablation setting (no dot: keys are paths)."""
    return f"lr{lr:g}_wd{weight_decay:g}".replace(".", "p")


def ablation_table(ev: pd.DataFrame) -> pd.DataFrame:
    """The ablation's Fig. 1 rows (``ev`` of :func:`evaluate_mnist` on the ablation's runs)
    with a 'setting' label column."""
    _check_columns(ev, SETTING + ["seed", "hidden", "training"], "the ablation's evaluation")
    return ev.assign(setting=[setting_label(a, b) for a, b in zip(ev.lr, ev.weight_decay)])


def ablation_summary(ev: pd.DataFrame) -> pd.DataFrame:
    """Seed summaries of the PR ratio and test accuracy per setting and cell."""
    return summarize(ev, SETTING + CELL, ["pr_ratio", "test_acc"])


def ablation_readings(ab_sum: pd.DataFrame, steps: int) -> pd.DataFrame:
    """Per setting (lr, weight_decay): how the standard-versus-augmented ordering of the PR
    ratio behaves. Columns: setting, aug_reduction (1 - augmented/standard, mean over layer x
    k x h), standard_above_1 / augmented_above_1 (cells with a mean PR ratio > 1), cells (per
    training), standard_verdict / augmented_verdict ("trained more concentrated than initial":
    :func:`kag_utils.readings.exceeds` against 1 per cell, on seed standard errors, all cells),
    reversed (the augmented networks more concentrated than the standard ones on average),
    test_acc_standard, test_acc_augmented (mean over cells), decay_factor (the shrinkage weight
    decay alone applies over ``steps``, :func:`decay_factor`)."""
    out = []
    for (lr, wd), g in ab_sum.groupby(SETTING, sort=False):
        c = g.set_index(CELL)
        red = aug_reduction_cells(c)
        row = {"lr": float(lr), "weight_decay": float(wd), "setting": setting_label(lr, wd),
               "aug_reduction": float(red.mean()) if red is not None else float("nan"),
               "decay_factor": decay_factor(float(lr), float(wd), steps)}
        for t in TRAININGS:
            sub = c.xs(t, level="training") if t in c.index.get_level_values("training") else None
            if sub is None or not len(sub):
                row.update({f"{t}_above_1": 0, f"{t}_verdict": None, f"test_acc_{t}": np.nan})
                continue
            row[f"{t}_above_1"] = int((sub.pr_ratio_mean > 1).sum())
            row["cells"] = len(sub)
            verdicts = [("inconclusive" if not (math.isfinite(se) and math.isfinite(m)) else
                         rules.exceeds(m, se, 1.0)["verdict"])
                        for m, se in zip(sub.pr_ratio_mean, sub.pr_ratio_se)]
            row[f"{t}_verdict"] = all_of(verdicts)
            row[f"test_acc_{t}"] = float(sub.test_acc_mean.mean())
        row["reversed"] = bool(row["aug_reduction"] < 0)
        out.append(row)
    return pd.DataFrame(out)


def ablation_numbers(ab_sum: pd.DataFrame, ab_read: pd.DataFrame) -> dict[str, Any]:
    """``ablation.<setting>.<training>.<layer>.k<k>.h<h>`` seed summaries and
    ``ablation.<setting>.{aug_reduction, standard_above_1, ...}`` for the results."""
    out: dict[str, Any] = {}
    for r in ab_sum.itertuples():
        out[f"ablation.{setting_key(r.lr, r.weight_decay)}.{r.training}.{r.layer}.k{r.k}"
            f".h{r.hidden}"] = defined({"pr_ratio_mean": r.pr_ratio_mean,
                                        "pr_ratio_std": r.pr_ratio_std,
                                        "test_acc_mean": r.test_acc_mean})
    for r in ab_read.itertuples():
        out[f"ablation.{setting_key(r.lr, r.weight_decay)}"] = defined({
            "aug_reduction": r.aug_reduction, "standard_above_1": r.standard_above_1,
            "augmented_above_1": r.augmented_above_1, "cells": r.cells,
            "reversed": r.reversed, "test_acc_standard": r.test_acc_standard,
            "test_acc_augmented": r.test_acc_augmented, "decay_factor": r.decay_factor})
    return out


def convergence_ranges(table, axes: Sequence[str] = ("rows", "cols", "rotations"),
                       span: float = 4.0) -> dict[str, dict[str, dict[str, float | None]]]:
    """How far each estimate still wanders near the top of its sample ladders in a
    convergence table (:func:`kag_utils.mnist.convergence.convergence`): per quantity and k,
    over models, the given ``axes`` (images are left out: their wander is the SE's) and the
    rungs with count >= top / ``span`` (the top quarter of each ladder by default),
    {"min", "max", "top" (the top estimate; the mean over models), "top_se" (its SE; the
    largest over models), "spread_se" ((max - min) / top_se; None where top_se is 0)}. A
    spread of many SEs says the estimate still depends on the count near the top, more than
    its SE shows."""
    if span < 1:
        raise ValueError(f"span must be >= 1 (a ratio of counts), got {span}")
    d = table[table["axis"].isin(list(axes))]
    ladder_top = d.groupby(["model", "k", "quantity", "axis"])["count"].transform("max")
    d = d[d["count"] * span >= ladder_top]
    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for (q, k), g in d.groupby(["quantity", "k"], sort=False):
        tops = g[g["top"]].drop_duplicates("model")
        lo, hi = float(g["estimate"].min()), float(g["estimate"].max())
        se = float(tops["se"].max())
        out.setdefault(str(q), {})[f"k{int(k)}"] = {
            "min": lo, "max": hi, "top": float(tops["estimate"].mean()), "top_se": se,
            "spread_se": (hi - lo) / se if se > 0 else None}
    return out


def convergence_check(chosen: dict[str, int], used: dict[str, int],
                      tops: dict[str, int] | None = None) -> dict[str, Any]:
    """Are the counts a run used at least those the convergence study chose
    (:func:`kag_utils.mnist.convergence.convergence`)? Per MNISTEvalConfig field present in
    both: {"chosen", "used", "enough"}; with ``tops`` ({field: its ladder's top}) also
    "top" and "settled" (chosen below the top: the ladder shows the estimate settling; a
    choice AT the top shows no convergence within the ladder, whatever the run used).
    "all_enough", "unsettled" (the fields whose ladder chose its top) and a "text" of one
    or two sentences."""
    tops = tops or {}
    fields = {}
    for f in chosen:
        if f not in used:
            continue
        v = {"chosen": int(chosen[f]), "used": int(used[f]),
             "enough": int(used[f]) >= int(chosen[f])}
        if f in tops:
            v["top"] = int(tops[f])
            v["settled"] = int(chosen[f]) < int(tops[f])
        fields[f] = v
    short = [f"{f} ({v['used']} < {v['chosen']})" for f, v in fields.items() if not v["enough"]]
    unsettled = [f for f, v in fields.items() if v.get("settled") is False]
    text = ("every count this run used is at least the chosen one" if not short else
            "counts below the chosen ones (their estimates may sit more than one standard error "
            "from the ladder's top): " + ", ".join(short))
    if unsettled:
        text += ("; these ladders chose their top, so they show no convergence below it: "
                 + ", ".join(f"{f} (top {fields[f]['top']})" for f in unsettled))
    return {"fields": fields, "all_enough": not short, "unsettled": unsettled, "text": text}
