"""Cached evaluation of every P1 metric for trained, initial and checkpoint model states.

A *state* is one set of weights of a run: ``"final"`` (the selected trained weights),
``"init"`` (the initial model: identical for every target at fixed seed and width), ``"last"``
(the stop epoch) or ``"r2>=0.50"`` (the first checkpoint whose training R^2 reached 0.50;
notebook 04's evolution axis). :func:`evaluate` returns one row per (config, state) in a
:class:`pandas.DataFrame` with the run's settings as columns and every metric of
:func:`kag_utils.core.metrics.p1_metrics` plus the random rotation ratios.

Two cached kinds do the work, both registered with :mod:`kag_utils.pipeline.sweep` so a sweep can
compute them on Dask workers:

``p1_rr``   the random rotation ratios r-bar^(k) (IV.7) of ONE state. The expensive part
            (PERFORMANCE-NOTES.md), cached per state so the initial model's value is computed
            once per (seed, width) and shared by every target function.
``p1_eval`` every other metric of a (trained state, initial state) pair: zero rows, dependent
            and consistently zero rows, participation ratios, column entropy and divergence,
            quantile ratios (p1_metrics), plus both states' RR from ``p1_rr``.

Jacobians use the run's activation (``config.activation``, P1's GeLU by default), also for
its initial state: the initial model of a non-GeLU run is its own p1_rr entry.

Evaluation inputs (A-11): the first ``n_x`` inputs of the run's ``split`` (default the 1000
training inputs); the RR uses the first ``n_x_rot`` of them and ``n_rot`` Haar rotations drawn
from ``rotation_seed``, one fixed set per width m shared by all examples, models and states
(A-17). Jacobians (II.3) are float64.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import torch

from ..pipeline.cache import Cache, canonical
from ..core.activations import GELU, Activation
from ..core.jacobians import mlp_jacobian
from ..core.metrics import p1_metrics, random_rotation_ratios_readings
from .models import Params, first_layer, init_params
from ..core.rotations import haar_rotations
from .runs import KIND as RUN_KIND
from .runs import Run, RunConfig, group_by_run, load_run
from ..pipeline.sweep import compute_and_load, register_kind
from .targets import make_inputs

EVAL_KIND = "p1_eval"
RR_KIND = "p1_rr"
SPLITS = ("train", "val", "test")
RR_READINGS = ("abs", "signed")    # readings of IV.6-IV.7 (rotations.READINGS)


@dataclass(frozen=True, kw_only=True)
class EvalConfig:
    """How a model state is evaluated (REPRODUCTION 1.3, 2.9). The sample sizes ``n_x``,
    ``n_rot`` and ``n_x_rot`` are required: their defaults live in the notebooks' parameters
    cells (P1's full fidelity is n_x = 1000, n_rot = 400, n_x_rot = 1000)."""
    split: str = "train"                          # metrics on the training inputs
    n_x: int                                      # evaluation inputs (the first n_x of split)
    ks: tuple[int, ...] = (1, 2, 3)
    q1s: tuple[float, ...] = (1e-4, 1e-3, 1e-2)   # Table II's q(1)
    consistent_fraction: float = 0.99             # 2.6
    n_rot: int                                    # rotations for the RR (0: skip the RR)
    n_x_rot: int | None = None                    # inputs for the RR (the first n_x_rot);
    #   may be left out only when n_rot == 0 (unused; stored as 1000 so that the cache keys of
    #   evaluations without rotations stay those they always had)
    rotation_seed: int = 0                        # one fixed rotation set per width

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        set_("ks", tuple(sorted({int(k) for k in self.ks})))
        set_("q1s", tuple(float(q) for q in self.q1s))
        if self.n_x_rot is None:
            if self.n_rot:
                raise ValueError("n_x_rot (inputs for the rotation ratio) is required when "
                                 "n_rot > 0, e.g. EvalConfig(n_x=1000, n_rot=400, n_x_rot=1000)")
            set_("n_x_rot", 1000)
        for name in ("n_x", "n_rot", "n_x_rot", "rotation_seed"):
            set_(name, int(getattr(self, name)))
        if self.n_x < 2 or (self.n_rot and not 1 <= self.n_x_rot <= self.n_x):
            raise ValueError("need n_x >= 2 and 1 <= n_x_rot <= n_x when n_rot > 0")
        if not self.ks or min(self.ks) < 1:
            raise ValueError(f"ks must be positive minor sizes, got {self.ks}")


# ------------------------------------------------------------------------------- states
def check_state(state: str) -> str:
    """'final', 'init', 'last', or 'r2>=G' for a checkpoint G of the run's R^2 grid."""
    if state in ("final", "init", "last"):
        return state
    if state.startswith("r2>="):
        try:
            float(state[4:])
            return state
        except ValueError:
            pass
    raise ValueError(f"unknown model state {state!r}: use 'final', 'init', 'last' or "
                     "'r2>=0.50' (a checkpoint on the run's R^2 grid)")


def checkpoint_state(g: float) -> str:
    """State name of the checkpoint at training R^2 >= g."""
    return f"r2>={g:.2f}"


def state_params(run: Run, state: str) -> Params | None:
    """The weights of ``state``; None for a checkpoint the run never reached."""
    state = check_state(state)
    if state == "final":
        return run.params
    if state == "init":
        return run.init_params
    if state == "last":
        return run.last_params
    return run.checkpoint(float(state[4:]))


def state_r2(run: Run, state: str) -> tuple[float | None, int | None]:
    """(training R^2, epoch) of a state; (None, None) for an unreached checkpoint."""
    if state == "final":
        return run.r2["train"], run.selected_epoch
    if state == "init":
        return float(run.history["train_r2"][0]), 0
    if state == "last":
        return float(run.history["train_r2"][run.stop_epoch]), run.stop_epoch
    grid = run.checkpoints["grid"]
    i = int(torch.argmin((grid - float(state[4:])).abs()))
    epoch = int(run.checkpoints["epoch"][i])
    return (None, None) if epoch < 0 else (float(run.checkpoints["r2"][i]), epoch)


def eval_inputs(config: RunConfig, split: str, n_x: int) -> torch.Tensor:
    """The first ``n_x`` raw inputs x of ``split`` (float64): [n_x, n_in]."""
    if config.input_map is not None:
        raise ValueError("KA metrics are defined for models of the raw inputs x; a "
                         "bootstrapped (input_map) run has none")
    size = {"train": config.n_train, "val": config.n_val, "test": config.n_test}[split]
    if n_x > size:
        raise ValueError(f"n_x = {n_x} exceeds the {size} {split} inputs of the run")
    return make_inputs(size, split, config.data_seed, config.n_in)[:n_x].to(torch.float64)


def first_layer_jacobian(params: Params, x: torch.Tensor,
                         activation: Activation = GELU) -> torch.Tensor:
    """J(x) of the first layer (II.3) in float64: [B, m, n]. ``activation``: the run's sigma
    (``config.activation``; default P1's GeLU)."""
    A, a = first_layer(params)
    return mlp_jacobian(x.to(torch.float64), A.to(torch.float64), a.to(torch.float64),
                        activation)


@functools.lru_cache(maxsize=16)
def fixed_rotations(m: int, n_rot: int, seed: int) -> torch.Tensor:
    """The fixed set of ``n_rot`` Haar rotations of SO(m) for ``seed`` (A-17): [n_rot, m, m]."""
    return haar_rotations(m, n_rot, torch.Generator().manual_seed(seed), dtype=torch.float64)


# ---------------------------------------------------------------- kind p1_rr (one state)
def _init_identity(config: RunConfig) -> dict:
    """What fixes an initial model's Jacobians and its inputs: not the target, nor the
    training settings. The activation enters only when it is not GeLU (the keys of GeLU
    entries are those they always had)."""
    ident = {"seed": config.seed, "hidden": config.hidden, "n_in": config.n_in,
             "dtype": config.dtype, "data_seed": config.data_seed,
             "sizes": [config.n_train, config.n_val, config.n_test]}
    if config.activation != GELU:
        ident["activation"] = canonical(config.activation)
    return ident


def rr_config(config: RunConfig, state: str, ecfg: EvalConfig, reading: str = "abs") -> dict:
    """Cache config of the rotation ratios of one state. The initial state is keyed by its
    identity alone, so every target function of a (seed, width) shares one entry.
    reading: "abs" (the literal |minor| of IV.6-IV.7; its keys are those of every earlier
    version) or "signed" (the largest signed minor; the key gains "reading": "signed")."""
    if reading not in RR_READINGS:
        raise ValueError(f"reading must be one of {RR_READINGS}, got {reading!r}")
    model = {"init": _init_identity(config)} if state == "init" else {"run": config}
    rcfg = {"model": model, "state": state, "split": ecfg.split, "n_x": ecfg.n_x_rot,
            "n_rot": ecfg.n_rot, "rotation_seed": ecfg.rotation_seed, "ks": ecfg.ks}
    if reading != "abs":
        rcfg["reading"] = reading
    return rcfg


def _rr_params_and_inputs(rcfg: dict, cache: Cache
                          ) -> tuple[Params | None, torch.Tensor, Activation]:
    model = rcfg["model"]
    if "init" in model:
        ident = model["init"]
        params = init_params(ident["seed"], tuple(ident["hidden"]), ident["n_in"], 1,
                             getattr(torch, ident["dtype"]))
        n_train, n_val, n_test = ident["sizes"]
        size = {"train": n_train, "val": n_val, "test": n_test}[rcfg["split"]]
        x = make_inputs(size, rcfg["split"], ident["data_seed"], ident["n_in"])
        act = Activation(**ident["activation"]) if "activation" in ident else GELU
        return params, x[:rcfg["n_x"]].to(torch.float64), act
    config = model["run"]
    run = load_run(config, cache)
    if run is None:
        raise RuntimeError(f"run {config} is not in {cache}: train it first (ensure_runs)")
    return (state_params(run, rcfg["state"]), eval_inputs(config, rcfg["split"], rcfg["n_x"]),
            config.activation)


def store_each(kind: str, configs: Sequence, cache_root: str, compute, on_result) -> list[str]:
    """Compute ``compute(config, cache)`` for each config and store it; return the keys."""
    cache = Cache(cache_root)
    keys = []
    for config in configs:
        cache.store(kind, config, compute(config, cache))
        keys.append(cache.key(kind, config))
        if on_result is not None:
            on_result(keys[-1])
    return keys


def _rr_payload(per_x: dict) -> dict:
    return {"reached": True, "rr": {int(k): float(torch.nanmean(v)) for k, v in per_x.items()},
            "excluded": {int(k): int(torch.isnan(v).sum()) for k, v in per_x.items()}}


def _rotation_ratios(rcfg: dict, cache: Cache) -> dict:
    """Payload of one p1_rr entry. A "signed" entry is computed in the same kernel pass as
    the "abs" one, which is stored too when the cache lacks it (one pass for both)."""
    reading = rcfg.get("reading", "abs")
    abs_cfg = {key: v for key, v in rcfg.items() if key != "reading"}
    both = reading != "abs" and cache.load(RR_KIND, abs_cfg) is None
    params, x, act = _rr_params_and_inputs(rcfg, cache)
    if params is None:
        if both:
            cache.store(RR_KIND, abs_cfg, {"reached": False})
        return {"reached": False}
    J = first_layer_jacobian(params, x, act)
    R = fixed_rotations(J.shape[1], rcfg["n_rot"], rcfg["rotation_seed"])
    readings = ("abs", reading) if both else (reading,)
    per_x = random_rotation_ratios_readings(J, rcfg["ks"], R, readings, return_per_example=True)
    if both:
        cache.store(RR_KIND, abs_cfg, _rr_payload(per_x["abs"]))
    return _rr_payload(per_x[reading])


def rr_task(kind: str, configs: Sequence[dict], cache_root: str, on_result=None) -> list[str]:
    """Sweep task of kind ``p1_rr``: random rotation ratios (IV.6-IV.7) of each state."""
    return store_each(kind, configs, cache_root, _rotation_ratios, on_result)


def _rr_group(configs: list) -> list[list]:
    return [[c] for c in configs]


def _rr_dependencies(rcfg: dict) -> list:
    run = rcfg["model"].get("run")
    return [(RUN_KIND, run)] if run is not None else []


register_kind(RR_KIND, group=_rr_group, task=rr_task, dependencies=_rr_dependencies,
              splittable=True)


# ------------------------------------------------------- kind p1_eval (state vs its init)
def eval_config(config: RunConfig, state: str, ecfg: EvalConfig) -> dict:
    return {"run": config, "state": check_state(state), "eval": ecfg}


# The dead-rows-out reading (kind p1_alive, computed and registered by kag_utils.p1.dead_neurons;
# its config is built here so that evaluate() does not import dead_neurons).
ALIVE_KIND = "p1_alive"
DEAD_Q1 = 0.01               # q(1) that defines a dead row (A-14, A-29; App. B's headline)
DEAD_FRACTION = 0.99         # "consistently": zero in >= 99 % of the inputs (REPRODUCTION 2.6)


def alive_config(config, state: str, ecfg, dead_q1: float = DEAD_Q1,
                 dead_fraction: float = DEAD_FRACTION) -> dict:
    """Cache config of the dead-rows-out reading of one state (a kind of its own: the keys of
    the all-rows evaluation, p1_eval and p1_rr, are untouched)."""
    return {**eval_config(config, state, ecfg),
            "dead": {"k": 1, "q1": float(dead_q1), "fraction": float(dead_fraction)}}


@functools.lru_cache(maxsize=4)
def load_run_cached(config: RunConfig, cache_root: str) -> Run:
    run = load_run(config, Cache(cache_root))
    if run is None:
        raise RuntimeError(f"run {config} is not in {cache_root}: train it first (ensure_runs)")
    return run


def _state_metrics(ec: dict, cache: Cache) -> dict:
    config, state, ecfg = ec["run"], ec["state"], ec["eval"]
    run = load_run_cached(config, str(cache.root))
    params = state_params(run, state)
    r2, epoch = state_r2(run, state)
    payload: dict[str, Any] = {"reached": params is not None, "state_r2": r2,
                               "state_epoch": epoch}
    if params is None:
        return payload
    x = eval_inputs(config, ecfg.split, ecfg.n_x)
    payload.update(p1_metrics(first_layer_jacobian(params, x, config.activation),
                              first_layer_jacobian(run.init_params, x, config.activation),
                              ecfg.ks, ecfg.q1s,
                              consistent_fraction=ecfg.consistent_fraction))
    if ecfg.n_rot:
        for tag, st in (("", state), ("_init", "init")):
            rr = cache.load(RR_KIND, rr_config(config, st, ecfg))
            if rr is None:
                raise RuntimeError("rotation ratios missing from the cache; compute them with "
                                   "evaluate() (it resolves dependencies)")
            for k in ecfg.ks:
                payload[f"rr{tag}_k{k}"] = rr["rr"][k]
        for k in ecfg.ks:
            payload[f"rr_norm_k{k}"] = payload[f"rr_k{k}"] / payload[f"rr_init_k{k}"]
    return payload


def store_run_readings(kind: str, configs: Sequence[dict], cache_root: str, compute,
                       on_result) -> list[str]:
    """Body of the sweep tasks whose configs read states of cached runs (grouped by
    :func:`kag_utils.p1.runs.group_by_run`, loaded through :func:`load_run_cached`):
    :func:`store_each`, then the task's runs are let go."""
    try:
        return store_each(kind, configs, cache_root, compute, on_result)
    finally:
        load_run_cached.cache_clear()


def eval_task(kind: str, configs: Sequence[dict], cache_root: str, on_result=None) -> list[str]:
    """Sweep task of kind ``p1_eval``: every P1 metric of a state against its initial model."""
    return store_run_readings(kind, configs, cache_root, _state_metrics, on_result)


def _eval_dependencies(ec: dict) -> list:
    deps = [(RUN_KIND, ec["run"])]
    if ec["eval"].n_rot:
        deps += [(RR_KIND, rr_config(ec["run"], st, ec["eval"]))
                 for st in dict.fromkeys((ec["state"], "init"))]
    return deps


# Each state is evaluated on its own (grouping only saves loading a run twice): splittable.
register_kind(EVAL_KIND, group=group_by_run, task=eval_task, dependencies=_eval_dependencies,
              splittable=True)


# ------------------------------------------------------------------------- public entry
def config_columns(config: RunConfig) -> dict:
    """The settings that tell runs apart, as DataFrame columns."""
    return {"target": config.target, "param": config.target_param, "m": config.hidden[0],
            "seed": config.seed, "batch_size": config.batch_size, "monitor": config.monitor}


def evaluate(configs: Sequence[RunConfig], states: Sequence[str] = ("final",),
             ecfg: EvalConfig | None = None, cache: Cache | None = None,
             progress: bool = True, scheduler: Any = None,
             rr_readings: Sequence[str] = ("abs",), dead_rows: str = "in"):
    """Every P1 metric for each (config, state), training and evaluating only what the cache
    lacks. Returns a pandas DataFrame, one row per (config, state), with the columns of
    :func:`config_columns`, ``state``, ``state_r2``, ``state_epoch``, ``reached`` and the
    metric keys of :func:`kag_utils.core.metrics.p1_metrics` plus ``rr_k*``, ``rr_init_k*``,
    ``rr_norm_k*`` (normalised = trained / initial of the same seed: A-16).

    rr_readings: with "signed" also ``rr_signed_k*``, ``rr_signed_init_k*`` and
    ``rr_signed_norm_k*``, the ratios under the signed-maximum reading of IV.6-IV.7. Those
    entries are computed first, each in one kernel pass with its "abs" twin, so asking for
    both costs one pass where neither is cached (no cache key of the "abs" reading changes).

    ``dead_rows="out"``: the second reading, every metric of the model with its dead
    (consistently zero size-1) rows left out (:mod:`kag_utils.p1.dead_neurons`), with the same
    columns plus ``n_dead`` and ``m_alive``; "in" (default): P1's reading, all rows. The
    signed RR reading is not defined for it (ValueError).
    """
    import pandas as pd

    if ecfg is None:
        raise ValueError("evaluate needs an EvalConfig: its sample sizes have no library default "
                         "(they live in the notebooks' parameters cells); P1's full fidelity is "
                         "EvalConfig(n_x=1000, n_rot=400, n_x_rot=1000)")
    if dead_rows not in ("in", "out"):
        raise ValueError(f"dead_rows must be 'in' (all rows) or 'out' (dead rows left out), "
                         f"got {dead_rows!r}")
    cache = cache if cache is not None else Cache()
    extra = [r for r in dict.fromkeys(rr_readings) if r != "abs"]
    if extra and dead_rows == "out":
        raise ValueError("the dead-rows-out reading has the 'abs' rotation ratio only: pass "
                         "rr_readings=('abs',) with dead_rows='out'")
    if set(rr_readings) - set(RR_READINGS):
        raise ValueError(f"rr_readings must be a subset of {RR_READINGS}, got {rr_readings!r}")
    if extra and not ecfg.n_rot:
        raise ValueError("rr_readings beyond 'abs' need n_rot > 0 in the EvalConfig")
    signed = {}
    for reading in extra:
        rcfgs = list({cache.key(RR_KIND, rc): rc for rc in
                      (rr_config(c, st, ecfg, reading) for c in configs
                       for st in dict.fromkeys((*states, "init")))}.values())
        signed[reading] = dict(zip([cache.key(RR_KIND, rc) for rc in rcfgs],
                                   compute_and_load(RR_KIND, rcfgs, cache, progress=progress,
                                                    scheduler=scheduler)))
    items = [eval_config(c, s, ecfg) for c in configs for s in states]
    if dead_rows == "out":
        payloads = compute_and_load(ALIVE_KIND, [alive_config(c, s, ecfg) for c in configs
                                                 for s in states], cache, progress=progress,
                                    scheduler=scheduler)
    else:
        payloads = compute_and_load(EVAL_KIND, items, cache, progress=progress,
                                    scheduler=scheduler)
    rows = []
    for ec, payload in zip(items, payloads):
        row = {**config_columns(ec["run"]), "state": ec["state"], **payload}
        for reading, got in signed.items():
            tr = got[cache.key(RR_KIND, rr_config(ec["run"], ec["state"], ecfg, reading))]
            ini = got[cache.key(RR_KIND, rr_config(ec["run"], "init", ecfg, reading))]
            for k in ecfg.ks:
                t = tr["rr"][k] if tr.get("reached") else math.nan
                i = ini["rr"][k]
                row[f"rr_{reading}_k{k}"] = t
                row[f"rr_{reading}_init_k{k}"] = i
                row[f"rr_{reading}_norm_k{k}"] = t / i
        rows.append(row)
    return pd.DataFrame(rows)
