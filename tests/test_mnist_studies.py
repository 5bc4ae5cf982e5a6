"""kag_utils.mnist.studies (notebook 06's one-call sections) and the display helpers notebook 06
calls, each against the functions it chains, on tiny networks (h = 8, one epoch, a tmp cache)."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pandas as pd
import pytest

from kag_utils.mnist import comparison as mc
from kag_utils.mnist import readings as mr
from kag_utils.mnist import studies
from kag_utils.mnist.convergence import ConvergenceConfig, convergence, run_pairs
from kag_utils.mnist.data import load_mnist
from kag_utils.mnist.evaluation import (MNISTEvalConfig, MNISTSpatialConfig, evaluate_mnist,
                                        spatial_selections, timeline_mnist)
from kag_utils.mnist.models import ensure_mnist_runs, run_configs
from kag_utils.pipeline.cache import Cache
from kag_utils.readings import paper_values as paper

ECFG = MNISTEvalConfig(n_images=6, ks=(1, 2), n_rows=10, n_cols=20, n_rot=3, rr_images=2,
                       rr_rows=4, rr_cols=5)


def run_info(**kw):
    args = dict(params_name="quick", data="embedded", n_train=4000, epochs=1, n_seeds=2,
                max_hidden=8)
    return mc.RunInfo(**{**args, **kw})


@pytest.fixture(scope="module")
def embedded():
    return load_mnist()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return Cache(tmp_path_factory.mktemp("cache"))


# ----------------------------------------------------------------------------- timeline
def test_timeline_is_the_checkpoint_evaluation_and_its_readings(embedded, cache):
    ecfg = MNISTEvalConfig(n_images=4, ks=(2,), n_rows=6, n_cols=10, n_rot=0)
    tl = studies.timeline(8, [0], 2, 1, ecfg, run_info(epochs=1), data=embedded, cache=cache,
                          progress=False)
    cfgs = run_configs([8], [0], epochs=2, data="embedded", checkpoint_every=1)
    table = timeline_mnist(cfgs, ecfg, cache=cache, progress=False)
    pd.testing.assert_frame_equal(tl.table, table)
    summary = mr.timeline_summary(table)
    trend = mr.timeline_trend(summary, 1)
    assert tl.trend == trend and tl.trend["epoch_main"] == 1
    assert tl.numbers == {**mr.timeline_numbers(summary), **mr.timeline_trend_numbers(trend)}


# ----------------------------------------------------------------------------- ablation
def test_ablation_weight_decays_adds_the_matched_decay_only_when_asked():
    run = run_info(epochs=100)        # 1,600 steps: 1e-2 over P2's 47,000 steps -> 0.3
    assert studies.ablation_weight_decays([0.0, 1e-2], False, run) == [0.0, 1e-2]
    wds = studies.ablation_weight_decays([0.0, 1e-2], True, run)
    assert wds[:2] == [0.0, 1e-2]
    assert wds[2] == mr.matched_weight_decay(1e-3, 1e-2, run.steps, mc.p2_steps()) == 0.3


@pytest.mark.parametrize("empty", ["hidden", "lrs", "weight_decays"])
def test_ablation_skips_an_empty_grid(empty):
    args = dict(hidden=[8], seeds=[0], lrs=[1e-3], weight_decays=[1e-2])
    args[empty] = []
    assert studies.ablation(**args, matched_decay=False, run=run_info(), ecfg=ECFG) is None


def test_ablation_trains_evaluates_and_reads_the_grid(embedded, cache):
    run = run_info()
    ab = studies.ablation([8], [0, 1], [1e-3], [0.0, 1e-2], False, run, ECFG, data=embedded,
                          cache=cache, progress=False)
    cfgs = mr.ablation_configs([8], [0, 1], [1e-3], [0.0, 1e-2], epochs=1, data="embedded")
    assert ensure_mnist_runs(cfgs, cache=cache, progress=False)        # all in the cache now
    table = mr.ablation_table(evaluate_mnist(cfgs, ECFG, cache=cache, progress=False))
    pd.testing.assert_frame_equal(ab.table, table)
    summary = mr.ablation_summary(table)
    read = mr.ablation_readings(summary, run.steps)
    pd.testing.assert_frame_equal(ab.readings, read)
    claims = mc.ablation_claims(read, [8], 2, run)
    assert ab.weight_decays == [0.0, 1e-2]
    assert ab.claims.numbers == {**mr.ablation_numbers(summary, read), **claims.numbers}
    assert ab.claims.rows == claims.rows and ab.claims.rows


# ----------------------------------------------------------------------------- convergence
def test_convergence_study_picks_seed_and_standard_runs_and_checks_the_counts(embedded, cache):
    runs = ensure_mnist_runs(run_configs([8], [0, 1], epochs=1, data="embedded"), cache=cache,
                             progress=False)
    cfg = ConvergenceConfig(ks=(2,), rows=12, cols=16, images=6, rr_rows=4, rr_cols=6,
                            rr_images=4, n_rot=3, steps=2)
    cs = studies.convergence_study(runs, embedded, [8], 1, ("L1",), cfg, ECFG)
    picked = [r for r in runs if r.config.seed == 1 and not r.config.augment]
    assert len(picked) == 1
    ref = convergence(run_pairs(picked, embedded.inputs("test")[:6], ("L1",)), cfg)
    pd.testing.assert_frame_equal(cs.result.table, ref.table)
    assert set(cs.result.table.model) == {"h8/s1/standard/L1"}
    assert cs.used == {"n_rows": 10, "n_cols": 20, "n_images": 6, "rr_rows": 4, "rr_cols": 5,
                       "rr_images": 2, "n_rot": 3} == studies.used_counts(ECFG)
    tops = studies.ladder_tops(ref)
    assert tops == {"n_rows": 12, "n_cols": 16, "n_images": 6, "rr_rows": 4, "rr_cols": 6,
                    "rr_images": 4, "n_rot": 3}
    assert cs.check == mr.convergence_check(ref.chosen, cs.used, tops)
    assert cs.check["unsettled"] == [f for f in tops if ref.chosen[f] >= tops[f]]
    want = mr.convergence_ranges(ref.table)          # the tables agree to rtol 1e-5 (above)
    assert cs.numbers["ranges"].keys() == want.keys()
    for q, per_k in want.items():
        for k, r in per_k.items():
            assert cs.numbers["ranges"][q][k] == pytest.approx(r, rel=1e-5, nan_ok=True)
    assert cs.numbers == {"chosen": ref.chosen, "used": cs.used, "check": cs.check,
                          "ranges": cs.numbers["ranges"],
                          "tops": dict(rows=12, cols=16, images=6, rr_rows=4, rr_cols=6,
                                       rr_images=4, n_rot=3)}
    assert list(cs.counts.index) == ["chosen", "used"]
    assert list(cs.ranges.columns) == ["min", "max", "top", "top_se", "spread_se"]
    assert len(cs.ranges) == sum(len(v) for v in want.values())


# ----------------------------------------------------------------------------- Fashion-MNIST
def _write_idx(path, array, gz=True):
    header = struct.pack(">I", 0x0800 + array.ndim) + b"".join(struct.pack(">I", d)
                                                                for d in array.shape)
    blob = header + array.astype(np.uint8).tobytes()
    (path.with_name(path.name + ".gz")).write_bytes(gzip.compress(blob))


def _write_fashion(folder, n_train=300, n_test=20):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte",
                   rng.integers(0, 256, size=(n, 28, 28)))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)


def test_fashion_study_skips_without_widths_or_data(tmp_path, monkeypatch):
    assert studies.fashion_study([], [0], 1, ECFG, None, run_info()).skipped == \
        "fashion_hidden = []"
    monkeypatch.setenv("KAG_FASHION_MNIST_DIR", str(tmp_path / "nowhere"))
    out = studies.fashion_study([8], [0], 1, ECFG, None, run_info())
    assert "apt-get install dataset-fashion-mnist" in out.skipped and out.claims is None


def test_fashion_study_reads_fig1_directions_beside_the_main_run(tmp_path, monkeypatch, cache):
    _write_fashion(tmp_path / "fashion")
    monkeypatch.setenv("KAG_FASHION_MNIST_DIR", str(tmp_path / "fashion"))
    main_cfgs = run_configs([8], [0, 1], epochs=1, data="embedded")
    ensure_mnist_runs(main_cfgs, cache=cache, progress=False)
    main_cells = mr.cells(mr.fig1_summary(evaluate_mnist(main_cfgs, ECFG, cache=cache,
                                                         progress=False), True))
    run = run_info()
    f = studies.fashion_study([8], [0, 1], 1, ECFG, main_cells, run, cache=cache,
                              progress=False)
    assert f.skipped is None and f.run == mc.RunInfo("quick", "fashion", 300, 1, 2, 8)
    cfgs = run_configs([8], [0, 1], epochs=1, data="fashion")
    ev = evaluate_mnist(cfgs, ECFG, cache=cache, progress=False)
    cells = mr.cells(mr.fig1_summary(ev, True))
    pd.testing.assert_frame_equal(f.cells, cells)
    acc = mr.accuracy_summary(mr.run_table(ensure_mnist_runs(cfgs, cache=cache, progress=False)))
    claims = mc.data_size_claims(main_cells, cells, run, f.run, "Fashion-MNIST")
    assert f.claims.numbers == {"fashion_accuracy": mr.accuracy_numbers(acc), **claims.numbers}
    assert f.claims.rows == claims.rows
    assert all(r["claim"].startswith("Data size: Fig. 1") for r in f.claims.rows)
    checks = mc.data_size_checks(cells)
    assert list(f.checks.index) == list(checks)
    assert f.checks.main.tolist() == [f"{n}/{m}" for n, m in
                                      mc.data_size_checks(main_cells).values()]


def test_data_size_table_without_the_same_directions():
    c = pd.DataFrame({"training": ["standard", "augmented"], "layer": "L1", "k": 2, "hidden": 8,
                      "pr_ratio_mean": [1.2, 0.9]}).set_index(["training", "layer", "k",
                                                                "hidden"])
    other = c.assign(pr_ratio_mean=[1.1, 1.3])
    table = studies.data_size_table(c.iloc[:1], other)   # the main run lacks one training
    assert table.loc["trained above initial", "holds"] == 2 and table.main.isna().all()
    assert studies.data_size_table(c, other).loc["augmented below standard", "main"] == "1/1"


# ----------------------------------------------------------------------------- display helpers
def test_ball_sizes_are_the_table_its_numbers_and_the_erratum_row():
    scfg = MNISTSpatialConfig(n_images=2, ks=(2,), layers=("L1",), n_rows=4, n_cols=4,
                              radii=(7, 14, 21, 28), n_draws=2, min_distances=(1,))
    sel = spatial_selections(scfg)
    run = run_info()
    sizes, claims = mc.ball_sizes((7, 14, 21, 28), sel, run)
    ref = mr.ball_size_table((7, 14, 21, 28), sel,
                             dict(zip((7, 14, 21, 28), paper.MNIST_BALL_SIZES_NOMINAL)))
    pd.testing.assert_frame_equal(sizes, ref)
    erratum = mc.ball_size_claims(ref, run)
    assert claims.numbers == {**mr.ball_size_numbers(ref), **erratum.numbers}
    assert claims.rows == erratum.rows and claims.rows[0]["verdict"] == "not reproduced"
    shown = mr.ball_size_display(sizes)
    assert list(shown.columns) == ["radius"] + list(mr.BALL_SIZE_LABELS.values())


def test_spatial_activity_and_timeline_displays():
    summary = pd.DataFrame({"training": "standard", "hidden": [8, 8, 16], "layer": "L1",
                            "k": 2, "radius": [7, 14, 7], "pr_ratio_mean": [1.23456, 1.1, 9.0]})
    shown = mr.spatial_display(summary, "radius", 8)
    assert list(shown.columns) == [7, 14] and shown.iloc[0].tolist() == [1.235, 1.1]
    act = pd.DataFrame({c: [0.12345] for c in (
        "training", "layer", "hidden", "off_init_mean", "off_trained_mean", "on_init_mean",
        "on_trained_mean", "z_mean_trained_mean", "off_init_std")})
    assert "off_init_std" not in mr.activity_display(act)
    assert mr.activity_display(act).off_init_mean.iloc[0] == 0.123
    tl = pd.DataFrame({"training": "standard", "layer": "L1", "k": 2, "epoch": [0, 1],
                       "pr_ratio": [1.0, 1.23456]})
    assert mr.timeline_display(tl).columns.tolist() == [0, 1]
