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
# # 01 · Set-up: target functions, model, training protocol (P1 §II–III)
#
# Freedman & Mulligan (arXiv 2509.12326, "P1") train one-hidden-layer GeLU MLPs
# $f(x) = \sigma(x\cdot A + a)\cdot B + b$ (II.2) on functions of three variables and study the
# Jacobian $J(x)$ of the inner map $x \mapsto \sigma(x\cdot A + a)$ (II.3). This notebook sets
# the stage for the rest:
#
# 1. the target functions (III.1–III.3, IV.14, C.1, C.2);
# 2. the training protocol of §III and **Table I** (training $R^2$, III.5);
# 3. the **critical batch size** (III.4) that fixes $B = 250$;
# 4. the **early-stopping rule**, which the paper leaves open: every affected claim judged
#    under 24 readings of it, and the principle behind our default;
# 5. **Fig. 1**: weights and a Jacobian of `xor(16)` before and after training.
#
# Every trained model goes through the run cache (`kag_utils.ensure_runs`), so the later
# notebooks reuse these runs instead of retraining them.

# %% tags=["parameters"]
params_name = "default"      # which params/<set>.yaml ran this (the runner passes it)
output_root = ".."           # figures/ and results/ are written under this folder
scheduler = None             # Dask scheduler for sweeps: "local", "tcp://host:port"; None: in-process
seeds = [0, 1, 2, 3]         # model seeds
widths = [4, 8, 16, 32]      # hidden widths m
targets = ["xor", "linear", "random"]
batch_size = 250             # the paper's critical batch size
max_epochs = 10_000
patience = 50
cb_widths = [4, 8, 16, 32]   # critical batch size: xor(m) at batch 64 and full batch
cb_seeds = [0, 1, 2, 3]
cb_batch_small = 64
cb_batch_full = 1000
cb_criterion = 0.9           # criterion: training R^2 at least 0.9 x our Table-I xor(m) mean
es_monitors = ["train_batch_mse", "train_last_batch_mse", "train_mse", "val_mse"]   # early-stopping readings
es_min_deltas = [0.0, 1e-4, 1e-3]   # improvement thresholds of the readings
es_restore = [True, False]   # restore the best epoch (True) or keep the last weights
es_seeds = [0, 1, 2, 3]
es_n_x = 250                 # inputs for the readings' metrics (no rotation ratios)
es_random_widths = [4, 8, 16, 32]   # Table I random(m) widths judged under every reading
es_lambdas = [1.2, 1.5, 2.0, 2.5]   # lambda-xor(32) values judged under every reading
es_lambda_data_seeds = "model"   # lambda-xor inputs as notebook 04's data_seeds: "model" or "fixed"
fig1_width = 16
fig1_seed = 0
fig1_example = 0             # index of the training input whose Jacobian Fig. 1 shows

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

import kag_utils as kag
from kag_utils.figures import style
from kag_utils.p1 import summaries
from kag_utils.readings import claim_names as names
from kag_utils.readings import setup_tables
from kag_utils import paper_values as paper
from kag_utils.readings.aggregate import summarize

session = kag.start("01_setup", params_name, output_root)   # records the parameters cell
record = session.record
record.default_ours_n = len(seeds)   # seeds behind every "ours" standard deviation
protocol = dict(batch_size=batch_size, max_epochs=max_epochs, patience=patience)

# %% [markdown]
# ## 1. Target functions
#
# All targets map $[-1,1]^3 \to \mathbb{R}$. `xor` $=\prod_i \sin(\pi x_i)$ (III.1) is the
# main subject; `linear` $= x\cdot c + c_0$ (III.2) and `random` (III.3: i.i.d. $U(-1,1)$
# labels, an unlearnable task) are the controls. The interpolating families come back in
# notebooks 04–05: $\lambda$-xor $=\prod_i\sin(\lambda\pi x_i)$ (IV.14),
# SO($\alpha$)-xor (xor of rotated inputs, C.1) and
# $G(\lambda) = \prod_i e^{-x_i^2/2\lambda^2}$ (C.2).
#
# Inputs are $x \sim U([-1,1]^3)$: fixed training, validation and test sets of 1000
# points each, shared by every target and every model seed, so seeds differ only in their
# initialisation and mini-batch order. Below: slices at $x_3 = 0.5$.

