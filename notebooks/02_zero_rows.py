# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Zero rows (P1 §IV.A)
#
# The first signature of Kolmogorov–Arnold geometry is the **zero row**: for a given input
# $x$, a hidden neuron (or a $k$-tuple of neurons) whose row of the size-$k$ minor matrix
# $J^{(k)}(x)$ — the absolute $k\times k$ minors of the Jacobian — is essentially zero. In a
# KA representation the inner functions are locally constant almost everywhere, so most rows
# vanish at any given $x$.
#
# "Essentially zero" needs a scale. P1 takes it from the **initial** model: a row is zero
# when its row mean $\bar\rho^{(k)}_j(x)$ (IV.2) falls below the $q^{(k)}$ quantile $Q^{(k)}$ of
# the initial model's row means (IV.3). With $q^{(1)} \in \{0.01\%, 0.1\%, 1\%\}$ and
# $q^{(k)} = 1 - \binom{m(1-q^{(1)})}{k}/\binom{m}{k}$ (IV.4), an untrained model shows a
# fraction $\approx q^{(k)}$ of zero rows by construction: the **false-positive rate**. A
# trained model has KA-like zero rows when it clearly exceeds it.
#
# Here: the Zipf plots of Figs. 2–3, **Table II** (zero and dependent zero rows of the
# $m = 32$ models), consistently zero rows, and a check on held-out inputs. All models come
# from notebook 01's runs (same configurations, so the run cache serves them).

# %% tags=["parameters"]
params_name = "default"
output_root = ".."
scheduler = None
seeds = [0, 1, 2, 3]
width = 32                   # the m of Table II
targets = ["xor", "linear", "random"]
batch_size = 250
max_epochs = 10_000
patience = 50
q1s = [0.0001, 0.001, 0.01]  # Table II's q(1)
n_x = 1000                   # evaluation inputs: the training set
n_rot = 100                  # rotations for the RR (computed here, shared with notebook 03)
n_x_rot = 250                # inputs for the RR
zipf_seed = 0                # the model seed shown in Figs. 2-3
test_check = True            # recompute Table II on the held-out test inputs
es_monitors = ["train_batch_mse", "train_last_batch_mse", "train_mse", "val_mse"]   # early-stopping readings (A-06; notebook 01 section 4)
es_min_deltas = [0.0, 1e-4, 1e-3]   # improvement thresholds of the readings
es_restore = [True, False]   # restore the best epoch (True) or keep the last weights
es_n_x = 250                 # inputs for the readings' metrics (no rotation ratios)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import kag_utils as kag
from kag_utils.figures import style
from kag_utils.p1 import summaries
from kag_utils.readings import zero_rows as zr
from kag_utils import readings as rule
from kag_utils.readings.aggregate import summarize

session = kag.start("02_zero_rows", params_name, output_root)   # records the parameters cell
record = session.record
record.default_ours_n = len(seeds)   # seeds behind every "ours" standard deviation
configs = kag.main_grid(targets, [width], seeds, batch_size=batch_size, max_epochs=max_epochs,
                        patience=patience)
ecfg = kag.EvalConfig(n_x=n_x, q1s=tuple(q1s), n_rot=n_rot, n_x_rot=n_x_rot)
runs = {(r.config.target, r.config.seed): r for r in kag.ensure_runs(configs, scheduler=scheduler)}
# rr_readings: notebook 03 shows the signed-maximum reading of IV.6-IV.7 next to the literal
# one; asking for both here computes them in the same kernel pass as this notebook's RR
df = kag.evaluate(configs, ("final",), ecfg, scheduler=scheduler, rr_readings=("abs", "signed"))
# Table II on the held-out test inputs (thresholds from the initial model on the same inputs)
df_test = (kag.evaluate(configs, ("final",), kag.EvalConfig(split="test", n_x=n_x, q1s=tuple(q1s),
                                                            n_rot=0), scheduler=scheduler)
           if test_check else None)
