"""P1 training runs: configuration, cached ensembles, and the Run objects notebooks use.

``ensure_runs(configs)`` returns one :class:`Run` per config, training only what the cache
lacks. Compatible configs (same layer shapes, batch size, optimiser, split sizes, dtype) are
trained together as one batched ensemble (kag_utils.p1.training); every member is stored as its
own cache entry of kind ``"p1_run"``, keyed by its full config and the package version, as
soon as it stops. An interrupted sweep therefore resumes where it stopped, and since a
member's result does not depend on its ensemble (tests), neither do the stored results.

Payload of a stored run (all tensors in the run's dtype unless noted)::

    config        the canonical config (dict)
    version       package version that trained it
    target_info   {"name", "param", "equation", + "c" [n], "c0" (linear), "O" [n, n] (so_xor),
                   "function_seed" (linear, random)}
    init_params   [{"W": [fan_in, fan_out], "b": [fan_out]}, ...]   (layer 0 = A, a)
    params        selected ("trained") weights: best epoch if restore_best, else last
    last_params   weights at the stop epoch
    history       {"epoch": int64 [T+1], "monitor", "train_batch_mse", "train_mse", "val_mse",
                   "test_mse", "train_r2", "val_r2", "test_r2": [T+1]}; row 0 = initial model
    checkpoints   {"grid": float64 [G], "epoch": int64 [G] (-1 = never reached),
                   "r2": float64 [G], "params": [params or None] * G}
    best_epoch, stop_epoch, selected_epoch (int), stopped_early (bool)
    r2, mse       {"train", "val", "test"} of the selected weights (floats)
    wall_time_s   wall time of its ensemble until it stopped; group_size: ensemble size
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch

from ..version import __version__
from ..core.activations import GELU, Activation
from ..pipeline.cache import OMIT_IF_DEFAULT, Cache, canonical
from .models import Params, hidden_features, init_params
from .protocol import P1_PROTOCOL
from ..pipeline.sweep import compute_missing, register_kind
from .targets import check_target, make_dataset, target_info
from .training import MONITORS, Member, Reading, steps_to_criterion, train_readings

KIND = "p1_run"
# Members per ensemble; larger groups are split. A member's result does not depend on its
# ensemble when every hidden width is a multiple of 4 (all of P1's: 4, 8, 16, 32, 264; tested);
# for other widths torch's gelu_backward and MKL's bmm round the last bit differently by
# ensemble size (tests/test_dask_sweep.py, xfail), so a Dask sweep keeps the serial groups.
MAX_GROUP = 64
_DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class RunConfig:
    """Everything that determines one trained P1 model (defaults: REPRODUCTION.md §1.2, §4.1)."""
    target: str = "xor"
    target_param: float | int | None = None     # lam (lambda_xor, gaussian), alpha (so_xor)
    hidden: tuple[int, ...] = (32,)              # (32,) = the paper's m = 32 model
    seed: int = 0                                # init and mini-batch order
    batch_size: int = P1_PROTOCOL["batch_size"]
    lr: float = P1_PROTOCOL["lr"]
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    max_epochs: int = P1_PROTOCOL["max_epochs"]
    patience: int = P1_PROTOCOL["patience"]
    min_delta: float = 0.0
    monitor: str = "train_batch_mse"             # or "train_last_batch_mse", "train_mse", "val_mse"
    restore_best: bool = True
    n_train: int = 1000
    n_val: int = 1000
    n_test: int = 1000
    n_in: int = 3                                # dimension of the raw inputs x
    data_seed: int = 0
    function_seed: int = 0
    dtype: str = "float64"
    checkpoint_step: float = 0.05                # A-24 R^2 grid
    input_map: "InputMap | None" = None          # App. B bootstrapped models
    # The hidden layers' activation (P1 §V's oscillatory intervention; core.activations).
    # Left out of the canonical config (and so of every cache key) while it is GeLU: the keys
    # of all GeLU configs are those they had before the field existed.
    activation: Activation = field(default=GELU, metadata={OMIT_IF_DEFAULT: True})

    def __post_init__(self):
        spec = check_target(self.target, self.target_param)
        param = self.target_param
        if spec.param == "alpha":
            param = int(param)
        elif spec.param is not None:
            param = float(param)
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        set_("target_param", param)
        hidden = tuple(int(h) for h in self.hidden)
        if not hidden or min(hidden) < 1:
            raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {self.hidden!r}")
        set_("hidden", hidden)
        if len(self.betas) != 2:
            raise ValueError(f"betas must be a pair, got {self.betas!r}")
        set_("betas", (float(self.betas[0]), float(self.betas[1])))
        for k in ("lr", "eps", "min_delta", "checkpoint_step"):
            set_(k, float(getattr(self, k)))
        for k in ("seed", "batch_size", "max_epochs", "patience", "n_train", "n_val", "n_test",
                  "n_in", "data_seed", "function_seed"):
            set_(k, int(getattr(self, k)))
        if self.monitor not in MONITORS:
            raise ValueError(f"unknown monitor {self.monitor!r}; valid: {', '.join(MONITORS)}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {list(_DTYPES)}, got {self.dtype!r}")
        if self.batch_size < 1 or self.max_epochs < 1 or self.patience < 1:
            raise ValueError("batch_size, max_epochs and patience must be >= 1")
        if min(self.n_train, self.n_val, self.n_test) < 2:
            raise ValueError("every split needs at least 2 examples (R^2)")
        if not 0 < self.checkpoint_step <= 1:
            raise ValueError(f"checkpoint_step must be in (0, 1], got {self.checkpoint_step}")
        set_("restore_best", bool(self.restore_best))
        if isinstance(self.activation, str) and self.activation == "gelu":
            set_("activation", GELU)
        if not isinstance(self.activation, Activation):
            raise ValueError(f"activation must be an Activation, e.g. Activation('x_sin', 0.1, 10.0), "
                             f"got {self.activation!r}")
        if self.input_map is not None:
            if not isinstance(self.input_map, InputMap):
                raise ValueError("input_map must be an InputMap(base=RunConfig, weights=...)")
            b = self.input_map.base
            same = ("n_in", "n_train", "n_val", "n_test", "data_seed", "dtype")
            diff = [k for k in same if getattr(b, k) != getattr(self, k)]
            if diff:
                raise ValueError(f"input_map base must share {diff} with the run it feeds")

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]

    @property
    def model_n_in(self) -> int:
        """Input width of the trained model: n_in, or the base's m for a bootstrapped model."""
        return self.input_map.base.hidden[0] if self.input_map is not None else self.n_in

    def replace(self, **changes) -> "RunConfig":
        return dataclasses.replace(self, **changes)

    def key(self) -> str:
        return Cache(".").key(KIND, self)


