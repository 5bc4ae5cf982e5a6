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
# # 05 · Appendices: distribution tails, batch size, other interpolations (P1 App. A–C)
#
# The three appendices of Freedman & Mulligan (arXiv 2509.12326, "P1") test how robust the
# KA geometry of the main text is:
#
# * **App. A** asks whether the heavy tails of the trained `xor(32)` minors follow a universal
#   law. It shows the size-$k$ minor distributions (**Fig. 13**), their mean excess functions
#   over the top quantile ranks (**Fig. 14**), and one striking number: the 0.99/0.01 quantile
#   ratio of the size-3 minors is "$10^{45}$ vs $10^4$ at initialization".
# * **App. B** varies the batch size. `random(32)`, an unlearnable task, shows a *weak*
#   signal at small batches (dead neurons: consistently zero rows), none at the critical
#   batch size, and an `xor`-like signal at full batch (**Fig. 15**). A bootstrapped model
#   that reuses the full-batch first layer as a feature extractor memorises the random labels
#   better than controls (**Fig. 16**), so the geometry is "genuine".
# * **App. C** changes the target family. Rotating the inputs of `xor` (SO($\alpha$)-xor,
#   **Fig. 17**) leaves everything but the rotation ratio unchanged. A Gaussian bump
#   $G(\lambda)$ (**Fig. 18**) has a "Goldilocks" window $0.15 \lessapprox \lambda
#   \lessapprox 0.80$ of KA geometry.
#
# Every model goes through the run cache, so `xor(32)` and `linear(32)` at $B = 250$ are
# notebook 01's runs. Definitions and defaults are in `REPRODUCTION.md`; the ambiguity IDs
# (A-xx) are cited where a choice is ours.

# %% tags=["parameters"]
params_name = "default"      # which params/<set>.yaml ran this (the runner passes it)
output_root = ".."           # figures/ and results/ are written under this folder
scheduler = None             # Dask scheduler for sweeps (None: in-process)
seeds = [0, 1, 2, 3]         # model seeds of App. A, App. B sweep and the controls (A-05)
max_epochs = 10_000
patience = 50
batch_size = 250             # the main text's batch size (App. A models, App. C)
n_x = 250                    # inputs for the KA metrics, the first n_x training inputs (A-11)
n_rot = 50                   # Haar rotations for the random rotation ratio (A-17)
n_x_rot = 100                # inputs for the random rotation ratio
q1 = 0.01                    # zero-row level q(1) of Figs. 15, 17, 18 (A-25)
a_n_x = 1000                 # App. A: inputs per seed whose minors are pooled (A-21)
a_bins = 100                 # App. A: log10 bins of Fig. 13 (A-21)
a_fit_range = [0.90, 0.99]   # App. A: quantile-rank window of the MEF fits (A-21)
b_batch_sizes = [32, 64, 128, 256, 512, 1000]
b_targets = ["random", "xor", "linear"]
b_control_seeds = [0, 1]     # seeds of the xor and linear sweeps (text claims only)
f16_batch_sizes = [32, 256, 1000]
f16_seeds = [0, 1]
f16_expanded_width = 264
es_batch_sizes = [32, 64, 128, 256, 512, 1000]   # App. B random(32) under every early-stopping reading (A-06); empty list: skip
es_monitors = ["train_batch_mse", "train_last_batch_mse", "train_mse", "val_mse"]
es_min_deltas = [0.0, 1e-4, 1e-3]   # improvement thresholds of the readings
es_restore = [True, False]   # restore the best epoch (True) or keep the last weights
es_n_x = 250                 # inputs for the readings' metrics (no rotation ratios)
so_alphas = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
so_seeds = [0, 1]
g_lambdas = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
g_seeds = [0, 1, 2, 3]
c_data_seeds = "model"       # App. C inputs: "model" (data seed of each model seed) or "fixed" (seed 0)
c_dead_rows_out = True       # App. C: also read every metric with dead rows left out
window_fraction = 0.5        # G window: significant and at least this share of the xor(32) effect
n_sigma = 2.0                # G window: significance in combined standard errors

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

import kag_utils as kag
from kag_utils import paper_values as paper
from kag_utils import readings
from kag_utils.readings import claims
from kag_utils.readings.aggregate import summarize
from kag_utils.readings.goldilocks import goldilocks_window, window_bound

session = kag.start("05_appendices", params_name, output_root)   # records the parameters cell
record = session.record
record.default_ours_n = len(seeds)   # seeds behind every "ours" standard deviation
protocol = dict(max_epochs=max_epochs, patience=patience)
ecfg = kag.EvalConfig(n_x=n_x, n_rot=n_rot, n_x_rot=min(n_x_rot, n_x))
Q = f"{q1:g}"                 # key suffix of the q(1) level in evaluate()'s columns
KS = (1, 2, 3)
x_train = kag.make_inputs(1000, "train")