x_eval = kag.make_inputs(1000, "train")[:n_x]
m = width
print(zr.false_positive_table(q1s, m).map(lambda v: f"{v:.4g} %"))   # q^(k) (IV.4), percent

# %% [markdown]
# ## Fig. 2: Zipf plots of the row means of xor(32)
#
# For one model seed we pool the row means $\bar\rho^{(k)}_j(x)$ over all rows $j$ and
# all 1000 training inputs, sort them, and plot value against normalised rank, trained against
# initial, with the thresholds $Q^{(k)}$ for the three values of $q^{(1)}$ as horizontal
# lines. The paper's reading: the initial row means rise steadily over roughly the first
# half of the ranks before a distinct high-rank regime; the trained model adds a **low-rank
# regime** — a population of row means far below anything the initial model produces.
# Size-3 row means reach machine precision; like the paper we cut the axis at $10^{-16}$.

# %%
FLOOR = 1e-16


def zipf_panel(ax, run, k, title):
    J_tr = kag.first_layer_jacobian(run.params, x_eval)
    J_in = kag.first_layer_jacobian(run.init_params, x_eval)
    for J, label in ((J_in, "initial"), (J_tr, "trained")):
        rm = np.sort(kag.row_means(J, k).reshape(-1).numpy())
        # millions of sorted values: draw ~6,000 ranks, dense at both ends (a log-scale plot
        # of a sorted curve looks the same and draws in milliseconds)
        n = rm.size
        ends = np.geomspace(1, n, 2000)
        idx = np.unique(np.concatenate([np.linspace(0, n - 1, 2000), ends - 1, n - ends])
                        .round().astype(int))
        ax.plot(idx / max(n - 1, 1), np.maximum(rm[idx], FLOOR), color=style.color(label), label=label,
                lw=1.3)
    for q1, ls in zip(q1s, (":", "--", "-.")):
        ax.axhline(kag.zero_threshold(J_in, k, kag.false_positive_rate(q1, m, k)), color="0.2",
                   ls=ls, lw=0.9, label=f"$Q^{{(k)}}$ at $q^{{(1)}}$ = {100 * q1:g}%")
    ax.set_yscale("log")
    ax.set_ylim(FLOOR / 3, None)
    ax.set_xlabel("normalised rank")
    ax.set_title(title)


fig, axes = style.panel_grid(3, panel_height=2.3)
for ax, k in zip(axes, (1, 2, 3)):
    zipf_panel(ax, runs["xor", zipf_seed], k, f"({'abc'[k - 1]}) size-{k} row means")
axes[0].set_ylabel(r"row mean $\bar\rho^{(k)}_j(x)$")
style.figure_legend(fig, axes[:1])
fig.suptitle(f"Zipf plots of xor({m}), seed {zipf_seed}")
session.savefig(fig, "fig2_zipf_xor")
plt.show()

# %% [markdown]
# ## Fig. 3: size-3 row means across targets
#
# The paper's progression: `linear(32)` closely tracks the initial model, `random(32)`
# deviates somewhat, `xor(32)` shows a noticeable low-rank regime.

# %%
fig, axes = style.panel_grid(len(targets), panel_height=2.3, sharey=True)
for ax, target in zip(axes, targets):
    zipf_panel(ax, runs[target, zipf_seed], 3, f"{target}({m})")
axes[0].set_ylabel(r"size-3 row mean")
style.figure_legend(fig, axes[:1])
fig.suptitle(f"Size-3 row means, seed {zipf_seed}")
session.savefig(fig, "fig3_zipf_targets")
plt.show()

