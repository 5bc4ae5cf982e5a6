"""Notebook 07's decision rules: the open-question studies' tables -> their answers (pure).

Each study of notebook 07 (beyond the papers) states a hypothesis and the statistics that
decide it before it runs; this module holds those rules, so that every answer the notebook
prints, records and writes into a comparison row is computed from the numbers:

* *Primary metrics* (:data:`PRIMARY`): zero-row fraction at k = 1, normalised PR, normalised
  RR and column divergence at k = 2, each of a Jacobian against the same seed's initial model.
* *Excess* (:func:`excess`): the distance of a metric from its no-KA baseline in the direction
  KA geometry moves it (:data:`DIRECTION`): zero rows above the initial model's fraction, PR
  below 1, RR above 1, divergence above 0.
* *Tests*: two-sided at ``alpha`` (0.05); Holm's step-down correction (:func:`holm`) over the
  family each study names; seed-paired t where the design pairs (same seed = same initial
  weights and batch order), Welch's t between different models, one-sample t of an excess.
  An effect is called only when its adjusted p < alpha, else "no effect" (:func:`call`).

Study 1 (oscillatory activations, :mod:`kag_utils.p1.activations`): :func:`excess_by_state`,
:func:`speed_table`, :func:`geometry_table`, :func:`order_table`, :func:`activation_verdicts`.
Study 2 (depth, :mod:`kag_utils.p1.depth`): :func:`layer_excess`, :func:`layer_location`,
:func:`depth_effect`. Study 3 (exact vs sampled minors, :mod:`kag_utils.mnist.exact`):
:func:`bias_reading`, :func:`bias_summary`. Study 4 (KAN beside the MLP,
:mod:`kag_utils.p1.kan`): :func:`kan_excess`, :func:`kan_comparison`, :func:`kan_verdicts`.
The ``*_rows`` functions return the studies' comparison rows as keyword arguments of
``Recorder.compare`` with the verdict "new result".
"""
from __future__ import annotations

import math
from itertools import combinations
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .aggregate import compare_to_baseline, paired, welch

__all__ = ["PRIMARY", "DIRECTION", "BASELINE", "ALPHA", "NEW", "SOURCE", "holm", "one_sample",
           "degenerate_p", "call", "learnability", "majority", "SPEED_CLAIM", "GEOMETRY_CLAIM",
           "ORDER_CLAIM", "excess", "primary_label", "excess_by_state", "speed_table",
           "geometry_table", "order_table", "activation_verdicts", "activation_rows",
           "layer_excess", "layer_location", "depth_effect", "depth_verdicts", "depth_rows",
           "bias_reading", "counts_label", "bias_summary", "bias_rows", "kan_excess",
           "kan_comparison", "kan_verdicts", "kan_rows", "activation_key", "target_key",
           "activation_numbers", "depth_numbers", "bias_numbers", "kan_numbers", "answers"]

#: (metric, k) of the primary metrics: zero rows at k = 1 (Table II's headline), the rest at
#: k = 2, the largest k that every Jacobian of the four studies has.
PRIMARY = (("zero_frac", 1), ("pr_norm", 2), ("rr_norm", 2), ("divergence", 2))
#: +1: KA geometry raises the metric; -1: it lowers it (PR: concentration).
DIRECTION = {"zero_frac": 1, "pr_norm": -1, "rr_norm": 1, "divergence": 1}
#: The no-KA baseline of the normalised metrics; the zero-row fraction's is the initial
#: model's own fraction (q(k) by construction, IV.3), passed to :func:`excess`.
BASELINE = {"pr_norm": 1.0, "rr_norm": 1.0, "divergence": 0.0}
ALPHA = 0.05
NEW = "new result"
#: Sources of the comparison rows (the manuscript groups rows whose source starts "Beyond").
SOURCE = {"activations": "Beyond the papers: P1 Sec. V (oscillatory activations)",
          "depth": "Beyond the papers: depth (P1 Sec. V, P2)",
          "exact": "Beyond the papers: P2 sampled minors",
          "kan": "Beyond the papers: KAN beside the MLP"}


# ---------------------------------------------------------------------------- statistics
def holm(pvalues: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error at any alpha): sort the m finite
    p ascending, p_(i) -> max_{j <= i} min(1, (m - j + 1) p_(j)). NaN stays NaN and does not
    count in m."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if ok.size == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    m = order.size
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        out[idx] = running
    return out


def one_sample(values: Sequence[float]) -> dict:
    """One-sample t of the mean of ``values`` against 0 (NaN dropped): n, mean, se (ddof 1),
    t and the two-sided p (:func:`kag_utils.readings.aggregate.paired` against zeros)."""
    v = np.asarray(values, dtype=float)
    r = paired(v, np.zeros_like(v))
    p = degenerate_p(r["p"], r["diff"], r["diff_se"], r["n_pairs"])
    return {"n": r["n_pairs"], "mean": r["diff"], "se": r["diff_se"], "t": r["t"], "p": p}


def degenerate_p(p: float, diff: float, se: float, n: int) -> float:
    """p of a t test, with the degenerate case decided: every value (difference) equal and
    non-zero over n >= 2 seeds (se = 0, t = +-inf) is p = 0; otherwise ``p`` as given."""
    if (isinstance(p, float) and math.isnan(p) and n >= 2 and se == 0
            and isinstance(diff, (int, float)) and math.isfinite(diff) and diff != 0):
        return 0.0
    return p


def call(diff: float, p_adjusted: float, alpha: float = ALPHA, up: str = "higher",
         down: str = "lower", none: str = "no effect") -> str:
    """``up`` / ``down`` when the (adjusted) p is below alpha and diff is positive / negative,
    else ``none`` (also for NaN p: too few values to test)."""
    if not (isinstance(p_adjusted, (int, float)) and math.isfinite(p_adjusted)) or \
            p_adjusted >= alpha or not math.isfinite(diff) or diff == 0:
        return none
    return up if diff > 0 else down


def excess(metric: str, value, init=None):
    """DIRECTION[metric] * (value - baseline): the baseline is ``init`` when given (the zero-row
    fraction needs the initial model's own), else :data:`BASELINE`. Works on floats and arrays."""
    if metric not in DIRECTION:
        raise ValueError(f"metric must be one of {list(DIRECTION)}, got {metric!r}")
    if init is None:
        if metric not in BASELINE:
            raise ValueError(f"{metric} needs the initial model's value (init=)")
        init = BASELINE[metric]
    return DIRECTION[metric] * (value - init)


def primary_label(metric: str, k: int) -> str:
    names = {"zero_frac": "zero rows", "pr_norm": "PR/PR_init", "rr_norm": "RR/RR_init",
             "divergence": "divergence"}
    return f"{names.get(metric, metric)} (k={int(k)})"


