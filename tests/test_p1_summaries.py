"""Library functions behind notebooks 01-03 that need model weights (kag_utils.p1.pooling,
summaries, toy_jacobians), against slow references written out by definition. Runs are
stand-ins holding a RunConfig and initial / perturbed weights (no training needed)."""
import itertools
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from kag_utils.core.jacobians import gelu
from kag_utils.p1 import pooling, summaries
from kag_utils.p1 import toy_jacobians as toy
from kag_utils.p1.evaluation import first_layer_jacobian, fixed_rotations
from kag_utils.p1.models import init_params
from kag_utils.p1.runs import RunConfig
from kag_utils.p1.training import critical_batch_size
from kag_utils.readings import figure_stats as fs
from kag_utils.readings import paper_values as paper
from kag_utils.readings import rules


def fake_run(seed, m=5, target="xor", scale=0.7, batch_size=250, **extra):
    """A run stand-in: the paper's initial model and a deterministic perturbation of it."""
    init = init_params(seed, (m,))
    gen = torch.Generator().manual_seed(100 + seed)
    trained = [{key: v + scale * torch.randn(v.shape, generator=gen, dtype=v.dtype)
                for key, v in layer.items()} for layer in init]
    cfg = RunConfig(target=target, hidden=(m,), seed=seed, batch_size=batch_size)
    return SimpleNamespace(config=cfg, init_params=init, params=trained, **extra)


def inputs(n, seed=0):
    return 2 * torch.rand(n, 3, generator=torch.Generator().manual_seed(seed),
                          dtype=torch.float64) - 1


def jacobian_slow(params, x):
    """J_ji(x) = d sigma(x . A + a)_j / d x_i by autograd, one input at a time: [N, m, n]."""
    A, a = params[0]["W"], params[0]["b"]
    return torch.stack([torch.autograd.functional.jacobian(lambda v: gelu(v @ A + a), xi)
                        for xi in x])


def minors_slow(J, k):
    """All |k x k minors| of each J(x), rows then columns in combinations order, flattened."""
    m, n = J.shape[1:]
    out = [abs(float(torch.linalg.det(Jx[list(r)][:, list(c)])))
           for Jx in J for r in itertools.combinations(range(m), k)
           for c in itertools.combinations(range(n), k)]
    return np.array(out)