# %%
grid1d = torch.linspace(-1, 1, 121, dtype=torch.float64)
X1, X2 = torch.meshgrid(grid1d, grid1d, indexing="xy")
plane = torch.stack([X1, X2, torch.full_like(X1, 0.5)], -1).reshape(-1, 3)
shown = [("xor", None), ("linear", None), ("lambda_xor", 0.5), ("lambda_xor", 1.5),
         ("so_xor", 1), ("gaussian", 0.3)]
fig, axes = style.panel_grid(len(shown) + 1, panel_height=1.75)
for ax, (name, param) in zip(axes, shown):
    z = kag.evaluate_target(name, plane, param).reshape(X1.shape)
    im = ax.imshow(z.numpy(), origin="lower", extent=(-1, 1, -1, 1), cmap="RdBu_r",
                   vmin=-float(z.abs().max()), vmax=float(z.abs().max()))
    ax.set_title(name if param is None else f"{name}({param})")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    ax.grid(False)
labels = kag.make_dataset("random")["train"][1]
axes[-1].hist(labels.numpy(), bins=30, color=style.color("random"))
axes[-1].set_title("random: labels")
axes[-1].set_xlabel("label")
fig.suptitle("Target functions (slices at $x_3 = 0.5$)")
session.savefig(fig, "fig0_targets")
plt.show()
info = kag.target_info("linear")
print("linear(x) = x . c + c0 with c =", np.round(info["c"].numpy(), 4), "c0 =", round(float(info["c0"]), 4))
record.add(linear_c=info["c"].tolist(), linear_c0=float(info["c0"]))

# %% [markdown]
# ## 2. Training protocol and Table I
#
# As in P1 §III: initial weights $A_{ij}\sim N(0, 1/n)$, $B_j \sim N(0, 1/m)$ (variances,
# A-04), zero biases; the initial model of a given (seed, $m$) is the same for every target.
# Adam (lr 0.01, betas 0.9/0.999), MSE loss, batch size 250, at most 10,000 epochs, early
# stopping with patience 50.
#
# **Our early-stopping rule** (the paper leaves it open, A-06): the monitored quantity is the
# epoch mean of the training mini-batch MSE, an improvement is any decrease
# (`min_delta = 0`), and after 50 epochs without one we stop and **restore the best epoch's
# weights**, which are "the trained model" in every notebook. The principle behind this
# default (the literal text plus framework defaults, stated before any comparison) is in
# section 4, which judges every affected claim under all 24 readings of the rule.
#
# Whole ensembles (all seeds and targets of one width) train as one batched tensor program;
# each member keeps its own mini-batch order and its own early stopping, and ends with
# bitwise the same weights as when trained alone (`tests/test_training.py`).

# %%
grid = kag.main_grid(targets, widths, seeds, **protocol)
# section 4's early-stopping study trains with this sweep: one trajectory per seed serves the
# default and every other reading of the stopping rule
es_readings = kag.early_stopping.reading_grid(es_monitors, es_min_deltas, es_restore)
es_claims = (kag.early_stopping.table_claims(es_seeds, protocol, es_random_widths)
             + kag.early_stopping.lambda_xor_claims(es_seeds, es_lambdas, protocol,
                                                    data_seeds=es_lambda_data_seeds))
runs = kag.ensure_runs(grid + kag.early_stopping.claim_configs(es_claims, es_readings),
                       scheduler=scheduler)[:len(grid)]
table = summaries.run_table(runs)                    # one row per run
t1 = summarize(table, ["target", "m"], ["train_r2", "test_r2", "epochs"])
setup_tables.table1_display(t1)

