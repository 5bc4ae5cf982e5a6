"""Batched ensemble trainer for the P1 protocol (§1.2 of REPRODUCTION.md).

An ensemble of E members (different seeds, targets, family parameters, inputs) with the same
layer shapes, batch size and optimiser settings is trained as ONE tensor program: every
parameter is a row of a flat ``theta: [E, P]`` tensor, forward and backward are batched matrix
products over the member axis, and Adam updates the flat rows. Each member still has

* its own mini-batch order: a fresh permutation every epoch from its own seed, keeping the
  partial last batch (drop_last=False, A-08);
* its own early stopping (monitor, patience, min_delta, restore-best, max epochs; A-06, A-10).
  A member that stops is taken out of the working tensors, so its weights and Adam state are
  never touched again and the remaining members run faster;
* its own per-epoch history and R^2-grid checkpoints (A-24);
* optionally several stopping rules ("readings") for its one trajectory, which no stopping
  rule influences: ``train_readings`` keeps one best/wait state and selected-weights snapshot
  per reading, runs the member until all of them have stopped and returns, per reading,
  exactly what training alone under that rule gives (the early-stopping sensitivity study).

Gradients are hand-written (forward caches z, backward uses ``aten.gelu_backward``; for the
oscillatory activations of ``activation=`` it adds the sine term's ``dh a b cos(b z)``,
:func:`kag_utils.core.activations.act_backward`) and Adam is
the exact op sequence of ``torch.optim.Adam``'s single-tensor CPU path; ``backend="autograd"``
computes the same gradients with autograd (kept for tests and benchmarks). At one torch thread
(the default here) a member's trajectory does not depend on which other members it was trained
with: tests check bitwise equality of ensemble vs alone.

Epoch numbering: epoch 0 is the initial model (history row 0, monitor NaN for the mini-batch
monitor); epoch k >= 1 is the state after k passes over the training set. The best epoch is
searched among epochs >= 1. A member stops after ``patience`` epochs without an improvement
``monitor < best - min_delta`` (Keras semantics), or after ``max_epochs``. Monitors: the
epoch mean of the mini-batch losses ("train_batch_mse", Keras' ``loss``), the loss of the
epoch's last mini-batch ("train_last_batch_mse"), the end-of-epoch MSE on the training set
("train_mse") or on the validation set ("val_mse").
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch

from .models import Params
from .protocol import P1_PROTOCOL
from ..core.activations import GELU, Activation, act_backward, act_forward
from ..core.threads import torch_threads

MONITORS = ("train_batch_mse", "train_last_batch_mse", "train_mse", "val_mse")
HISTORY_KEYS = ("monitor", "train_batch_mse", "train_mse", "val_mse", "test_mse",
                "train_r2", "val_r2", "test_r2")
_TAG_SHUFFLE = 0x4B41_0020
EVAL_CHUNK = 250                 # points per evaluation chunk (a constant: see evaluate())
CHUNK_ELEMENTS = 1 << 18         # target size of [members, points, width] intermediates


# ---------------------------------------------------------------------------------------------
# R^2 and critical batch size
# ---------------------------------------------------------------------------------------------
def r2_score(y: torch.Tensor, y_hat: torch.Tensor) -> torch.Tensor:
    """R^2 = 1 - sum (y - y_hat)^2 / sum (y - mean y)^2 over the last axis (III.5)."""
    sse = ((y - y_hat) ** 2).sum(-1)
    sst = ((y - y.mean(-1, keepdim=True)) ** 2).sum(-1)
    return 1.0 - sse / sst


def grid_values(step: float) -> list[float]:
    """R^2 checkpoint grid 0, step, 2 step, ... < 1 (A-24: step 0.05 gives 0.00 ... 0.95)."""
    if not 0 < step <= 1:
        raise ValueError(f"checkpoint grid step must be in (0, 1], got {step}")
    n = int(math.floor(1.0 / step + 1e-9))
    return [round(i * step, 10) for i in range(n) if i * step < 1.0 - 1e-12]


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return -(-int(n_train) // int(batch_size))


def epochs_to_criterion(train_r2: torch.Tensor | Sequence[float], threshold: float) -> int | None:
    """First epoch whose training R^2 >= threshold (history row index), or None if never."""
    r2 = torch.as_tensor(train_r2)
    hit = torch.nonzero(r2 >= threshold)
    return int(hit[0, 0]) if len(hit) else None


def steps_to_criterion(train_r2, threshold: float, n_train: int, batch_size: int) -> int | None:
    """Optimisation steps to reach the criterion: epochs x ceil(N / B) (criteria are checked at
    epoch ends, so this is resolved to one epoch; A-07)."""
    ep = epochs_to_criterion(train_r2, threshold)
    return None if ep is None else ep * steps_per_epoch(n_train, batch_size)


def critical_batch_size(steps_small: Sequence[int | None], steps_full: Sequence[int | None],
                        batch_small: int = 64, reduce: str = "mean") -> dict:
    """B_c = E_min / S_min (III.4): E_min = batch_small x steps (batch 64), S_min = steps at
    full batch. ``steps_*`` hold one value per seed (None = criterion never reached; such seeds
    are dropped and counted). ``reduce`` combines seeds: "mean" (default, A-07), "median", "min".
    """
    red = {"mean": np.mean, "median": np.median, "min": np.min}
    if reduce not in red:
        raise ValueError(f"reduce must be one of {list(red)}, got {reduce!r}")
    small = [s for s in steps_small if s is not None]
    full = [s for s in steps_full if s is not None]
    if not small or not full:
        return {"E_min": math.nan, "S_min": math.nan, "B_c": math.nan,
                "n_small": len(small), "n_full": len(full)}
    e_min = float(batch_small * red[reduce](small))
    s_min = float(red[reduce](full))
    return {"E_min": e_min, "S_min": s_min, "B_c": e_min / s_min,
            "n_small": len(small), "n_full": len(full)}


# ---------------------------------------------------------------------------------------------
# Flat parameter layout
# ---------------------------------------------------------------------------------------------
def _offsets(shapes: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(offset W, offset b, end) per layer in the flat vector."""
    out, o = [], 0
    for fi, fo in shapes:
        out.append((o, o + fi * fo, o + fi * fo + fo))
        o += fi * fo + fo
    return out