# %% [markdown]
# ### Figs. 2–3 as measured statements
#
# * "The initial row means rise over roughly the first 50 % of ranks before crossing over to a
#   distinct high-rank behaviour": the normalised rank of the Zipf curve's inflection (where
#   log10 of the sorted row means rises slowest, `figure_stats.zipf_inflection`) of each seed's
#   initial model, `readings.near` 0.5 with the "about" tolerance, for $k = 1, 2, 3$.
# * "A novel low-rank regime" after training: the share of trained row means below the
#   initial model's $q^{(1)} = $ `min(q1s)` threshold exceeds the false-positive rate $q^{(k)}$
#   by more than 2 SE over seeds (`readings.exceeds`), for `xor(32)` at $k = 1, 2, 3$.
# * The progression `linear` → `random` → `xor`: that low-rank share at $k = 3$ increases in
#   this order (`readings.monotone`).
# * "Size-3 row means can approach machine precision": log10 of each seed's smallest positive
#   size-3 row mean of `xor(32)` lies below −16 (the figure's cut-off) by more than 2 SE.

# %%
q_lo = min(q1s)
infl = summarize(summaries.initial_inflections([runs[targets[0], s_] for s_ in seeds], x_eval),
                 "k", "inflection")
display(infl.round(3))
for r_ in infl.to_dict("records"):
    k = int(r_["k"])
    res = rule.near(r_["inflection_mean"], 0.5, r_["inflection_se"], "about")
    record.add(f"fig2_initial_inflection.k{k}", {"mean": r_["inflection_mean"], "se": r_["inflection_se"]})
    record.compare(f"Fig 2 initial size-{k} row means rise over ~the first 50% of ranks",
                   "P1 Fig 2 / Sec IV.A text", 0.5, float(r_["inflection_mean"]),
                   verdict=res["verdict"],
                   note="inflection rank of the initial Zipf curve (slowest rise of log10 row "
                        "mean), mean over seeds; rule: readings.near(., 0.5, SE, 'about')",
                   cause="" if res["verdict"] == "reproduced" else
                   "the initial Zipf curve turns over at another rank: it depends only on the "
                   "init (A-04) and the input distribution (A-01)")
if "xor" in targets:
    for k, low in zr.low_rank_regime(df, "xor", q_lo, m).items():
        res = low["reading"]
        record.compare(f"Fig 2 xor({m}) training opens a low-rank regime (size-{k} row means)",
                       "P1 Fig 2 / Sec IV.A text", f"> q({k}) = {100 * low['fpr']:.4g}%",
                       f"{100 * low['mean']:.4g}% below Q({k}) at q1 = {100 * q_lo:g}% (z = {res['z']:.1f})",
                       verdict=res["verdict"],
                       note="rule: readings.exceeds(share below the initial threshold, SE, q(k))",
                       cause="" if res["verdict"] == "reproduced" else
                       "no significant excess of near-zero row means over the false-positive rate")
    tiny = summaries.smallest_row_means([runs["xor", s_] for s_ in seeds], x_eval, 3)
    prec = zr.machine_precision(tiny)
    res = prec["reading"]
    record.add(fig2_xor_min_size3_row_mean_log10={f"seed{int(r_.seed)}": {"log10_min": r_.log10_min, "exact_zeros": int(r_.exact_zeros)} for r_ in tiny.itertuples()})
    record.compare(f"Fig 2 xor({m}) size-3 row means approach machine precision (below 1e-16)",
                   "P1 Fig 2 caption", "< 1e-16", f"10^{prec['mean']:.1f} "
                   f"(smallest positive, mean of log10 over seeds; {prec['exact_zeros']} exact zeros)",
                   verdict=res["verdict"], note="rule: readings.exceeds(log10 min, SE, -16, direction=-1)",
                   cause={"reproduced": "", "inconclusive": "the smallest row mean varies too "
                          "much between seeds to tell with this many seeds"}.get(
                       res["verdict"], "our smallest size-3 row means stay above 1e-16: fewer "
                       "saturated sigma'(z)"))
