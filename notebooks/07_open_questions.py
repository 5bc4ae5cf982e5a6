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
# # 07 · Beyond the papers: the intervention P1 proposes, depth, exact minors, a KAN
#
# Both papers end on open questions that no published code answers. A reader who trusts the
# reproduction of notebooks 01–06 will ask them next; this notebook answers four of them with
# the same models, metrics and run cache:
#
# 1. **The intervention P1 proposes (§V).** Do oscillatory activations such as
#    $x + 0.1\sin(10x)$ speed learning and raise KA geometry, and does the geometry come
#    before the learning?
# 2. **Depth.** In a 2- or 3-hidden-layer MLP, in which layer does KA geometry sit, and does
#    depth change it?
# 3. **Exact against sampled minors on MNIST.** P2 samples minors because computing all of
#    them is "prohibitively expensive". Is the sampled estimate biased, and by how much?
# 4. **A KAN beside the MLP.** Is the geometry a Kolmogorov–Arnold network builds by design
#    of the same kind as the MLP's spontaneous geometry, and larger?
#
# **How each study is decided.** Every study states its hypothesis and the statistics that
# decide it *before* any of its runs: this text was committed before the notebook first ran
# (git history of `notebooks/07_open_questions.py`). The answers below are generated from the
# numbers by the rules of `kag_utils.readings.open_questions`, including "no effect" where that
# is what comes out. Their comparison rows carry the verdict **new result**: there is no paper
# value to compare with; the claim text states what we claim, the note its evidence.
#
# **Shared conventions.**
#
# * *Primary metrics* (P1 §IV, the same functions as notebooks 02–04): the zero-row fraction at
#   $q^{(1)} = 0.01$ for $k = 1$ (IV.3), the normalised participation ratio $PR/PR_{\rm init}$
#   (IV.5), the normalised random rotation ratio $RR/RR_{\rm init}$ (IV.7) and the column
#   divergence (IV.13), the last three for $k = 2$ (the largest $k$ that every Jacobian of the
#   four studies has). Each is computed on a model's Jacobian against the *same seed's initial
#   model* at the same inputs.
# * *Excess*: the distance of a metric from its no-KA baseline in the direction KA geometry
#   moves it: zero rows above the initial model's fraction, PR below 1, RR above 1, divergence
#   above 0.
# * *Seeds and errors*: P1's four model seeds (0–3) unless a set says otherwise; standard
#   error $= s/\sqrt{n}$ (ddof 1). Runs with the same seed share their initial weights and
#   mini-batch order across the settings compared, so differences are taken **paired by seed**
#   where the design allows it (Welch's test otherwise).
# * *Tests*: two-sided at $\alpha = 0.05$, with Holm's correction over the family each study
#   names; an effect is reported only when its adjusted $p < \alpha$, otherwise "no effect"
#   (with the estimate and its standard error, so that "no effect" can be read against the
#   resolution four seeds give).

