"""kag_utils.p1.appendix_studies: notebook 05's one-call studies, each against the functions it
chains (on fake runs and with training and evaluation replaced by tables)."""
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from kag_utils.p1 import appendices as app
from kag_utils.p1 import appendix_studies as st
from kag_utils.p1 import early_stopping, pooling
from kag_utils.p1.models import init_params
from kag_utils.p1.runs import RunConfig
from kag_utils.p1.targets import target_info
from kag_utils.pipeline.results import Recorder

PROTOCOL = {"max_epochs": 100, "patience": 5}


def recorder():
    r = Recorder("05_appendices", "test")
    r.default_ours_n = 2
    return r


def fake_runs(seeds, m=6):
    out = []
    for s in seeds:
        trained = init_params(100 + s, (m,))
        trained[0]["b"] = trained[0]["b"] - 0.5
        out.append(SimpleNamespace(params=trained, init_params=init_params(s, (m,))))
    return out


# ------------------------------------------------------------------------------- App. A
def test_record_quantiles_chains_the_table_the_float32_check_and_the_rows():
    runs = fake_runs([0, 1])
    x = torch.rand(8, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    minors = pooling.seed_minors(runs, x, app.KS)
    pooled = pooling.pool_minors(minors)
    rec = recorder()
    qtab, f32 = st.record_quantiles(rec, minors, pooled, runs, x, [0, 1])
    pd.testing.assert_frame_equal(qtab, app.quantile_table(minors, pooled, [0, 1]))
    assert f32 == app.float32_quantiles(runs, x, k=3)
    assert rec.numbers["app_a_float32_k3.n_zero"] == f32["n_zero"]
    ref = recorder()
    ref.add(app_a_float32_k3={key: f32[key] for key in ("log10_ratio", "n_zero", "q_lo")})
    app.record_quantile_ratios(ref, qtab, [0, 1])
    assert rec.numbers == ref.numbers and rec.comparison == ref.comparison
    text = st.quantile_check_text(rec, f32)
    first, second = text.split("\n")
    assert first == ("float32 check, trained k = 3: Q(0.01) = %.3g, exact zeros %d, log10 ratio "
                     "%s" % (f32["q_lo"], f32["n_zero"], f32["log10_ratio"]))
    assert second.endswith("(paper: 45, 4, ~1)")
    assert repr(rec.numbers["app_a.k3.log10_max_ratio_pooled"]) in second


def test_mef_display_columns():
    mef_sum = pd.DataFrame({c: [1] for c in (
        "k", "state", "slope_top10_mean", "slope_top10_se", "class_top10", "slope_top1_mean",
        "slope_top1_se", "class_top1", "other")})
    assert "other" not in st.mef_display(mef_sum) and len(st.mef_display(mef_sum).columns) == 8


# ------------------------------------------------------------------------------- App. B
def test_es_study_judges_the_critical_batch_as_fig15_and_records(monkeypatch):
    claims = early_stopping.app_b_claims([0, 1], [32, 256], PROTOCOL, q1=0.01)
    reads = early_stopping.reading_grid(["train_batch_mse", "val_mse"], [0.0], [True])
    labels = [early_stopping.reading_label(r) for r in reads]
    lin_ref = pd.DataFrame({"pr_norm_k3": [1.0, 1.02]})
    xor_ref = pd.DataFrame({"pr_norm_k3": [0.5, 0.52]})
    seen = {}

    def fake_table(cl, rd, ecfg=None, scheduler=None):
        seen.update(claims=cl, readings=rd, ecfg=ecfg)
        return pd.DataFrame([{"claim": c.name, "reading": lab, "default": i == 0, "mean": 0.9,
                              "sd": 0.1, "n": 2, "verdict": "reproduced"}
                             for c in cl for i, lab in enumerate(labels)])
    monkeypatch.setattr(early_stopping, "sensitivity_table", fake_table)
    rec = recorder()
    table, rows = st.es_study(rec, claims, reads, lin_ref, xor_ref, [32, 256], "ecfg")
    judged = app.no_signal_rule(claims, lin_ref, xor_ref, [32, 256])
    assert [c.name for c in seen["claims"]] == [c.name for c in judged]
    assert [c.rule is None for c in seen["claims"]] == [c.rule is None for c in judged]
    assert any(c.rule is not None for c in seen["claims"]) and seen["ecfg"] == "ecfg"
    pd.testing.assert_frame_equal(rows, early_stopping.row_verdicts(table))
    ref = recorder()
    app.record_es_study(ref, table, rows, reads)
    assert rec.numbers == ref.numbers and any(k.startswith("app_b_es_summary") for k in rec.numbers)
    means = st.es_means(table)
    assert list(means.index) == list(dict.fromkeys(table.claim))
    assert list(means.columns) == labels and (means == 0.9).all().all()


def test_fig16_display_keeps_the_series_order():
    f16sum = pd.DataFrame({"series": ["b", "a", "b", "a"], "batch_size": [32, 32, 256, 256],
                           "train_r2_mean": [0.123456, 0.5, 0.7, 0.9]})
    out = st.fig16_display(f16sum, ["b", "a"])
    assert list(out.index) == ["b", "a"] and out.loc["b", 32] == 0.1235


# ------------------------------------------------------------------------------- App. C
def test_c_family_trains_evaluates_each_reading_and_types_the_parameter(monkeypatch):
    calls = []

    def fake_runs_(cfgs, scheduler=None):
        return [SimpleNamespace(config=c) for c in cfgs]

    def fake_evaluate(cfgs, reading, run_of, ecfg, scheduler=None, state="final"):
        assert all(c in run_of for c in cfgs)
        calls.append((reading, state))
        return pd.DataFrame({"param": [c.target_param for c in cfgs],
                             "seed": [c.seed for c in cfgs], "reading": reading})
    monkeypatch.setattr(st, "ensure_runs", fake_runs_)
    monkeypatch.setattr(app, "c_evaluate", fake_evaluate)
    run_of = {}
    out = st.c_family("so_xor", [0, 1], PROTOCOL, "model", ("in", "out"), "ecfg", run_of,
                      params=[0, 3], column=("alpha", int))
    cfgs = app.c_configs("so_xor", [0, 1], PROTOCOL, "model", [0, 3])
    assert set(run_of) == set(cfgs) and calls == [("in", "final"), ("out", "final")]
    assert sorted(out) == ["in", "out"] and out["out"].reading.eq("out").all()
    assert out["in"].alpha.tolist() == [0, 0, 3, 3] and out["in"].alpha.dtype.kind == "i"
    init = st.c_family("xor", [0], PROTOCOL, "fixed", ("in",), "ecfg", run_of, state="init")
    assert calls[-1] == ("in", "init") and "alpha" not in init["in"]
    assert RunConfig(target="xor", hidden=(32,), seed=0, data_seed=0, **PROTOCOL) in run_of


def test_r2_long_and_so_matrices_and_gaussian_display():
    df = pd.DataFrame({"alpha": [0, 1], "train_r2": [0.9, 0.8], "test_r2": [0.7, 0.6]})
    long = st.r2_long(df)
    assert long.series.tolist() == ["train", "train", "test", "test"]
    assert long.value.tolist() == [0.9, 0.8, 0.7, 0.6]
    so = st.so_matrices([0, 2])
    assert sorted(so) == ["0", "2"]
    O = np.array(so["2"])
    np.testing.assert_allclose(O, target_info("so_xor", 2)["O"].numpy(), atol=5e-7)
    assert math.isclose(np.linalg.det(O), 1.0, rel_tol=1e-5)
    g_sum = pd.DataFrame({"lam": [0.1], "train_r2_mean": [0.123456], "test_r2_mean": [0.5],
                          "zero_frac_k3_q0.01_mean": [0.1], "pr_norm_k3_mean": [0.9],
                          "divergence_k3_mean": [0.2], "in_pr": [True], "other": [1]})
    out = st.gaussian_display(g_sum, 0.01)
    assert list(out.columns)[-1] == "in_pr" and "other" not in out
    assert out.train_r2_mean.iloc[0] == pytest.approx(0.1235)
