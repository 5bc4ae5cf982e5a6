"""A Kolmogorov-Arnold network beside P1's MLP (open question of notebook 07).

Does a KAN (Liu et al. 2024, arXiv 2404.19756), whose first layer is a sum of learnable
univariate functions h_j(x) = sum_i phi_ji(x_i), show the KA geometry that P1 finds in the
first layer of a trained MLP? The KAN comes from pykan (``kan``, pinned in pyproject.toml):
``KAN(width=[n_in, m, 1], grid=G, k=3)``, each edge phi(x) = s_b silu(x) + s_s spline(x) with
a cubic B-spline on G intervals of [-1, 1]; symbolic branch off, no checkpoint files, no grid
refits (P1's protocol has none).

* :class:`KANConfig`: one KAN run (target, width m, grid G, seed, P1's protocol and data).
  The default [3, 4, 1] with G = 5 has 160 trainable parameters, matching the width-32 P1 MLP
  3 -> 32 -> 1 (161; `kan_parameter_count`).
* `build_kan(config)`: the initial network of a seed (pykan seeds the GLOBAL RNGs in its
  constructor: here their states are saved and restored, so nothing outside changes).
* `train_kan(config)`: P1's protocol (REPRODUCTION 1.2, P1_PROTOCOL): Adam (lr 0.01, betas
  (0.9, 0.999), eps 1e-8), MSE, batch 250 with a fresh permutation per epoch from the seed
  (partial last batch kept), early stopping on the epoch mean of the mini-batch MSE (patience
  50, min_delta 0), best weights restored, at most 10,000 epochs; float64, one torch thread.
* `ensure_kan_runs(configs)`: trained runs from the run cache (kind ``"p1_kan_run"``), training
  what it lacks.
* `first_layer(model, x)`: the hidden node values [B, m]; `first_layer_jacobian(model, x)`:
  J [B, m, n_in] (rows = hidden nodes, columns = inputs), J_ji = phi_ji'(x_i).
* `kan_metrics(run, ecfg)`: every P1 metric (`core.metrics.p1_metrics`: zero rows, PR, column
  divergence, + RR) of J of the trained against the initial KAN, on the same inputs as
  `p1.evaluation` (the first n_x training inputs, A-11; ``ecfg.n_rot`` Haar rotations of
  SO(m) from ``ecfg.rotation_seed`` on the first ``n_x_rot``).
* `kan_vs_mlp(...)`: KAN and MLP runs of the same targets and seeds, one row per (model,
  target, seed) with R^2 and the metrics; `compare_models(df)`: per (target, metric) the mean
  and standard error of each model over seeds, their difference and its Welch z.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import random
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from ..core.jacobians import module_jacobian
from ..core.metrics import p1_metrics, random_rotation_ratios
from ..core.threads import torch_threads
from ..pipeline.cache import Cache
from .evaluation import EvalConfig, evaluate, fixed_rotations
from .models import n_parameters
from .protocol import P1_PROTOCOL
from .runs import RunConfig, ensure_runs
from .targets import check_target, make_dataset, make_inputs
from .training import r2_score

__all__ = ["KANConfig", "KANRun", "KAN_KIND", "kan_parameter_count", "build_kan",
           "first_layer", "first_layer_jacobian", "train_kan", "ensure_kan_runs",
           "kan_metrics", "kan_vs_mlp", "compare_models", "DEFAULT_METRICS", "pykan_version"]

KAN_KIND = "p1_kan_run"
_TAG_SHUFFLE = 0x4B41_0030           # the KAN's mini-batch order stream (not the MLP trainer's)
_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def pykan_version() -> str:
    """The installed pykan version (ImportError naming the fix when it is missing)."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("pykan")
    except PackageNotFoundError:
        raise ImportError("pykan is not installed: run `bash scripts/setup.sh` (pyproject.toml "
                          "pins it) or `pip install pykan==0.2.8`") from None


