"""kag_utils.p1.dynamics and kag_utils.p1.lambda_xor: the readings and comparison rows of
notebook 04 (P1 §IV.C).

The library is checked against the notebook's own code before the move
(tests/nb04_reference.py) on synthetic evaluation tables, under parameter sets that reach the
branches the quick run does not (a lambda grid holding 0.7 and 1.2, small lambdas, no
dead-rows-out reading, fixed data seeds, a grid with fewer than two lambda >= 1.2, a trained
model below the last checkpoint), and on hand-made curves where the reading is known.
"""
from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kag_utils.core.metrics import false_positive_rate
from kag_utils.p1 import dynamics as dyn
from kag_utils.p1 import lambda_xor as lx
from kag_utils.p1.runs import RunConfig
from kag_utils.pipeline.results import Recorder

from nb04_reference import old_notebook

Q1 = 0.01
WIDTH = 32


# ------------------------------------------------------------------------ synthetic tables
def metric_row(effect: float, bump: float, rng, scale: float = 1.0) -> dict:
    """One model's metrics (the columns ``evaluate`` gives) for a KA effect in [0, 1] and a
    hump in [0, 1] (the concentration extrema); effect = bump = 0 is an initial model
    (normalised PR and RR exactly 1, divergence exactly 0, as in ``evaluate``'s tables)."""
    init = effect == 0 and bump == 0
    noise = (lambda s: 0.0) if init else (lambda s: float(rng.normal(0, s)))
    row = {}
    for k in (1, 2, 3):
        qk = false_positive_rate(Q1, WIDTH, k)
        z = qk * (1 + 0.1 * rng.normal()) + scale * 0.08 * k * effect + noise(0.004)
        row[f"zero_frac_k{k}_q{Q1:g}"] = max(z, 0.0)
        row[f"not_consistent_frac_k{k}_q{Q1:g}"] = max(0.8 * z + noise(0.003), 0.0)
        row[f"pr_norm_k{k}"] = 1.0 - scale * 0.25 * k * bump + noise(0.01)
        row[f"rr_norm_k{k}"] = 1.0 + scale * 0.3 * k * bump + noise(0.03)
        row[f"divergence_k{k}"] = scale * 0.2 * k * effect + noise(0.01) * (not init)
    row[f"dep_frac_k2_q{Q1:g}"] = 0.02 + scale * 0.02 * effect + noise(0.002) + 0.001 * rng.random()
    row[f"dep_frac_k3_q{Q1:g}"] = 0.03 + noise(0.002) + 0.001 * rng.random()
    return row


def sigmoid(t, mid=0.5, w=0.08):
    return 1 / (1 + math.exp(-(t - mid) / w))


def evolution_table(seeds, final_r2=0.97, unreached=None, seed=0):
    """``evaluate``'s table of the xor runs at "init", every checkpoint R^2 >= g and "final",
    with the runs. ``unreached``: {seed: first grid value it never reached}."""
    rng = np.random.default_rng(seed)
    grid = [round(g, 2) for g in np.arange(0.0, 1.0 - 1e-9, 0.05)]
    unreached = unreached or {}
    rows, runs = [], []
    for s in seeds:
        stop = unreached.get(s, 2.0)
        epochs = []
        for state in ["init"] + [f"r2>={g:.2f}" for g in grid] + ["final"]:
            t = None if state == "init" else final_r2 if state == "final" else float(state[4:])
            reached = t is None or state == "final" or t < stop - 1e-9
            epoch = 0 if t is None else int(20 + 400 * t ** 3) + s
            if state.startswith("r2"):
                epochs.append(epoch if reached else -1)
            vals = metric_row(0.0, 0.0, rng) if t is None else metric_row(
                sigmoid(t), math.exp(-((t - 0.85) / 0.2) ** 2) * sigmoid(t, 0.4), rng)
            rows.append({"seed": s, "state": state, "reached": reached, "state_epoch": epoch,
                         **vals})
        runs.append(SimpleNamespace(r2_train=final_r2 + 0.005 * s, selected_epoch=600 + 10 * s,
                                    checkpoints={"grid": np.asarray(grid),
                                                 "epoch": np.asarray(epochs)}))
    return pd.DataFrame(rows), runs


