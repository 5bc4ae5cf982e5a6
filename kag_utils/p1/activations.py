"""Open question of P1 §V (notebook 07): do oscillatory activations speed up learning and
push KA geometry forward?

P1 §V proposes "activation functions with periodic terms", e.g. x + 0.1 sin(10x), as a cheap
way to nudge KA geometry: their coordinate-wise stretching and compressing should, on
average, increase the coordinate alignment of the Jacobian and hence minor concentration.
This module trains P1's one-hidden-layer model of width m = 32 with GeLU (P1's activation),
GeLU(z) + a sin(b z) and z + a sin(b z) (:mod:`kag_utils.core.activations`) on xor(32),
lambda-xor(32) across its learnability transition, linear(32) and random(32), under P1's
protocol, and reads

* learning speed and quality: epochs until the training R^2 first reaches ``criterion``
  (0.9: NaN if never; history row index, P1's epoch resolution), final training and test R^2;
* KA geometry over training: zero rows (q(1) = 0.01, IV.3), participation ratios (IV.5),
  random rotation ratios (IV.7) and column divergence (IV.13) at the initial model, at the
  first epochs whose training R^2 reached each of ``checkpoints`` (the trainer's R^2-grid
  checkpoints, A-24) and at the selected (final) weights, each by :func:`evaluate` (cached;
  the initial model's values come with every trained state's evaluation);
* every quantity of each activation against GeLU's, per target and state: seed means, their
  standard errors, Welch's t and the t of the differences paired by model seed (the same
  seed has the same initial weights and mini-batch order under every activation).

Every metric is computed from the run's own Jacobians, J = diag(sigma'(z)) A^T with its
activation's sigma', and normalised (pr_norm, rr_norm) by the same seed's initial model
*with the same activation*; the raw values (pr, rr) and the "init" state show what the
activation does before any training. Zero rows are relative to the threshold of the same
initial model (IV.3), so their "init" value is about q^(k) by construction.

:func:`activation_study` returns tidy DataFrames (see there); notebooks call it and plot.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import pandas as pd

from ..core.activations import GELU, Activation
from ..pipeline.cache import Cache
from ..readings.aggregate import compare_to_baseline, summarize
from .evaluation import EvalConfig, checkpoint_state, evaluate
from .protocol import P1_PROTOCOL
from .runs import RunConfig, ensure_runs
from .training import epochs_to_criterion

__all__ = ["P1_OSCILLATION", "DATA_SEEDS", "STUDY_TARGETS", "STUDY_ACTIVATIONS", "METRICS",
           "INIT_METRICS", "RUN_QUANTITIES", "study_configs", "run_table", "metric_table",
           "seed_summary", "activation_study"]

#: P1 §V's example "x + 0.1 sin(10x)": amplitude a and frequency b of the sine term.
P1_OSCILLATION = {"a": 0.1, "b": 10.0}
#: (target, parameter): xor(32), lambda-xor(32) across its learnability transition, the too
#: simple linear(32) and the unlearnable random(32) (P1 §IV).
STUDY_TARGETS = (("xor", None), ("lambda_xor", 0.8), ("lambda_xor", 1.2), ("lambda_xor", 1.6),
                 ("lambda_xor", 2.0), ("linear", None), ("random", None))
#: GeLU (the baseline), GeLU + 0.1 sin(10 z) and P1's z + 0.1 sin(10 z).
STUDY_ACTIVATIONS = (GELU, Activation("gelu_sin", **P1_OSCILLATION),
                     Activation("x_sin", **P1_OSCILLATION))
#: Metric name -> evaluate() column pattern ({k}: minor size, {q}: q(1)).
METRICS = {"zero_frac": "zero_frac_k{k}_q{q}", "pr": "pr_k{k}", "pr_norm": "pr_norm_k{k}",
           "rr": "rr_k{k}", "rr_norm": "rr_norm_k{k}", "divergence": "divergence_k{k}"}
#: How the training inputs of each model seed are drawn (study_configs).
DATA_SEEDS = ("notebooks", "fixed", "model")
#: The initial model's value of each METRICS entry, read off a trained state's evaluation
#: (p1_metrics compares every state with the same initial model at the same inputs): a
#: column pattern, or the constant the definition gives (a model against itself).
INIT_METRICS = {"zero_frac": "zero_frac_init_k{k}_q{q}", "pr": "pr_init_k{k}", "pr_norm": 1.0,
                "rr": "rr_init_k{k}", "rr_norm": 1.0, "divergence": 0.0}
#: Per-run quantities compared across activations (run_table columns).
RUN_QUANTITIES = ("epochs_to_criterion", "reached_criterion", "r2_train", "r2_test",
                  "stop_epoch")


def _label(act: Activation) -> str:
    return str(act)


def study_configs(activations: Sequence[Activation] = STUDY_ACTIVATIONS,
                  targets: Sequence[tuple[str, Any]] = STUDY_TARGETS,
                  seeds: Sequence[int] = P1_PROTOCOL["seeds"], width: int = 32,
                  data_seeds: str = "notebooks", **overrides) -> list[RunConfig]:
    """One RunConfig per (activation, target, seed), in that nesting order. ``data_seeds``:
    "notebooks" (default: lambda-xor inputs drawn with the model seed as notebook 04 does,
    every other target's with data seed 0 as notebooks 01-03 do, so that under the same
    protocol the GeLU runs are those notebooks' cached runs), "fixed" (data seed 0 for all) or
    "model" (data seed = model seed for all). ``overrides`` go to every RunConfig (max_epochs,
    patience, n_train, ...)."""
    if data_seeds not in DATA_SEEDS:
        raise ValueError(f"data_seeds must be one of {DATA_SEEDS}, got {data_seeds!r}")
    acts = [a if isinstance(a, Activation) else _bad_activation(a) for a in activations]
    if len({_label(a) for a in acts}) != len(acts):
        raise ValueError(f"activations must be distinct, got {[_label(a) for a in acts]}")
    def data_seed(target: str, seed: int) -> int:
        per_model = data_seeds == "model" or (data_seeds == "notebooks" and target == "lambda_xor")
        return int(seed) if per_model else 0

    return [RunConfig(target=t, target_param=p, hidden=(int(width),), seed=int(s),
                      data_seed=data_seed(t, s), activation=a, **overrides)
            for a in acts for t, p in targets for s in seeds]


def _bad_activation(a) -> Activation:
    raise ValueError(f"activations must be Activation values, e.g. Activation('x_sin', 0.1, 10.0); "
                     f"got {a!r}")


def _run_columns(c: RunConfig) -> dict:
    return {"activation": _label(c.activation), "target": c.target,
            "param": math.nan if c.target_param is None else float(c.target_param),
            "m": c.hidden[0], "depth": len(c.hidden), "seed": c.seed}


def run_table(configs: Sequence[RunConfig], runs: Sequence, criterion: float = 0.9) -> pd.DataFrame:
    """One row per run: activation, target, param (NaN without one), m, depth, seed,
    ``epochs_to_criterion`` (first epoch whose training R^2 >= criterion; NaN if never),
    ``reached_criterion``, ``stop_epoch``, ``selected_epoch``, ``r2_train``, ``r2_test`` (of
    the selected weights) and ``r2_train_max`` (best training R^2 of any epoch)."""
    rows = []
    for c, r in zip(configs, runs, strict=True):
        ep = epochs_to_criterion(r.history["train_r2"], criterion)
        rows.append({**_run_columns(c), "criterion": float(criterion),
                     "epochs_to_criterion": math.nan if ep is None else float(ep),
                     "reached_criterion": ep is not None, "stop_epoch": r.stop_epoch,
                     "selected_epoch": r.selected_epoch, "r2_train": r.r2["train"],
                     "r2_test": r.r2["test"],
                     "r2_train_max": float(r.history["train_r2"].max())})
    return pd.DataFrame(rows)


def metric_table(configs: Sequence[RunConfig], states: Sequence[str], ev: pd.DataFrame,
                 ks: Sequence[int], q1: float, runs: Sequence | None = None) -> pd.DataFrame:
    """The tidy (long) form of :func:`evaluate`'s table for ``configs`` x ``states`` (its row
    order): one row per (run, state, metric, k) with the run columns, state, state_r2,
    state_epoch, reached, metric (a :data:`METRICS` name), k and value (NaN where the run
    never reached the state's checkpoint).

    With ``runs`` (the configs' Run objects), each run also gets "init" rows, read off its
    "final" evaluation (:data:`INIT_METRICS`: the initial model's values that every trained
    state's evaluation carries), which equal evaluate()'s own "init" state without its cost."""
    if len(ev) != len(configs) * len(states):
        raise ValueError(f"expected {len(configs)} x {len(states)} evaluated rows, got {len(ev)}")
    if runs is not None and "final" not in states:
        raise ValueError("the init rows are read off the 'final' state: evaluate it too")
    rows = []
    for i, rec in enumerate(ev.to_dict("records")):
        c = configs[i // len(states)]
        if rec["seed"] != c.seed or rec["target"] != c.target or rec["state"] != states[i % len(states)]:
            raise ValueError("evaluate() rows are not in (config, state) order")
        base = {**_run_columns(c), "state": rec["state"], "state_r2": rec.get("state_r2"),
                "state_epoch": rec.get("state_epoch"), "reached": bool(rec.get("reached", False))}
        if runs is not None and rec["state"] == "final":
            r2_0 = float(runs[i // len(states)].history["train_r2"][0])
            init = {**base, "state": "init", "state_r2": r2_0, "state_epoch": 0, "reached": True}
            rows.extend(_metric_rows(init, rec, INIT_METRICS, ks, q1))
        rows.extend(_metric_rows(base, rec, METRICS, ks, q1))
    return pd.DataFrame(rows)


def _metric_rows(base: dict, rec: dict, patterns: dict, ks, q1: float) -> list[dict]:
    rows = []
    for name, pattern in patterns.items():
        for k in ks:
            if not base["reached"]:
                value = math.nan
            elif isinstance(pattern, str):
                value = rec.get(pattern.format(k=k, q=f"{q1:g}"), math.nan)
            else:
                value = pattern
            rows.append({**base, "metric": name, "k": int(k),
                         "value": math.nan if value is None else float(value)})
    return rows


def activation_study(activations: Sequence[Activation] = STUDY_ACTIVATIONS,
                     targets: Sequence[tuple[str, Any]] = STUDY_TARGETS,
                     seeds: Sequence[int] = P1_PROTOCOL["seeds"], *, ecfg: EvalConfig,
                     width: int = 32, checkpoints: Sequence[float] = (0.5, 0.9),
                     criterion: float = 0.9, q1: float = 0.01, baseline: Activation = GELU,
                     data_seeds: str = "notebooks", cache: Cache | None = None,
                     scheduler: Any = None, progress: bool = True,
                     **overrides) -> dict[str, pd.DataFrame]:
    """Train (cached) and evaluate the activation study; return tidy DataFrames:

    ``runs``        :func:`run_table`: one row per (activation, target, param, seed)
    ``metrics``     :func:`metric_table` at the states "init" (read off the final
                    evaluation), "r2>=G" for G in ``checkpoints`` (on the runs' R^2 grid;
                    NaN where a run never reached G) and "final"
    ``summary``     seed statistics of every quantity: activation, target, param, state
                    ("run" for the per-run quantities), quantity (a RUN_QUANTITIES or
                    METRICS name), k (NaN for run quantities), mean, std, se, n (NaN values,
                    e.g. a criterion or checkpoint never reached, are not counted; the mean
                    of "reached_criterion" is the share of seeds that reached it)
    ``comparison``  every other activation against ``baseline`` (GeLU) per (target, param,
                    state, quantity, k): means, se, n of both, Welch's diff, diff_se, t, df, p
                    and the seed-paired statistics (``paired_*``; readings.aggregate)

    ``ecfg`` sets the evaluation sample sizes (P1: EvalConfig(n_x=1000, n_rot=400,
    n_x_rot=1000)); it must contain q(1) = ``q1``. ``overrides`` go to every RunConfig
    (max_epochs, patience, ...); the protocol defaults are P1's. Cost (CPU seconds on the
    2-core development machine, the default 3 activations x 7 targets x 4 seeds): training
    about 75 under P1's protocol; one evaluate() per run and state in ``checkpoints`` plus
    "final": about 0.5 s per state at EvalConfig(n_x=500, n_rot=100, n_x_rot=250), 1.5 s at
    P1's (n_x=1000, n_rot=400, n_x_rot=1000) (120 and 630 in all for 2 and 4 checkpoints);
    wall times are 1.3-2x that at load 3-7."""
    if baseline not in activations:
        raise ValueError(f"the baseline {_label(baseline)} must be one of the activations")
    if not any(math.isclose(q, q1) for q in ecfg.q1s):
        raise ValueError(f"q1 = {q1} is not among the EvalConfig's q1s {ecfg.q1s}")
    q1 = next(q for q in ecfg.q1s if math.isclose(q, q1))
    if not 0 < criterion <= 1:
        raise ValueError(f"criterion must be a training R^2 in (0, 1], got {criterion}")
    configs = study_configs(activations, targets, seeds, width, data_seeds, **overrides)
    step = configs[0].checkpoint_step
    for g in checkpoints:
        if not 0 <= g < 1 or abs(round(g / step) * step - g) > 1e-9:
            raise ValueError(f"checkpoint {g} is not on the runs' R^2 grid (step {step})")
    # "init" is read off the final evaluation (metric_table): no evaluation of its own
    states = [*dict.fromkeys(checkpoint_state(g) for g in checkpoints), "final"]
    cache = cache if cache is not None else Cache()
    runs = ensure_runs(configs, cache=cache, progress=progress, scheduler=scheduler)
    rt = run_table(configs, runs, criterion)
    ev = evaluate(configs, states, ecfg, cache=cache, progress=progress, scheduler=scheduler)
    mt = metric_table(configs, states, ev, ecfg.ks, q1, runs)
    keys = ["activation", "target", "param", "seed"]
    long_runs = rt.melt(id_vars=keys, value_vars=list(RUN_QUANTITIES), var_name="quantity",
                        value_name="value").assign(state="run", k=math.nan)
    long_metrics = mt.rename(columns={"metric": "quantity"})[
        keys + ["state", "quantity", "k", "value"]]
    values = pd.concat([long_runs, long_metrics], ignore_index=True)
    values["value"] = values["value"].astype(float)
    by = ["target", "param", "state", "quantity", "k"]
    summary = seed_summary(values, ["activation", *by])
    comparison = compare_to_baseline(values, by, "activation", _label(baseline), "value", "seed")
    return {"runs": rt, "metrics": mt, "summary": summary, "comparison": comparison}


def seed_summary(values: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """:func:`kag_utils.readings.aggregate.summarize` of the ``value`` column over the rows of
    each ``by`` group (the seeds), with columns mean, std, se, n."""
    out = summarize(values, list(by), "value")
    return out.rename(columns={f"value_{s}": s for s in ("mean", "std", "se", "n")})