# ------------------------------------------------------------------------------- pooling
def test_pooled_minors_match_determinants_and_per_seed_tail_shares():
    runs, x, k = [fake_run(s) for s in (3, 1)], inputs(6), 2
    res = pooling.pooled_minors(runs, x, k)
    init = [minors_slow(jacobian_slow(r.init_params, x), k) for r in runs]
    trained = [minors_slow(jacobian_slow(r.params, x), k) for r in runs]
    np.testing.assert_allclose(res.initial, np.concatenate(init), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(res.trained, np.concatenate(trained), rtol=1e-10, atol=1e-15)
    assert res.initial.shape == (2 * 6 * math.comb(5, 2) * math.comb(3, 2),)
    assert list(res.tail_shares.seed) == [3, 1]                       # the runs' order
    for i, row in res.tail_shares.iterrows():                          # shares by counting
        lo, hi = np.quantile(init[i], [0.01, 0.99])
        assert row.below == pytest.approx(100 * np.mean(trained[i] < lo))
        assert row.above == pytest.approx(100 * np.mean(trained[i] > hi))


def test_pooled_minors_log10_counts():
    res = pooling.pooled_minors([fake_run(0)], inputs(4), 2)
    frame = res.log10_counts(bins=7)
    assert frame.model.tolist() == ["initial"] * 7 + ["trained"] * 7
    for which in ("initial", "trained"):
        v = getattr(res, which)
        sub = frame[frame.model == which]
        assert sub["count"].sum() == int((v > 0).sum())
        lg = np.log10(v[v > 0])
        width = (lg.max() - lg.min()) / 7
        np.testing.assert_allclose(sub["log10 |minor|"], lg.min() + width * (np.arange(7) + 0.5))


def test_pooled_minors_checks_its_input():
    with pytest.raises(ValueError, match="at least one run"):
        pooling.pooled_minors([], inputs(2), 1)
    with pytest.raises(ValueError, match="one width"):
        pooling.pooled_minors([fake_run(0, m=4), fake_run(1, m=5)], inputs(2), 1)
    with pytest.raises(ValueError, match="k = 4"):
        pooling.pooled_minors([fake_run(0)], inputs(2), 4)


# ----------------------------------------------------------------------------- notebook 01
def test_run_table_one_row_per_run():
    runs = [fake_run(s, target=t, r2_train=0.1 * s, r2_test=0.05 * s, stop_epoch=10 + s,
                     best_epoch=5 + s) for t in ("xor", "linear") for s in (0, 1)]
    table = summaries.run_table(runs)
    assert list(table.columns) == ["target", "m", "seed", "train_r2", "test_r2", "epochs",
                                   "best_epoch"]
    assert table.target.tolist() == ["xor", "xor", "linear", "linear"]
    assert table.m.tolist() == [5] * 4 and table.seed.tolist() == [0, 1, 0, 1]
    assert table.train_r2.tolist() == [0.0, 0.1, 0.0, 0.1] and table.epochs.tolist() == [10, 11, 10, 11]
    with pytest.raises(ValueError, match="at least one run"):
        summaries.run_table([])


def test_critical_batch_table_thresholds_and_steps():
    seen = []

    def run(m, s, b, steps):
        def steps_to(threshold):
            seen.append((m, s, b, threshold))
            return steps
        return SimpleNamespace(config=SimpleNamespace(hidden=(m,), seed=s, batch_size=b),
                               steps_to=steps_to)

    runs = [run(m, s, b, (m + s) * (4 if b == 64 else 1)) for m in (4, 8) for s in (0, 1)
            for b in (64, 1000)]
    cb = summaries.critical_batch_table(runs, [4, 8], [0, 1], {4: 0.5}, criterion=0.9,
                                        batch_small=64, batch_full=1000)
    assert cb.m.tolist() == [4, 8]
    # m = 4 uses our reference, m = 8 falls back to P1's Table I mean
    assert cb.criterion_r2.tolist() == [0.9 * 0.5, 0.9 * paper.TABLE_I["xor"][8][0]]
    for row, m in zip(cb.itertuples(), (4, 8)):
        exp = critical_batch_size([4 * m, 4 * (m + 1)], [m, m + 1], batch_small=64)
        assert {key: getattr(row, key) for key in exp} == exp
    assert {t for (m, *_, t) in seen if m == 4} == {0.45}
    with pytest.raises(ValueError, match="no run"):
        summaries.critical_batch_table(runs[:-1], [4, 8], [0, 1], {})


def test_fig1_panels_are_the_weights_and_the_jacobian():
    run, x = fake_run(0, m=6), inputs(1, seed=3)
    panels = summaries.fig1_panels(run, x)
    for tag, params in (("initial", run.init_params), ("trained", run.params)):
        np.testing.assert_array_equal(panels[tag]["A^T"], params[0]["W"].T.numpy())
        np.testing.assert_array_equal(panels[tag]["B"], params[-1]["W"].numpy())
        np.testing.assert_allclose(panels[tag]["J"], jacobian_slow(params, x)[0].numpy(),
                                   rtol=1e-12, atol=1e-14)
        assert panels[tag]["J"].shape == (6, 3)
    with pytest.raises(ValueError, match=r"\[1, n\]"):
        summaries.fig1_panels(run, inputs(2))


def test_fig1_claims_read_the_figure_statistics():
    run, x = fake_run(0, m=6), inputs(200, seed=4)
    run.params[0]["W"][:, 2] *= 1e-3                     # a tiny weight row: neuron 3
    res = summaries.fig1_claims(run, x)
    rank = fs.smallest_weight_row_rank(run.params[0]["W"], jacobian_slow(run.params, x))
    assert res["rank"] == pytest.approx(rank.mean(), abs=1e-12) and res["rank"] < 0.05
    assert res["rank_reading"]["verdict"] == "reproduced"
    for tag, params in (("trained", run.params), ("initial", run.init_params)):
        share = fs.row_effect_share(jacobian_slow(params, x))
        mean, se = res["row_effect_share"][tag]
        assert mean == pytest.approx(share.mean(), rel=1e-9)
        assert se == pytest.approx(share.std(ddof=1) / math.sqrt(share.size), rel=1e-9)
    assert res["bars_reading"] == rules.exceeds(*res["row_effect_share"]["trained"],
                                                *res["row_effect_share"]["initial"])
    assert res["rank_reading"] == rules.exceeds(res["rank"], rank.std(ddof=1) / math.sqrt(rank.size),
                                                0.5, direction=-1)


# ----------------------------------------------------------------------------- notebook 02
def test_initial_inflections_and_smallest_row_means():
    runs, x = [fake_run(s, m=6) for s in (0, 2)], inputs(50, seed=5)
    infl = summaries.initial_inflections(runs, x, ks=(1, 2))
    assert list(zip(infl.seed, infl.k)) == [(0, 1), (0, 2), (2, 1), (2, 2)]
    for row in infl.itertuples():
        J0 = jacobian_slow(runs[[0, 2].index(row.seed)].init_params, x)
        rm = [np.abs(minors_slow(J0[i:i + 1], row.k)).reshape(math.comb(6, row.k), 3 if row.k < 3 else 1
                                                                ).mean(1) for i in range(len(x))]
        assert row.inflection == pytest.approx(fs.zipf_inflection(np.concatenate(rm)))
    tiny = summaries.smallest_row_means(runs, x, k=2)
    assert tiny.seed.tolist() == [0, 2]
    for i, row in tiny.iterrows():
        J = jacobian_slow(runs[i].params, x)
        rm = np.concatenate([minors_slow(J[j:j + 1], 2).reshape(15, 3).mean(1)
                             for j in range(len(x))])
        assert row.log10_min == pytest.approx(np.log10(rm[rm > 0].min()), abs=1e-9)
        assert row.exact_zeros == int((rm == 0).sum())


def test_dead_row_table_counts_dead_and_bias_silenced_rows():
    run, x = fake_run(0, m=6), inputs(300, seed=6)
    run.params[0]["W"][:, 1] = 0.0                        # neuron 2: no weights, sigma' const
    run.params[0]["W"][:, 4] = 0.01 * run.params[0]["W"][:, 4]
    run.params[0]["b"][4] = -8.0                          # neuron 5: silenced by its bias
    dead = summaries.dead_row_table([run, fake_run(1, m=6, target="linear")], x, q1=0.01)
    assert dead.model.tolist() == ["xor(6)", "linear(6)"] and dead.seed.tolist() == [0, 1]
    assert dead.consistently_zero.tolist()[0] == 2 and dead.bias_silenced.tolist()[0] == 1
    assert dead.bias_silenced.tolist()[1] <= dead.consistently_zero.tolist()[1]


# ----------------------------------------------------------------------------- Table IV
def rr_slow(J, k, R):
    """r^(k) of one J [m, n] by definition (|minor| reading): M / mean_p m_p."""
    def top(Jx):
        m, n = Jx.shape
        return max(abs(float(torch.linalg.det(Jx[list(r)][:, list(c)])))
                   for r in itertools.combinations(range(m), k)
                   for c in itertools.combinations(range(n), k))
    return top(J) / np.mean([top(Rp @ J) for Rp in R])


def test_toy_j1_and_its_ratios_over_rotation_sets():
    J1 = toy.toy_j1()
    assert J1.shape == (1, 7, 3) and torch.equal(J1[0, :3], torch.eye(3, dtype=torch.float64))
    assert float(J1[0, 3:].abs().sum()) == 0.0
    sets = toy.j1_ratio_sets(n_rot=8, repeats=2)
    assert set(sets) == {"abs", "signed"} and sets["abs"].shape == (2, 3)
    for rep in range(2):
        R = fixed_rotations(7, 8, 1000 + rep)
        for k in (1, 3):
            assert sets["abs"][rep, k - 1] == pytest.approx(rr_slow(J1[0], k, R), rel=1e-9)
    # J1's largest minor is 1 under both readings; a rotated maximum is smaller signed
    assert np.all(sets["signed"] >= sets["abs"] - 1e-12)
    with pytest.raises(ValueError, match="repeats"):
        toy.j1_ratio_sets(n_rot=8, repeats=0)


def test_random_draws_and_their_ratios():
    d = toy.random_draws(5, seed=11)
    gen = torch.Generator().manual_seed(11)
    J2 = torch.randn(5, 7, 3, generator=gen, dtype=torch.float64)    # J2 first, then J3
    J3 = 2 * torch.rand(5, 7, 3, generator=gen, dtype=torch.float64) - 1
    assert torch.equal(d["J2"], J2) and torch.equal(d["J3"], J3)
    assert float(d["J3"].abs().max()) <= 1.0
    R = fixed_rotations(7, 6, 0)
    per = toy.draw_ratios(d, R)
    assert per["J2"]["abs"][2].shape == (5,)
    for i in (0, 4):
        assert float(per["J3"]["abs"][2][i]) == pytest.approx(rr_slow(d["J3"][i], 2, R), rel=1e-9)


def test_scaling_checks():
    sc = toy.scaling_checks(fixed_rotations(7, 10, 0))
    assert sc["global_change"] < 1e-9                                  # scale invariance
    assert sc["nonuniform_changes"][0] > 1e-3 and sc["nonuniform_changes"][1] > 1e-3
    assert sc["nonuniform_changes"][2] < 1e-9                          # one 3 x 3 minor
    assert sc["global_change"] == max(abs(a - b) for a, b in zip(sc["global"], sc["base"]))