def flatten(params: Params) -> torch.Tensor:
    """Model or ensemble params -> [..., P]."""
    lead = params[0]["W"].shape[:-2]
    return torch.cat([t.reshape(*lead, -1) for p in params for t in (p["W"], p["b"])], dim=-1)


def unflatten(theta: torch.Tensor, shapes: list[tuple[int, int]]) -> Params:
    """[..., P] -> params (views)."""
    lead = theta.shape[:-1]
    return [{"W": theta[..., a:b].view(*lead, fi, fo), "b": theta[..., b:c]}
            for (fi, fo), (a, b, c) in zip(shapes, _offsets(shapes))]


# ---------------------------------------------------------------------------------------------
# Batched forward / backward / Adam
# ---------------------------------------------------------------------------------------------
def _forward(layers: Params, x: torch.Tensor, keep: bool, act: Activation = GELU):
    """x: [E, N, n] -> (out [E, N], (inputs of each layer, pre-activations))."""
    hs, zs = [x], []
    h = x
    for p in layers[:-1]:
        z = torch.baddbmm(p["b"].unsqueeze(1), h, p["W"])
        h = act_forward(act, z)
        if keep:
            zs.append(z)
            hs.append(h)
    # Read-out with one output: an elementwise product and a row sum. MKL's batched gemm with
    # a single output column gives results that depend on the batch (member) count, which
    # would break "ensemble == alone"; this form does not (tests/test_training.py).
    w, b = layers[-1]["W"], layers[-1]["b"]
    out = (h * w.transpose(1, 2)).sum(-1) + b
    return out, (hs, zs)