@dataclass(frozen=True)
class InputMap:
    """Features sigma(x . A + a) of ``base``'s first layer, with its "final" (selected) or
    "initial" weights, replace x as the model input (P1 App. B bootstrapped models)."""
    base: RunConfig
    weights: str = "final"

    def __post_init__(self):
        if not isinstance(self.base, RunConfig):
            raise ValueError("InputMap.base must be a RunConfig")
        if self.weights not in ("final", "initial"):
            raise ValueError(f"InputMap.weights must be 'final' or 'initial', got {self.weights!r}")


@dataclass
class Run:
    """A trained (or loaded) run. ``params`` are the selected weights (A-10)."""
    config: RunConfig
    init_params: Params
    params: Params
    last_params: Params
    history: dict
    checkpoints: dict
    best_epoch: int
    stop_epoch: int
    selected_epoch: int
    stopped_early: bool
    r2: dict
    mse: dict
    target_info: dict
    wall_time_s: float
    group_size: int
    version: str
    extra: dict = field(default_factory=dict)

    @property
    def r2_train(self) -> float:
        return self.r2["train"]

    @property
    def r2_val(self) -> float:
        return self.r2["val"]

    @property
    def r2_test(self) -> float:
        return self.r2["test"]

    def steps_to(self, threshold: float) -> int | None:
        """Optimisation steps until training R^2 >= threshold (epoch resolution; III.4, A-07)."""
        return steps_to_criterion(self.history["train_r2"], threshold, self.config.n_train,
                                  self.config.batch_size)

    def checkpoint(self, g: float) -> Params | None:
        """Weights at the first epoch whose training R^2 >= g (g on the grid), else None."""
        grid = self.checkpoints["grid"]
        i = int(torch.argmin((grid - g).abs()))
        if abs(float(grid[i]) - g) > 1e-9:
            raise ValueError(f"{g} is not on the checkpoint grid {grid.tolist()}")
        return self.checkpoints["params"][i]

    @classmethod
    def from_payload(cls, config: RunConfig, payload: dict) -> "Run":
        names = {f.name for f in dataclasses.fields(cls)} - {"config", "extra"}
        return cls(config=config, **{k: payload[k] for k in names})