# %% [markdown]
# ## Hypotheses (fixed before the runs)
#
# **Study 1, oscillatory activations (P1 §V).** P1 proposes activations "with periodic
# terms", e.g. $x + 0.1\sin(10x)$, whose coordinate-wise stretching should increase the
# coordinate alignment of the Jacobian and "might accelerate" the emergence of KA geometry and
# learning. We test P1's proposal as stated:
#
# * *H1a (speed):* GeLU$(z) + a\sin(bz)$ and $z + a\sin(bz)$ reach a training $R^2$ of 0.9 in
#   fewer epochs than GeLU on `xor(32)` and on $\lambda$-xor(32), $\lambda \in \{0.8, 1.2, 1.6,
#   2.0\}$.
# * *H1b (geometry):* at the selected (final) weights they show more KA geometry than GeLU:
#   a larger excess of the primary metrics.
# * *H1c (order):* the geometry does not come before the learning: on `xor(32)` with GeLU
#   (notebook 04: onset around $R^2 \approx 0.5$) less than half of the final excess is present
#   at the first epoch with $R^2 \ge 0.5$.
#
# `linear(32)` (learned at once, no KA geometry in P1) and `random(32)` (not learnable) are
# controls. *Statistics:* per (activation, target), the seed-paired difference from GeLU of
# the epochs to $R^2 \ge 0.9$ (over the seeds where both reached it) and of each primary metric
# at the final weights; paired $t$ tests, Holm over the learnable targets (`xor` and the four
# $\lambda$) for each activation and quantity. An activation *speeds learning* if it is
# significantly faster on `xor(32)`; *raises KA geometry* if at least one primary metric's
# excess is significantly larger on `xor(32)` and none significantly smaller (lower: the
# mirror; both: "mixed"). For H1c, per primary metric, the share of the final excess present
# at $R^2 \ge 0.5$ (seed means): the geometry *precedes* the learning when that share is at
# least ½ and the excess there is significant (one-sample $t$ over seeds), *follows* it
# otherwise. An activation that raises the geometry at $R^2 \ge 0.5$ without speeding learning
# answers P2's "does the structure aid learning or follow from optimisation" against "aid".
#
# **Study 2, depth.** P1 reads the first layer of one-hidden-layer MLPs; P2 the two hidden
# layers of its MNIST MLPs (finding the first layer's geometry stronger).
#
# * *H2a (location):* in GeLU MLPs of width 32 with two and three hidden layers trained on
#   `xor`, KA geometry sits in the **first** layer: the composed Jacobian $\partial h_1/\partial
#   x$ has the largest excess of every primary metric among the layers' composed Jacobians
#   $\partial h_l/\partial x$ (all $32\times 3$, read exactly as P1's).
# * *H2b (depth):* depth does not change the first layer's geometry: the primary metrics of
#   layer 1 of the 2- and 3-layer models equal the 1-layer model's within the tests below.
#
# *Statistics:* for each depth, target and primary metric, layer $l$ *holds* the geometry when
# its excess exceeds every other layer's by a seed-paired $t$ test (Holm over the layer pairs),
# else the geometry is "spread over layers" (or "absent" when no layer's excess is
# significant by a one-sample $t$ test). H2b: Welch's test of layer 1 at depth 2 and 3 against
# depth 1 (different models), Holm over the depths. Each layer's *own* Jacobian
# $\partial h_l/\partial h_{l-1}$ ($32\times 32$ for $l \ge 2$) is read too and reported beside
# them, with the same rule; the composed Jacobians decide H2a because only they share P1's
# shape.
#
# **Study 3, exact against sampled minors on MNIST (P2 §3).** For a width-$h$ layer the
# $\binom{h}{2}\binom{784}{2}$ 2-minors of one image (6.2·10⁸ at $h = 64$) can be visited
# exactly. We compare the exact values with sampled grids of $n_r$ row pairs $\times$ $n_c$
# column pairs at P2's $10^4\times 10^4$ and at smaller counts, on trained and initial networks
# of notebook 06 (embedded digits).
#
# * *H3:* the sampled estimates of the scale-free quantities (the normalised PR
#   $\overline{|\mu|}/\sqrt{\overline{\mu^2}}$ of trained and initial networks, P2's PR ratio,
#   and the KL divergence on fixed bins) are unbiased to within **one standard error of a
#   single sampled estimate** at P2's counts; at the smallest grid the KL divergence is biased
#   upwards (a histogram KL from few samples is).
#
# *Statistics:* for each (network, layer, counts, quantity), `exact_draws` independent draws
# of the grid give the mean and the standard deviation $s$ of one sampled estimate; the bias
# (mean − exact) is *resolved* when $|z| = |{\rm bias}|/(s/\sqrt{n_{\rm draws}}) > 2$ and
# *practically negligible* when $|{\rm bias}| < s$ (the sampling error of P2's single draw
# dominates it). The absolute PR grows like $\sqrt N$ with the number $N$ of minors, so its
# sampled value does not estimate the exact one; it is left out.
#
# **Study 4, a KAN beside the MLP.** A KAN's first layer is a sum of learnable univariate
# functions, $h_j = \sum_i\phi_{ji}(x_i)$: KA structure by construction. pykan's
# `KAN([3, 4, 1], grid = 5)` has 160 trainable parameters, the width-32 MLP 161.
#
# * *H4a (kind):* trained on `xor` under P1's protocol, the KAN's first-layer Jacobian shows
#   KA geometry of the same kind as the MLP's: every primary metric that moves significantly
#   (one-sample $t$ of the excess over seeds) moves in the same direction in both models.
# * *H4b (size):* the KAN's excess is larger than the MLP's on `xor` for every primary metric.
#
# *Statistics:* the excess of each primary metric per model over seeds; the KAN against the
# MLP by Welch's test of the excess (different models), Holm over the primary metrics per
# target. *Same kind* when no significant movement has opposite signs in the two models;
# *larger* (smaller) when the KAN's excess is significantly larger (smaller); `linear` and
# `random` are read alike and reported as controls.