# %%
for row in t1.itertuples():
    record.add(f"table1.{row.target}.m{row.m}", {
        "train_r2_mean": row.train_r2_mean, "train_r2_std": row.train_r2_std,
        "test_r2_mean": row.test_r2_mean, "test_r2_std": row.test_r2_std,
        "epochs_mean": row.epochs_mean})
    if row.m in paper.TABLE_I.get(row.target, {}):
        p_mean, p_sd = paper.TABLE_I[row.target][row.m]
        note = ""
        if row.target == "random":
            note = ("random(m) is an unlearnable task whose training R^2 is set by how long the "
                    "model memorises before early stopping halts it; our monitor (epoch-mean "
                    "training mini-batch MSE, restore best) trains longer than the paper's "
                    "unstated rule (A-06; see the early-stopping readings in section 4)")
        elif row.target == "xor":
            note = ("4 seeds with different initialisations and batch orders than the paper's "
                    "(seeds unknown, A-05); small m is seed-sensitive")
        if not note:
            note = ("training stopped short of the paper's precision (fewer epochs in this "
                    "parameter set?)" if params_name != "paper" else
                    "unexplained: see the notebook")
        record.compare(names.table1_r2(row.target, row.m), "P1 Table I", p_mean,
                       row.train_r2_mean, paper_sd=p_sd, ours_sd=row.train_r2_std,
                       cause=note, resolution=1e-4)

fig, ax = plt.subplots(figsize=(style.width(0.52), 2.5))
sns.lineplot(table, x="m", y="train_r2", hue="target", marker="o", errorbar="sd", ax=ax,
             palette=style.palette(targets))
for t in targets:
    if t in paper.TABLE_I:
        ms = sorted(paper.TABLE_I[t])
        ax.errorbar(ms, [paper.TABLE_I[t][m][0] for m in ms],
                    yerr=[paper.TABLE_I[t][m][1] for m in ms], fmt="x", color=style.color("paper"),
                    capsize=3, label="P1" if t == targets[0] else None)
ax.set_xscale("log", base=2)
ax.set_xticks(widths, [str(m) for m in widths])
ax.set_ylabel("training $R^2$ (mean ± std)")
ax.set_title("Training $R^2$ (crosses: P1 Table I)")
session.savefig(fig, "table1_r2")
plt.show()

# %% [markdown]
# P1 says test performance is "indistinguishable" from training performance (no overfitting
# or grokking). For `xor` and `linear` the two agree closely; for `random` the test $R^2$ is at
# or below zero, as it must be for labels that carry no information about $x$ (App. B:
# "test $R^2 \lessapprox 0$").

# %%
gap = setup_tables.train_test_gap(table)
print(gap["by_target"])
learnable_gap, random_test = gap["learnable_max"], gap["random_test_max"]
record.add(test_gap_max_learnable=learnable_gap, random_test_r2_max=random_test)
record.compare("test R2 indistinguishable from train R2 (xor, linear)", "P1 Sec III text",
               "indistinguishable", f"max train-test gap {learnable_gap:.4f}",
               agree=learnable_gap < 0.05,
               note="" if learnable_gap < 0.05 else "a train-test gap above 0.05 (our threshold "
               "for 'indistinguishable') at some m")
if random_test is not None:
    record.compare("random(m) test R2 <~ 0", "P1 App B text", "<~ 0", f"max {random_test:.4f}",
                   agree=random_test < 0.01, note="" if random_test < 0.01 else
                   "positive test R2 on random labels would mean leakage between splits")

# %% [markdown]
# ## 3. Critical batch size (III.4)
#
# $B_c = E_{\min}/S_{\min}$: $E_{\min}$ is the number of examples processed to reach a
# criterion with batch size 64, $S_{\min}$ the number of optimisation steps to reach it with
# the full batch of 1000. The paper does not state the criterion; ours is a training
# $R^2 \ge 0.9\times$ our own Table-I `xor(m)` mean at that width, checked at the end of each
# epoch (so steps are resolved to whole epochs). The paper reports $B_c \approx 250$ as the
# largest over $m$ and uses $B = 250$ everywhere; so do we, whatever we measure here.