def lambda_tables(all_lams, seeds, readings=("in", "out"), seed=1):
    """{reading: table} of the trained lambda-xor models (lambda-major, then seed) and of the
    initial models, and the runs."""
    rng = np.random.default_rng(seed)
    lam_raw, base_raw = {}, {}
    for reading in readings:
        scale = 1.0 if reading == "in" else 0.7
        rows = []
        for lam in all_lams:
            effect = math.exp(-((lam - 1.15) / 0.45) ** 2)
            for s in seeds:
                r = {"seed": s, **metric_row(effect, effect, rng, scale)}
                dead = max(0, int(round(4 * (lam - 1.4) + rng.normal(0, 0.7))))
                r[f"n_consistent_k1_q{Q1:g}"] = dead
                r[f"consistent_share_k1_q{Q1:g}"] = np.nan if dead == 0 else min(1.0, 0.1 * dead)
                if reading == "out":
                    r["n_dead"] = dead
                rows.append(r)
        lam_raw[reading] = pd.DataFrame(rows)
        base_raw[reading] = pd.DataFrame([{"seed": s, **metric_row(0.0, 0.0, rng)}
                                          for s in seeds])
    runs = []
    for lam in all_lams:
        for s in seeds:
            tr = float(np.clip(1.0 - 0.35 * max(0.0, lam - 1.0) ** 1.5 + rng.normal(0, 0.01),
                               0, 1))
            runs.append(SimpleNamespace(r2_train=tr, r2_test=tr - 0.02 * lam + rng.normal(0, 0.005),
                                        stop_epoch=int(300 + 200 * lam + 5 * s)))
    return lam_raw, base_raw, runs


# ------------------------------------------------------------------ the notebook, new form
def new_notebook(evo_raw, evo_runs, lam_raw, lam_base_raw, lam_runs, *, params_name="quick",
                 seeds=(0, 1, 2, 3), width=32, batch_size=250, max_epochs=10_000, patience=50,
                 evo_step=0.05, lam_step=0.1, lam_step_high=0.2, lam_max=2.5,
                 data_seeds="model", dead_rows_out=True, window_fraction=0.5,
                 small_lams=(0.1, 0.25), n_rot=100, n_x_rot=250, q1=0.01, n_sigma=2.0):
    """What notebooks/04_dynamics.py now does, with the evaluations passed in."""
    seeds = list(seeds)
    record = Recorder("04_dynamics", params_name)
    record.default_ours_n = len(seeds)
    protocol = dict(batch_size=batch_size, max_epochs=max_epochs, patience=patience)
    study = dyn.DynamicsSettings(
        width=width, n_seeds=len(seeds), q1=q1, n_sigma=n_sigma, evo_step=evo_step,
        lam_step=lam_step, window_fraction=window_fraction,
        note=dyn.set_note(params_name, len(seeds), lam_step, evo_step, n_rot, n_x_rot))
    lam_data_seed = {s: dyn.data_seed(s, data_seeds) for s in seeds}
    r2_grid, evo_states = dyn.evolution_grid(evo_step)
    evo_cfgs = [dyn.run_config(1.0, s, width, **protocol) for s in seeds]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evo, final_r2 = dyn.place_states(evo_raw, evo_runs, r2_grid)
    epochs = dyn.checkpoint_epochs(evo)
    late = dyn.late_epoch_shares(evo_runs)
    record.add("evolution.late_epoch_share_mean", float(np.mean(late)) if late else None)
    evo_r = dyn.evolution_readings(evo, q1, n_sigma)
    evo_feat = evo_r["features"]
    record.add("evolution", dyn.evolution_numbers(evo, final_r2, evo_feat))
    for row in dyn.evolution_rows(evo, evo_feat, study):
        record.compare(**row)

    lams, all_lams = lx.lambda_grid(lam_step, lam_step_high, lam_max, small_lams)
    lam_cfgs = [dyn.run_config(lam, s, width, lam_data_seed[s], **protocol)
                for lam in all_lams for s in seeds]
    lam_dfs, lam_base_dfs = {}, {}
    for reading in ("in", "out") if dead_rows_out else ("in",):
        lam_dfs[reading] = lx.lambda_frame(lam_raw[reading], all_lams, seeds, lam_runs)
        lam_base_dfs[reading] = lam_base_raw[reading]
    r2_sum = lx.r2_summary(lam_dfs["in"])
    numbers, rows = lx.learnability(lam_dfs["in"], r2_sum, lams, study, data_seeds)
    record.add(**numbers)
    for row in rows:
        record.compare(**row)
    lam_r = lx.lambda_readings(lam_dfs, lam_base_dfs, lams, study)
    dead_table, dead_by_lam, dead_means = lx.dead_neurons(lam_dfs, lams, q1)
    record.add("lambda_xor.dead_neurons_mean", dead_means)
    record.add(**lx.lambda_numbers(lam_r["features"]))
    for row in lx.lambda_rows(lam_r["features"], r2_sum, study):
        record.compare(**row)
    small = None
    if small_lams:
        small, numbers, row = lx.small_lambda(lam_r, small_lams, r2_sum, study)
        record.add(**numbers)
        record.compare(**row)
    names = tuple(study.metrics)
    return {"record": record, "evo": evo, "final_r2": final_r2, "epochs": epochs, "late": late,
            "few": evo_r["few"], "evo_cfgs": evo_cfgs, "lam_cfgs": lam_cfgs, "lams": lams,
            "all_lams": all_lams, "r2_sum": r2_sum, "dead_table": dead_table, "small": small,
            "evo_table": dyn.evolution_table(evo_feat, names, q1),
            "lam_table": lx.lambda_table(lam_r["features"], names, q1),
            "summary": lx.summary_text(evo_feat, lam_r["features"], r2_sum, lams, dead_by_lam,
                                       study)}


