"""The two studies of notebook 07 (open questions), at toy sizes: oscillatory activations
(kag_utils.p1.activations) and depth (kag_utils.p1.depth), and the Welch / paired statistics
they report (kag_utils.readings.aggregate)."""
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from kag_utils.core.activations import GELU, Activation
from kag_utils.core.metrics import p1_metrics, random_rotation_ratios
from kag_utils.p1 import activations as act_study
from kag_utils.p1 import depth as depth_study_mod
from kag_utils.p1.depth import LAYER_KIND, LayerEvalConfig, depth_study, layer_config, layer_jacobians
from kag_utils.p1.evaluation import (EvalConfig, eval_inputs, evaluate, first_layer_jacobian,
                                     fixed_rotations)
from kag_utils.p1.models import init_params
from kag_utils.p1.runs import RunConfig, ensure_runs
from kag_utils.p1.training import epochs_to_criterion
from kag_utils.pipeline.cache import Cache
from kag_utils.readings.aggregate import compare_to_baseline, paired, welch

TINY = dict(n_train=60, n_val=20, n_test=20, max_epochs=40, patience=8, batch_size=20)
XSIN = Activation("x_sin", 0.1, 10.0)
TARGETS = (("xor", None), ("lambda_xor", 1.2), ("linear", None))
ECFG = EvalConfig(n_x=40, q1s=(0.01,), n_rot=4, n_x_rot=15)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return Cache(tmp_path_factory.mktemp("open-cache"))


