"""Cached P1 evaluation: consistent with the metrics called directly, shared initial RR."""
import math

import pytest
import torch

import kag_utils as kag
from kag_utils.p1 import evaluation as ev
from kag_utils.pipeline.cache import Cache, config_key


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return Cache(tmp_path_factory.mktemp("cache"))


ECFG = kag.EvalConfig(n_x=64, n_rot=6, n_x_rot=16, q1s=(0.01,))
CFGS = kag.main_grid(["xor", "linear"], [6], [0], max_epochs=40, patience=5)


def test_matches_direct_metric_calls(cache):
    df = kag.evaluate(CFGS, ("final",), ECFG, cache=cache, progress=False)
    run = kag.ensure_runs(CFGS[:1], cache=cache, progress=False)[0]
    x = kag.make_inputs(1000, "train")[:64]
    Jt = kag.first_layer_jacobian(run.params, x)
    Ji = kag.first_layer_jacobian(run.init_params, x)
    row = df.iloc[0]
    assert row.target == "xor" and row.m == 6 and row.state == "final"
    assert row.pr_k2 == pytest.approx(kag.participation_ratio(Jt, 2), rel=1e-12)
    assert row["zero_frac_k3_q0.01"] == pytest.approx(kag.zero_row_fraction(Jt, Ji, 3, 0.01))
    assert row.divergence_k1 == pytest.approx(kag.column_divergence(Jt, Ji, 1), rel=1e-12)
    R = kag.fixed_rotations(6, 6, 0)
    rr = kag.random_rotation_ratio(Jt[:16], 3, R)
    assert row.rr_k3 == pytest.approx(rr, rel=1e-12)
    assert row.rr_norm_k3 == pytest.approx(rr / kag.random_rotation_ratio(Ji[:16], 3, R), rel=1e-12)
    assert row.state_r2 == pytest.approx(run.r2_train)


def test_initial_rotation_ratio_is_shared_across_targets(cache):
    init_keys = {cache.key(ev.RR_KIND, ev.rr_config(c, "init", ECFG)) for c in CFGS}
    assert len(init_keys) == 1
    final_keys = {cache.key(ev.RR_KIND, ev.rr_config(c, "final", ECFG)) for c in CFGS}
    assert len(final_keys) == 2


def test_second_call_computes_nothing(cache, monkeypatch):
    kag.evaluate(CFGS, ("final", "init"), ECFG, cache=cache, progress=False)

    def fail(*args, **kwargs):
        raise AssertionError("recomputed a cached evaluation")

    monkeypatch.setattr(ev, "p1_metrics", fail)
    monkeypatch.setattr(ev, "random_rotation_ratios_readings", fail)
    df = kag.evaluate(CFGS, ("final", "init"), ECFG, cache=cache, progress=False)
    assert len(df) == 4
    init = df[df.state == "init"]
    assert (init.pr_norm_k1 == 1.0).all() and (init.rr_norm_k2 == 1.0).all()


def test_unreached_checkpoint_is_marked(cache):
    df = kag.evaluate(CFGS[:1], (kag.checkpoint_state(0.95),), ECFG, cache=cache, progress=False)
    assert not bool(df.reached.iloc[0])
    assert df.state_r2.iloc[0] is None or math.isnan(df.state_r2.iloc[0])


def test_bad_input():
    with pytest.raises(ValueError, match="unknown model state"):
        ev.check_state("best")
    with pytest.raises(ValueError, match="split"):
        kag.EvalConfig(split="holdout", n_x=10, n_rot=0)
    with pytest.raises(TypeError):
        kag.EvalConfig(n_rot=0)                  # n_x has no library default
    with pytest.raises(ValueError, match="n_x_rot"):
        kag.EvalConfig(n_x=10, n_rot=5)          # neither has n_x_rot when rotations run
    assert kag.EvalConfig(n_x=10, n_rot=0).n_x_rot == 1000   # the cache keys of old runs
    with pytest.raises(ValueError, match="needs an EvalConfig"):
        kag.evaluate([kag.RunConfig()], ("final",))
    with pytest.raises(ValueError, match="n_x_rot"):
        kag.EvalConfig(n_x=10, n_rot=5, n_x_rot=20)
    boot = kag.RunConfig(target="random", hidden=(4,),
                         input_map=kag.InputMap(kag.RunConfig(target="random", hidden=(4,))))
    with pytest.raises(ValueError, match="bootstrapped"):
        ev.eval_inputs(boot, "train", 10)


