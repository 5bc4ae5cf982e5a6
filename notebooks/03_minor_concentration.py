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
# # 03 · Minor concentration (P1 §IV.B)
#
# The second signature of KA geometry: the distribution of the $k\times k$ minors of $J(x)$
# becomes **concentrated** — a spike at zero together with a heavy tail of a few large
# minors — and the large minors are **aligned** with the neuron basis. P1 measures this with
# three observables, each compared with the same seed's initial model:
#
# * the **participation ratio** $PR^{(k)} = \langle \|J^{(k)}(x)\|_1 / \|J^{(k)}(x)\|_2\rangle_x$
#   (IV.5): between 1 (one minor carries everything) and $PR_{\max} = \sqrt{\binom{m}{k}\binom{n}{k}}$
#   (all equal); lower means more concentrated;
# * the **random rotation ratio** $\bar r^{(k)}$ (IV.6–IV.7): the largest minor of $J(x)$ over
#   the average largest minor of $R_pJ(x)$ for Haar-random rotations $R_p\in SO(m)$ of the
#   hidden space; above 1 means the big minors are aligned with the neurons, not an accident
#   of scale;
# * the **column divergence** (IV.11–IV.13): the KL divergence of each column's softmax over
#   rows from the initial model's, in base $\binom{m}{k}$.
#
# Here: Fig. 4 (size-3 minor distributions), **Table III** (PR of the $m = 32$ models),
# Fig. 5 (normalised PR over $m$), **Table IV** (rotation ratios of toy Jacobians), Fig. 6
# (normalised rotation ratios) and Fig. 7 (column divergences), and the initial column
# entropies. All models are notebook 01's runs, served by the run cache.

# %% tags=["parameters"]
params_name = "default"
output_root = ".."
scheduler = None
seeds = [0, 1, 2, 3]
widths = [4, 8, 16, 32]
targets = ["xor", "linear", "random"]
batch_size = 250
max_epochs = 10_000
patience = 50
q1s = [0.0001, 0.001, 0.01]  # zero-row q(1): only to share notebook 02's cached evaluations
n_x = 1000                   # evaluation inputs: the training set
n_rot = 100                  # Haar rotations for the RR (paper: 400)
n_x_rot = 250                # inputs for the RR (paper: all 1000)
toy_n_rot = 400              # Table IV: rotations per toy Jacobian (as the paper)
toy_draws = 200              # Table IV: random draws of J2 and J3 to place the paper's values
toy_se_repeats = 20          # Table IV: independent rotation sets for J1's Monte-Carlo error
es_monitors = ["train_batch_mse", "train_last_batch_mse", "train_mse", "val_mse"]   # early-stopping readings (A-06; notebook 01 section 4)
es_min_deltas = [0.0, 1e-4, 1e-3]   # improvement thresholds of the readings
es_restore = [True, False]   # restore the best epoch (True) or keep the last weights
es_n_x = 250                 # inputs for the readings' metrics (no rotation ratios)

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import kag_utils as kag
from kag_utils.figures import style
from kag_utils.p1 import pooling, toy_jacobians as toy
from kag_utils.readings import concentration as conc
from kag_utils.readings.concentration import READINGS
from kag_utils import readings as rule
from kag_utils.readings.aggregate import summarize

session = kag.start("03_minor_concentration", params_name, output_root)   # records the parameters cell
record = session.record
record.default_ours_n = len(seeds)   # seeds behind every "ours" standard deviation
configs = kag.main_grid(targets, widths, seeds, batch_size=batch_size, max_epochs=max_epochs,
                        patience=patience)
ecfg = kag.EvalConfig(n_x=n_x, q1s=tuple(q1s), n_rot=n_rot, n_x_rot=n_x_rot)
# both readings of IV.6-IV.7 (|minor| and signed maximum) from one kernel pass per state;
# notebook 02 asks for the same entries, so a fresh run computes them once
df = kag.evaluate(configs, ("final",), ecfg, scheduler=scheduler, rr_readings=("abs", "signed"))
runs = {(r.config.target, r.config.hidden[0], r.config.seed): r
        for r in kag.ensure_runs(configs, scheduler=scheduler)}
x_eval = kag.make_inputs(1000, "train")[:n_x]
big = max(widths)
print(f"rotation ratios from {n_rot} Haar rotations x {n_x_rot} inputs"
      + ("" if (n_rot, n_x_rot) == (400, 1000) else " (paper: 400 x 1000)"))