def ms(values):
    """(mean, sample std) of a sequence; std None for fewer than two values."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), (float(v.std(ddof=1)) if v.size > 1 else None)


none_if_nan = kag.defined  # NaN (undefined, e.g. a share of zero rows when there are none) -> None


def main_config(target, seed, **kw):
    """A 1-hidden-layer m = 32 model of the main protocol (notebook 01's configs)."""
    return kag.RunConfig(target=target, hidden=(32,), seed=seed,
                         **{"batch_size": batch_size, **protocol, **kw})


# %% [markdown]
# ## App. A · Fitting the distribution tails
#
# The `xor(32)` models of Table I ($B = 250$, one per seed) and their initial models. For each
# seed we take the minor matrices $J^{(k)}(x)$ (IV.1) of the first `a_n_x` training inputs in
# **float64** end to end and pool all entries over inputs, rows, columns and seeds. A ratio of
# $10^{45}$ would put $Q(0.01)$ near float32's smallest subnormal, $1.4\times10^{-45}$ (A-20),
# so we also repeat the size-3 ratio in float32.

# %%
a_cfgs = [main_config("xor", s) for s in seeds]
a_runs = kag.ensure_runs(a_cfgs, scheduler=scheduler)
xa = x_train[:a_n_x]
minors = {}                   # (state, k) -> [per-seed float64 arrays]
for run in a_runs:
    for state, params in (("trained", run.params), ("initial", run.init_params)):
        J = kag.first_layer_jacobian(params, xa)                       # [a_n_x, 32, 3] float64
        for k in KS:
            minors.setdefault((state, k), []).append(kag.minor_matrix(J, k).reshape(-1).numpy())
pooled = {key: np.concatenate(v) for key, v in minors.items()}
print({f"{s} k={k}": v.size for (s, k), v in pooled.items()}, "minors pooled")

# %% [markdown]
# ### Fig. 13: size-$k$ minor distributions
#
# Densities of $\log_{10}$ of the minors (100 bins over the union of both ranges, A-21).
# Exact zeros have no logarithm. They are counted in the titles, and each curve integrates
# to its non-zero share.

# %%
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
hists = {}
for ax, k in zip(axes, KS):
    h = kag.log10_histogram({s: pooled[(s, k)] for s in ("initial", "trained")}, bins=a_bins)
    hists[k] = h
    for s, color in (("initial", "C0"), ("trained", "C1")):
        ax.stairs(h[s]["density"], h["edges"], label=s, color=color, fill=True, alpha=0.35)
        ax.stairs(h[s]["density"], h["edges"], color=color)
    zeros = ", ".join(f"{s} {h[s]['n_zero']}" for s in ("initial", "trained"))
    ax.set_title(f"k = {k} (exact zeros: {zeros})")
    ax.set_xlabel(r"$\log_{10}$ size-%d minor" % k)
axes[0].set_ylabel("density")
axes[0].legend()
fig.suptitle(f"Fig. 13: size-k minors of xor(32), trained vs initial "
             f"({len(seeds)} seeds x {a_n_x} inputs pooled)")
session.savefig(fig, "fig13_minor_distributions")
plt.show()

# %% [markdown]
# **Peakedness near zero and heavy tails, measured (Figs. 4, 13).** P1: training gives
# "simultaneous peakedness near zero and heavy tails (large outliers)" (§IV.B, Fig. 4), and
# the trained `xor(32)` has "larger magnitude outliers than at initialization (in addition to
# its greater peakedness near zero)" (App. A, Fig. 13). Measured per seed against the same
# seed's initial model (`kag.tail_shares`): the share of trained minors **below** the initial
# 0.01 quantile (peakedness near zero; exact zeros count) and **above** the initial 0.99
# quantile (heavy tail). Without a change both shares are 1 %; a rescaling raises one and
# lowers the other; only a distribution that spreads towards zero *and* into the tail raises
# both. The quantile levels are P1's own (its App. A ratio). Rule: `readings.exceeds`, the
# seed mean above 1 % by more than 2 standard errors.

# %%
share_rows = []
for k in KS:
    for i, seed in enumerate(seeds):
        ts = kag.tail_shares(minors[("trained", k)][i], minors[("initial", k)][i])
        share_rows.append({"k": k, "seed": seed, "below": 100 * ts["below"],
                           "above": 100 * ts["above"]})
shares = summarize(pd.DataFrame(share_rows), "k", ["below", "above"])
for row in shares.itertuples():
    record.add(f"app_a.k{row.k}.tail_shares", {
        "below_initial_q01_pct_mean": row.below_mean, "below_initial_q01_pct_se": none_if_nan(row.below_se),
        "above_initial_q99_pct_mean": row.above_mean, "above_initial_q99_pct_se": none_if_nan(row.above_se)})
    for side, what, claim in (("below", "more peaked near zero than initial",
                               "below the initial Q(0.01)"),
                              ("above", "larger outliers than initial (heavy tail)",
                               "above the initial Q(0.99)")):
        m_, sd_ = getattr(row, f"{side}_mean"), none_if_nan(getattr(row, f"{side}_std"))
        ex = readings.exceeds(m_, (sd_ or 0.0) / math.sqrt(len(seeds)), 1.0)
        record.compare(f"App A Figs 4/13: trained xor(32) size-{row.k} minors {what} "
                       f"(% of minors {claim})", "P1 Sec IV.B (Fig 4), App A (Fig 13) text",
                       "> 1", m_, ours_sd=sd_, ours_n=len(seeds), verdict=ex["verdict"],
                       note=f"z = {ex['z']:.1f} against 1 % (no change)",
                       cause="" if ex["verdict"] == "reproduced" else
                       "training does not move this share of the minors beyond the initial "
                       "model's quantile by more than 2 SE in our runs (seeds, early stopping "
                       "A-06)")
shares.round(3)

# %% [markdown]
# ### The 0.99/0.01 quantile ratio and the maximum
#
# P1: $Q(0.99)/Q(0.01)$ of the size-3 minors of `xor(32)` is "astronomical, $10^{45}$ vs
# $10^4$ at initialization". The trained size-3 maximum is "approximately an order of
# magnitude larger" than the initial one. We give both per seed and pooled, on all minors
# (zeros included). Where $Q(0.01) = 0$ the ratio is undefined and only the ratio over the
# non-zero minors is given (A-20).

# %%
qrows = []
for k in KS:
    for s in ("trained", "initial"):
        for i, seed in enumerate(seeds):
            qrows.append({"k": k, "state": s, "seed": str(seed),
                          **kag.quantile_summary(minors[(s, k)][i])})
        qrows.append({"k": k, "state": s, "seed": "pooled", **kag.quantile_summary(pooled[(s, k)])})
qtab = pd.DataFrame(qrows)
# A-20 check: the same pooled size-3 ratio from float32 Jacobians and minors (float32's
# smallest subnormal is 1.4e-45, close to the paper's 10^-45 scale)
f32 = []
for run in a_runs:
    A, a = kag.first_layer(run.params)
    J32 = kag.mlp_jacobian(xa.float(), A.float(), a.float())
    f32.append(kag.minor_matrix(J32, 3).reshape(-1).double().numpy())
f32_summary = kag.quantile_summary(np.concatenate(f32))
record.add(app_a_float32_k3={"log10_ratio": f32_summary["log10_ratio"],
                             "n_zero": f32_summary["n_zero"], "q_lo": f32_summary["q_lo"]})
print("float32 check, trained k = 3: Q(0.01) = %.3g, exact zeros %d, log10 ratio %s"
      % (f32_summary["q_lo"], f32_summary["n_zero"], f32_summary["log10_ratio"]))
qtab[["k", "state", "seed", "n_zero", "q_hi", "q_lo", "log10_ratio", "log10_ratio_nonzero", "max"]]

# %%
def qvalue(k, state, seed, col):
    return qtab[(qtab.k == k) & (qtab.state == state) & (qtab.seed == seed)][col].iloc[0]


for k in KS:
    for s in ("trained", "initial"):
        per_seed = [qvalue(k, s, str(sd), "log10_ratio") for sd in seeds]
        record.add(f"app_a.k{k}.{s}", {
            "log10_quantile_ratio_pooled": qvalue(k, s, "pooled", "log10_ratio"),
            "log10_quantile_ratio_nonzero_pooled": qvalue(k, s, "pooled", "log10_ratio_nonzero"),
            "log10_quantile_ratio_per_seed": per_seed,
            "n_zero_minors": int(qvalue(k, s, "pooled", "n_zero")),
            "log10_max": float(np.log10(qvalue(k, s, "pooled", "max")))})
    max_ratio = [np.log10(qvalue(k, "trained", str(sd), "max") / qvalue(k, "initial", str(sd), "max"))
                 for sd in seeds]
    record.add(f"app_a.k{k}.log10_max_ratio_per_seed", [float(v) for v in max_ratio])
    record.add(f"app_a.k{k}.log10_max_ratio_pooled",
               float(np.log10(qvalue(k, "trained", "pooled", "max") / qvalue(k, "initial", "pooled", "max"))))

for s, label in (("trained", "trained"), ("initial", "at initialisation")):
    pooled_log = qvalue(3, s, "pooled", "log10_ratio")
    per_seed = [qvalue(3, s, str(sd), "log10_ratio") for sd in seeds]
    per_seed = [v for v in per_seed if v is not None]
    sd_ = ms(per_seed)[1] if per_seed else None
    p_val = paper.APP_A_QUANTILE_RATIO_LOG10[s]
    if pooled_log is None:
        record.compare(f"App A: log10 Q(0.99)/Q(0.01) of size-3 minors, xor(32) {label}",
                       "P1 App A text", p_val, "undefined (Q(0.01) = 0)", agree=False,
                       note="more than 1% of the float64 minors are exact zeros (A-20); the "
                       "ratio over non-zero minors is log10 = "
                       f"{qvalue(3, s, 'pooled', 'log10_ratio_nonzero'):.1f}")
        continue
    # The paper gives a power of ten ("10^45"): claims.order_of_magnitude (half a decade; the
    # decade reading beside it)
    om = claims.order_of_magnitude(pooled_log, p_val)
    record.compare(f"App A: log10 Q(0.99)/Q(0.01) of size-3 minors, xor(32) {label}",
                   "P1 App A text", p_val, pooled_log, ours_sd=sd_, ours_n=len(per_seed),
                   verdict=om["verdict"],
                   readings=[{"reading": f"'10^{p_val:g}' as the decade [10^{p_val:g}, "
                              f"10^{p_val + 1:g})", "verdict": om["decade_verdict"],
                              "ours_value": pooled_log}],
                   note=f"order of magnitude: within half a decade of 10^{p_val:g} "
                   f"(log10 difference {om['diff']:+.2f})",
                   cause=("Q(0.01) is set by the smallest size-3 minors, i.e. by how deep the "
                          "dead-region pre-activations of the trained neurons go (sigma' decays "
                          "like exp(-z^2/2)); that depth depends on the seeds, the stopping epoch "
                          "(A-06) and the inputs, and the paper gives one rounded order of "
                          "magnitude" if s == "trained" else
                          "the initial distribution depends only on A ~ N(0, 1/3) and x ~ "
                          "U[-1,1]^3 (A-01, A-04); ours is 10^{:.2f}, which rounds to 10^{:.0f}: "
                          "whether P1's '10^4' rounds or truncates its exponent is not "
                          "stated".format(pooled_log, pooled_log)))

mr_pooled = record.numbers["app_a.k3.log10_max_ratio_pooled"]
mr_sd = ms(record.numbers["app_a.k3.log10_max_ratio_per_seed"])[1]
om = claims.order_of_magnitude(mr_pooled, paper.APP_A_MAX_RATIO_LOG10)
record.compare("App A: size-3 maximum trained / initial (log10)", "P1 App A text",
               paper.APP_A_MAX_RATIO_LOG10, mr_pooled, ours_sd=mr_sd, ours_n=len(seeds),
               verdict=om["verdict"], note="'approximately an order of magnitude': within half "
               "a decade of 10 (verdicts.WORDING_TOLERANCE)",
               cause="the maximum of 4 x 10^6 minors is a noisy extreme of seeds and inputs")
print("pooled log10 Q(.99)/Q(.01), k = 3: trained %.1f, initial %.1f (paper 45, 4); "
      "log10 max ratio %.2f (paper ~1)" % (qvalue(3, "trained", "pooled", "log10_ratio") or math.nan,
                                           qvalue(3, "initial", "pooled", "log10_ratio") or math.nan,
                                           mr_pooled))

# %% [markdown]
# **Reading.** The growth of the maximum (about one decade) agrees with P1. The initial ratio
# (about $10^{4.7}$, every seed alike) lies in P1's decade $[10^4, 10^5)$ but rounds to
# $10^5$, so its row is protocol-dependent on how P1 rounds its exponent. The trained ratio does not reach $10^{45}$. Ours
# is about $10^{12}$ pooled and $10^{8}$–$10^{13}$ per seed, and float32 gives the same
# value, so float32 underflow does not explain P1's number. $Q(0.01)$ is set by triples of
# neurons sitting together in GeLU's flat negative tail ($|\sigma'(z)| \approx |z|\phi(z)$).
# The seed-to-seed spread is mostly how deep that tail is reached. A ratio of $10^{45}$ needs
# three neurons with $|\sigma'| \sim 10^{-15}$ ($z \approx -8$) together in 1 % of all
# triples, a far more saturated first layer than any of our `xor(32)` models has.

# %% [markdown]
# ### Fig. 14: mean excess functions over the top quantile ranks
#
# $\mathrm{MEF}(u) = E[X - u \mid X > u]$ at $u = Q(q)$, $q = 0.900, 0.901, \dots, 0.999$,
# normalised by its value at $q = 0.90$. Dividing by that value makes trained and initial
# curves comparable despite their different spans. Dashed lines are least-squares lines
# over $q \in [0.90, 0.99)$ (A-21), which also excises the highest ranks at $k = 2$ as P1
# does. A constant MEF is an exponential tail, an increasing one is heavier (power-law-like)
# and a decreasing one is lighter than exponential.
# We classify a tail by the sign of its fitted slope: per seed, with the class significant
# when |mean slope| exceeds two standard errors over seeds. The slope over the top 1 %
# ($q \in [0.99, 1.0)$) tests P1's remark that the answer depends on the range.

# %%
qgrid = kag.quantile_grid(0.90, 1.0, 0.001)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), layout="constrained")
mef_rows = []
for ax, k in zip(axes, KS):
    for s, color in (("initial", "C0"), ("trained", "C1")):
        fit = kag.mef_fit(pooled[(s, k)], qgrid, tuple(a_fit_range))
        ax.plot(qgrid, fit["mef_norm"], color=color, label=s)
        sel = (qgrid >= a_fit_range[0]) & (qgrid < a_fit_range[1])
        ax.plot(qgrid[sel], fit["intercept"] + fit["slope"] * qgrid[sel], "--", color=color, lw=1)
        for i, seed in enumerate(seeds):
            f10 = kag.mef_fit(minors[(s, k)][i], qgrid, tuple(a_fit_range))
            f1 = kag.mef_fit(minors[(s, k)][i], qgrid, (0.99, 1.0))
            mef_rows.append({"k": k, "state": s, "seed": seed, "slope_top10": f10["slope"],
                             "slope_top1": f1["slope"]})
        mef_rows.append({"k": k, "state": s, "seed": "pooled", "slope_top10": fit["slope"],
                         "slope_top1": kag.mef_fit(pooled[(s, k)], qgrid, (0.99, 1.0))["slope"]})
    ax.set_title(f"k = {k}")
    ax.set_xlabel("quantile rank q")
axes[0].set_ylabel("MEF(Q(q)) / MEF(Q(0.90))")
axes[0].legend()
fig.suptitle("Fig. 14: mean excess functions of xor(32) size-k minors (dashed: linear fits "
             f"over q in [{a_fit_range[0]}, {a_fit_range[1]}))")
session.savefig(fig, "fig14_mean_excess")
plt.show()
mef = pd.DataFrame(mef_rows)
per_seed_mef = mef[mef.seed != "pooled"].astype({"seed": int})
mef_sum = summarize(per_seed_mef, ["k", "state"], ["slope_top10", "slope_top1"])


def tail_class(mean, se):
    """'heavier' (increasing MEF), 'lighter' (decreasing) or 'indistinct' (|mean| <= 2 SE)."""
    if se is not None and not math.isnan(se) and abs(mean) <= 2 * se:
        return "indistinct"
    return "heavier" if mean > 0 else "lighter"


mef_sum["class_top10"] = [tail_class(m, s) for m, s in zip(mef_sum.slope_top10_mean, mef_sum.slope_top10_se)]
mef_sum["class_top1"] = [tail_class(m, s) for m, s in zip(mef_sum.slope_top1_mean, mef_sum.slope_top1_se)]
mef_sum[["k", "state", "slope_top10_mean", "slope_top10_se", "class_top10", "slope_top1_mean",
         "slope_top1_se", "class_top1"]]

# %%
cls = mef_sum.set_index(["k", "state"])
for (k, s), row in cls.iterrows():
    record.add(f"app_a.k{k}.{s}.mef_slope_top10_mean", row.slope_top10_mean)
    record.add(f"app_a.k{k}.{s}.mef_slope_top1_mean", row.slope_top1_mean)


pooled_slope = mef[mef.seed == "pooled"].set_index(["k", "state"])


def cls_str(k, s, col="class_top10"):
    sl = col.replace("class", "slope")
    return (f"{cls.loc[(k, s), col]} ({cls.loc[(k, s), sl + '_mean']:+.2f} ± "
            f"{cls.loc[(k, s), sl + '_se']:.2f} SE over seeds; pooled "
            f"{pooled_slope.loc[(k, s), sl]:+.2f})")


