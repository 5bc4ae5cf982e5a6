"""Initialisation (A-04, A-05), forward pass (II.2) and ensemble stacking."""
import math

import pytest
import torch

from kag_utils.p1.models import (first_layer, forward, hidden_features, init_params, member,
                              n_parameters, predict, stack_params, unstack_params, widths_of)


def test_init_variance_is_one_over_fan_in_and_biases_zero():
    models = [init_params(s, (264,)) for s in range(20)]
    W0 = torch.cat([m[0]["W"].flatten() for m in models])
    W1 = torch.cat([m[1]["W"].flatten() for m in models])
    assert abs(float(W0.var()) * 3 - 1) < 0.04          # 15,840 draws of N(0, 1/3)
    assert abs(float(W1.var()) * 264 - 1) < 0.08        # 5,280 draws of N(0, 1/264)
    assert abs(float(W0.mean())) < 0.02
    assert all(float(p["b"].abs().max()) == 0 for m in models for p in m)
    deep = init_params(0, (32, 32))
    assert [tuple(p["W"].shape) for p in deep] == [(3, 32), (32, 32), (32, 1)]
    W_mid = torch.cat([init_params(s, (32, 32))[1]["W"].flatten() for s in range(10)])
    assert abs(float(W_mid.var()) * 32 - 1) < 0.08


def test_init_depends_on_seed_and_dtype_rounds():
    a = init_params(2, (16,))
    assert all(torch.equal(u[k], v[k]) for u, v in zip(a, init_params(2, (16,))) for k in "Wb")
    assert not torch.equal(a[0]["W"], init_params(3, (16,))[0]["W"])
    f32 = init_params(2, (16,), dtype=torch.float32)
    assert f32[0]["W"].dtype == torch.float32 and torch.equal(f32[0]["W"], a[0]["W"].float())


def test_forward_matches_formula():
    p = init_params(0, (8,))
    p[0]["b"] = torch.linspace(-1, 1, 8, dtype=torch.float64)
    p[1]["b"] = torch.tensor([0.3], dtype=torch.float64)
    x = torch.rand(20, 3, dtype=torch.float64) * 2 - 1
    A, a = first_layer(p)
    z = x @ A + a
    gelu = z * 0.5 * (1 + torch.erf(z / math.sqrt(2)))          # exact erf GeLU
    expected = gelu @ p[1]["W"][:, 0] + p[1]["b"]
    torch.testing.assert_close(predict(p, x), expected, rtol=1e-14, atol=1e-14)
    torch.testing.assert_close(hidden_features(p, x), gelu, rtol=1e-14, atol=1e-14)
    assert n_parameters(p) == 3 * 8 + 8 + 8 + 1 and widths_of(p) == (8,)


def test_stack_unstack_and_ensemble_forward():
    models = [init_params(s, (8, 8)) for s in range(3)]
    ens = stack_params(models)
    assert ens[0]["W"].shape == (3, 3, 8) and ens[2]["b"].shape == (3, 1)
    back = unstack_params(ens)
    assert all(torch.equal(u[k], v[k]) for m, n in zip(models, back) for u, v in zip(m, n) for k in "Wb")
    assert torch.equal(member(ens, 1)[1]["W"], models[1][1]["W"])
    x = torch.rand(3, 10, 3, dtype=torch.float64)
    out = forward(ens, x)
    for i in range(3):
        torch.testing.assert_close(out[i], forward(models[i], x[i]), rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match="share their shapes"):
        stack_params([init_params(0, (8,)), init_params(0, (4,))])
    with pytest.raises(ValueError, match="positive"):
        init_params(0, ())
