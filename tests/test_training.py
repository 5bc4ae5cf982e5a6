"""Batched ensemble trainer: ensemble == alone (bitwise), gradients and Adam vs torch, early
stopping, frozen members, monitors, checkpoints, dtypes, R^2 and critical batch size."""
import math

import numpy as np
import pytest
import torch

from kag_utils.p1 import training
from kag_utils.p1.models import init_params, predict
from kag_utils.p1.targets import make_dataset
from kag_utils.core.threads import torch_threads
from kag_utils.p1.training import (HISTORY_KEYS, Member, _autograd_grads, _manual_grads, adam_step_,
                                critical_batch_size, flatten, grid_values, r2_score,
                                steps_to_criterion, train_ensemble, train_one, unflatten)

SIZES = dict(n_train=120, n_val=40, n_test=40)


def make_member(seed=0, target="xor", param=None, hidden=(8,), dtype=torch.float64, **kw):
    d = make_dataset(target, param, dtype=dtype, **SIZES)
    return Member(init_params(seed, hidden, dtype=dtype), *d["train"], *d["val"], *d["test"],
                  seed=seed, **kw)


def same_params(a, b):
    return all(torch.equal(u[k], v[k]) for u, v in zip(a, b) for k in "Wb")


def same_result(a, b):
    return (same_params(a.params, b.params) and same_params(a.last_params, b.last_params)
            and (a.best_epoch, a.stop_epoch) == (b.best_epoch, b.stop_epoch)
            and all(torch.equal(a.history[k].nan_to_num(7.0), b.history[k].nan_to_num(7.0))
                    for k in a.history)
            and torch.equal(a.checkpoints["epoch"], b.checkpoints["epoch"]))


@pytest.mark.parametrize("hidden,batch,dtype,chunk", [
    ((8,), 32, torch.float64, None), ((8, 8), 50, torch.float64, None),
    ((8, 8), 32, torch.float32, None), ((264,), 64, torch.float64, 600)])
def test_member_in_ensemble_equals_member_alone_bitwise(hidden, batch, dtype, chunk, monkeypatch):
    """Mixed targets, monitors and stopping times: members leave the ensemble at different
    epochs (the working tensors shrink), batches are partial (120 = 3 x 32 + 24); with
    ``chunk`` the ensemble is also processed in member chunks of 1-2."""
    kw = dict(hidden=hidden, dtype=dtype)
    members = [make_member(0, "xor", max_epochs=25, patience=4, **kw),
               make_member(1, "random", max_epochs=25, patience=3, monitor="train_mse", **kw),
               make_member(2, "linear", max_epochs=12, **kw),
               make_member(3, "lambda_xor", 1.2, max_epochs=25, monitor="val_mse",
                           patience=2, restore_best=False, **kw),
               make_member(4, "so_xor", 2, max_epochs=18, min_delta=1e-4, **kw)]
    if chunk:
        monkeypatch.setattr(training, "CHUNK_ELEMENTS", chunk)
    ens = train_ensemble(members, batch_size=batch)
    monkeypatch.undo()
    assert len({r.stop_epoch for r in ens}) >= 3          # the ensemble really shrank
    for m, r in zip(members, ens):
        assert same_result(r, train_one(m, batch_size=batch))
    # and in another order / grouping
    ens2 = train_ensemble(members[::-1][:3], batch_size=batch)
    assert all(same_result(a, b) for a, b in zip(ens2, ens[::-1][:3]))


