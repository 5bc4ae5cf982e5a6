"""How P2's sampled estimates converge with the sample counts (issue 14; M-10, M-11, M-12).

P2 estimates its Fig. 1 quantities from samples: up to 10,000 row k-tuples x 10,000 column
k-tuples (M-11), 512 test images (M-12) and 400 Haar rotations (M-10). For a few networks
(their trained and initial Jacobians ``J: [B, h, n]``, one layer) this module measures how

* the **PR ratio** (PR_init / PR_trained, M-08; ``mnist.evaluation.pair_metrics``),
* the **KL**(P_trained || P_init) of the pooled |minor| histograms (M-09),
* the **rotation ratio** RR_trained, RR_init and RR_trained / RR_init (M-10)

and their standard errors change when ONE count is lowered along a geometric ladder while the
others stay at the top (P2's counts by default), and picks the smallest counts that agree with
the top:

    choose_count: the smallest ladder count c such that every ladder estimate at counts >= c
    lies within ``n_se`` (1) standard errors of the estimate at the top, that SE being the one
    of the top estimate.

The PR ratio and the KL share one grid (rows, cols, images: ``MNISTEvalConfig.n_rows``,
``n_cols``, ``n_images``); the RR has its own reduced grid (``rr_rows``, ``rr_cols``,
``rr_images``, ``n_rot``), as in ``pair_metrics``. ``chosen`` names the counts by those
``MNISTEvalConfig`` fields, each the largest choice over networks, k and quantities.

Samples are nested: the tuples at count c are the first c of one sample drawn at the top
count (``nested_samples``), so every ladder point is a uniform sample and a smaller one is a
subset of a larger one. Where ``sample_combinations`` enumerates (C <= 2,000,000: every k <= 2
grid and k = 3 rows for h <= 230) the first c tuples are exactly the sample that
``pair_metrics`` draws with count c (seed 42); elsewhere (its rejection sampler) they are a
different uniform sample of the same size. Images are the first n; rotations the first p of
``rotation_chunks(h, n_rot, rotation_seed)``.

Standard errors are over images: the delete-one jackknife over the images used (a mean's
reduces to std / sqrt(n)); for the KL with the bin edges held at the full set's. The row,
column and rotation samples are shared by all images, so their sampling noise is NOT in the
SE: the ladders show it instead (the estimate's wander as a count falls).

Every estimate reuses the library's kernels: ``core.minors.sampled_minor_stats``,
``mnist.evaluation.sampled_minor_histogram`` / ``log10_edges`` / ``sampled_rotation_ratios`` /
``rotation_chunks`` and ``core.sampled_metrics.kl_from_histograms``; at the top counts the
estimates equal ``pair_metrics``'s (tested).

Cost per network, state and k (factor 2 ladders): about 7 passes over the top grid of
rows x cols x images minors (a stats and a histogram pass at the top; the smaller points of the
row and of the column ladder about as much again each; the image ladder's histograms once
more), and about 3 times the top RR's rr_rows x rr_cols x rr_images x n_rot rotated minors
(the top with every rotation prefix; the row and the column ladders). The ``minors`` column of
the table gives each point's count. At P2's counts (1e8 minors per image) that is GPU work;
on a CPU lower the tops. ``chosen`` may name rr_images > n_images, which ``MNISTEvalConfig``
refuses: raise n_images to rr_images then.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
import torch

from ..core.minors import combinations_index, sample_combinations, sampled_minor_stats
from ..core.sampled_metrics import kl_from_histograms
from .evaluation import (log10_edges, rotation_chunks, sampled_minor_histogram,
                         sampled_rotation_ratios)

__all__ = [
    "P2_COUNTS", "AXES", "QUANTITIES", "ConvergenceConfig", "Convergence", "geometric_ladder",
    "nested_samples", "mean_se", "ratio_of_means_se", "kl_se", "choose_count", "choose_counts",
    "convergence", "run_pairs",
]

AXES = ("rows", "cols", "images", "rotations")
QUANTITIES = {"grid": ("pr_ratio", "kl"), "rr": ("rr_trained", "rr_init", "rr_ratio")}
# P2's counts (App. A.2.2, A.3.4): up to 10,000 row and column k-tuples, 2 batches of 256
# test images, 400 rotations.
P2_COUNTS = {"rows": 10_000, "cols": 10_000, "images": 512, "rotations": 400}
# (group, axis) -> the MNISTEvalConfig field that sets that count
CONFIG_FIELDS = {("grid", "rows"): "n_rows", ("grid", "cols"): "n_cols",
                 ("grid", "images"): "n_images", ("rr", "rows"): "rr_rows",
                 ("rr", "cols"): "rr_cols", ("rr", "images"): "rr_images",
                 ("rr", "rotations"): "n_rot"}


@dataclasses.dataclass(frozen=True)
class ConvergenceConfig:
    """The tops of the ladders (P2's counts by default), the ladder shape and the rule."""

    ks: tuple[int, ...] = (2, 3)
    rows: int = P2_COUNTS["rows"]          # grid (PR ratio, KL) tops
    cols: int = P2_COUNTS["cols"]
    images: int = P2_COUNTS["images"]
    rr_rows: int = P2_COUNTS["rows"]       # RR tops (n_rot = 0: no RR)
    rr_cols: int = P2_COUNTS["cols"]
    rr_images: int = P2_COUNTS["images"]
    n_rot: int = P2_COUNTS["rotations"]
    steps: int = 6                         # ladder points below and including the top
    factor: float = 2.0                    # ladder ratio: top, top / 2, top / 4, ...
    n_se: float = 1.0                      # the rule's band: n_se standard errors of the top
    sample_seed: int = 42
    rotation_seed: int = 0
    kl_bins: int = 100                     # M-09
    kl_eps: float = 1e-10

    def __post_init__(self):
        object.__setattr__(self, "ks", tuple(sorted({int(k) for k in
                                                     (self.ks if isinstance(self.ks, (tuple, list))
                                                      else (self.ks,))})))
        if not self.ks or min(self.ks) < 1 or max(self.ks) > 3:
            raise ValueError(f"minor orders must lie in 1..3, got {self.ks}")
        for name in ("rows", "cols", "images", "rr_rows", "rr_cols", "rr_images", "steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.n_rot < 0 or self.factor <= 1 or self.n_se < 0 or self.kl_bins < 1:
            raise ValueError(f"need n_rot >= 0, factor > 1, n_se >= 0, kl_bins >= 1: {self}")


@dataclasses.dataclass
class Convergence:
    """``table``: one row per (model, k, quantity, axis, count): estimate, se, the other
    counts of that point (rows, cols, images, rotations), minors (per state), top (the
    point is the reference). ``choices``: per (model, k, quantity, axis) the chosen count,
    the top and the reference estimate and SE. ``chosen``: {MNISTEvalConfig field: count},
    the largest choice over models, k and quantities."""

    table: Any                    # pandas DataFrame
    choices: Any                  # pandas DataFrame
    chosen: dict[str, int]


# ==================================================================================== ladders
def geometric_ladder(top: int, steps: int = 6, factor: float = 2.0, limit: int | None = None
                     ) -> list[int]:
    """Ascending distinct counts round(top / factor^j), j = 0..steps-1, each >= 1, clipped to
    ``limit`` (the number available, e.g. C(h, k)): [top / 32, ..., top / 2, top]."""
    if top < 1 or steps < 1 or factor <= 1:
        raise ValueError(f"need top >= 1, steps >= 1 and factor > 1, got {top}, {steps}, {factor}")
    cap = top if limit is None else min(top, int(limit))
    return sorted({max(1, min(cap, int(round(top / factor ** j)))) for j in range(steps)})


def nested_samples(n: int, k: int, top: int, seed: int = 42) -> tuple[torch.Tensor, dict]:
    """Up to ``top`` k-tuples of {0..n-1} ordered so that every prefix is a uniform sample:
    ``sample_combinations(n, k, top, Generator(seed))``, and when that is exhaustive (C(n, k)
    <= top) all tuples in the random order ``randperm(C(n, k), Generator(seed))``. In the
    enumerated case the first c tuples are the very sample ``sample_combinations`` draws with
    max_count c. Returns ([T, k], info of sample_combinations)."""
    idx, info = sample_combinations(n, k, top, torch.Generator().manual_seed(seed),
                                    return_info=True)
    if info["exhaustive"]:
        perm = torch.randperm(idx.shape[0], generator=torch.Generator().manual_seed(seed))
        idx = combinations_index(n, k)[perm]
    return idx, info


# ============================================================================ standard errors
def _jackknife(replicates: np.ndarray) -> float:
    r = np.asarray(replicates, dtype=np.float64)
    r = r[np.isfinite(r)]
    n = r.size
    if n < 2:
        return math.nan
    return float(math.sqrt((n - 1) / n * np.sum((r - r.mean()) ** 2)))


def mean_se(values) -> tuple[float, float]:
    """(nanmean, std / sqrt(n)) of per-image values (nan excluded, as ``pair_metrics``)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), (float(v.std(ddof=1) / math.sqrt(v.size)) if v.size > 1 else math.nan)


def ratio_of_means_se(num, den) -> tuple[float, float]:
    """(nanmean(num) / nanmean(den), delete-one jackknife SE over images) of paired per-image
    values [n] (each mean skips its own nans, as ``pair_metrics``)."""
    a = np.asarray(num, dtype=np.float64)
    b = np.asarray(den, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"need paired 1-d values, got {a.shape} and {b.shape}")
    va, vb = ~np.isnan(a), ~np.isnan(b)
    if not va.any() or not vb.any():
        return math.nan, math.nan
    sa, sb = np.where(va, a, 0.0), np.where(vb, b, 0.0)
    est = float(sa.sum() / va.sum()) / float(sb.sum() / vb.sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = (sa.sum() - sa) / (va.sum() - va)                     # [n] mean without image i
        mb = (sb.sum() - sb) / (vb.sum() - vb)
        return est, _jackknife(ma / mb)


def kl_se(hist_trained: np.ndarray, hist_init: np.ndarray, eps: float = 1e-10
          ) -> tuple[float, float]:
    """(KL of the pooled histograms, delete-one jackknife SE over images) from per-image count
    histograms [n, bins] on common edges (``kl_from_histograms``; edges held fixed)."""
    ht = np.asarray(hist_trained, dtype=np.float64)
    hi = np.asarray(hist_init, dtype=np.float64)
    if ht.shape != hi.shape or ht.ndim != 2:
        raise ValueError(f"need per-image histograms [n, bins] of one shape, got {ht.shape}, "
                         f"{hi.shape}")
    pt, pi = ht.sum(0), hi.sum(0)
    est = kl_from_histograms(pt, pi, eps)
    reps = [kl_from_histograms(pt - ht[i], pi - hi[i], eps) if (pt - ht[i]).sum() > 0
            and (pi - hi[i]).sum() > 0 else math.nan for i in range(ht.shape[0])]
    return est, _jackknife(np.array(reps))


# ==================================================================================== the rule
def choose_count(counts, estimates, reference: float, reference_se: float,
                 n_se: float = 1.0) -> int | None:
    """The smallest count c such that every estimate at counts >= c lies within ``n_se`` x
    ``reference_se`` of ``reference`` (NaN estimates never do). ``counts`` ascending-sortable;
    None if not even the largest count qualifies (e.g. the reference is NaN)."""
    c = np.asarray(counts)
    e = np.asarray(estimates, dtype=np.float64)
    if c.shape != e.shape or c.ndim != 1 or c.size == 0:
        raise ValueError("counts and estimates must be 1-d of one non-zero length")
    order = np.argsort(c, kind="stable")
    c, e = c[order], e[order]
    band = n_se * reference_se if math.isfinite(reference_se) else 0.0
    inside = np.abs(e - reference) <= band
    inside &= np.isfinite(e)
    chosen = None
    for i in range(c.size - 1, -1, -1):
        if not inside[i]:
            break
        chosen = int(c[i])
    return chosen


def choose_counts(table, n_se: float = 1.0):
    """Apply :func:`choose_count` to every (model, k, quantity, axis) ladder of a convergence
    table (the reference being its ``top`` row). Returns (choices DataFrame, chosen dict
    {MNISTEvalConfig field: largest choice}; a ladder where nothing qualifies counts as its
    top)."""
    import pandas as pd

    rows = []
    for (model, k, group, quantity, axis), d in table.groupby(
            ["model", "k", "group", "quantity", "axis"], sort=False):
        ref = d[d["top"]].iloc[0]
        c = choose_count(d["count"].to_numpy(), d["estimate"].to_numpy(), float(ref["estimate"]),
                         float(ref["se"]), n_se)
        rows.append({"model": model, "k": k, "group": group, "quantity": quantity, "axis": axis,
                     "chosen": c, "top": int(ref["count"]), "reference": float(ref["estimate"]),
                     "reference_se": float(ref["se"]),
                     "field": CONFIG_FIELDS[(group, axis)]})
    choices = pd.DataFrame(rows)
    chosen = {}
    for field, d in choices.groupby("field", sort=False):
        picks = [int(t) if c is None or (isinstance(c, float) and math.isnan(c)) else int(c)
                 for c, t in zip(d["chosen"], d["top"])]
        chosen[field] = max(picks)
    return choices, chosen


# ================================================================================ estimates
def _stats(J: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> dict[str, np.ndarray]:
    st = sampled_minor_stats(J, rows, cols, powers=(1, 2))
    s1, s2 = st["sum_p1"].cpu().numpy(), st["sum_p2"].cpu().numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        pr = np.where(s2 > 0, s1 / np.sqrt(np.where(s2 > 0, s2, 1.0)), np.nan)   # [B] (IV.5)
    return {"pr": pr, "max": st["max"].cpu().numpy(), "lo": st["min_nonzero"].cpu().numpy()}


def _grid_estimates(Js: dict, stats: dict, rows: torch.Tensor, cols: torch.Tensor, n: int,
                    cfg: ConvergenceConfig) -> dict[str, tuple[float, float]]:
    """PR ratio and KL (estimate, se) on the first n images, from per-image stats of both
    states (sliced) and histograms on the edges of this point's non-zero range."""
    out = {"pr_ratio": ratio_of_means_se(stats["init"]["pr"][:n], stats["trained"]["pr"][:n])}
    lo = min(float(stats[s]["lo"][:n].min()) for s in ("trained", "init"))
    hi = max(float(stats[s]["max"][:n].max()) for s in ("trained", "init"))
    if not math.isfinite(lo):                           # every minor zero: equal histograms
        out["kl"] = (0.0, 0.0)
        return out
    edges = log10_edges(lo, hi, cfg.kl_bins)
    hists = {}
    for s in ("trained", "init"):
        h, z = sampled_minor_histogram(Js[s][:n], rows, cols, edges)          # [n, bins], [n]
        hists[s] = np.concatenate([z.cpu().numpy()[:, None], h.cpu().numpy()], axis=1)
    out["kl"] = kl_se(hists["trained"], hists["init"], cfg.kl_eps)
    return out


class _RotationStream:
    """The rotations of ``rotation_chunks`` handed out in consecutive runs of given sizes."""

    def __init__(self, m: int, n_rot: int, seed: int):
        self._it = rotation_chunks(m, n_rot, seed)
        self._left: torch.Tensor | None = None

    def take(self, count: int) -> Iterator[torch.Tensor]:
        while count > 0:
            if self._left is None or self._left.shape[0] == 0:
                self._left = next(self._it)
            piece, self._left = self._left[:count], self._left[count:]
            count -= piece.shape[0]
            yield piece


def _rr_per_image(Js: dict, rows: torch.Tensor, cols: torch.Tensor, n_rot: int, seed: int,
                  cuts: list[int]) -> list[dict[str, np.ndarray]]:
    """Per-image rotation ratios M(x) / mean_p m_p(x) of both states over the first p
    rotations, for every p in ``cuts`` (ascending, the last = n_rot): [{state: float64 [B]}].
    Each run of rotations goes through ``sampled_rotation_ratios``; its mean maximum is
    recovered as M / ratio and the prefix means accumulate."""
    k = rows.shape[1]
    m = next(iter(Js.values())).shape[-2]
    M = {s: sampled_minor_stats(J, rows, cols, powers=())["max"].to(torch.float64).cpu()
         for s, J in Js.items()}                                             # [B]
    stream = _RotationStream(m, n_rot, seed)
    msum = {s: torch.zeros_like(M[s]) for s in Js}
    out, prev = [], 0
    for cut in cuts:
        ratios = sampled_rotation_ratios(Js, {k: (rows, cols)}, stream.take(cut - prev))
        res = {}
        for s in Js:
            r = ratios[s][k].to(torch.float64).cpu()
            mbar = torch.where(torch.isnan(r) | (M[s] == 0), torch.zeros_like(r), M[s] / r)
            msum[s] += mbar * (cut - prev)
            mean = msum[s] / cut
            res[s] = torch.where(mean > 0, M[s] / mean.clamp_min(1e-300),
                                 torch.full_like(mean, math.nan)).numpy()
        out.append(res)
        prev = cut
    return out


def _rr_estimates(per_image: dict[str, np.ndarray], n: int) -> dict[str, tuple[float, float]]:
    t, i = per_image["trained"][:n], per_image["init"][:n]
    return {"rr_trained": mean_se(t), "rr_init": mean_se(i), "rr_ratio": ratio_of_means_se(t, i)}


# ============================================================================== the driver
def _check_pairs(pairs: Mapping) -> dict[str, dict[str, torch.Tensor]]:
    if not pairs:
        raise ValueError("give at least one model: {name: (J_trained, J_init)}")
    out = {}
    for name, pair in pairs.items():
        Jt, Ji = pair
        if Jt.ndim != 3 or Jt.shape != Ji.shape:
            raise ValueError(f"model {name!r}: J_trained {tuple(Jt.shape)} and J_init "
                             f"{tuple(Ji.shape)} must both be [B, h, n]")
        out[str(name)] = {"trained": Jt, "init": Ji}
    return out


def convergence(pairs: Mapping, cfg: ConvergenceConfig | None = None,
                progress: bool = False) -> Convergence:
    """Ladders of the PR ratio, KL and RR estimates and their SEs, and the chosen counts.

    pairs: {model name: (J_trained [B, h, n], J_init [B, h, n])}, one layer, the same B images
    in the same order (the first ``cfg.images`` / ``cfg.rr_images`` are used; B must hold
    them). One axis varies at a time, the others at their tops. Returns a
    :class:`Convergence` (tidy table, per-ladder choices, {MNISTEvalConfig field: count}).
    """
    import pandas as pd

    cfg = cfg or ConvergenceConfig()
    models = _check_pairs(pairs)
    records = []

    def add(model, k, group, axis, count, est, counts, top):
        for q, (e, se) in est.items():
            records.append({"model": model, "k": k, "group": group, "quantity": q, "axis": axis,
                            "count": int(count), "estimate": e, "se": se, **counts,
                            "minors": int(np.prod([v for v in counts.values() if v])),
                            "top": bool(top)})

    for model, Js in models.items():
        B, h, n = Js["trained"].shape
        need = max(cfg.images, cfg.rr_images if cfg.n_rot else 0)
        if B < need:
            raise ValueError(f"model {model!r} has {B} images but the tops need {need}: pass "
                             f"more Jacobians or lower ConvergenceConfig.images / rr_images")
        for k in cfg.ks:
            if progress:
                print(f"[convergence] {model} k={k}", flush=True)
            top_rows = max(cfg.rows, cfg.rr_rows if cfg.n_rot else 0)
            top_cols = max(cfg.cols, cfg.rr_cols if cfg.n_rot else 0)
            rows_all, rinfo = nested_samples(h, k, top_rows, cfg.sample_seed)
            cols_all, cinfo = nested_samples(n, k, top_cols, cfg.sample_seed)
            dev = Js["trained"].device
            rows_all, cols_all = rows_all.to(dev), cols_all.to(dev)
            # ---- grid: PR ratio and KL over rows x cols x images
            R, C, N = (min(cfg.rows, len(rows_all)), min(cfg.cols, len(cols_all)), cfg.images)
            ladders = {"rows": geometric_ladder(cfg.rows, cfg.steps, cfg.factor, len(rows_all)),
                       "cols": geometric_ladder(cfg.cols, cfg.steps, cfg.factor, len(cols_all)),
                       "images": geometric_ladder(cfg.images, cfg.steps, cfg.factor)}
            Jn = {s: J[:N] for s, J in Js.items()}
            ref_stats = {s: _stats(J, rows_all[:R], cols_all[:C]) for s, J in Jn.items()}
            ref = _grid_estimates(Jn, ref_stats, rows_all[:R], cols_all[:C], N, cfg)
            for axis, ladder in ladders.items():
                for c in ladder:
                    r_, c_, n_ = (c if axis == "rows" else R, c if axis == "cols" else C,
                                  c if axis == "images" else N)
                    top = (r_, c_, n_) == (R, C, N)
                    if top:
                        est = ref
                    elif axis == "images":
                        est = _grid_estimates(Jn, ref_stats, rows_all[:R], cols_all[:C], n_, cfg)
                    else:
                        st = {s: _stats(J, rows_all[:r_], cols_all[:c_]) for s, J in Jn.items()}
                        est = _grid_estimates(Jn, st, rows_all[:r_], cols_all[:c_], N, cfg)
                    add(model, k, "grid", axis, c, est,
                        {"rows": r_, "cols": c_, "images": n_, "rotations": 0}, top)
            if not cfg.n_rot:
                continue
            # ---- RR over rows x cols x images x rotations
            R, C, N, P = (min(cfg.rr_rows, len(rows_all)), min(cfg.rr_cols, len(cols_all)),
                          cfg.rr_images, cfg.n_rot)
            ladders = {"rows": geometric_ladder(cfg.rr_rows, cfg.steps, cfg.factor, len(rows_all)),
                       "cols": geometric_ladder(cfg.rr_cols, cfg.steps, cfg.factor, len(cols_all)),
                       "images": geometric_ladder(cfg.rr_images, cfg.steps, cfg.factor),
                       "rotations": geometric_ladder(cfg.n_rot, cfg.steps, cfg.factor)}
            Jn = {s: J[:N] for s, J in Js.items()}
            by_rot = _rr_per_image(Jn, rows_all[:R], cols_all[:C], P, cfg.rotation_seed,
                                   ladders["rotations"])
            ref_img = by_rot[-1]
            for axis, ladder in ladders.items():
                for j, c in enumerate(ladder):
                    pt = {"rows": R, "cols": C, "images": N, "rotations": P}
                    pt[axis] = c
                    top = pt == {"rows": R, "cols": C, "images": N, "rotations": P}
                    if axis == "rotations":
                        est = _rr_estimates(by_rot[j], N)
                    elif axis == "images" or top:
                        est = _rr_estimates(ref_img, pt["images"])
                    else:
                        (per,) = _rr_per_image(Jn, rows_all[:pt["rows"]], cols_all[:pt["cols"]],
                                               P, cfg.rotation_seed, [P])
                        est = _rr_estimates(per, N)
                    add(model, k, "rr", axis, c, est, pt, top)
    table = pd.DataFrame.from_records(records)
    choices, chosen = choose_counts(table, cfg.n_se)
    return Convergence(table=table, choices=choices, chosen=chosen)


def run_pairs(runs: Sequence, x: torch.Tensor, layers: Sequence[str] = ("L1",)) -> dict:
    """{"h<h>/s<seed>/<training>/<layer>": (J_trained, J_init)} for :func:`convergence`: the
    float64 Jacobians ([B, h, 784]) of each run's final and initial weights at the images
    x: [B, 784], per layer."""
    from .models import mlp_jacobians

    pairs = {}
    x = x.to(torch.float64)
    for r in runs:
        c = r.config
        J = {s: mlp_jacobians({k: v.to(torch.float64) for k, v in w.items()}, x, tuple(layers))
             for s, w in (("final", r.final), ("initial", r.initial))}
        for layer in layers:
            name = f"h{c.hidden}/s{c.seed}/{'augmented' if c.augment else 'standard'}/{layer}"
            pairs[name] = (J["final"][layer], J["initial"][layer])
    return pairs
