"""Exact against sampled 2-minors on MNIST-shaped networks (kag_utils.mnist.exact)."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from kag_utils.core.exact_minors import exact_minor_stats
from kag_utils.core.minors import combinations_index, sampled_minor_stats
from kag_utils.mnist.exact import (COMPARABLE, exact_study, exact_timing, exact_vs_sampled,
                                   pair_metrics_from_stats, sampling_bias)
from kag_utils.mnist.models import init_params, mlp_jacobians

H = 8


@pytest.fixture(scope="module")
def nets():
    trained = init_params(H, seed=1, dtype=torch.float64)
    trained["b1"] += 0.3                          # any second network of the same shapes
    init = init_params(H, seed=0, dtype=torch.float64)
    x = torch.randn(3, 784, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return trained, init, x


def test_pair_metrics_from_stats_by_hand():
    st_t = {"sum_p1": torch.tensor([3.0, 4.0]), "sum_p2": torch.tensor([9.0, 4.0]), "count": 4,
            "n_zero": torch.tensor([1, 0]), "hist": torch.tensor([[1, 2], [3, 1]])}
    st_i = {"sum_p1": torch.tensor([2.0, 2.0]), "sum_p2": torch.tensor([1.0, 4.0]), "count": 4,
            "n_zero": torch.tensor([0, 0]), "hist": torch.tensor([[2, 2], [2, 2]])}
    r = pair_metrics_from_stats(st_t, st_i, eps=1e-3)
    assert r["pr_trained"] == pytest.approx((3 / 3 + 4 / 2) / 2)
    assert r["pr_init"] == pytest.approx((2 / 1 + 2 / 2) / 2)
    assert r["pr_norm_trained"] == pytest.approx(r["pr_trained"] / 2)
    assert r["pr_ratio"] == pytest.approx(1.5 / 1.5)
    p = np.array([1, 4, 3]) / 8 + 1e-3                   # zeros, bin 0, bin 1; + eps
    q = np.array([0, 4, 4]) / 8 + 1e-3
    p, q = p / p.sum(), q / q.sum()
    assert r["kl"] == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-9)


def test_exhaustive_sample_equals_exact(nets):
    """A grid that holds every row and column pair is the exact computation: every metric,
    the absolute PR included, agrees."""
    _, _, x = nets
    trained, init = init_params(4, seed=1, dtype=torch.float64), init_params(4, seed=0, dtype=torch.float64)
    trained["b1"] -= 0.2
    df = exact_vs_sampled(trained, init, x, "L2", n_images=1, n_draws=2,
                          counts=((100, 400_000),), edge_counts=(3, 1000), bins=30)
    ex = df[df.estimator == "exact"].set_index("metric")["value"]
    sa = df[(df.estimator == "sampled") & (df.draw == 1)].set_index("metric")["value"]
    assert bool(df[df.estimator == "sampled"]["exhaustive"].all())
    assert int(df[df.estimator == "exact"]["n_minors"].iloc[0]) == math.comb(4, 2) * math.comb(784, 2)
    for metric in ex.index:
        assert sa[metric] == pytest.approx(ex[metric], rel=1e-10), metric
    assert len(df.attrs["edges"]) == 31 and "exact" in df.attrs["seconds"]


def test_sampled_estimates_scatter_around_exact(nets):
    trained, init, x = nets
    df = exact_vs_sampled(trained, init, x, "L1", n_images=2, n_draws=6,
                          counts=((10, 300), (28, 3000)), edge_counts=(28, 3000), bins=20)
    assert set(df.metric) >= set(COMPARABLE)
    bias = sampling_bias(df)
    assert len(bias) == len(COMPARABLE) * 2
    assert (bias["n_draws"] == 6).all() and (bias["sd"] > 0).all()
    pr = bias[bias.metric.str.startswith("pr_norm")]
    assert (pr["bias_sd"].abs() < 4).all()                  # unbiased up to O(1/N)
    big = bias[(bias.n_cols == 3000)].set_index("metric")["sd"]
    small = bias[(bias.n_cols == 300)].set_index("metric")["sd"]
    assert (big["pr_norm_trained"] < small["pr_norm_trained"])   # more minors, less noise
    # the exact PR matches a direct computation over all minors
    J = mlp_jacobians(trained, x[:2], ("L1",))["L1"]
    st = exact_minor_stats(J)
    ex = df[(df.estimator == "exact") & (df.metric == "pr_trained")]["value"].iloc[0]
    assert ex == pytest.approx(float((st["sum_p1"] / st["sum_p2"].sqrt()).mean()))


def test_sampled_draws_equal_the_grid_kernel_on_the_same_samples(nets):
    """The sampled estimates (minors.sampled_minor_stats, notebook 06's kernel) are those of
    exact_minors.grid_minor_stats on the same draws: the same minors and bins, sums up to
    rounding order."""
    from kag_utils.core.exact_minors import grid_minor_stats
    from kag_utils.mnist.evaluation import column_samples, row_samples
    trained, init, x = nets
    df = exact_vs_sampled(trained, init, x, "L1", n_images=2, n_draws=2, counts=((10, 300),),
                          edge_counts=(28, 3000), bins=20)
    edges = np.asarray(df.attrs["edges"])
    Js = [mlp_jacobians(p, x[:2], ("L1",))["L1"].contiguous() for p in (trained, init)]
    for d in (0, 1):
        rows, _ = row_samples(H, 2, 10, 42 + d)
        cols, _ = column_samples(2, 300, 42 + d)
        ref = pair_metrics_from_stats(*(grid_minor_stats(J, rows, cols, edges) for J in Js))
        got = df[(df.estimator == "sampled") & (df.draw == d)].set_index("metric")["value"]
        for metric, value in ref.items():
            assert got[metric] == pytest.approx(value, rel=1e-12, abs=1e-15), metric


def test_sampling_bias_arithmetic():
    rows = [dict(hidden=4, layer="L1", n_images=1, estimator="exact", n_rows=6, n_cols=6,
                 draw=-1, metric="pr_ratio", value=1.0)]
    vals = [1.1, 1.3, 0.9, 1.3]
    rows += [dict(hidden=4, layer="L1", n_images=1, estimator="sampled", n_rows=2, n_cols=2,
                  draw=d, metric="pr_ratio", value=v) for d, v in enumerate(vals)]
    b = sampling_bias(pd.DataFrame(rows)).iloc[0]
    sd = float(np.std(vals, ddof=1))
    assert b["exact"] == 1.0 and b["mean"] == pytest.approx(1.15)
    assert b["sd"] == pytest.approx(sd) and b["bias"] == pytest.approx(0.15)
    assert b["z"] == pytest.approx(0.15 / (sd / 2)) and b["bias_sd"] == pytest.approx(0.15 / sd)
    assert b["p2_draw"] == 1.1 and b["p2_err_sd"] == pytest.approx(0.1 / sd)


def test_study_and_timing(nets):
    trained, init, x = nets
    df = exact_study([({"seed": 0}, trained, init), ({"seed": 1}, init, trained)], x,
                     layers=("L1",), n_images=1, n_draws=2, counts=((5, 50),),
                     edge_counts=(28, 500), bins=10)
    assert set(df.seed) == {0, 1}
    assert set(df.attrs["seconds"]) == {f"h{H} seed=0 L1", f"h{H} seed=1 L1"}
    assert len(sampling_bias(df, by=("seed",))) == 2 * len(COMPARABLE)
    t = exact_timing((4, 6), n_pixels=40, budget_s=60.0)
    assert list(t.hidden) == [4, 6] and (t.minors_per_s > 0).all()
    assert int(t.n_minors.iloc[1]) == 15 * 780 and int(t.grid_minors.iloc[1]) == 15 * 780
    assert (t.images_in_budget >= 1).all() and (t.study_s_per_image > 0).all()


def test_bad_input(nets):
    trained, init, x = nets
    with pytest.raises(ValueError, match="layer"):
        exact_vs_sampled(trained, init, x, "L3")
    with pytest.raises(ValueError, match="n_draws"):
        exact_vs_sampled(trained, init, x, n_draws=1)
    with pytest.raises(ValueError, match="n_images"):
        exact_vs_sampled(trained, init, x, n_images=10)