# ---------------------------------------------------------------------------- statistics
def test_welch_and_paired_match_scipy():
    a, b = [1.0, 2.5, 3.1, 4.0], [0.2, 0.4, 1.9, math.nan, 0.3]
    w = welch(a, b)
    ref = stats.ttest_ind(a, [0.2, 0.4, 1.9, 0.3], equal_var=False)
    assert w["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert w["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert w["diff"] == pytest.approx(np.mean(a) - np.mean([0.2, 0.4, 1.9, 0.3]))
    p = paired(a, b[:4])
    ref = stats.ttest_rel(a[:3], b[:3])
    assert p["n_pairs"] == 3 and p["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert p["p"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert math.isnan(welch([1.0], [2.0, 3.0])["t"]) and welch([1.0], [2.0, 3.0])["diff"] == -1.5
    assert math.isnan(paired([1.0, 2.0], [0.0, 1.0])["t"])        # equal differences: no t


def test_compare_to_baseline_groups_and_pairs_by_seed():
    rng = np.random.default_rng(0)
    df = pd.DataFrame([{"g": g, "t": t, "seed": s, "value": rng.normal(i)}
                       for i, g in enumerate(("base", "x", "y")) for t in ("a", "b")
                       for s in range(4)])
    df.loc[(df.g == "x") & (df.t == "a") & (df.seed == 3), "value"] = math.nan
    out = compare_to_baseline(df, ["t"], "g", "base")
    assert len(out) == 4 and set(out.g) == {"x", "y"}
    row = out[(out.g == "x") & (out.t == "a")].iloc[0]
    x = df[(df.g == "x") & (df.t == "a")].value.dropna()
    b = df[(df.g == "base") & (df.t == "a")].value
    assert row.n == 3 and row.n_base == 4 and row.paired_n_pairs == 3
    assert row.welch_t == pytest.approx(stats.ttest_ind(x, b, equal_var=False).statistic)
    assert row.paired_t == pytest.approx(stats.ttest_rel(x, b.iloc[:3]).statistic)
    assert row["mean"] == pytest.approx(x.mean()) and row.se == pytest.approx(x.std() / math.sqrt(3))
    with pytest.raises(ValueError, match="baseline"):
        compare_to_baseline(df, ["t"], "g", "nope")


# --------------------------------------------------------------------- activation study
@pytest.fixture(scope="module")
def study(cache):
    return act_study.activation_study((GELU, XSIN), TARGETS, (0, 1, 2), ecfg=ECFG, width=4,
                                      checkpoints=(0.5,), cache=cache, progress=False, **TINY)


def test_activation_study_tables(study, cache):
    rt, mt, summ, cmp = (study[k] for k in ("runs", "metrics", "summary", "comparison"))
    assert len(rt) == 2 * 3 * 3 and set(rt.activation) == {"gelu", "x_sin(a=0.1, b=10)"}
    assert set(mt.state) == {"init", "r2>=0.50", "final"}
    assert set(mt.metric) == set(act_study.METRICS) and set(mt.k) == {1, 2, 3}
    assert len(mt) == len(rt) * 3 * len(act_study.METRICS) * 3
    # epochs to criterion from the stored history; runs and configs line up
    configs = act_study.study_configs((GELU, XSIN), TARGETS, (0, 1, 2), 4, **TINY)
    runs = ensure_runs(configs, cache=cache, progress=False)
    for c, r, row in zip(configs, runs, rt.itertuples()):
        assert (row.target, row.seed, row.activation) == (c.target, c.seed, str(c.activation))
        ep = epochs_to_criterion(r.history["train_r2"], 0.9)
        assert (ep is None and math.isnan(row.epochs_to_criterion)) or ep == row.epochs_to_criterion
        assert row.r2_test == r.r2["test"]
    assert rt.reached_criterion.any()                       # linear(4) learns in 40 epochs
    # init zero rows sit at the false-positive rate by construction; unreached states are NaN
    init = mt[(mt.state == "init") & (mt.metric == "pr_norm")]
    assert np.allclose(init.value, 1.0)
    reached = mt.groupby(["activation", "target", "seed", "state"]).reached.first()
    assert not reached.xs("final", level="state").eq(False).any()
    unreached = mt[~mt.reached]
    assert unreached.value.isna().all()
    # summary and comparison: seed statistics of the long table
    s = summ[(summ.activation == "gelu") & (summ.target == "linear") & (summ.state == "final")
             & (summ.quantity == "pr_norm") & (summ.k == 2)].iloc[0]
    v = mt[(mt.activation == "gelu") & (mt.target == "linear") & (mt.state == "final")
           & (mt.metric == "pr_norm") & (mt.k == 2)].value
    assert s["mean"] == pytest.approx(v.mean()) and s["n"] == 3
    assert set(cmp.activation) == {"x_sin(a=0.1, b=10)"} and (cmp.baseline == "gelu").all()
    c = cmp[(cmp.target == "linear") & (cmp.state == "run") & (cmp.quantity == "r2_test")].iloc[0]
    a = rt[(rt.activation != "gelu") & (rt.target == "linear")].r2_test
    b = rt[(rt.activation == "gelu") & (rt.target == "linear")].r2_test
    assert c.welch_diff == pytest.approx(a.mean() - b.mean())
    assert c.paired_n_pairs == 3
    share = summ[(summ.state == "run") & (summ.quantity == "reached_criterion")]
    assert share["mean"].between(0, 1).all() and (share.n == 3).all()
    lin = share[(share.target == "linear") & (share.activation == "gelu")].iloc[0]
    assert lin["mean"] == rt[(rt.target == "linear") & (rt.activation == "gelu")].reached_criterion.mean()
    lam = cmp[(cmp.target == "lambda_xor") & (cmp.state == "final")]
    assert (lam.param == 1.2).all() and len(lam) == len(act_study.METRICS) * 3


def test_activation_study_evaluates_each_runs_own_jacobian(study, cache):
    """The x_sin rows are P1's metrics of J = diag(sigma'(z)) A^T with x_sin's sigma' (the
    GeLU Jacobian would give other numbers), normalised by the x_sin initial model."""
    c = RunConfig(target="xor", hidden=(4,), seed=1, activation=XSIN, **TINY)
    run = ensure_runs([c], cache=cache, progress=False)[0]
    x = eval_inputs(c, "train", ECFG.n_x)
    J, J0 = first_layer_jacobian(run.params, x, XSIN), first_layer_jacobian(run.init_params, x, XSIN)
    ref = p1_metrics(J, J0, (1, 2, 3), (0.01,))
    R = fixed_rotations(4, ECFG.n_rot, ECFG.rotation_seed)
    rr, rr0 = random_rotation_ratios(J[:15], (2,), R), random_rotation_ratios(J0[:15], (2,), R)
    mt = study["metrics"]
    got = mt[(mt.activation == str(XSIN)) & (mt.target == "xor") & (mt.seed == 1)
             & (mt.state == "final")].set_index(["metric", "k"]).value
    assert got["pr_norm", 2] == pytest.approx(ref["pr_norm_k2"], rel=1e-12)
    assert got["zero_frac", 3] == pytest.approx(ref["zero_frac_k3_q0.01"], rel=1e-12)
    assert got["divergence", 1] == pytest.approx(ref["divergence_k1"], rel=1e-12)
    assert got["rr_norm", 2] == pytest.approx(rr[2] / rr0[2], rel=1e-12)
    Jg = first_layer_jacobian(run.params, x)
    assert p1_metrics(Jg, first_layer_jacobian(run.init_params, x), (2,), (0.01,))["pr_norm_k2"] \
        != pytest.approx(ref["pr_norm_k2"], rel=1e-6)
    # the GeLU rows are those of a plain evaluate() of the plain GeLU configs (same cache keys)
    plain = evaluate([RunConfig(target="xor", hidden=(4,), seed=1, **TINY)], ("final",), ECFG,
                     cache=cache, progress=False).iloc[0]
    gel = mt[(mt.activation == "gelu") & (mt.target == "xor") & (mt.seed == 1)
             & (mt.state == "final")].set_index(["metric", "k"]).value
    assert gel["pr_norm", 3] == plain["pr_norm_k3"] and gel["rr", 1] == plain["rr_k1"]


def test_init_rows_equal_evaluating_the_initial_state(study, cache):
    configs = act_study.study_configs((GELU, XSIN), (("lambda_xor", 1.2),), (0, 2), 4, **TINY)
    ev = evaluate(configs, ("init",), ECFG, cache=cache, progress=False)
    ref = act_study.metric_table(configs, ("init",), ev, ECFG.ks, 0.01)
    mt = study["metrics"]
    got = mt[(mt.state == "init") & (mt.target == "lambda_xor") & mt.seed.isin([0, 2])]
    keys = ["activation", "seed", "metric", "k"]
    merged = ref.merge(got, on=keys, suffixes=("_ref", ""))
    assert len(merged) == len(ref) == 2 * 2 * len(act_study.METRICS) * 3
    np.testing.assert_allclose(merged.value, merged.value_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(merged.state_r2, merged.state_r2_ref, rtol=0, atol=0)
    assert (merged.state_epoch == 0).all()


def test_activation_study_checks_its_arguments(cache):
    with pytest.raises(ValueError, match="baseline"):
        act_study.activation_study((XSIN,), TARGETS, ecfg=ECFG, cache=cache, **TINY)
    with pytest.raises(ValueError, match="q1"):
        act_study.activation_study((GELU,), TARGETS, ecfg=ECFG, q1=0.001, cache=cache, **TINY)
    with pytest.raises(ValueError, match="grid"):
        act_study.activation_study((GELU,), TARGETS, ecfg=ECFG, checkpoints=(0.33,),
                                   cache=cache, **TINY)
    with pytest.raises(ValueError, match="Activation"):
        act_study.study_configs(("x_sin",))
    with pytest.raises(ValueError, match="distinct"):
        act_study.study_configs((GELU, Activation()))
    with pytest.raises(ValueError, match="data_seeds"):
        act_study.study_configs(data_seeds="per-seed")
    two = (("xor", None), ("lambda_xor", 1.2))
    model = act_study.study_configs((XSIN,), two, (2, 3), data_seeds="model")
    assert [c.data_seed for c in model] == [2, 3, 2, 3]
    fixed = act_study.study_configs((XSIN,), two, (2, 3), data_seeds="fixed")
    assert [c.data_seed for c in fixed] == [0, 0, 0, 0]
    nb = act_study.study_configs((GELU,), two, (2, 3))                # notebooks 01-03 and 04
    assert [c.data_seed for c in nb] == [0, 0, 2, 3]
    assert nb[0] == RunConfig(target="xor", seed=2)


# ---------------------------------------------------------------------------------- depth
LCFG = LayerEvalConfig(n_x=40, q1s=(0.01,), n_x_hidden=12, n_rot=4, n_rot_hidden=3, n_x_rot=15)


def test_layer_jacobians_of_a_model_match_jacrev():
    params = init_params(3, (5, 4, 6), 3, 1)
    x = torch.rand(7, 3, dtype=torch.float64) * 2 - 1
    own, comp = layer_jacobians(params, x, XSIN)

    def hidden(v, upto):
        from kag_utils.core.activations import act_forward
        for p in params[:upto]:
            v = act_forward(XSIN, v @ p["W"] + p["b"])
        return v

    for l in range(3):
        ref = torch.func.vmap(torch.func.jacrev(lambda v: hidden(v, l + 1)))(x)
        torch.testing.assert_close(comp[l], ref, rtol=1e-12, atol=1e-13)
    h1 = hidden(x, 1)
    ref_own = torch.func.vmap(torch.func.jacrev(
        lambda v: act_forward_layer(params[1], v)))(h1)
    torch.testing.assert_close(own[1], ref_own, rtol=1e-12, atol=1e-13)


def act_forward_layer(p, v):
    from kag_utils.core.activations import act_forward
    return act_forward(XSIN, v @ p["W"] + p["b"])


@pytest.fixture(scope="module")
def deep(cache):
    return depth_study((1, 2), (("xor", None), ("random", None)), (0, 1), lcfg=LCFG, width=4,
                       states=("final", "r2>=0.50"), cache=cache, progress=False, **TINY)


def test_depth_study_tables(deep):
    rt, mt, summ = deep["runs"], deep["metrics"], deep["summary"]
    assert sorted(rt.depth.unique()) == [1, 2] and len(rt) == 2 * 2 * 2
    final = mt[mt.state == "final"]
    per_run = final.groupby(["depth", "target", "seed"])
    # depth 1: layer 1 (input, own); depth 2: layer 1 (input, own), layer 2 (input, own)
    assert set(map(tuple, final[final.depth == 2][["layer", "jacobian"]].drop_duplicates().values)) \
        == {(1, "input"), (1, "own"), (2, "input"), (2, "own")}
    assert per_run.ngroups == 8
    own2 = final[(final.layer == 2) & (final.jacobian == "own")]
    assert set(own2.k) == {1, 2} and (own2.rows == 4).all() and (own2.cols == 4).all()
    assert (own2.n_x == 12).all()
    inp2 = final[(final.layer == 2) & (final.jacobian == "input")]
    assert set(inp2.k) == {1, 2, 3} and (inp2.cols == 3).all() and (inp2.n_x == 40).all()
    l1 = final[final.layer == 1].pivot_table(index=["depth", "target", "seed", "metric", "k"],
                                             columns="jacobian", values="value")
    assert np.array_equal(l1["input"].values, l1["own"].values, equal_nan=True)
    assert set(mt.metric) == set(depth_study_mod.DEPTH_METRICS)
    s = summ[(summ.depth == 2) & (summ.layer == 2) & (summ.jacobian == "own")
             & (summ.metric == "pr_norm") & (summ.k == 2) & (summ.target == "xor")
             & (summ.state == "final")].iloc[0]
    assert s["n"] == 2 and s["mean"] == pytest.approx(
        own2[(own2.metric == "pr_norm") & (own2.k == 2) & (own2.target == "xor")].value.mean())


def test_depth_layer_one_equals_evaluate_and_own_layers_are_p1_metrics(deep, cache):
    c1 = RunConfig(target="xor", hidden=(4,), seed=1, **TINY)
    ev = evaluate([c1], ("final",), ECFG, cache=cache, progress=False).iloc[0]
    mt = deep["metrics"]
    got = mt[(mt.depth == 1) & (mt.target == "xor") & (mt.seed == 1) & (mt.state == "final")
             & (mt.jacobian == "input")].set_index(["metric", "k"]).value
    for k in (1, 2, 3):
        assert got["pr_norm", k] == ev[f"pr_norm_k{k}"]
        assert got["zero_frac", k] == ev[f"zero_frac_k{k}_q0.01"]
        assert got["rr_norm", k] == pytest.approx(ev[f"rr_norm_k{k}"], rel=1e-12)
        assert got["divergence", k] == ev[f"divergence_k{k}"]
    # evaluate() of a deeper run reads its first layer: depth 2's layer 1
    c2 = RunConfig(target="xor", hidden=(4, 4), seed=1, **TINY)
    ev2 = evaluate([c2], ("final",), ECFG, cache=cache, progress=False).iloc[0]
    got1 = mt[(mt.depth == 2) & (mt.target == "xor") & (mt.seed == 1) & (mt.state == "final")
              & (mt.layer == 1) & (mt.jacobian == "input")].set_index(["metric", "k"]).value
    assert got1["pr_norm", 3] == ev2["pr_norm_k3"] and got1["zero_frac", 2] == ev2["zero_frac_k2_q0.01"]
    # the square own Jacobian of layer 2 against p1_metrics of jacrev Jacobians
    run = ensure_runs([c2], cache=cache, progress=False)[0]
    x = eval_inputs(c2, "train", 12)

    def own2(params):
        h1 = torch.nn.functional.gelu(x @ params[0]["W"] + params[0]["b"])
        f = lambda v: torch.nn.functional.gelu(v @ params[1]["W"] + params[1]["b"])  # noqa: E731
        return torch.func.vmap(torch.func.jacrev(f))(h1)

    ref = p1_metrics(own2(run.params), own2(run.init_params), (1, 2), (0.01,))
    got = mt[(mt.depth == 2) & (mt.target == "xor") & (mt.seed == 1) & (mt.state == "final")
             & (mt.layer == 2) & (mt.jacobian == "own")].set_index(["metric", "k"]).value
    assert got["pr_norm", 2] == pytest.approx(ref["pr_norm_k2"], rel=1e-10)
    assert got["zero_frac", 1] == pytest.approx(ref["zero_frac_k1_q0.01"], rel=1e-10)
    assert got["divergence", 2] == pytest.approx(ref["divergence_k2"], rel=1e-8)
    R = fixed_rotations(4, LCFG.n_rot_hidden, LCFG.rotation_seed)     # its own rotation count
    rr = random_rotation_ratios(own2(run.params), (2,), R)[2]
    rr0 = random_rotation_ratios(own2(run.init_params), (2,), R)[2]
    assert got["rr_norm", 2] == pytest.approx(rr / rr0, rel=1e-10)


def test_depth_results_are_cached(deep, cache, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("recomputed a cached entry")

    monkeypatch.setattr(depth_study_mod, "layer_metrics", boom)
    again = depth_study((1, 2), (("xor", None), ("random", None)), (0, 1), lcfg=LCFG, width=4,
                        states=("final", "r2>=0.50"), cache=cache, progress=False, **TINY)
    pd.testing.assert_frame_equal(again["metrics"], deep["metrics"])
    c = RunConfig(target="xor", hidden=(4, 4), seed=0, **TINY)
    assert cache.contains(LAYER_KIND, layer_config(c, "final", LCFG))
    with pytest.raises(ValueError, match="LayerEvalConfig"):
        layer_config(c, "final", ECFG)
    with pytest.raises(ValueError, match="q1"):
        depth_study((1,), lcfg=LCFG, q1=0.5, cache=cache)
    with pytest.raises(ValueError, match="n_x"):
        LayerEvalConfig(n_x=1, n_x_hidden=10, n_rot=0, n_rot_hidden=0)