# ---------------------------------------------------------------------------------------------
# Data for a config
# ---------------------------------------------------------------------------------------------
def initial_params(config: RunConfig) -> Params:
    """The run's initial model (same for every target at fixed seed/widths/input width)."""
    return init_params(config.seed, config.hidden, config.model_n_in, 1, config.torch_dtype)


def run_dataset(config: RunConfig, cache: Cache | None = None) -> dict:
    """{split: (model input [N, model_n_in], y [N])}. A bootstrapped config reads its base
    run from the cache (it must have been trained: ensure_runs does that first)."""
    data = make_dataset(config.target, config.target_param, n_train=config.n_train,
                        n_val=config.n_val, n_test=config.n_test, data_seed=config.data_seed,
                        function_seed=config.function_seed, n_in=config.n_in,
                        dtype=config.torch_dtype)
    if config.input_map is None:
        return data
    base = config.input_map.base
    cache = cache if cache is not None else Cache()
    payload = cache.load(KIND, base)
    if payload is None:
        raise RuntimeError(f"base run of a bootstrapped config is not in {cache}: train it first")
    weights = payload["params"] if config.input_map.weights == "final" else payload["init_params"]
    return {s: (hidden_features(weights, x, base.activation), y) for s, (x, y) in data.items()}


# ---------------------------------------------------------------------------------------------
# Grouping and the group task (registered with kag_utils.pipeline.sweep)
# ---------------------------------------------------------------------------------------------
def ensemble_key(c: RunConfig) -> tuple:
    """Settings that members of one ensemble must share (the rest may differ per member)."""
    return (c.hidden, c.model_n_in, c.batch_size, c.lr, c.betas, c.eps, c.n_train, c.n_val,
            c.n_test, c.dtype, c.checkpoint_step, c.activation)


#: The early-stopping settings that do not change a model's training trajectory: configs that
#: differ only in these are trained as ONE ensemble member with several stopping readings.
READING_FIELDS = ("monitor", "min_delta", "restore_best")


def trajectory_key(c: RunConfig) -> str:
    """Cache key of ``c`` with its stopping reading reset: equal for configs sharing a trajectory."""
    return c.replace(**{f: RunConfig.__dataclass_fields__[f].default for f in READING_FIELDS}).key()


def reading_of(c: RunConfig) -> Reading:
    return Reading(c.monitor, c.min_delta, c.restore_best)


def group_runs(configs: Sequence[RunConfig], max_size: int = MAX_GROUP) -> list[list[RunConfig]]:
    """Ensembles of at most ``max_size`` trajectories; the readings of one trajectory stay in
    one group (they are trained as one member)."""
    groups: dict[tuple, dict] = {}
    for c in configs:
        groups.setdefault(ensemble_key(c), {}).setdefault(trajectory_key(c), []).append(c)
    out = []
    for by_traj in groups.values():
        trajs = [sorted(by_traj[k], key=lambda c: c.key()) for k in sorted(by_traj)]
        out.extend([c for t in trajs[i:i + max_size] for c in t]
                   for i in range(0, len(trajs), max_size))
    return out


def group_by_run(configs: Sequence[dict]) -> list[list[dict]]:
    """Group function of the kinds whose configs read one trained run (``config["run"]``, a
    :class:`RunConfig`): one group per run (by its cache key), in first-seen order, so a task
    loads each run once."""
    groups: dict[str, list] = {}
    for c in configs:
        groups.setdefault(c["run"].key(), []).append(c)
    return list(groups.values())


def run_dependencies(config: RunConfig) -> list[tuple[str, RunConfig]]:
    return [(KIND, config.input_map.base)] if config.input_map is not None else []


