"""A public KA-geometry probe for any differentiable PyTorch map.

`probe(f, x, k=(1, 2, 3), reference=None)` computes the Jacobians J(x): [B, m, n] of `f` (any
callable or `torch.nn.Module` taking a batch [B, ...] to a batch [B, ...]; each example's input
is flattened to n values and its output to m) and reports Kolmogorov-Arnold geometry in the
sense of P1 (arXiv 2509.12326) sec. IV, per minor size k:

* zero rows (IV.3)-(IV.4) and dependent zero rows (Table II, k = 2, 3): a row tuple is zero at
  x when the mean of its size-k minors falls below Q^(k), the q^(k)-quantile of the
  REFERENCE's row means, q^(k) = false_positive_rate(q1, m, k);
* the participation ratio PR (IV.5; lower = more concentrated);
* the random rotation ratio RR (IV.6)-(IV.7; > 1 = large minors aligned with the output basis);
* the column divergence (IV.13) of f's column softmax from the reference's;
* each as "ours", "reference" and "normalised" (ours / reference, P1 Figs. 5-6).

The reference is another callable of the same shapes, typically the same module before
training: keep `init = copy.deepcopy(model)` before the first optimiser step and call
`probe(model, x, reference=init)`. Without a reference the thresholds come from f's own row
means (so the zero fraction equals q^(k) by construction and only the dependent fraction, PR
and RR carry information).

Exact or sampled, per k: when B * C(m,k) * C(n,k) <= `max_exact` the metrics are the exact
P1 ones (`metrics.p1_metrics`); otherwise they are evaluated on a grid of `n_samples` random row
k-tuples x `n_samples` column k-tuples, the same grid for f and the reference (P2's design,
REPRODUCTION M-11: `minors.sample_combinations`, `mnist_metrics.participation_ratio_sampled`,
`mnist_metrics.sampled_rotation_ratio` on an `rr_samples` x `rr_samples` sub-grid). When the
sample covers every tuple the sampled values equal the exact ones (tests/test_probe.py). On a
sampled grid the fractions estimate the exact fractions, but the absolute PR (which grows like
the square root of the number of minors), RR (a max over fewer minors) and divergence (softmax
over the R sampled rows, log base log R) are those of the grid: compare them only with the
reference on the same grid, i.e. read the normalised column.

Everything runs on x's device (CPU or CUDA); the Jacobians are taken in x's dtype
(`jacobians.module_jacobian`, torch.func) and the metrics in `dtype` (float64 by default, A-20).
"""
from __future__ import annotations

import dataclasses
import math
import time
import warnings
from typing import Callable, Optional

import numpy as np
import torch

from .jacobians import module_jacobian
from .metrics import (dependent_zero_row_fraction, false_positive_rate, p1_metrics,
                      random_rotation_ratios)
from .minors import check_jacobian, sample_combinations, sampled_minors
from .mnist_metrics import participation_ratio_sampled, sampled_rotation_ratio
from .rotations import haar_rotations

__all__ = ["probe", "ProbeReport", "METRICS"]

METRICS = ("zero_frac", "dep_frac", "pr", "rr", "divergence")
_DESCRIPTION = {
    "zero_frac": "zero rows: fraction of (x, row k-tuple) below Q^(k) (IV.3)",
    "dep_frac": "dependent zero rows: zero at k, no sub-tuple zero at k-1 (k = 2, 3)",
    "pr": "participation ratio ||J^(k)||_1 / ||J^(k)||_2 (IV.5); lower = concentrated",
    "rr": "random rotation ratio (IV.7); > 1 = aligned with the output basis",
    "divergence": "column divergence KL(P || P_ref) of the column softmax (IV.13)",
}


