"""Convergence of P2's sampled estimates with the sample counts (kag_utils.mnist.convergence)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kag_utils.core.minors import combinations_index, sample_combinations, sampled_minors
from kag_utils.core.sampled_metrics import minor_kl_divergence
from kag_utils.mnist import convergence as cv
from kag_utils.mnist.evaluation import MNISTEvalConfig, pair_metrics
from kag_utils.mnist.models import init_params, mlp_jacobians


def _pair(B=32, h=10, n=30, seed=0, sigma=2.0):
    """Synthetic (J_trained, J_init) [B, h, n]: Gaussian init; 'trained' rows scaled
    unevenly (log-normal, ``sigma``) so that its minors are more concentrated (PR ratio > 1)."""
    g = torch.Generator().manual_seed(seed)
    Ji = torch.randn(B, h, n, generator=g, dtype=torch.float64)
    scale = torch.exp(sigma * torch.randn(B, h, 1, generator=g, dtype=torch.float64))
    Jt = torch.randn(B, h, n, generator=g, dtype=torch.float64) * scale
    return Jt, Ji


# -- ladders and samples ----------------------------------------------------------------------
def test_geometric_ladder():
    assert cv.geometric_ladder(10_000, 6) == [312, 625, 1250, 2500, 5000, 10_000]
    assert cv.geometric_ladder(512, 6) == [16, 32, 64, 128, 256, 512]
    assert cv.geometric_ladder(400, 5) == [25, 50, 100, 200, 400]
    assert cv.geometric_ladder(10_000, 6, limit=2016) == [312, 625, 1250, 2016]
    assert cv.geometric_ladder(3, 6) == [1, 2, 3]
    with pytest.raises(ValueError):
        cv.geometric_ladder(0)


@pytest.mark.parametrize("n,k,top", [(30, 2, 100), (10, 2, 100), (40, 3, 500)])
def test_nested_samples_prefixes_are_the_library_samples(n, k, top):
    idx, info = cv.nested_samples(n, k, top, seed=42)
    total = math.comb(n, k)
    assert idx.shape == (min(top, total), k)
    assert len({tuple(r) for r in idx.tolist()}) == idx.shape[0]            # distinct
    if info["exhaustive"]:
        assert sorted(map(tuple, idx.tolist())) == [tuple(r) for r in combinations_index(n, k).tolist()]
    for c in (1, 7, min(top, total) - 1):
        lib = sample_combinations(n, k, c, torch.Generator().manual_seed(42))
        assert torch.equal(idx[:c], lib)


# -- standard errors against slow delete-one loops ----------------------------------------------
def test_ratio_and_mean_se_match_slow_jackknife():
    rng = np.random.default_rng(1)
    a, b = rng.gamma(3, size=20), rng.gamma(2, size=20)
    a[3] = np.nan
    est, se = cv.ratio_of_means_se(a, b)
    assert est == pytest.approx(np.nanmean(a) / np.nanmean(b))
    reps = np.array([np.nanmean(np.delete(a, i)) / np.nanmean(np.delete(b, i)) for i in range(20)])
    slow = math.sqrt(19 / 20 * np.sum((reps - reps.mean()) ** 2))
    assert se == pytest.approx(slow, rel=1e-12)
    m, s = cv.mean_se(a)
    assert m == pytest.approx(np.nanmean(a))
    assert s == pytest.approx(np.nanstd(a, ddof=1) / math.sqrt(19))
    # the jackknife of a plain mean is std / sqrt(n)
    assert cv.ratio_of_means_se(b, np.ones(20))[1] == pytest.approx(cv.mean_se(b)[1], rel=1e-12)


def test_kl_se_matches_slow_jackknife_on_materialised_minors():
    Jt, Ji = _pair(B=6, h=5, n=8)
    rows, cols = combinations_index(5, 2), combinations_index(8, 2)
    mt, mi = sampled_minors(Jt, rows, cols).numpy(), sampled_minors(Ji, rows, cols).numpy()
    nz = np.concatenate([mt[mt > 0], mi[mi > 0]])
    edges = np.linspace(np.log10(nz.min()), np.log10(nz.max()), 101)

    def hist(v):                                         # [zeros, 100 bins] of one image
        lv = np.log10(v[v > 0])
        idx = np.clip(np.searchsorted(edges[1:-1], lv, side="right"), 0, 99)
        return np.concatenate([[np.sum(v == 0)], np.bincount(idx, minlength=100)])
    ht = np.stack([hist(mt[i].ravel()) for i in range(6)])
    hi = np.stack([hist(mi[i].ravel()) for i in range(6)])
    est, se = cv.kl_se(ht, hi)
    assert est == pytest.approx(minor_kl_divergence(mt, mi), rel=1e-12)
    reps = []
    for i in range(6):
        keep = [j for j in range(6) if j != i]
        p = ht[keep].sum(0) / ht[keep].sum() + 1e-10
        q = hi[keep].sum(0) / hi[keep].sum() + 1e-10
        p, q = p / p.sum(), q / q.sum()
        reps.append(np.sum(p * np.log(p / q)))
    reps = np.array(reps)
    assert se == pytest.approx(math.sqrt(5 / 6 * np.sum((reps - reps.mean()) ** 2)), rel=1e-10)


# -- the choice rule ---------------------------------------------------------------------------
def test_choose_count_on_synthetic_ladders():
    counts = [1, 2, 4, 8, 16]
    # converges from below: 4 is the first count that stays within 0.1 of 1.0
    assert cv.choose_count(counts, [0.0, 0.5, 0.95, 1.02, 1.0], 1.0, 0.1) == 4
    # an excursion at 8 leaves the band: only 16 qualifies after it
    assert cv.choose_count(counts, [1.0, 1.0, 1.0, 1.5, 1.0], 1.0, 0.1) == 16
    # already flat: the smallest count
    assert cv.choose_count(counts, [1.05, 0.97, 1.0, 1.0, 1.0], 1.0, 0.1) == 1
    # n_se widens the band
    assert cv.choose_count(counts, [0.0, 0.5, 0.95, 1.02, 1.0], 1.0, 0.1, n_se=6) == 2
    # order of the input does not matter; NaN never qualifies; a NaN reference gives None
    assert cv.choose_count(counts[::-1], [1.0, 1.02, 0.95, 0.5, 0.0], 1.0, 0.1) == 4
    assert cv.choose_count(counts, [1.0, np.nan, 1.0, 1.0, 1.0], 1.0, 0.1) == 4
    assert cv.choose_count(counts, [1.0] * 5, np.nan, 0.1) is None
    # SE 0 (or NaN): only exact agreement
    assert cv.choose_count(counts, [0.9, 1.0, 1.1, 1.0, 1.0], 1.0, 0.0) == 8
    with pytest.raises(ValueError):
        cv.choose_count([1, 2], [1.0], 1.0, 0.1)


def test_choose_counts_takes_the_largest_choice_per_config_field():
    import pandas as pd

    rows = []
    for model, ests in (("a", [0.0, 0.95, 1.0, 1.0]), ("b", [0.5, 0.7, 0.99, 1.0])):
        for c, e in zip([10, 20, 40, 80], ests):
            rows.append({"model": model, "k": 2, "group": "grid", "quantity": "pr_ratio",
                         "axis": "rows", "count": c, "estimate": e, "se": 0.1, "top": c == 80})
    choices, chosen = cv.choose_counts(pd.DataFrame(rows))
    assert choices.set_index("model")["chosen"].to_dict() == {"a": 20, "b": 40}
    assert chosen == {"n_rows": 40}


# -- the driver --------------------------------------------------------------------------------
SMALL = cv.ConvergenceConfig(ks=(2,), rows=40, cols=200, images=32, rr_rows=20, rr_cols=40,
                             rr_images=32, n_rot=16, steps=4)


@pytest.fixture(scope="module")
def result():
    return cv.convergence({"m0": _pair(seed=0), "m1": _pair(seed=1)}, SMALL)


def test_table_layout_and_ladders(result):
    t = result.table
    assert {"model", "k", "group", "quantity", "axis", "count", "estimate", "se", "rows", "cols",
            "images", "rotations", "minors", "top"} <= set(t.columns)
    assert set(t["quantity"]) == {"pr_ratio", "kl", "rr_trained", "rr_init", "rr_ratio"}
    g = t[(t.model == "m0") & (t.quantity == "pr_ratio")]
    assert sorted(g[g.axis == "rows"]["count"]) == [5, 10, 20, 40]
    assert sorted(g[g.axis == "images"]["count"]) == [4, 8, 16, 32]
    r = t[(t.model == "m0") & (t.quantity == "rr_ratio")]
    assert sorted(r[r.axis == "rotations"]["count"]) == [2, 4, 8, 16]
    # one reference point per group: every axis's top row holds the same estimate
    for (model, q), d in t[t.top].groupby(["model", "quantity"]):
        assert d["estimate"].nunique() == 1 and len(d) == (3 if q in ("pr_ratio", "kl") else 4)
    assert (g[g.top]["minors"] == 40 * 200 * 32).all()
    assert np.isfinite(t["estimate"]).all() and (t["se"] > 0).all()
    # trained minors (uneven rows) are more concentrated than the Gaussian init
    assert (g["estimate"] > 1).all()


def test_se_shrinks_with_the_number_of_images():
    cfg = cv.ConvergenceConfig(ks=(2,), rows=40, cols=100, images=128, rr_rows=20, rr_cols=30,
                               rr_images=128, n_rot=8, steps=4)
    t = cv.convergence({"a": _pair(B=128, sigma=1.0)}, cfg).table
    d = t[t.axis == "images"]
    for q in ("pr_ratio", "kl", "rr_trained", "rr_init", "rr_ratio"):
        se = d[d.quantity == q].set_index("count")["se"]
        assert list(se.index) == [16, 32, 64, 128]
        # about 1 / sqrt(n): 8x more images, ~2.8x smaller SE (measured 1.5-3.4 over seeds;
        # the KL, a biased statistic of pooled histograms, shrinks least)
        assert 1.3 < se[16] / se[128] < 4.5, (q, se.to_dict())


def test_choices_follow_the_rule(result):
    t, ch = result.table, result.choices
    assert len(ch) == 2 * (2 * 3 + 3 * 4)                # models x (grid + rr ladders)
    for _, c in ch.iterrows():
        d = t[(t.model == c.model) & (t.quantity == c.quantity) & (t.axis == c.axis)]
        ok = (d["estimate"] - c.reference).abs() <= c.reference_se
        assert c.chosen is not None
        assert ok[d["count"] >= c.chosen].all()
        below = d[d["count"] < c.chosen]["count"]
        if len(below):                                   # the next smaller count fails
            assert not ok[d["count"] == below.max()].all()
    assert set(result.chosen) == {"n_rows", "n_cols", "n_images", "rr_rows", "rr_cols",
                                  "rr_images", "n_rot"}
    assert result.chosen["n_rows"] <= 40 and result.chosen["n_rot"] <= 16
    for field in result.chosen:
        assert result.chosen[field] == ch[ch.field == field]["chosen"].max()


def test_top_estimates_equal_pair_metrics():
    """At the top counts the ladders' reference equals what notebook 06's pair_metrics reports."""
    h, B = 10, 8
    p_init = init_params(h, 0, torch.float64)
    g = torch.Generator().manual_seed(5)
    p_tr = {k: v + 0.3 * torch.randn(v.shape, generator=g, dtype=torch.float64)
            for k, v in p_init.items()}
    x = torch.randn(B, 784, generator=g, dtype=torch.float64)
    ecfg = MNISTEvalConfig(n_images=B, ks=(2,), layers=("L1",), n_rows=45, n_cols=300, n_rot=6,
                           rr_images=4, rr_rows=20, rr_cols=30)
    ref = pair_metrics(p_tr, p_init, x, ecfg, device="cpu")["metrics"]["L1/k2"]
    J = {s: mlp_jacobians(p, x, ("L1",))["L1"] for s, p in (("t", p_tr), ("i", p_init))}
    cfg = cv.ConvergenceConfig(ks=(2,), rows=45, cols=300, images=B, rr_rows=20, rr_cols=30,
                               rr_images=4, n_rot=6, steps=2)
    t = cv.convergence({"net": (J["t"], J["i"])}, cfg).table
    top = t[t.top].groupby("quantity")["estimate"].first()
    for q in ("pr_ratio", "kl", "rr_trained", "rr_init", "rr_ratio"):
        assert top[q] == pytest.approx(ref[q], rel=1e-9), q


def test_bad_inputs():
    Jt, Ji = _pair(B=4)
    with pytest.raises(ValueError, match="4 images but the tops need"):
        cv.convergence({"a": (Jt, Ji)}, SMALL)
    with pytest.raises(ValueError, match="must both be"):
        cv.convergence({"a": (Jt, Ji[:, :5])}, SMALL)
    with pytest.raises(ValueError, match="at least one model"):
        cv.convergence({}, SMALL)
    with pytest.raises(ValueError, match="minor orders"):
        cv.ConvergenceConfig(ks=(4,))


def test_run_pairs_are_the_runs_jacobians(tmp_path):
    """run_pairs: one (trained, initial) pair per run and layer, equal to mlp_jacobians of the
    run's final and initial weights in float64."""
    from kag_utils.mnist.convergence import run_pairs
    from kag_utils.mnist.models import MNISTRunConfig, ensure_mnist_runs, mlp_jacobians
    from kag_utils.pipeline.cache import Cache

    runs = ensure_mnist_runs([MNISTRunConfig(hidden=8, seed=0, epochs=1)],
                             cache=Cache(tmp_path), progress=False)
    x = torch.randn(3, 784)
    pairs = run_pairs(runs, x, ("L1", "L2"))
    assert sorted(pairs) == ["h8/s0/standard/L1", "h8/s0/standard/L2"]
    w = {k: v.double() for k, v in runs[0].initial.items()}
    J0 = mlp_jacobians(w, x.double(), ("L2",))["L2"]
    assert pairs["h8/s0/standard/L2"][1].dtype == torch.float64
    assert torch.allclose(pairs["h8/s0/standard/L2"][1], J0)
    assert pairs["h8/s0/standard/L1"][0].shape == (3, 8, 784)
    assert not torch.allclose(pairs["h8/s0/standard/L1"][0], pairs["h8/s0/standard/L1"][1])