def train_runs_task(kind: str, configs: Sequence[RunConfig], cache_root: str,
                    on_result=None) -> list[str]:
    """Group task: train ``configs`` as one ensemble and store each member as it stops.
    Configs that differ only in their stopping reading (READING_FIELDS) share one trajectory:
    one member with several readings, each stored under its own config's key."""
    if kind != KIND:
        raise ValueError(f"train_runs_task computes kind {KIND!r}, got {kind!r}")
    configs = list(configs)
    if len({ensemble_key(c) for c in configs}) != 1:
        raise ValueError("configs of one group must share ensemble_key()")
    cache = Cache(cache_root)
    by_traj: dict[str, list[int]] = {}                 # trajectory -> indices into configs
    for i, c in enumerate(configs):
        by_traj.setdefault(trajectory_key(c), []).append(i)
    slots = list(by_traj.values())
    members = []
    for idx in slots:
        c = configs[idx[0]]
        d = run_dataset(c, cache)
        members.append(Member(initial_params(c), *d["train"], *d["val"], *d["test"], seed=c.seed,
                              patience=c.patience, max_epochs=c.max_epochs,
                              readings=tuple(reading_of(configs[i]) for i in idx)))
    keys = [cache.key(KIND, c) for c in configs]

    def store(m, j, res):
        i = slots[m][j]
        c = configs[i]
        payload = {
            "config": canonical(c), "version": __version__,
            "target_info": target_info(c.target, c.target_param, c.function_seed, c.n_in),
            "init_params": res.extra["init_params"], "params": res.params,
            "last_params": res.last_params, "history": res.history,
            "checkpoints": res.checkpoints, "best_epoch": res.best_epoch,
            "stop_epoch": res.stop_epoch, "selected_epoch": res.selected_epoch,
            "stopped_early": res.stopped_early, "r2": res.r2, "mse": res.mse,
            "wall_time_s": res.wall_time_s, "group_size": res.group_size,
        }
        cache.store(KIND, c, payload)
        if on_result is not None:
            on_result(keys[i])

    c0 = configs[0]
    train_readings(members, batch_size=c0.batch_size, lr=c0.lr, betas=c0.betas, eps=c0.eps,
                   checkpoint_step=c0.checkpoint_step, threads=1, activation=c0.activation,
                   on_done=store)
    return keys


# Not splittable: a member's result is bitwise independent of its ensemble only for some
# shapes (hidden widths that are multiples of 4 on our CPU; widths 3, 5, 6, 7 differ in the
# last bits through torch's gelu_backward and MKL's bmm tails: tests/test_dask_sweep.py), so a
# Dask sweep trains exactly the serial sweep's ensembles and gets exactly its bits.
register_kind(KIND, group=group_runs, task=train_runs_task, dependencies=run_dependencies)


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------
def load_run(config: RunConfig, cache: Cache | None = None) -> Run | None:
    cache = cache if cache is not None else Cache()
    payload = cache.load(KIND, config)
    return None if payload is None else Run.from_payload(config, payload)


def ensure_runs(configs: Sequence[RunConfig], cache: Cache | None = None, progress: bool = True,
                scheduler: Any = None) -> list[Run]:
    """One Run per config (same order), training (as ensembles) only what ``cache`` lacks.

    ``cache=None`` uses the default cache directory ($KAG_CACHE_DIR or ~/.cache/kag-paper)."""
    configs = list(configs)
    for c in configs:
        if not isinstance(c, RunConfig):
            raise ValueError(f"ensure_runs takes RunConfig objects, got {type(c).__name__}")
    cache = cache if cache is not None else Cache()
    runs = [load_run(c, cache) for c in configs]
    missing = [c for c, r in zip(configs, runs) if r is None]
    if missing:
        compute_missing(KIND, missing, cache, progress=progress, scheduler=scheduler)
        runs = [r if r is not None else load_run(c, cache) for c, r in zip(configs, runs)]
    if any(r is None for r in runs):
        raise RuntimeError(f"some runs could not be stored and reloaded from {cache}")
    return runs  # type: ignore[return-value]


def main_grid(targets=("xor", "linear", "random"), widths=(4, 8, 16, 32), seeds=range(4),
              **overrides) -> list[RunConfig]:
    """Configs of P1's main grid (Table I): targets x widths x seeds, protocol defaults."""
    return [RunConfig(target=t, hidden=(m,), seed=s, **overrides)
            for t in targets for m in widths for s in seeds]

