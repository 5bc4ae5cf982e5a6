"""The published numbers we compare against, typed once, with where each paper states them.

Only values printed in the papers live here (REPRODUCTION.md tags them PAPER); nothing we
compute. Notebooks put them beside our measurements in their "Comparison to paper" cells and in
``results/<set>/comparison.csv``. Table entries are ``(mean, std)`` with std over 4 model seeds.
"""
from __future__ import annotations

# P1 Table I: training R^2, mean +- std over 4 seeds, keyed by function then m.
TABLE_I = {
    "xor": {4: (0.3819, 0.1286), 8: (0.6864, 0.0163), 16: (0.9412, 0.0269), 32: (0.9850, 0.0081)},
    "linear": {4: (1.0, 0.0), 8: (1.0, 0.0), 16: (1.0, 0.0), 32: (1.0, 0.0)},
    "random": {4: (0.0042, 0.0009), 8: (0.0067, 0.0031), 16: (0.0102, 0.0054),
               32: (0.0210, 0.0029)},
}

# P1 Sec. III: the critical batch size used for every main experiment (the largest B_c of
# xor(m) over m in {4, 8, 16, 32}).
CRITICAL_BATCH_SIZE = 250

# P1 Table II (m = 32), in percent: {function: {row: {q1: (mean, std)}}}; rows "zero" (size-3
# zero rows), "dep2" and "dep3" (size-2 / size-3 dependent zero rows).
TABLE_II = {
    "xor": {
        "zero": {1e-4: (2.068, 0.651), 1e-3: (4.822, 1.390), 1e-2: (12.339, 3.012)},
        "dep2": {1e-4: (0.311, 0.079), 1e-3: (0.771, 0.172), 1e-2: (2.360, 0.425)},
        "dep3": {1e-4: (0.143, 0.046), 1e-3: (0.445, 0.120), 1e-2: (1.116, 0.192)},
    },
    "linear": {
        "zero": {1e-4: (0.029, 0.003), 1e-3: (0.361, 0.035), 1e-2: (3.671, 0.256)},
        "dep2": {1e-4: (0.013, 0.002), 1e-3: (0.117, 0.012), 1e-2: (1.046, 0.089)},
        "dep3": {1e-4: (0.014, 0.003), 1e-3: (0.149, 0.022), 1e-2: (1.127, 0.073)},
    },
    "random": {
        "zero": {1e-4: (0.045, 0.004), 1e-3: (0.473, 0.019), 1e-2: (4.947, 0.152)},
        "dep2": {1e-4: (0.013, 0.001), 1e-3: (0.147, 0.015), 1e-2: (1.526, 0.108)},
        "dep3": {1e-4: (0.024, 0.004), 1e-3: (0.208, 0.013), 1e-2: (1.581, 0.077)},
    },
}

# P1 Table III (m = 32): size-k participation ratios (IV.5), {model: {k: (mean, std)}};
# "initial" is the untrained model, PR_MAX the bound sqrt(C(m,k) C(n,k)).
TABLE_III = {
    "xor": {1: (6.08, 0.21), 2: (13.26, 0.81), 3: (16.24, 1.47)},
    "linear": {1: (6.31, 0.04), 2: (18.64, 0.21), 3: (26.62, 0.64)},
    "random": {1: (5.67, 0.18), 2: (15.42, 0.63), 3: (20.97, 1.00)},
    "initial": {1: (6.29, 0.09), 2: (18.64, 0.53), 3: (27.25, 0.89)},
}
TABLE_III_PR_MAX = {1: 9.80, 2: 38.57, 3: 70.43}

# P1 Table IV: random rotation ratios of the toy Jacobians (IV.8)-(IV.10), m = 7, n = 3,
# 400 rotations; single draws for J2 and J3 (seeds unknown).
TABLE_IV = {
    "J1": {1: 1.483, 2: 1.803, 3: 2.607},
    "J2": {1: 0.993, 2: 0.821, 3: 0.841},
    "J3": {1: 0.768, 2: 0.958, 3: 0.955},
}

# P1 App. A: Q(0.99)/Q(0.01) of the size-3 minors of xor(32): "astronomical, 10^45 vs 10^4 at
# initialization"; the trained size-3 maximum is "approximately an order of magnitude larger".
APP_A_QUANTILE_RATIO_LOG10 = {"trained": 45.0, "initial": 4.0}
APP_A_MAX_RATIO_LOG10 = 1.0