CASES = {
    # default set: lambda step 0.1 (0.7 and 1.2 on the grid), small lambdas, both readings
    "default": dict(params_name="default"),
    # paper set: lambda step 0.05 / 0.1 beyond 1.5; no set note
    "paper": dict(params_name="paper", lam_step=0.05, lam_step_high=0.1, n_rot=400,
                  n_x_rot=1000),
    # quick-like grid without the dead-rows-out reading, fixed data seeds, no small lambdas,
    # evolution step 0.1, two seeds
    "quick-fixed": dict(seeds=(0, 1), evo_step=0.1, lam_step=0.5, lam_step_high=1.0,
                        small_lams=(), dead_rows_out=False, data_seeds="fixed"),
    # a grid ending at 1.5: fewer than two lambda >= 1.2, lambda = 1.2 missing
    "short-grid": dict(lam_step=0.5, lam_step_high=1.0, lam_max=1.5, small_lams=(0.25,),
                       evo_step=0.25),
}


def _inputs(case, final_r2=0.97, unreached=None):
    """The evaluations one parameter set asks for (evolution: its grid's states only)."""
    kw = CASES[case]
    seeds = list(kw.get("seeds", (0, 1, 2, 3)))
    evo_raw, evo_runs = evolution_table(seeds, final_r2, unreached)
    states = dyn.evolution_grid(kw.get("evo_step", 0.05))[1]
    evo_raw = evo_raw[evo_raw.state.isin(states)].reset_index(drop=True)
    _, all_lams = lx.lambda_grid(kw.get("lam_step", 0.1), kw.get("lam_step_high", 0.2),
                                 kw.get("lam_max", 2.5), kw.get("small_lams", (0.1, 0.25)))
    lam_raw, base_raw, lam_runs = lambda_tables(all_lams, seeds)
    return (evo_raw, evo_runs, lam_raw, base_raw, lam_runs), kw


@pytest.mark.parametrize("case", list(CASES))
def test_notebook_readings_unchanged_by_the_move(case):
    """Every number, comparison row (claim, values, verdict, readings, cause, note), table
    and the summary text equal the old notebook's on the same evaluations."""
    args, kw = _inputs(case, unreached={1: 0.95, 2: 0.95, 3: 0.9})
    old = old_notebook(*args, **kw)
    new = new_notebook(*args, **kw)
    o, n = old["record"], new["record"]
    assert list(o.numbers) == list(n.numbers)
    assert o.numbers == n.numbers
    assert len(o.comparison) == len(n.comparison) > 60
    for ro, rn in zip(o.comparison, n.comparison):
        assert ro == rn
    # the verdicts are not all one kind: the synthetic data reach several branches
    assert len({r["verdict"] for r in n.comparison}) >= 2
    assert old["evo_cfgs"] == new["evo_cfgs"] and old["lam_cfgs"] == new["lam_cfgs"]
    assert old["lams"] == new["lams"] and old["all_lams"] == new["all_lams"]
    assert old["late"] == new["late"] and old["final_r2"] == new["final_r2"]
    assert old.get("few", []) == new["few"]
    pd.testing.assert_frame_equal(old["evo"], new["evo"])
    pd.testing.assert_frame_equal(old["epochs"], new["epochs"])
    pd.testing.assert_frame_equal(old["evo_table"], new["evo_table"])
    pd.testing.assert_frame_equal(old["lam_table"], new["lam_table"])
    pd.testing.assert_frame_equal(old["dead_table"],
                                  new["dead_table"].drop(columns="rows left out per model",
                                                         errors="ignore"))
    if kw.get("small_lams", (0.1, 0.25)):
        pd.testing.assert_frame_equal(old["small"], new["small"])
    assert old["summary"] == new["summary"]