# ----------------------------------------------------------------------------- the report
@dataclasses.dataclass
class ProbeReport:
    """KA-geometry of one map against a reference; see `probe`.

    values: {(metric, k): (ours, reference, normalised)} with metric in METRICS (nan where a
    value is undefined, e.g. dep_frac for k = 1 or a normalisation by zero).
    mode: {k: "exact" | "sampled"}; info: shapes, settings, sample sizes, wall time.
    """

    values: dict
    mode: dict
    info: dict

    def table(self):
        """pandas DataFrame indexed by (metric, k), columns ours / reference / normalised /
        mode."""
        import pandas as pd
        rows = [dict(metric=m, k=k, ours=v[0], reference=v[1], normalised=v[2],
                     mode=self.mode[k]) for (m, k), v in self.values.items()]
        return pd.DataFrame(rows).set_index(["metric", "k"])

    def to_dict(self) -> dict:
        """JSON-ready dict: {"values": {"pr_k2": {"ours":.., "reference":.., "normalised":..}},
        "mode": {"2": "exact"}, "info": {...}}."""
        vals = {f"{m}_k{k}": dict(ours=v[0], reference=v[1], normalised=v[2])
                for (m, k), v in self.values.items()}
        return dict(values=vals, mode={str(k): v for k, v in self.mode.items()},
                    info=dict(self.info))

    def __getitem__(self, key):
        """report["pr", 2] -> (ours, reference, normalised)."""
        return self.values[key]

    def __repr__(self) -> str:
        i = self.info
        head = f"ProbeReport({i.get('B')} x [{i.get('m')}, {i.get('n')}])\n"
        return head + self.table().to_string(float_format=lambda v: f"{v:.4g}")


# ----------------------------------------------------------------------------- input checks
def _check_ks(k, m: int, n: int) -> tuple:
    ks = (k,) if isinstance(k, (int, np.integer)) and not isinstance(k, bool) else tuple(k)
    if not ks:
        raise ValueError("k is empty: pass one minor size or a sequence, e.g. k=(1, 2, 3)")
    for kk in ks:
        if isinstance(kk, bool) or not isinstance(kk, (int, np.integer)) or kk < 1:
            raise ValueError(f"minor sizes must be positive ints, got k = {kk!r}")
        if kk > min(m, n):
            raise ValueError(f"k = {kk} exceeds min(m, n) = min({m}, {n}) of the Jacobian "
                             f"(m = outputs, n = inputs per example): pass k <= {min(m, n)}")
    return tuple(sorted(set(int(kk) for kk in ks)))


def _check_x(x) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor batch [B, ...], got {type(x).__name__}")
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"x is an empty batch (shape {tuple(x.shape)}): pass at least one example")
    if x.ndim < 2:
        raise ValueError(f"x must be a batch [B, ...] with a leading example axis; got shape "
                         f"{tuple(x.shape)} (use x[:, None] for scalar inputs)")
    if not x.is_floating_point():
        raise ValueError(f"x must be floating point to differentiate, got {x.dtype} "
                         f"(use x.float())")
    if not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).sum())
        raise ValueError(f"x contains {bad} NaN/inf values: clean the inputs first")


def _output(f: Callable, x: torch.Tensor, name: str) -> torch.Tensor:
    """f(x) with the checks that f keeps the batch axis and returns a differentiable float
    tensor that depends on x."""
    xr = x[:min(2, x.shape[0])].detach().clone().requires_grad_(True)
    with torch.enable_grad():
        y = f(xr)
        if not isinstance(y, torch.Tensor):
            raise ValueError(f"{name}(x) must return a torch.Tensor, got {type(y).__name__} "
                             f"(for a tuple output wrap it: lambda x: model(x)[0])")
        if not y.is_floating_point():
            raise ValueError(f"{name}(x) returns {y.dtype}, which has no derivative: probe the "
                             f"map before any argmax / rounding / integer cast")
        if y.ndim < 1 or y.shape[0] != xr.shape[0]:
            raise ValueError(f"{name} must keep the batch axis: x[:{xr.shape[0]}] has "
                             f"{xr.shape[0]} examples but {name}(x) has shape {tuple(y.shape)}")
        grad = (torch.autograd.grad(y.sum(), xr, allow_unused=True)[0]
                if y.requires_grad else None)
    if grad is None:
        raise ValueError(f"{name}(x) has no gradient path to x (detach, .data, numpy or "
                         f"torch.no_grad inside {name}?): the probe needs a differentiable map")
    with torch.no_grad():
        y_all = f(x)
    if y_all.shape[0] != x.shape[0]:
        raise ValueError(f"{name} must keep the batch axis: x has {x.shape[0]} examples but "
                         f"{name}(x) has shape {tuple(y_all.shape)}")
    return y_all


def _flat_map(f: Callable, in_shape: tuple) -> Callable:
    """One flattened example [n] -> flattened output [m], through f on a batch of one."""
    def g(v: torch.Tensor) -> torch.Tensor:
        return f(v.reshape(1, *in_shape)).reshape(-1)
    return g