def test_manual_gradients_match_autograd():
    shapes = [(3, 8), (8, 8), (8, 1)]
    theta = torch.stack([flatten(init_params(s, (8, 8))) for s in range(4)])
    theta = theta + 0.1 * torch.randn(theta.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x = torch.rand(4, 30, 3, dtype=torch.float64) * 2 - 1
    y = torch.rand(4, 30, dtype=torch.float64)
    g_manual, sse_manual = _manual_grads(unflatten(theta, shapes), x, y)
    g_auto, sse_auto = _autograd_grads(theta, shapes, x, y)
    torch.testing.assert_close(g_manual, g_auto, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(sse_manual, sse_auto, rtol=1e-14, atol=0)


def test_adam_step_equals_torch_optim_adam():
    gen = torch.Generator().manual_seed(1)
    p = torch.randn(3, 50, dtype=torch.float64, generator=gen)
    ref = p.clone().requires_grad_(True)
    opt = torch.optim.Adam([ref], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    m, v = torch.zeros_like(p), torch.zeros_like(p)
    for step in range(1, 30):
        g = torch.randn(3, 50, dtype=torch.float64, generator=gen)
        ref.grad = g.clone()
        opt.step()
        adam_step_(p, m, v, g, step, 0.01, 0.9, 0.999, 1e-8)
        assert torch.equal(p, ref.detach()), step              # bitwise, not just close


def test_training_matches_plain_pytorch_full_batch():
    """Full batch (order irrelevant up to summation order): 5 epochs of our trainer vs
    nn.Module-free autograd + torch.optim.Adam."""
    m = make_member(0, "xor", max_epochs=5, patience=100, restore_best=False)
    res = train_one(m, batch_size=120)
    theta = flatten(m.params).clone().requires_grad_(True)
    opt = torch.optim.Adam([theta], lr=0.01)
    shapes = [(3, 8), (8, 1)]
    for _ in range(5):
        loss = ((predict(unflatten(theta, shapes), m.x_train) - m.y_train) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.testing.assert_close(flatten(res.last_params), theta.detach(), rtol=1e-11, atol=1e-13)


def reference_early_stopping(monitor, patience, min_delta, max_epochs):
    best, best_epoch, wait = math.inf, 0, 0
    for epoch in range(1, max_epochs + 1):
        if monitor[epoch] < best - min_delta:
            best, best_epoch, wait = monitor[epoch], epoch, 0
        else:
            wait += 1
        if wait >= patience or epoch == max_epochs:
            return best_epoch, epoch


@pytest.mark.parametrize("monitor,min_delta", [("train_batch_mse", 0.0), ("train_mse", 1e-4),
                                                ("val_mse", 0.0)])
def test_early_stopping_epoch_and_restored_weights(monitor, min_delta):
    m = make_member(1, "random", max_epochs=300, patience=3, monitor=monitor, min_delta=min_delta)
    r = train_one(m, batch_size=40)
    h = r.history
    assert r.stopped_early and r.stop_epoch < 300
    assert len(h["epoch"]) == r.stop_epoch + 1 and set(HISTORY_KEYS) <= set(h)
    assert torch.equal(h["monitor"][1:], h[monitor][1:])
    assert (r.best_epoch, r.stop_epoch) == reference_early_stopping(h["monitor"].tolist(), 3, min_delta, 300)
    assert r.stop_epoch == r.best_epoch + 3 and r.selected_epoch == r.best_epoch
    # restored weights = the weights of a run stopped by max_epochs at the best epoch
    again = train_one(make_member(1, "random", max_epochs=r.best_epoch, patience=10**6,
                                  restore_best=False), batch_size=40)
    assert same_params(r.params, again.last_params)
    assert not same_params(r.params, r.last_params)
    # R^2 of the selected weights is that epoch's history and recomputes from the weights
    assert r.r2["train"] == float(h["train_r2"][r.best_epoch])
    assert math.isclose(r.r2["val"], float(r2_score(m.y_val, predict(r.params, m.x_val))), abs_tol=1e-12)


def test_restore_best_false_selects_last_weights():
    r = train_one(make_member(1, "random", max_epochs=300, patience=5, restore_best=False), batch_size=40)
    assert same_params(r.params, r.last_params) and r.selected_epoch == r.stop_epoch
    assert r.r2["train"] == float(r.history["train_r2"][r.stop_epoch])


def test_frozen_members_do_not_move():
    """A member that stops early keeps exactly the weights it had when it stopped, while the
    others continue; its callback fires before theirs."""
    order = []
    early = make_member(0, "xor", max_epochs=3, restore_best=False)
    late = make_member(1, "xor", max_epochs=30)
    res = train_ensemble([late, early], batch_size=40, on_done=lambda i, r: order.append(i))
    assert order == [1, 0]
    alone = train_one(early, batch_size=40)
    assert res[1].stop_epoch == 3 and same_params(res[1].last_params, alone.last_params)
    assert res[0].stop_epoch == 30


def test_monitors_differ_as_expected():
    runs = {mon: train_one(make_member(2, "random", max_epochs=400, patience=3, monitor=mon), batch_size=40)
            for mon in ("train_batch_mse", "train_mse", "val_mse")}
    h = runs["train_mse"].history
    # the mini-batch epoch mean (taken while weights change) differs from the end-of-epoch MSE
    assert not torch.equal(h["train_batch_mse"][1:], h["train_mse"][1:])
    assert torch.isnan(runs["train_batch_mse"].history["monitor"][0])
    # held-out stopping can't memorise the random labels: it stops earliest, with lower train R^2
    assert runs["val_mse"].stop_epoch < runs["train_mse"].stop_epoch
    assert runs["val_mse"].r2["train"] < runs["train_mse"].r2["train"]
    assert len({(r.best_epoch, r.stop_epoch) for r in runs.values()}) == 3


def test_checkpoints_at_r2_grid_crossings():
    m = make_member(0, "linear", max_epochs=60, patience=100)
    r = train_one(m, batch_size=40)
    cp, r2 = r.checkpoints, r.history["train_r2"]
    assert cp["grid"].tolist() == grid_values(0.05) and len(cp["grid"]) == 20
    reached = 0
    for g, epoch, val, params in zip(cp["grid"].tolist(), cp["epoch"].tolist(), cp["r2"].tolist(),
                                     cp["params"]):
        hits = torch.nonzero(r2 >= g).flatten()
        if not len(hits):
            assert epoch == -1 and params is None
            continue
        reached += 1
        assert epoch == int(hits[0]) and val == float(r2[epoch])
        assert math.isclose(float(r2_score(m.y_train, predict(params, m.x_train))), val, abs_tol=1e-12)
    assert reached >= 15                                   # linear is learned fast


def test_float32_and_float64_both_train():
    r64 = train_one(make_member(0, "xor", max_epochs=15, patience=100), batch_size=40)
    r32 = train_one(make_member(0, "xor", dtype=torch.float32, max_epochs=15, patience=100), batch_size=40)
    assert r32.params[0]["W"].dtype == torch.float32 and r32.history["train_r2"].dtype == torch.float32
    assert r64.params[0]["W"].dtype == torch.float64
    np.testing.assert_allclose(r32.history["train_r2"].numpy(), r64.history["train_r2"].numpy(), atol=1e-3)
    with pytest.raises(ValueError, match="one dtype"):
        train_ensemble([make_member(0), make_member(1, dtype=torch.float32)])


def test_group_checks_and_bad_settings():
    with pytest.raises(ValueError, match="share their layer shapes"):
        train_ensemble([make_member(0, hidden=(8,)), make_member(1, hidden=(4,))])
    with pytest.raises(ValueError, match="unknown monitor"):
        train_one(make_member(0, monitor="loss"))
    assert train_ensemble([]) == []


def test_one_thread_is_restored():
    with torch_threads(2):
        train_one(make_member(0, max_epochs=2))
        assert torch.get_num_threads() == 2


def test_r2_formula():
    y = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    yh = torch.tensor([1.5, 2.0, 2.5, 4.0], dtype=torch.float64)
    assert math.isclose(float(r2_score(y, yh)), 1 - 0.5 / 5.0)
    assert float(r2_score(y, y)) == 1.0 and float(r2_score(y, torch.full_like(y, 2.5))) == 0.0


def test_critical_batch_size():
    r2 = torch.tensor([-0.1, 0.2, 0.5, 0.8, 0.9])
    assert steps_to_criterion(r2, 0.6, n_train=1000, batch_size=64) == 3 * 16
    assert steps_to_criterion(r2, 0.95, 1000, 64) is None
    out = critical_batch_size([48, 64, None], [4, 4], batch_small=64)
    assert out["E_min"] == 64 * 56 and out["S_min"] == 4 and out["B_c"] == 64 * 56 / 4
    assert out["n_small"] == 2
    assert math.isnan(critical_batch_size([None], [3])["B_c"])


READINGS = [training.Reading(mon, md, rb) for mon in training.MONITORS
            for md in (0.0, 1e-3) for rb in (True, False)]


def same_checkpoints(a, b):
    pa, pb = a.checkpoints["params"], b.checkpoints["params"]
    return (torch.equal(a.checkpoints["epoch"], b.checkpoints["epoch"])
            and torch.equal(a.checkpoints["r2"].nan_to_num(7.0), b.checkpoints["r2"].nan_to_num(7.0))
            and all((u is None) == (v is None) and (u is None or same_params(u, v))
                    for u, v in zip(pa, pb)))


@pytest.mark.parametrize("hidden,batch", [((8,), 32), ((8, 8), 50)])
def test_several_readings_equal_each_reading_alone_bitwise(hidden, batch):
    """One trajectory, 16 stopping readings (every monitor incl. the last mini-batch loss,
    min_delta 0 / 1e-3, restore yes / no) per member, two members of different targets:
    each reading's result equals training alone under that rule, bit for bit."""
    import dataclasses
    kw = dict(hidden=hidden, max_epochs=60, patience=3)
    base = [make_member(0, "random", **kw), make_member(5, "xor", **kw)]
    multi = [dataclasses.replace(m, readings=tuple(READINGS)) for m in base]
    fired = []
    res = training.train_readings(multi, batch_size=batch, on_done=lambda i, j, r: fired.append((i, j)))
    assert sorted(fired) == [(i, j) for i in range(2) for j in range(len(READINGS))]
    assert len({r.stop_epoch for rs in res for r in rs}) >= 4     # readings stop at different epochs
    for m, rs in zip(base, res):
        for rd, r in zip(READINGS, rs):
            alone = train_one(dataclasses.replace(m, monitor=rd.monitor, min_delta=rd.min_delta,
                                                  restore_best=rd.restore_best), batch_size=batch)
            assert same_result(r, alone) and same_checkpoints(r, alone), rd
            assert r.selected_epoch == alone.selected_epoch and r.r2 == alone.r2


def test_last_batch_monitor_is_the_last_mini_batch_loss():
    """120 points at B = 50 (batches 50, 50, 20): replay two epochs by hand (the trainer's
    permutations, plain autograd + Adam) and read the loss of each epoch's last batch."""
    m = make_member(3, "random", max_epochs=2, patience=100, monitor="train_last_batch_mse")
    r = train_one(m, batch_size=50)
    rng = np.random.default_rng(np.random.SeedSequence([training._TAG_SHUFFLE, 3]))
    shapes = [tuple(p["W"].shape) for p in m.params]
    theta = flatten(m.params).clone()
    ea, eas = torch.zeros_like(theta), torch.zeros_like(theta)
    step, expected = 0, [math.nan]
    for _ in range(2):
        perm = torch.from_numpy(rng.permutation(120))
        for s in range(3):
            idx = perm[s * 50:(s + 1) * 50]
            th = theta.clone().requires_grad_(True)
            loss = ((predict(unflatten(th, shapes), m.x_train[idx]) - m.y_train[idx]) ** 2).mean()
            (g,) = torch.autograd.grad(loss, th)
            step += 1
            adam_step_(theta, ea, eas, g, step, 0.01, 0.9, 0.999, 1e-8)
        expected.append(loss.item())                 # the 20-point last batch, before its step
    got = r.history["monitor"]
    assert torch.isnan(got[0]) and len(idx) == 20
    torch.testing.assert_close(got[1:], torch.tensor(expected[1:], dtype=got.dtype),
                               rtol=1e-12, atol=0)
    assert not torch.allclose(got[1:], r.history["train_batch_mse"][1:])
