"""Open question (notebook 07): KA geometry in deeper MLPs, layer by layer.

P1 studies one hidden layer and asks (§V) "Jacobians between which pair of layers" to look
at in larger models. Here the model has L = 1, 2 or 3 GeLU hidden layers of width m (32),
h_l = sigma(h_{l-1} W_l + b_l), h_0 = x, trained under P1's protocol on xor, linear and random
(:class:`RunConfig` with ``hidden=(32, 32)`` etc.; the trainer and evaluate() handle any
depth, P1's metrics of evaluate() being those of the FIRST layer). For every hidden layer l
this module reads P1's metrics (zero rows IV.3, participation ratios IV.5, random rotation
ratios IV.7, column divergence IV.13) of two Jacobians:

* ``"input"``: the composed map x -> h_l, dh_l/dx: [B, m, n] with n = 3 columns, exactly as P1
  reads its first layer (the same ks, inputs, rotations);
* ``"own"``: the layer's own map h_{l-1} -> h_l, dh_l/dh_{l-1} = diag(sigma'(z_l)) W_l^T:
  [B, m, m_{l-1}]. For l >= 2 it is square (32 x 32): its size-k minor matrix has
  C(32, k)^2 entries per input (246,016 for k = 2, 24.6 M for k = 3), so these Jacobians use
  their own, smaller settings (``ks_hidden``, default (1, 2), and ``n_x_hidden`` inputs).

For l = 1 both are P1's Jacobian (II.3), computed once and reported under both names. The
trained Jacobians are compared with the same seed's initial model's at the same inputs
(zero-row thresholds, pr_norm, rr_norm, divergence), as in P1. Each (run, state) is one
cached entry of kind ``p1_layers`` (all layers and both Jacobians), registered with the sweep.
:func:`depth_study` trains, evaluates and returns tidy DataFrames.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd
import torch

from ..core.activations import GELU, Activation
from ..core.jacobians import mlp_layer_jacobians
from ..core.metrics import p1_metrics, random_rotation_ratios
from ..pipeline.cache import Cache
from ..pipeline.sweep import compute_and_load, register_kind
from .activations import METRICS, run_table, seed_summary
from .evaluation import (SPLITS, check_state, eval_inputs, fixed_rotations, load_run_cached,
                         state_params, state_r2, store_run_readings)
from .models import Params
from .protocol import P1_PROTOCOL
from .runs import KIND as RUN_KIND
from .runs import RunConfig, ensure_runs, group_by_run

__all__ = ["LAYER_KIND", "JACOBIANS", "DEPTH_TARGETS", "DEPTH_METRICS", "LayerEvalConfig",
           "layer_jacobians", "layer_metrics", "depth_configs", "layer_config", "depth_study"]

LAYER_KIND = "p1_layers"
JACOBIANS = ("input", "own")
#: xor(32) (KA geometry in P1), the too simple linear(32) and the unlearnable random(32).
DEPTH_TARGETS = (("xor", None), ("linear", None), ("random", None))
#: METRICS plus the initial model's values of the same quantities.
DEPTH_METRICS = {**METRICS, "zero_frac_init": "zero_frac_init_k{k}_q{q}", "pr_init": "pr_init_k{k}",
                 "rr_init": "rr_init_k{k}"}


@dataclass(frozen=True, kw_only=True)
class LayerEvalConfig:
    """How every layer's Jacobians of one model state are evaluated.

    Jacobians with the model's ``n_in`` columns (every "input" Jacobian, and layer 1's "own")
    use the first ``n_x`` inputs of ``split`` and minor sizes ``ks``; the square
    hidden-to-hidden "own" Jacobians (l >= 2) the first ``n_x_hidden`` inputs and
    ``ks_hidden``. The random rotation ratio uses ``n_rot`` (square Jacobians:
    ``n_rot_hidden``) fixed Haar rotations of SO(m) (seed ``rotation_seed``, the set of
    evaluate()) on the first ``n_x_rot`` of a Jacobian's inputs (at most its n_x); 0 rotations
    skip it. The sample sizes have no defaults (they belong in the notebook's parameters
    cell): a square 32 x 32 Jacobian costs C(32, 2)^2 = 246,016 size-2 minors per input and
    rotation, against C(32, 3) x 1 = 4,960 size-3 minors for P1's 32 x 3."""
    split: str = "train"
    n_x: int
    ks: tuple[int, ...] = (1, 2, 3)
    n_x_hidden: int
    ks_hidden: tuple[int, ...] = (1, 2)
    q1s: tuple[float, ...] = (1e-4, 1e-3, 1e-2)
    consistent_fraction: float = 0.99
    n_rot: int
    n_rot_hidden: int
    n_x_rot: int = 1000
    rotation_seed: int = 0

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        for name in ("ks", "ks_hidden"):
            ks = tuple(sorted({int(k) for k in getattr(self, name)}))
            if not ks or ks[0] < 1:
                raise ValueError(f"{name} must be positive minor sizes, got {getattr(self, name)}")
            set_(name, ks)
        set_("q1s", tuple(float(q) for q in self.q1s))
        for name in ("n_x", "n_x_hidden", "n_rot", "n_rot_hidden", "n_x_rot", "rotation_seed"):
            set_(name, int(getattr(self, name)))
        if (min(self.n_x, self.n_x_hidden) < 2 or min(self.n_rot, self.n_rot_hidden) < 0
                or self.n_x_rot < 1):
            raise ValueError("need n_x, n_x_hidden >= 2, n_rot, n_rot_hidden >= 0 and n_x_rot >= 1")


