"""Notebook 07's decision rules (kag_utils.readings.open_questions) on synthetic tables:
statistics against scipy and a closed-testing reference, calls on effects planted by hand."""
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from kag_utils.readings import open_questions as oq
from kag_utils.readings.verdicts import VERDICTS


# ---------------------------------------------------------------------------- statistics
def holm_by_closed_testing(p):
    """Holm = closed testing with Bonferroni local tests: the adjusted p of H_i is the largest
    Bonferroni p, min(1, |S| min_{j in S} p_j), over all intersections S that contain i."""
    idx = [i for i, v in enumerate(p) if np.isfinite(v)]
    out = [math.nan] * len(p)
    for i in idx:
        worst = 0.0
        for r in range(1, len(idx) + 1):
            for S in itertools.combinations(idx, r):
                if i in S:
                    worst = max(worst, min(1.0, len(S) * min(p[j] for j in S)))
        out[i] = worst
    return out


@pytest.mark.parametrize("p", [[0.01, 0.04, 0.03, 0.5], [0.2, 0.001, math.nan, 0.02, 0.02],
                               [0.9], [0.3, 0.6, 0.01, 0.011, 0.049, 0.7]])
def test_holm_equals_closed_testing(p):
    got = oq.holm(p)
    ref = holm_by_closed_testing(p)
    np.testing.assert_allclose(got, ref, rtol=1e-12, equal_nan=True)
    assert np.isnan(oq.holm([math.nan, math.nan])).all()


