"""Notebook 05's studies that run as one call each: train (through the run cache) and evaluate
what a section needs, record its numbers and rows with the ``record_*`` functions of
:mod:`kag_utils.p1.appendices`, and return the tables the notebook shows and draws.

* App. A: :func:`record_quantiles` (the 0.99/0.01 quantile ratio per seed and pooled, and the
  float32 check of A-20), :func:`quantile_check_text`, :func:`mef_display`;
* App. B: :func:`fig16_display` (Fig. 16's best training R^2 per series and batch size);
* App. B: :func:`es_study` (the App. B claims under every early-stopping reading, A-06) and
  :func:`es_means` (its claim x reading table of seed means);
* App. C: :func:`c_family` (one target family per row reading, "in" and "out"),
  :func:`r2_long` (training and test R^2 as one long series), :func:`so_matrices`,
  :func:`gaussian_display`.
"""
from __future__ import annotations

from typing import Any, Mapping, MutableMapping, Sequence

import pandas as pd

from . import appendices as app
from . import early_stopping as es
from .runs import RunConfig, ensure_runs
from .targets import target_info


# ------------------------------------------------------------------------------- App. A
def record_quantiles(record, minors: Mapping, pooled: Mapping, runs: Sequence, x,
                     seeds: Sequence[int], ks: Sequence[int] = app.KS
                     ) -> tuple[pd.DataFrame, dict]:
    """The quantile table (:func:`appendices.quantile_table`) and the float32 check of the
    pooled trained size-3 ratio (:func:`appendices.float32_quantiles` on ``runs`` at ``x``;
    A-20), recorded as ``app_a_float32_k3`` and then by
    :func:`appendices.record_quantile_ratios`. Returns (table, float32 summary)."""
    qtab = app.quantile_table(minors, pooled, seeds, ks)
    f32 = app.float32_quantiles(runs, x, k=3)
    record.add(app_a_float32_k3={key: f32[key] for key in ("log10_ratio", "n_zero", "q_lo")})
    app.record_quantile_ratios(record, qtab, seeds, ks)
    return qtab, f32


def quantile_check_text(record, f32: Mapping) -> str:
    """Two lines: the float32 check and the recorded pooled size-3 log10 ratios beside P1's."""
    ours = {key: record.numbers[f"app_a.k3.{key}"] for key in (
        "trained.log10_quantile_ratio_pooled", "initial.log10_quantile_ratio_pooled",
        "log10_max_ratio_pooled")}
    return ("float32 check, trained k = 3: Q(0.01) = %.3g, exact zeros %d, log10 ratio %s\n"
            % (f32["q_lo"], f32["n_zero"], f32["log10_ratio"])
            + f"{ours} (paper: 45, 4, ~1)")


def mef_display(mef_sum: pd.DataFrame) -> pd.DataFrame:
    """The tail classes of :func:`appendices.mef_classes`: per k and state, the mean slope, its
    SE and the class over the top 10 % and the top 1 % of quantile ranks."""
    return mef_sum[["k", "state", "slope_top10_mean", "slope_top10_se", "class_top10",
                    "slope_top1_mean", "slope_top1_se", "class_top1"]]


# ------------------------------------------------------------------------------- App. B
def fig16_display(f16sum: pd.DataFrame, order: Sequence[str]) -> pd.DataFrame:
    """Fig. 16's seed-mean training R^2: series (in ``order``) x batch size, 4 decimals."""
    return f16sum.pivot(index="series", columns="batch_size",
                        values="train_r2_mean").loc[list(order)].round(4)


def es_study(record, claims: Sequence, readings: Sequence[dict], lin_ref: pd.DataFrame,
             xor_ref: pd.DataFrame, batch_sizes: Sequence[int], ecfg,
             scheduler: Any = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The App. B claims under every early-stopping reading (A-06): the critical batch's
    "no KA signal" claim judged as Fig. 15's (:func:`appendices.no_signal_rule`), the claim x
    reading table (:func:`early_stopping.sensitivity_table`) and the row verdicts
    (:func:`early_stopping.row_verdicts`), recorded by :func:`appendices.record_es_study`.
    Returns (table, row verdicts)."""
    claims = app.no_signal_rule(claims, lin_ref, xor_ref, batch_sizes)
    table = es.sensitivity_table(claims, readings, ecfg=ecfg, scheduler=scheduler)
    rows = es.row_verdicts(table)
    app.record_es_study(record, table, rows, readings)
    return table, rows


def es_means(table: pd.DataFrame) -> pd.DataFrame:
    """The seed mean of each claim (rows) under each reading (columns), both in the table's
    order, rounded to 4 decimals."""
    return table.pivot(index="claim", columns="reading", values="mean").loc[
        list(dict.fromkeys(table.claim)), list(dict.fromkeys(table.reading))].round(4)


# ------------------------------------------------------------------------------- App. C
def c_family(target: str, seeds: Sequence[int], protocol: Mapping[str, Any], data_seeds: str,
             readings: Sequence[str], ecfg, run_of: MutableMapping[RunConfig, Any], *,
             params: Sequence | None = None, column: tuple[str, type] | None = None,
             state: str = "final", scheduler: Any = None) -> dict[str, pd.DataFrame]:
    """One App. C family (:func:`appendices.c_configs`: ``params`` x ``seeds``), trained
    through the cache (its runs added to ``run_of``) and evaluated in ``state`` under each
    row reading (:func:`appendices.c_evaluate`): {reading: table}. ``column`` (name, type)
    adds the family parameter as a typed column (e.g. ("alpha", int))."""
    cfgs = app.c_configs(target, seeds, protocol, data_seeds, params)
    run_of.update({r.config: r for r in ensure_runs(cfgs, scheduler=scheduler)})
    out = {}
    for rd in readings:
        df = app.c_evaluate(cfgs, rd, run_of, ecfg, scheduler, state)
        out[rd] = df.assign(**{column[0]: df["param"].astype(column[1])}) if column else df
    return out


def r2_long(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` twice, as series 'train' and 'test' with their R^2 as 'value' (Figs. 17, 18)."""
    return pd.concat([df.assign(series=s, value=df[f"{s}_r2"]) for s in ("train", "test")])


def gaussian_display(g_sum: pd.DataFrame, q1: float) -> pd.DataFrame:
    """G(lambda)'s summary (:func:`appendices.record_gaussian`): R^2, the three window metrics
    and the window columns ('in...'), 4 decimals."""
    return g_sum[["lam", "train_r2_mean", "test_r2_mean", f"zero_frac_k3_q{q1:g}_mean",
                  "pr_norm_k3_mean", "divergence_k3_mean"]
                 + [c for c in g_sum if c.startswith("in")]].round(4)


def so_matrices(alphas: Sequence[int]) -> dict[str, list]:
    """The rotation O^(alpha) of SO(alpha)-xor per alpha (A-30), rounded to 6 decimals."""
    return {str(a): target_info("so_xor", a)["O"].numpy().round(6).tolist() for a in alphas}