class _EvalMode:
    """Put nn.Modules in eval mode (BatchNorm uses running statistics, Dropout is off, so each
    example's output depends on that example only); restore their modes afterwards."""

    def __init__(self, fs, enabled: bool):
        self.mods = [f for f in fs if enabled and isinstance(f, torch.nn.Module)]
        self.modes: list = []

    def __enter__(self):
        for mod in self.mods:
            self.modes.append([(s, s.training) for s in mod.modules()])
            mod.eval()
        return self

    def __exit__(self, *exc):
        for modes in self.modes:
            for s, t in modes:
                s.train(t)
        return False


def _jacobian(f: Callable, x: torch.Tensor, name: str, chunk: int, bar) -> torch.Tensor:
    """J: [B, m, n] in x's dtype, chunk by chunk (module_jacobian), with a check that f
    treats examples independently."""
    g = _flat_map(f, tuple(x.shape[1:]))
    xf = x.detach().reshape(x.shape[0], -1)                          # [B, n]
    parts = []
    for s in range(0, xf.shape[0], chunk):
        parts.append(module_jacobian(g, xf[s:s + chunk], chunk=chunk))
        bar.update(xf[s:s + chunk].shape[0])
    J = torch.cat(parts, 0)                                          # [B, m, n]
    try:
        check_jacobian(J, None, f"J of {name}")
    except ValueError as e:
        raise ValueError(f"{e}: {name} is not differentiable at some inputs (overflow, "
                         f"log/sqrt of 0?); check {name}(x) and its gradient") from None
    if not bool(J.abs().amax() > 0):
        raise ValueError(f"the Jacobian of {name} is identically zero at every example "
                         f"(piecewise-constant ops such as round, sign, argmax, or a dead "
                         f"layer): there is no geometry to probe")
    return J


def _check_independent(f: Callable, x: torch.Tensor, y: torch.Tensor, name: str) -> None:
    """f applied to single examples must reproduce f applied to the batch."""
    b = min(4, x.shape[0])
    hint = (f"{name} mixes examples: {name}(x[i:i+1]) differs from {name}(x)[i] (BatchNorm in "
            f"training mode, batch statistics?). Call .eval() or pass eval_mode=True; the probe "
            f"differentiates each example on its own")
    try:
        with torch.no_grad():
            single = torch.cat([f(x[i:i + 1]) for i in range(b)], 0)
    except (RuntimeError, ValueError) as e:
        raise ValueError(f"{hint} ({name} fails on a batch of one: {e})") from None
    if single.shape != y[:b].shape or not torch.allclose(single, y[:b], rtol=1e-4, atol=1e-5):
        raise ValueError(hint)


