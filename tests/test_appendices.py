"""Unit tests of the App. A-C helpers: kag_utils.readings.tails, dead_neurons."""
import math

import numpy as np
import pytest
import torch

from kag_utils.p1 import dead_neurons
from kag_utils.readings import tails
from kag_utils.p1.models import init_params
from kag_utils.p1.targets import make_inputs


# ------------------------------------------------------------------------------- tails
def test_quantile_grid_default():
    q = tails.quantile_grid()
    assert len(q) == 100 and q[0] == pytest.approx(0.9) and q[-1] == pytest.approx(0.999)


def test_quantile_summary_known_values_and_zeros():
    v = np.arange(0, 101, dtype=float)             # 0..100: Q(0.99) = 99, Q(0.01) = 1
    s = tails.quantile_summary(v)
    assert s["q_hi"] == pytest.approx(99) and s["q_lo"] == pytest.approx(1)
    assert s["ratio"] == pytest.approx(99) and s["log10_ratio"] == pytest.approx(math.log10(99))
    assert s["n_zero"] == 1 and s["max"] == 100
    z = np.concatenate([np.zeros(50), np.ones(50)])
    s = tails.quantile_summary(z)                  # Q(0.01) = 0: ratio undefined, not inf
    assert s["ratio"] is None and s["log10_ratio"] is None and s["n_zero"] == 50
    assert s["ratio_nonzero"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="non-negative"):
        tails.quantile_summary([-1.0, 2.0])


def test_quantile_summary_tiny_values_float64():
    # ratios far beyond float32's range stay exact in log10 (A-20)
    v = np.logspace(-60, -10, 1001)
    s = tails.quantile_summary(v)
    assert s["log10_ratio"] == pytest.approx(0.98 * 50, abs=1e-6)


def test_log10_histogram_shared_edges_and_zero_count():
    a = np.array([0.0, 1e-3, 1e-2, 1e-1])
    b = np.array([1.0, 10.0])
    h = tails.log10_histogram({"a": a, "b": b}, bins=8)
    assert h["edges"][0] == pytest.approx(-3) and h["edges"][-1] == pytest.approx(1)
    width = np.diff(h["edges"])
    assert (h["a"]["density"] * width).sum() == pytest.approx(3 / 4)   # non-zero share
    assert (h["b"]["density"] * width).sum() == pytest.approx(1.0)
    assert h["a"]["n_zero"] == 1 and h["b"]["n_zero"] == 0


def test_mef_fit_tail_classes():
    rng = np.random.default_rng(0)
    n = 400_000
    expo = tails.mef_fit(rng.exponential(size=n))
    pareto = tails.mef_fit(rng.pareto(3.0, size=n) + 1)      # power law: increasing MEF
    unif = tails.mef_fit(rng.uniform(size=n))                 # bounded: decreasing MEF
    assert abs(expo["slope"]) < 0.5
    assert pareto["slope"] > 3
    assert unif["slope"] < -5
    # uniform on [0, 1]: MEF(Q(q)) = (1 - q) / 2, normalised by its value at q = 0.9
    assert unif["mef_norm"][50] == pytest.approx((1 - 0.95) / (1 - 0.9), rel=0.02)
    assert expo["n_fit"] == 90                                 # q = 0.900 .. 0.989


def test_mef_fit_scale_invariant():
    v = np.random.default_rng(1).lognormal(size=50_000)
    a, b = tails.mef_fit(v), tails.mef_fit(1e-30 * v)
    assert a["slope"] == pytest.approx(b["slope"], rel=1e-9)


# ------------------------------------------------------------------------- dead neurons
def test_compare_dead_rows_smallest_and_bias():
    sizes = np.array([0.5, 0.01, 0.3, 0.02, 0.9])
    bias = np.array([0.1, -0.2, -0.1, 0.3, -0.5])
    r = dead_neurons.compare_dead_rows([3, 1], sizes, bias)
    assert r["rows"] == [1, 3] and r["n_consistent"] == 2
    assert r["coincide_smallest"] is True and r["overlap_smallest"] == 1.0
    assert r["max_size_rank"] == 2
    assert r["n_negative_bias"] == 3 and r["negative_bias_share"] == 0.5
    r = dead_neurons.compare_dead_rows([1, 2], sizes, bias)          # row 2 is 3rd smallest
    assert r["coincide_smallest"] is False and r["overlap_smallest"] == 0.5
    assert r["max_size_rank"] == 3 and r["negative_bias_share"] == 1.0
    r = dead_neurons.compare_dead_rows([], sizes, bias)
    assert r["n_consistent"] == 0 and r["coincide_smallest"] is None
    assert r["negative_bias_share"] is None and r["n_negative_bias"] == 3
    with pytest.raises(ValueError, match="one entry per neuron"):
        dead_neurons.compare_dead_rows([0], sizes, bias[:3])
    with pytest.raises(ValueError, match="row indices"):
        dead_neurons.compare_dead_rows([7], sizes, bias)


def test_compare_dead_rows_ties_count_as_coinciding():
    sizes = np.array([0.1, 0.1, 0.5])
    assert dead_neurons.compare_dead_rows([1], sizes, np.zeros(3))["coincide_smallest"] is True


def test_weight_row_sizes_is_mean_abs_of_A_columns():
    A = torch.tensor([[1.0, -2.0], [3.0, 0.0], [-2.0, 1.0]])      # [n = 3, m = 2]
    np.testing.assert_allclose(dead_neurons.weight_row_sizes(A), [2.0, 1.0])


def test_dead_neuron_analysis_finds_silenced_rows():
    init = init_params(0, (8,), 3, 1, torch.float64)
    trained = [{k: v.clone() for k, v in p.items()} for p in init]
    trained[0]["W"][:, 2] = 1e-8          # row 2 of A^T tiny: dead by small weights
    trained[0]["W"][:, 5] *= 0.1          # row 5: dead by a large negative bias (GeLU tail)
    trained[0]["b"][5] = -12.0
    x = make_inputs(300, "train")
    r = dead_neurons.dead_neuron_analysis(trained, init, x, q1=0.01)
    assert r["rows"] == [2, 5]
    assert r["negative_bias_share"] == 0.5
    assert r["max_size_rank"] >= 2
    assert r["max_preactivation"][1] < -10 and abs(r["max_preactivation"][0]) < 1