def test_abs_rr_keys_unchanged_and_signed_keyed_apart():
    # the "abs" entry's config is exactly the pre-issue-12 dict: no new key, same hash
    c = CFGS[0]
    rc = ev.rr_config(c, "final", ECFG)
    assert "reading" not in rc and rc == ev.rr_config(c, "final", ECFG, "abs")
    assert set(rc) == {"model", "state", "split", "n_x", "n_rot", "rotation_seed", "ks"}
    signed = ev.rr_config(c, "final", ECFG, "signed")
    assert signed == {**rc, "reading": "signed"}
    assert config_key(ev.RR_KIND, signed) != config_key(ev.RR_KIND, rc)
    with pytest.raises(ValueError, match="reading"):
        ev.rr_config(c, "final", ECFG, "max")


def test_signed_reading_one_pass_and_values(tmp_path, monkeypatch):
    cache = Cache(tmp_path)
    calls = []
    real = ev.random_rotation_ratios_readings

    def counting(*args, **kwargs):
        calls.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(ev, "random_rotation_ratios_readings", counting)
    df = kag.evaluate(CFGS[:1], ("final",), ECFG, cache=cache, progress=False,
                      rr_readings=("abs", "signed"))
    # one kernel pass per state (final, init), each computing both readings
    assert sorted(calls) == [("abs", "signed"), ("abs", "signed")]
    run = kag.ensure_runs(CFGS[:1], cache=cache, progress=False)[0]
    x = kag.make_inputs(1000, "train")[:16]
    R = kag.fixed_rotations(6, 6, 0)
    Jt = kag.first_layer_jacobian(run.params, x)
    Ji = kag.first_layer_jacobian(run.init_params, x)
    row = df.iloc[0]
    for k in (1, 2, 3):
        st = kag.random_rotation_ratios(Jt, (k,), R, reading="signed")[k]
        si = kag.random_rotation_ratios(Ji, (k,), R, reading="signed")[k]
        assert row[f"rr_signed_k{k}"] == pytest.approx(st, rel=1e-12)
        assert row[f"rr_signed_init_k{k}"] == pytest.approx(si, rel=1e-12)
        assert row[f"rr_signed_norm_k{k}"] == pytest.approx(st / si, rel=1e-12)
        assert row[f"rr_k{k}"] == pytest.approx(kag.random_rotation_ratio(Jt, k, R), rel=1e-12)
    # the abs-only evaluation is served from the entries the signed pass stored
    calls.clear()
    kag.evaluate(CFGS[:1], ("final",), ECFG, cache=cache, progress=False)
    assert calls == []
    with pytest.raises(ValueError, match="rr_readings"):
        kag.evaluate(CFGS[:1], ("final",), ECFG, cache=cache, progress=False,
                     rr_readings=("abs", "max"))


def test_state_kinds_group_their_configs_by_run():
    from kag_utils.p1.runs import group_by_run
    from kag_utils.pipeline.sweep import get_kind

    a, b = CFGS
    items = [ev.eval_config(a, "final", ECFG), ev.eval_config(b, "final", ECFG),
             ev.eval_config(a, "init", ECFG)]
    assert group_by_run(items) == [[items[0], items[2]], [items[1]]]
    for kind in (ev.EVAL_KIND, ev.ALIVE_KIND, "p1_layers"):
        assert get_kind(kind).group is group_by_run