if {"xor", "linear", "random"} <= set(targets):
    order = ["linear", "random", "xor"]
    grow = zr.low_rank_order(df, order, q_lo, k=3)
    res = grow["reading"]
    record.compare(f"Fig 3 low-rank regime grows linear -> random -> xor ({m})", "P1 Fig 3 / Sec IV.A text",
                   "linear < random < xor",
                   " < ".join(f"{t} {100 * v:.3g}%" for t, v in zip(order, grow["means"])),
                   verdict=res["verdict"],
                   note=f"share of size-3 row means below the initial threshold at q1 = {100 * q_lo:g}%; "
                        "rule: readings.monotone",
                   cause="" if res["verdict"] == "reproduced" else
                   "random(32) memorises under our early-stopping rule (A-06) and opens a larger "
                   "low-rank regime than xor(32)")

# %% [markdown]
# ## Table II: zero rows and dependent zero rows of the $m = 32$ models
#
# *Zero (%)*: the share of all (input, size-3 row) pairs that are zero rows.
# *Dependent(k) (%)*: zero rows of $J^{(k)}$ none of whose $(k-1)$-subsets is a zero row of
# $J^{(k-1)}$ — the zero comes from (near) linear dependence of the rows, not from a vanishing
# Jacobian row — again as a share of all size-$k$ rows (§2.7; the size-3 condition uses the
# corrected index set of A-33). Thresholds come from each seed's own initial model;
# mean ± std over seeds.

# %%
table2 = zr.table2(df, targets, q1s, m)     # cells: (mean, std) over seeds, percent
zr.table2_display(table2, q1s, m)

# %%
causes = {
    "xor": ("4 model seeds whose initialisations differ from the paper's (unknown seeds, A-05) "
            "and the early-stopping rule (A-06) shape the trained Jacobian; Table II's own seed "
            "spread is large"),
    "linear": ("linear(32) stays near its initial model, so its zero rows sit at the "
               "false-positive rate q(k), which depends only on the threshold rule; a difference "
               "means a different pooling or quantile method for Q(k) (A-12) or training "
               "drifting further from the initial model"),
    "random": ("random(32) memorises under our early-stopping rule far longer than under the "
               "paper's (notebook 01, section 4; A-06), which drives its Jacobian away from "
               "the initial model"),
}
# the Table II rows at q(1) = 1 % under every early-stopping reading (notebook 01, section 4)
es_table = kag.early_stopping.table_study(
    "Table II", seeds, dict(batch_size=batch_size, max_epochs=max_epochs, patience=patience),
    es_monitors, es_min_deltas, es_restore, es_n_x, scheduler=scheduler)
# each cell: its numbers; where P1 prints a value, its row with the held-out test inputs and
# the early-stopping readings as alternative readings
for c in zr.table2_comparisons(table2, q1s, len(seeds), causes, df_test,
                               lambda claim: kag.early_stopping.compare_readings(es_table, claim)):
    record.add(**c["numbers"])
    if c["comparison"] is not None:
        record.compare(**c["comparison"])

# %% [markdown]
# ### What the paper says about Table II, checked
#
# * `xor(32)` has a significant number of zero rows: well above the false-positive rate.
# * `linear(32)` and `random(32)` "closely track" the false-positive rates $q^{(k)}$.
# * The percentages are "well below that of the KA ideal", which would have a single non-zero
#   row in the size-3 minor matrix on average: $1 - 1/\binom{32}{3} = 99.98\%$ zero rows.
# * Dependent zero rows are "quite small": most zero rows of $J^{(2)}, J^{(3)}$ come from zero
#   rows of $J$ itself — but not all.

# %%
ex = zr.xor_excess(table2, q1s, m)    # per q(1): q(3) and the xor zero rows, percent
q3 = {q1: v["fpr"] for q1, v in ex.items()}
xor3 = {q1: v["zero"] for q1, v in ex.items()}
excess = {q1: v["excess"] for q1, v in ex.items()}
record.add(xor_zero_excess_over_fpr={f"q{q1:g}": v for q1, v in excess.items()})
if "xor" in targets:
    record.compare("xor(32) size-3 zero rows exceed false-positive rate q(3) (q1=1%)",
                   "P1 Sec IV.A text", "significant excess",
                   f"{xor3[0.01][0]:.2f}% vs q(3) = {q3[0.01]:.2f}% ({excess[0.01]:.1f}x)",
                   agree=xor3[0.01][0] - 2 * xor3[0.01][1] > q3[0.01],
                   note="" if xor3[0.01][0] - 2 * xor3[0.01][1] > q3[0.01] else
                   "the xor zero-row excess is within 2 std of the false-positive rate")
