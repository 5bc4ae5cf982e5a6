"""The KAN beside P1's MLP (kag_utils.p1.kan): pykan wrapper, Jacobian, P1 protocol, driver."""
import math
import random

import numpy as np
import pandas as pd
import pytest
import torch

pytest.importorskip("kan")

from kag_utils.core.metrics import p1_metrics  # noqa: E402
from kag_utils.p1.evaluation import EvalConfig  # noqa: E402
from kag_utils.p1.kan import (KANConfig, build_kan, compare_models, ensure_kan_runs,  # noqa: E402
                              first_layer, first_layer_jacobian,
                              first_layer_jacobian_jacrev, kan_inputs, kan_metrics,
                              kan_parameter_count, kan_vs_mlp, train_kan,
                              trainable_parameters)
from kag_utils.p1.models import init_params, n_parameters  # noqa: E402
from kag_utils.pipeline.cache import Cache  # noqa: E402

# a 1-D sin(pi x) ("xor" with one input) that a small KAN fits in a few hundred full-batch steps
SIN = dict(target="xor", n_in=1, width=2, n_train=200, n_val=50, n_test=50, batch_size=200,
           max_epochs=300, patience=50)


def test_parameters_match_the_width_32_mlp():
    model = build_kan(KANConfig())
    n = sum(p.numel() for p in trainable_parameters(model))
    assert n == kan_parameter_count(3, 4, 5, 3) == KANConfig().n_parameters == 160
    assert abs(n - n_parameters(init_params(0, (32,)))) <= 1            # MLP 3-32-1: 161
    assert all(p.dtype == torch.float64 for p in model.parameters())


def test_build_is_deterministic_and_leaves_global_state_alone():
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    expect = (torch.rand(3), np.random.rand(3), random.random())
    torch.manual_seed(7)
    np.random.seed(7)
    random.seed(7)
    dtype = torch.get_default_dtype()
    a, b = build_kan(KANConfig(seed=3)), build_kan(KANConfig(seed=3))
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expect[0]) and np.array_equal(got[1], expect[1])
    assert got[2] == expect[2] and torch.get_default_dtype() == dtype
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items()):
        assert torch.equal(v, w), k
    c = build_kan(KANConfig(seed=4))
    assert not torch.equal(a.act_fun[0].coef, c.act_fun[0].coef)


def test_first_layer_and_its_jacobian():
    model = build_kan(KANConfig(seed=1))
    with torch.no_grad():                       # make the splines non-trivial
        model.act_fun[0].coef.normal_(generator=torch.Generator().manual_seed(0))
    x = torch.rand(40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) * 2 - 1
    model(x)
    torch.testing.assert_close(first_layer(model, x), model.acts[1], rtol=0, atol=0)
    J = first_layer_jacobian(model, x)                                  # [B, m, n]
    assert J.shape == (40, 4, 3)
    torch.testing.assert_close(J, first_layer_jacobian_jacrev(model, x), rtol=1e-12, atol=1e-12)
    h = 1e-6                                    # central differences, column by column
    for i in range(3):
        e = torch.zeros(3, dtype=torch.float64)
        e[i] = h
        fd = (first_layer(model, x + e) - first_layer(model, x - e)).detach() / (2 * h)
        torch.testing.assert_close(J[:, :, i], fd, rtol=1e-6, atol=1e-7)
    # a KAN edge depends on its own input only: column i of J is a function of x_i alone
    x2 = x.clone()
    x2[:, 1:] = -x2[:, 1:].flip(0)
    torch.testing.assert_close(first_layer_jacobian(model, x2)[:, :, 0], J[:, :, 0])


def test_kan_fits_sin_under_the_p1_protocol():
    p = train_kan(KANConfig(**SIN))
    assert p["r2"]["train"] > 0.99 and p["r2"]["test"] > 0.99, p["r2"]
    mon = p["history"]["train_batch_mse"]
    assert math.isnan(float(mon[0])) and len(mon) == p["stop_epoch"] + 1
    assert p["best_epoch"] == int(torch.argmin(mon[1:])) + 1
    assert p["stop_epoch"] == p["best_epoch"] + SIN["patience"] or p["stop_epoch"] == SIN["max_epochs"]


def test_cached_runs_rebuild_and_metrics(tmp_path):
    cfg = KANConfig(**{**SIN, "max_epochs": 20})
    cache = Cache(tmp_path)
    (run,) = ensure_kan_runs([cfg], cache=cache)
    (again,) = ensure_kan_runs([cfg], cache=cache)                      # from the cache
    assert again.payload["wall_time_s"] == run.payload["wall_time_s"]
    x, y = kan_inputs(cfg, "test", cfg.n_test), None
    from kag_utils.p1.targets import make_dataset
    y = make_dataset(cfg.target, n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test,
                     n_in=1)["test"][1]
    with torch.no_grad():
        pred = again.model("final")(x)[:, 0]
    r2 = 1 - float(((pred - y) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert r2 == pytest.approx(run.r2["test"], abs=1e-12)
    # metrics of a 3-input KAN: p1_metrics of its first-layer Jacobians (trained vs init)
    cfg3 = KANConfig(target="xor", max_epochs=3, n_train=100, n_val=10, n_test=10)
    (run3,) = ensure_kan_runs([cfg3], cache=cache)
    ecfg = EvalConfig(n_x=60, ks=(1, 2), q1s=(1e-2,), n_rot=4, n_x_rot=20)
    got = kan_metrics(run3, ecfg)
    xs = kan_inputs(cfg3, "train", 60)
    ref = p1_metrics(first_layer_jacobian(run3.model("final"), xs),
                     first_layer_jacobian(run3.model("init"), xs), (1, 2), (1e-2,))
    for key, v in ref.items():
        assert got[key] == pytest.approx(v, nan_ok=True), key
    assert {"rr_k1", "rr_norm_k2"} <= set(got) and got["rr_norm_k2"] > 0


def test_compare_models_arithmetic():
    df = pd.DataFrame({"family": ["kan"] * 3 + ["mlp"] * 2, "target": "xor",
                       "pr_norm_k2": [1.0, 2.0, 3.0, 5.0, 7.0]})
    r = compare_models(df, metrics=("pr_norm_k2", "absent")).iloc[0]
    assert r["kan_mean"] == 2.0 and r["kan_se"] == pytest.approx(1 / math.sqrt(3))
    assert r["mlp_mean"] == 6.0 and r["mlp_se"] == pytest.approx(math.sqrt(2) / math.sqrt(2))
    assert r["diff"] == -4.0 and r["z"] == pytest.approx(-4.0 / math.hypot(1 / math.sqrt(3), 1))
    assert len(compare_models(df, metrics=("pr_norm_k2", "absent"))) == 1


def test_kan_vs_mlp_driver(tmp_path):
    ecfg = EvalConfig(n_x=50, ks=(1, 2), q1s=(1e-3,), n_rot=0)
    short = dict(max_epochs=3, n_train=100, n_val=10, n_test=10)
    df = kan_vs_mlp(("xor", "random"), (0, 1), ecfg=ecfg, kan_kwargs=short, mlp_kwargs=short,
                    cache=Cache(tmp_path))
    assert len(df) == 8 and set(df.family) == {"kan", "mlp"}
    assert set(df[df.family == "mlp"].n_parameters) == {161}
    assert set(df[df.family == "kan"].n_parameters) == {160}
    assert df[["pr_norm_k2", "zero_frac_k1_q0.001", "divergence_k2"]].notna().all().all()
    cmp = compare_models(df)
    assert set(cmp.target) == {"xor", "random"} and (cmp.n_kan == 2).all()
