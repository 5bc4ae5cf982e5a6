"""Dead-rows-out reading (issue 12 item 4): fast cached path against a slow reference that
removes the dead neurons' rows from J and J0 and calls the single-metric functions."""
import math

import pytest
import torch

import kag_utils as kag
from kag_utils.p1 import dead_neurons as dn
from kag_utils.p1 import evaluation as ev
from kag_utils.pipeline.cache import Cache

KS = (1, 2, 3)
Q1 = 0.01


def _jacobians(m=8, n=3, B=120, dead=(1, 5), seed=0):
    g = torch.Generator().manual_seed(seed)
    J0 = torch.randn(B, m, n, generator=g, dtype=torch.float64)             # [B, m, n]
    J = torch.randn(B, m, n, generator=g, dtype=torch.float64) * 1.5
    J[:, list(dead)] *= 1e-9                                                 # dead neurons
    return J, J0


def _slow(J, J0, keep, R):
    """Reference: a model of width m' built from the live rows, metric by metric."""
    Jt, Ji = J[:, keep], J0[:, keep]
    out = {}
    for k in KS:
        out[f"zero_frac_k{k}_q{Q1:g}"] = kag.zero_row_fraction(Jt, Ji, k, Q1)
        if k > 1:
            out[f"dep_frac_k{k}_q{Q1:g}"] = kag.dependent_zero_row_fraction(Jt, Ji, k, Q1)
        out[f"pr_norm_k{k}"] = kag.participation_ratio(Jt, k) / kag.participation_ratio(Ji, k)
        out[f"divergence_k{k}"] = kag.column_divergence(Jt, Ji, k)
        out[f"rr_norm_k{k}"] = (kag.random_rotation_ratio(Jt, k, R)
                                / kag.random_rotation_ratio(Ji, k, R))
    return out


def test_dead_rows_found_and_left_out():
    J, J0 = _jacobians()
    assert dn.dead_rows(J, J0, Q1).tolist() == [1, 5]
    assert dn.alive_rows(J, J0, Q1).tolist() == [0, 2, 3, 4, 6, 7]


def test_alive_metrics_match_slow_reference():
    J, J0 = _jacobians()
    fast = dn.alive_metrics(J, J0, KS, (Q1,), n_rot=7, rotation_seed=3)
    keep = torch.tensor([0, 2, 3, 4, 6, 7])
    slow = _slow(J, J0, keep, ev.fixed_rotations(6, 7, 3))
    assert fast["n_dead"] == 2 and fast["m_alive"] == 6
    for key, v in slow.items():
        assert fast[key] == pytest.approx(v, rel=1e-10, abs=1e-14), key
    # the reading differs from the all-rows one: dead rows inflate zero rows, lower the PR
    full = kag.p1_metrics(J, J0, KS, (Q1,))
    assert full[f"zero_frac_k1_q{Q1:g}"] > fast[f"zero_frac_k1_q{Q1:g}"] + 0.1
    assert full["pr_norm_k2"] < fast["pr_norm_k2"]


def test_without_dead_rows_equals_all_rows():
    J, J0 = _jacobians(dead=())
    fast = dn.alive_metrics(J, J0, KS, (Q1,))
    full = kag.p1_metrics(J, J0, KS, (Q1,))
    assert fast["n_dead"] == 0
    for key in ("pr_norm_k3", "divergence_k2", f"zero_frac_k2_q{Q1:g}", f"dep_frac_k3_q{Q1:g}"):
        assert fast[key] == full[key]


def test_too_few_live_rows_gives_counted_nan():
    J, J0 = _jacobians(m=4, dead=(0, 1))
    out = dn.alive_metrics(J, J0, KS, (Q1,))
    assert out["m_alive"] == 2 and math.isnan(out["pr_norm_k3"])
    assert not math.isnan(out["pr_norm_k2"])


ECFG = kag.EvalConfig(n_x=64, n_rot=6, n_x_rot=16, q1s=(Q1,))
CFGS = kag.main_grid(["xor"], [8], [0], max_epochs=40, patience=5, batch_size=32)


def test_cached_reading_matches_slow_reference_and_keeps_keys(tmp_path):
    cache = Cache(tmp_path)
    key_before = cache.key(ev.EVAL_KIND, ev.eval_config(CFGS[0], "final", ECFG))
    df_in = kag.evaluate(CFGS, ("final",), ECFG, cache=cache, progress=False)
    df_out = kag.evaluate(CFGS, ("final",), ECFG, cache=cache, progress=False, dead_rows="out")
    assert cache.key(ev.EVAL_KIND, ev.eval_config(CFGS[0], "final", ECFG)) == key_before
    run = kag.ensure_runs(CFGS, cache=cache, progress=False)[0]
    x = kag.make_inputs(1000, "train")[:64]
    J = kag.first_layer_jacobian(run.params, x)
    J0 = kag.first_layer_jacobian(run.init_params, x)
    keep = dn.alive_rows(J, J0, Q1)
    row = df_out.iloc[0]
    assert row.n_dead == 8 - keep.numel()
    if row.n_dead == 0:           # fast path: identical to the all-rows reading
        for col in ("pr_norm_k2", "rr_norm_k3", f"zero_frac_k1_q{Q1:g}"):
            assert row[col] == df_in.iloc[0][col]
    slow = _slow(J, J0, keep, ev.fixed_rotations(keep.numel(), 6, 0))
    for key in ("pr_norm_k2", f"zero_frac_k2_q{Q1:g}", "divergence_k3"):
        assert row[key] == pytest.approx(slow[key], rel=1e-10), key
    # the RR uses the first n_x_rot inputs
    R = ev.fixed_rotations(keep.numel(), 6, 0)
    rr = kag.random_rotation_ratio(J[:16, keep], 3, R) / kag.random_rotation_ratio(J0[:16, keep], 3, R)
    assert row.rr_norm_k3 == pytest.approx(rr, rel=1e-10)


def test_dead_rows_argument_checked(tmp_path):
    with pytest.raises(ValueError, match="dead_rows"):
        kag.evaluate(CFGS, ("final",), ECFG, cache=Cache(tmp_path), dead_rows="drop")


def test_cached_slow_path_with_dead_rows(tmp_path):
    """A loose dead-row definition (q1 = 0.3, half of the inputs) gives dead rows in a tiny
    trained run, so the cached task takes its row-dropping path."""
    from kag_utils.pipeline.sweep import compute_and_load
    cache = Cache(tmp_path)
    ac = dn.alive_config(CFGS[0], "final", ECFG, dead_q1=0.3, dead_fraction=0.5)
    out = compute_and_load(dn.ALIVE_KIND, [ac], cache, progress=False)[0]
    run = kag.ensure_runs(CFGS, cache=cache, progress=False)[0]
    x = kag.make_inputs(1000, "train")[:64]
    J = kag.first_layer_jacobian(run.params, x)
    J0 = kag.first_layer_jacobian(run.init_params, x)
    keep = dn.alive_rows(J, J0, 0.3, 0.5)
    assert 0 < out["n_dead"] == 8 - keep.numel()
    slow = _slow(J[:16], J0[:16], keep, ev.fixed_rotations(keep.numel(), 6, 0))
    assert out["rr_norm_k2"] == pytest.approx(slow["rr_norm_k2"], rel=1e-10)
    slow = _slow(J, J0, keep, ev.fixed_rotations(keep.numel(), 6, 0))
    for key in ("pr_norm_k1", f"dep_frac_k2_q{Q1:g}", "divergence_k2"):
        assert out[key] == pytest.approx(slow[key], rel=1e-10), key