# "track q(k)": one rule for every such row (here and notebook 04's Fig. 8a):
# readings.near(value, q(k), SE over seeds, "close to"), i.e. within 10 % of q(k) + 2 SE.
# Under it the paper's own linear(32) value (3.671 ± 0.256 % against q(3) = 3.067 %, 1.20 x)
# would sit just outside: the words allow less than the paper's numbers show.
for target in [t for t in ("linear", "random") if t in targets]:
    tr = zr.tracks_fpr(df, target, m, q1=0.01, k=3, wording="close to")
    ratio, res = tr["ratio"], tr["reading"]
    record.add(f"{target}_zero_over_fpr_q0.01", ratio)
    record.compare(f"{target}(32) size-3 zero rows track q(3) (q1=1%)", "P1 Sec IV.A text",
                   tr["fpr"], tr["mean"], verdict=res["verdict"],
                   note=f"{ratio:.2f} x q(3) (%); rule: readings.near(., q(3), SE, 'close to'), "
                        "the rule of every 'tracks q(k)' row",
                   cause="" if res["verdict"] == "reproduced" else causes[target])
ka_ideal = zr.ka_ideal_pct(m, 3)
record.compare("zero rows well below the KA ideal", "P1 Sec IV.A text",
               f"< {ka_ideal:.2f}%", f"max {max(v[0] for v in xor3.values()):.2f}%",
               agree=max(v[0] for v in xor3.values()) < ka_ideal / 2,
               note="" if max(v[0] for v in xor3.values()) < ka_ideal / 2 else "unexpected")
dep_share = zr.dependent_share(df, "xor", q1s, k=3)
print("share of xor(32) size-3 zero rows that are dependent:", dep_share.round(3).to_dict())
record.add(xor_dependent_share_of_zero_k3={f"q{q1:g}": float(v) for q1, v in
                                           zip(q1s, dep_share.values)})
record.compare("most, but not all, xor(32) zero rows come from zero Jacobian rows",
               "P1 Sec IV.A text", "dependent share small but non-zero",
               f"{100 * dep_share.max():.1f}% at most", agree=0 < dep_share.max() < 0.5,
               note="" if 0 < dep_share.max() < 0.5 else
               "dependent zero rows are absent or a majority in our models")

# %% [markdown]
# ### Zero rows at $k = 1, 2$ (not tabulated in the paper)

# %%
record.add(**zr.zero_rows_by_k_numbers(df, targets, q1s))
zr.zero_rows_by_k(df, targets, q1s, m)

# %% [markdown]
# ## Consistently zero rows
#
# A row that is zero for at least 99% of inputs is a **dead neuron** (or a dead tuple):
# structured sparsification of the weights, not KA patterning. P1 finds "no appreciable
# consistently zero rows" at the critical batch size, hence "essentially all zero rows are due
# to KA-like patterning of the Jacobian (i.e. vanishing σ′ in (II.3))". Counts per seed:

# %%
cz = zr.consistent_counts(df, q1s, m)       # per model and k; columns per q(1)
cz_total = zr.consistent_totals(cz, q1s)
cz_total

# %%
# Dead neurons are counted at k = 1: one dead neuron makes m - 1 size-2 and C(m-1, 2) size-3
# rows consistently zero, so the k = 2, 3 counts above only echo it.
dead_xor = zr.dead_neuron_counts(cz, f"xor({m})", q1=0.01)
record.add(consistently_zero_rows_total={f"{mod}.k{k}": {c: int(v) for c, v in row.items()}
                                         for (mod, k), row in cz_total.iterrows()})