def test_one_sample_matches_scipy_and_call():
    v = [0.3, 0.1, 0.5, math.nan, 0.25]
    r = oq.one_sample(v)
    ref = stats.ttest_1samp([0.3, 0.1, 0.5, 0.25], 0.0)
    assert r["n"] == 4 and r["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert r["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert r["se"] == pytest.approx(np.std([0.3, 0.1, 0.5, 0.25], ddof=1) / 2)
    assert oq.call(0.2, 0.01) == "higher" and oq.call(-0.2, 0.01) == "lower"
    assert oq.call(0.2, 0.05) == "no effect" and oq.call(0.2, math.nan) == "no effect"
    assert oq.call(-1.0, 0.001, up="faster", down="slower") == "slower"


def test_excess_directions_and_baselines():
    assert oq.excess("pr_norm", 0.8) == pytest.approx(0.2)          # below 1: concentration
    assert oq.excess("rr_norm", 1.3) == pytest.approx(0.3)
    assert oq.excess("divergence", 0.05) == 0.05
    assert oq.excess("zero_frac", 0.04, 0.01) == pytest.approx(0.03)
    with pytest.raises(ValueError, match="init"):
        oq.excess("zero_frac", 0.04)
    with pytest.raises(ValueError, match="metric"):
        oq.excess("entropy", 1.0)


# --------------------------------------------------------------------- study 1 (activations)
ACTS = ("gelu", "x_sin(a=0.1, b=10)")
TARGETS = (("xor", math.nan), ("lambda_xor", 1.2), ("linear", math.nan))


def _metrics(effect=0.0, seed_noise=0.02):
    """A metric_table-shaped long table: per run "init" (zero_frac q, constants), "r2>=0.50"
    and "final"; x_sin gets ``effect`` more excess in every metric at every trained state."""
    rng = np.random.default_rng(0)
    rows = []
    for a, (t, p), s in itertools.product(ACTS, TARGETS, range(4)):
        for state, scale in (("init", 0.0), ("r2>=0.50", 0.3), ("final", 1.0)):
            for m, k in oq.PRIMARY:
                if state == "init":
                    v = {"zero_frac": 0.01, "pr_norm": 1.0, "rr_norm": 1.0, "divergence": 0.0}[m]
                else:
                    ex = scale * 0.2 + (effect if a != "gelu" else 0.0) + rng.normal(0, seed_noise)
                    v = (0.01 + ex if m == "zero_frac" else 1.0 - ex if m == "pr_norm"
                         else 1.0 + ex if m == "rr_norm" else ex)
                rows.append(dict(activation=a, target=t, param=p, seed=s, state=state, metric=m,
                                 k=k, value=v))
            rows.append(dict(activation=a, target=t, param=p, seed=s, state="final",
                             metric="pr", k=2, value=5.0))                 # not primary
    return pd.DataFrame(rows)


def test_excess_by_state_reads_init_rows():
    mt = _metrics()
    ex = oq.excess_by_state(mt)
    assert set(ex.state) == {"r2>=0.50", "final"} and set(ex.metric) == {m for m, _ in oq.PRIMARY}
    one = mt[(mt.activation == "gelu") & (mt.target == "xor") & (mt.seed == 2)]
    for m, k in oq.PRIMARY:
        v = one[(one.state == "final") & (one.metric == m)].value.iloc[0]
        i = one[(one.state == "init") & (one.metric == m)].value.iloc[0]
        got = ex[(ex.activation == "gelu") & (ex.target == "xor") & (ex.seed == 2)
                 & (ex.state == "final") & (ex.metric == m)].excess.iloc[0]
        assert got == pytest.approx(oq.DIRECTION[m] * (v - i))


def test_geometry_table_pairs_by_seed_and_corrects_over_targets():
    ex = oq.excess_by_state(_metrics(effect=0.1))
    g = oq.geometry_table(ex, "gelu")
    assert set(g.target) == {"xor", "lambda_xor"}                      # controls left out
    assert (g.call == "more").all()
    row = g[(g.target == "xor") & (g.metric == "pr_norm")].iloc[0]
    a = ex[(ex.activation == ACTS[1]) & (ex.target == "xor") & (ex.state == "final")
           & (ex.metric == "pr_norm")].sort_values("seed").excess
    b = ex[(ex.activation == "gelu") & (ex.target == "xor") & (ex.state == "final")
           & (ex.metric == "pr_norm")].sort_values("seed").excess
    ref = stats.ttest_rel(a.to_numpy(), b.to_numpy())
    assert row.paired_p == pytest.approx(ref.pvalue, rel=1e-9)
    pair = g[(g.metric == "pr_norm")].paired_p.to_numpy()
    np.testing.assert_allclose(g[g.metric == "pr_norm"].p_holm, oq.holm(pair))
    none = oq.geometry_table(oq.excess_by_state(_metrics(effect=0.0)), "gelu")
    assert (none.call == "no effect").mean() > 0.5
    by_metric = oq.geometry_table(ex, "gelu", family="metric")
    sub = by_metric[by_metric.target == "xor"]
    np.testing.assert_allclose(sub.p_holm, oq.holm(sub.paired_p.to_numpy()))


def test_order_table_calls():
    ex = oq.excess_by_state(_metrics(effect=0.0, seed_noise=0.005))
    o = oq.order_table(ex, "r2>=0.50")
    assert (o.call == "follows").all() and o.share.between(0.2, 0.4).all()   # 0.3 of final
    ex2 = ex.copy()
    ex2.loc[ex2.state == "r2>=0.50", "excess"] = ex2.loc[ex2.state == "final", "excess"].to_numpy() * 0.8
    assert (oq.order_table(ex2, "r2>=0.50").call == "precedes").all()
    ex3 = ex.copy()
    ex3["excess"] = ex3["excess"] * 0 + np.random.default_rng(1).normal(0, 0.1, len(ex3))
    assert (oq.order_table(ex3, "r2>=0.50").call == "no geometry").mean() > 0.8


def _comparison(diffs):
    """activation_study-like comparison rows of epochs_to_criterion, paired p by hand."""
    rows = []
    for (t, p), d in zip(TARGETS[:2], diffs):
        rows.append(dict(target=t, param=p, state="run", quantity="epochs_to_criterion", k=math.nan,
                         activation=ACTS[1], baseline="gelu", mean=500 + d, mean_base=500.0,
                         se=5.0, se_base=6.0,
                         paired_n_pairs=4, paired_diff=d, paired_diff_se=10.0,
                         paired_p=0.001 if abs(d) > 50 else 0.4))
    return pd.DataFrame(rows)


def test_speed_table_and_verdicts_and_rows():
    sp = oq.speed_table(_comparison([-200.0, 10.0]))
    assert list(sp.call) == ["faster", "no effect"]
    assert list(sp.p_holm) == pytest.approx([0.002, 0.4])
    ex = oq.excess_by_state(_metrics(effect=0.1))
    geo = oq.geometry_table(ex, "gelu")
    early = oq.geometry_table(ex, "gelu", state="r2>=0.50", family="metric")
    order = oq.order_table(ex, "r2>=0.50")
    v = oq.activation_verdicts(sp, geo, early, order, "gelu")
    assert len(v) == 1 and v.speed.iloc[0] == "faster" and v.geometry.iloc[0] == "raises"
    assert v.aid.iloc[0].startswith("consistent with aid") and "faster" in v.text.iloc[0]
    v2 = oq.activation_verdicts(oq.speed_table(_comparison([300.0, 0.0])), geo, early, order, "gelu")
    assert v2.speed.iloc[0] == "slower" and v2.aid.iloc[0].startswith("against aid")
    rows = oq.activation_rows(v, order, "gelu", n_seeds=4)
    assert len(rows) == 3 and all(r["verdict"] == "new result" in VERDICTS for r in rows)
    assert rows[0]["ours_value"] == "faster" and rows[1]["ours_value"] == "raises"
    assert rows[0]["claim"] == "x_sin(a=0.1, b=10) learns faster than GeLU on xor(32)"
    assert rows[1]["claim"] == "x_sin(a=0.1, b=10): more KA geometry than GeLU on xor(32)"
    assert oq.majority(["follows", "precedes", "precedes", "follows"]) == "follows"
    assert rows[2]["ours_value"] in {"follows", "precedes", "no geometry"}
    assert all(r["source"].startswith("Beyond the papers") and r["note"] for r in rows)


# ---------------------------------------------------------------------------- study 2 (depth)
def _layers(layer_effects, depth=2, seeds=4, noise=0.01, seed=0):
    """A depth_study-shaped metrics table: every primary metric's excess of layer l is
    layer_effects[l - 1] + noise, for the "input" and "own" Jacobians."""
    rng = np.random.default_rng(seed)
    rows = []
    for s, l, jac in itertools.product(range(seeds), range(1, depth + 1), ("input", "own")):
        base = dict(depth=depth, target="xor", param=math.nan, seed=s, state="final", layer=l,
                    jacobian=jac)
        for m, k in oq.PRIMARY:
            ex = layer_effects[l - 1] + rng.normal(0, noise)
            v = (0.01 + ex if m == "zero_frac" else 1.0 - ex if m == "pr_norm"
                 else 1.0 + ex if m == "rr_norm" else ex)
            rows.append({**base, "metric": m, "k": k, "value": v})
        rows.append({**base, "metric": "zero_frac_init", "k": 1, "value": 0.01})
    return pd.DataFrame(rows)


def test_layer_excess_and_location():
    ex = oq.layer_excess(_layers([0.3, 0.05, 0.0], depth=3))
    assert len(ex) == 4 * 3 * 2 * len(oq.PRIMARY)
    row = ex[(ex.layer == 2) & (ex.metric == "zero_frac") & (ex.seed == 0) & (ex.jacobian == "input")]
    assert row.excess.iloc[0] == pytest.approx(0.05, abs=0.05)
    loc = oq.layer_location(ex)
    assert (loc.location == "layer 1").all() and (loc.top == 1).all()
    # the paired test between layers is scipy's ttest_rel of the excess
    sub = ex[(ex.metric == "pr_norm") & (ex.jacobian == "input")]
    a = sub[sub.layer == 1].sort_values("seed").excess.to_numpy()
    b = sub[sub.layer == 2].sort_values("seed").excess.to_numpy()
    assert stats.ttest_rel(a, b).pvalue < 0.01
    spread = oq.layer_location(oq.layer_excess(_layers([0.2, 0.2], depth=2)))
    assert (spread.location == "spread").all()
    absent = oq.layer_location(oq.layer_excess(_layers([0.0, 0.0], depth=2, noise=0.05)))
    assert (absent.location == "absent").mean() > 0.7
    second = oq.layer_location(oq.layer_excess(_layers([0.0, 0.3], depth=2)))
    assert (second.location == "layer 2").all()
    single = oq.layer_location(oq.layer_excess(_layers([0.2], depth=1)))
    assert (single.location == "layer 1").all()


def test_depth_effect_verdicts_and_rows():
    d1 = _layers([0.2], depth=1, seed=1)
    d2 = _layers([0.4, 0.05], depth=2, seed=2)
    d3 = _layers([0.2, 0.05, 0.0], depth=3, seed=3)
    ex = oq.layer_excess(pd.concat([d1, d2, d3], ignore_index=True))
    eff = oq.depth_effect(ex)
    assert set(eff.depth) == {2, 3}
    assert (eff[eff.depth == 2].call == "more").all()
    assert (eff[eff.depth == 3].call == "no effect").all()
    a = ex[(ex.depth == 2) & (ex.layer == 1) & (ex.jacobian == "input") & (ex.metric == "divergence")]
    b = ex[(ex.depth == 1) & (ex.layer == 1) & (ex.jacobian == "input") & (ex.metric == "divergence")]
    w = eff[(eff.depth == 2) & (eff.metric == "divergence")].iloc[0]
    assert w.welch_p == pytest.approx(stats.ttest_ind(a.excess, b.excess, equal_var=False).pvalue)
    v = oq.depth_verdicts(oq.layer_location(ex), eff)
    assert list(v.depth) == [2, 3] and v.h2a.all()
    assert list(v.depth_change) == ["more", "no effect"]
    rows = oq.depth_rows(v, 4)
    assert len(rows) == 4 and all(r["verdict"] == "new result" for r in rows)
    assert rows[0]["claim"] == "2-hidden-layer MLP on xor: KA geometry sits in layer 1"
    assert rows[1]["ours_value"] == "more" and "more KA geometry in layer 1" in rows[1]["claim"]


# ------------------------------------------------------------------ study 3 (exact minors)
def test_bias_reading_summary_rows():
    b = pd.DataFrame([
        dict(hidden=32, layer="L1", n_images=2, metric="kl", n_rows=100, n_cols=100, exact=0.5,
             mean=0.8, sd=0.1, n_draws=8, bias=0.3, bias_sd=3.0, se_mean=0.035, z=8.5,
             rel_bias=0.6),
        dict(hidden=32, layer="L1", n_images=2, metric="pr_ratio", n_rows=100, n_cols=100,
             exact=1.1, mean=1.1, sd=0.05, n_draws=8, bias=0.001, bias_sd=0.02, se_mean=0.018,
             z=0.06, rel_bias=0.001),
        dict(hidden=32, layer="L1", n_images=2, metric="kl", n_rows=496, n_cols=10000, exact=0.5,
             mean=0.51, sd=0.01, n_draws=8, bias=0.008, bias_sd=0.8, se_mean=0.0035, z=2.3,
             rel_bias=0.016),
        dict(hidden=64, layer="L1", n_images=2, metric="kl", n_rows=2016, n_cols=10000,
             exact=0.5, mean=0.5, sd=0.01, n_draws=8, bias=0.0, bias_sd=0.0, se_mean=0.0035,
             z=0.0, rel_bias=0.0)])
    r = oq.bias_reading(b)
    assert list(r.call) == ["biased", "no bias resolved", "biased, negligible", "no bias resolved"]
    s = oq.bias_summary(r, [(100, 100), (1000, 1000), (10_000, 10_000)])
    assert list(s.counts) == ["100x100", "10000x10000"]           # capped rows found by width
    p2 = s[s.counts == "10000x10000"].iloc[0]
    assert p2.cells == 2 and p2.resolved == 1 and p2.not_negligible == 0
    assert p2.max_abs_bias_sd == pytest.approx(0.8) and "h=32" in p2.worst
    rows = oq.bias_rows(s, "10000x10000", 2, 8, [32, 64])
    assert [r["ours_value"] for r in rows] == ["biased, within 1 SE of one estimate",
                                               "biased by up to 3 SE of one estimate"]
    assert rows[0]["claim"].endswith("(10000x10000) against all 2-minors: biased, within 1 SE of "
                                     "one estimate")
    assert all(r["verdict"] == "new result" for r in rows)


# -------------------------------------------------------------------------- study 4 (KAN)
def _kan_table(kan_effect, mlp_effect, noise=0.01):
    rng = np.random.default_rng(4)
    rows = []
    for fam, eff in (("kan", kan_effect), ("mlp", mlp_effect)):
        for t, s in itertools.product(("xor", "linear"), range(4)):
            e = eff if t == "xor" else 0.0
            rows.append({"family": fam, "model": fam.upper(), "target": t, "seed": s,
                         "zero_frac_k1_q0.01": 0.01 + e + rng.normal(0, noise),
                         "zero_frac_init_k1_q0.01": 0.01,
                         "pr_norm_k2": 1 - e + rng.normal(0, noise),
                         "rr_norm_k2": 1 + e + rng.normal(0, noise),
                         "divergence_k2": e + rng.normal(0, noise)})
    return pd.DataFrame(rows)


def test_kan_excess_comparison_verdicts_rows():
    df = _kan_table(0.3, 0.1)
    ex = oq.kan_excess(df)
    assert len(ex) == 2 * 2 * 4 * 4
    assert ex[(ex.metric == "zero_frac") & (ex.family == "kan") & (ex.target == "xor")].excess.mean() \
        == pytest.approx(0.3, abs=0.02)
    cmp = oq.kan_comparison(ex)
    xor = cmp[cmp.target == "xor"]
    assert (xor["kind"] == "same").all() and (xor["size"] == "larger").all()
    assert (xor.move_kan == "higher").all() and (xor.move_mlp == "higher").all()
    r = xor[xor.metric == "pr_norm"].iloc[0]
    a = ex[(ex.family == "kan") & (ex.target == "xor") & (ex.metric == "pr_norm")].excess
    b = ex[(ex.family == "mlp") & (ex.target == "xor") & (ex.metric == "pr_norm")].excess
    assert r.welch_p == pytest.approx(stats.ttest_ind(a, b, equal_var=False).pvalue)
    np.testing.assert_allclose(xor.p_holm, oq.holm(xor.welch_p.to_numpy()))
    v = oq.kan_verdicts(cmp).set_index("target")
    assert v.loc["xor", "size"] == "larger" and v.loc["xor", "kind"] == "same"
    assert v.loc["linear", "size"] == "no effect"
    opposite = oq.kan_verdicts(oq.kan_comparison(oq.kan_excess(_kan_table(-0.3, 0.1))))
    assert opposite.set_index("target").loc["xor", "kind"] == "different"
    rows = oq.kan_rows(oq.kan_verdicts(cmp), "KAN", "MLP", 4)
    assert len(rows) == 2 and rows[0]["ours_value"] == "same kind, larger"
    assert rows[0]["claim"] == "KAN vs MLP on xor: KA geometry of the same kind, larger"
    assert all(r["verdict"] == "new result" for r in rows)
    no_rr = oq.kan_excess(df.drop(columns=["rr_norm_k2"]))
    assert "rr_norm" not in set(no_rr.metric)


# ------------------------------------------------------------------ numbers and answers
def test_keys():
    assert oq.activation_key("x_sin(a=0.1, b=10)") == "x_sin_a0.1_b10"
    assert oq.activation_key("gelu") == "gelu"
    assert oq.target_key("xor", math.nan) == "xor" and oq.target_key("xor") == "xor"
    assert oq.target_key("lambda_xor", 0.8) == "lambda_xor_0.8"


def _runs_table():
    rows = []
    for a, (t, p), s in itertools.product(ACTS, TARGETS, range(4)):
        reached = not (a == "gelu" and t == "lambda_xor" and s == 3)
        rows.append(dict(activation=a, target=t, param=p, seed=s,
                         epochs_to_criterion=100.0 + 10 * s if reached else math.nan,
                         reached_criterion=reached, r2_train=0.9 + 0.01 * s, r2_test=0.8))
    return pd.DataFrame(rows)


def test_numbers_and_answers():
    rt = _runs_table()
    sp = oq.speed_table(_comparison([-200.0, 10.0]))
    ex = oq.excess_by_state(_metrics(effect=0.1))
    geo = oq.geometry_table(ex, "gelu")
    early = oq.geometry_table(ex, "gelu", state="r2>=0.50")
    order = oq.order_table(ex, "r2>=0.50")
    v = oq.activation_verdicts(sp, geo, early, order, "gelu")
    n = oq.activation_numbers(rt, sp, geo, order, v, "gelu")
    assert n["epochs_to_criterion"]["gelu"]["xor"]["mean"] == pytest.approx(115.0)
    assert n["epochs_to_criterion"]["gelu"]["lambda_xor_1.2"]["mean"] == pytest.approx(110.0)
    assert n["epochs_to_criterion"]["gelu"]["xor"]["se"] == pytest.approx(
        np.std([100, 110, 120, 130], ddof=1) / 2)
    assert n["reached"]["gelu"]["lambda_xor_1.2"] == 3 and n["reached"]["gelu"]["xor"] == 4
    assert n["speed"]["x_sin_a0.1_b10"]["xor"]["call"] == "faster"
    assert n["geometry"]["x_sin_a0.1_b10"]["xor"]["pr_norm_k2"]["call"] == "more"
    assert set(n["order"]) == {f"{m}_k{k}" for m, k in oq.PRIMARY}
    assert n["verdict"]["x_sin_a0.1_b10"]["speed"] == "faster"
    # depth
    d1, d2 = _layers([0.2], depth=1, seed=1), _layers([0.3, 0.05], depth=2, seed=2)
    lex = oq.layer_excess(pd.concat([d1, d2], ignore_index=True))
    loc, eff = oq.layer_location(lex), oq.depth_effect(lex)
    dv = oq.depth_verdicts(loc, eff)
    dn = oq.depth_numbers(loc, eff, dv)
    assert dn["location"]["d2"]["xor"]["input"]["pr_norm_k2"] == "layer 1"
    l2 = lex[(lex.depth == 2) & (lex.layer == 2) & (lex.jacobian == "own") & (lex.metric == "divergence")]
    assert dn["excess"]["d2"]["xor"]["own"]["divergence_k2"]["L2"]["mean"] == pytest.approx(l2.excess.mean())
    assert dn["depth_change"]["d2"]["xor"]["zero_frac_k1"]["call"] == "more"
    assert dn["verdict"]["d2"]["h2a"] is True
    # kan
    kdf = _kan_table(0.3, 0.1).assign(r2_train=0.9, r2_test=0.85, stop_epoch=100, n_parameters=160)
    kc = oq.kan_comparison(oq.kan_excess(kdf))
    kv = oq.kan_verdicts(kc)
    kn = oq.kan_numbers(kdf, kc, kv)
    assert kn["runs"]["kan"]["xor"]["n_parameters"] == 160
    assert kn["excess"]["xor"]["rr_norm_k2"]["size"] == "larger"
    assert kn["verdict"]["xor"] == {"kind": "same", "size": "larger"}
    # answers: one sentence per study that ran, the calls in words
    a = oq.answers(v, order, "gelu", dv, None, kan_verdicts_=kv)
    assert set(a) == {"activations", "depth", "kan"}
    assert "learning speed: faster" in a["activations"] and "KA geometry at the end: raises" in a["activations"]
    assert "sits in layer 1" in a["depth"] and "xor: same kind, larger" in a["kan"]


def test_bias_numbers():
    b = oq.bias_reading(pd.DataFrame([
        dict(hidden=32, layer="L1", n_images=1, metric="kl", n_rows=100, n_cols=100, exact=0.5,
             mean=0.8, sd=0.1, n_draws=8, bias=0.3, bias_sd=3.0, se_mean=0.035, z=8.5,
             rel_bias=0.6),
        dict(hidden=32, layer="L1", n_images=1, metric="kl", n_rows=496, n_cols=10000,
             exact=0.5, mean=0.5, sd=0.01, n_draws=8, bias=0.0, bias_sd=0.0, se_mean=0.0035,
             z=0.0, rel_bias=0.0)]))
    counts = [(100, 100), (10_000, 10_000)]
    s = oq.bias_summary(b, counts)
    n = oq.bias_numbers(s, b, counts)
    assert n["summary"]["100x100"]["resolved"] == 1 and n["summary"]["10000x10000"]["resolved"] == 0
    assert n["cells"]["10000x10000"]["h32"]["L1"]["kl"]["call"] == "no bias resolved"
    assert n["cells"]["100x100"]["h32"]["L1"]["kl"]["bias_sd"] == 3.0
    a = oq.answers(bias_summary_=s)["exact"]
    assert "10000x10000 (P2's counts): 0 of 1 biases resolved, the largest 0 SE" in a


def test_learnability_and_degenerate_p():
    rt = _runs_table()
    le = oq.learnability(rt, "gelu")
    row = le[(le.target == "lambda_xor")].iloc[0]
    assert row.reached == 4 and row.reached_base == 3 and row.n_base == 4
    assert set(le.target) == {"xor", "lambda_xor"} and set(le.activation) == {ACTS[1]}
    sp = oq.speed_table(_comparison([-200.0, 10.0]))
    ex = oq.excess_by_state(_metrics(effect=0.1))
    v = oq.activation_verdicts(sp, oq.geometry_table(ex, "gelu"), oq.geometry_table(
        ex, "gelu", state="r2>=0.50"), oq.order_table(ex, "r2>=0.50"), "gelu", learn=le)
    assert "lambda_xor_1.2: 4/4 vs 3/4" in v.learnability.iloc[0]
    assert "descriptive" in v.text.iloc[0]
    # every seed the same non-zero value: t = inf, p = 0; all zero: no effect
    assert oq.one_sample([-0.01, -0.01, -0.01])["p"] == 0.0
    assert math.isnan(oq.one_sample([0.0, 0.0, 0.0])["p"])
    assert oq.degenerate_p(math.nan, 0.5, 0.0, 1) != 0.0
    assert oq.call(-0.01, oq.one_sample([-0.01, -0.01])["p"]) == "lower"