@dataclass(frozen=True)
class KANConfig:
    """Everything that determines one trained KAN [n_in, width, 1] (the cache key)."""
    target: str = "xor"
    target_param: float | int | None = None
    width: int = 4                     # hidden nodes m; 4 with grid 5 = 160 parameters
    grid: int = 5                      # spline intervals G on [-1, 1]
    spline_order: int = 3              # cubic B-splines
    seed: int = 0                      # pykan's init seed and the mini-batch order
    batch_size: int = P1_PROTOCOL["batch_size"]
    lr: float = P1_PROTOCOL["lr"]
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    max_epochs: int = P1_PROTOCOL["max_epochs"]
    patience: int = P1_PROTOCOL["patience"]
    min_delta: float = 0.0
    n_train: int = 1000
    n_val: int = 1000
    n_test: int = 1000
    n_in: int = 3
    data_seed: int = 0
    function_seed: int = 0
    dtype: str = "float64"

    def __post_init__(self):
        check_target(self.target, self.target_param)
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 - frozen dataclass
        for k in ("width", "grid", "spline_order", "seed", "batch_size", "max_epochs",
                  "patience", "n_train", "n_val", "n_test", "n_in", "data_seed",
                  "function_seed"):
            set_(k, int(getattr(self, k)))
        for k in ("lr", "eps", "min_delta"):
            set_(k, float(getattr(self, k)))
        set_("betas", (float(self.betas[0]), float(self.betas[1])))
        if self.target_param is not None:
            set_("target_param", float(self.target_param) if self.target != "so_xor"
                 else int(self.target_param))
        if min(self.width, self.grid, self.spline_order, self.batch_size, self.max_epochs,
               self.patience, self.n_in) < 1 or self.seed < 0:
            raise ValueError(f"width, grid, spline_order, batch_size, max_epochs, patience and "
                             f"n_in must be >= 1 and seed >= 0: {self}")
        if min(self.n_train, self.n_val, self.n_test) < 2:
            raise ValueError("every split needs at least 2 examples (R^2)")
        if self.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {list(_DTYPES)}, got {self.dtype!r}")

    @property
    def torch_dtype(self) -> torch.dtype:
        return _DTYPES[self.dtype]

    @property
    def n_parameters(self) -> int:
        return kan_parameter_count(self.n_in, self.width, self.grid, self.spline_order)

    @property
    def label(self) -> str:
        return f"KAN[{self.n_in},{self.width},1] G={self.grid}"


def kan_parameter_count(n_in: int, width: int, grid: int = 5, spline_order: int = 3) -> int:
    """Trainable parameters of a [n_in, width, 1] KAN: per edge G + k spline coefficients, a
    base scale and a spline scale; (n_in + 1) * width edges."""
    return (n_in * width + width) * (grid + spline_order + 2)


# ------------------------------------------------------------------------------ the network
@contextlib.contextmanager
def _isolated_rng(dtype: torch.dtype):
    """pykan's constructor seeds torch's, numpy's and random's global generators and uses the
    default dtype: run it inside this, which restores all of them afterwards."""
    np_state, py_state = np.random.get_state(), random.getstate()
    old_dtype = torch.get_default_dtype()
    with torch.random.fork_rng(devices=[]):
        try:
            torch.set_default_dtype(dtype)
            yield
        finally:
            torch.set_default_dtype(old_dtype)
            np.random.set_state(np_state)
            random.setstate(py_state)


def build_kan(config: KANConfig):
    """The initial pykan KAN of ``config`` in speed mode (symbolic branch off, no saved
    activations or checkpoints), in the config's dtype; global RNGs left untouched."""
    pykan_version()
    from kan import KAN
    with _isolated_rng(config.torch_dtype):
        model = KAN(width=[config.n_in, config.width, 1], grid=config.grid,
                    k=config.spline_order, seed=config.seed, auto_save=False,
                    save_act=False, symbolic_enabled=False, device="cpu")
    model.speed()
    return model.to(config.torch_dtype)


def trainable_parameters(model) -> list[torch.nn.Parameter]:
    """The numeric (spline) branch's trainable tensors: coef, scale_base, scale_sp of every
    layer (the symbolic branch is off and not trained)."""
    return [p for layer in model.act_fun for p in layer.parameters() if p.requires_grad]


