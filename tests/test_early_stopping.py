"""Early-stopping sensitivity study: reading grid, claim x reading table on a tiny grid
(values equal runs trained and evaluated one by one; identical selected weights evaluated
once), verdicts, the protocol-dependent row verdict."""
import math

import pandas as pd
import pytest

import kag_utils.p1.early_stopping as es
from kag_utils.pipeline.cache import Cache
from kag_utils.p1.evaluation import EvalConfig, evaluate
from kag_utils.core.metrics import false_positive_rate
from kag_utils.p1.runs import RunConfig, ensure_runs
from kag_utils.readings.verdicts import numeric_verdict

SMALL = dict(n_train=100, n_val=30, n_test=30, max_epochs=30, patience=3, batch_size=40,
             hidden=(8,))
ECFG = EvalConfig(n_x=20, n_rot=0, q1s=(0.01,))


def test_reading_grid_has_24_readings_default_first():
    grid = es.reading_grid()
    assert len(grid) == 24 and grid[0] == es.DEFAULT_READING
    assert len({es.reading_label(r) for r in grid}) == 24
    assert es.reading_label(es.DEFAULT_READING) == "train_batch_mse, d=0, best"
    with pytest.raises(ValueError, match="empty"):
        es.reading_grid(monitors=())
    with pytest.raises(ValueError, match="reading sets only"):
        es.with_reading(RunConfig(), {"patience": 3})


def test_sensitivity_table_on_a_tiny_grid(tmp_path, monkeypatch):
    cache = Cache(tmp_path / "c")
    cfgs = tuple(RunConfig(target="random", seed=s, **SMALL) for s in (0, 1))
    claims = [es.Claim("R2", "test", cfgs, "train_r2", paper_value=0.5, paper_sd=0.1,
                       resolution=1e-4),
              es.Claim("zero", "test", cfgs, "zero_frac_k3_q0.01", scale=100.0),
              es.Claim("pr", "test", cfgs, "pr_norm_k3", near=1.0)]
    readings = [es.DEFAULT_READING, {"monitor": "val_mse", "min_delta": 0.0, "restore_best": True},
                {"monitor": "train_last_batch_mse", "min_delta": 1e-3, "restore_best": False},
                {"monitor": "train_batch_mse", "min_delta": 0.0, "restore_best": False}]
    evaluated = []
    real = es.evaluate

    def counting(configs, **kw):
        evaluated.extend(configs)
        return real(configs, **kw)

    monkeypatch.setattr(es, "evaluate", counting)
    table = es.sensitivity_table(claims, readings, ecfg=ECFG, cache=cache)
    assert len(table) == 3 * 4 and table.default.sum() == 3
    all_cfgs = [es.with_reading(c, r) for r in readings for c in cfgs]
    runs = ensure_runs(all_cfgs, cache=cache, progress=False)
    assert len(evaluated) == es.distinct_weights(all_cfgs, runs) <= len(all_cfgs)
    # every cell equals the runs and evaluations made one config at a time
    alone = Cache(tmp_path / "alone")
    for r in readings:
        one = [ensure_runs([es.with_reading(c, r)], cache=alone, progress=False)[0] for c in cfgs]
        df = pd.concat([evaluate([es.with_reading(c, r)], ecfg=ECFG, cache=alone, progress=False)
                        for c in cfgs])
        row = table[(table.reading == es.reading_label(r))].set_index("claim")
        r2 = pd.Series([x.r2_train for x in one])
        assert row.loc["R2", "mean"] == r2.mean() and row.loc["R2", "sd"] == r2.std(ddof=1)
        assert row.loc["zero", "mean"] == pytest.approx((100 * df["zero_frac_k3_q0.01"]).mean(),
                                                        rel=1e-15)
        assert row.loc["pr", "mean"] == pytest.approx(df["pr_norm_k3"].mean(), rel=1e-15)
        assert row.loc["R2", "verdict"] == numeric_verdict(
            0.5, r2.mean(), paper_sd=0.1, ours_sd=r2.std(ddof=1), ours_n=2,
            resolution=1e-4)["verdict"]
        assert row.loc["zero", "verdict"] == "new result"
    # the readings differ somewhere (val_mse stops random labels early)
    assert table[table.claim == "R2"]["mean"].nunique() >= 2
    reads = es.compare_readings(table, "R2")
    assert len(reads) == 3 and {"reading", "ours_value", "ours_sd", "ours_n", "verdict"} <= set(reads[0])
    fig = es.verdict_heatmap(table)
    assert fig is not None


def test_row_verdict_protocol_dependent():
    t = pd.DataFrame([
        {"claim": "a", "reading": "d", "default": True, "verdict": "not reproduced"},
        {"claim": "a", "reading": "x", "default": False, "verdict": "reproduced"},
        {"claim": "b", "reading": "d", "default": True, "verdict": "reproduced"},
        {"claim": "b", "reading": "x", "default": False, "verdict": "not reproduced"},
        {"claim": "c", "reading": "d", "default": True, "verdict": "inconclusive"},
        {"claim": "c", "reading": "x", "default": False, "verdict": "not reproduced"}])
    rv = es.row_verdicts(t).set_index("claim")
    assert rv.loc["a", "verdict"] == "protocol-dependent" and rv.loc["a", "reproduced_by"] == ["x"]
    assert rv.loc["b", "verdict"] == "reproduced" and rv.loc["c", "verdict"] == "inconclusive"
    with pytest.raises(ValueError, match="default-reading row"):
        es.row_verdicts(t[~t.default])


