"""Oscillatory activations (P1 §V): sigma and sigma' against autograd, the closed-form
Jacobians (one layer, per layer, composed) against torch.func.jacrev, the trainer's
hand-written gradients against autograd, ensemble == alone, and the cache keys (GeLU configs
keep the keys they had before the activation field existed)."""
import math

import pytest
import torch

from kag_utils.core.activations import (GELU, Activation, act_backward, act_forward, act_prime,
                                        gelu)
from kag_utils.core.jacobians import mlp_jacobian, mlp_layer_jacobians
from kag_utils.p1.models import forward, hidden_features, init_params
from kag_utils.p1.targets import make_dataset
from kag_utils.p1.training import (Member, _autograd_grads, _manual_grads, flatten, train_ensemble,
                                   train_one, unflatten)
from kag_utils.pipeline.cache import canonical, config_key

ACTS = [GELU, Activation("gelu_sin", 0.1, 10.0), Activation("x_sin", 0.1, 10.0),
        Activation("x_sin", 0.5, 3.0)]
IDS = [str(a) for a in ACTS]


def reference_sigma(act, z):
    """sigma written out from its definition (torch ops only, differentiable)."""
    if act.name == "gelu":
        return z * 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    osc = act.a * torch.sin(act.b * z)
    return (reference_sigma(GELU, z) if act.name == "gelu_sin" else z) + osc


# ------------------------------------------------------------------------- sigma, sigma'
def test_activation_values_are_validated():
    assert Activation() == GELU and str(GELU) == "gelu"
    assert Activation("x_sin", 1, 10).a == 1.0 and isinstance(Activation("x_sin", 1, 10).b, float)
    with pytest.raises(ValueError, match="unknown activation"):
        Activation("relu")
    with pytest.raises(ValueError, match="no parameters"):
        Activation("gelu", 0.1, 10.0)
    with pytest.raises(ValueError, match="finite"):
        Activation("x_sin", math.inf, 1.0)
    with pytest.raises(ValueError, match="must be an Activation"):
        act_forward("gelu", torch.zeros(2))


