"""P2 analysis (kag_utils.mnist.evaluation): Fig. 1 pair metrics, streamed histograms, rotation
ratios shared across k, spatial selections, and the cached sweep kinds."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kag_utils.mnist import evaluation as ma
from kag_utils.pipeline import sweep
from kag_utils.pipeline.cache import Cache
from kag_utils.core.minors import sample_combinations, sampled_minor_stats, sampled_minors
from kag_utils.core.sampled_metrics import (minor_kl_divergence, participation_ratio_sampled,
                                     sampled_metrics, sampled_rotation_ratio)
from kag_utils.mnist.models import MNISTRunConfig, ensure_mnist_runs, init_params, mlp_jacobians
from kag_utils.core.rotations import haar_rotations
from kag_utils.mnist.spatial import ball_mask, is_separated, region_mask

D = torch.float64


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _params(h, seed=0, scale=0.3):
    """A He-initialised network with random biases (a stand-in for a trained one)."""
    p = init_params(h, seed, D)
    g = gen(100 + seed)
    for k in ("b1", "b2", "b3"):
        p[k] = scale * torch.randn(p[k].shape, generator=g, dtype=D)
    return p


def _images(n, seed=0):
    return torch.randn(n, 784, generator=gen(seed), dtype=D)


# -- histogram kernel ---------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 2, 3])
def test_histogram_kernel_matches_log10_reference(k):
    g = gen(k)
    J = torch.randn(3, 9, 40, generator=g, dtype=D) * torch.logspace(-6, 2, 40, dtype=D)
    J[0, :, :5] = 0.0                                   # exact zeros
    rows = sample_combinations(9, k, 50, gen(1))
    cols = sample_combinations(40, k, 300, gen(2))
    mu = sampled_minors(J, rows, cols)
    nz = mu[mu > 0]
    # edges narrower than the data on both sides: clipping into the end bins
    edges = np.linspace(math.log10(float(nz.min())) + 1, math.log10(float(nz.max())) - 0.5, 31)
    h, z = ma.sampled_minor_histogram(J, rows, cols, edges)
    ref = sampled_minor_stats(J, rows, cols, powers=(), log10_edges=torch.from_numpy(edges))
    assert torch.equal(h, ref["hist"]) and torch.equal(z, ref["n_zero"])
    assert int(z[0]) > 0 and int(h.sum() + z.sum()) == mu.numel()
    # and the plain numpy definition
    lv = np.log10(mu[0][mu[0] > 0].numpy())
    idx = np.clip(np.searchsorted(edges[1:-1], lv, side="right"), 0, 29)
    np.testing.assert_array_equal(h[0].numpy(), np.bincount(idx, minlength=30))


def test_histogram_tiny_and_huge_ranges():
    J = torch.tensor([[[1e-300, 3e-200], [2e-5, 7.0]]], dtype=D)
    rows = torch.tensor([[0], [1]])
    cols = torch.tensor([[0], [1]])
    edges = ma.log10_edges(1e-300, 7.0, 100)
    h, z = ma.sampled_minor_histogram(J, rows, cols, edges)
    ref = sampled_minor_stats(J, rows, cols, powers=(), log10_edges=torch.from_numpy(edges))
    assert torch.equal(h, ref["hist"]) and int(z.sum()) == 0 and int(h.sum()) == 4


# -- Fig. 1 pair metrics -----------------------------------------------------------------------
@pytest.mark.parametrize("chunk_bytes", [2 ** 40, 12 * 784 * 8 * 3])      # one chunk / chunks of 3
def test_pair_metrics_match_unchunked_sampled_metrics(monkeypatch, chunk_bytes):
    monkeypatch.setitem(ma.JACOBIAN_BYTES, "cpu", chunk_bytes)
    pt, pi = _params(12, 0), _params(12, 1, scale=0.0)
    x = _images(8)
    ecfg = ma.MNISTEvalConfig(n_images=7, ks=(1, 2, 3), n_rows=30, n_cols=40, n_rot=0)
    res = ma.pair_metrics(pt, pi, x, ecfg, device="cpu")
    Jt = mlp_jacobians(pt, x[:7])
    Ji = mlp_jacobians(pi, x[:7])
    for layer in ("L1", "L2"):
        for k in (1, 2, 3):
            rows, _ = ma.row_samples(12, k, 30)
            cols, _ = ma.column_samples(k, 40)
            want = sampled_metrics(Jt[layer], Ji[layer], rows, cols)
            got = res["metrics"][f"{layer}/k{k}"]
            for key in ("pr_trained", "pr_init", "pr_ratio", "ipr_trained", "ipr_init",
                        "ipr_ratio", "kl", "n_zero_trained", "n_zero_init", "n_minors"):
                assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-15), (layer, k, key)
            assert got["kl"] == pytest.approx(minor_kl_divergence(
                sampled_minors(Jt[layer], rows, cols), sampled_minors(Ji[layer], rows, cols)), rel=1e-12)
    s = res["samples"]
    assert s["k1"]["n_rows"] == 12 and s["k1"]["rows_exhaustive"]
    assert s["k2"]["n_rows"] == 30 and not s["k2"]["rows_exhaustive"] and s["k3"]["n_cols"] == 40


def test_pair_metrics_identity_and_direction():
    p = _params(10)
    x = _images(4)
    ecfg = ma.MNISTEvalConfig(n_images=4, ks=(2,), n_rows=20, n_cols=20, n_rot=6, rr_images=2,
                              rr_rows=5, rr_cols=7)
    res = ma.pair_metrics(p, p, x, ecfg, device="cpu")["metrics"]
    for layer in ("L1", "L2"):
        r = res[f"{layer}/k2"]
        assert r["pr_ratio"] == pytest.approx(1.0) and r["kl"] == pytest.approx(0.0, abs=1e-12)
        assert r["rr_ratio"] == pytest.approx(1.0)
    # a network whose first layer uses one pixel per neuron (KA-like) is more concentrated
    q = {k: v.clone() for k, v in p.items()}
    q["W1"] = torch.zeros_like(p["W1"])
    q["W1"][torch.arange(10), torch.arange(10) * 7] = 1.0
    r = ma.pair_metrics(q, p, x, ma.MNISTEvalConfig(n_images=4, ks=(1,), n_rows=10, n_cols=784,
                                                   n_rot=0), device="cpu")["metrics"]["L1/k1"]
    assert r["pr_ratio"] > 5 and r["kl"] > 1


def test_rotation_ratios_shared_across_k_equal_per_k_function():
    g = gen(3)
    J = torch.randn(3, 9, 25, generator=g, dtype=D) * torch.rand(3, 9, 1, generator=g, dtype=D)
    J2 = J.flip(1).clone()
    samples = {k: (sample_combinations(9, k, 7, gen(k)), sample_combinations(25, k, 11, gen(10 + k)))
               for k in (1, 2, 3)}
    rots = haar_rotations(9, 10, gen(5))
    got = ma.sampled_rotation_ratios({"a": J, "b": J2}, samples, iter([rots[:3], rots[3:4], rots[4:]]),
                                     max_elements=500)
    for key, JJ in (("a", J), ("b", J2)):
        for k, (r, c) in samples.items():
            want = sampled_rotation_ratio(JJ, k, r, c, rots, reduce=False)
            torch.testing.assert_close(got[key][k], want, rtol=1e-12, atol=0)


def test_rotation_chunks_deterministic_and_special_orthogonal(monkeypatch):
    monkeypatch.setattr(ma, "ROTATION_CHUNK_BYTES", 3 * 6 * 6 * 8)
    a = list(ma.rotation_chunks(6, 8, 1))
    assert [c.shape[0] for c in a] == [3, 3, 2]
    b = torch.cat(list(ma.rotation_chunks(6, 8, 1)))
    assert torch.equal(torch.cat(a), b)
    torch.testing.assert_close(b @ b.transpose(1, 2), torch.eye(6, dtype=D).expand(8, 6, 6))
    assert torch.allclose(torch.linalg.det(b), torch.ones(8, dtype=D))


def test_rotation_chunks_cached_per_process(monkeypatch):
    monkeypatch.setattr(ma, "_ROTATION_CACHE", type(ma._ROTATION_CACHE)())
    a = list(ma.rotation_chunks(7, 5, 3))
    b = list(ma.rotation_chunks(7, 5, 3))
    assert all(x is y for x, y in zip(a, b))                   # drawn once, handed out again
    monkeypatch.setattr(ma, "_ROTATION_CACHE", type(ma._ROTATION_CACHE)())
    monkeypatch.setattr(ma, "ROTATION_CACHE_BYTES", 0)         # too big: drawn afresh
    c = list(ma.rotation_chunks(7, 5, 3))
    assert all(x is not y and torch.equal(x, y) for x, y in zip(a, c))
    assert not ma._ROTATION_CACHE
    monkeypatch.setattr(ma, "ROTATION_CACHE_BYTES", 2 * 7 * 7 * 5 * 8)
    for seed in (4, 5, 6):                                     # oldest sets dropped
        list(ma.rotation_chunks(7, 5, seed))
    assert [key[2] for key in ma._ROTATION_CACHE] == [5, 6]


def test_rotation_ratios_float32_products_close_to_float64():
    g = gen(8)
    J = torch.randn(3, 30, 40, generator=g, dtype=D) * torch.rand(3, 30, 1, generator=g, dtype=D)
    samples = {k: (sample_combinations(30, k, 20, gen(k)), sample_combinations(40, k, 25, gen(20 + k)))
               for k in (1, 2, 3)}
    rots = haar_rotations(30, 12, gen(9))
    want = ma.sampled_rotation_ratios({"a": J}, samples, [rots])["a"]
    got = ma.sampled_rotation_ratios({"a": J}, samples, [rots], dtype=torch.float32)["a"]
    for k in samples:
        assert got[k].dtype == D
        torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=0)
        assert not torch.equal(got[k], want[k])                # the products did run in float32


def test_rr_dtype_leaves_default_cache_keys_unchanged(tmp_path):
    cache = Cache(tmp_path)
    run = MNISTRunConfig(hidden=512, seed=0)
    paper = dict(n_images=128, n_rows=2000, n_cols=400, n_rot=80, rr_images=64, rr_rows=120,
                 rr_cols=120)
    # keys computed on main before the field existed
    assert cache.key(ma.EVAL_KIND, ma.eval_config(run, ma.MNISTEvalConfig())) \
        == "e440271917d1041be050a7ebb68479db"
    run2 = MNISTRunConfig(hidden=128, seed=3, augment=True)
    assert cache.key(ma.EVAL_KIND, ma.eval_config(run2, ma.MNISTEvalConfig(**paper))) \
        == "c9c20dd9dd17d65d192748bc3373c68d"
    f32 = ma.MNISTEvalConfig(**paper, rr_dtype="float32")
    assert cache.key(ma.EVAL_KIND, ma.eval_config(run2, f32)) != "c9c20dd9dd17d65d192748bc3373c68d"
    with pytest.raises(ValueError, match="rr_dtype"):
        ma.MNISTEvalConfig(rr_dtype="float16")


# -- spatial -----------------------------------------------------------------------------------
def test_spatial_selections_and_constraints():
    scfg = ma.MNISTSpatialConfig(n_images=2, radii=(3, 7), n_draws=2, min_distances=(1, 10),
                                 n_cols=60)
    sel = ma.spatial_selections(scfg)
    assert [s["analysis"] for s in sel] == ["ball"] * 4 + ["region"] * 5 + ["distance"] * 2
    assert sel[0]["center"] == sel[1]["center"] and sel[0]["n_pixels"] < sel[1]["n_pixels"]
    for k in (2, 3):
        cs = ma.spatial_samples(scfg, k)
        for s, (c, info) in zip(sel, cs):
            assert c.shape[1] == k and c.shape[0] <= 60
            if s["analysis"] == "ball":
                assert bool(ball_mask(s["center"], s["value"])[c].all())
            elif s["analysis"] == "region":
                assert bool(region_mask(s["value"])[c].all())
            else:
                assert bool(is_separated(c, s["value"]).all())
                assert 0 < info["acceptance_rate"] <= 1
    # a ball of radius 3 holds 29 pixels: all C(29, 2) = 406 > 60 pairs are not exhaustive
    c, info = ma.spatial_samples(scfg, 2)[0]
    assert info["n_total"] == math.comb(sel[0]["n_pixels"], 2)


def test_spatial_pair_per_image_pr(monkeypatch):
    monkeypatch.setitem(ma.JACOBIAN_BYTES, "cpu", 10 * 784 * 8 * 2)      # chunks of 2 images
    pt, pi = _params(10, 0), _params(10, 1)
    x = _images(5)
    scfg = ma.MNISTSpatialConfig(n_images=5, ks=(2,), layers=("L2",), n_rows=15, n_cols=25,
                                 radii=(7,), n_draws=1, regions=("TL",), min_distances=(14,))
    res = ma.spatial_pair(pt, pi, x, scfg, device="cpu")
    pr = res["pr"]["L2/k2"]
    assert pr["trained"].shape == (3, 5)
    rows, _ = ma.row_samples(10, 2, 15)
    for s, (cols, _) in enumerate(ma.spatial_samples(scfg, 2)):
        for name, p in (("trained", pt), ("init", pi)):
            want = participation_ratio_sampled(mlp_jacobians(p, x, ("L2",))["L2"], rows, cols,
                                               reduce=False)
            torch.testing.assert_close(pr[name][s], want, rtol=1e-12, atol=0)
    assert res["samples"]["k2"]["n_cols"].tolist() == [25, 25, 25]


def test_config_validation():
    with pytest.raises(ValueError, match="layers"):
        ma.MNISTEvalConfig(layers=("L3",))
    with pytest.raises(ValueError, match="1..3"):
        ma.MNISTEvalConfig(ks=(4,))
    with pytest.raises(ValueError, match="rr_images"):
        ma.MNISTEvalConfig(n_images=10, rr_images=20)
    with pytest.raises(ValueError, match="regions"):
        ma.MNISTSpatialConfig(regions=("middle",))
    assert ma.MNISTSpatialConfig(ks=[3, 2], radii=[7]).ks == (2, 3)


# -- cached kinds --------------------------------------------------------------------------------
def test_cached_kinds_end_to_end(tmp_path, monkeypatch):
    cache = Cache(tmp_path)
    runs = [MNISTRunConfig(hidden=8, seed=s, augment=a, epochs=1) for a in (False, True) for s in (0, 1)]
    # training through the "mnist_run" kind equals ensure_mnist_runs
    keys = sweep.compute_missing("mnist_run", runs[:2], cache, progress=False)
    assert len(keys) == 2
    direct = ensure_mnist_runs(runs[:2], cache=Cache(tmp_path / "other"), progress=False)
    for c, r in zip(runs[:2], direct):
        assert torch.equal(cache.load("mnist_run", c)["final"]["W1"], r.final["W1"])
    calls = []
    real = ma.pair_metrics
    monkeypatch.setattr(ma, "pair_metrics", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    ecfg = ma.MNISTEvalConfig(n_images=6, ks=(1, 2), n_rows=10, n_cols=20, n_rot=4, rr_images=2,
                              rr_rows=4, rr_cols=5)
    df = ma.evaluate_mnist(runs, ecfg, cache=cache, progress=False)
    assert len(calls) == 4 and len(df) == 4 * 2 * 2
    assert set(df.columns) >= {"hidden", "augment", "seed", "layer", "k", "pr_ratio", "kl",
                               "rr_ratio", "test_acc", "n_rows", "n_cols", "rr_rows"}
    assert df.test_acc.between(0, 1).all() and np.isfinite(df.pr_ratio).all()
    again = ma.evaluate_mnist(runs, ecfg, cache=cache, progress=False)
    assert len(calls) == 4 and again.equals(df)
    scfg = ma.MNISTSpatialConfig(n_images=3, ks=(2,), layers=("L1",), n_rows=6, n_cols=8,
                                 radii=(7, 14), n_draws=2, min_distances=(1, 14))
    sp = ma.spatial_mnist(runs[:1], scfg, cache=cache, progress=False)
    assert len(sp) == (4 + 5 + 2) * 3
    assert set(sp.analysis) == {"ball", "region", "distance"}
    np.testing.assert_allclose(sp.pr_ratio, sp.pr_init / sp.pr_trained)
    table = ma.spatial_sample_table([8], scfg)
    assert len(table) == 2 + 5 + 2 and (table.n_cols <= 8).all()


def test_torch_path_matches_numba_path(monkeypatch):
    """The torch block path (what CUDA tensors take) gives the numba path's numbers."""
    from kag_utils.core import minors
    pt, pi = _params(9, 0), _params(9, 1)
    x = _images(3)
    ecfg = ma.MNISTEvalConfig(n_images=3, ks=(1, 2, 3), n_rows=12, n_cols=30, n_rot=3,
                              rr_images=2, rr_rows=4, rr_cols=6)
    scfg = ma.MNISTSpatialConfig(n_images=3, ks=(2, 3), n_rows=8, n_cols=20, radii=(7,),
                                 n_draws=1, regions=("center",), min_distances=(7,))
    want = ma.pair_metrics(pt, pi, x, ecfg, device="cpu")
    want_sp = ma.spatial_pair(pt, pi, x, scfg, device="cpu")
    monkeypatch.setattr(minors, "USE_NUMBA", False)
    got = ma.pair_metrics(pt, pi, x, ecfg, device="cpu")
    got_sp = ma.spatial_pair(pt, pi, x, scfg, device="cpu")
    for key, w in want["metrics"].items():
        for name, v in w.items():
            assert got["metrics"][key][name] == pytest.approx(v, rel=1e-10, abs=1e-14), (key, name)
    for key, d in want_sp["pr"].items():
        for name in ("trained", "init"):
            torch.testing.assert_close(got_sp["pr"][key][name], d[name], rtol=1e-10, atol=0)