def test_claim_builders_name_the_notebook_rows():
    proto = dict(batch_size=250, max_epochs=10, patience=5)
    names = [c.name for c in es.table_claims([0, 1], proto)]
    assert "Table I train R2 random(4)" in names and "Table II random(32) Zero q1=1%" in names
    assert "Table III PR xor(32) k=3" in names and len(names) == 6 + 9 + 9
    b = es.app_b_claims([0], [32, 256], proto)
    assert b[0].name == "App B: no consistently zero rows in random(32) for B in [256]"
    assert [c.configs[0].batch_size for c in b] == [256, 32, 256, 256]
    assert b[1].paper_value == 0.97 and b[3].near == 1.0
    lam = es.lambda_xor_claims([0], [1.2, 2.0], proto)
    assert lam[1].near is None and lam[4].near == 1.0
    assert lam[0].configs[0].target_param == 1.2 and lam[3].configs[0].target_param == 2.0
    assert math.isclose(lam[5].near, 100 * false_positive_rate(0.01, 32, 3))
    assert lam[0].configs[0].data_seed == 0
    lam = es.lambda_xor_claims([0, 3], [1.0, 2.0], proto, data_seeds="model")
    assert [c.data_seed for c in lam[0].configs] == [0, 3] and lam[0].configs[1].target == "xor"


def test_attach_readings_marks_protocol_dependent_rows(tmp_path):
    from kag_utils.pipeline.results import Recorder
    rec = Recorder("01_setup", "quick", output_root=str(tmp_path))
    rec.compare("a", "P1", 0.5, 0.9, paper_sd=0.01, ours_sd=0.01, ours_n=4, cause="rule")
    rec.compare("b", "P1", 0.5, 0.5, paper_sd=0.01, ours_sd=0.01, ours_n=4)
    rec.compare("c", "P1", 0.5, 0.9, paper_sd=0.01, ours_sd=0.01, ours_n=4, cause="x")
    t = pd.DataFrame([
        {"claim": c, "reading": r, "default": r == "d", "mean": 0.5, "sd": 0.01, "n": 4,
         "verdict": v} for c, r, v in (("a", "d", "not reproduced"), ("a", "val", "reproduced"),
                                       ("b", "d", "reproduced"), ("b", "val", "not reproduced"))])
    assert es.attach_readings(rec, t) == ["a", "b"]
    rows = {r["claim"]: r for r in rec.comparison}
    assert rows["a"]["verdict"] == "protocol-dependent" and "val: reproduced" in rows["a"]["readings"]
    assert rows["b"]["verdict"] == "reproduced" and rows["c"]["verdict"] == "not reproduced"
    assert es.slug("Table I train R2 random(4)") == "Table_I_train_R2_random_4"
    assert es.slug("val_mse, d=0.001, best") == "val_mse_d_0p001_best"


def test_with_rule_judges_every_reading_by_the_rows_rule():
    cfgs = (RunConfig(target="random", seed=0, **SMALL),)
    claims = [es.Claim("x", "t", cfgs, "train_r2", near=1.0), es.Claim("y", "t", cfgs, "train_r2")]
    ruled = es.with_rule(claims, "x", lambda m, se: "reproduced" if m < 0.5 else "not reproduced")
    assert es.claim_verdict(ruled[0], 0.2, 0.1, 4) == "reproduced"
    assert es.claim_verdict(ruled[0], 0.7, 0.1, 4) == "not reproduced"
    assert es.claim_verdict(ruled[1], 0.2, 0.1, 4) == "new result"
    with pytest.raises(ValueError, match="no claim"):
        es.with_rule(claims, "z", lambda m, se: "reproduced")


def test_summary_counts():
    import pandas as pd

    rows = pd.DataFrame([
        {"claim": "a", "default_verdict": "reproduced", "verdict": "reproduced",
         "reproduced_by": ["x"]},
        {"claim": "b", "default_verdict": "not reproduced", "verdict": "protocol-dependent",
         "reproduced_by": ["x", "y"]},
        {"claim": "c", "default_verdict": "inconclusive", "verdict": "inconclusive",
         "reproduced_by": []}])
    s = es.summary(rows, [{}, {}, {}])
    assert s == {"claims": 3, "readings": 3, "default_reproduced": 1, "protocol_dependent": 1,
                 "reproduced_by_none": 1, "default_not_reproduced": 2}
    with pytest.raises(ValueError, match="row_verdicts"):
        es.summary(rows.iloc[:0], [])


def test_table_study_refuses_an_unknown_prefix():
    with pytest.raises(ValueError, match="Table II/III"):
        es.table_study("Table IX", [0], dict(batch_size=250, max_epochs=5, patience=2),
                       ["train_batch_mse"], [0.0], [True], n_x=10)
