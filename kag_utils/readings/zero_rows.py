"""Readings of notebook 02's zero-row tables (P1 §IV.A, Table II, Figs. 2-3).

Pure functions on the evaluation table ``df`` that ``kag.evaluate`` returns (one row per
model: target, seed, ``zero_frac_k{k}_q{q1:g}``, ``dep_frac_k{k}_q{q1:g}``,
``dep_of_zero_k{k}_q{q1:g}``, ``n_consistent_k{k}_q{q1:g}``, ...). Shares are fractions in
``df`` and percentages here (A-13: of all (input, row) pairs); means and stds are over the
rows of one target (model seeds, ddof = 1, A-15). The false-positive rate q^(k) (IV.4) is
:func:`kag_utils.core.metrics.false_positive_rate`.
"""
from __future__ import annotations

import math
from typing import Callable, Mapping, Sequence

import pandas as pd

from ..core.metrics import false_positive_rate
from . import claim_names
from . import paper_values as paper
from . import rules
from .aggregate import pm
from .verdicts import numeric_verdict

__all__ = ["PAPER_KEY", "METRIC_KEY", "q1_label", "false_positive_table",
           "low_rank_regime", "machine_precision", "low_rank_order", "table2",
           "table2_display", "TABLE2_NOTE", "table2_comparisons", "xor_excess", "tracks_fpr",
           "ka_ideal_pct",
           "dependent_share", "zero_rows_by_k", "zero_rows_by_k_numbers",
           "consistent_counts", "consistent_totals", "dead_neuron_counts", "bias_reading",
           "train_test_table", "test_numbers"]

# Table II's rows, label -> key in paper_values.TABLE_II and in the results (claim_names), and
# label -> the evaluation table's column prefix
PAPER_KEY = {label: key for key, label in claim_names.TABLE2_ROWS}
METRIC_KEY = dict(zip(PAPER_KEY, ("zero_frac_k3", "dep_frac_k2", "dep_frac_k3")))


def q1_label(q1: float) -> str:
    """The column label of a q(1) in the notebook tables: 0.01 -> '1%'."""
    return f"{100 * q1:g}%"


def _pct(series: pd.Series) -> pd.Series:
    return 100 * series


def _target(df: pd.DataFrame, target: str) -> pd.DataFrame:
    sub = df[df.target == target]
    if sub.empty:
        raise ValueError(f"no rows of target {target!r} (have {sorted(set(df.target))})")
    return sub


def false_positive_table(q1s: Sequence[float], m: int,
                         ks: Sequence[int] = (1, 2, 3)) -> pd.DataFrame:
    """q^(k) (IV.4) in percent: one column per q(1) ("q(1) = 0.01"), one row per k ("q(3)")."""
    return pd.DataFrame({f"q(1) = {q1:g}": [100 * false_positive_rate(q1, m, k) for k in ks]
                         for q1 in q1s}, index=[f"q({k})" for k in ks])


def low_rank_regime(df: pd.DataFrame, target: str, q1: float, m: int,
                    ks: Sequence[int] = (1, 2, 3)) -> dict:
    """Fig. 2, "training opens a low-rank regime": per k, the share of the trained size-k row
    means below the initial model's Q^(k) at ``q1`` (fraction, mean over seeds) against the
    false-positive rate q^(k), by :func:`readings.exceeds` on the SE over seeds. Returns
    {k: {"mean", "se", "fpr", "reading"}}."""
    sub = _target(df, target)
    out = {}
    for k in ks:
        col = sub[f"zero_frac_k{k}_q{q1:g}"]
        fpr = false_positive_rate(q1, m, k)
        out[k] = {"mean": col.mean(), "se": col.std(ddof=1) / math.sqrt(len(col)), "fpr": fpr,
                  "reading": rules.exceeds(col.mean(), col.std(ddof=1) / math.sqrt(len(col)), fpr)}
    return out


def machine_precision(tiny: pd.DataFrame, floor_log10: float = -16.0) -> dict:
    """Fig. 2 caption, "size-3 row means approach machine precision": the mean over seeds of
    log10 of each seed's smallest positive row mean (``tiny``: columns log10_min, exact_zeros,
    from :func:`kag_utils.p1.summaries.smallest_row_means`) below ``floor_log10`` by
    :func:`readings.exceeds` (direction -1; SE 0 for one seed). Returns {"mean", "se",
    "exact_zeros", "reading"}."""
    if len(tiny) == 0:
        raise ValueError("tiny has no rows")
    se = tiny.log10_min.std(ddof=1) / math.sqrt(len(tiny)) if len(tiny) > 1 else 0.0
    return {"mean": tiny.log10_min.mean(), "se": se, "exact_zeros": int(tiny.exact_zeros.sum()),
            "reading": rules.exceeds(tiny.log10_min.mean(), se, floor_log10, direction=-1)}