# P1 App. B: share of size-1 zero rows of random(32) that are consistently zero.
APP_B_CONSISTENT_SHARE = {32: 0.97, 64: 0.95, 128: 0.0, 256: 0.0, 512: 0.0, 1000: 0.0}

# P1 Goldilocks windows (Sec. IV.C, App. C): (low, high) of the family parameter.
GOLDILOCKS = {"lambda_xor": (0.7, 1.2), "gaussian": (0.15, 0.80)}
# P1 Sec. IV.C: onset of zero rows / concentration in training R^2; extremum location.
EVOLUTION_TRANSITION_R2 = 0.5
EVOLUTION_EXTREMUM_R2 = 0.85
LAMBDA_XOR_EXTREMUM = 1.2

# P2 (MNIST) statements (no tables survive extraction).
MNIST_ACCURACY = {"standard": 0.98, "augmented": 0.96}
MNIST_ACCURACY_RESOLUTION = 0.01                    # printed in whole percent
MNIST_AUGMENTED_PR_RATIO_REDUCTION = (0.30, 0.40)   # "approximately 30% (30-40%) lower"

# ---- 04_dynamics (P1 Sec. IV.C, Figs. 8-12) --------------------------------------------------
# lambda-xor (IV.14): the interval studied and the seeds per lambda (Fig. 10 caption).
LAMBDA_XOR_RANGE = (0.5, 1.5)
LAMBDA_XOR_SEEDS = 4
# "easily learned for lambda <~ 1.2 and becomes increasingly difficult to learn for lambda > 1.2"
LAMBDA_XOR_EASY_MAX = 1.2
# "the same training R^2 achieved at lambda ~ 1.2": the R^2 of the Fig. 9 extrema, ~0.85
LAMBDA_XOR_R2_AT_EXTREMUM = 0.85
# Fig. 11: maxima of the zero-row and size-2 dependent zero-row percentages
LAMBDA_XOR_ZERO_MAX = 1.2
LAMBDA_XOR_DEP2_MAX = 1.0
# Fig. 8: q(1) used for the evolution zero rows ("false-positive rate q(1) = 0.01")
EVOLUTION_Q1 = 0.01
# ---------------------------------------------------------------------------- 05_appendices
# P1 App. B (Fig. 15, Fig. 16): the batch sizes of the sweep; the batch size the appendix calls
# critical ("zero signal for the critical batch size": 256 in Fig. 15, 250 in the main text);
# the width of the expanded 1-hidden-layer control.
APP_B_BATCH_SIZES = (32, 64, 128, 256, 512, 1000)
APP_B_CRITICAL_BATCH = 256
APP_B_EXPANDED_WIDTH = 264
# P1 App. B: consistently zero rows "exactly coincide with the smallest rows of the weight
# matrix" (share of models where they do: 1.0); "about 50% of the consistently zero rows
# coincide with neurons receiving a negative bias".
APP_B_SMALLEST_ROWS_SHARE = 1.0
APP_B_NEGATIVE_BIAS_SHARE = 0.5
# P1 App. C: SO(alpha)-xor uses alpha in {0..9}; its random rotation ratios "differ by about an
# order of magnitude" (log10 factor 1) from Fig. 6's xor values, smaller but "greater than 1.0".
APP_C_SO_ALPHAS = tuple(range(10))
APP_C_SO_RR_FACTOR_LOG10 = 1.0
# P1 App. C: G(lambda) for lambda in [0.10, 1.0]; "learnable ... for all but the smallest values
# of lambda ~ .10".
APP_C_G_RANGE = (0.10, 1.0)
APP_C_G_UNLEARNABLE = 0.10
# -- 06_mnist_spatial (P2) -------------------------------------------------------------------
# P2 Sec. 2: ball sizes "approximately 150, 600, 1400, and 2500 pixels" (nominal pi r^2 of the
# lost radii; REPRODUCTION M-13 reads them as r = 7, 14, 21, 28).
MNIST_BALL_SIZES_NOMINAL = (150, 600, 1400, 2500)
# P2 App. A protocol (used to count optimiser steps: 200 x ceil(60,000 / 256) = 47,000).
MNIST_PROTOCOL = {"epochs": 200, "batch_size": 256, "n_train": 60000, "n_test": 10000, "seeds": 5}
# P2 Sec. 3.1: "PR ratios remain stable even at 14 pixels apart".
MNIST_MAX_SEPARATION = 14