def test_trained_model_below_the_last_checkpoint():
    """A mean final R^2 below the last checkpoint: a warning, and the trained model is read
    just after the last grid point (as the old notebook did)."""
    args, kw = _inputs("short-grid", final_r2=0.74)
    old = old_notebook(*args, **kw)
    with pytest.warns(UserWarning, match="below the last checkpoint"):
        evo, final_r2 = dyn.place_states(args[0], args[1], dyn.evolution_grid(0.25)[0])
    assert evo.loc[evo.state == "final", "x"].eq(0.75 + 1e-3).all()
    pd.testing.assert_frame_equal(old["evo"], evo)
    new = new_notebook(*args, **kw)
    assert old["record"].numbers == new["record"].numbers
    assert old["record"].comparison == new["record"].comparison


# ----------------------------------------------------------------------- the small pieces
def test_run_config_is_notebook_01s_xor_at_lambda_1_and_keeps_its_fields():
    protocol = dict(batch_size=250, max_epochs=10_000, patience=50)
    assert dyn.run_config(1.0, 2, 32, **protocol) == RunConfig(
        target="xor", hidden=(32,), seed=2, data_seed=0, **protocol)
    assert dyn.run_config(1.0 + 1e-12, 2, 32, 2, **protocol).target == "xor"
    c = dyn.run_config(1.2, 3, 32, 3, **protocol)
    assert c == RunConfig(target="lambda_xor", target_param=1.2, hidden=(32,), seed=3,
                          data_seed=3, **protocol)
    assert isinstance(c.target_param, float)


def test_data_seed():
    assert dyn.data_seed(3, "model") == 3
    assert dyn.data_seed(3, "fixed") == 0
    with pytest.raises(ValueError, match="'model' or 'fixed'"):
        dyn.data_seed(3, "per-run")


def test_set_note():
    assert dyn.set_note("paper", 4, 0.05, 0.05, 400, 1000) == ""
    assert dyn.set_note("quick", 2, 0.5, 0.25, 20, 100) == (
        " [parameter set 'quick': 2 seeds, lambda step 0.5, R^2 step 0.25, RR 20 rotations x "
        "100 inputs]")


def test_evolution_grid():
    grid, states = dyn.evolution_grid(0.25)
    assert grid == [0.0, 0.25, 0.5, 0.75]
    assert states == ["init", "r2>=0.00", "r2>=0.25", "r2>=0.50", "r2>=0.75", "final"]
    assert len(dyn.evolution_grid(0.05)[0]) == 20
    with pytest.raises(ValueError, match="multiple of the runs' 0.05"):
        dyn.evolution_grid(0.07)


def test_long_format_and_curve():
    df = pd.DataFrame([{"seed": s, **metric_row(0.5, 0.5, np.random.default_rng(s))}
                       for s in range(3)])
    long = dyn.long_format(df, [0.1, 0.1, 0.2], Q1)
    # 3 rows x (3 zero + 2 dep + 3 zero_nc + 3 pr + 3 rr + 3 div) metric-k pairs
    assert len(long) == 3 * 17
    z = long[(long.metric == "zero") & (long.k == "k=2")].value.to_numpy()
    np.testing.assert_allclose(z, 100 * df[f"zero_frac_k2_q{Q1:g}"].to_numpy())
    pr = long[(long.metric == "pr") & (long.k == "k=1")].value.to_numpy()
    np.testing.assert_allclose(pr, df.pr_norm_k1.to_numpy())
    from kag_utils.readings.aggregate import summarize
    summ = summarize(long, ["metric", "k", "x"], "value")
    x, mean, se = dyn.curve(summ, "zero", 2)
    assert x.tolist() == [0.1]                    # x = 0.2 has a single seed
    assert mean[0] == pytest.approx(z[:2].mean())
    assert se[0] == pytest.approx(np.std(z[:2], ddof=1) / math.sqrt(2))
    assert dyn.curve(summ, "zero", 2, lo=0.1)[0].size == 0     # lo is exclusive