# %%
xor_mean = t1[t1.target == "xor"].set_index("m").train_r2_mean   # the criterion's reference
cb_cfgs = [kag.RunConfig(target="xor", hidden=(m,), seed=s, batch_size=b,
                         max_epochs=max_epochs, patience=patience)
           for m in cb_widths for s in cb_seeds for b in (cb_batch_small, cb_batch_full)]
cb = summaries.critical_batch_table(kag.ensure_runs(cb_cfgs, scheduler=scheduler), cb_widths,
                                    cb_seeds, xor_mean, criterion=cb_criterion,
                                    batch_small=cb_batch_small, batch_full=cb_batch_full)
cb

# %%
bc_max = setup_tables.critical_batch_max(cb)
for row in cb.itertuples():
    # B_c is undefined (None) at a width whose runs never reach the criterion
    record.add(f"critical_batch.m{row.m}", kag.defined({"E_min": row.E_min, "S_min": row.S_min,
                                                        "B_c": row.B_c,
                                                        "criterion_r2": row.criterion_r2}))
if bc_max is not None:
    record.add(critical_batch_max=bc_max)
    record.compare("critical batch size (max over m)", "P1 Sec III text",
                   paper.CRITICAL_BATCH_SIZE, bc_max, wording="approximate",
                   cause="B_c depends on the unstated criterion (A-07), on epoch-resolved step counts "
                   "and on 4 seeds; the paper gives one approximate value. All experiments use "
                   "B = 250 regardless")
fig, ax = plt.subplots(figsize=(style.width(0.45), 2.5))
sns.barplot(cb, x="m", y="B_c", color=style.color("xor"), ax=ax)
ax.axhline(paper.CRITICAL_BATCH_SIZE, ls="--", color="0.3", label="P1: B = 250")
ax.set_ylabel("$B_c = E_{min}/S_{min}$")
ax.legend()
ax.set_title("Critical batch size of xor(m)")
session.savefig(fig, "critical_batch_size")
plt.show()

# %% [markdown]
# ## 4. How much does the early-stopping rule matter?
#
# P1 says only "early-stopping with a patience parameter equal to 50 epochs". Three
# things are unstated: the **monitored quantity** (the epoch mean of the mini-batch training
# losses, the loss of the epoch's last mini-batch, the training-set MSE after the epoch, or a
# validation MSE), what counts as an **improvement** (`min_delta` 0, 1e-4 or 1e-3) and whether
# the **best epoch's weights are restored** or the last ones kept. Every combination is a
# *reading* of the sentence; we judge each affected claim under each of them.
#
# **The default reading, chosen before comparing with P1's numbers.** Principle: read the
# sentence literally and fill each gap with the framework default. P1 mentions no validation
# set and counts patience in *epochs*, so the monitor is the epoch-level training loss a
# training loop reports, the mean of the epoch's mini-batch losses (Keras' `loss`); any
# decrease is an improvement (`min_delta = 0`, the Keras/Lightning default); the model kept is
# the best epoch's (`restore_best = True`: the point of monitoring a best value; P1's Fig. 10
# caption also speaks of the "best training and test $R^2$ achieved"). P1 trains "on a set of
# 1000 examples" and names no validation set (a validation monitor is a reading we test, not
# the text). This is the rule every notebook uses; the study below does not change it.
#
# **Cost.** A reading does not change the training trajectory (the validation set is separate
# from the 1000 training inputs), so all readings of one seed are one trajectory that runs
# until its last reading stops; each reading keeps its own best epoch and weights
# (`tests/test_training.py` checks bit-equality with training under each rule alone).
# Readings that select the same epoch share one evaluation (no rotation ratios here).
#
# Affected claims: Table I's training $R^2$ of `random(m)`, `xor(32)`, `linear(32)`; Table II
# (zero and dependent zero rows at $q^{(1)} = 1\%$) and Table III (PR) at $m = 32$; and
# $\lambda$-xor(32) at and beyond the upper end of the Goldilocks window (P1 gives no number
# there: training $R^2$ is a new result; outside the window, "no KA geometry" is read as a
# normalised PR near 1 and size-3 zero rows near $q(3)$, with the "~" tolerance). The App. B
# `random(32)` claims at every batch size are in notebook 05.