# %% [markdown]
# ## Fig. 4: size-3 minor distributions, $m = 32$
#
# All size-3 minors $|{\det J(x)[I, :]}|$ pooled over the evaluation inputs and seeds, in
# log$_{10}$ bins. Training stretches the distribution of `xor(32)` in both
# directions — "peakedness near zero" and "relatively heavy tails" — while `linear(32)` stays
# on top of its initial model.

# %%
tail_rows = []   # per target: each seed's tail shares of the trained minors against the initial
fig, axes = style.panel_grid(len(targets), sharey=True)
for ax, target in zip(axes, targets):
    pooled = pooling.pooled_minors([runs[target, big, s] for s in seeds], x_eval, 3)
    tail_rows.append(pooled.tail_shares.assign(target=target, k=3))
    # tens of millions of minors per panel: bin them with numpy (100 bins), let seaborn draw
    # the weighted bin centres, instead of handing it the raw values
    sns.histplot(pooled.log10_counts(100), x="log10 |minor|", weights="count", hue="model", bins=100,
                 stat="density", element="step", common_norm=False, ax=ax,
                 palette=style.palette(["initial", "trained"]))
    ax.set_title(f"{target}({big})")
style.figure_legend(fig, axes)
fig.suptitle(f"Size-3 minors of the m = {big} models (pooled over inputs and seeds)")
session.savefig(fig, "fig4_minor_distributions")
plt.show()

# %% [markdown]
# "Peakedness near zero" and "heavy tails", measured per seed against the same seed's initial
# model (`kag.tail_shares`): the share of trained size-3 minors below the initial 0.01
# quantile and above the initial 0.99 quantile (both 1 % without a change). The comparison
# rows for this claim ("App A Figs 4/13 ...") are recorded once, in notebook 05, with the same
# statistic and rule (`readings.exceeds` against 1 %); here the shares of all three targets:

# %%
tail = summarize(pd.concat(tail_rows, ignore_index=True), "target", ["below", "above"])
record.add(**conc.fig4_numbers(tail))
tail[["target", "below_mean", "below_se", "above_mean", "above_se"]].round(3)

# %% [markdown]
# ## Table III: size-$k$ participation ratios, $m = 32$
#
# Mean ± std over seeds, with the initial models (one per seed, shared by all targets) and
# the upper bound $PR_{\max}$.

# %%
table3 = conc.table3(df, targets, big)      # cells: (mean, std) over seeds, per k
conc.table3_display(table3, big)

# %%
pr_cause = {
    "xor": "seed-to-seed spread of trained xor(32) models (unknown paper seeds, A-05)",
    "linear": "linear(32) stays at its initial model, so this tracks the initial PR",
    "random": ("random(32) memorises longer under our early-stopping rule (notebook 01, "
               "section 4; A-06): its minors concentrate much more than the paper's"),
    "Initial": ("the initial PR depends only on the init (A-04, variance 1/n) and the input "
                "distribution (A-01); a small offset means the paper's inputs or init differ"),
}
# the Table III PR rows under every early-stopping reading (notebook 01, section 4)
es_table = kag.early_stopping.table_study(
    "Table III PR", seeds, dict(batch_size=batch_size, max_epochs=max_epochs, patience=patience),
    es_monitors, es_min_deltas, es_restore, es_n_x, scheduler=scheduler)
record.add(**conc.table3_numbers(table3, big))
# the PR rows P1 prints (at m = 32), then PR_max (a closed form: within 0.006 of P1's value)
for row in conc.table3_rows(table3, big, pr_cause,
                            lambda claim: kag.early_stopping.compare_readings(es_table, claim)):
    record.compare(**row)

# %% [markdown]
# ## Fig. 5: normalised participation ratio over $m$
#
# $PR^{(k)}_{\rm trained}/PR^{(k)}_{\rm initial}$ per seed, mean ± standard error.
# P1: the decrease of `xor(m)` "occurs for training $R^2 > 0.5$ (see Table I)" — i.e. at
# $m \ge 8$ but not at $m = 4$ ($R^2 = 0.38$) — and it shows up in the higher-$k$ minors
# rather than at $k = 1$. `linear` stays at 1.

# %%
long = conc.curves_long(df)   # target, m, seed, metric, k, value: for the figures