def layer_jacobians(params: Params, x: torch.Tensor, activation: Activation = GELU
                    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """(own, composed) Jacobians of every hidden layer of a P1 model (params as in
    :mod:`kag_utils.p1.models`, the read-out left out), float64: own[l]: [B, m_l, m_{l-1}],
    composed[l]: [B, m_l, n] (:func:`kag_utils.core.jacobians.mlp_layer_jacobians`)."""
    hidden = params[:-1]
    if not hidden:
        raise ValueError("the model has no hidden layer")
    return mlp_layer_jacobians(x.to(torch.float64), [p["W"].to(torch.float64) for p in hidden],
                               [p["b"].to(torch.float64) for p in hidden], activation)


def _jacobian_metrics(J: torch.Tensor, J0: torch.Tensor, ks, lcfg: LayerEvalConfig,
                      n_rot: int) -> dict:
    """P1 metrics of one Jacobian pair (trained, initial) [B, m, c], plus the RR."""
    ks = tuple(k for k in ks if k <= min(J.shape[1:]))
    out = p1_metrics(J, J0, ks, lcfg.q1s, consistent_fraction=lcfg.consistent_fraction)
    if n_rot:
        R = fixed_rotations(J.shape[1], n_rot, lcfg.rotation_seed)     # [n_rot, m, m]
        nx = min(lcfg.n_x_rot, J.shape[0])
        rt = random_rotation_ratios(J[:nx], ks, R)
        ri = random_rotation_ratios(J0[:nx], ks, R)
        for k in ks:
            out[f"rr_k{k}"], out[f"rr_init_k{k}"] = rt[k], ri[k]
            out[f"rr_norm_k{k}"] = rt[k] / ri[k]
    return out


def layer_metrics(params: Params, init_params: Params, x: torch.Tensor, lcfg: LayerEvalConfig,
                  activation: Activation = GELU) -> list[dict]:
    """P1 metrics of every hidden layer's "input" and "own" Jacobians of ``params`` against
    ``init_params`` (the same seed's initial model) at the inputs x: [N, n] (N >= lcfg.n_x and
    >= n_x_hidden). One dict per (layer, jacobian) with ``layer`` (1-based), ``jacobian``,
    ``rows``, ``cols``, ``n_x`` and the keys of :func:`kag_utils.core.metrics.p1_metrics`
    (+ rr_k*, rr_init_k*, rr_norm_k* when the Jacobian's rotation count is > 0)."""
    n_x = max(lcfg.n_x, lcfg.n_x_hidden)
    if x.shape[0] < n_x:
        raise ValueError(f"need at least {n_x} inputs, got {x.shape[0]}")
    own, comp = layer_jacobians(params, x[:n_x], activation)
    own0, comp0 = layer_jacobians(init_params, x[:n_x], activation)
    out = []
    for l in range(len(own)):
        entries = [("input", comp[l], comp0[l])]
        if l > 0:
            entries.append(("own", own[l], own0[l]))
        for name, J, J0 in entries:
            square = J.shape[2] != x.shape[1]
            nx, ks, n_rot = ((lcfg.n_x_hidden, lcfg.ks_hidden, lcfg.n_rot_hidden) if square
                             else (lcfg.n_x, lcfg.ks, lcfg.n_rot))
            m = _jacobian_metrics(J[:nx], J0[:nx], ks, lcfg, n_rot)
            head = {"layer": l + 1, "rows": int(J.shape[1]), "cols": int(J.shape[2]), "n_x": nx}
            out.append({**head, "jacobian": name, **m})
            if l == 0:                                  # layer 1: own == input (one matrix)
                out.append({**head, "jacobian": "own", **m})
    return out


# ------------------------------------------------------------------ kind p1_layers (cached)
def layer_config(config: RunConfig, state: str, lcfg: LayerEvalConfig) -> dict:
    """Cache config of the per-layer metrics of one state of one run."""
    if not isinstance(lcfg, LayerEvalConfig):
        raise ValueError("lcfg must be a LayerEvalConfig, e.g. LayerEvalConfig(n_x=1000, "
                         "n_x_hidden=25, n_rot=100, n_rot_hidden=20, n_x_rot=250)")
    return {"run": config, "state": check_state(state), "layers": lcfg}


def _layers_payload(lc: dict, cache: Cache) -> dict:
    config, state, lcfg = lc["run"], lc["state"], lc["layers"]
    run = load_run_cached(config, str(cache.root))
    params = state_params(run, state)
    r2, epoch = state_r2(run, state)
    payload: dict[str, Any] = {"reached": params is not None, "state_r2": r2,
                               "state_epoch": epoch}
    if params is None:
        return payload
    x = eval_inputs(config, lcfg.split, max(lcfg.n_x, lcfg.n_x_hidden))
    payload["layers"] = layer_metrics(params, run.init_params, x, lcfg, config.activation)
    return payload


def layers_task(kind: str, configs, cache_root: str, on_result=None) -> list[str]:
    """Sweep task of kind ``p1_layers``: every layer's metrics of each state."""
    return store_run_readings(kind, configs, cache_root, _layers_payload, on_result)


def _layers_dependencies(lc: dict) -> list:
    return [(RUN_KIND, lc["run"])]


register_kind(LAYER_KIND, group=group_by_run, task=layers_task,
              dependencies=_layers_dependencies, splittable=True)


# ------------------------------------------------------------------------------ the study
def depth_configs(depths: Sequence[int] = (1, 2, 3),
                  targets: Sequence[tuple[str, Any]] = DEPTH_TARGETS,
                  seeds: Sequence[int] = P1_PROTOCOL["seeds"], width: int = 32,
                  **overrides) -> list[RunConfig]:
    """One RunConfig per (depth, target, seed) with ``hidden = (width,) * depth``, in that
    nesting order; ``overrides`` go to every config (max_epochs, patience, activation, ...)."""
    if not depths or min(int(d) for d in depths) < 1:
        raise ValueError(f"depths must be positive numbers of hidden layers, got {depths!r}")
    return [RunConfig(target=t, target_param=p, hidden=(int(width),) * int(d), seed=int(s),
                      **overrides) for d in depths for t, p in targets for s in seeds]


def depth_study(depths: Sequence[int] = (1, 2, 3),
                targets: Sequence[tuple[str, Any]] = DEPTH_TARGETS,
                seeds: Sequence[int] = P1_PROTOCOL["seeds"], *, lcfg: LayerEvalConfig,
                width: int = 32, states: Sequence[str] = ("final",), q1: float = 0.01,
                criterion: float = 0.9, cache: Cache | None = None, scheduler: Any = None,
                progress: bool = True, **overrides) -> dict[str, pd.DataFrame]:
    """Train (cached) MLPs of each depth and read P1's metrics of every layer; return tidy
    DataFrames:

    ``runs``     :func:`kag_utils.p1.activations.run_table` (depth, R^2, epochs to criterion)
    ``metrics``  one row per (depth, target, param, seed, state, layer, jacobian, metric, k):
                 run columns, state, state_r2, state_epoch, layer (1-based), jacobian
                 ("input": dh_l/dx, "own": dh_l/dh_{l-1}), rows, cols, n_x, metric (a
                 :data:`DEPTH_METRICS` name), k, value. A k the Jacobian does not have (k of
                 ks but not ks_hidden for a square one) has no row.
    ``summary``  seed statistics (mean, std, se, n) per (depth, target, param, state, layer,
                 jacobian, metric, k)

    q(1) = ``q1`` must be one of ``lcfg.q1s``; ``overrides`` go to every RunConfig.

    Cost (CPU seconds on the 2-core development machine, 3 targets x 4 seeds, depths 1-3):
    training about 60; evaluation about 105 with LayerEvalConfig(n_x=500, n_x_hidden=50,
    n_rot=100, n_rot_hidden=20, n_x_rot=250) and about 460 with (n_x=1000, n_x_hidden=100,
    n_rot=400, n_rot_hidden=50, n_x_rot=1000); wall times are 1.3-2x that at load 3-7."""
    if not any(math.isclose(q, q1) for q in lcfg.q1s):
        raise ValueError(f"q1 = {q1} is not among the LayerEvalConfig's q1s {lcfg.q1s}")
    q1 = next(q for q in lcfg.q1s if math.isclose(q, q1))
    states = [check_state(s) for s in states]
    configs = depth_configs(depths, targets, seeds, width, **overrides)
    cache = cache if cache is not None else Cache()
    runs = ensure_runs(configs, cache=cache, progress=progress, scheduler=scheduler)
    rt = run_table(configs, runs, criterion)
    items = [layer_config(c, s, lcfg) for c in configs for s in states]
    payloads = compute_and_load(LAYER_KIND, items, cache, progress=progress, scheduler=scheduler)
    run_cols = rt[["activation", "target", "param", "m", "depth", "seed"]]
    rows = []
    for i, (lc, payload) in enumerate(zip(items, payloads)):
        base = {**run_cols.iloc[i // len(states)].to_dict(), "state": lc["state"],
                "state_r2": payload["state_r2"], "state_epoch": payload["state_epoch"]}
        for entry in payload.get("layers", []):
            head = {**base, **{k: entry[k] for k in ("layer", "jacobian", "rows", "cols", "n_x")}}
            for name, pattern in DEPTH_METRICS.items():
                for k in (lcfg.ks_hidden if entry["cols"] != lc["run"].n_in else lcfg.ks):
                    col = pattern.format(k=k, q=f"{q1:g}")
                    if k <= min(entry["rows"], entry["cols"]) and col in entry:
                        rows.append({**head, "metric": name, "k": int(k),
                                     "value": float(entry[col])})
    mt = pd.DataFrame(rows)
    summary = seed_summary(mt, ["depth", "target", "param", "state", "layer", "jacobian",
                                "metric", "k"])
    return {"runs": rt, "metrics": mt, "summary": summary}