# %%
es_ecfg = kag.EvalConfig(n_x=es_n_x, n_rot=0, q1s=(0.01,))
es_table = kag.early_stopping.sensitivity_table(es_claims, es_readings, ecfg=es_ecfg,
                                                scheduler=scheduler)
es_rows = kag.early_stopping.row_verdicts(es_table)
print(f"{len(es_readings)} readings x {len(es_claims)} claims; default: "
      f"{kag.early_stopping.reading_label(kag.early_stopping.DEFAULT_READING)}")
es_table.pivot(index="claim", columns="reading", values="verdict").loc[
    list(dict.fromkeys(es_table.claim)), list(dict.fromkeys(es_table.reading))]

# %%
fig = kag.early_stopping.verdict_heatmap(
    es_table, f"Verdict per claim and early-stopping reading ({len(es_seeds)} seeds; first "
    "column: our default)")
session.savefig(fig, "early_stopping_verdicts")
plt.show()
es_rows

# %%
es_values = es_table.pivot(index="claim", columns="reading", values="mean").loc[
    list(dict.fromkeys(es_table.claim)), list(dict.fromkeys(es_table.reading))]
for row in es_table.itertuples():
    record.add(f"early_stopping.{kag.early_stopping.slug(row.claim)}."
               f"{kag.early_stopping.slug(row.reading)}",
               kag.defined({"mean": row.mean, "sd": row.sd, "n": row.n, "verdict": row.verdict}))
for row in es_rows.itertuples():
    record.add(f"early_stopping_row.{kag.early_stopping.slug(row.claim)}",
               {"default_verdict": row.default_verdict, "verdict": row.verdict,
                "reproduced_by": list(row.reproduced_by)})
record.add(early_stopping_summary=kag.early_stopping.summary(es_rows, es_readings))
es_values.round(4)

# %% [markdown]
# The Table I rows (above, section 2) now carry every reading: a row whose default reading is
# not reproduced but some reading reproduces it is `protocol-dependent`, and lists them. The
# Table II and III rows (notebooks 02 and 03) do the same with the same reading grid.

# %%
attached = kag.early_stopping.attach_readings(record, es_table)
cols = ["claim", "paper_value", "ours_value", "verdict", "readings"]
pd.DataFrame([{c: r[c] for c in cols} for r in record.comparison if r["claim"] in attached],
             columns=cols)

# %% [markdown]
# **Reading.** For the learnable targets the rule barely matters. For `random(m)` it decides
# everything: with nothing to learn, the training $R^2$ measures how long the network
# memorised before the rule stopped it, and memorising is what reshapes the Jacobian. A
# validation or last-mini-batch monitor stops `random(32)` within about a patience of the
# start; the epoch-level training-loss monitors let it memorise for hundreds of epochs. Which
# readings reproduce which claim is in the heatmap; the rows above name them.

# %% [markdown]
# ## 5. Fig. 1: weights and Jacobian of xor(16) before and after training
#
# P1 Fig. 1 shows the first-layer weights $A^T$ and one Jacobian $J(x)$ of an `xor(16)`
# model. The paper's qualitative points: training makes $J$ "brighter" (larger entries) with
# sharp horizontal bars — whole rows near zero, set by $\sigma'(z_j)$ rather than by small
# rows of $A^T$ (II.3) — the first hint of KA geometry. Our seed and example are arbitrary
# so which rows are dark differs from the paper's "row 8".

# %%
cfg1 = kag.RunConfig(target="xor", hidden=(fig1_width,), seed=fig1_seed, **protocol)
run1 = kag.ensure_runs([cfg1], scheduler=scheduler)[0]
x_ex = kag.make_inputs(1000, "train")[fig1_example:fig1_example + 1]
panels = summaries.fig1_panels(run1, x_ex)     # {"initial" | "trained": {"A^T", "B", "J"}}
fig, axes = plt.subplots(2, 3, figsize=(style.width(0.62), 5.6),
                         gridspec_kw={"width_ratios": [3, 1.4, 3]})