def by_m(metric, ylabel, title, name, ref=None):
    fig, axes = style.panel_grid(3, sharey=True)
    for ax, k in zip(axes, (1, 2, 3)):
        d = long[(long.metric == metric) & (long.k == k)]
        sns.lineplot(d, x="m", y="value", hue="target", marker="o", errorbar="se", ax=ax,
                     palette=style.palette(d.target.unique()))
        if ref is not None:
            ax.axhline(ref, color="0.3", ls="--", lw=0.9)
        ax.set_xscale("log", base=2)
        ax.set_xticks(widths, [str(w) for w in widths])
        ax.set_title(f"k = {k}")
        ax.set_ylabel(ylabel)
    style.figure_legend(fig, axes)
    fig.suptitle(title)
    session.savefig(fig, name)
    plt.show()


by_m("pr_norm", "PR trained / initial", "Normalised participation ratio "
     "(mean ± SE over seeds)", "fig5_normalised_pr", ref=1.0)
pr_sum = conc.curve_summary(df, "pr_norm")
pr_sum.round(3)

# %%
record.add(**conc.curve_numbers("fig5", pr_sum, "pr_norm"))
# xor: a significant drop (2 SE below 1) at every m >= 8, larger at k = 3 than at k = 1;
# linear: |PR_norm - 1| within 5 % at every (m, k)
drop = conc.pr_drop(pr_sum, widths, "xor", k=3, min_m=8) if "xor" in targets else None
dev = conc.linear_pr_deviation(pr_sum, "linear") if "linear" in targets else None
if drop is not None:
    record.add(fig5_xor_k3_significant_drop_at_m=drop["drop_m"])
for row in conc.fig5_rows(drop, dev, tol=0.05):
    record.compare(**row)

# %% [markdown]
# ## Table IV: random rotation ratios of toy Jacobians ($m = 7$, $n = 3$)
#
# $J_1 = [I_3; 0]$ is perfectly aligned (IV.8); $J_2$ and $J_3$ are single random draws with
# $N(0,1)$ and $U(-1,1)$ entries (IV.9, IV.10). The paper reports one number per cell from
# 400 rotations. With the literal definition and Haar rotations, $J_1$ gives about
# 1.32 / 1.66 / 2.14 — not the paper's 1.483 / 1.803 / 2.607, which lie many Monte-Carlo
# standard errors away (A-17: we found no rotation sampler or averaging variant that
# reproduces them; `tests/test_metrics.py` documents the search). For $J_2, J_3$ (unknown
# draws) we show where the paper's value falls among `toy_draws` draws of our own.
#
# **Two readings of "the largest minor"** (issue 12 item 5). (IV.6)–(IV.7) take the largest
# minor of $J$ and of each $R_pJ$; REPRODUCTION 2.2 reads it as the largest $|\det|$ (the
# minor matrix holds magnitudes), but the text never says so for the rotation ratio. The
# *signed maximum* reads it as the largest signed minor, rows and columns in increasing
# order. For $J_1$ both give $M = 1$; a rotated $J_1$'s largest signed minor is smaller than
# its largest $|\cdot|$, so the signed ratios are larger. Both readings come from one kernel
# pass (`kag.random_rotation_ratios_readings`).

# %%
j1 = toy.j1_ratio_sets(toy_n_rot, toy_se_repeats)      # reading -> [rotation set, k]
R = kag.fixed_rotations(toy.TOY_M, toy_n_rot, 0)
# name -> reading -> k -> [toy_draws] per-draw ratios
per_draw = toy.draw_ratios(toy.random_draws(toy_draws), R)
conc.table4_display(j1, per_draw)

# %% [markdown]
# Rows: the paper prints one 400-rotation estimate per cell, so its Monte-Carlo spread is that
# of one of our estimates: for $J_1$ `paper_sd` is our standard deviation over
# `toy_se_repeats` independent rotation sets (`paper_n` = 1) and ours is their mean; for
# $J_2, J_3$ the paper's value is one random draw, so `paper_sd` is the spread over our
# `toy_draws` draws (`paper_n` = 1) and ours is their mean. The literal reading is the
# default; the signed maximum is the alternative reading of the row (protocol-dependent if
# only it reproduces the paper).

# %%
cells = conc.table4_cells(j1, per_draw, toy_se_repeats, toy_draws)   # k, then J1, J2, J3
for c in cells:             # each cell's numbers and row (literal default, signed alternative)
    record.add(**c["numbers"])
    record.compare(**c["comparison"])