# ----------------------------------------------------------------------------- sampled path
def _sampled_grid_minors(J: torch.Tensor, rows, cols, chunk_elements: int = 2 ** 22):
    """Yield (b0, minors [b, R, C]) in example slices of bounded size."""
    per = rows.shape[0] * cols.shape[0]
    step = max(1, chunk_elements // max(per, 1))
    for b0 in range(0, J.shape[0], step):
        yield b0, sampled_minors(J[b0:b0 + step], rows, cols)


def _sampled_row_means(J: torch.Tensor, rows, cols) -> np.ndarray:
    """Row means (IV.2) of the sampled grid: [B, R] (numpy), mean over the column sample."""
    return np.concatenate([M.mean(-1).cpu().numpy()
                           for _, M in _sampled_grid_minors(J, rows, cols)])


def _column_kl(Mt: torch.Tensor, Mi: torch.Tensor, base: float) -> torch.Tensor:
    """(IV.11)-(IV.13) on a minor grid: column softmax over rows (float64), KL per column.
    Mt, Mi: [b, R, C] -> [b, C]."""
    lP = torch.log_softmax(Mt.to(torch.float64), dim=-2)
    lQ = torch.log_softmax(Mi.to(torch.float64), dim=-2)
    return (lP.exp() * (lP - lQ)).sum(-2) / base


def _sampled_k(J, Jr, k: int, q1: float, n_samples: int, rr_samples: int, rotations,
               gen: torch.Generator, bar) -> dict:
    """The probe's metrics for one k on a sampled (row x column) tuple grid; same grid for
    both maps. Returns the p1_metrics-style keys used by `_collect`."""
    B, m, n = J.shape
    dev = J.device
    rows = sample_combinations(m, k, n_samples, gen, device=dev)     # [R, k]
    cols = sample_combinations(n, k, n_samples, gen, device=dev)     # [C, k]
    out = {"rows": rows.shape[0], "cols": cols.shape[0]}
    out[f"pr_k{k}"] = participation_ratio_sampled(J, rows, cols)
    out[f"pr_init_k{k}"] = participation_ratio_sampled(Jr, rows, cols)
    bar.update(1)
    # zero rows: thresholds from the reference's sampled row means (IV.3)-(IV.4)
    rm_t, rm_i = _sampled_row_means(J, rows, cols), _sampled_row_means(Jr, rows, cols)
    qk = false_positive_rate(q1, m, k)
    thr = float(np.quantile(rm_i.reshape(-1), qk, method="linear"))
    zt = rm_t < thr                                                  # [B, R]
    s = f"_k{k}_q{q1:g}"
    out["threshold"] = thr
    out["zero_frac" + s] = float(np.count_nonzero(zt) / zt.size)
    out["zero_frac_init" + s] = float(np.count_nonzero(rm_i < thr) / zt.size)
    if k in (2, 3):
        # sub-tuples of size k-1 of every sampled row tuple, their row means on a sampled
        # (k-1)-column grid, zero against Q^(k-1) of the reference (Table II, A-13)
        sub = torch.stack([torch.cat([rows[:, :d], rows[:, d + 1:]], 1) for d in range(k)], 1)
        uniq, inv = torch.unique(sub.reshape(-1, k - 1), dim=0, return_inverse=True)
        cols1 = sample_combinations(n, k - 1, n_samples, gen, device=dev)
        rs_t, rs_i = _sampled_row_means(J, uniq, cols1), _sampled_row_means(Jr, uniq, cols1)
        thr1 = float(np.quantile(rs_i.reshape(-1), false_positive_rate(q1, m, k - 1),
                                 method="linear"))
        inv = inv.reshape(-1, k).cpu().numpy()                       # [R, k]
        for tag, z, rs in (("", zt, rs_t), ("_init", rm_i < thr, rs_i)):
            any_sub = (rs < thr1)[:, inv].any(-1)                    # [B, R]
            out[f"dep_frac{tag}" + s] = float(np.count_nonzero(z & ~any_sub) / z.size)
    # column divergence (IV.13) on the sampled grid: softmax over the R sampled rows
    if rows.shape[0] >= 2:
        base = math.log(rows.shape[0])
        kl = [_column_kl(Mt, Mi, base) for (_, Mt), (_, Mi)
              in zip(_sampled_grid_minors(J, rows, cols), _sampled_grid_minors(Jr, rows, cols))]
        out[f"divergence_k{k}"] = float(torch.cat(kl).mean())
    bar.update(1)
    if rotations is not None:
        rr_rows, rr_cols = rows[:rr_samples], cols[:rr_samples]      # prefixes: uniform too
        out[f"rr_k{k}"] = sampled_rotation_ratio(J, k, rr_rows, rr_cols, rotations)
        out[f"rr_init_k{k}"] = sampled_rotation_ratio(Jr, k, rr_rows, rr_cols, rotations)
    bar.update(1)
    return out


# ----------------------------------------------------------------------------- assembly
def _ratio(a: float, b: float) -> float:
    if b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


def _collect(res: dict, k: int, q1: float, has_ref: bool) -> dict:
    """Map p1_metrics-style keys to {(metric, k): (ours, reference, normalised)}."""
    s = f"_k{k}_q{q1:g}"
    get = lambda key: float(res.get(key, math.nan))                 # noqa: E731
    pairs = {
        "zero_frac": (get("zero_frac" + s), get("zero_frac_init" + s)),
        "dep_frac": (get("dep_frac" + s), get("dep_frac_init" + s)),
        "pr": (get(f"pr_k{k}"), get(f"pr_init_k{k}")),
        "rr": (get(f"rr_k{k}"), get(f"rr_init_k{k}")),
        "divergence": (get(f"divergence_k{k}"), 0.0 if f"divergence_k{k}" in res else math.nan),
    }
    present = {"zero_frac": "zero_frac" + s, "dep_frac": "dep_frac" + s, "pr": f"pr_k{k}",
               "rr": f"rr_k{k}", "divergence": f"divergence_k{k}"}
    out = {}
    for metric, (ours, ref) in pairs.items():
        if present[metric] not in res:          # undefined here (dep_frac at k = 1, RR off)
            continue
        if metric == "divergence" and not has_ref:                   # KL(P || P) = 0
            continue
        if not has_ref:
            ref = math.nan
        norm = math.nan if metric == "divergence" else _ratio(ours, ref)
        out[(metric, k)] = (ours, ref, norm)
    return out


def probe(f: Callable, x: torch.Tensor, k=(1, 2, 3), reference: Optional[Callable] = None, *,
          q1: float = 1e-3, n_rotations: int = 100, max_exact: float = 2e7,
          max_rotated: float = 2e9, n_samples: int = 500, rr_samples: int = 100,
          seed: int = 0, chunk: int = 16, dtype: torch.dtype = torch.float64,
          eval_mode: bool = True, max_jacobian_elements: float = 5e8,
          rr_backend: str = "auto", progress: Optional[bool] = None) -> ProbeReport:
    """KA-geometry report of the Jacobian of `f` at the inputs `x` (P1 sec. IV).

    f, reference: callables or nn.Modules mapping a batch [b, ...] to [b, ...] (the same output
      shape for both), examples independently (nn.Modules are put in eval mode while probed
      when `eval_mode`; their modes are restored). Typical reference: the same model at
      initialisation, `init = copy.deepcopy(model)` taken before training.
    x: [B, ...] float inputs on the device to use (CPU or CUDA); each example is flattened to
      n inputs, each output to m values; J: [B, m, n].
    k: minor sizes, each <= min(m, n).
    q1: size-1 false-positive rate; Q^(k) = the q^(k)-quantile of the reference's row means
      with q^(k) = false_positive_rate(q1, m, k) (IV.3)-(IV.4).
    n_rotations: Haar rotations of SO(m) for RR (0 skips RR); the same set for both maps. Each
      is a QR of an m x m Gaussian (m^3): for wide layers (m ~ 1000) use tens, not hundreds.
    max_exact: largest B * C(m,k) * C(n,k) computed exactly (p1_metrics); larger k are sampled
      on an `n_samples` x `n_samples` grid of random row x column k-tuples.
    max_rotated: exact RR also needs B * C(m,k) * C(n,k) * (n_rotations + 1) <= max_rotated;
      otherwise RR uses an `rr_samples` x `rr_samples` sub-grid (M-10, M-11).
    seed: seeds the rotations and tuple samples (torch.Generator, nothing global).
    chunk: examples per torch.func Jacobian call (memory: chunk Jacobians + autograd).
    dtype: metric dtype (the Jacobian is taken in x's dtype, then cast).
    max_jacobian_elements: refuse B * m * n above this (memory guard; use fewer examples or
      probe a smaller part of the model).
    rr_backend: exact-RR kernel (`rotations.rotated_max_minors`); "auto" takes its default for
      n = 3 (the compiled P1 kernel) and "torch" otherwise (the general numba kernel was ~17x
      slower for k = 1 at m = 1024, n = 196).
    progress: tqdm bar (None: only on a terminal).

    Returns a ProbeReport (`.table()`, `.to_dict()`). Raises ValueError for inputs it cannot
    take: empty batch, NaN/inf in x or J, integer or detached outputs, a batch axis not kept,
    shapes of f(x) and reference(x) that differ, k > min(m, n).
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    _check_x(x)
    q1 = float(q1)
    if not 0.0 < q1 < 1.0:
        raise ValueError(f"q1 must lie strictly between 0 and 1, got {q1}")
    if chunk < 1 or n_samples < 1 or rr_samples < 1 or n_rotations < 0:
        raise ValueError("chunk, n_samples, rr_samples must be >= 1 and n_rotations >= 0")
    maps = [(f, "f")] + ([(reference, "reference")] if reference is not None else [])
    for g, name in maps:
        if not callable(g):
            raise ValueError(f"{name} must be callable (a function or nn.Module), got "
                             f"{type(g).__name__}")
    B = x.shape[0]
    n = math.prod(x.shape[1:])
    with _EvalMode([g for g, _ in maps], eval_mode):
        ys = [_output(g, x, name) for g, name in maps]
        m = math.prod(ys[0].shape[1:])
        if reference is not None and ys[1].shape != ys[0].shape:
            raise ValueError(f"f(x) has shape {tuple(ys[0].shape)} but reference(x) has "
                             f"{tuple(ys[1].shape)}: the reference must be a map of the same "
                             f"shapes (e.g. copy.deepcopy(model) before training)")
        ks = _check_ks(k, m, n)
        if B * m * n > max_jacobian_elements:
            raise ValueError(f"J would hold B * m * n = {B} * {m} * {n} = {B * m * n:.3g} values "
                             f"(> max_jacobian_elements = {max_jacobian_elements:.3g}): use fewer "
                             f"examples or probe a smaller part of the model")
        for (g, name), y in zip(maps, ys):
            _check_independent(g, x, y, name)
        cost = {kk: B * math.comb(m, kk) * math.comb(n, kk) for kk in ks}
        mode = {kk: "exact" if cost[kk] <= max_exact else "sampled" for kk in ks}
        exact_ks = tuple(kk for kk in ks if mode[kk] == "exact")
        sampled_ks = tuple(kk for kk in ks if mode[kk] == "sampled")
        with tqdm(total=B * len(maps), desc="KA probe Jacobians", unit="example",
                  disable=(None if progress is None else not progress)) as bar:
            Js = [_jacobian(g, x, name, chunk, bar).to(dtype) for g, name in maps]
    J = Js[0]
    Jr = Js[1] if reference is not None else J
    gen = torch.Generator().manual_seed(int(seed))
    rr_exact = tuple(kk for kk in exact_ks
                     if cost[kk] * (n_rotations + 1) <= max_rotated)
    values: dict = {}
    thresholds: dict = {}                                            # k -> Q^(k)
    with tqdm(total=(1 if exact_ks else 0) + 3 * len(sampled_ks), desc="KA probe metrics",
              unit="step", disable=(None if progress is None else not progress)) as bar:
        bar.set_postfix_str(f"{n_rotations} Haar rotations of SO({m})")
        rot = (haar_rotations(m, n_rotations, gen, dtype=dtype, device=J.device)
               if n_rotations > 0 else None)
        if exact_ks:
            bar.set_postfix_str(f"exact k={exact_ks}")
            res = p1_metrics(J, Jr, ks=exact_ks, q1s=(q1,))
            if rot is not None and rr_exact:
                be = rr_backend if rr_backend != "auto" or n == 3 else "torch"
                rt = random_rotation_ratios(J, rr_exact, rot, backend=be)
                ri = (random_rotation_ratios(Jr, rr_exact, rot, backend=be)
                      if reference is not None else rt)
                for kk in rr_exact:
                    res[f"rr_k{kk}"], res[f"rr_init_k{kk}"] = rt[kk], ri[kk]
            for kk in exact_ks:
                if kk in (2, 3) and reference is not None:
                    # the reference's own dependent zero rows (against its own thresholds)
                    res[f"dep_frac_init_k{kk}_q{q1:g}"] = dependent_zero_row_fraction(
                        Jr, Jr, kk, q1)
            for kk in exact_ks:
                if rot is not None and kk not in rr_exact:
                    rows = sample_combinations(m, kk, rr_samples, gen, device=J.device)
                    cols = sample_combinations(n, kk, rr_samples, gen, device=J.device)
                    res[f"rr_k{kk}"] = sampled_rotation_ratio(J, kk, rows, cols, rot)
                    res[f"rr_init_k{kk}"] = sampled_rotation_ratio(Jr, kk, rows, cols, rot)
                values.update(_collect(res, kk, q1, reference is not None))
                thresholds[kk] = res[f"threshold_k{kk}_q{q1:g}"]
            bar.update(1)
        samples = {}
        for kk in sampled_ks:
            bar.set_postfix_str(f"sampled k={kk}")
            res = _sampled_k(J, Jr, kk, q1, n_samples, rr_samples, rot, gen, bar)
            samples[kk] = (res.pop("rows"), res.pop("cols"))
            thresholds[kk] = res.pop("threshold")
            values.update(_collect(res, kk, q1, reference is not None))
    for kk in ks:
        if thresholds.get(kk) == 0.0:
            warnings.warn(f"Q^({kk}) = 0: more than q^({kk}) of the reference's size-{kk} row "
                          f"means "
                          f"are exactly zero (e.g. ReLU outputs that are off), so no row is a zero "
                          f"row by (IV.3)'s strict '<'; the zero fractions of k = {kk} are 0",
                          RuntimeWarning, stacklevel=2)
    info = dict(B=B, m=m, n=n, ks=list(ks), q1=q1, n_rotations=n_rotations,
                rr_mode={kk: ("exact" if kk in rr_exact else "sampled") for kk in ks}
                if rot is not None else None,
                samples={kk: list(v) for kk, v in samples.items()},
                n_minors={kk: cost[kk] for kk in ks}, thresholds=thresholds,
                reference=reference is not None,
                device=str(x.device), dtype=str(dtype).replace("torch.", ""),
                seconds=round(time.perf_counter() - t0, 3))
    return ProbeReport(values=values, mode=mode, info=info)