def first_layer(model, x: torch.Tensor) -> torch.Tensor:
    """Hidden node values of the first KAN layer: x [B, n_in] -> [B, m] (what feeds layer 2,
    = model.acts[1] after model(x)): sum over inputs of the edge functions, then pykan's
    fixed subnode / node affine maps (identity at init, never trained here)."""
    y = model.act_fun[0](x)[0]
    y = model.subnode_scale[0][None, :] * y + model.subnode_bias[0][None, :]
    return model.node_scale[0][None, :] * y + model.node_bias[0][None, :]


def first_layer_jacobian(model, x: torch.Tensor) -> torch.Tensor:
    """J(x) = d first_layer / dx: [B, m, n_in] in x's dtype, by reverse-mode autograd (one
    backward pass per hidden node; each example's output depends on that example only)."""
    if x.ndim != 2:
        raise ValueError(f"x must be [B, n_in], got shape {tuple(x.shape)}")
    xr = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        y = first_layer(model, xr)                                   # [B, m]
        rows = [torch.autograd.grad(y[:, j].sum(), xr, retain_graph=j < y.shape[1] - 1)[0]
                for j in range(y.shape[1])]
    return torch.stack(rows, 1).detach()                             # [B, m, n_in]


def first_layer_jacobian_jacrev(model, x: torch.Tensor) -> torch.Tensor:
    """The same J by torch.func (vmap of jacrev over single examples): the check."""
    return module_jacobian(lambda v: first_layer(model, v[None])[0], x.detach())


# ------------------------------------------------------------------------------- training
def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train_kan(config: KANConfig, progress: bool = False) -> dict:
    """Train one KAN under P1's protocol (module docstring). Returns the payload stored in the
    cache: config, pykan version, init_state / state (selected = best epoch) / last_state
    (pykan state_dicts), history {"epoch", "train_batch_mse" [T+1] (row 0 nan), "train_mse",
    "test_mse" at the selected epoch only}, best_epoch, stop_epoch, stopped_early, r2 and mse
    {"train", "val", "test"} of the selected weights, n_parameters, wall_time_s."""
    t0 = time.perf_counter()
    dtype = config.torch_dtype
    data = make_dataset(config.target, config.target_param, n_train=config.n_train,
                        n_val=config.n_val, n_test=config.n_test, data_seed=config.data_seed,
                        function_seed=config.function_seed, n_in=config.n_in, dtype=dtype)
    x_tr, y_tr = data["train"]                                       # [N, n_in], [N]
    model = build_kan(config)
    init_state = _state(model)
    params = trainable_parameters(model)
    n_params = sum(p.numel() for p in params)
    opt = torch.optim.Adam(params, lr=config.lr, betas=config.betas, eps=config.eps)
    rng = np.random.default_rng(np.random.SeedSequence([_TAG_SHUFFLE, config.seed]))
    N, B = x_tr.shape[0], min(config.batch_size, x_tr.shape[0])
    best, best_epoch, wait = math.inf, 0, 0
    best_state = _state(model)
    monitor = [math.nan]
    epoch = 0
    with torch_threads(1):
        while epoch < config.max_epochs:
            epoch += 1
            perm = torch.from_numpy(rng.permutation(N))
            sse = 0.0
            for s in range(0, N, B):
                idx = perm[s:s + B]
                err = model(x_tr[idx])[:, 0] - y_tr[idx]
                loss = (err * err).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sse += float(loss.detach()) * idx.numel()
            mon = sse / N                                            # train_batch_mse
            monitor.append(mon)
            if mon < best - config.min_delta:
                best, best_epoch, wait = mon, epoch, 0
                best_state = _state(model)
            else:
                wait += 1
            if progress and epoch % 100 == 0:
                print(f"{config.label} {config.target} seed {config.seed}: epoch {epoch} "
                      f"mse {mon:.3g}")
            if wait >= config.patience:
                break
        last_state = _state(model)
        model.load_state_dict(best_state)
        r2, mse = {}, {}
        with torch.no_grad():
            for split, (x, y) in data.items():
                pred = model(x)[:, 0]
                r2[split] = float(r2_score(y, pred))
                mse[split] = float(((pred - y) ** 2).mean())
    return {"config": dataclasses.asdict(config), "pykan": pykan_version(),
            "init_state": init_state, "state": best_state, "last_state": last_state,
            "history": {"epoch": torch.arange(len(monitor)),
                        "train_batch_mse": torch.tensor(monitor, dtype=torch.float64)},
            "best_epoch": best_epoch, "stop_epoch": epoch,
            "stopped_early": epoch < config.max_epochs, "r2": r2, "mse": mse,
            "n_parameters": n_params, "wall_time_s": time.perf_counter() - t0}