ok = all(cls.loc[(1, s), "class_top10"] == "lighter" for s in ("initial", "trained"))
record.compare("App A: k = 1 minors lighter-than-exponential tailed (trained and initial)",
               "P1 App A text", "decreasing MEF for both",
               f"initial {cls_str(1, 'initial')}, trained {cls_str(1, 'trained')}", agree=ok,
               note="" if ok else "classified by the sign of the fitted normalised MEF slope "
               "over q in [0.90, 0.99) (significant beyond 2 SE over seeds); the paper shows "
               "plots only, with no fit window or statistic (A-21)")
ok = all(cls.loc[(k, "initial"), "class_top10"] == "heavier" for k in (2, 3))
record.compare("App A: initial k = 2, 3 minors heavy-tailed (increasing MEF)", "P1 App A text",
               "increasing MEF", f"k=2 {cls_str(2, 'initial')}, k=3 {cls_str(3, 'initial')}",
               agree=ok, note="" if ok else "fitted normalised MEF slopes over q in [0.90, 0.99) "
               "(A-21); the paper's window and statistic are not stated")
ok = all(cls.loc[(k, "trained"), "slope_top10_mean"] > cls.loc[(k, "initial"), "slope_top10_mean"]
         for k in (2, 3))
record.compare("App A: trained k > 1 minors heavier-tailed than initial", "P1 App A text",
               "trained MEF slope > initial",
               "; ".join(f"k={k}: {cls.loc[(k, 'trained'), 'slope_top10_mean']:+.2f} vs "
                         f"{cls.loc[(k, 'initial'), 'slope_top10_mean']:+.2f}" for k in (2, 3)),
               agree=ok, note="" if ok else "compared by the normalised MEF slope over q in "
               "[0.90, 0.99); the paper compares curves by eye")
changes = [(k, s) for k in KS for s in ("initial", "trained")
           if cls.loc[(k, s), "class_top1"] != cls.loc[(k, s), "class_top10"]]
ok = len(changes) > 0 and len({cls.loc[(k, "trained"), "class_top10"] for k in KS}) > 1
_ = record.compare("App A: no universal tail law; behaviour depends on k and on the range "
               "(top 1% vs top 10%)", "P1 App A text", "depends on k and range",
               f"classes differ across k; top-1% class differs from top-10% class for "
               f"{', '.join(f'k={k} {s}' for k, s in changes) or 'none'}", agree=ok,
               note="" if ok else "with our fit rule the tail classes are the same over both "
               "ranges (or across k); the paper's statement is qualitative")

# %% [markdown]
# **Reading.** The trained size-1 MEF falls steeply (a lighter-than-exponential tail). The
# trained size-2 and size-3 MEFs rise faster than the initial ones (heavier tails). The
# trained $k = 2$ curve turns down in the top 1 %, the "decay at high rank" that P1 excises
# as a finite-sample effect. One difference: our *initial* $k = 1$ MEF falls only mildly,
# and not consistently over seeds, so it reads as nearly exponential rather than clearly
# lighter. The top-1 % slopes often have the opposite sign to the top-10 % ones, which is
# P1's point that no single law fits.

# %% [markdown]
# ## App. B · Batch-size dependence and latent KA geometry in `random(32)`
#
# `random(32)`, `xor(32)` and `linear(32)` are trained at $B \in \{32, 64, 128, 256, 512,
# 1000\}$ with the main protocol (A-07: the appendix uses 256, not 250). The mini-batches
# are reshuffled every epoch and the partial last batch is kept (A-08). Along with them we
# train `random(32)` under the other early-stopping readings of A-06 (same seeds: one
# trajectory per seed serves every reading). Metrics are on the first `n_x` training inputs with
# $q^{(1)} = 0.01$ (A-25); PR and RR are normalised per seed by the initial model (A-16).

# %%
b_cfgs = [main_config(t, s, batch_size=B) for t in b_targets for B in b_batch_sizes
          for s in (seeds if t == "random" else b_control_seeds)]
# early-stopping readings of random(32) (A-06; section "Early-stopping readings" below):
# trained with the sweep, each seed's readings as one trajectory
es_readings = kag.early_stopping.reading_grid(es_monitors, es_min_deltas, es_restore)
es_claims = kag.early_stopping.app_b_claims(seeds, es_batch_sizes, protocol, q1=q1)
es_ecfg = kag.EvalConfig(n_x=es_n_x, n_rot=0, q1s=(q1,))
es_cfgs = kag.early_stopping.claim_configs(es_claims, es_readings)
b_runs_all = kag.ensure_runs(b_cfgs + es_cfgs, scheduler=scheduler)
run_of = {r.config: r for r in b_runs_all}


def with_runs(df, cfgs):
    """evaluate() rows (same order as cfgs) plus training/test R^2 and epochs of each run."""
    df = df.copy()
    df["train_r2"] = [run_of[c].r2_train for c in cfgs]
    df["test_r2"] = [run_of[c].r2_test for c in cfgs]
    df["epochs"] = [run_of[c].stop_epoch for c in cfgs]
    return df


bdf = with_runs(kag.evaluate(b_cfgs, ecfg=ecfg, scheduler=scheduler), b_cfgs)
r2tab = summarize(bdf, ["target", "batch_size"], ["train_r2", "test_r2", "epochs"])
r2tab.pivot(index="target", columns="batch_size", values="train_r2_mean").round(4)


# %%
PANELS = [
    ("zero", "Zero rows (%)", [f"zero_frac_k{k}_q{Q}" for k in KS], 100.0, None),
    ("dep", "Dependent zero rows (%)", [f"dep_frac_k{k}_q{Q}" for k in (2, 3)], 100.0, None),
    ("pr", "Normalised PR", [f"pr_norm_k{k}" for k in KS], 1.0, 1.0),
    ("rr", "Normalised RR", [f"rr_norm_k{k}" for k in KS], 1.0, 1.0),
    ("div", "Column divergence", [f"divergence_k{k}" for k in KS], 1.0, 0.0),
]


def long_metrics(df, x):
    """Long table (x, seed, panel, k, value) of the five Fig. 15 panels."""
    rows = []
    for name, _, cols, scale, _ in PANELS:
        for c in cols:
            if c not in df:
                continue
            k = int(c.split("_k")[1][0])
            rows.append(pd.DataFrame({x: df[x], "seed": df["seed"], "panel": name,
                                      "k": f"k={k}", "value": df[c] * scale}))
    return pd.concat(rows, ignore_index=True)


