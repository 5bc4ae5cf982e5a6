"""P2 MNIST model: initialisation, forward, closed-form Jacobians, ensemble training, cached runs."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from kag_utils.mnist import models as mm
from kag_utils.pipeline.cache import Cache
from kag_utils.mnist.data import MNISTData, load_mnist
from kag_utils.core.threads import torch_threads
from kag_utils.mnist.models import (MNISTRunConfig, build_module, ensure_mnist_runs, forward,
                                    init_params, mlp_jacobians, run_configs, train_ensemble)


def _synthetic(n_train=200, n_test=60, seed=0) -> MNISTData:
    """Random 'digits' (uint8) with labels tied to the brightness of one image half."""
    g = torch.Generator().manual_seed(seed)
    imgs = torch.randint(0, 256, (n_train + n_test, 28, 28), generator=g, dtype=torch.uint8)
    labels = (imgs[:, :, :14].float().mean((1, 2)) * 10 / 256).long().clamp(0, 9)
    return MNISTData("embedded", imgs[:n_train], labels[:n_train], imgs[n_train:], labels[n_train:],
                     "synthetic test data")


def _random_params(h, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    p = init_params(h, seed, dtype)
    for k in ("b1", "b2", "b3"):
        p[k] = 0.3 * torch.randn(p[k].shape, generator=g, dtype=dtype)
    return p


# -- model -----------------------------------------------------------------------------------
def test_init_is_he_normal_with_zero_biases():
    p = init_params(256, seed=0, dtype=torch.float64)
    assert p["W1"].shape == (256, 784) and p["W2"].shape == (256, 256) and p["W3"].shape == (10, 256)
    assert list(p) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for name, fan_in in (("W1", 784), ("W2", 256), ("W3", 256)):
        assert p[name].std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
        assert abs(p[name].mean().item()) < 0.1 * math.sqrt(2 / fan_in)
    for b in ("b1", "b2", "b3"):
        assert torch.count_nonzero(p[b]) == 0
    q = init_params(256, seed=0, dtype=torch.float32)
    assert torch.equal(q["W2"], p["W2"].float())
    assert not torch.equal(init_params(256, seed=1)["W1"], q["W1"])


def test_forward_matches_nn_module_and_ensemble_axis():
    p = _random_params(16)
    x = torch.randn(5, 784, dtype=torch.float64)
    logits, h1, h2 = forward(p, x, return_hidden=True)
    torch.testing.assert_close(logits, build_module(p)(x), rtol=1e-12, atol=1e-12)
    assert h1.shape == h2.shape == (5, 16)
    q = _random_params(16, seed=1)
    stacked = {k: torch.stack([p[k], q[k]]) for k in p}
    both = forward(stacked, x)                                  # shared x
    torch.testing.assert_close(both[1], forward(q, x), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(mm._ensemble_forward(mm._transpose_weights(stacked),
                                                    x.expand(2, 5, 784).contiguous()), both)


def test_gelu_prime():
    z = torch.linspace(-6, 6, 101, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.nn.functional.gelu(z).sum(), z)
    from kag_utils.core.jacobians import gelu_prime
    torch.testing.assert_close(gelu_prime(z.detach()), g, rtol=1e-13, atol=1e-14)


def test_closed_form_jacobians_match_autograd():
    p = _random_params(12)
    x = torch.randn(6, 784, dtype=torch.float64)
    jac = mlp_jacobians(p, x)

    def h(layer):
        def f(xi):
            _, h1, h2 = forward(p, xi[None], return_hidden=True)
            return (h1 if layer == "L1" else h2)[0]
        return f

    for layer in ("L1", "L2"):
        ref = torch.func.vmap(torch.func.jacrev(h(layer)))(x)
        assert jac[layer].shape == (6, 12, 784)
        torch.testing.assert_close(jac[layer], ref, rtol=1e-12, atol=1e-13)
        one = torch.autograd.functional.jacobian(h(layer), x[2], vectorize=True)
        torch.testing.assert_close(jac[layer][2], one, rtol=1e-12, atol=1e-13)
    assert set(mlp_jacobians(p, x, layers=("L2",))) == {"L2"}
    with pytest.raises(ValueError):
        mlp_jacobians(p, x, layers=("L3",))


# -- configs ---------------------------------------------------------------------------------
def test_config_validation_and_grid():
    with pytest.raises(ValueError):
        MNISTRunConfig(hidden=0, seed=0)
    with pytest.raises(ValueError):
        MNISTRunConfig(hidden=8, seed=0, data="cifar")
    with pytest.raises(ValueError):
        MNISTRunConfig(hidden=8, seed=0, dtype="float16")
    c = MNISTRunConfig(hidden=8, seed=3, betas=[0.9, 0.98])
    assert c.betas == (0.9, 0.98) and c.group_key() == MNISTRunConfig(hidden=8, seed=0)
    grid = run_configs([32, 64], range(2), epochs=3)
    assert len(grid) == 8 and {g.epochs for g in grid} == {3}


# -- training ----------------------------------------------------------------------------------
@pytest.mark.parametrize("n_train, hidden", [(200, 16), (203, 48), (203, 40)])  # last batch 8/11
def test_member_in_ensemble_equals_member_alone_bitwise(n_train, hidden):
    """Bitwise when a member's hidden block (batch x h) is a whole number of SIMD chunks, which
    h % 16 == 0 guarantees (all P2 widths); else GELU's vectorised and scalar-tail erf paths
    can differ in the last bit (h = 40 with a last batch of 11)."""
    data = _synthetic(n_train)
    base = MNISTRunConfig(hidden=hidden, seed=0, augment=True, epochs=2, batch_size=64,
                          dtype="float64")
    cfgs = [dataclasses.replace(base, seed=s) for s in (0, 1, 2)]
    with torch_threads(1):
        together = train_ensemble(cfgs, data, device="cpu")
        alone = train_ensemble([cfgs[1]], data, device="cpu")[0]
    for state in ("initial", "final"):
        for k in mm.PARAM_NAMES:
            if hidden % 16 == 0:
                assert torch.equal(together[1][state][k], alone[state][k]), (state, k)
            else:
                torch.testing.assert_close(together[1][state][k], alone[state][k],
                                           rtol=1e-13, atol=1e-15)
    if hidden % 16 == 0:
        assert torch.equal(together[1]["curve"]["train_loss"], alone["curve"]["train_loss"])
        assert together[1]["test_acc"] == alone["test_acc"]
    assert not torch.equal(together[0]["final"]["W1"], together[1]["final"]["W1"])
    assert together[1]["meta"]["ensemble_seeds"] == [0, 1, 2]


def test_augmented_and_standard_share_init_and_differ_after_training():
    data = _synthetic()
    std = MNISTRunConfig(hidden=8, seed=4, epochs=1, batch_size=50, dtype="float64")
    aug = dataclasses.replace(std, augment=True)
    (a,), (b,) = train_ensemble([std], data, "cpu"), train_ensemble([aug], data, "cpu")
    assert torch.equal(a["initial"]["W1"], b["initial"]["W1"])
    assert not torch.equal(a["final"]["W1"], b["final"]["W1"])
    assert a["curve"]["test_acc"].shape == (1,)
    assert 0 <= a["test_acc_initial"] <= 1
    with pytest.raises(ValueError, match="only in their seed"):
        train_ensemble([std, aug], data, "cpu")


def test_checkpoints():
    data = _synthetic(100, 20)
    c = MNISTRunConfig(hidden=8, seed=0, epochs=3, batch_size=50, checkpoint_every=2)
    (p,) = train_ensemble([c], data, "cpu")
    ck = p["checkpoints"]
    assert ck["epochs"].tolist() == [0, 2, 3]
    assert ck["params"]["W1"].shape == (3, 8, 784)
    assert torch.equal(ck["params"]["W1"][0], p["initial"]["W1"])
    assert torch.equal(ck["params"]["b3"][-1], p["final"]["b3"])
    assert train_ensemble([dataclasses.replace(c, checkpoint_every=0)], data, "cpu")[0]["checkpoints"] is None


def test_ensure_runs_trains_only_missing_grouped_by_seed(tmp_path, monkeypatch):
    data = _synthetic(100, 20)
    calls = []
    real = mm.train_ensemble

    def spy(configs, *args, **kwargs):
        calls.append([c.seed for c in configs])
        return real(configs, *args, **kwargs)
    monkeypatch.setattr(mm, "train_ensemble", spy)
    cache = Cache(tmp_path)
    cfgs = run_configs([8, 12], seeds=[0, 1], augment=[False], epochs=1, batch_size=50)
    runs = ensure_mnist_runs(cfgs[:1], cache=cache, data=data, progress=False)
    assert calls == [[0]]
    runs = ensure_mnist_runs(cfgs + cfgs[:1], cache=cache, data=data, progress=False, threads=1)
    assert calls == [[0], [1], [0, 1]]                     # h=8 seed 1 alone, h=12 as a pair
    assert [r.config for r in runs] == cfgs + cfgs[:1]
    again = ensure_mnist_runs(cfgs, cache=str(tmp_path), data=data, progress=False)
    assert len(calls) == 3
    for r, s in zip(runs, again):
        assert torch.equal(r.final["W2"], s.final["W2"]) and r.test_acc == s.test_acc
    r = again[3]
    assert r.params("initial")["W1"].shape == (12, 784)
    assert r.payload["data"]["fingerprint"] == data.fingerprint
    x = data.inputs("test", torch.float64)[:3]
    assert r.jacobians(x)["L2"].shape == (3, 12, 784) and r.jacobians(x)["L2"].dtype == torch.float64
    torch.testing.assert_close(r.module()(data.inputs("test")[:4]), forward(r.final, data.inputs("test")[:4]))
    # loop mode trains each seed on its own
    ensure_mnist_runs(run_configs([8], [5, 6], [True], epochs=1, batch_size=50), cache=cache,
                      data=data, progress=False, ensemble=False)
    assert calls[3:] == [[5], [6]]
    # a cache entry made from other data under the same config is refused
    with pytest.raises(ValueError, match="different 'embedded' data"):
        ensure_mnist_runs(cfgs[:1], cache=cache, data=_synthetic(100, 20, seed=9), progress=False)


def test_embedded_training_smoke():
    data = load_mnist()
    c = MNISTRunConfig(hidden=32, seed=0, epochs=2)
    (p,) = train_ensemble([c], data, "cpu")
    assert p["test_acc"] > 0.75 > p["test_acc_initial"]
    assert p["curve"]["train_loss"][1] < p["curve"]["train_loss"][0]
    assert p["data"]["n_train"] == 4000


def _write_idx_folder(folder, n_train=40, n_test=10, seed=0):
    """Four gzipped IDX files of random images and labels in ``folder`` (Debian's layout)."""
    import gzip
    import struct

    import numpy as np

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        for kind, arr in (("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                          ("labels-idx1", rng.integers(0, 10, n, dtype=np.uint8))):
            head = struct.pack(">I", 0x0800 + arr.ndim) + b"".join(struct.pack(">I", d) for d in arr.shape)
            (folder / f"{prefix}-{kind}-ubyte.gz").write_bytes(gzip.compress(head + arr.tobytes()))


def test_fashion_runs_read_fashion_folder_not_mnist_dir(tmp_path, monkeypatch):
    """data='fashion' runs load from $KAG_FASHION_MNIST_DIR even when ensure_mnist_runs is
    given (or the environment holds) a full-MNIST data_dir."""
    _write_idx_folder(tmp_path / "fashion")
    monkeypatch.setenv("KAG_FASHION_MNIST_DIR", str(tmp_path / "fashion"))
    monkeypatch.setenv("KAG_MNIST_DIR", str(tmp_path / "no-mnist-here"))
    cfg = MNISTRunConfig(hidden=8, seed=0, epochs=1, batch_size=20, data="fashion")
    (run,) = ensure_mnist_runs([cfg], cache=Cache(tmp_path / "cache"), progress=False,
                               data_dir=tmp_path / "no-mnist-here")
    expected = load_mnist("fashion")
    assert run.payload["data"]["source"] == "fashion"
    assert run.payload["data"]["fingerprint"] == expected.fingerprint
    assert run.payload["data"]["n_train"] == 40