def test_evolution_readings_on_a_known_curve():
    """A step at R^2 = 0.5 in the size-1 zero rows, a hump of RR at 0.75: the onset at 0.5,
    the half-rise at 0.5, the RR maximum at 0.75, significant and interior."""
    rows = []
    xs = [0.0, 0.25, 0.5, 0.75]
    for s in range(4):
        off = 0.001 * s
        for state, x in [("init", dyn.INIT_X)] + [(f"r2>={g:.2f}", g) for g in xs] + [
                ("final", 0.97)]:
            r = metric_row(0.0, 0.0, np.random.default_rng(s))
            if state != "init":
                step = 1.0 if x >= 0.5 else 0.0
                r[f"zero_frac_k1_q{Q1:g}"] = 0.01 + 0.1 * step + off
                r["rr_norm_k1"] = 1.0 + (0.5 if x == 0.75 else 0.1) + off
            else:
                r[f"zero_frac_k1_q{Q1:g}"] = 0.01 + off
            rows.append({"seed": s, "state": state, "reached": True, "state_epoch": 0,
                         "x": x, **r})
    evo = pd.DataFrame(rows)
    f = dyn.evolution_readings(evo, Q1)["features"]
    assert f["zero", 1]["onset"]["x"] == 0.5
    assert f["zero", 1]["half_rise"]["x"] == 0.5
    assert f["zero", 1]["baseline"] == pytest.approx(100 * (0.01 + 0.0015))
    ext = f["rr", 1]["extremum"]
    assert ext["x"] == 0.75 and ext["interior"] and ext["beyond_ends"] and ext["paired"]
    table = dyn.evolution_table(f, ("zero",), Q1)
    # a step: the maximum is its first point, its plateau runs to the trained model
    assert table.loc[0, "onset R2"] == "0.50" and table.loc[0, "extremum R2"] == "0.50"
    assert table.loc[0, "plateau"] == "0.50-0.97" and not table.loc[0, "significant interior"]


def test_rows_are_valid_recorder_arguments_and_name_a_cause():
    """Every row is accepted by Recorder.compare (which refuses a row that is not reproduced
    without a cause or note), with the set note on every cause."""
    args, kw = _inputs("default")
    new = new_notebook(*args, **kw)
    rows = new["record"].comparison
    assert len({r["claim"] for r in rows}) == len(rows)
    note = dyn.set_note("default", 4, 0.1, 0.05, 100, 250)
    for r in rows:
        if r["verdict"] != "reproduced":
            assert note in r["cause"] + r["note"]


def test_lambda_frame_checks_its_shapes():
    df = pd.DataFrame({"seed": [0, 1, 0, 1]})
    runs = [SimpleNamespace(r2_train=0.9, r2_test=0.8, stop_epoch=10)] * 4
    out = lx.lambda_frame(df, [0.5, 1.0], [0, 1], runs)
    assert out.lam.tolist() == [0.5, 0.5, 1.0, 1.0] and "lam" not in df
    with pytest.raises(ValueError, match="one row and one run per"):
        lx.lambda_frame(df, [0.5], [0, 1], runs)


def test_lambda_grid():
    lams, all_lams = lx.lambda_grid(0.5, 1.0, 2.5, [0.1, 0.25])
    assert lams == [0.5, 1.0, 1.5, 2.5]
    assert all_lams == [0.1, 0.25, 0.5, 1.0, 1.5, 2.5]
    assert len(lx.lambda_grid(0.05, 0.1, 2.5)[0]) == 31


def test_small_lambda_needs_small_lambdas():
    with pytest.raises(ValueError, match="small_lams is empty"):
        lx.small_lambda({}, [], pd.DataFrame(), dyn.DynamicsSettings())