fit, n_fit = conc.table4_fit(cells)                      # reading -> claim -> verdict
table4_fit = pd.DataFrame(fit).rename(columns=READINGS)
record.add(table4_readings_fit=fit, table4_cells_reproduced=n_fit)
print("Table IV cells reproduced: " + ", ".join(f"{READINGS[r]} {n}/{len(fit[r])}"
                                                for r, n in n_fit.items()))
table4_fit

# %%
# Scaling checks: a global rescaling leaves every ratio unchanged; rescaling J1's three
# non-zero entries non-uniformly changes k = 1, 2 but cannot change k = 3 (one 3x3 minor).
sc = toy.scaling_checks(R, factor=5.0, diagonal=(1.0, 2.0, 4.0))
print("J1:", np.round(sc["base"], 4), " 5*J1:", np.round(sc["global"], 4),
      " diag(1,2,4) J1:", np.round(sc["nonuniform"], 4))
record.add(table4_scaling={"global": sc["global"], "base": sc["base"], "nonuniform": sc["nonuniform"]})
for row in conc.scaling_rows(sc, tol=1e-9, change=1e-3):
    record.compare(**row)

# %% [markdown]
# ## Fig. 6: normalised random rotation ratio over $m$
#
# $\bar r^{(k)}_{\rm trained}/\bar r^{(k)}_{\rm initial}$, one fixed rotation set per $m$ for
# all inputs, seeds and models. P1: all models are near 1 at $k = 1$; with growing $k$
# `xor` separates from `linear` and `random` with noticeably larger ratios, and "the
# xor(m) model's $k > 1$ random rotation ratio is greater than one for all $m$".

# %%
by_m("rr_norm", "RR trained / initial", "Normalised random rotation ratio "
     "(mean ± SE over seeds)", "fig6_normalised_rr", ref=1.0)
rr_sum = conc.curve_summary(df, "rr_norm")
record.add(**conc.curve_numbers("fig6", rr_sum, "rr_norm"))
rr_sum.round(3)

# %% [markdown]
# The same under the signed-maximum reading of (IV.6)–(IV.7) (Table IV above), side by side
# with the literal one at $m = 32$ (mean ± SE over seeds):

# %%
rr_sum_signed = conc.curve_summary(df, "rr_signed_norm")
record.add(**conc.curve_numbers("fig6_signed", rr_sum_signed, "rr_signed_norm"))
conc.readings_side_by_side(rr_sum, rr_sum_signed, big)

# %% [markdown]
# Rows. "Greater than one for all $m$": at every $m$, $k = 2$ and $3$ exceed 1 by more than 2
# standard errors over seeds (`readings.exceeds`, all points: `claims.all_of`). "All
# models $\approx 1$ at $k = 1$": every (target, $m$) within the "~" tolerance of 1
# (`readings.near`). "xor separates as $k$ grows": the gap between `xor` and the larger of
# `linear`, `random` at $m = 32$ increases with $k$ (`readings.monotone` over $k$ = 1, 2, 3).

# %%
if "xor" in targets:
    v_abs, ok_abs = conc.above_one(rr_sum, "rr_norm", widths)
    v_sig, ok_sig = conc.above_one(rr_sum_signed, "rr_signed_norm", widths)
    record.add(fig6_xor_k23_above_one={"abs": ok_abs, "signed": ok_sig})
    record.compare("xor(m) k>1 normalised RR > 1 for all m", "P1 Sec IV.B text", "all m",
                   f"significantly above 1 (k = 2 and 3) at m = {ok_abs}", verdict=v_abs,
                   readings=[{"reading": "signed maximum", "verdict": v_sig,
                              "ours_value": f"m = {ok_sig}"}],
                   cause="" if v_abs == "reproduced" else
                   "not significantly above 1 at some m: rotation-ratio sampling (n_rot x n_x_rot) "
                   "and 4 seeds")
k1 = conc.k1_near_one(rr_sum, "~")
v_near, far = k1["verdict"], k1["far"]
record.compare("all models ~1 at k=1 (Fig 6)", "P1 Sec IV.B text", "~1",
               f"range {k1['min']:.3f}-{k1['max']:.3f}",
               verdict=v_near, note="rule: readings.near(value, 1, SE, '~') at every (target, m)"
               + ("" if not far else "; outside or undecided: "
                  + ", ".join(f"{t}({m_}) {v:.2f}" for (t, m_), v in far.items())),
               cause="" if v_near == "reproduced" else
               "random(m) memorises under our early-stopping rule (A-06), and the k=1 ratio of a "
               "single model is noisy (one largest entry per input)")