def five_panels(df, x, title, xlabel, categorical, extra=None, hue="k"):
    """P1's Fig. 15 layout (zero rows, dependent zero rows, normalised PR, normalised RR,
    column divergence), mean +- SE over seeds; ``extra``: (long table, title) of a sixth
    panel, e.g. training R^2. ``hue``: "k", or another column of df (then only k = 3)."""
    data = long_metrics(df, x) if hue == "k" else None
    n = len(PANELS) + (extra is not None)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.5))
    order = sorted(df[x].unique())
    for ax, (name, label, cols, scale, ref) in zip(axes, PANELS):
        if hue == "k":
            d = data[data.panel == name]
        else:
            c3 = [c for c in cols if c.endswith(("k3", f"k3_q{Q}"))][0]
            d = df.assign(value=df[c3] * scale, k=df[hue])
        if d.empty:
            ax.set_visible(False)
            continue
        if categorical:
            sns.pointplot(d, x=x, y="value", hue="k", order=order, errorbar="se", dodge=0.3,
                          markersize=4, linewidth=1.2, ax=ax)
        else:
            sns.lineplot(d, x=x, y="value", hue="k", errorbar="se", marker="o", ax=ax)
        if ref is not None:
            ax.axhline(ref, ls="--", color="0.4", lw=1)
        if name == "zero" and hue == "k":
            for j, k in enumerate(KS):
                fpr = 100 * kag.false_positive_rate(q1, 32, k)
                ax.axhline(fpr, ls=":", color=sns.color_palette()[j], lw=1)
        ax.set_title(label + ("" if hue == "k" else " (k=3)"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("")
        ax.legend(fontsize=7, title=None)
    if extra is not None:
        d, etitle = extra
        ax = axes[-1]
        if categorical:
            sns.pointplot(d, x=x, y="value", hue="series", order=order, errorbar="se",
                          dodge=0.3, markersize=4, linewidth=1.2, ax=ax)
        else:
            sns.lineplot(d, x=x, y="value", hue="series", errorbar="se", marker="o", ax=ax)
        ax.set_title(etitle)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("")
        ax.legend(fontsize=7, title=None)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


rand = bdf[bdf.target == "random"]
fig = five_panels(rand, "batch_size",
                  f"Fig. 15: random(32) vs batch size (q(1) = {q1:g}; dotted: false-positive "
                  f"rates q(k); mean ± SE over {len(seeds)} seeds)", "batch size B", True)
session.savefig(fig, "fig15_random32_batch_size")
plt.show()

# %% [markdown]
# **Reading.** Two of P1's three regimes appear. Small batches give dead neurons: most
# zero rows are consistently zero, and the share at $B = 32, 64$ is close to P1's 97 %/95 %.
# Full batch gives an `xor`-like signal (PR, divergence and zero rows within error of
# `xor(32)`'s). The middle regime does not appear. At $B = 256$ our `random(32)` is strongly
# concentrated, and dead neurons persist up to $B = 512$. Under our stopping rule the
# signal falls smoothly with $B$ instead of vanishing at the critical batch size. The
# early-stopping readings below show how much of this is the unstated stopping rule.

# %% [markdown]
# Below, the same panels for all three targets at $k = 3$ (P1 gives no figure for `xor(32)`
# and `linear(32)`, only text claims; A-29).

# %%
fig = five_panels(bdf, "batch_size", "App. B: random(32), xor(32), linear(32) vs batch size "
                  "(k = 3; mean ± SE)", "batch size B", True, hue="target")
session.savefig(fig, "fig15_supp_targets_k3")
plt.show()
b_metric_cols = ([f"zero_frac_k{k}_q{Q}" for k in KS] + [f"dep_frac_k{k}_q{Q}" for k in (2, 3)]
                 + [f"pr_norm_k{k}" for k in KS] + [f"rr_norm_k{k}" for k in KS]
                 + [f"divergence_k{k}" for k in KS]
                 + [f"n_consistent_k1_q{Q}", f"not_consistent_frac_k{1}_q{Q}",
                    f"not_consistent_frac_k3_q{Q}", "train_r2", "test_r2", "epochs"])
b_metric_cols = [c for c in b_metric_cols if c in bdf]
bsum = summarize(bdf, ["target", "batch_size"], b_metric_cols)
for row in bsum.to_dict("records"):
    record.add(f"app_b.{row['target']}.B{row['batch_size']}",
               {c: none_if_nan(row[f"{c}_mean"]) for c in b_metric_cols})
bsum.set_index(["target", "batch_size"])[[f"{c}_mean" for c in b_metric_cols]].T.round(4)

# %% [markdown]
# ### Consistently zero rows and dead neurons
#
# A size-1 row is *consistently zero* when it is a zero row for at least 99 % of the inputs
# (2.6, A-14). P1: "About 97% and 95% of zero rows in the size-1 minor matrix are
# consistently zero when B = 32 and B = 64; and there are no consistently zero rows for
# B ∈ {128, 256, 512, 1000}."

# %%
share_col, cons_col = f"consistent_share_k1_q{Q}", f"n_consistent_k1_q{Q}"
cz = bdf.groupby(["target", "batch_size"]).agg(
    consistent_rows_per_model=(cons_col, "mean"), consistent_rows_total=(cons_col, "sum"),
    consistent_share_mean=(share_col, "mean"), consistent_share_std=(share_col, "std"),
    zero_pct_k1=(f"zero_frac_k1_q{Q}", lambda v: 100 * v.mean()),
    not_consistent_pct_k1=(f"not_consistent_frac_k1_q{Q}", lambda v: 100 * v.mean())).reset_index()
cz

# %%
r_cz = cz[cz.target == "random"].set_index("batch_size")
for B, p_share in paper.APP_B_CONSISTENT_SHARE.items():
    if B not in r_cz.index or p_share == 0.0:
        continue
    mean, sd = r_cz.loc[B, "consistent_share_mean"], r_cz.loc[B, "consistent_share_std"]
    if math.isnan(mean):
        record.compare(f"App B: share of size-1 zero rows consistently zero, random(32) B={B}",
                       "P1 App B text", p_share, None, agree=False,
                       note="no size-1 zero rows at all in our models at this batch size")
        continue
    agree = kag.agrees(p_share, mean, None, none_if_nan(sd), ours_n=len(seeds), resolution=0.01)
    record.compare(f"App B: share of size-1 zero rows consistently zero, random(32) B={B}",
                   "P1 App B text", p_share, mean, ours_sd=none_if_nan(sd), agree=agree,
                   note="" if agree else "our small-batch random(32) models also have many "
                   "zero rows outside the dead neurons (example-dependent zero rows), which "
                   "lowers the share; early stopping (A-06) and seeds (A-05) differ from P1's")
none_bs = [B for B, s in paper.APP_B_CONSISTENT_SHARE.items() if s == 0.0 and B in r_cz.index]
if none_bs:
    total = int(r_cz.loc[none_bs, "consistent_rows_total"].sum())
    record.compare(f"App B: no consistently zero rows in random(32) for B in {none_bs}",
                   "P1 App B text", 0, total, agree=total == 0,
                   note="" if total == 0 else
                   "counts over all seeds; our stopping rule (A-06) trains random(32) longer "
                   "than P1's (Table I R^2), so neurons can die at larger batches too; see "
                   "the per-batch table above")

# %% [markdown]
# **Which neurons die?** P1: the consistently zero rows "exactly coincide with the smallest
# rows of the weight matrix" (size of row $j$ of $A^T$ = mean $|A^T_{ji}|$). Negative biases
# "differ in count ... and generally occur on different neurons, e.g., about 50% of the
# consistently zero rows coincide with neurons receiving a negative bias" (A-29: sign only).
# `kag.dead_neuron_analysis` tests both for every swept model with at least one consistently
# zero row. It also gives each dead row's largest pre-activation $\max_x z_j(x)$: a row whose
# $z_j$ stays below about $-3$ is silenced by GeLU's flat tail rather than by small weights.

# %%
xb = x_train[:n_x]
dn_rows = []
for c in b_cfgs:
    r = run_of[c]
    d = kag.dead_neuron_analysis(r.params, r.init_params, xb, q1=q1)
    if d["n_consistent"]:
        dn_rows.append({"target": c.target, "batch_size": c.batch_size, "seed": c.seed,
                        **{k: v for k, v in d.items() if k not in ("rows", "max_preactivation")},
                        "n_gelu_silenced": int(sum(z < -3 for z in d["max_preactivation"]))})
dn = pd.DataFrame(dn_rows, columns=["target", "batch_size", "seed", "n_consistent",
                                    "coincide_smallest", "overlap_smallest", "max_size_rank",
                                    "n_negative_bias", "negative_bias_share", "n_gelu_silenced"])
dn

# %%
if len(dn):
    coincide = float(dn.coincide_smallest.astype(float).mean())
    overlap = float(dn.overlap_smallest.mean())
    neg_mean, neg_sd = ms(dn.negative_bias_share)
    record.add(app_b_dead={"models_with_dead_rows": len(dn), "coincide_smallest_share": coincide,
                           "overlap_smallest_mean": overlap, "negative_bias_share_mean": neg_mean,
                           "negative_bias_share_std": neg_sd,
                           "n_negative_bias_mean": float(dn.n_negative_bias.mean()),
                           "n_consistent_mean": float(dn.n_consistent.mean()),
                           "gelu_silenced_rows": int(dn.n_gelu_silenced.sum()),
                           "dead_rows": int(dn.n_consistent.sum())})
    ok = coincide == paper.APP_B_SMALLEST_ROWS_SHARE
    record.compare("App B: consistently zero rows exactly coincide with the smallest weight "
                   "rows (share of models)", "P1 App B text", paper.APP_B_SMALLEST_ROWS_SHARE,
                   coincide, agree=ok, note="" if ok else
                   f"in the other models the dead rows are mostly, not exactly, the smallest "
                   f"(mean overlap with the c smallest rows {overlap:.2f}); some rows die by a "
                   f"negative pre-activation with ordinary weights (GeLU-silenced rows: "
                   f"{int(dn.n_gelu_silenced.sum())} of {int(dn.n_consistent.sum())})")
    agree = kag.agrees(paper.APP_B_NEGATIVE_BIAS_SHARE, neg_mean, None, neg_sd, ours_n=len(dn),
                       wording="about")
    record.compare("App B: share of consistently zero rows with a negative bias",
                   "P1 App B text", paper.APP_B_NEGATIVE_BIAS_SHARE, neg_mean, ours_sd=neg_sd,
                   agree=agree, note="" if agree else
                   "'about 50%' is one example; our dead neurons sit on negative biases more "
                   "(or less) often; 'negative' is the sign only (A-29), P1 gives no threshold")
    differ = float((dn.n_negative_bias != dn.n_consistent).mean())
    record.compare("App B: negative biases differ in count from consistently zero rows",
                   "P1 App B text", "differ", f"differ in {differ:.0%} of models",
                   agree=differ >= 0.5, note="" if differ >= 0.5 else
                   "in most of our models the counts coincide")
else:
    print("no swept model has a consistently zero row: nothing to analyse")
    record.add(app_b_dead={"models_with_dead_rows": 0})

# %% [markdown]
# ### The non-monotonic `random(32)` signal
#
# P1: `random(32)` shows "zero signal for the critical batch size" ($B = 256$) and, at full
# batch, a signal "nearly indistinguishable" from `xor(32)`'s. Its zero-row percentage is
# highest at $B = 32$. We compare with the `xor(32)` models of Table I ($B = 250$), evaluated
# identically.

# %%
ref_cfgs = [main_config(t, s) for t in ("xor", "linear") for s in seeds]
run_of.update({r.config: r for r in kag.ensure_runs(ref_cfgs, scheduler=scheduler)})
ref = with_runs(kag.evaluate(ref_cfgs, ecfg=ecfg, scheduler=scheduler), ref_cfgs)
xor_ref = ref[ref.target == "xor"]
lin_ref = ref[ref.target == "linear"]
rb = rand.groupby("batch_size")
for k in KS:
    col = f"zero_frac_k{k}_q{Q}"
    peak = int(rb[col].mean().idxmax())
    record.add(f"app_b.random.zero_peak_B_k{k}", peak)
peaks = [record.numbers[f"app_b.random.zero_peak_B_k{k}"] for k in KS]
ok = all(p == min(b_batch_sizes) for p in peaks)
record.compare("App B: random(32) zero-row % highest at the smallest batch (B=32)",
               "P1 App B text (Fig 15a)", min(b_batch_sizes), f"argmax B for k=1,2,3: {peaks}",
               agree=ok, note="" if ok else "size-1 zero rows (%) by B: " + ", ".join(
                   f"{B}: {100 * v:.1f}" for B, v in rb[f"zero_frac_k1_q{Q}"].mean().items())
               + "; the small-batch values are dominated by dead neurons whose number varies "
               "by seed (consistently zero rows, below)")
full = max(b_batch_sizes)
at = rand[rand.batch_size == full]
for col, label in (("pr_norm_k3", "normalised PR k=3"), ("divergence_k3", "column divergence k=3"),
                   (f"zero_frac_k3_q{Q}", "size-3 zero rows")):
    rm, rsd = ms(at[col])
    xm, xsd = ms(xor_ref[col])
    agree = kag.agrees(xm, rm, xsd, rsd, len(xor_ref), len(at), wording="near")
    record.compare(f"App B: random(32) at full batch ~ xor(32) ({label})", "P1 App B text (Fig 15)",
                   "xor(32) value", rm, ours_sd=rsd, agree=agree,
                   note=f"paper value = our xor(32) B=250: {xm:.4g} ± {(xsd or 0):.2g}" + (
                       "" if agree else "; our full-batch random(32) differs beyond 2 combined "
                       "sd (A-06 stopping; 'nearly indistinguishable' is read off a figure)"))

# %% [markdown]
# **Fig. 15 panel by panel, one rule.** The no-KA value of each metric: 1 for normalised PR
# and RR, 0 for the column divergence (the initial model, exactly), and for dependent zero
# rows, which the initial model does not define, `linear(32)` at $B = 250$ (mean ± SE). The
# KA reference is `xor(32)` at $B = 250$.
#
# * "zero signal for the critical batch size": the excess over the no-KA value within 10 %
#   of `xor(32)`'s effect plus 2 combined SE (`readings.near` with wording "~" on the
#   excess; inconclusive when 2 SE exceed half of that effect);
# * "nearly indistinguishable (from the `xor(32)` model) at full batch": `readings.near`
#   with wording "near" (the rule of the rows above);
# * "a weak KA geometry signal for small batch sizes": P1 calls it weak because almost all of
#   its zero rows are consistently zero (dead neurons). We read the input-dependent part, the
#   size-1 zero rows outside consistently zero rows, with the window rule of notebook 04 and
#   App. C on one point (`claims.weak_signal`): weak = significant against the initial
#   model's $q^{(1)}$ but below half of `xor(32)`'s effect.

# %%
def no_ka(col):
    """(value, SE) of a metric without KA geometry (see above)."""
    if col.startswith(("pr_norm", "rr_norm")):
        return 1.0, 0.0
    if col.startswith("divergence"):
        return 0.0, 0.0
    m_, sd_ = ms(100 * lin_ref[col])
    return m_, (sd_ or 0.0) / math.sqrt(len(lin_ref))


def pct(col):
    return 100.0 if col.startswith(("dep_frac", "zero_frac", "not_consistent")) else 1.0


def mean_se(values):
    m_, sd_ = ms(values)
    return m_, sd_, (sd_ or 0.0) / math.sqrt(len(values))


F15 = [("pr_norm_k3", "normalised PR k=3", "c"), ("divergence_k3", "column divergence k=3", "e"),
       (f"dep_frac_k2_q{Q}", "size-2 dependent zero rows (%)", "b"),
       (f"dep_frac_k3_q{Q}", "size-3 dependent zero rows (%)", "b")] + (
      [(f"rr_norm_k{k}", f"normalised RR k={k}", "d") for k in KS] if n_rot else [])
f15_rows = []
Bc = paper.APP_B_CRITICAL_BATCH
for col, label, panel in F15:
    base, base_se = no_ka(col)
    xm, _, xse = mean_se(pct(col) * xor_ref[col])
    effect = abs(xm - base)
    if Bc in rand.batch_size.values:
        m_, sd_, se_ = mean_se(pct(col) * rand[rand.batch_size == Bc][col])
        r = readings.near(m_ - base, 0.0, se_, "~", target_se=base_se, scale=effect)
        f15_rows.append({"metric": label, "B": Bc, "claim": "no signal", "mean": m_,
                         "no-KA": base, "xor(32)": xm, "verdict": r["verdict"]})
        record.compare(f"App B: random(32) at B={Bc} shows no KA signal ({label})",
                       f"P1 App B text (Fig 15{panel})", base, m_, ours_sd=sd_,
                       ours_n=int((rand.batch_size == Bc).sum()), verdict=r["verdict"],
                       note=f"no-KA value {base:.4g} ± {base_se:.2g} SE; xor(32) {xm:.4g}; "
                       f"excess {m_ - base:+.4g}, allowed {r['allowed']:.3g} (10 % of the "
                       "xor(32) effect + 2 SE)",
                       cause="our random(32) memorises longer under our early-stopping rule "
                       "(training-loss monitor, restore best; A-06), which concentrates the "
                       "minors at every batch size; P1's rule stopped it near initialisation "
                       "(Table I R^2 0.021); see the early-stopping readings below")
    if panel in ("b", "d"):        # PR, divergence and zero rows at full batch: the rows above
        at = rand[rand.batch_size == max(b_batch_sizes)]
        m_, sd_, se_ = mean_se(pct(col) * at[col])
        r = readings.near(m_, xm, se_, "near", target_se=xse)
        f15_rows.append({"metric": label, "B": max(b_batch_sizes), "claim": "~ xor(32)",
                         "mean": m_, "no-KA": base, "xor(32)": xm, "verdict": r["verdict"]})
        record.compare(f"App B: random(32) at full batch ~ xor(32) ({label})",
                       f"P1 App B text (Fig 15{panel})", "xor(32) value", m_, ours_sd=sd_,
                       ours_n=len(at), verdict=r["verdict"],
                       note=f"paper value = our xor(32) B=250: {xm:.4g} ± {xse:.2g} SE",
                       cause="our full-batch random(32) differs from xor(32) by more than "
                       "10 % + 2 combined SE (A-06 stopping; 'nearly indistinguishable' is "
                       "read off a figure)")

# "weak signal at small B": input-dependent size-1 zero rows (outside consistently zero rows)
nc1 = f"not_consistent_frac_k1_q{Q}"
q1_pct = 100 * kag.false_positive_rate(q1, 32, 1)      # the initial model's zero rows, exactly
xm = float(100 * xor_ref[nc1].mean())
for B in [b for b in b_batch_sizes if b <= 64]:
    atB = rand[rand.batch_size == B]
    m_, sd_, se_ = mean_se(100 * atB[nc1])
    tot = float(100 * atB[f"zero_frac_k1_q{Q}"].mean())
    if xm > q1_pct:
        w = claims.weak_signal(m_, se_, q1_pct, 0.0, xm)
        verdict, cls = w["verdict"], f"{w['class']} (effect {w['effect']:.2f} of xor(32)'s)"
    else:
        verdict, cls = "inconclusive", "no xor(32) reference effect on this parameter set"
    f15_rows.append({"metric": "size-1 zero rows outside consistently zero rows (%)", "B": B,
                     "claim": "weak signal", "mean": m_, "no-KA": q1_pct, "xor(32)": xm,
                     "verdict": verdict})
    record.add(f"app_b.random.B{B}.weak_signal", {"not_consistent_pct_k1": m_,
                                                   "zero_pct_k1": tot})
    record.compare(f"App B Fig 15a: random(32) KA signal at small batch B={B} is weak (size-1 "
                   "zero rows outside consistently zero rows, %)", "P1 App B text (Fig 15a)",
                   "significant, < half of xor(32)'s", m_, ours_sd=sd_, ours_n=len(atB),
                   verdict=verdict,
                   note=f"{cls}; initial q(1) {q1_pct:.2f} %, xor(32) B=250 {xm:.2f} %; all "
                   f"size-1 zero rows {tot:.1f} % (mostly dead neurons)",
                   cause="the input-dependent zero rows at this batch size are not a "
                   "significant but small fraction of xor(32)'s (either none, or KA-like); "
                   "our stopping rule trains random(32) longer than P1's (A-06)")
pd.DataFrame(f15_rows).round(4)

# %% [markdown]
# ### `xor(32)` and `linear(32)` across batch sizes (text claims)
#
# P1: the KA metrics are "relatively uniform across batch sizes" in `xor(32)` and
# `linear(32)`. They are "nearly exactly flat" in `linear(32)`, with larger variations in
# `xor(32)`. Consistently zero rows appear in `xor(32)` at $B = 32$ and 64, and the
# percentage of not-consistently zero rows "is about the same across all batch sizes". We
# compare flatness as the range (max − min over $B$) of the seed means. "Relatively uniform"
# and "about the same" are read with `readings.stable`: every batch size's seed mean within
# the wording's tolerance (verdicts.WORDING_TOLERANCE: "about" 10 %, "about the same" read
# as "similar", 25 %) plus 2 SE of the mean over batch sizes.

# %%
flat_cols = ["pr_norm_k3", "rr_norm_k3", "divergence_k3", f"zero_frac_k3_q{Q}"]
means = bdf.groupby(["target", "batch_size"])[flat_cols].mean()
ranges = means.groupby(level=0).agg(lambda v: v.max() - v.min())
ranges
# %%
if {"xor", "linear"} <= set(b_targets):
    for col in flat_cols:
        record.add(f"app_b.range.{col}", {t: float(ranges.loc[t, col]) for t in ranges.index})
    flatter = [c for c in flat_cols if ranges.loc["linear", c] < ranges.loc["xor", c]]
    ok = len(flatter) == len(flat_cols)
    record.compare("App B: KA metrics flatter over B in linear(32) than in xor(32)",
                   "P1 App B text", "linear flat, xor varies more",
                   "; ".join(f"{c}: {ranges.loc['linear', c]:.3g} vs {ranges.loc['xor', c]:.3g}"
                             for c in flat_cols), agree=ok,
                   note="" if ok else "ranges (max - min of seed means over B) of linear(32) "
                   "are not below xor(32)'s for every metric")
    x_cz = cz[cz.target == "xor"].set_index("batch_size")
    small = [B for B in (32, 64) if B in x_cz.index]
    if small:
        vals = [float(x_cz.loc[B, "consistent_rows_per_model"]) for B in small]
        ok = all(v > 0 for v in vals)
        record.compare(f"App B: xor(32) has consistently zero rows at B in {small}",
                       "P1 App B text", "> 0", f"{vals} per model", agree=ok,
                       note="" if ok else "no dead neurons in our small-batch xor(32) models")
    ncz = bdf[bdf.target == "xor"].groupby("batch_size")[f"not_consistent_frac_k1_q{Q}"].mean()
    record.add(app_b_xor_not_consistent_rel_range=float((ncz.max() - ncz.min()) / ncz.mean()))
    xb_sum = summarize(bdf[bdf.target == "xor"], "batch_size",
                       flat_cols + [f"not_consistent_frac_k1_q{Q}"])
    for col, label, wording in (("pr_norm_k3", "normalised PR k=3", "about"),
                                ("rr_norm_k3", "normalised RR k=3", "about"),
                                ("divergence_k3", "column divergence k=3", "about"),
                                (f"zero_frac_k3_q{Q}", "size-3 zero rows (%)", "about"),
                                (f"not_consistent_frac_k1_q{Q}",
                                 "not-consistently-zero % (k=1)", "similar")):
        if f"{col}_mean" not in xb_sum or xb_sum[f"{col}_mean"].isna().any():
            continue
        sc = pct(col)
        vals, ses = sc * xb_sum[f"{col}_mean"], sc * xb_sum[f"{col}_se"].fillna(0.0)
        st = readings.stable(vals, ses, wording=wording)
        worst_B = int(xb_sum.batch_size.iloc[st["worst_index"]])
        text = ", ".join(f"{int(B)}: {v:.3g}" for B, v in zip(xb_sum.batch_size, vals))
        claim = ("App B: xor(32) not-consistently-zero % (k=1) about the same across B"
                 if col.startswith("not_consistent") else
                 f"App B: xor(32) {label} relatively uniform across batch sizes")
        record.add(f"app_b.xor_uniform.{col}", {"mean": st["mean"], "worst_B": worst_B,
                                                "worst_diff": st["worst_diff"]})
        record.compare(claim, "P1 App B text", "about the same" if wording == "similar" else
                       "relatively uniform", f"by B: {text}", verdict=st["verdict"],
                       note=f"mean over B {st['mean']:.3g}; largest deviation at B={worst_B} "
                       f"({st['worst_diff']:+.3g}); {st['n_off']} of {len(vals)} batch sizes "
                       f"outside '{wording}' + 2 SE ({len(b_control_seeds)} seeds per B)",
                       cause="our xor(32) changes with B beyond the wording's tolerance: "
                       "dead neurons at small B (consistently zero rows) and a longer "
                       "training at full batch (A-06, A-08)")

# %% [markdown]
# ### Fig. 16: the bootstrapped model and its controls
#
# All five series fit the random labels of the same 1000 training inputs, and each trains
# with the main protocol at batch size $B$ (A-28):
#
# 1. **bootstrapped**: the base `random(32)` model's trained first layer $\sigma(x\cdot A + a)$,
#    frozen, feeds a new 1-hidden-layer MLP (width 32, fan-in 32), trained from scratch
#    (`RunConfig(input_map=InputMap(base, "final"))`);
# 2. **2-hidden-layer** MLP (32, 32) trained end to end;
# 3. the **base** 1-hidden-layer model itself;
# 4. an **expanded** 1-hidden-layer MLP with 264 neurons;
# 5. **untrained bootstrapped**: as 1, with the base model's *initial* $A, a$ (random features).
#
# "Best training $R^2$" is the $R^2$ of the restored best-epoch weights (A-06).

# %%
f16 = []
for B in f16_batch_sizes:
    for s in f16_seeds:
        base = main_config("random", s, batch_size=B)
        f16 += [("bootstrapped", base.replace(input_map=kag.InputMap(base, "final"))),
                ("2-hidden (32, 32)", base.replace(hidden=(32, 32))),
                ("base (32)", base),
                (f"expanded ({f16_expanded_width})", base.replace(hidden=(f16_expanded_width,))),
                ("untrained bootstrapped", base.replace(input_map=kag.InputMap(base, "initial")))]
f16_runs = kag.ensure_runs([c for _, c in f16], scheduler=scheduler)
f16df = pd.DataFrame([{"series": name, "batch_size": c.batch_size, "seed": c.seed,
                       "train_r2": r.r2_train, "test_r2": r.r2_test, "epochs": r.stop_epoch}
                      for (name, c), r in zip(f16, f16_runs)])
series_order = list(dict.fromkeys(n for n, _ in f16))
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for ax, col, label in ((axes[0], "train_r2", "best training $R^2$"), (axes[1], "test_r2", "test $R^2$")):
    sns.pointplot(f16df, x="batch_size", y=col, hue="series", hue_order=series_order,
                  errorbar="se", dodge=0.4, markersize=4, linewidth=1.2, ax=ax)
    ax.set_xlabel("batch size B")
    ax.set_ylabel(label)
    ax.legend(fontsize=7, title=None)
axes[1].axhline(0, ls="--", color="0.4", lw=1)
fig.suptitle(f"Fig. 16: random labels, training and test $R^2$ vs batch size "
             f"(mean ± SE over {len(f16_seeds)} seeds)")
session.savefig(fig, "fig16_bootstrapped_r2")
plt.show()
f16sum = summarize(f16df, ["series", "batch_size"], ["train_r2", "test_r2", "epochs"])
f16sum.pivot(index="series", columns="batch_size", values="train_r2_mean").loc[series_order].round(4)

# %%
for row in f16sum.itertuples():
    record.add(f"app_b.fig16.{row.series.split(' ')[0]}.B{row.batch_size}",
               {"train_r2_mean": row.train_r2_mean, "test_r2_mean": row.test_r2_mean,
                "epochs_mean": row.epochs_mean})
piv = f16sum.pivot(index="series", columns="batch_size", values="train_r2_mean")
se16 = f16sum.pivot(index="series", columns="batch_size", values="train_r2_se").fillna(0.0)


def above(a, b, direction=+1):
    """Per B: does series a's mean training R^2 exceed series b's (readings.exceeds, 2 combined
    SE; direction -1: lie below it)? The scale of the inconclusive test is b's R^2."""
    return {int(B): readings.exceeds(piv.loc[a, B], se16.loc[a, B], piv.loc[b, B], se16.loc[b, B],
                                     direction, scale=abs(piv.loc[b, B]) or 1.0)["verdict"]
            for B in piv.columns}


def vs(a, b):
    return "; ".join(f"B={int(B)}: {piv.loc[a, B]:.3f} vs {piv.loc[b, B]:.3f}" for B in piv.columns)


boot_v = above("bootstrapped", "untrained bootstrapped")
beats = [B for B, v in boot_v.items() if v == "reproduced"]
full16 = max(f16_batch_sizes)
record.compare("App B Fig 16: bootstrapped model has noteworthy R^2 only at full batch "
               "(beats the random-feature control)", "P1 Fig 16 text", "only B=1000",
               f"bootstrapped > untrained bootstrapped at B in {beats}",
               verdict=claims.only_at(boot_v, full16) if full16 == 1000 else "inconclusive",
               note="'noteworthy' read as: above the untrained-bootstrapped (random feature) "
               "control at the same B by more than 2 combined SE (readings.exceeds; "
               "claims.only_at); P1 shows the curves only. Ours: " + vs("bootstrapped",
                                                                         "untrained bootstrapped"),
               cause="our bootstrapped model also beats the control below full batch, where our "
               "random(32) already has KA geometry (Fig. 15; A-06 stopping)")
two_v = above("2-hidden (32, 32)", "base (32)")
record.compare("App B Fig 16: 2-hidden-layer MLP memorises reasonably well (above the base model)",
               "P1 Fig 16 text", "well above base", vs("2-hidden (32, 32)", "base (32)"),
               verdict=claims.all_of(two_v.values()),
               note="above the base model at every B by more than 2 combined SE (readings.exceeds)",
               cause="our (32, 32) MLP is not significantly above the base model at every B")
exp_v = above(f"expanded ({f16_expanded_width})", "untrained bootstrapped", direction=-1)
record.compare("App B Fig 16: expanded 264-neuron MLP below the untrained bootstrapped model",
               "P1 Fig 16 text", "expanded < untrained bootstrapped",
               vs(f"expanded ({f16_expanded_width})", "untrained bootstrapped"),
               verdict=claims.all_of(exp_v.values()),
               note="below the control at every B by more than 2 combined SE (readings.exceeds)",
               cause="at some B our expanded model memorises as much as the random-feature "
               "control")
tmax = float(f16sum.test_r2_mean.max())
record.add(app_b_fig16_test_r2_max=tmax)
_ = record.compare("App B Fig 16: test R^2 <~ 0 for all models", "P1 Fig 16 caption", "<~ 0",
               f"max mean test R^2 {tmax:.4f}", agree=tmax < 0.01,
               note="" if tmax < 0.01 else "positive test R^2 on random labels would mean leakage")

# %% [markdown]
# **Reading.** P1's ordering holds at full batch. The trained feature extractor beats
# random features (the untrained-bootstrapped control) by a wide margin, the (32, 32) MLP
# memorises well at every $B$, and the expanded 264-neuron model stays below the random
# features. But our bootstrapped model also beats the control at $B = 256$, and in our
# six-batch-size runs at every $B \ge 64$. This matches our Fig. 15, where `random(32)`
# already has KA geometry there, and not P1's, where it has none.

# %% [markdown]
# ### Early-stopping readings (A-06)
#
# P1 does not say what its early stopping monitored, what counted as an improvement or which
# weights it kept. For `random(32)` the rule decides how far the model memorises, and so how
# much KA geometry it develops. Notebook 01 (section 4) judges the Tables I-III claims under
# every reading of the rule (monitor: epoch mean of the mini-batch losses, last mini-batch
# loss, training-set MSE, validation MSE; `min_delta`; restore best or keep last) and states
# the principle behind our default. Here the same study covers the App. B claims about
# `random(32)` at every batch size: the share of size-1 zero rows that are consistently zero
# (P1: 97 % and 95 % at $B = 32, 64$), no consistently zero rows at the larger batch sizes, and
# no KA signal at the critical batch size (normalised PR ~ 1). The runs were trained above
# together with the sweep (one trajectory per seed and batch size serves every reading).

# %%
if es_batch_sizes:
    # the B = 256 "no KA signal" row is judged as above: excess over the no-KA value ~ 0,
    # within 10 % of the xor(32) effect + 2 SE
    base, base_se = no_ka("pr_norm_k3")
    effect = abs(float(xor_ref.pr_norm_k3.mean()) - base)
    es_claims = kag.early_stopping.with_rule(
        es_claims, f"App B: random(32) at B={Bc} shows no KA signal (normalised PR k=3)",
        lambda m_, se_: readings.near(m_ - base, 0.0, se_, "~", target_se=base_se,
                                      scale=effect)["verdict"]) if Bc in es_batch_sizes else es_claims
    es_table = kag.early_stopping.sensitivity_table(es_claims, es_readings, ecfg=es_ecfg,
                                                    scheduler=scheduler)
    es_rows = kag.early_stopping.row_verdicts(es_table)
    fig = kag.early_stopping.verdict_heatmap(
        es_table, f"App. B random(32): verdict per claim and early-stopping reading "
        f"({len(seeds)} seeds; first column: our default)")
    session.savefig(fig, "early_stopping_app_b_verdicts")
    plt.show()
    for row in es_table.itertuples():
        record.add(f"app_b.es.{kag.early_stopping.slug(row.claim)}."
                   f"{kag.early_stopping.slug(row.reading)}",
                   {"mean": none_if_nan(row.mean), "sd": row.sd, "n": row.n,
                    "verdict": row.verdict})
    for row in es_rows.itertuples():
        record.add(f"app_b.es_row.{kag.early_stopping.slug(row.claim)}",
                   {"default_verdict": row.default_verdict, "verdict": row.verdict,
                    "reproduced_by": list(row.reproduced_by)})
    record.add(app_b_es_summary=kag.early_stopping.summary(es_rows, es_readings))
    kag.early_stopping.attach_readings(record, es_table)
    display(es_rows)
    display(es_table.pivot(index="claim", columns="reading", values="mean").loc[
        list(dict.fromkeys(es_table.claim)), list(dict.fromkeys(es_table.reading))].round(4))

# %% [markdown]
# **Reading.** The heatmap shows which readings reproduce which App. B claim; the rows of
# `comparison.csv` for these claims list them and are `protocol-dependent` where our default
# does not reproduce a claim but another reading does.

# %% [markdown]
# ## App. C · Other interpolations
#
# ### SO($\alpha$)-xor (C.1), Fig. 17
#
# `xor` of rotated inputs, $z = O^{(\alpha)}x$ with $O^{(\alpha)}$ Haar on SO(3) from
# `special_ortho_group(3, random_state=α)` (A-30), for $\alpha = 0, \dots, 9$, $m = 32$,
# $B = 250$. If KA geometry formed in the rotated basis, our basis-bound metrics would miss
# it. P1 finds it does not: zero rows, PR and divergence match `xor(32)` (Table II, Figs.
# 5, 7), and only the rotation ratio drops, "by about an order of magnitude" from Fig. 6 but
# still above 1.

#
# **Seeds and readings (both App. C families).** Each model seed $s$ draws its own inputs
# (data seed $s$, `c_data_seeds = "model"`), so the standard errors include the data's
# variance, and the `xor(32)` compared with here is trained the same way (data seed = model
# seed; notebook 01's `xor(32)` uses data seed 0 for every seed). Every metric is also read
# with the dead (consistently zero size-1) rows left out (`dead_rows="out"`, as for λ-xor in
# notebook 04); P1's reading (all rows) gives the verdicts, the other is in the notes and in
# the `*_dead_rows_out` figures.

# %%
if c_data_seeds not in ("model", "fixed"):
    raise ValueError(f"c_data_seeds must be 'model' or 'fixed', got {c_data_seeds!r}")
C_READINGS = ("in", "out") if c_dead_rows_out else ("in",)


def c_config(target, seed, **kw):
    """An App. C run: main protocol, data seed = model seed ("model") or 0 ("fixed")."""
    return main_config(target, seed, data_seed=seed if c_data_seeds == "model" else 0, **kw)


def c_evaluate(cfgs, reading, state="final"):
    """evaluate() of one reading ("in": all rows, "out": dead rows left out) with the runs'
    R^2 columns."""
    return with_runs(kag.evaluate(cfgs, [state], ecfg=ecfg, scheduler=scheduler,
                                  dead_rows=reading), cfgs)


c_seeds = sorted(set(so_seeds) | set(g_seeds))
c_xor_cfgs = [c_config("xor", s) for s in c_seeds]
run_of.update({r.config: r for r in kag.ensure_runs(c_xor_cfgs, scheduler=scheduler)})
c_xor = {rd: c_evaluate(c_xor_cfgs, rd) for rd in C_READINGS}         # xor(32), final
c_init = {rd: c_evaluate(c_xor_cfgs, rd, "init") for rd in C_READINGS}  # the initial models


def dead_out_note(df_out, col, scale=1.0, digits=3):
    """'; dead rows left out: mean ± sd (d dead rows per model)' for a comparison note."""
    if df_out is None:
        return ""
    m_, sd_ = ms(scale * df_out[col])
    return (f"; dead rows left out: {m_:.{digits}f} ± {(sd_ or 0):.{digits}f} "
            f"({df_out.n_dead.mean():.1f} dead rows per model)")


so_cfgs = [c_config("so_xor", s, target_param=a) for a in so_alphas for s in so_seeds]
run_of.update({r.config: r for r in kag.ensure_runs(so_cfgs, scheduler=scheduler)})
sodf = c_evaluate(so_cfgs, "in")
sodf["alpha"] = sodf["param"].astype(int)
so_out = c_evaluate(so_cfgs, "out") if c_dead_rows_out else None
xor_so = c_xor["in"][c_xor["in"].seed.isin(so_seeds)]     # the xor(32) of these seeds and inputs
if so_out is not None:
    so_out["alpha"] = so_out["param"].astype(int)
    fig = five_panels(so_out, "alpha", f"Fig. 17, dead rows left out: SO(α)-xor(32) "
                      f"(mean ± SE over {len(so_seeds)} seeds)", "α", True)
    session.savefig(fig, "fig17_so_xor_dead_rows_out")
    plt.show()
r2_long = pd.concat([sodf.assign(series="train", value=sodf.train_r2),
                     sodf.assign(series="test", value=sodf.test_r2)])
fig = five_panels(sodf, "alpha", f"Fig. 17: SO(α)-xor(32) (q(1) = {q1:g}; mean ± SE over "
                  f"{len(so_seeds)} seeds)", "α", True, extra=(r2_long, "$R^2$"))
session.savefig(fig, "fig17_so_xor")
plt.show()
record.add(so_matrices={str(a): kag.target_info("so_xor", a)["O"].numpy().round(6).tolist()
                        for a in so_alphas})

# %%
so_sum = summarize(sodf, "alpha", [c for c in b_metric_cols if c in sodf])
for row in so_sum.to_dict("records"):
    record.add(f"app_c.so.alpha{row['alpha']}", {
        "train_r2_mean": row["train_r2_mean"], "zero_pct_k3": 100 * row[f"zero_frac_k3_q{Q}_mean"],
        "pr_norm_k3": row["pr_norm_k3_mean"], "divergence_k3": row["divergence_k3_mean"],
        **({"rr_norm_k3": row["rr_norm_k3_mean"]} if n_rot else {})})
m_, sd_ = ms(sodf.train_r2)
p_m, p_sd = paper.TABLE_I["xor"][32]
agree = kag.agrees(p_m, m_, p_sd, sd_, ours_n=len(sodf), resolution=1e-4)
record.compare("App C: SO(alpha)-xor(32) training R2 comparable to xor(32)", "P1 App C text "
               "(vs Table I)", p_m, m_, paper_sd=p_sd, ours_sd=sd_, agree=agree,
               note=f"ours: mean ± sd over all alpha and seeds; our xor(32) "
               f"{xor_so.train_r2.mean():.4f}" + ("" if agree else
                                                   "; a rotated xor is harder for some alpha"))
# test R^2: P1 gives no number, only "comparable to that of the xor(32) model"; compared with
# our xor(32) (B = 250) by readings.near with wording "similar" ('comparable', 25 %)
m_, sd_, se_ = mean_se(sodf.test_r2)
xm, xsd, xse = mean_se(xor_so.test_r2)
r = readings.near(m_, xm, se_, "similar", target_se=xse)
record.add(app_c_so_test_r2={"mean": m_, "sd": sd_, "xor_mean": xm, "xor_sd": xsd})
record.compare("App C: SO(alpha)-xor(32) test R2 comparable to xor(32)",
               "P1 App C text (vs our xor(32))", "xor(32) value", m_, ours_sd=sd_,
               ours_n=len(sodf), verdict=r["verdict"],
               note=f"paper value = our xor(32) B=250 test R^2: {xm:.4f} ± {(xsd or 0):.4f} sd "
               f"({len(xor_so)} seeds); ours: mean ± sd over all alpha and seeds",
               cause="the rotated xor generalises differently from xor(32) in our runs beyond "
               "25 % + 2 combined SE (seeds, early stopping A-06)")
for q in ecfg.q1s:
    for key, col in (("zero", f"zero_frac_k3_q{q:g}"), ("dep2", f"dep_frac_k2_q{q:g}"),
                     ("dep3", f"dep_frac_k3_q{q:g}")):
        if col not in sodf or q not in paper.TABLE_II["xor"][key]:
            continue
        m_, sd_ = ms(100 * sodf[col])
        p_m, p_sd = paper.TABLE_II["xor"][key][q]
        agree = kag.agrees(p_m, m_, p_sd, sd_, ours_n=len(sodf), resolution=1e-3)
        record.compare(f"App C: SO(alpha)-xor(32) {key} % (q1={q:g}) within error of Table II "
                       "xor(32)", "P1 App C text (vs Table II)", p_m, m_, paper_sd=p_sd,
                       ours_sd=sd_, agree=agree,
                       note=f"our xor(32): {100 * xor_so[col].mean():.3f}"
                       + dead_out_note(so_out, col, 100.0) + ("" if agree else
                            "; differs beyond 2 combined sd from P1's Table II (see notebook 02 "
                            "for our own xor(32) vs Table II)"))
for k in KS:
    p_ratio = paper.TABLE_III["xor"][k][0] / paper.TABLE_III["initial"][k][0]
    m_, sd_ = ms(sodf[f"pr_norm_k{k}"])
    xm = float(xor_so[f"pr_norm_k{k}"].mean())
    agree = kag.agrees(p_ratio, m_, None, sd_, ours_n=len(sodf), wording="similar")
    record.compare(f"App C: SO(alpha)-xor(32) normalised PR k={k} similar to xor(32)",
                   "P1 App C text (vs Fig 5 / Table III)", p_ratio, m_, ours_sd=sd_, agree=agree,
                   note=f"paper value: ratio of Table III means xor/initial; our xor(32) {xm:.3f}"
                   + dead_out_note(so_out, f"pr_norm_k{k}")
                   + ("" if agree else "; beyond 2 sd of ours from P1's Table III ratio: in our "
                      "runs SO(alpha)-xor concentrates its size-%d minors %s than xor(32) does"
                      % (k, "more" if m_ < xm else "less")))
    xm, xsd = ms(xor_so[f"divergence_k{k}"])
    m_, sd_ = ms(sodf[f"divergence_k{k}"])
    agree = kag.agrees(xm, m_, xsd, sd_, len(xor_so), len(sodf), wording="similar")
    record.compare(f"App C: SO(alpha)-xor(32) column divergence k={k} similar to xor(32)",
                   "P1 App C text (vs Fig 7)", "xor(32) value", m_, ours_sd=sd_, agree=agree,
                   note=f"paper value = our xor(32) B=250: {xm:.4f} ± {(xsd or 0):.4f} (Fig 7 has "
                   "no printed numbers)" + dead_out_note(so_out, f"divergence_k{k}", digits=4)
                   + ("" if agree else "; differs beyond 2 combined sd"))
if n_rot:
    so_rr = {k: ms(sodf[f"rr_norm_k{k}"]) for k in KS}
    ok = all(so_rr[k][0] > 1.0 for k in KS)
    record.compare("App C: SO(alpha)-xor(32) normalised RR remains > 1", "P1 App C text",
                   "> 1 for all k", ", ".join(f"k={k}: {so_rr[k][0]:.3f}" for k in KS), agree=ok,
                   note=("" if ok else "the normalised RR of a rotated xor drops to 1 or below "
                         "at some k: no alignment with the neuron basis left")
                   + ("" if so_out is None else "; k=3" + dead_out_note(so_out, "rr_norm_k3")))
    for k in KS:
        xr = float(xor_so[f"rr_norm_k{k}"].mean())
        fac = math.log10(xr / so_rr[k][0])
        record.add(f"app_c.so.log10_rr_factor_k{k}", fac)
        om = claims.order_of_magnitude(fac, paper.APP_C_SO_RR_FACTOR_LOG10)
        record.compare(f"App C: SO(alpha)-xor RR about an order of magnitude below xor(32)'s "
                       f"(k={k}, log10 factor)", "P1 App C text (vs Fig 6)",
                       paper.APP_C_SO_RR_FACTOR_LOG10, fac, verdict=om["verdict"],
                       note="'about an order of magnitude': within half a decade of 10",
                       cause=
                       f"our xor(32) normalised RR is only {xr:.2f} (Fig 6 with our Haar "
                       "rotations, A-17), so no factor of 10 fits above 1; P1's Fig 6 values must "
                       "be >~ 10 for its statement to hold with RR > 1 (cf. REPRODUCTION S-1)")

# %% [markdown]
# **Reading.** P1's robustness claim holds. Rotated `xor` reaches `xor(32)`'s $R^2$, its
# zero and dependent zero rows sit within error of Table II at all three $q^{(1)}$, and its
# normalised PR ($k = 2, 3$) and column divergence match `xor(32)`'s. At $k = 1$ the
# normalised PR is lower (more concentrated) than both Table III's ratio and our own
# `xor(32)`'s, a difference P1 does not report. The other disagreement is the rotation
# ratio. It stays above 1 for every $k$, as P1 says, but it is
# *not* an order of magnitude below `xor(32)`'s, because our `xor(32)` normalised RR is only
# about 1.1–1.7 (Haar rotations, A-17). P1's statement implies Fig. 6 values of 10 or more,
# which we do not see (REPRODUCTION S-1).

# %% [markdown]
# ### G($\lambda$) (C.2), Fig. 18
#
# $G(\lambda) = \prod_i e^{-x_i^2/2\lambda^2}$, sharply peaked for small $\lambda$ and nearly
# flat as $\lambda \to 1$. P1: learnable "for all but the smallest values of $\lambda \approx
# .10$", with a Goldilocks regime $0.15 \lessapprox \lambda \lessapprox 0.80$.
#
# P1 reads its window off the plots and gives no rule. Ours is the one rule of notebook 04's
# $\lambda$-xor windows (`kag_utils.readings.goldilocks.goldilocks_window`), applied to each of three
# KA metrics: size-3 zero rows ($q^{(1)} = 0.01$), normalised PR ($k = 3$) and column
# divergence ($k = 3$). A $\lambda$ is inside a metric's window when its seed mean is
# significant against the initial models (the no-KA baseline: more than `n_sigma` combined
# standard errors, in the direction KA geometry moves the metric) **and** reaches at least
# `window_fraction` = ½ of the `xor(32)` effect ("noticeable"); baseline and `xor(32)` are
# the models of the same seeds and inputs. The window we compare with P1's holds the
# $\lambda$ inside for at least two of the three metrics. Learnable means a mean training
# $R^2 \ge 0.9$ (A-31).

# %%
g_cfgs = [c_config("gaussian", s, target_param=lam) for lam in g_lambdas for s in g_seeds]
run_of.update({r.config: r for r in kag.ensure_runs(g_cfgs, scheduler=scheduler)})
g_dfs = {rd: c_evaluate(g_cfgs, rd) for rd in C_READINGS}
for df in g_dfs.values():
    df["lam"] = df["param"].astype(float)
gdf = g_dfs["in"]
g_r2 = pd.concat([gdf.assign(series="train", value=gdf.train_r2),
                  gdf.assign(series="test", value=gdf.test_r2)])
fig = five_panels(gdf, "lam", f"Fig. 18: G(λ)(32) (q(1) = {q1:g}; mean ± SE over {len(g_seeds)} "
                  "seeds)", "λ", False, extra=(g_r2, "$R^2$"))
lo_, hi_ = paper.GOLDILOCKS["gaussian"]
for ax in fig.axes[:5]:
    ax.axvspan(lo_, hi_, color="0.85", zorder=0)
session.savefig(fig, "fig18_gaussian")
plt.show()
if "out" in g_dfs:
    fig = five_panels(g_dfs["out"], "lam", f"Fig. 18, dead rows left out: G(λ)(32) (mean ± SE "
                      f"over {len(g_seeds)} seeds)", "λ", False)
    for ax in fig.axes[:5]:
        ax.axvspan(lo_, hi_, color="0.85", zorder=0)
    session.savefig(fig, "fig18_gaussian_dead_rows_out")
    plt.show()

# %%
zc = f"zero_frac_k3_q{Q}"
g_sum = summarize(gdf, "lam", [c for c in b_metric_cols if c in gdf])
win_metrics = {"zero rows k=3 (%)": (zc, 100.0), "normalised PR k=3": ("pr_norm_k3", 1.0),
               "column divergence k=3": ("divergence_k3", 1.0)}
win_dir = {"zero rows k=3 (%)": +1, "normalised PR k=3": -1, "column divergence k=3": +1}


def g_windows(reading):
    """{metric label: goldilocks_window} of one reading; baseline: the initial models,
    reference: xor(32), both of the G seeds and their inputs."""
    summ = summarize(g_dfs[reading], "lam", [c for c in b_metric_cols if c in g_dfs[reading]])
    init = c_init[reading][c_init[reading].seed.isin(g_seeds)]
    xr = c_xor[reading][c_xor[reading].seed.isin(g_seeds)]
    out = {}
    for label, (col, scale) in win_metrics.items():
        b_m, b_sd = ms(scale * init[col])
        x_m, x_sd = ms(scale * xr[col])
        out[label] = goldilocks_window(summ.lam, scale * summ[f"{col}_mean"],
                                       scale * summ[f"{col}_se"], b_m,
                                       (b_sd or 0.0) / math.sqrt(len(init)), x_m,
                                       (x_sd or 0.0) / math.sqrt(len(xr)), win_dir[label],
                                       window_fraction, n_sigma)
    return out


g_wins = {rd: g_windows(rd) for rd in C_READINGS}
wins = g_wins["in"]
for label, w in wins.items():
    g_sum[f"in: {label}"] = w["inside"]
votes = np.sum([w["inside"] for w in wins.values()], axis=0)
g_sum["in window (2 of 3)"] = votes >= 2
inside = g_sum.lam[g_sum["in window (2 of 3)"]].tolist()
win = {"low": min(inside) if inside else None, "high": max(inside) if inside else None}
win_out = None
if "out" in g_wins:             # the same 2-of-3 window with the dead rows left out
    lam_out = np.asarray(wins[next(iter(wins))]["params"])[
        np.sum([w["inside"] for w in g_wins["out"].values()], axis=0) >= 2]
    win_out = {"low": float(lam_out.min()) if lam_out.size else None,
               "high": float(lam_out.max()) if lam_out.size else None}
    record.add(app_c_g_window_dead_rows_out=win_out)
display(g_sum[["lam", "train_r2_mean", "test_r2_mean", f"{zc}_mean", "pr_norm_k3_mean",
               "divergence_k3_mean"] + [c for c in g_sum if c.startswith("in")]].round(4))
for row in g_sum.to_dict("records"):
    record.add(f"app_c.g.lam{row['lam']:g}", {
        "train_r2_mean": row["train_r2_mean"], "test_r2_mean": row["test_r2_mean"],
        "zero_pct_k3": 100 * row[f"{zc}_mean"], "pr_norm_k3": row["pr_norm_k3_mean"],
        "divergence_k3": row["divergence_k3_mean"]})
record.add(app_c_g_window={"low": win["low"], "high": win["high"],
                           **{label.split(" k=")[0].replace(" ", "_"): [w["low"], w["high"]]
                              for label, w in wins.items()}})
unlearn = [float(l) for l, r in zip(g_sum.lam, g_sum.train_r2_mean) if r < 0.9]
record.add(app_c_g_unlearnable=unlearn)
ok = unlearn == [min(g_lambdas)] and min(g_lambdas) <= paper.APP_C_G_UNLEARNABLE + 1e-9
record.compare("App C: G(lambda) learnable for all but the smallest lambda ~ 0.10",
               "P1 App C text", "only lambda ~ 0.10 unlearnable",
               f"train R^2 < 0.9 at lambda in {unlearn}", agree=ok,
               note="" if ok else "learnable read as mean training R^2 >= 0.9 (A-31); P1 shows "
               "no R^2 curve; "
               + ", ".join(f"R^2({l:g}) = {r:.3f}" for l, r in zip(g_sum.lam, g_sum.train_r2_mean)
                           if r < 0.9))
steps = np.diff(sorted(g_lambdas))
step = float(steps.max()) if len(steps) else 0.0
per_metric = "; ".join(f"{label}: " + (f"{w['low']:g}-{w['high']:g}" if w["low"] is not None
                                       else "none") for label, w in wins.items())
# bounds as for lambda-xor (notebook 04): goldilocks.window_bound, the bound closes inside the
# grid and lies within the wording "near" (P1's "<~") plus half a grid step
for label, w in wins.items():
    ours = f"{w['low']:g}-{w['high']:g}" if w["low"] is not None else "no lambda"
    vs = [window_bound(w, side, p_val, "near", resolution=step)
          for side, p_val in (("low", lo_), ("high", hi_))]
    wo = g_wins.get("out", {}).get(label)
    other = ("" if wo is None else "dead rows left out: " +
             (f"{wo['low']:g}-{wo['high']:g}" if wo["low"] is not None else "no lambda"))
    record.compare(f"App C: G(lambda) window of KA geometry in {label}", "P1 App C text (Fig 18)",
                   f"{lo_:g}-{hi_:g}", ours, verdict=claims.all_of([v["verdict"] for v in vs]),
                   note=f"rule (as lambda-xor, notebook 04): inside when significant against the "
                   f"initial models ({n_sigma:g} combined SE) and at least {window_fraction:g} of "
                   f"xor(32)'s effect; bounds within 'near' plus half a grid step ({step:g}); "
                   + other,
                   cause="; ".join(v["why"] for v in vs if v["verdict"] != "reproduced")
                   + "; P1 reads its window off plots (A-25)")
two_of_three = {"low": win["low"], "high": win["high"], "reference_significant": True,
                "bounded_low": win["low"] is not None and win["low"] > min(g_lambdas) + 1e-9,
                "bounded_high": win["high"] is not None and win["high"] < max(g_lambdas) - 1e-9}
per_metric_all = per_metric + ("" if win_out is None else
                               f"; dead rows left out: 2-of-3 window {win_out['low']}-"
                               f"{win_out['high']}")
for side, key, p_val in (("lower", "low", lo_), ("upper", "high", hi_)):
    v = window_bound(two_of_three, key, p_val, "near", resolution=step)
    record.compare(f"App C: G(lambda) Goldilocks window {side} bound (2 of 3 metrics)",
                   "P1 App C text", p_val, v["ours"] if v["ours"] is not None else "no lambda",
                   verdict=v["verdict"], note=f"per metric: {per_metric_all}",
                   cause=v["why"] + "; P1 reads its window off plots, with unknown seeds, grid "
                   "and stopping rule (A-06, A-25)")

# %% [markdown]
# **Reading.** The concentration metrics trace a Goldilocks window. The normalised PR and the
# column divergence are `xor`-like from $\lambda \approx 0.2$ up to 0.5–0.7 and fade
# towards both ends. $G(0.1)$ is not learned, and $G(1)$ is nearly flat and learned without
# any KA geometry. The lower edge agrees with P1's 0.15. Our upper edge lies lower than 0.80,
# and G's size-3 zero rows stay far below `xor(32)`'s everywhere, unlike the λ-xor zero rows
# of Fig. 11. $G(0.2)$ and $G(0.3)$ fall short of our "learnable" threshold ($R^2 \ge 0.9$),
# so the unlearnable range extends past P1's "$\lambda \approx .10$".

# %% [markdown]
# ## Comparison to paper
#
# Every quantitative statement of App. A–C, with our value and its verdict
# (`kag_utils.readings.verdicts`): numbers by 2 combined standard errors plus the tolerance of the
# claim's wording, claims read off figures by the rules of `kag_utils.readings` stated above.

# %%
print(record.tally_text())
with pd.option_context("display.max_colwidth", 120, "display.max_rows", 300):
    display(record.comparison_table())

# %% [markdown]
# ## Deviations and choices
#
# * **Early stopping (A-06)** decides every `random(32)` result. Our rule (epoch-mean training
#   mini-batch MSE, `min_delta = 0`, patience 50, restore best) trains `random(32)` further
#   than P1's (Table I $R^2$), and the KA metrics follow. The early-stopping readings above
#   judge the App. B claims under every reading, and notebook 01 does so at $B = 250$.
# * **Batch sizes (A-07, A-08)**: the appendix's 256 (not the main text's 250); reshuffled
#   every epoch; partial last batch kept.
# * **App. A (A-20, A-21)**: float64 Jacobians and minors; 100 log10 bins; MEF normalised at
#   $q = 0.90$ and fitted over $[0.90, 0.99)$; tail class = sign of the slope, significant
#   beyond 2 SE over seeds; quantile ratios on all minors, with exact zeros counted.
# * **App. B (A-14, A-28, A-29)**: consistently zero = zero row for ≥ 99 % of inputs, size 1
#   for the headline numbers. Row size = mean $|A^T_{ji}|$. "Negative bias" = $a_j < 0$.
#   Bootstrapped second stage: width 32, main protocol, same $B$ and seed as its base model.
# * **App. C (A-25, A-30, A-31)**: $O^{(\alpha)}$ from scipy's `special_ortho_group` with
#   `random_state=α`. $q^{(1)} = 0.01$. PR and RR are normalised per seed, divergence raw.
#   Window and learnability rules as stated above. P1's "Fig. 18d" for the rotation-ratio
#   panel is Fig. 17d (A-33).
# * **App. C seeds, windows and readings (ours).** Each model seed draws its own inputs
#   (data seed = model seed; `c_data_seeds = "fixed"` gives data seed 0, notebook 01's
#   choice), so the standard errors include the data's variance; the `xor(32)` compared with
#   is trained the same way (the λ = 1 models of notebook 04). The G(λ) window uses the one
#   rule of notebook 04's λ-xor windows (`kag_utils.readings.goldilocks`): significant against the
#   initial models and at least half of `xor(32)`'s effect; it used `linear(32)` as the
#   control before. Every App. C metric is also read with the dead rows left out
#   (`dead_rows="out"`); the verdicts keep P1's all-rows definition.
# * **Sampling and budgets** follow the parameter set. P1 uses all 1000 inputs for the
#   metrics and 400 rotations × 1000 inputs for the rotation ratio. Time budgets force cuts,
#   and the rotation-ratio sampling shrinks first (REPRODUCTION 5.3). `paper` keeps 400
#   rotations on the first 250 inputs. `default` (≈ 7 min on 2 cores) uses 50 × 100 for the
#   RR and 250 inputs for the other metrics; it also sweeps `xor(32)` and `linear(32)` over
#   $B$ with 2 seeds (text claims only) and trains Fig. 16 at $B \in \{32, 256, 1000\}$.
#   Figures from a non-`paper` set carry its name.
# * **Agreement rules**: numbers use the verdict rule (2 combined SE + wording tolerance). "No signal" claims need
#   the excess over the no-change value within 10 % of `xor(32)`'s effect plus 2 standard
#   errors. Orders of magnitude agree within half a decade (`claims.order_of_magnitude`, with
#   the decade reading beside it). "Relatively uniform" uses `readings.stable`, "weak signal"
#   the window rule on one point (`claims.weak_signal`). Qualitative claims follow the rules
#   stated next to them.

# %%
session.save()