def _manual_grads(layers: Params, x: torch.Tensor, y: torch.Tensor, act: Activation = GELU):
    """Gradient of each member's mean squared error on its batch.

    x: [E, b, n], y: [E, b] -> (flat grad [E, P], sum of squared errors [E])."""
    out, (hs, zs) = _forward(layers, x, keep=True, act=act)
    r = out - y                                   # [E, b]
    sse = (r * r).sum(1)
    g = r * (2.0 / r.shape[1])                    # dL/dout: [E, b]
    h = hs[-1]
    grads = [g.sum(1, keepdim=True),                                  # db_L: [E, 1]
             (h * g.unsqueeze(-1)).sum(1).unsqueeze(-1)]              # dW_L: [E, m, 1]
    dh = g.unsqueeze(-1) * layers[-1]["W"].transpose(1, 2)            # [E, b, m]
    for i in range(len(layers) - 2, -1, -1):
        dz = act_backward(act, dh, zs[i])                             # [E, b, fo]
        grads.append(dz.sum(1))                                       # db_i: [E, fo]
        grads.append(torch.bmm(hs[i].transpose(1, 2), dz))            # dW_i: [E, fi, fo]
        if i > 0:
            dh = torch.bmm(dz, layers[i]["W"].transpose(1, 2))
    E = x.shape[0]
    return torch.cat([t.reshape(E, -1) for t in reversed(grads)], dim=1), sse


def _autograd_grads(theta: torch.Tensor, shapes, x: torch.Tensor, y: torch.Tensor,
                    act: Activation = GELU):
    with torch.enable_grad():
        th = theta.detach().requires_grad_(True)
        out, _ = _forward(unflatten(th, shapes), x, keep=False, act=act)
        r = out - y
        loss = (r * r).mean(1)
        (grad,) = torch.autograd.grad(loss.sum(), th)
    return grad, (r.detach() ** 2).sum(1)


def adam_step_(theta, exp_avg, exp_avg_sq, grad, step: int, lr: float, beta1: float,
               beta2: float, eps: float) -> None:
    """In-place Adam update, the op sequence of torch.optim.Adam (single-tensor, no amsgrad,
    no weight decay, non-capturable), on any shape (rows = members)."""
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5
    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    theta.addcdiv_(exp_avg, denom, value=-step_size)