def low_rank_order(df: pd.DataFrame, order: Sequence[str], q1: float, k: int = 3) -> dict:
    """Fig. 3, "the low-rank regime grows linear -> random -> xor": the size-k low-rank share
    at ``q1`` of the targets in ``order`` increases (:func:`readings.monotone`, SE over
    seeds). Returns {"means": [per target, fraction], "reading"}."""
    shares = [_target(df, t)[f"zero_frac_k{k}_q{q1:g}"] for t in order]
    res = rules.monotone(list(range(len(order))), [v.mean() for v in shares],
                         [v.std(ddof=1) / math.sqrt(len(v)) for v in shares], +1)
    return {"means": [v.mean() for v in shares], "reading": res}


def table2(df: pd.DataFrame, targets: Sequence[str], q1s: Sequence[float], m: int) -> pd.DataFrame:
    """Table II: per target and row (Zero, Dependent(2), Dependent(3)) one column per q(1)
    (:func:`q1_label`) holding (mean, std) over seeds in percent. Columns model
    ("xor(32)"), row, and the q(1) labels."""
    rows = []
    for target in targets:
        sub = _target(df, target)
        for label, key in METRIC_KEY.items():
            entry = {"model": f"{target}({m})", "row": label}
            for q1 in q1s:
                v = _pct(sub[f"{key}_q{q1:g}"])
                entry[q1_label(q1)] = (v.mean(), v.std(ddof=1))
            rows.append(entry)
    return pd.DataFrame(rows)


def table2_display(table: pd.DataFrame, q1s: Sequence[float], m: int) -> pd.DataFrame:
    """:func:`table2` as shown: "mean ± std" cells, the paper's value beside each q(1) ("–"
    where P1 gives none) and two baseline rows, q^(3) and q^(2) (IV.4) in percent."""
    show = table.copy()
    for q1 in q1s:
        col = q1_label(q1)
        show[col] = [pm(*v, 3) for v in table[col]]
        show[f"paper {col}"] = [
            pm(*paper.TABLE_II[r.model.split("(")[0]][PAPER_KEY[r.row]][q1], 3)
            if r.model.split("(")[0] in paper.TABLE_II and q1 in paper.TABLE_II["xor"]["zero"]
            else "–" for r in table.itertuples()]
    baseline = pd.DataFrame([{"model": "baseline", "row": f"q({k}) (IV.4)",
                              **{q1_label(q1): f"{100 * false_positive_rate(q1, m, k):.4g}"
                                 for q1 in q1s}} for k in (3, 2)])
    return pd.concat([show, baseline], ignore_index=True)


TABLE2_NOTE = ("default: the 1000 training inputs (A-11); reading 'test inputs': the 1000 "
               "held-out inputs (P1 computed both); other readings: early-stopping rules "
               "(notebook 01, section 4)")