def _check_columns(df: pd.DataFrame, cols: Iterable[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: columns {missing} missing (have {list(df.columns)})")


def _is_primary(df: pd.DataFrame, primary, metric_col: str = "metric") -> pd.Series:
    keys = {(m, int(k)) for m, k in primary}
    return pd.Series([(m, int(k)) in keys for m, k in zip(df[metric_col], df["k"])],
                     index=df.index, dtype=bool)


# ------------------------------------------------------------- study 1: activations (P1 V)
def excess_by_state(metrics: pd.DataFrame, primary=PRIMARY,
                    keys: Sequence[str] = ("activation", "target", "param", "seed")) -> pd.DataFrame:
    """The excess of every primary metric of every trained state over the same run's "init"
    state, from :func:`kag_utils.p1.activations.metric_table`'s long table (which carries the
    "init" rows). Returns keys + state, metric, k, excess (NaN where a run never reached the
    state), without the init rows."""
    keys = list(keys)
    _check_columns(metrics, keys + ["state", "metric", "k", "value"], "excess_by_state")
    d = metrics[_is_primary(metrics, primary)]
    init = d[d["state"] == "init"].set_index(keys + ["metric", "k"])["value"]
    if init.index.duplicated().any():
        raise ValueError("more than one init value per run and metric")
    d = d[d["state"] != "init"].copy()
    idx = pd.MultiIndex.from_frame(d[keys + ["metric", "k"]])
    d["init"] = init.reindex(idx).to_numpy()
    d["excess"] = [excess(m, v, i) for m, v, i in zip(d["metric"], d["value"], d["init"])]
    return d[keys + ["state", "metric", "k", "excess"]].reset_index(drop=True)


def _decide_paired(c: pd.DataFrame, prefix: str = "paired_") -> None:
    """:func:`degenerate_p` on a compare_to_baseline table's paired (or welch) columns."""
    n = c[f"{prefix}n_pairs"] if f"{prefix}n_pairs" in c.columns else np.minimum(c["n"], c["n_base"])
    c[f"{prefix}p"] = [degenerate_p(p, d, s, int(k)) for p, d, s, k in zip(
        c[f"{prefix}p"], c[f"{prefix}diff"], c[f"{prefix}diff_se"], n)]


def _targets_mask(df: pd.DataFrame, targets: Sequence[str]) -> pd.Series:
    return df["target"].isin(list(targets))


def speed_table(comparison: pd.DataFrame, learnable: Sequence[str] = ("xor", "lambda_xor"),
                alpha: float = ALPHA) -> pd.DataFrame:
    """Epochs to the R^2 criterion of each activation against GeLU on the learnable targets:
    the rows of activation_study's ``comparison`` for quantity "epochs_to_criterion", with the
    seed-paired p Holm-adjusted over the targets of each activation (``p_holm``) and ``call``
    "faster" (fewer epochs) / "slower" / "no effect"."""
    _check_columns(comparison, ["activation", "target", "param", "state", "quantity",
                                "paired_diff", "paired_p"], "speed_table")
    c = comparison[(comparison["quantity"] == "epochs_to_criterion")
                   & _targets_mask(comparison, learnable)].copy()
    _decide_paired(c)
    c["p_holm"] = np.nan
    for _, idx in c.groupby("activation", sort=False).groups.items():
        c.loc[idx, "p_holm"] = holm(c.loc[idx, "paired_p"].to_numpy())
    c["call"] = [call(-d, p, alpha, "faster", "slower") for d, p in zip(c["paired_diff"], c["p_holm"])]
    return c.reset_index(drop=True)


def geometry_table(excess_long: pd.DataFrame, baseline: str, state: str = "final",
                   learnable: Sequence[str] = ("xor", "lambda_xor"), alpha: float = ALPHA,
                   family: str = "target") -> pd.DataFrame:
    """Each activation's excess of every primary metric at ``state`` against ``baseline``'s
    (GeLU), paired by seed (:func:`compare_to_baseline` on :func:`excess_by_state`'s table):
    mean, se, n of both, Welch and paired statistics, ``p_holm`` (paired p, Holm over the
    learnable targets for each activation and metric when ``family`` = "target", over the
    primary metrics for each activation and target when ``family`` = "metric") and ``call``
    "more" / "less" / "no effect" (positive paired_diff = more KA geometry)."""
    if family not in ("target", "metric"):
        raise ValueError(f"family must be 'target' or 'metric', got {family!r}")
    d = excess_long[(excess_long["state"] == state) & _targets_mask(excess_long, learnable)]
    if d.empty:
        return pd.DataFrame()
    c = compare_to_baseline(d, ["target", "param", "metric", "k"], "activation", baseline,
                            "excess", "seed")
    c.insert(c.columns.get_loc("k") + 1, "state", state)
    _decide_paired(c)
    c["p_holm"] = np.nan
    fam = ["activation", "metric", "k"] if family == "target" else ["activation", "target", "param"]
    for _, idx in c.groupby(fam, sort=False, dropna=False).groups.items():
        c.loc[idx, "p_holm"] = holm(c.loc[idx, "paired_p"].to_numpy())
    c["call"] = [call(d, p, alpha, "more", "less") for d, p in zip(c["paired_diff"], c["p_holm"])]
    return c


def order_table(excess_long: pd.DataFrame, checkpoint: str,
                learnable: Sequence[str] = ("xor", "lambda_xor"), alpha: float = ALPHA,
                share: float = 0.5) -> pd.DataFrame:
    """H1c: does the geometry come before the learning? Per (activation, target, param,
    metric, k): the excess at ``checkpoint`` (e.g. "r2>=0.50") and at "final" (means, se, n
    over seeds), ``share`` = mean at the checkpoint / mean at the end, one-sample t of each
    (p_checkpoint, p_final) and ``call``: "no geometry" when the final excess is not
    significantly positive, "precedes" when the share is >= ``share`` and the checkpoint's
    excess is significantly positive, else "follows"."""
    rows = []
    d = excess_long[_targets_mask(excess_long, learnable)]
    for key, g in d.groupby(["activation", "target", "param", "metric", "k"], sort=False,
                            dropna=False):
        cp = one_sample(g.loc[g["state"] == checkpoint, "excess"])
        fi = one_sample(g.loc[g["state"] == "final", "excess"])
        sh = cp["mean"] / fi["mean"] if fi["mean"] and math.isfinite(fi["mean"]) else math.nan
        final_sig = call(fi["mean"], fi["p"], alpha) == "higher"
        cp_sig = call(cp["mean"], cp["p"], alpha) == "higher"
        verdict = ("no geometry" if not final_sig else
                   "precedes" if (cp_sig and math.isfinite(sh) and sh >= share) else "follows")
        rows.append({**dict(zip(["activation", "target", "param", "metric", "k"], key)),
                     "checkpoint": checkpoint, "excess_checkpoint": cp["mean"],
                     "se_checkpoint": cp["se"], "n_checkpoint": cp["n"], "p_checkpoint": cp["p"],
                     "excess_final": fi["mean"], "se_final": fi["se"], "n_final": fi["n"],
                     "p_final": fi["p"], "share": sh, "call": verdict})
    return pd.DataFrame(rows)


def _overall(calls: Iterable[str], up: str, down: str) -> str:
    calls = list(calls)
    ups, downs = calls.count(up), calls.count(down)
    if ups and downs:
        return "mixed"
    return "raises" if ups else "lowers" if downs else "no effect"


def _pm(mean: float, se: float, digits: int = 3) -> str:
    if mean is None or not math.isfinite(mean):
        return "n/a"
    return f"{mean:.{digits}g} ± {se:.2g}" if se is not None and math.isfinite(se) else f"{mean:.{digits}g}"


def learnability(runs: pd.DataFrame, baseline: str,
                 learnable: Sequence[str] = ("xor", "lambda_xor")) -> pd.DataFrame:
    """A descriptive reading beside H1a (added after the first run, it decides nothing): per
    activation and learnable target, how many seeds reached the criterion (``reached`` of
    ``n``) and the mean final training R^2, next to the baseline's (``*_base``), from
    :func:`kag_utils.p1.activations.run_table`. Where the baseline never reaches the
    criterion the paired test of :func:`speed_table` has no pairs; these counts show it."""
    _check_columns(runs, ["activation", "target", "param", "seed", "reached_criterion",
                          "r2_train"], "learnability")
    d = runs[_targets_mask(runs, learnable)]
    g = d.groupby(["activation", "target", "param"], sort=False, dropna=False).agg(
        reached=("reached_criterion", "sum"), n=("seed", "count"), r2_train=("r2_train", "mean"))
    g = g.reset_index()
    base = g[g["activation"] == baseline].drop(columns="activation")
    out = g[g["activation"] != baseline].merge(base, on=["target", "param"], how="left",
                                                suffixes=("", "_base"))
    return out.astype({"reached": int, "n": int})


def activation_verdicts(speed: pd.DataFrame, geometry: pd.DataFrame, early: pd.DataFrame,
                        order: pd.DataFrame, baseline: str, target: str = "xor",
                        criterion: float = 0.9, early_r2: float = 0.5,
                        learn: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per non-baseline activation on ``target`` (xor(32)): ``speed`` (the call of
    :func:`speed_table`: "faster", "slower", "no effect"; "not reached" without a row),
    ``geometry`` ("raises" / "lowers" / "mixed" / "no effect" over the primary metrics of
    :func:`geometry_table` at the final state), ``early_geometry`` (the same at the R^2
    checkpoint, ``early`` table), ``order`` (the baseline's H1c calls on ``target``), ``aid``
    (P2's question read off this intervention), ``learnability`` (the descriptive
    :func:`learnability` counts on the other learnable targets, when ``learn`` is given) and
    ``text``, the answer in words."""
    rows = []
    base_order = order[(order["activation"] == baseline) & (order["target"] == target)]
    order_text = "; ".join(f"{primary_label(m, k)}: {c} (share {s:.2f})" for m, k, c, s in zip(
        base_order["metric"], base_order["k"], base_order["call"], base_order["share"]))
    for act in [a for a in dict.fromkeys(speed["activation"]) if a != baseline]:
        sp = speed[(speed["activation"] == act) & (speed["target"] == target)]
        g = geometry[(geometry["activation"] == act) & (geometry["target"] == target)]
        e = early[(early["activation"] == act) & (early["target"] == target)] if len(early) else early
        s_call = sp["call"].iloc[0] if len(sp) else "not reached"
        geo = _overall(g["call"], "more", "less") if len(g) else "no effect"
        egeo = _overall(e["call"], "more", "less") if len(e) else "no effect"
        if egeo == "raises" and s_call != "faster":
            aid = "against aid: more early geometry without faster learning"
        elif egeo == "raises" and s_call == "faster":
            aid = "consistent with aid: more early geometry and faster learning"
        elif egeo in ("lowers", "mixed") and s_call == "faster":
            aid = "against aid: faster learning without more early geometry"
        else:
            aid = "undecided: this intervention does not raise the early geometry"
        if len(sp):
            r = sp.iloc[0]
            sp_text = (f"epochs to R² ≥ {criterion:g}: {_pm(r['mean'], r['se'])} vs GeLU "
                       f"{_pm(r['mean_base'], r['se_base'])}, paired difference "
                       f"{_pm(r['paired_diff'], r['paired_diff_se'])} over "
                       f"{int(r['paired_n_pairs'])} seeds, Holm p = {r['p_holm']:.2g}")
        else:
            sp_text = "criterion not reached"
        geo_text = ", ".join(f"{primary_label(m, k)} {c} ({_pm(d, s)})" for m, k, c, d, s in zip(
            g["metric"], g["k"], g["call"], g["paired_diff"], g["paired_diff_se"]))
        learn_text = ""
        if learn is not None and len(learn):
            lr = learn[(learn["activation"] == act) & (learn["target"] != target)]
            learn_text = "; ".join(
                f"{target_key(t, p)}: {int(a)}/{int(n)} vs {int(ab)}/{int(nb)}, "
                f"final R² {r2:.2f} vs {r2b:.2f}" for t, p, a, n, ab, nb, r2, r2b in zip(
                    lr["target"], lr["param"], lr["reached"], lr["n"], lr["reached_base"],
                    lr["n_base"], lr["r2_train"], lr["r2_train_base"]))
        text = (f"{act} against GeLU on {target}(32): learning speed: {s_call} ({sp_text}); KA "
                f"geometry at the end: {geo} (excess difference, paired: {geo_text}); at "
                f"R² ≥ {early_r2:g}: {egeo}; {aid}."
                + (f" Seeds reaching R² ≥ {criterion:g} on the other learnable targets (descriptive): "
                   f"{learn_text}." if learn_text else ""))
        rows.append({"activation": act, "target": target, "speed": s_call, "geometry": geo,
                     "early_geometry": egeo, "order": order_text, "aid": aid,
                     "learnability": learn_text, "text": text})
    return pd.DataFrame(rows)


SPEED_CLAIM = {"faster": "learns faster than", "slower": "learns slower than",
               "no effect": "no difference in learning speed resolved against",
               "not reached": "criterion not reached, no comparison with"}
GEOMETRY_CLAIM = {"raises": "more KA geometry than", "lowers": "less KA geometry than",
                  "mixed": "KA geometry changed in mixed directions against",
                  "no effect": "no change of KA geometry resolved against"}
ORDER_CLAIM = {"precedes": "KA geometry precedes the learning",
               "follows": "KA geometry follows the learning",
               "no geometry": "no significant KA geometry to order"}


def majority(calls: Sequence[str]) -> str:
    """The most frequent call; ties go to the one that occurs first (deterministic)."""
    calls = list(calls)
    if not calls:
        return ""
    return max(dict.fromkeys(calls), key=calls.count)


def activation_rows(verdicts: pd.DataFrame, order: pd.DataFrame, baseline: str,
                    target: str = "xor", n_seeds: int | None = None,
                    early_r2: float = 0.5) -> list[dict]:
    """Comparison rows (Recorder.compare keyword arguments, verdict "new result"): per
    oscillatory activation, whether it speeds learning and whether it raises KA geometry on
    ``target``; one row for H1c (the baseline's order of geometry and learning, the majority
    call over the primary metrics). The claim states what we found, the note its evidence."""
    seeds = f"{n_seeds} seeds, " if n_seeds else ""
    rows = []
    for _, v in verdicts.iterrows():
        rows.append(dict(claim=f"{v['activation']} {SPEED_CLAIM[v['speed']]} GeLU on {target}(32)",
                         source=SOURCE["activations"], paper_value="might accelerate learning",
                         ours_value=v["speed"], verdict=NEW,
                         note=f"{seeds}seed-paired t, Holm over targets. {v['text']}"))
        rows.append(dict(claim=f"{v['activation']}: {GEOMETRY_CLAIM[v['geometry']]} GeLU on "
                               f"{target}(32)", source=SOURCE["activations"],
                         paper_value="increases coordinate alignment / KA geometry",
                         ours_value=v["geometry"], verdict=NEW,
                         note=f"{seeds}primary metrics' excess, seed-paired t, Holm over "
                              f"targets; at R² ≥ {early_r2:g}: {v['early_geometry']}; {v['aid']}"))
    b = order[(order["activation"] == baseline) & (order["target"] == target)]
    if len(b):
        overall = majority(b["call"])
        rows.append(dict(claim=f"{baseline} {target}(32): {ORDER_CLAIM[overall]} (majority of the "
                               f"primary metrics)", source=SOURCE["activations"],
                         paper_value="does the structure aid learning or follow from optimisation?",
                         ours_value=overall, verdict=NEW,
                         note=f"{seeds}share of the final excess present at R² ≥ {early_r2:g}: "
                              + "; ".join(f"{primary_label(m, k)} {s:.2f} ({c})" for m, k, s, c in zip(
                                  b["metric"], b["k"], b["share"], b["call"]))))
    return rows


# ------------------------------------------------------------------------ study 2: depth
def layer_excess(metrics: pd.DataFrame, primary=PRIMARY) -> pd.DataFrame:
    """The excess of every primary metric of every layer's Jacobian, from
    :func:`kag_utils.p1.depth.depth_study`'s long ``metrics`` table (zero rows against the
    table's "zero_frac_init" of the same Jacobian and k). Returns depth, target, param, seed,
    state, layer, jacobian, metric, k, excess."""
    keys = ["depth", "target", "param", "seed", "state", "layer", "jacobian"]
    _check_columns(metrics, keys + ["metric", "k", "value"], "layer_excess")
    init = metrics[metrics["metric"] == "zero_frac_init"].set_index(keys + ["k"])["value"]
    d = metrics[_is_primary(metrics, primary)].copy()
    idx = pd.MultiIndex.from_frame(d[keys + ["k"]])
    z_init = init.reindex(idx).to_numpy()
    d["excess"] = [excess(m, v, zi if m == "zero_frac" else None)
                   for m, v, zi in zip(d["metric"], d["value"], z_init)]
    return d[keys + ["metric", "k", "excess"]].reset_index(drop=True)


def layer_location(ex: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """H2a: in which layer does KA geometry sit? Per (depth, target, param, state, jacobian,
    metric, k): each layer's excess (mean, se over seeds, one-sample p Holm-adjusted over the
    layers), every pair of layers compared by the seed-paired t of their excess difference
    (Holm over the pairs), and ``location``: "layer l" when layer l's excess exceeds every
    other layer's significantly (a 1-layer model: when it is significant), "spread" when some
    layer's excess is significant but none dominates, "absent" when none is. Columns
    ``excess_L<l>``, ``se_L<l>``, ``p_L<l>`` per layer, ``top`` (layer of the largest mean)."""
    rows = []
    keys = ["depth", "target", "param", "state", "jacobian", "metric", "k"]
    for key, g in ex.groupby(keys, sort=True, dropna=False):
        layers = sorted(g["layer"].unique())
        per = {l: g[g["layer"] == l].set_index("seed")["excess"] for l in layers}
        stats = {l: one_sample(per[l]) for l in layers}
        p_adj = dict(zip(layers, holm([stats[l]["p"] for l in layers])))
        sig = {l: call(stats[l]["mean"], p_adj[l], alpha) == "higher" for l in layers}
        means = {l: stats[l]["mean"] for l in layers}
        top = max(layers, key=lambda l: -math.inf if not math.isfinite(means[l]) else means[l])
        pairs = list(combinations(layers, 2))
        pres = []
        for a, b in pairs:
            both = pd.concat([per[a], per[b]], axis=1, keys=["a", "b"]).dropna()
            r = paired(both["a"], both["b"])
            r["p"] = degenerate_p(r["p"], r["diff"], r["diff_se"], r["n_pairs"])
            pres.append(r)
        padj = holm([r["p"] for r in pres])
        dominates = {l: len(layers) > 1 for l in layers}
        for (a, b), r, p in zip(pairs, pres, padj):
            c = call(r["diff"], p, alpha)               # a - b
            if c != "higher":
                dominates[a] = False
            if c != "lower":
                dominates[b] = False
        winners = [l for l in layers if dominates[l]]
        if len(layers) == 1:
            location = f"layer {layers[0]}" if sig[layers[0]] else "absent"
        elif winners:
            location = f"layer {winners[0]}"
        else:
            location = "spread" if any(sig.values()) else "absent"
        row = dict(zip(keys, key))
        for l in layers:
            row.update({f"excess_L{l}": stats[l]["mean"], f"se_L{l}": stats[l]["se"],
                        f"p_L{l}": p_adj[l]})
        rows.append({**row, "n_layers": len(layers), "top": int(top), "location": location})
    return pd.DataFrame(rows)


def depth_effect(ex: pd.DataFrame, layer: int = 1, jacobian: str = "input", base_depth: int = 1,
                 alpha: float = ALPHA) -> pd.DataFrame:
    """H2b: does depth change layer ``layer``'s geometry? Its excess at every other depth
    against ``base_depth`` (different models: Welch), per (target, param, state, metric, k),
    Holm over the depths; ``call`` "more" / "less" / "no effect"."""
    d = ex[(ex["layer"] == layer) & (ex["jacobian"] == jacobian)]
    if not (d["depth"] == base_depth).any():
        return pd.DataFrame()
    c = compare_to_baseline(d, ["target", "param", "state", "metric", "k"], "depth", base_depth,
                            "excess", None)
    _decide_paired(c, "welch_")
    c["p_holm"] = np.nan
    for _, idx in c.groupby(["target", "param", "state", "metric", "k"], sort=False,
                            dropna=False).groups.items():
        c.loc[idx, "p_holm"] = holm(c.loc[idx, "welch_p"].to_numpy())
    c["call"] = [call(d, p, alpha, "more", "less") for d, p in zip(c["welch_diff"], c["p_holm"])]
    return c


def depth_verdicts(location: pd.DataFrame, effect: pd.DataFrame, target: str = "xor",
                   jacobian: str = "input", state: str = "final") -> pd.DataFrame:
    """One row per depth > 1 on ``target``: where the geometry sits per primary metric
    (``locations``: "metric: location"), ``h2a`` (True when every primary metric whose
    geometry is present sits in layer 1 and at least one is), ``depth_change`` ("more" /
    "less" / "mixed" / "no effect" of layer 1 against the 1-layer model) and ``text``."""
    rows = []
    loc = location[(location["target"] == target) & (location["jacobian"] == jacobian)
                   & (location["state"] == state)]
    for depth in sorted(d for d in loc["depth"].unique() if d > 1):
        g = loc[loc["depth"] == depth]
        locs = list(g["location"])
        present = [x for x in locs if x != "absent"]
        h2a = bool(present) and all(x == "layer 1" for x in present)
        e = effect[(effect["target"] == target) & (effect["depth"] == depth)
                   & (effect["state"] == state)] if len(effect) else effect
        change = _overall(e["call"], "more", "less") if len(e) else "no effect"
        change = {"raises": "more", "lowers": "less"}.get(change, change)
        loc_text = "; ".join(
            f"{primary_label(m, k)}: {x} (excess by layer "
            + ", ".join(_pm(r[f"excess_L{l}"], r[f"se_L{l}"]) for l in range(1, int(depth) + 1))
            + ")" for (_, r), m, k, x in zip(g.iterrows(), g["metric"], g["k"], g["location"]))
        eff_text = ", ".join(f"{primary_label(m, k)} {c} ({_pm(d, s)})" for m, k, c, d, s in zip(
            e["metric"], e["k"], e["call"], e["welch_diff"], e["welch_diff_se"])) if len(e) else "n/a"
        text = (f"depth {int(depth)}, {target}, {jacobian} Jacobians: {loc_text}. Layer 1 against "
                f"the 1-layer model: {change} [{eff_text}].")
        rows.append({"depth": int(depth), "target": target, "jacobian": jacobian,
                     "locations": "; ".join(f"{primary_label(m, k)}: {x}" for m, k, x in zip(
                         g["metric"], g["k"], g["location"])),
                     "h2a": h2a, "depth_change": change, "text": text})
    return pd.DataFrame(rows)


def depth_rows(verdicts: pd.DataFrame, n_seeds: int | None = None) -> list[dict]:
    """Comparison rows ("new result") of the depth study: per depth, where the geometry sits
    and whether depth changes the first layer's; the claims state the finding."""
    seeds = f"{n_seeds} seeds, " if n_seeds else ""
    change = {"more": "more KA geometry in layer 1 than the 1-layer model",
              "less": "less KA geometry in layer 1 than the 1-layer model",
              "mixed": "layer 1's KA geometry changed in mixed directions against the 1-layer model",
              "no effect": "no change of layer 1's KA geometry resolved against the 1-layer model"}
    rows = []
    for _, v in verdicts.iterrows():
        where = ("KA geometry sits in layer 1" if v["h2a"] else
                 "KA geometry not confined to layer 1")
        rows.append(dict(claim=f"{v['depth']}-hidden-layer MLP on {v['target']}: {where}",
                         source=SOURCE["depth"],
                         paper_value="P1: first layer of 1-layer MLPs; P2: layer 1 > layer 2",
                         ours_value=v["locations"], verdict=NEW,
                         note=f"{seeds}composed Jacobians dh_l/dx, seed-paired t between layers, "
                              f"Holm over layer pairs. {v['text']}"))
        rows.append(dict(claim=f"{v['depth']}-hidden-layer MLP on {v['target']}: "
                               f"{change[v['depth_change']]}", source=SOURCE["depth"],
                         paper_value="not studied", ours_value=v["depth_change"], verdict=NEW,
                         note=f"{seeds}Welch t of layer 1's excess against the 1-layer model, "
                              f"Holm over depths."))
    return rows


# ------------------------------------------------------------ study 3: exact vs sampled
def bias_reading(bias: pd.DataFrame, z: float = 2.0, negligible_sd: float = 1.0) -> pd.DataFrame:
    """:func:`kag_utils.mnist.exact.sampling_bias`'s table with ``resolved`` (|z| > ``z``:
    the bias is larger than the draws' standard error of the mean can hide), ``negligible``
    (|bias| < ``negligible_sd`` standard errors of ONE sampled estimate) and ``call``:
    "no bias resolved", "biased, negligible" or "biased"."""
    _check_columns(bias, ["bias", "sd", "z", "bias_sd"], "bias_reading")
    b = bias.copy()
    b["resolved"] = b["z"].abs() > z
    b["negligible"] = b["bias_sd"].abs() < negligible_sd
    b["call"] = ["no bias resolved" if not r else "biased, negligible" if n else "biased"
                 for r, n in zip(b["resolved"], b["negligible"])]
    return b


def counts_label(n_rows: int, n_cols: int) -> str:
    return f"{int(n_rows)}x{int(n_cols)}"


def bias_summary(reading: pd.DataFrame, counts: Sequence[tuple[int, int]],
                 n_pixels: int = 784) -> pd.DataFrame:
    """Per nominal sampled grid of ``counts`` (row pairs x column pairs; a grid capped by the
    C(h, 2) row pairs or C(n_pixels, 2) column pairs there are is listed under its nominal
    counts): ``counts`` (label "RxC"), cells, resolved, not_negligible, the largest |bias| in
    SDs of one estimate (``max_abs_bias_sd``) and relative (``max_abs_rel_bias``), ``worst``
    (its metric, width and layer) and the metrics with a resolved bias."""
    _check_columns(reading, ["hidden", "n_rows", "n_cols", "metric", "layer", "bias_sd",
                             "rel_bias", "resolved", "negligible"], "bias_summary")
    rows = []
    for r, c in counts:
        cap_r = np.minimum(int(r), [math.comb(int(h), 2) for h in reading["hidden"]])
        cap_c = min(int(c), math.comb(int(n_pixels), 2))
        g = reading[(reading["n_rows"].to_numpy() == cap_r) & (reading["n_cols"] == cap_c)]
        if g.empty:
            continue
        worst = g.loc[g["bias_sd"].abs().idxmax()] if g["bias_sd"].notna().any() else None
        rows.append({"counts": counts_label(r, c), "cells": len(g),
                     "resolved": int(g["resolved"].sum()),
                     "not_negligible": int((~g["negligible"]).sum()),
                     "max_abs_bias_sd": float(g["bias_sd"].abs().max()),
                     "max_abs_rel_bias": float(g["rel_bias"].abs().max()),
                     "worst": (f"{worst['metric']} h={int(worst['hidden'])} {worst['layer']}"
                               if worst is not None else ""),
                     "resolved_metrics": ", ".join(sorted(set(g.loc[g["resolved"], "metric"])))})
    return pd.DataFrame(rows)


def bias_rows(summary: pd.DataFrame, p2_label: str, n_images: int, n_draws: int,
              hidden: Sequence[int]) -> list[dict]:
    """Comparison rows ("new result") of the exact-minor study: at P2's counts (the
    :func:`bias_summary` row labelled ``p2_label``, e.g. "10000x10000") and at the smallest
    grid (its first row)."""
    rows = []
    if summary.empty:
        return rows
    for label, what in ((p2_label, "P2's counts"), (summary["counts"].iloc[0], "the smallest grid")):
        s = summary[summary["counts"] == label]
        if s.empty or (what == "the smallest grid" and label == p2_label):
            continue
        s = s.iloc[0]
        if s["resolved"] == 0:
            ours = "no bias resolved"
        elif s["not_negligible"] == 0:
            ours = "biased, within 1 SE of one estimate"
        else:
            ours = f"biased by up to {s['max_abs_bias_sd']:.2g} SE of one estimate"
        rows.append(dict(claim=f"sampled 2-minor estimates at {what} ({label}) against all "
                               f"2-minors: {ours}",
                         source=SOURCE["exact"],
                         paper_value="all minors prohibitively expensive (sampled)",
                         ours_value=ours, verdict=NEW,
                         note=(f"exact vs {n_draws} draws on {n_images} test images, h in "
                               f"{list(hidden)}: {s['resolved']} of {s['cells']} bias cells "
                               f"resolved (|z| > 2), {s['not_negligible']} at >= 1 SE of one "
                               f"estimate; largest |bias| {s['max_abs_bias_sd']:.2g} SE "
                               f"({s['worst']}), largest relative {s['max_abs_rel_bias']:.2g}"
                               + (f"; resolved in {s['resolved_metrics']}"
                                  if s['resolved_metrics'] else ""))))
    return rows


# ---------------------------------------------------------------------- study 4: the KAN
def kan_excess(df: pd.DataFrame, q1: float = 0.01, primary=PRIMARY) -> pd.DataFrame:
    """The excess of every primary metric of each run of :func:`kag_utils.p1.kan.kan_vs_mlp`'s
    table (columns zero_frac_k1_q<q1>, zero_frac_init_k1_q<q1>, pr_norm_k2, ...): family,
    model, target, seed, metric, k, excess. Metrics the table lacks (rr_* without rotations)
    are skipped."""
    _check_columns(df, ["family", "model", "target", "seed"], "kan_excess")
    rows = []
    for metric, k in primary:
        col = f"zero_frac_k{k}_q{q1:g}" if metric == "zero_frac" else f"{metric}_k{k}"
        if col not in df.columns:
            continue
        init = (df[f"zero_frac_init_k{k}_q{q1:g}"] if metric == "zero_frac" else None)
        ex = excess(metric, df[col].astype(float), None if init is None else init.astype(float))
        for (_, r), e in zip(df.iterrows(), ex):
            rows.append({"family": r["family"], "model": r["model"], "target": r["target"],
                         "seed": r["seed"], "metric": metric, "k": int(k), "excess": float(e)})
    return pd.DataFrame(rows)


def kan_comparison(ex: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """H4: per (target, metric, k) each family's excess (mean, se, n, one-sample p: does the
    metric move?) and ``move_kan`` / ``move_mlp`` ("higher" = more KA geometry, "lower",
    "no effect" at alpha), ``kind`` ("same" unless both move significantly in opposite
    directions), the KAN against the MLP by Welch's t (diff, diff_se, t, p, ``p_holm`` over
    the metrics of a target) and ``size`` "larger" / "smaller" / "no effect"."""
    rows = []
    for key, g in ex.groupby(["target", "metric", "k"], sort=False):
        row = dict(zip(["target", "metric", "k"], key))
        vals = {}
        for fam in ("kan", "mlp"):
            v = g.loc[g["family"] == fam, "excess"]
            st = one_sample(v)
            vals[fam] = v
            row.update({f"{fam}_mean": st["mean"], f"{fam}_se": st["se"], f"{fam}_n": st["n"],
                        f"{fam}_p": st["p"], f"move_{fam}": call(st["mean"], st["p"], alpha)})
        opposite = {row["move_kan"], row["move_mlp"]} == {"higher", "lower"}
        row["kind"] = "different" if opposite else "same"
        w = welch(vals["kan"], vals["mlp"])
        w["p"] = degenerate_p(w["p"], w["diff"], w["diff_se"], min(row["kan_n"], row["mlp_n"]))
        row.update({f"welch_{k}": v for k, v in w.items()})
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = np.nan
    for _, idx in out.groupby("target", sort=False).groups.items():
        out.loc[idx, "p_holm"] = holm(out.loc[idx, "welch_p"].to_numpy())
    out["size"] = [call(d, p, alpha, "larger", "smaller") for d, p in
                   zip(out["welch_diff"], out["p_holm"])]
    return out


def kan_verdicts(cmp: pd.DataFrame) -> pd.DataFrame:
    """One row per target: ``kind`` ("same" when every metric's kind is, else "different"),
    ``size`` ("larger" when every primary metric's KAN excess is significantly larger,
    "smaller" when every one is smaller, "mixed" when some are larger and some smaller,
    "partly larger" / "partly smaller" when only some differ, "no effect" when none does) and
    ``text``."""
    rows = []
    for target, g in cmp.groupby("target", sort=False):
        kind = "same" if (g["kind"] == "same").all() else "different"
        sizes = list(g["size"])
        lg, sm = sizes.count("larger"), sizes.count("smaller")
        size = ("larger" if lg == len(sizes) else "smaller" if sm == len(sizes) else
                "mixed" if lg and sm else "partly larger" if lg else "partly smaller" if sm
                else "no effect")
        detail = "; ".join(
            f"{primary_label(r['metric'], r['k'])}: KAN {_pm(r['kan_mean'], r['kan_se'])} "
            f"({r['move_kan']}), MLP {_pm(r['mlp_mean'], r['mlp_se'])} ({r['move_mlp']}), "
            f"{r['size']} (Holm p = {r['p_holm']:.2g})" for _, r in g.iterrows())
        rows.append({"target": target, "kind": kind, "size": size,
                     "text": f"{target}: geometry of the {kind} kind, KAN {size} [excess: {detail}]"})
    return pd.DataFrame(rows)


def kan_rows(verdicts: pd.DataFrame, kan_label: str, mlp_label: str,
             n_seeds: int | None = None) -> list[dict]:
    """Comparison rows ("new result") of the KAN study, one per target."""
    seeds = f"{n_seeds} seeds, " if n_seeds else ""
    size = {"larger": "larger", "smaller": "smaller", "mixed": "larger in some metrics, smaller "
            "in others", "partly larger": "larger in some metrics", "partly smaller":
            "smaller in some metrics", "no effect": "no size difference resolved"}
    return [dict(claim=f"{kan_label} vs {mlp_label} on {v['target']}: KA geometry of the "
                       f"{v['kind']} kind, {size[v['size']]}", source=SOURCE["kan"],
                 paper_value="KANs build KA structure by design",
                 ours_value=f"{v['kind']} kind, {v['size']}", verdict=NEW,
                 note=f"{seeds}one-sample t of each excess, Welch KAN vs MLP, Holm over metrics. "
                      f"{v['text']}")
            for _, v in verdicts.iterrows()]


# ------------------------------------------------------------------ recorded numbers, answers
def activation_key(label: str) -> str:
    """A key for results files and manuscript macros: "gelu", "x_sin(a=0.1, b=10)" ->
    "x_sin_a0.1_b10"."""
    import re
    m = re.fullmatch(r"(\w+)\(a=([^,]+), b=([^)]+)\)", str(label))
    return f"{m.group(1)}_a{m.group(2)}_b{m.group(3)}" if m else str(label)


def target_key(target: str, param: Any = None) -> str:
    """"xor", ("lambda_xor", 0.8) -> "lambda_xor_0.8"."""
    if param is None or (isinstance(param, float) and math.isnan(param)):
        return str(target)
    return f"{target}_{float(param):g}"


def _f(x) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def activation_numbers(runs: pd.DataFrame, speed: pd.DataFrame, geometry: pd.DataFrame,
                       order: pd.DataFrame, verdicts: pd.DataFrame, baseline: str,
                       target: str = "xor") -> dict:
    """Study 1's numbers for the results file: per activation and target the seed mean (and
    se) of the epochs to the criterion over the runs that reached it, how many reached it, the
    mean final training and test R^2 (:func:`kag_utils.p1.activations.run_table`); the paired
    excess differences and calls of ``speed`` / ``geometry``; the baseline's H1c shares and
    calls on ``target``; each activation's verdicts on ``target``."""
    out: dict = {"epochs_to_criterion": {}, "reached": {}, "r2_train": {}, "r2_test": {},
                 "speed": {}, "geometry": {}, "order": {}, "verdict": {}}
    for (act, t, p), g in runs.groupby(["activation", "target", "param"], sort=False, dropna=False):
        a, tk = activation_key(act), target_key(t, p)
        e = g["epochs_to_criterion"].dropna()
        out["epochs_to_criterion"].setdefault(a, {})[tk] = {
            "mean": _f(e.mean()) if len(e) else None,
            "se": _f(e.std(ddof=1) / math.sqrt(len(e))) if len(e) > 1 else None}
        out["reached"].setdefault(a, {})[tk] = int(g["reached_criterion"].sum())
        out["r2_train"].setdefault(a, {})[tk] = _f(g["r2_train"].mean())
        out["r2_test"].setdefault(a, {})[tk] = _f(g["r2_test"].mean())
    for _, r in speed.iterrows():
        out["speed"].setdefault(activation_key(r["activation"]), {})[target_key(r["target"], r["param"])] = {
            "paired_diff": _f(r["paired_diff"]), "se": _f(r["paired_diff_se"]),
            "p_holm": _f(r["p_holm"]), "call": r["call"]}
    for _, r in geometry.iterrows():
        out["geometry"].setdefault(activation_key(r["activation"]), {}).setdefault(
            target_key(r["target"], r["param"]), {})[f"{r['metric']}_k{int(r['k'])}"] = {
            "excess": _f(r["mean"]), "excess_gelu": _f(r["mean_base"]),
            "paired_diff": _f(r["paired_diff"]), "se": _f(r["paired_diff_se"]),
            "p_holm": _f(r["p_holm"]), "call": r["call"]}
    b = order[(order["activation"] == baseline) & (order["target"] == target)]
    for _, r in b.iterrows():
        out["order"][f"{r['metric']}_k{int(r['k'])}"] = {
            "share": _f(r["share"]), "excess_checkpoint": _f(r["excess_checkpoint"]),
            "excess_final": _f(r["excess_final"]), "call": r["call"]}
    for _, v in verdicts.iterrows():
        out["verdict"][activation_key(v["activation"])] = {
            k: v[k] for k in ("speed", "geometry", "early_geometry", "aid")}
    return out


def depth_numbers(location: pd.DataFrame, effect: pd.DataFrame, verdicts: pd.DataFrame,
                  jacobians: Sequence[str] = ("input", "own"), state: str = "final") -> dict:
    """Study 2's numbers: per depth, target, Jacobian kind and primary metric the excess of each
    layer (seed mean, se) and the location call; layer 1 against the 1-layer model (Welch
    difference, Holm p, call); per depth the verdicts on xor."""
    out: dict = {"excess": {}, "location": {}, "depth_change": {}, "verdict": {}}
    loc = location[(location["state"] == state) & location["jacobian"].isin(list(jacobians))]
    for _, r in loc.iterrows():
        d, t = f"d{int(r['depth'])}", target_key(r["target"], r["param"])
        mk = f"{r['metric']}_k{int(r['k'])}"
        layers = {f"L{l}": {"mean": _f(r[f"excess_L{l}"]), "se": _f(r[f"se_L{l}"])}
                  for l in range(1, int(r["n_layers"]) + 1)}
        out["excess"].setdefault(d, {}).setdefault(t, {}).setdefault(r["jacobian"], {})[mk] = layers
        out["location"].setdefault(d, {}).setdefault(t, {}).setdefault(r["jacobian"], {})[mk] = \
            r["location"]
    for _, r in (effect[effect["state"] == state] if len(effect) else effect).iterrows():
        out["depth_change"].setdefault(f"d{int(r['depth'])}", {}).setdefault(
            target_key(r["target"], r["param"]), {})[f"{r['metric']}_k{int(r['k'])}"] = {
            "diff": _f(r["welch_diff"]), "se": _f(r["welch_diff_se"]),
            "p_holm": _f(r["p_holm"]), "call": r["call"]}
    for _, v in verdicts.iterrows():
        out["verdict"][f"d{int(v['depth'])}"] = {"h2a": bool(v["h2a"]),
                                                 "locations": v["locations"],
                                                 "depth_change": v["depth_change"]}
    return out


def bias_numbers(summary: pd.DataFrame, reading: pd.DataFrame,
                 counts: Sequence[tuple[int, int]], n_pixels: int = 784) -> dict:
    """Study 3's numbers: the :func:`bias_summary` per nominal grid, and per grid, width, layer
    and metric the exact value, the bias in SDs of one estimate and its call."""
    out: dict = {"summary": {}, "cells": {}}
    for _, s in summary.iterrows():
        out["summary"][s["counts"]] = {k: (s[k] if isinstance(s[k], str) else _f(s[k]))
                                       for k in ("cells", "resolved", "not_negligible",
                                                 "max_abs_bias_sd", "max_abs_rel_bias", "worst")}
    for r, c in counts:
        lab = counts_label(r, c)
        for _, x in reading.iterrows():
            if x["n_rows"] == min(int(r), math.comb(int(x["hidden"]), 2)) and \
                    x["n_cols"] == min(int(c), math.comb(int(n_pixels), 2)):
                out["cells"].setdefault(lab, {}).setdefault(f"h{int(x['hidden'])}", {}).setdefault(
                    x["layer"], {})[x["metric"]] = {"exact": _f(x["exact"]),
                                                    "bias_sd": _f(x["bias_sd"]),
                                                    "rel_bias": _f(x["rel_bias"]),
                                                    "call": x["call"]}
    return out


def kan_numbers(df: pd.DataFrame, cmp: pd.DataFrame, verdicts: pd.DataFrame) -> dict:
    """Study 4's numbers: per family and target the mean training / test R^2, stop epoch and
    parameter count; per target and primary metric both excesses, their difference, Holm p
    and the calls; per target the verdicts."""
    out: dict = {"runs": {}, "excess": {}, "verdict": {}}
    for (fam, t), g in df.groupby(["family", "target"], sort=False):
        out["runs"].setdefault(fam, {})[t] = {"r2_train": _f(g["r2_train"].mean()),
                                              "r2_test": _f(g["r2_test"].mean()),
                                              "stop_epoch": _f(g["stop_epoch"].mean()),
                                              "n_parameters": int(g["n_parameters"].iloc[0])}
    for _, r in cmp.iterrows():
        out["excess"].setdefault(r["target"], {})[f"{r['metric']}_k{int(r['k'])}"] = {
            "kan": _f(r["kan_mean"]), "kan_se": _f(r["kan_se"]), "mlp": _f(r["mlp_mean"]),
            "mlp_se": _f(r["mlp_se"]), "diff": _f(r["welch_diff"]), "p_holm": _f(r["p_holm"]),
            "move_kan": r["move_kan"], "move_mlp": r["move_mlp"], "size": r["size"]}
    for _, v in verdicts.iterrows():
        out["verdict"][v["target"]] = {"kind": v["kind"], "size": v["size"]}
    return out


def answers(act_verdicts: pd.DataFrame | None = None, order: pd.DataFrame | None = None,
            baseline: str = "gelu", depth_verdicts_: pd.DataFrame | None = None,
            bias_summary_: pd.DataFrame | None = None, p2_label: str = "10000x10000",
            kan_verdicts_: pd.DataFrame | None = None, target: str = "xor",
            early_r2: float = 0.5) -> dict:
    """The four answers in one sentence each (what the notebook prints and records under
    ``answer``), from the verdict tables of the studies that ran."""
    out = {}
    if act_verdicts is not None and len(act_verdicts):
        parts = [f"{v['activation']}: learning speed: {v['speed']}, KA geometry at the end: "
                 f"{v['geometry']} (at R² ≥ {early_r2:g}: {v['early_geometry']})"
                 for _, v in act_verdicts.iterrows()]
        text = f"Against GeLU on {target}(32): " + "; ".join(parts) + "."
        if order is not None:
            b = order[(order["activation"] == baseline) & (order["target"] == target)]
            if len(b):
                text += (f" With GeLU, the share of the final excess present at R² ≥ {early_r2:g}: "
                         + ", ".join(f"{primary_label(m, k)} {s:.2f} ({c})" for m, k, c, s in zip(
                             b["metric"], b["k"], b["call"], b["share"])) + ".")
        out["activations"] = text
    if depth_verdicts_ is not None and len(depth_verdicts_):
        out["depth"] = " ".join(
            f"Depth {v['depth']}, {v['target']}: "
            + ("KA geometry sits in layer 1" if v["h2a"] else f"not only in layer 1 ({v['locations']})")
            + f"; layer 1 against the 1-layer model: {v['depth_change']}."
            for _, v in depth_verdicts_.iterrows())
    if bias_summary_ is not None and len(bias_summary_):
        parts = []
        for _, s in bias_summary_.iterrows():
            tag = " (P2's counts)" if s["counts"] == p2_label else ""
            which = f" ({s['resolved_metrics']})" if s["resolved_metrics"] else ""
            parts.append(f"{s['counts']}{tag}: {int(s['resolved'])} of {int(s['cells'])} biases "
                         f"resolved{which}, the largest {s['max_abs_bias_sd']:.2g} SE of one "
                         f"estimate, at most {100 * s['max_abs_rel_bias']:.2g} % of the exact value")
        out["exact"] = "Sampled against exact 2-minors: " + "; ".join(parts) + "."
    if kan_verdicts_ is not None and len(kan_verdicts_):
        out["kan"] = "KAN against MLP: " + "; ".join(
            f"{v['target']}: {v['kind']} kind, {v['size']}" for _, v in kan_verdicts_.iterrows()) + "."
    return out