@pytest.mark.parametrize("act", ACTS, ids=IDS)
def test_sigma_and_derivative_match_definition_and_autograd(act):
    z = torch.linspace(-4, 4, 801, dtype=torch.float64).requires_grad_(True)
    ref = reference_sigma(act, z)
    torch.testing.assert_close(act_forward(act, z.detach()), ref.detach(), rtol=0, atol=1e-14)
    (g,) = torch.autograd.grad(ref.sum(), z)
    torch.testing.assert_close(act_prime(act, z.detach()), g, rtol=0, atol=1e-13)
    dh = torch.randn(801, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(act_backward(act, dh, z.detach()), dh * g, rtol=0, atol=1e-13)


def test_gelu_keeps_torch_kernels_bitwise():
    z = torch.randn(5, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    dh = torch.randn_like(z)
    assert torch.equal(act_forward(GELU, z), torch.nn.functional.gelu(z))
    assert torch.equal(act_backward(GELU, dh, z), torch.ops.aten.gelu_backward(dh, z))
    torch.testing.assert_close(gelu(z), torch.nn.functional.gelu(z), rtol=0, atol=1e-15)


def test_x_sin_is_not_monotone_for_large_ab():
    """a b > 1 makes sigma' change sign (P1 §V's 0.1 sin(10 x) sits at a b = 1 exactly)."""
    z = torch.linspace(-3, 3, 2001, dtype=torch.float64)
    assert act_prime(Activation("x_sin", 0.5, 3.0), z).min() < 0
    assert act_prime(Activation("x_sin", 0.1, 10.0), z).min() >= -1e-12


# ------------------------------------------------------------------------------ Jacobians
@pytest.mark.parametrize("act", ACTS, ids=IDS)
def test_mlp_jacobian_matches_jacrev(act):
    gen = torch.Generator().manual_seed(2)
    A = torch.randn(3, 7, dtype=torch.float64, generator=gen)
    a = torch.randn(7, dtype=torch.float64, generator=gen)
    x = torch.rand(20, 3, dtype=torch.float64, generator=gen) * 2 - 1
    ref = torch.func.vmap(torch.func.jacrev(lambda v: reference_sigma(act, v @ A + a)))(x)
    J = mlp_jacobian(x, A, a, act)                                       # [B, m, n]
    assert J.shape == (20, 7, 3)
    torch.testing.assert_close(J, ref, rtol=1e-12, atol=1e-13)
    # ensemble form
    AE, aE = torch.stack([A, 2 * A]), torch.stack([a, -a])
    JE = mlp_jacobian(x, AE, aE, act)                                    # [E, B, m, n]
    torch.testing.assert_close(JE[1], mlp_jacobian(x, 2 * A, -a, act), rtol=1e-14, atol=0)


def test_mlp_jacobian_default_is_gelu_bitwise():
    gen = torch.Generator().manual_seed(3)
    A, a = torch.randn(3, 8, dtype=torch.float64, generator=gen), torch.randn(8, dtype=torch.float64, generator=gen)
    x = torch.rand(10, 3, dtype=torch.float64, generator=gen)
    assert torch.equal(mlp_jacobian(x, A, a), mlp_jacobian(x, A, a, GELU))


@pytest.mark.parametrize("act", ACTS[:3], ids=IDS[:3])
@pytest.mark.parametrize("hidden", [(5,), (6, 4), (4, 5, 3)])
def test_layer_jacobians_match_jacrev(act, hidden):
    params = init_params(7, hidden, 3, 1)
    gen = torch.Generator().manual_seed(4)
    for p in params:                                   # non-zero biases
        p["b"] = 0.3 * torch.randn(p["b"].shape, dtype=torch.float64, generator=gen)
    x = torch.rand(9, 3, dtype=torch.float64, generator=gen) * 2 - 1
    Ws, bs = [p["W"] for p in params[:-1]], [p["b"] for p in params[:-1]]
    own, comp = mlp_layer_jacobians(x, Ws, bs, act)
    assert len(own) == len(comp) == len(hidden)

    def h_upto(l):                                     # x -> h_l (reference map)
        def f(v):
            for W, b in zip(Ws[:l + 1], bs[:l + 1]):
                v = reference_sigma(act, v @ W + b)
            return v
        return f

    h_prev = x
    for l, m in enumerate(hidden):
        ref_c = torch.func.vmap(torch.func.jacrev(h_upto(l)))(x)         # [B, m_l, n]
        f_own = lambda v, W=Ws[l], b=bs[l]: reference_sigma(act, v @ W + b)  # noqa: E731
        ref_o = torch.func.vmap(torch.func.jacrev(f_own))(h_prev)         # [B, m_l, m_{l-1}]
        assert comp[l].shape == (9, m, 3) and own[l].shape == (9, m, h_prev.shape[1])
        torch.testing.assert_close(comp[l], ref_c, rtol=1e-12, atol=1e-13)
        torch.testing.assert_close(own[l], ref_o, rtol=1e-12, atol=1e-13)
        h_prev = f_own(h_prev)
    torch.testing.assert_close(own[0], mlp_jacobian(x, Ws[0], bs[0], act), rtol=0, atol=0)


def test_layer_jacobians_reject_bad_shapes():
    W = torch.zeros(3, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="one bias per weight"):
        mlp_layer_jacobians(torch.zeros(2, 3), [W], [])
    with pytest.raises(ValueError, match="layer 2"):
        mlp_layer_jacobians(torch.zeros(2, 3, dtype=torch.float64), [W, W],
                            [torch.zeros(4, dtype=torch.float64)] * 2)


# ---------------------------------------------------------------------------- the trainer
@pytest.mark.parametrize("act", ACTS, ids=IDS)
@pytest.mark.parametrize("hidden", [(8,), (8, 8)])
def test_manual_gradients_match_autograd(act, hidden):
    shapes = [tuple(p["W"].shape) for p in init_params(0, hidden)]
    theta = torch.stack([flatten(init_params(s, hidden)) for s in range(3)])
    theta = theta + 0.1 * torch.randn(theta.shape, dtype=torch.float64,
                                      generator=torch.Generator().manual_seed(0))
    x = torch.rand(3, 30, 3, dtype=torch.float64) * 2 - 1
    y = torch.rand(3, 30, dtype=torch.float64)
    g_manual, sse_manual = _manual_grads(unflatten(theta, shapes), x, y, act)
    g_auto, sse_auto = _autograd_grads(theta, shapes, x, y, act)
    torch.testing.assert_close(g_manual, g_auto, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(sse_manual, sse_auto, rtol=1e-14, atol=0)
    # and against the model's own forward with plain autograd
    th = theta[1].clone().requires_grad_(True)
    loss = ((forward(unflatten(th, shapes), x[1], act).squeeze(-1) - y[1]) ** 2).mean()
    (g,) = torch.autograd.grad(loss, th)
    torch.testing.assert_close(g_manual[1], g, rtol=1e-12, atol=1e-14)


def member(seed, target="xor", hidden=(8,), **kw):
    d = make_dataset(target, None, n_train=120, n_val=40, n_test=40)
    return Member(init_params(seed, hidden), *d["train"], *d["val"], *d["test"], seed=seed, **kw)


def test_training_with_oscillatory_activation():
    """Manual and autograd backends agree; the activation changes the trajectory; a member in
    an ensemble equals the member alone, bitwise."""
    act = Activation("x_sin", 0.1, 10.0)
    m = member(0, max_epochs=8, patience=100)
    man = train_one(m, batch_size=32, activation=act)
    auto = train_one(m, batch_size=32, activation=act, backend="autograd")
    torch.testing.assert_close(flatten(man.last_params), flatten(auto.last_params),
                               rtol=1e-10, atol=1e-12)
    gel = train_one(m, batch_size=32)
    assert not torch.allclose(flatten(gel.last_params), flatten(man.last_params))
    # the recorded R^2 is that of the model with the activation
    x, y = m.x_train, m.y_train
    pred = forward(man.last_params, x, act).squeeze(-1)
    r2 = 1 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert float(man.history["train_r2"][-1]) == pytest.approx(float(r2), rel=1e-12)
    members = [member(s, t, max_epochs=10, patience=2 + s) for s, t in
               enumerate(("xor", "linear", "random"))]
    ens = train_ensemble(members, batch_size=32, activation=act)
    for mm, r in zip(members, ens):
        alone = train_one(mm, batch_size=32, activation=act)
        assert torch.equal(flatten(r.params), flatten(alone.params))
        assert r.stop_epoch == alone.stop_epoch
    with pytest.raises(ValueError, match="Activation"):
        train_one(m, activation="x_sin")


def test_hidden_features_use_the_activation():
    p = init_params(0, (4,))
    x = torch.rand(5, 3, dtype=torch.float64)
    act = Activation("gelu_sin", 0.2, 5.0)
    z = x @ p[0]["W"] + p[0]["b"]
    torch.testing.assert_close(hidden_features(p, x, act), reference_sigma(act, z), rtol=0, atol=1e-14)


# ------------------------------------------------------------------------------ cache keys
OLD_RUN_KEY = "3844dd4f55a51dd62e9d3e4ac6852a82"     # RunConfig() before the field existed


def test_default_activation_keeps_the_old_cache_key():
    from kag_utils.p1.evaluation import EvalConfig, rr_config
    from kag_utils.p1.runs import RunConfig

    c = RunConfig()
    assert config_key("p1_run", c) == OLD_RUN_KEY
    assert config_key("p1_run", RunConfig(activation=GELU)) == OLD_RUN_KEY
    assert config_key("p1_run", RunConfig(activation="gelu")) == OLD_RUN_KEY
    assert "activation" not in canonical(c)
    osc = RunConfig(activation=Activation("gelu_sin", 0.1, 10.0))
    assert config_key("p1_run", osc) != OLD_RUN_KEY
    assert canonical(osc)["activation"] == {"a": 0.1, "b": 10.0, "name": "gelu_sin"}
    assert config_key("p1_run", osc) != config_key(
        "p1_run", RunConfig(activation=Activation("gelu_sin", 0.1, 11.0)))
    assert config_key("p1_run", osc) != config_key(
        "p1_run", RunConfig(activation=Activation("x_sin", 0.1, 10.0)))
    # the initial model's rotation ratios: shared across targets, not across activations
    e = EvalConfig(n_x=100, n_rot=5, n_x_rot=50)
    key = lambda cfg: config_key("p1_rr", rr_config(cfg, "init", e))  # noqa: E731
    assert key(osc) == key(osc.replace(target="random"))
    assert key(osc) != key(c) and key(c) == key(c.replace(target="random"))
    assert "activation" not in rr_config(c, "init", e)["model"]["init"]
    with pytest.raises(ValueError, match="Activation"):
        RunConfig(activation="x_sin")


def test_omitted_default_fields_leave_canonical_equal_to_asdict():
    """canonical() of configs without a non-default omitted field is the old asdict form."""
    import dataclasses

    from kag_utils.p1.runs import InputMap, RunConfig

    for c in (RunConfig(), RunConfig(target="lambda_xor", target_param=1.2, hidden=(32, 32)),
              RunConfig(input_map=InputMap(RunConfig(seed=3)))):
        d = dataclasses.asdict(c)
        d.pop("activation")
        if d["input_map"] is not None:
            d["input_map"]["base"].pop("activation")
        assert canonical(c) == canonical(d)
    nested = RunConfig(input_map=InputMap(RunConfig(activation=Activation("x_sin", 0.1, 10.0))))
    assert canonical(nested)["input_map"]["base"]["activation"]["name"] == "x_sin"
    assert "activation" not in canonical(nested)