def test_hidden_activity():
    p = _params(6)
    x = _images(3)
    a = ma.hidden_activity(p, x)
    z1 = x @ p["W1"].T + p["b1"]
    assert a["L1"]["z_mean"] == pytest.approx(float(z1.mean()))
    from kag_utils.core.jacobians import gelu_prime
    assert a["L1"]["off"] == pytest.approx(float((gelu_prime(z1).abs() < 0.05).double().mean()))
    q = {k: v.clone() for k, v in p.items()}
    q["b1"] = torch.full_like(p["b1"], 50.0)                    # every unit linear
    assert ma.hidden_activity(q, x)["L1"] == pytest.approx({"off": 0.0, "on": 1.0,
                                                            "z_mean": pytest.approx(50.0, abs=5),
                                                            "z_std": pytest.approx(float(z1.std()), rel=0.2)})
    q["b1"] = torch.full_like(p["b1"], -50.0)                   # every unit off
    assert ma.hidden_activity(q, x, ("L1",))["L1"]["off"] == 1.0


def test_timeline_kind(tmp_path):
    cache = Cache(tmp_path)
    run = MNISTRunConfig(hidden=8, seed=0, epochs=2, checkpoint_every=1)
    ecfg = ma.MNISTEvalConfig(n_images=3, ks=(2,), n_rows=5, n_cols=6, n_rot=0)
    df = ma.timeline_mnist([run], ecfg, cache=cache, progress=False)
    assert sorted(df.epoch.unique()) == [0, 1, 2] and len(df) == 3 * 2
    first = df[df.epoch == 0]
    assert np.allclose(first.pr_ratio, 1.0) and np.allclose(first.kl, 0.0)
    final = ma.evaluate_mnist([run], ecfg, cache=cache, progress=False)
    last = df[df.epoch == 2].set_index("layer")
    for r in final.itertuples():
        assert last.loc[r.layer, "pr_ratio"] == pytest.approx(r.pr_ratio, rel=1e-12)
        assert last.loc[r.layer, "off"] == pytest.approx(r.off_trained)
    with pytest.raises(ValueError, match="checkpoint"):
        ma.timeline_config(MNISTRunConfig(hidden=8, seed=0), ecfg)