@dataclass
class KANRun:
    """A trained (or loaded) KAN run; `model(state)` rebuilds the network."""
    config: KANConfig
    payload: dict

    def model(self, state: str = "final"):
        """The KAN with its 'final' (selected), 'last' or 'init' weights."""
        key = {"final": "state", "last": "last_state", "init": "init_state"}.get(state)
        if key is None:
            raise ValueError(f"state must be 'final', 'last' or 'init', got {state!r}")
        model = build_kan(self.config)
        model.load_state_dict(self.payload[key])
        return model

    @property
    def r2(self) -> dict:
        return self.payload["r2"]


def ensure_kan_runs(configs: Sequence[KANConfig], cache: Cache | None = None,
                    progress: bool = False) -> list[KANRun]:
    """One KANRun per config from the run cache (kind ``"p1_kan_run"``), training (and
    storing) the missing ones one after the other."""
    cache = cache if cache is not None else Cache()
    out = []
    for c in configs:
        if not isinstance(c, KANConfig):
            raise ValueError(f"expected KANConfig, got {type(c).__name__}")
        payload = cache.load(KAN_KIND, c)
        if payload is None:
            payload = train_kan(c, progress=progress)
            cache.store(KAN_KIND, c, payload)
        out.append(KANRun(c, payload))
    return out


# ------------------------------------------------------------------------------- metrics
def kan_inputs(config: KANConfig, split: str, n_x: int) -> torch.Tensor:
    """The first n_x raw inputs of ``split`` (float64 [n_x, n_in]): those the P1 evaluation of
    an MLP with the same data settings uses (A-11)."""
    size = {"train": config.n_train, "val": config.n_val, "test": config.n_test}[split]
    if n_x > size:
        raise ValueError(f"n_x = {n_x} exceeds the {size} {split} inputs of the run")
    return make_inputs(size, split, config.data_seed, config.n_in)[:n_x].to(torch.float64)


def kan_metrics(run: KANRun, ecfg: EvalConfig) -> dict:
    """Every P1 metric (`p1_metrics` keys, + rr_k*, rr_init_k*, rr_norm_k* when n_rot > 0) of
    the first-layer Jacobian of the trained KAN against the same seed's initial KAN."""
    x = kan_inputs(run.config, ecfg.split, ecfg.n_x)
    J_t = first_layer_jacobian(run.model("final"), x)
    J_i = first_layer_jacobian(run.model("init"), x)
    out = p1_metrics(J_t, J_i, ecfg.ks, ecfg.q1s, consistent_fraction=ecfg.consistent_fraction)
    if ecfg.n_rot:
        R = fixed_rotations(J_t.shape[1], ecfg.n_rot, ecfg.rotation_seed)
        nr = ecfg.n_x_rot
        rt = random_rotation_ratios(J_t[:nr], ecfg.ks, R)
        ri = random_rotation_ratios(J_i[:nr], ecfg.ks, R)
        for k in ecfg.ks:
            out[f"rr_k{k}"], out[f"rr_init_k{k}"] = rt[k], ri[k]
            out[f"rr_norm_k{k}"] = rt[k] / ri[k]
    return out


def default_metrics(ks: Sequence[int] = (1, 2, 3), q1: float = 1e-3) -> tuple[str, ...]:
    """The comparison's metric columns: zero and dependent-zero row fractions at q1, and the
    normalised PR, RR and the column divergence (trained against the model's own init)."""
    out = []
    for k in ks:
        out.append(f"zero_frac_k{k}_q{q1:g}")
        if k in (2, 3):
            out.append(f"dep_frac_k{k}_q{q1:g}")
        out += [f"pr_norm_k{k}", f"rr_norm_k{k}", f"divergence_k{k}"]
    return tuple(out)


DEFAULT_METRICS = default_metrics()