def table2_comparisons(table: pd.DataFrame, q1s: Sequence[float], n_seeds: int,
                       causes: Mapping[str, str] | None = None,
                       df_test: pd.DataFrame | None = None,
                       alt_readings: Callable[[str], Sequence[dict]] | None = None,
                       resolution: float = 1e-3) -> list[dict]:
    """Table II's cells in comparison order (rows of ``table``, then q(1)): {"model",
    "target", "row", "paper_key", "q1", "mean", "sd" (ours, percent), "numbers" (what to
    record: {"table2.<target>.<row key>.q<q1>": {"mean", "std"}}), "paper" ((mean, std), None
    where P1 gives no value), "readings" (the held-out test inputs as the alternative reading
    when ``df_test`` is given: {"reading", "ours_value", "ours_sd", "ours_n"}), "verdict" (the
    default reading's :func:`numeric_verdict`), "comparison" (its row, keyword arguments
    of ``Recorder.compare``: ``readings`` adds ``alt_readings(claim)``, e.g. the
    early-stopping study's, and ``causes[target]`` is the likely cause of a disagreement)};
    the last four are None without a paper value."""
    cells = []
    for r in table.itertuples():
        target = r.model.split("(")[0]
        for q1 in q1s:
            mean, sd = table.loc[r.Index, q1_label(q1)]
            cell = {"model": r.model, "target": target, "row": r.row,
                    "paper_key": PAPER_KEY[r.row], "q1": q1, "mean": mean, "sd": sd,
                    "numbers": {f"table2.{target}.{PAPER_KEY[r.row]}.q{q1:g}":
                                {"mean": mean, "std": sd}},
                    "paper": None, "readings": None, "verdict": None, "comparison": None}
            if target in paper.TABLE_II:
                p_mean, p_sd = paper.TABLE_II[target][PAPER_KEY[r.row]][q1]
                alts = []
                if df_test is not None:
                    tv = _pct(df_test[df_test.target == target][f"{METRIC_KEY[r.row]}_q{q1:g}"])
                    alts = [{"reading": "test inputs", "ours_value": float(tv.mean()),
                             "ours_sd": float(tv.std(ddof=1)), "ours_n": len(tv)}]
                verdict = numeric_verdict(p_mean, mean, p_sd, sd, None, n_seeds,
                                          resolution)["verdict"]
                claim = claim_names.table2(r.model, r.row, q1)
                cell.update(paper=(p_mean, p_sd), readings=alts, verdict=verdict, comparison=dict(
                    claim=claim, source="P1 Table II", paper_value=p_mean, ours_value=mean,
                    paper_sd=p_sd, ours_sd=sd, ours_n=n_seeds, resolution=resolution,
                    readings=alts + (list(alt_readings(claim)) if alt_readings else []),
                    note=TABLE2_NOTE, cause="" if verdict == "reproduced" else
                    (causes or {}).get(target, "")))
            cells.append(cell)
    return cells


def xor_excess(table: pd.DataFrame, q1s: Sequence[float], m: int, target: str = "xor") -> dict:
    """§IV.A, "xor(32) has a significant number of zero rows": per q(1), {"fpr": q^(3) in
    percent, "zero": (mean, std) of the size-3 zero rows in percent (Table II), "excess":
    their ratio}."""
    out = {}
    for q1 in q1s:
        fpr = 100 * false_positive_rate(q1, m, 3)
        cell = table[(table.model == f"{target}({m})") & (table.row == "Zero")]
        zero = cell[q1_label(q1)].iloc[0]
        out[q1] = {"fpr": fpr, "zero": zero, "excess": zero[0] / fpr}
    return out


def tracks_fpr(df: pd.DataFrame, target: str, m: int, q1: float = 0.01, k: int = 3,
               wording: str = "close to") -> dict:
    """§IV.A, "linear(32) and random(32) closely track the false-positive rates": the size-k
    zero rows of ``target`` at ``q1`` (percent, mean over seeds) :func:`readings.near` q^(k)
    with the ``wording`` tolerance (the one rule of every "tracks q(k)" row: within 10 % of
    q(k) plus 2 SE). Returns {"mean", "fpr" (percent), "ratio" (mean / fpr), "reading"}."""
    zs = _pct(_target(df, target)[f"zero_frac_k{k}_q{q1:g}"])
    fpr = 100 * false_positive_rate(q1, m, k)
    return {"mean": float(zs.mean()), "fpr": fpr, "ratio": float(zs.mean()) / fpr,
            "reading": rules.near(float(zs.mean()), fpr,
                                  float(zs.std(ddof=1)) / math.sqrt(len(zs)), wording)}


def ka_ideal_pct(m: int, k: int = 3) -> float:
    """The share of zero rows in percent of the KA ideal, one non-zero row of the size-k
    minor matrix on average: 100 (1 - 1 / C(m, k)) (99.98 % at m = 32, k = 3)."""
    return 100 * (1 - 1 / math.comb(m, k))


def dependent_share(df: pd.DataFrame, target: str, q1s: Sequence[float], k: int = 3) -> pd.Series:
    """The share of ``target``'s size-k zero rows that are dependent zero rows, mean over
    seeds, per q(1) (fractions, indexed by the column names ``dep_of_zero_k{k}_q{q1:g}``)."""
    return _target(df, target)[[f"dep_of_zero_k{k}_q{q1:g}" for q1 in q1s]].mean()