for col, (key, kind) in enumerate((("A^T", "$A^T$"), ("B", "$B$"), ("J", "$J(x)$"))):
    lim = max(float(np.abs(panels[t][key]).max()) for t in ("initial", "trained"))
    for row, tag in enumerate(("initial", "trained")):
        ax = axes[row, col]
        M = panels[tag][key]
        im = ax.imshow(M, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_xticks(range(M.shape[1]), [str(i + 1) for i in range(M.shape[1])])
        ax.set_yticks(range(M.shape[0]), [str(j + 1) for j in range(M.shape[0])] if col == 0 else [])
        ax.set_title(f"{kind} {tag}")
        ax.grid(False)
    cbar = fig.colorbar(im, ax=axes[:, col], orientation="horizontal", fraction=0.04, pad=0.06)
    cbar.ax.locator_params(nbins=3 if col != 1 else 2)
axes[0, 0].set_ylabel("hidden neuron $j$")
axes[1, 0].set_ylabel("hidden neuron $j$")
fig.suptitle(f"xor({fig1_width}), seed {fig1_seed}, training input #{fig1_example}, "
             f"train $R^2$ = {run1.r2_train:.3f}\n(colour scales shared by initial and trained)")
session.savefig(fig, "fig1_weights_jacobian")
plt.show()
record.add(fig1={"train_r2": run1.r2_train,
                 **setup_tables.fig1_jacobian_summary(panels["trained"]["J"],
                                                      panels["initial"]["J"])})

# %% [markdown]
# Fig. 1's two claims, measured over all 1000 training inputs of the same model (mean ± SE
# over inputs; one model, as in the figure):
#
# * "a small row of $A^T$ gives a correspondingly small Jacobian row" (II.3): the normalised
#   rank among the $m$ Jacobian rows (0 = smallest) of the row whose weight row is smallest
#   (`figure_stats.smallest_weight_row_rank`) lies below 0.5, the rank of an unrelated row, by
#   more than 2 SE (`readings.exceeds`, direction −1);
# * "sharp horizontal bars": the share of the variance of log10 |J_ji(x)| that the row index
#   explains (`figure_stats.row_effect_share`) is larger for the trained model than for its
#   initial model, by more than 2 combined SE.

# %%
fig1c = summaries.fig1_claims(run1, kag.make_inputs(1000, "train").to(torch.float64))
res_rank, res_bars, bar_stat = fig1c["rank_reading"], fig1c["bars_reading"], fig1c["row_effect_share"]
record.add(fig1_claims={"smallest_weight_row_rank": fig1c["rank"],
                        "row_effect_share": {t: v[0] for t, v in bar_stat.items()}})
record.compare(f"Fig 1 a small row of A^T gives a small Jacobian row (xor({fig1_width}))",
               "P1 Fig 1 / Sec II text", "rank < 0.5",
               f"normalised rank {fig1c['rank']:.3f} (z = {res_rank['z']:.1f})",
               verdict=res_rank["verdict"],
               note="rank among the Jacobian rows of the smallest weight row, mean over inputs; "
                    "rule: readings.exceeds(., SE, 0.5, direction=-1)",
               cause="" if res_rank["verdict"] == "reproduced" else
               "our Fig. 1 model's smallest weight row is not small enough to dominate sigma'(z)")
record.compare(f"Fig 1 trained Jacobian shows sharp horizontal bars (xor({fig1_width}))",
               "P1 Fig 1 / Sec II text", "trained > initial",
               f"row-explained share of log|J| {bar_stat['trained'][0]:.3f} vs "
               f"{bar_stat['initial'][0]:.3f} initial", verdict=res_bars["verdict"],
               note="share of the variance of log10|J_ji(x)| explained by the row j, mean over "
                    "inputs; rule: readings.exceeds(trained, SE, initial, SE_initial)",
               cause="" if res_bars["verdict"] == "reproduced" else
               "training does not make the rows of our Fig. 1 model more bar-like")

# %%
session.save()