def kan_vs_mlp(targets: Sequence[str] = ("xor", "linear", "random"),
               seeds: Sequence[int] = P1_PROTOCOL["seeds"], *, ecfg: EvalConfig,
               kan_width: int = 4, grid: int = 5, mlp_hidden: int = 32,
               kan_kwargs: dict | None = None, mlp_kwargs: dict | None = None,
               cache: Cache | None = None, progress: bool = False, scheduler: Any = None):
    """KAN and MLP of the same targets and seeds under P1's protocol, evaluated alike.

    Returns a pandas DataFrame, one row per (model, target, seed): model (label), family
    ("kan" | "mlp"), m (hidden width), n_parameters, target, seed, r2_train, r2_test,
    stop_epoch and every metric of `p1_metrics` (+ RR) of the first-layer Jacobian.
    kan_kwargs / mlp_kwargs: other KANConfig / RunConfig fields (e.g. max_epochs). The MLP
    runs and metrics come from `ensure_runs` / `evaluate` (cached, kinds p1_run, p1_eval)."""
    import pandas as pd

    cache = cache if cache is not None else Cache()
    kan_cfgs = [KANConfig(target=t, seed=s, width=kan_width, grid=grid, **(kan_kwargs or {}))
                for t in targets for s in seeds]
    mlp_cfgs = [RunConfig(target=t, seed=s, hidden=(mlp_hidden,), **(mlp_kwargs or {}))
                for t in targets for s in seeds]
    rows = []
    for run in ensure_kan_runs(kan_cfgs, cache=cache, progress=progress):
        c = run.config
        rows.append({"model": c.label, "family": "kan", "m": c.width,
                     "n_parameters": run.payload["n_parameters"], "target": c.target,
                     "seed": c.seed, "r2_train": run.r2["train"], "r2_test": run.r2["test"],
                     "stop_epoch": run.payload["stop_epoch"], **kan_metrics(run, ecfg)})
    runs = ensure_runs(mlp_cfgs, cache=cache, progress=progress, scheduler=scheduler)
    ev = evaluate(mlp_cfgs, ("final",), ecfg, cache=cache, progress=progress,
                  scheduler=scheduler)
    for run, (_, e) in zip(runs, ev.iterrows()):
        c = run.config
        metrics = {k: v for k, v in e.items() if k not in ("target", "param", "m", "seed",
                                                            "batch_size", "monitor", "state")}
        rows.append({**metrics, "model": f"MLP[{c.n_in},{mlp_hidden},1]", "family": "mlp",
                     "m": mlp_hidden, "n_parameters": n_parameters(run.params), "target": c.target,
                     "seed": c.seed, "r2_train": run.r2["train"], "r2_test": run.r2["test"],
                     "stop_epoch": run.stop_epoch})
    return pd.DataFrame(rows)


def compare_models(df, metrics: Sequence[str] = ("r2_test",) + DEFAULT_METRICS,
                   by: str = "target"):
    """KAN against MLP per (target, metric), over seeds: a tidy pandas DataFrame with
    n_kan, kan_mean, kan_se, n_mlp, mlp_mean, mlp_se (se = sd / sqrt(n), ddof 1),
    diff = kan_mean - mlp_mean, diff_se = sqrt(kan_se^2 + mlp_se^2) and z = diff / diff_se.
    Metrics missing from df (e.g. rr_* without rotations) are skipped."""
    import pandas as pd

    rows = []
    for key, g in df.groupby(by, sort=False):
        for metric in metrics:
            if metric not in g.columns:
                continue
            row = {by: key, "metric": metric}
            for fam in ("kan", "mlp"):
                v = g.loc[g["family"] == fam, metric].to_numpy(dtype=np.float64)
                v = v[np.isfinite(v)]
                row[f"n_{fam}"] = int(v.size)
                row[f"{fam}_mean"] = float(v.mean()) if v.size else math.nan
                row[f"{fam}_se"] = float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan
            row["diff"] = row["kan_mean"] - row["mlp_mean"]
            row["diff_se"] = math.hypot(row["kan_se"], row["mlp_se"])
            row["z"] = row["diff"] / row["diff_se"] if row["diff_se"] > 0 else math.nan
            rows.append(row)
    return pd.DataFrame(rows)