if {"xor", "linear", "random"} <= set(targets):
    separation = conc.separation_by_k(rr_sum, big, "xor", ("linear", "random"))
    gaps, sep = separation["gaps"], separation["reading"]
    record.add(fig6_xor_gap_by_k={f"k{k}": {"gap": g, "se": e} for k, (g, e) in zip((1, 2, 3), gaps)})
    record.compare(f"Fig 6 xor separates from linear/random as k grows (m = {big})",
                   "P1 Fig 6 / Sec IV.B text", "gap increases with k",
                   " / ".join(f"{g:.3f} ± {e:.3f}" for g, e in gaps), verdict=sep["verdict"],
                   note="gap = xor - max(linear, random) of the normalised RR, ± SE, k = 1/2/3; "
                        "rule: readings.monotone over k",
                   cause="" if sep["verdict"] == "reproduced" else
                   "random(m) memorises under our early-stopping rule (A-06) and rises with xor")

# %% [markdown]
# ### Initial rotation ratios under both readings
#
# P1 says the **initial** ratios scale "as $c^k$ for some constant $c \approx 1.0$". Per width
# (mean ± std over seeds), literal |minor| against the signed maximum:

# %%
init_rr = conc.initial_rr(df)      # per width, over seeds; both readings
conc.initial_rr_display(init_rr)

# %% [markdown]
# Both readings give clearly more than 1 at $m = 32$ (literal about 1.3 / 1.6 / 2.1), growing
# with $m$: the $\sigma'(z)$ factors of a random model already make a few rows large (A-17 c).
# The normalised ratios of Fig. 6 divide this out. The row: $c$ = exp(slope of
# $\log \bar r^{(k)}$ against $k$) per seed at $m = 32$, mean ± std over seeds, against 1.0
# with the "approximate" tolerance.

# %%
record.add(**conc.initial_rr_numbers(init_rr))
c_fit = conc.initial_rr_c(df, big)       # per reading: c per seed, mean, sd, n; "verdict"
record.add(initial_rr_c_fit=c_fit["abs"]["mean"], initial_rr_c_fit_signed=c_fit["signed"]["mean"])
record.compare(**conc.initial_rr_c_row(c_fit, big))   # literal c; the signed c as alternative

# %% [markdown]
# ## Fig. 7: column divergence over $m$
#
# The KL divergence (IV.13, base $\binom{m}{k}$) of each column's softmax over rows, trained
# against the same seed's initial model at the same input, averaged over columns and inputs.
# P1: `linear` and `random` "stay close to their initial even-distributed values", while
# `xor` "differs noticeably", increasing with $m$ for $k = 2, 3$ and roughly constant for
# $k = 1$.

# %%
by_m("divergence", "column divergence", "Column divergence from the initial "
     "model (mean ± SE over seeds)", "fig7_column_divergence", ref=0.0)
dv_sum = conc.curve_summary(df, "divergence")
record.add(**conc.curve_numbers("fig7", dv_sum, "divergence"))
dv_sum.round(4)

# %%
if "xor" in targets:
    # xor above linear and random at every (m, k = 2, 3), and rising with m at every step
    for row in conc.divergence_rows(conc.divergence_order(dv_sum, widths, "xor", ks=(2, 3))):
        record.compare(**row)

# %% [markdown]
# Two more readings of Fig. 7. "`linear` and `random` stay close to their initial
# even-distributed values": at every $(m, k)$ their divergence from the initial model is
# `readings.near` 0, with the "near" tolerance taken as 10 % of `xor`'s divergence at the same
# $(m, k)$ (the effect the figure contrasts them with). "Relatively constant for $k = 1$":
# `xor`'s $k = 1$ divergence is `readings.stable` across $m$, each width within the
# "similar" tolerance (25 %, the reading of "about the same") of the mean over widths.