record.add(xor_dead_neurons_per_model=float(dead_xor.mean()))
record.compare("no appreciable consistently zero rows at B = 250 (xor(32))", "P1 Sec IV.A text",
               "none appreciable", f"{int(dead_xor.sum())} dead neuron(s) (k = 1, q1 = 1%) in "
               f"{len(dead_xor)} models", agree=float(dead_xor.mean()) <= 1.0,
               note="" if float(dead_xor.mean()) <= 1.0 else
               "our xor(32) models average more than one dead neuron at B = 250 (different "
               "seeds and initialisations, A-05; early stopping, A-06)")

# %% [markdown]
# "Large negative biases [have] not been the cause of the consistently zero rows": for every
# consistently zero size-1 row of the $m = 32$ models ($q^{(1)} = 1\%$), is its pre-activation
# $z_j(x)$ below −3 at every input (silenced by a negative bias in GeLU's flat tail,
# `dead_neurons.bias_silenced`) or not (small weights)? Rule: reproduced when no such row is
# bias-silenced; inconclusive when there are no consistently zero rows to attribute.

# %%
dead = summaries.dead_row_table(runs.values(), x_eval, q1=0.01)
display(dead)
bias = zr.bias_reading(dead)
n_dead, n_bias, v_bias = bias["consistently_zero"], bias["bias_silenced"], bias["verdict"]
record.add(dead_rows_bias_silenced={"consistently_zero": n_dead, "bias_silenced": n_bias})
record.compare("negative biases are not the cause of consistently zero rows (m = 32, B = 250)",
               "P1 Sec IV.A text", "not the cause",
               f"{n_bias} of {n_dead} consistently zero rows bias-silenced", verdict=v_bias,
               note="bias-silenced: z_j(x) < -3 at every input; rule: none of them",
               cause={"inconclusive": "no consistently zero rows at B = 250 to attribute",
                      "not reproduced": "some consistently zero rows of our models are silenced "
                                        "by a large negative bias (different seeds, A-05)",
                      "reproduced": ""}[v_bias])

# %% [markdown]
# ## Check on held-out inputs
#
# P1 computed zero rows "on both training and test data". We recompute Table II's xor row on
# the 1000 test inputs (thresholds still from the initial model on the same inputs).

# %%
if test_check:
    record.add(**zr.test_numbers(df_test, targets, q1s))
    display(zr.train_test_table(df, df_test, targets, q1s, m))

# %% [markdown]
# ## Comparison to paper

# %%
print(record.tally_text())
with pd.option_context("display.max_colwidth", 120, "display.max_rows", 300):
    display(record.comparison_table())

# %% [markdown]
# ## Deviations and choices
#
# * Thresholds $Q^{(k)}$: per model seed, from that seed's initial model, pooling all rows and
#   all evaluation inputs, numpy's "linear" quantile.
# * Percentages are of all (input, row) pairs; dependent size-3 rows use only the size-2
#   condition.
# * Consistently zero: zero in at least 99% of inputs.
# * Evaluation inputs: the 1000 training inputs (A-11); P1 computed zero rows "on both
#   training and test data" without saying which Table II shows, so every Table II row carries
#   the held-out test inputs as its alternative reading (protocol-dependent if only they fit).
# * "Tracks q(k)": one rule for every such row, here and in notebook 04 (Fig. 8a):
#   `readings.near(value, q(k), SE, "close to")`, within 10 % of q(k) plus 2 SE.
# * Verbal Fig. 2–3 claims read as measured statements (cell "Figs. 2–3 as measured
#   statements"): Zipf inflection rank, low-rank share against q(k), the order of the three
#   targets, the smallest positive size-3 row mean.
# * Model seeds, data and early stopping as in notebook 01 (A-01…A-06).

# %%
session.save()