# ---------------------------------------------------------------------------------------------
# Members and results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """One early-stopping rule (A-06): what is monitored, the improvement threshold and
    whether the best epoch's weights are restored. Patience and max_epochs are the member's."""
    monitor: str = "train_batch_mse"
    min_delta: float = 0.0
    restore_best: bool = True


@dataclass
class Member:
    """One model to train: its initial params and data, its seed and its stopping rule.

    ``x_*``: [N, n_in]; ``y_*``: [N]. ``seed`` drives the mini-batch order (A-05).
    ``readings``: several stopping rules for ONE trajectory (see :func:`train_readings`);
    when given they replace (monitor, min_delta, restore_best)."""
    params: Params
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    seed: int = 0
    monitor: str = "train_batch_mse"
    patience: int = P1_PROTOCOL["patience"]
    min_delta: float = 0.0
    restore_best: bool = True
    max_epochs: int = P1_PROTOCOL["max_epochs"]
    readings: tuple[Reading, ...] | None = None

    def stopping_readings(self) -> tuple[Reading, ...]:
        if self.readings is None:
            return (Reading(self.monitor, float(self.min_delta), bool(self.restore_best)),)
        return tuple(self.readings)


@dataclass
class TrainResult:
    params: Params              # selected ("trained") weights: best epoch if restore_best else last
    last_params: Params         # weights at the stop epoch
    history: dict               # HISTORY_KEYS -> [stop_epoch + 1]; "epoch" -> int64
    checkpoints: dict           # grid [G], epoch [G] (-1 = never), r2 [G], params [G] (None = never)
    best_epoch: int
    stop_epoch: int
    stopped_early: bool
    r2: dict                    # train / val / test R^2 of the selected weights
    mse: dict                   # train / val / test MSE of the selected weights
    selected_epoch: int
    wall_time_s: float = 0.0    # wall time of the whole ensemble until this member stopped
    group_size: int = 1         # members trained together in that ensemble
    extra: dict = field(default_factory=dict)


def _check_member(m: Member) -> None:
    if m.patience < 1 or m.max_epochs < 1:
        raise ValueError(f"patience and max_epochs must be >= 1, got {m.patience}, {m.max_epochs}")
    readings = m.stopping_readings()
    if not readings:
        raise ValueError("a member needs at least one stopping reading (readings=None for its own)")
    for r in readings:
        if r.monitor not in MONITORS:
            raise ValueError(f"unknown monitor {r.monitor!r}; valid: {', '.join(MONITORS)}")
        if r.min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {r.min_delta}")


def train_ensemble(members: Sequence[Member], *, batch_size: int = P1_PROTOCOL["batch_size"],
                   lr: float = P1_PROTOCOL["lr"],
                   betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                   checkpoint_step: float | None = 0.05, backend: str = "manual",
                   threads: int | None = 1, activation: Activation = GELU,
                   on_done: Callable[[int, TrainResult], None] | None = None) -> list[TrainResult]:
    """Train all members as one batched program; return one TrainResult per member (in order).

    All members must share layer shapes, training-set size, split sizes and dtype.
    ``on_done(i, result)`` is called as soon as member i stops (e.g. to store it at once).
    ``threads``: torch intra-op threads while training (None = leave as is).
    ``activation``: the hidden layers' sigma, shared by all members (default P1's GeLU).
    Members with several ``readings`` need :func:`train_readings`."""
    if any(len(m.stopping_readings()) != 1 for m in members):
        raise ValueError("train_ensemble takes one stopping reading per member; "
                         "use train_readings for members with several readings")
    done = None if on_done is None else (lambda i, j, r: on_done(i, r))
    res = train_readings(members, batch_size=batch_size, lr=lr, betas=betas, eps=eps,
                         checkpoint_step=checkpoint_step, backend=backend, threads=threads,
                         activation=activation, on_done=done)
    return [r[0] for r in res]


def train_readings(members: Sequence[Member], *, batch_size: int = P1_PROTOCOL["batch_size"],
                   lr: float = P1_PROTOCOL["lr"],
                   betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                   checkpoint_step: float | None = 0.05, backend: str = "manual",
                   threads: int | None = 1, activation: Activation = GELU,
                   on_done: Callable[[int, int, TrainResult], None] | None = None
                   ) -> list[list[TrainResult]]:
    """Like :func:`train_ensemble`, but each member may carry several stopping readings
    (``Member.readings``): its ONE trajectory (which no stopping rule influences) runs until
    every reading has stopped (or max_epochs), and result ``[i][j]`` is exactly what training
    member i alone under reading j gives (history up to its stop epoch, checkpoints reached by
    then, its selected and last weights). ``on_done(i, j, result)`` fires when reading j of
    member i stops."""
    if threads is None:
        return _train(members, batch_size, lr, betas, eps, checkpoint_step, backend, on_done,
                      activation)
    with torch_threads(threads):
        return _train(members, batch_size, lr, betas, eps, checkpoint_step, backend, on_done,
                      activation)


def train_one(member: Member, **kwargs) -> TrainResult:
    """Train a single model (an ensemble of one)."""
    return train_ensemble([member], **kwargs)[0]


# Columns recorded per member and epoch; "monitor" is built per reading when it stops.
_RECORD_KEYS = ("train_batch_mse", "train_last_batch_mse", "train_mse", "val_mse", "test_mse",
                "train_r2", "val_r2", "test_r2")
_MONITOR_COLUMN = {"train_batch_mse": 0, "train_last_batch_mse": 1, "train_mse": 2, "val_mse": 3}


def _train(members, batch_size, lr, betas, eps, checkpoint_step, backend, on_done,
           act=GELU):
    t0 = time.perf_counter()
    if not isinstance(act, Activation):
        raise ValueError(f"activation must be an Activation, got {act!r}")
    if not members:
        return []
    if backend not in ("manual", "autograd"):
        raise ValueError(f"backend must be 'manual' or 'autograd', got {backend!r}")
    for m in members:
        _check_member(m)
    first = members[0]
    dtype = first.params[0]["W"].dtype
    n_in = first.params[0]["W"].shape[0]
    shapes = [tuple(p["W"].shape) for p in first.params]
    if shapes[-1][1] != 1:
        raise ValueError("the trainer fits scalar targets (read-out width 1)")
    sizes = tuple(len(getattr(first, f"y_{s}")) for s in ("train", "val", "test"))
    for m in members:
        if [tuple(p["W"].shape) for p in m.params] != shapes:
            raise ValueError("all members of an ensemble must share their layer shapes")
        if tuple(len(getattr(m, f"y_{s}")) for s in ("train", "val", "test")) != sizes:
            raise ValueError("all members of an ensemble must share their split sizes")
        if m.params[0]["W"].dtype != dtype or m.x_train.dtype != dtype or m.y_train.dtype != dtype:
            raise ValueError("params and data of all members must share one dtype")
    n_tr, n_va, n_te = sizes
    if not 1 <= batch_size:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    B = min(int(batch_size), n_tr)
    n_steps = steps_per_epoch(n_tr, B)
    last_batch = n_tr - (n_steps - 1) * B
    beta1, beta2 = float(betas[0]), float(betas[1])
    E = len(members)

    # ---- per-member state (rows of the working tensors = active members) ------------------
    ids = torch.arange(E)                                        # global member index per row
    theta = torch.stack([flatten(m.params) for m in members]).contiguous()
    init_theta = theta.clone()
    exp_avg = torch.zeros_like(theta)
    exp_avg_sq = torch.zeros_like(theta)
    x_tr = torch.stack([m.x_train for m in members])             # [E, N, n]
    y_tr = torch.stack([m.y_train for m in members])             # [E, N]
    x_all = torch.stack([torch.cat([m.x_train, m.x_val, m.x_test]) for m in members])
    y_all = torch.stack([torch.cat([m.y_train, m.y_val, m.y_test]) for m in members])
    cuts = (0, n_tr, n_tr + n_va, n_tr + n_va + n_te)
    sst = torch.stack([((y_all[:, a:b] - y_all[:, a:b].mean(1, keepdim=True)) ** 2).sum(1)
                       for a, b in zip(cuts[:-1], cuts[1:])])     # [3, E]
    rngs = [np.random.default_rng(np.random.SeedSequence([_TAG_SHUFFLE, int(m.seed)])) for m in members]
    grid = grid_values(checkpoint_step) if checkpoint_step else []
    grid_t = torch.tensor(grid, dtype=dtype)
    reached = torch.zeros(E, len(grid), dtype=torch.bool)
    ckpts: list[dict] = [dict() for _ in range(E)]               # grid index -> (epoch, r2, theta)
    hist_rows: list[list] = [[] for _ in range(E)]               # per member: list of [T, K] blocks
    segment: list[torch.Tensor] = []                             # per epoch [K, E_active]

    # ---- per-reading state ("slots": one per (member, reading); S = active slots) ---------
    slots = [(i, j, r) for i, m in enumerate(members) for j, r in enumerate(m.stopping_readings())]
    slot_gid = torch.tensor([i for i, _, _ in slots])            # member of each slot: [S]
    slot_row = slot_gid.clone()                                  # its row in the working tensors
    slot_ids = torch.arange(len(slots))
    mon_col = torch.tensor([_MONITOR_COLUMN[r.monitor] for _, _, r in slots])
    min_delta = torch.tensor([r.min_delta for _, _, r in slots], dtype=dtype)
    patience = torch.tensor([members[i].patience for i, _, _ in slots])
    max_epochs = torch.tensor([members[i].max_epochs for i, _, _ in slots])
    best = torch.full((len(slots),), math.inf, dtype=dtype)
    best_epoch = torch.zeros(len(slots), dtype=torch.long)
    wait = torch.zeros(len(slots), dtype=torch.long)
    best_theta = theta[slot_row].clone()                         # [S, P]
    results: list[list] = [[None] * len(m.stopping_readings()) for m in members]
    # Work in member chunks that keep intermediates cache-sized; evaluation also in fixed point
    # chunks. Per-member results do not depend on the chunking (E-invariant kernels), and the
    # point chunk is a constant, so results never depend on how members were grouped.
    widest = max(max(sh) for sh in shapes)
    eval_members = max(1, CHUNK_ELEMENTS // (EVAL_CHUNK * widest))
    step_members = max(1, CHUNK_ELEMENTS // (B * widest))
    if backend == "manual":
        def grad_fn(layers, xb, yb):
            return _manual_grads(layers, xb, yb, act)
    else:
        def grad_fn(layers, xb, yb):
            return _autograd_grads(flatten(layers), shapes, xb, yb, act)

    def evaluate(th):
        """MSE and R^2 of every active member on train/val/test: ([3, E], [3, E])."""
        layers = unflatten(th, shapes)
        out = torch.empty(th.shape[0], cuts[-1], dtype=dtype)
        for e0 in range(0, th.shape[0], eval_members):
            sub = _rows(layers, e0, eval_members)
            for p0 in range(0, cuts[-1], EVAL_CHUNK):
                out[e0:e0 + eval_members, p0:p0 + EVAL_CHUNK] = _forward(
                    sub, x_all[e0:e0 + eval_members, p0:p0 + EVAL_CHUNK], keep=False, act=act)[0]
        sq = (out - y_all) ** 2
        sse = torch.stack([sq[:, a:b].sum(1) for a, b in zip(cuts[:-1], cuts[1:])])  # [3, E]
        return sse / torch.tensor(sizes, dtype=dtype).unsqueeze(1), 1.0 - sse / sst

    def gradients(layers, xb, yb):
        if len(ids) <= step_members:
            return grad_fn(layers, xb, yb)
        parts = [grad_fn(_rows(layers, e0, step_members), xb[e0:e0 + step_members],
                         yb[e0:e0 + step_members]) for e0 in range(0, len(ids), step_members)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def record(epoch, batch_mse, last_mse, mse, r2):
        """Store the epoch's row of every active member; return the monitors [4, E]."""
        nonlocal reached
        row = torch.stack([batch_mse, last_mse, mse[0], mse[1], mse[2], r2[0], r2[1], r2[2]])
        segment.append(row)
        if len(grid):
            new = (r2[0].unsqueeze(1) >= grid_t) & ~reached
            if bool(new.any()):
                for r, g in new.nonzero().tolist():
                    ckpts[int(ids[r])][g] = (epoch, float(r2[0, r]), theta[r].clone())
                reached = reached | new
        return row[:4]

    def flush_segment():
        if segment:
            block = torch.stack(segment)                          # [T, K, E_active]
            for row, gid in enumerate(ids.tolist()):
                hist_rows[gid].append(block[:, :, row])
            segment.clear()

    def finish(stopped: list[int], epoch: int):
        """Results of the slots at positions ``stopped`` (all stop at ``epoch``)."""
        flush_segment()
        for pos in stopped:
            gid, j, reading = slots[int(slot_ids[pos])]
            row = int(slot_row[pos])
            h = torch.cat(hist_rows[gid])                          # [T, K]
            cols = {k: h[:, c] for c, k in enumerate(_RECORD_KEYS)}
            monitor = cols[reading.monitor].clone()
            history = {"monitor": monitor, **{k: cols[k].clone() for k in HISTORY_KEYS[1:]}}
            history["epoch"] = torch.arange(h.shape[0])
            be, stop = int(best_epoch[pos]), epoch
            restore = reading.restore_best
            sel_epoch = be if restore else stop
            sel = best_theta[pos] if restore else theta[row]
            cp = {"grid": torch.tensor(grid, dtype=torch.float64),
                  "epoch": torch.tensor([ckpts[gid][g][0] if g in ckpts[gid] else -1
                                         for g in range(len(grid))], dtype=torch.long),
                  "r2": torch.tensor([ckpts[gid][g][1] if g in ckpts[gid] else math.nan
                                      for g in range(len(grid))], dtype=torch.float64),
                  "params": [_to_params(ckpts[gid][g][2], shapes) if g in ckpts[gid] else None
                             for g in range(len(grid))]}
            res = TrainResult(
                params=_to_params(sel, shapes), last_params=_to_params(theta[row], shapes),
                history=history, checkpoints=cp, best_epoch=be, stop_epoch=stop,
                stopped_early=stop < int(max_epochs[pos]),
                r2={s: float(history[f"{s}_r2"][sel_epoch]) for s in ("train", "val", "test")},
                mse={s: float(history[f"{s}_mse"][sel_epoch]) for s in ("train", "val", "test")},
                selected_epoch=sel_epoch, wall_time_s=time.perf_counter() - t0, group_size=E,
                extra={"init_params": _to_params(init_theta[gid], shapes)})
            results[gid][j] = res
            if on_done is not None:
                on_done(gid, j, res)

    with torch.no_grad():
        mse, r2 = evaluate(theta)
        nan = torch.full((E,), math.nan, dtype=dtype)
        record(0, nan, nan, mse, r2)
        step = 0
        epoch = 0
        while len(ids):
            epoch += 1
            perm = torch.from_numpy(np.stack([rngs[g].permutation(n_tr) for g in ids.tolist()]))
            xp = torch.gather(x_tr, 1, perm.unsqueeze(-1).expand(-1, -1, n_in))
            yp = torch.gather(y_tr, 1, perm)
            sse_epoch = torch.zeros(len(ids), dtype=dtype)
            layers = unflatten(theta, shapes)
            for s in range(n_steps):
                xb, yb = xp[:, s * B:(s + 1) * B], yp[:, s * B:(s + 1) * B]
                grad, sse = gradients(layers, xb, yb)
                step += 1
                adam_step_(theta, exp_avg, exp_avg_sq, grad, step, lr, beta1, beta2, eps)
                sse_epoch += sse
            batch_mse = sse_epoch / n_tr
            last_mse = sse / last_batch
            mse, r2 = evaluate(theta)
            mons = record(epoch, batch_mse, last_mse, mse, r2)        # [4, E_active]
            mon = mons[mon_col, slot_row]                              # [S]
            improved = mon < best - min_delta
            best = torch.where(improved, mon, best)
            best_epoch = torch.where(improved, epoch, best_epoch)
            wait = torch.where(improved, 0, wait + 1)
            best_theta = torch.where(improved.unsqueeze(1), theta[slot_row], best_theta)
            stop = (wait >= patience) | (epoch >= max_epochs)
            if bool(stop.any()):
                finish(stop.nonzero().flatten().tolist(), epoch)
                keep_s = (~stop).nonzero().flatten()
                (slot_ids, slot_row, mon_col, min_delta, patience, max_epochs, best, best_epoch,
                 wait, best_theta) = (t[keep_s].contiguous() for t in
                                      (slot_ids, slot_row, mon_col, min_delta, patience,
                                       max_epochs, best, best_epoch, wait, best_theta))
                alive = torch.zeros(len(ids), dtype=torch.bool)
                alive[slot_row] = True
                if not bool(alive.all()):
                    keep = alive.nonzero().flatten()
                    slot_row = (torch.cumsum(alive.long(), 0) - 1)[slot_row]
                    ids = ids[keep]
                    (theta, exp_avg, exp_avg_sq, x_tr, y_tr, x_all, y_all, reached) = (
                        t[keep].contiguous() for t in
                        (theta, exp_avg, exp_avg_sq, x_tr, y_tr, x_all, y_all, reached))
                    sst = sst[:, keep].contiguous()
    return results


def _rows(layers: Params, start: int, n: int) -> Params:
    return [{k: v[start:start + n] for k, v in p.items()} for p in layers]


def _to_params(flat: torch.Tensor, shapes) -> Params:
    return [{k: v.clone() for k, v in p.items()} for p in unflatten(flat, shapes)]