# %%
if "xor" in targets:
    for target in [t for t in ("linear", "random") if t in targets]:
        near0 = conc.stays_near_initial(dv_sum, target, widths, reference="xor")
        v, worst = near0["verdict"], near0["worst"]
        record.add(f"fig7_{target}_over_xor_max", worst)
        record.compare(f"Fig 7 {target}(m) stays near its initial values (divergence ~0)",
                       "P1 Sec IV.B text", "~0", f"at most {worst:.2f} x xor's divergence",
                       verdict=v, note="rule: readings.near(divergence, 0, SE, 'near', "
                                       "scale = xor's divergence) at every (m, k)",
                       cause="" if v == "reproduced" else
                       ("random(m) memorises under our early-stopping rule (A-06) and moves "
                        "away from its initial model" if target == "random" else
                        "linear(m) moves away from its initial model at some (m, k)"))
    xd = dv_sum[dv_sum.target == "xor"].set_index("m")
    st1 = rule.stable(xd["divergence_k1_mean"].to_numpy(), xd["divergence_k1_se"].to_numpy(),
                      "similar")
    record.add(fig7_xor_k1_stable=st1)
    record.compare("Fig 7 xor k=1 divergence relatively constant in m", "P1 Sec IV.B text",
                   "relatively constant",
                   " / ".join(f"{v:.4f}" for v in xd["divergence_k1_mean"]) + f" (m = {widths})",
                   verdict=st1["verdict"],
                   note="rule: readings.stable(..., 'similar'): every m within 25 % (+2 SE) of "
                        "the mean over m",
                   cause="" if st1["verdict"] == "reproduced" else
                   f"the k = 1 divergence changes with m (worst m = {widths[st1['worst_index']]}); "
                   "smaller models carry fewer rows for the softmax to concentrate on")

# %% [markdown]
# ## Initial column entropies (IV.12)
#
# With the softmax at unit temperature on the (small) initial minors, each column is close
# to uniform over rows: P1 reports the initial entropies are "very close to 1.0".

# %%
ent = summarize(df.drop_duplicates(["m", "seed"]), "m", [f"entropy_init_k{k}" for k in (1, 2, 3)])
record.add(**conc.entropy_numbers(ent))
lowest = conc.lowest_entropy(ent)
record.compare("initial column entropies very close to 1.0", "P1 Sec IV.B text", 1.0, lowest,
               agree=lowest > 0.95, note="" if lowest > 0.95 else "an initial entropy below 0.95")
ent.round(4)

# %% [markdown]
# ## Comparison to paper

# %%
print(record.tally_text())
with pd.option_context("display.max_colwidth", 120, "display.max_rows", 300):
    display(record.comparison_table())

# %% [markdown]
# ## Deviations and choices
#
# * Rotation ratio: Haar rotations (QR with sign correction, det fixed to +1), one set per
#   width shared by every input, seed and model; `n_rot` × `n_x_rot` as printed above
#   (the paper: 400 × 1000). Inputs whose minors are all exactly zero are excluded and counted.
# * Normalised metrics: per-seed ratio trained/initial, then mean ± SE.
# * Column softmax on raw minor magnitudes in float64 log-softmax.
# * Table IV: $J_1$ by the literal definition with its spread over independent rotation
#   sets; $J_2, J_3$ compared distributionally.
# * Fig. 4: 100 bins in log10 |minor|, exact zeros left out of the log axis.
# * **Which reading of "the largest minor" the paper's numbers fit** (issue 12 item 5). The
#   literal |minor| reading is the default everywhere; the signed maximum is shown beside it
#   in Table IV, Fig. 6 and the initial ratios, and enters each row as its alternative
#   reading. With the paper set (400 rotations, 20 rotation sets) $J_1$ gives
#   1.326 / 1.670 / 2.151 (Monte-Carlo sd 0.007 / 0.012 / 0.020) under |minor| and
#   1.464 / 1.846 / 2.496 (sd 0.012 / 0.012 / 0.026) under the signed maximum, against the
#   paper's 1.483 / 1.803 / 2.607: the paper's $J_1$ row lies **much closer to the signed
#   reading** (1.6 / 3.6 / 4.3 sd away, against 23 / 11 / 23 sd), and its $k = 1$ cell is
#   reproduced only under it; its $k = 2, 3$ cells fit neither. $J_2$, $J_3$ are single
#   draws whose spread covers the paper's values under both readings. The initial $m = 32$
#   ratios are well above 1 under both readings (c ≈ 1.25–1.3, not ≈ 1.0), so the $c^k$
#   claim does not decide between them. Verdict: the signed maximum is the better fit to
#   Table IV but not an exact one; the remaining gap is in the rotation sampling or
#   averaging the paper does not state.

# %%
session.save()