def zero_rows_by_k(df: pd.DataFrame, targets: Sequence[str], q1s: Sequence[float], m: int,
                   ks: Sequence[int] = (1, 2, 3)) -> pd.DataFrame:
    """Zero rows at every k (P1 tabulates k = 3 only) as shown: per target and k, "mean ± std"
    in percent per q(1) and q^(k) at q(1) = 1 %."""
    rows = []
    for target in targets:
        sub = _target(df, target)
        for k in ks:
            rows.append({"model": f"{target}({m})", "k": k, **{
                q1_label(q1): pm(100 * sub[f"zero_frac_k{k}_q{q1:g}"].mean(),
                                 100 * sub[f"zero_frac_k{k}_q{q1:g}"].std(ddof=1), 3)
                for q1 in q1s}, "q(k) at 1%": f"{100 * false_positive_rate(0.01, m, k):.3f}"})
    return pd.DataFrame(rows)


def zero_rows_by_k_numbers(df: pd.DataFrame, targets: Sequence[str], q1s: Sequence[float],
                           ks: Sequence[int] = (1, 2, 3)) -> dict:
    """The means of :func:`zero_rows_by_k` as numbers to record: {"zero_rows.<target>.k<k>":
    {"q<q1>": percent}}."""
    return {f"zero_rows.{target}.k{k}": {
        f"q{q1:g}": 100 * float(_target(df, target)[f"zero_frac_k{k}_q{q1:g}"].mean())
        for q1 in q1s} for target in targets for k in ks}


def consistent_counts(df: pd.DataFrame, q1s: Sequence[float], m: int,
                      ks: Sequence[int] = (1, 2, 3)) -> pd.DataFrame:
    """Consistently zero rows (A-14) per model and k: columns model, seed, k and one count per
    q(1) (:func:`q1_label`), in the order of ``df``."""
    rows = []
    for r in df.to_dict("records"):
        for k in ks:
            rows.append({"model": f"{r['target']}({m})", "seed": r["seed"], "k": k,
                         **{q1_label(q1): r[f"n_consistent_k{k}_q{q1:g}"] for q1 in q1s}})
    return pd.DataFrame(rows)


def consistent_totals(counts: pd.DataFrame, q1s: Sequence[float]) -> pd.DataFrame:
    """:func:`consistent_counts` summed over seeds, indexed by (model, k)."""
    return counts.groupby(["model", "k"])[[q1_label(q1) for q1 in q1s]].sum()


def dead_neuron_counts(counts: pd.DataFrame, model: str, q1: float = 0.01) -> pd.Series:
    """Dead neurons per model of ``model`` ("xor(32)"): its consistently zero size-1 rows at
    ``q1`` (a dead neuron also zeroes m - 1 size-2 and C(m-1, 2) size-3 rows, so k = 1 counts
    neurons)."""
    return counts[(counts.model == model) & (counts.k == 1)][q1_label(q1)]


def bias_reading(dead: pd.DataFrame) -> dict:
    """§IV.A, "large negative biases have not been the cause of the consistently zero rows",
    from :func:`kag_utils.p1.summaries.dead_row_table`: reproduced when none of the
    consistently zero rows is bias-silenced, inconclusive when there are none to attribute.
    Returns {"consistently_zero", "bias_silenced", "verdict"}."""
    n_dead, n_bias = int(dead.consistently_zero.sum()), int(dead.bias_silenced.sum())
    verdict = "inconclusive" if n_dead == 0 else ("reproduced" if n_bias == 0 else "not reproduced")
    return {"consistently_zero": n_dead, "bias_silenced": n_bias, "verdict": verdict}


def train_test_table(df: pd.DataFrame, df_test: pd.DataFrame, targets: Sequence[str],
                     q1s: Sequence[float], m: int) -> pd.DataFrame:
    """Table II's rows on the training and the held-out test inputs side by side ("train /
    test" means in percent, per q(1))."""
    rows = []
    for target in targets:
        a, b = df[df.target == target], df_test[df_test.target == target]
        for label, key in METRIC_KEY.items():
            rows.append({"model": f"{target}({m})", "row": label, **{
                f"{q1_label(q1)} train / test": f"{100 * a[f'{key}_q{q1:g}'].mean():.3f} / "
                                                f"{100 * b[f'{key}_q{q1:g}'].mean():.3f}"
                for q1 in q1s}})
    return pd.DataFrame(rows)


def test_numbers(df_test: pd.DataFrame, targets: Sequence[str], q1s: Sequence[float]) -> dict:
    """Table II on the test inputs as numbers to record: {"table2_test.<target>.<row key>":
    {"q<q1>": percent}}."""
    return {f"table2_test.{target}.{PAPER_KEY[label]}": {
        f"q{q1:g}": 100 * float(df_test[df_test.target == target][f"{key}_q{q1:g}"].mean())
        for q1 in q1s} for target in targets for label, key in METRIC_KEY.items()}
