"""P2 (MNIST) analysis of trained networks against their initial networks (notebook 06).

Per trained network (and the copy of its random initialisation, M-04 / P2 App. A.3.2), for the
hidden layers L1 = dh1/dx and L2 = dh2/dx (``mnist_models.mlp_jacobians``, w.r.t. the
normalised input, M-18; float64, M-22) and minor orders k:

* **Fig. 1 metrics** (:func:`pair_metrics`, cache kind ``"mnist_eval"``) on the first
  ``n_images`` test images (M-12), over the grid of sampled row k-tuples x sampled column
  k-tuples (M-11; up to ``n_rows`` x ``n_cols``, ``torch.Generator().manual_seed(42)``; the same
  samples for the trained and the initial network and for every image):

  - PR: P1's ||mu||_1 / ||mu||_2 (IV.5) per image, averaged over images (M-07); the
    **PR ratio** = PR_init / PR_trained (M-08; > 1 = more concentrated after training). The
    inverse participation ratio N sum mu^4 / (sum mu^2)^2 is kept as a sensitivity check.
  - **KL**(P_trained || P_init) of the pooled |minor| histograms: 100 log10 bins over the union
    of the non-zero ranges, exact zeros in their own bin, eps = 1e-10, natural log (M-09).
  - **RR**: P1's rotation ratio (IV.6)-(IV.7) with hidden-side Haar rotations R in SO(m), on a
    reduced subset (M-10 / M-11): the first ``rr_images`` images, ``rr_rows`` x ``rr_cols``
    sampled combinations (drawn separately, seed 42), ``n_rot`` rotations (``rotation_seed``).
    Reported as RR_trained, RR_init and RR_trained / RR_init.

* **Timeline** (cache kind ``"mnist_timeline"``): the same metrics for every checkpoint of a
  run trained with ``checkpoint_every`` > 0 (P2 App. A.3.1, M-21).
* **Spatial samplings** (:func:`spatial_pair`, cache kind ``"mnist_spatial"``) on the first
  ``n_images`` test images: the column (pixel) k-tuples are restricted to a Euclidean ball of
  radius r around a random seed pixel (M-13), to a rectangular region (M-15), or to pixels
  pairwise >= d apart (M-14); the PR ratio is computed per image (M-08). The same seed pixels
  (``n_draws`` of them, ``pixel_seed``) serve every image and every network.

Everything streams: Jacobians are built in chunks of images (float64 [B, m, 784] is 1.6 GB at
m = B = 512), and minors are reduced on the fly (``minors.sampled_minor_stats``; on CPU numba
kernels, on CUDA torch blocks of 500 x 500 tuples). Tensors follow the chosen device: CUDA when
present. Results do not depend on the chunking.

Both kinds are registered with :mod:`kag_utils.pipeline.sweep` (pure module-level tasks that compute AND
store), with the trained run (kind ``"mnist_run"``) as their dependency.
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import math
import os
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch

from ..pipeline.cache import OMIT_IF_DEFAULT, Cache
from ..core.minors import (check_sampled, check_jacobian, sample_combinations,
                           sampled_minor_histogram, sampled_minor_max, sampled_minor_stats)
from .data import N_PIXELS, load_mnist, source_dir
from ..core.sampled_metrics import kl_from_histograms
from .models import (DATA_DIR_ENV, RUN_KIND, MNISTRunConfig, default_device,
                           mlp_jacobians)
from ..core.rotations import haar_rotations
from .spatial import (MIN_DISTANCES, RADII, REGIONS, pixel_coords, region_mask,
                      sample_balls)
from ..pipeline.sweep import compute_and_load, register_kind
from ..core.threads import torch_threads

EVAL_KIND = "mnist_eval"
SPATIAL_KIND = "mnist_spatial"
TIMELINE_KIND = "mnist_timeline"
LAYERS = ("L1", "L2")
DTYPES = {"float32": torch.float32, "float64": torch.float64}
# Memory per Jacobian chunk (one layer, one state): images are processed in chunks of at most
# this many bytes; 256 MiB on CPU (h = 512: 80 images), 1 GiB on CUDA.
JACOBIAN_BYTES = {"cpu": 2 ** 28, "cuda": 2 ** 30}
# Largest tensor of rotated Jacobians R_U J_V formed at once in the rotation ratio.
ROTATION_ELEMENTS = 2 ** 24
# Rotations are drawn (CPU, float64, one generator) in chunks of at most this many bytes.
ROTATION_CHUNK_BYTES = 2 ** 26
# Rotation sets kept in the process (least recently used dropped first) so that networks of one
# width share one draw; a set larger than this is drawn again on every call.
ROTATION_CACHE_BYTES = 2 ** 28
_ROTATION_CACHE: "collections.OrderedDict[tuple, tuple[torch.Tensor, ...]]" = \
    collections.OrderedDict()


# ============================================================================ configurations
def _tuple(v, cast=None) -> tuple:
    v = tuple(v) if isinstance(v, (list, tuple)) else (v,)
    return tuple(cast(x) for x in v) if cast else v


@dataclasses.dataclass(frozen=True)
class MNISTEvalConfig:
    """How one network is compared with its initialisation for P2 Fig. 1 (defaults: the
    paper's protocol, REPRODUCTION 2.15 and Sec. 3 notebook 06; M-07 .. M-12, M-22)."""

    n_images: int = 512            # the first n test images (M-12: "2 evaluation batches")
    ks: tuple[int, ...] = (1, 2, 3)
    layers: tuple[str, ...] = LAYERS
    n_rows: int = 10_000           # "up to 10,000 row combinations" (M-11)
    n_cols: int = 10_000           # "up to 10,000 column combinations"
    sample_seed: int = 42
    kl_bins: int = 100             # M-09
    kl_eps: float = 1e-10
    n_rot: int = 400               # App. A.3.4 (the text says 100; M-10); 0 skips the RR
    rr_images: int = 64            # M-11: the RR on a reduced subset ...
    rr_rows: int = 1000            # ... of images and sampled combinations
    rr_cols: int = 1000
    rotation_seed: int = 0
    dtype: str = "float64"         # M-22
    # dtype of the RR's rotated products R_U J_V and their grid maxima (the unrotated maxima
    # stay in `dtype`); "float32" is an opt-in speed-up (benchmarks/bench_rr.py). Left out of
    # the cache key at its default, so the keys of earlier configs stay as they were.
    rr_dtype: str = dataclasses.field(default="float64", metadata={OMIT_IF_DEFAULT: True})

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        set_("ks", tuple(sorted({int(k) for k in _tuple(self.ks)})))
        set_("layers", tuple(_tuple(self.layers, str)))
        if self.rr_dtype not in DTYPES:
            raise ValueError(f"rr_dtype must be one of {tuple(DTYPES)}, got {self.rr_dtype!r}")
        for name in ("n_images", "n_rows", "n_cols", "sample_seed", "kl_bins", "n_rot",
                     "rr_images", "rr_rows", "rr_cols", "rotation_seed"):
            set_(name, int(getattr(self, name)))
        set_("kl_eps", float(self.kl_eps))
        _validate(self)
        if self.kl_bins < 1 or self.kl_eps < 0:
            raise ValueError(f"need kl_bins >= 1 and kl_eps >= 0: {self}")
        if self.n_rot < 0 or (self.n_rot and not (1 <= self.rr_images <= self.n_images
                                                  and self.rr_rows >= 1 and self.rr_cols >= 1)):
            raise ValueError("need n_rot >= 0 and, when n_rot > 0, 1 <= rr_images <= n_images "
                             f"and rr_rows, rr_cols >= 1: {self}")


@dataclasses.dataclass(frozen=True)
class MNISTSpatialConfig:
    """The three spatial samplings of P2 Sec. 2 / 3.1 (M-12 .. M-15, M-17). Column k-tuples are
    restricted to each pixel selection; row k-tuples are the usual sample from C(m, k)."""

    n_images: int = 50             # "For all spatial analyses, we use 50 test images"
    ks: tuple[int, ...] = (2, 3)   # M-06 (k = 1 has no pixel pairs to separate)
    layers: tuple[str, ...] = LAYERS   # M-17: L1 main, L2 supplement
    n_rows: int = 10_000
    n_cols: int = 10_000
    sample_seed: int = 42
    radii: tuple[float, ...] = RADII           # M-13
    n_draws: int = 10                          # seed pixels (M-13), shared by all images
    pixel_seed: int = 0
    regions: tuple[str, ...] = REGIONS         # M-15
    min_distances: tuple[float, ...] = MIN_DISTANCES   # M-14
    dtype: str = "float64"

    def __post_init__(self):
        set_ = functools.partial(object.__setattr__, self)
        set_("ks", tuple(sorted({int(k) for k in _tuple(self.ks)})))
        set_("layers", tuple(_tuple(self.layers, str)))
        set_("radii", _tuple(self.radii, float))
        set_("regions", _tuple(self.regions, str))
        set_("min_distances", _tuple(self.min_distances, float))
        for name in ("n_images", "n_rows", "n_cols", "sample_seed", "n_draws", "pixel_seed"):
            set_(name, int(getattr(self, name)))
        _validate(self)
        unknown = set(self.regions) - set(REGIONS)
        if unknown:
            raise ValueError(f"regions must be drawn from {REGIONS}, got {sorted(unknown)}")
        if self.n_draws < 0 or any(r < 0 for r in self.radii) or any(d < 0 for d in self.min_distances):
            raise ValueError(f"need n_draws >= 0 and non-negative radii / distances: {self}")


def _validate(cfg) -> None:
    unknown = set(cfg.layers) - set(LAYERS)
    if unknown or not cfg.layers:
        raise ValueError(f"layers must be a non-empty subset of {LAYERS}, got {cfg.layers}")
    if not cfg.ks or min(cfg.ks) < 1 or max(cfg.ks) > 3:
        raise ValueError(f"minor orders must lie in 1..3 (P2: 'max minor order 3'), got {cfg.ks}")
    if cfg.n_images < 1 or cfg.n_rows < 1 or cfg.n_cols < 1:
        raise ValueError(f"need n_images, n_rows, n_cols >= 1: {cfg}")
    if cfg.dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {cfg.dtype!r}")


# ==================================================================================== samples
@functools.lru_cache(maxsize=512)
def _sample(n: int, k: int, count: int, seed: int, allowed: tuple | None,
            min_distance: float | None) -> tuple[torch.Tensor, dict]:
    coords = pixel_coords() if min_distance is not None else None
    idx, info = sample_combinations(
        n, k, count, torch.Generator().manual_seed(seed),
        allowed=None if allowed is None else torch.tensor(allowed, dtype=torch.int64),
        min_distance=min_distance, coords=coords, return_info=True)
    return idx, info


def row_samples(m: int, k: int, count: int, seed: int = 42) -> tuple[torch.Tensor, dict]:
    """Up to ``count`` row (hidden-neuron) k-tuples of C(m, k) from a fresh generator seeded
    ``seed`` (all of them, in combinations order, when C(m, k) <= count): ([R, k], info)."""
    return _sample(int(m), int(k), int(count), int(seed), None, None)


def column_samples(k: int, count: int, seed: int = 42, allowed: torch.Tensor | None = None,
                   min_distance: float | None = None) -> tuple[torch.Tensor, dict]:
    """Up to ``count`` pixel k-tuples of the 784 pixels from a fresh generator seeded ``seed``,
    optionally restricted to ``allowed`` pixels (a ball, a region) and/or to pixels pairwise
    >= ``min_distance`` apart (Euclidean on the 28 x 28 grid): ([C, k], info)."""
    if allowed is not None:
        allowed = torch.as_tensor(allowed)
        if allowed.dtype == torch.bool:
            allowed = torch.nonzero(allowed).flatten()
        allowed = tuple(int(i) for i in torch.sort(allowed.flatten()).values)
    md = None if min_distance is None or (k < 2) else float(min_distance)
    return _sample(N_PIXELS, int(k), int(count), int(seed), allowed, md)


# ================================================================ histogram edges
def log10_edges(lo_nonzero: float, hi: float, bins: int) -> np.ndarray:
    """M-09 bin edges: ``bins`` bins uniform in log10 over [lo_nonzero, hi] (widened by half a
    decade each way when the range is a single value)."""
    a, b = math.log10(lo_nonzero), math.log10(hi)
    if b <= a:
        a, b = a - 0.5, b + 0.5
    return np.linspace(a, b, bins + 1)


# ================================================================================ Jacobians
def _device(device) -> torch.device:
    return torch.device(device) if device is not None else default_device()


def image_chunk(m: int, device: torch.device, dtype: torch.dtype = torch.float64) -> int:
    """Images per Jacobian chunk so one layer's [b, m, 784] tensor stays within
    ``JACOBIAN_BYTES`` of the device type."""
    budget = JACOBIAN_BYTES.get(device.type, JACOBIAN_BYTES["cpu"])
    per = m * N_PIXELS * torch.empty((), dtype=dtype).element_size()
    return max(1, budget // per)


def _jacobian_chunks(params: dict, x: torch.Tensor, layers: Sequence[str],
                     chunk: int) -> Iterator[dict[str, torch.Tensor]]:
    for s in range(0, x.shape[0], chunk):
        yield mlp_jacobians(params, x[s:s + chunk], layers)


def _prepare_pair(params_trained: dict, params_init: dict, x: torch.Tensor, n_images: int,
                  dtype_name: str, device) -> tuple[torch.device, dict, torch.Tensor]:
    """(device, {"trained": params, "init": params}, x[:n_images]), all on ``device`` in the
    named dtype; raises when x has fewer than n_images images."""
    device = _device(device)
    dtype = DTYPES[dtype_name]
    if x.shape[0] < n_images:
        raise ValueError(f"need {n_images} images, got {x.shape[0]}")
    states = {name: {k: v.detach().to(dtype=dtype, device=device) for k, v in params.items()}
              for name, params in (("trained", params_trained), ("init", params_init))}
    return device, states, x[:n_images].detach().to(dtype=dtype, device=device)


# ======================================================================= Fig. 1 pair metrics
def _pr(s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    return torch.where(s2 > 0, s1 / s2.clamp_min(1e-300).sqrt(), torch.full_like(s1, math.nan))


def _ipr(s2: torch.Tensor, s4: torch.Tensor, count: int) -> torch.Tensor:
    return torch.where(s2 > 0, count * s4 / (s2 * s2).clamp_min(1e-300),
                       torch.full_like(s2, math.nan))


def _nanmean(v: torch.Tensor) -> float:
    ok = ~torch.isnan(v)
    return float(v[ok].mean()) if bool(ok.any()) else math.nan


ACTIVITY_THRESHOLD = 0.05


def hidden_activity(params: dict, x: torch.Tensor, layers: Sequence[str] = LAYERS,
                    threshold: float = ACTIVITY_THRESHOLD) -> dict[str, dict[str, float]]:
    """How the GELU slopes sigma'(z) of each hidden layer sit on images x [N, 784].

    The Jacobian rows are scaled by sigma'(z) (L1: diag(sigma'(z1)) W1; L2: diag(sigma'(z2))
    W2 diag(sigma'(z1)) W1), so these slopes set much of the minors' concentration: a unit with
    |sigma'(z)| < threshold is "off" (a near-zero Jacobian row, P1's zero rows), one with
    sigma'(z) > 1 - threshold is "on" (linear). Returns {layer: {"off", "on", "z_mean",
    "z_std"}}: the shares of (image, unit) pairs and the pre-activation mean / std."""
    from ..core.jacobians import gelu_prime

    p = {k: v.detach().to(torch.float64) for k, v in params.items()}
    x = x.detach().to(device=p["W1"].device, dtype=torch.float64)
    z1 = x @ p["W1"].T + p["b1"]
    zs = {"L1": z1, "L2": torch.nn.functional.gelu(z1) @ p["W2"].T + p["b2"]}
    out = {}
    for layer in layers:
        z = zs[layer]
        g = gelu_prime(z)
        out[layer] = {"off": float((g.abs() < threshold).double().mean()),
                      "on": float((g > 1 - threshold).double().mean()),
                      "z_mean": float(z.mean()), "z_std": float(z.std())}
    return out


def pair_metrics(params_trained: dict, params_init: dict, x: torch.Tensor,
                 ecfg: MNISTEvalConfig | None = None, device=None) -> dict:
    """P2 Fig. 1 quantities of one trained network against its initial network.

    params_*: ``mnist_models`` weights (W1 [m, 784], ...); x: [N, 784] normalised images (the
    first ``ecfg.n_images`` are used). Returns ``{"metrics": {"L1/k2": {...}, ...},
    "samples": {"k2": {...}}}`` where each metric dict holds pr_trained, pr_init, pr_ratio
    (init / trained), ipr_trained, ipr_init, ipr_ratio (trained / init), kl, n_zero_trained,
    n_zero_init, n_minors, n_nan_trained, n_nan_init (images whose sampled minors all vanish,
    excluded from the means), and with ``n_rot`` > 0 rr_trained, rr_init, rr_ratio; the
    samples dicts give the numbers of row / column tuples and whether they were exhaustive;
    ``"activity"``: :func:`hidden_activity` of both networks on the images.
    """
    ecfg = ecfg or MNISTEvalConfig()
    device, states, xs = _prepare_pair(params_trained, params_init, x, ecfg.n_images,
                                       ecfg.dtype, device)
    dtype = xs.dtype
    m = states["trained"]["W1"].shape[0]
    samples, sample_info = {}, {}
    for k in ecfg.ks:
        rows, rinfo = row_samples(m, k, ecfg.n_rows, ecfg.sample_seed)
        cols, cinfo = column_samples(k, ecfg.n_cols, ecfg.sample_seed)
        samples[k] = (rows.to(device), cols.to(device))
        sample_info[f"k{k}"] = {"n_rows": int(rows.shape[0]), "n_cols": int(cols.shape[0]),
                                "rows_exhaustive": bool(rinfo["exhaustive"]),
                                "cols_exhaustive": bool(cinfo["exhaustive"]),
                                "rows_total": int(rinfo["n_total"]),
                                "cols_total": int(cinfo["n_total"])}
    chunk = image_chunk(m, device, dtype)
    n_chunks = -(-ecfg.n_images // chunk)
    keep = n_chunks == 1                        # hold the Jacobians for the second pass
    held: dict[str, list] = {"trained": [], "init": []}
    acc: dict[tuple, dict[str, list]] = {}
    # pass 1: per-image sums of |mu|, |mu|^2, |mu|^4 and the ranges of the non-zero minors
    for name, params in states.items():
        for Js in _jacobian_chunks(params, xs, ecfg.layers, chunk):
            if keep:
                held[name].append(Js)
            for layer in ecfg.layers:
                for k in ecfg.ks:
                    st = sampled_minor_stats(Js[layer], *samples[k], powers=(1, 2, 4))
                    a = acc.setdefault((name, layer, k), {})
                    for key in ("sum_p1", "sum_p2", "sum_p4", "max", "min_nonzero", "n_zero"):
                        a.setdefault(key, []).append(st[key].cpu())
                    a["count"] = st["count"]
    out: dict[str, Any] = {}
    edges = {}
    for layer in ecfg.layers:
        for k in ecfg.ks:
            res = {}
            lo, hi = math.inf, 0.0
            for name in ("trained", "init"):
                a = {key: (torch.cat(v) if isinstance(v, list) else v)
                     for key, v in acc[(name, layer, k)].items()}
                pr = _pr(a["sum_p1"], a["sum_p2"])
                ipr = _ipr(a["sum_p2"], a["sum_p4"], a["count"])
                res[f"pr_{name}"] = _nanmean(pr)
                res[f"ipr_{name}"] = _nanmean(ipr)
                res[f"n_nan_{name}"] = int(torch.isnan(pr).sum())
                res[f"n_zero_{name}"] = int(a["n_zero"].sum())
                lo = min(lo, float(a["min_nonzero"].min()))
                hi = max(hi, float(a["max"].max()))
                res["n_minors"] = int(a["count"]) * ecfg.n_images
            res["pr_ratio"] = res["pr_init"] / res["pr_trained"]
            res["ipr_ratio"] = res["ipr_trained"] / res["ipr_init"]
            edges[(layer, k)] = None if not math.isfinite(lo) else log10_edges(lo, hi, ecfg.kl_bins)
            out[f"{layer}/k{k}"] = res
    # pass 2: pooled histograms on the common edges -> KL(P_trained || P_init) (M-09)
    hists = {key: {"trained": np.zeros(ecfg.kl_bins + 1, dtype=np.int64),
                   "init": np.zeros(ecfg.kl_bins + 1, dtype=np.int64)} for key in edges}
    for name, params in states.items():
        chunks = held[name] if keep else _jacobian_chunks(params, xs, ecfg.layers, chunk)
        for Js in chunks:
            for (layer, k), e in edges.items():
                if e is None:
                    continue
                h, z = sampled_minor_histogram(Js[layer], *samples[k], e)
                hists[(layer, k)][name] += np.concatenate([[int(z.sum())],
                                                           h.sum(0).cpu().numpy()])
    for (layer, k), e in edges.items():
        out[f"{layer}/k{k}"]["kl"] = 0.0 if e is None else kl_from_histograms(
            hists[(layer, k)]["trained"], hists[(layer, k)]["init"], ecfg.kl_eps)
    held = None
    # rotation ratio on the reduced subset (M-10, M-11)
    if ecfg.n_rot:
        rr_samples = {}
        for k in ecfg.ks:
            rows, _ = row_samples(m, k, ecfg.rr_rows, ecfg.sample_seed)
            cols, _ = column_samples(k, ecfg.rr_cols, ecfg.sample_seed)
            rr_samples[k] = (rows, cols)
            for key, n in (("rr_rows", rows.shape[0]), ("rr_cols", cols.shape[0])):
                sample_info[f"k{k}"][key] = int(n)
        Js = {}
        for name, params in states.items():
            J = mlp_jacobians(params, xs[:ecfg.rr_images], ecfg.layers)
            for layer in ecfg.layers:
                Js[(name, layer)] = J[layer]
        rots = rotation_chunks(m, ecfg.n_rot, ecfg.rotation_seed)
        ratios = sampled_rotation_ratios(Js, rr_samples, rots, dtype=DTYPES[ecfg.rr_dtype])
        for layer in ecfg.layers:
            for k in ecfg.ks:
                res = out[f"{layer}/k{k}"]
                res["rr_trained"] = _nanmean(ratios[("trained", layer)][k])
                res["rr_init"] = _nanmean(ratios[("init", layer)][k])
                res["rr_ratio"] = res["rr_trained"] / res["rr_init"]
    activity = {name: hidden_activity(params, xs, ecfg.layers) for name, params in states.items()}
    return {"metrics": out, "samples": sample_info, "activity": activity}


# ============================================================================ rotation ratio
def rotation_chunks(m: int, n_rot: int, seed: int) -> Iterator[torch.Tensor]:
    """The ``n_rot`` Haar rotations of SO(m) for ``seed`` (CPU float64, one generator), in
    chunks of at most ``ROTATION_CHUNK_BYTES``: the same sequence on every call and device.
    A set of at most ``ROTATION_CACHE_BYTES`` is drawn once per process and handed out again
    (the chunks are shared: do not modify them); at m = 512 the Haar QR of 80 rotations took
    about 2 s per network, 12 % of its rotation ratio (issue 14)."""
    per = max(1, ROTATION_CHUNK_BYTES // (m * m * 8))
    key = (int(m), int(n_rot), int(seed), per)
    if key in _ROTATION_CACHE:
        _ROTATION_CACHE.move_to_end(key)
        return iter(_ROTATION_CACHE[key])
    if n_rot * m * m * 8 > ROTATION_CACHE_BYTES:
        return _draw_rotations(m, n_rot, seed, per)
    chunks = tuple(_draw_rotations(m, n_rot, seed, per))
    _ROTATION_CACHE[key] = chunks
    total = sum(c.numel() * 8 for cs in _ROTATION_CACHE.values() for c in cs)
    while total > ROTATION_CACHE_BYTES:
        _, old = _ROTATION_CACHE.popitem(last=False)
        total -= sum(c.numel() * 8 for c in old)
    return iter(chunks)


def _draw_rotations(m: int, n_rot: int, seed: int, per: int) -> Iterator[torch.Tensor]:
    g = torch.Generator().manual_seed(int(seed))
    done = 0
    while done < n_rot:
        c = min(per, n_rot - done)
        yield haar_rotations(m, c, g)
        done += c


def _grid_max(Q: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    return sampled_minor_max(Q, rows, cols, validate=False)


def sampled_rotation_ratios(Js: dict, samples: dict, rotations: Iterable[torch.Tensor],
                            max_elements: int = ROTATION_ELEMENTS,
                            dtype: torch.dtype | None = None) -> dict:
    """Rotation ratios (P1 IV.6-IV.7, hidden side; M-10) of several Jacobian sets at once over
    sampled grids (M-11): the rotated Jacobians R_U J_V (rows U, columns V used by any k) are
    formed once per rotation and set, and every k reads its grid from them.

    Js: {key: J [B, m, n]} (same m); samples: {k: (row_idx [R, k], col_idx [C, k])};
    rotations: an iterable of [p, m, m] chunks (consumed once). Returns {key: {k: float64 [B]}}
    = M(x) / mean_p m_p(x) per example (nan where every sampled minor vanishes). Equals
    ``mnist_metrics.sampled_rotation_ratio`` per k with all rotations stacked. ``dtype``
    (default: each J's): the dtype of the rotated products R_U J_V and their maxima m_p(x);
    the unrotated M(x) stays in J's dtype (float32 here: benchmarks/bench_rr.py measures it)."""
    keys = list(Js)
    if not keys:
        return {}
    dev = Js[keys[0]].device
    m = Js[keys[0]].shape[-2]
    U = torch.cat([r.flatten() for r, _ in samples.values()]).unique()
    V = torch.cat([c.flatten() for _, c in samples.values()]).unique()
    loc = {k: (torch.searchsorted(U, r).to(dev), torch.searchsorted(V, c).to(dev))
           for k, (r, c) in samples.items()}
    Ud, Vd = U.to(dev), V.to(dev)
    Jv = {key: J[:, :, Vd] for key, J in Js.items()}                  # [B, m, |V|]
    M = {key: {k: _grid_max(Jv[key][:, Ud, :], *loc[k]) for k in samples} for key in keys}
    if dtype is not None:
        Jv = {key: J.to(dtype) for key, J in Jv.items()}
    msum = {key: {k: torch.zeros(Js[key].shape[0], dtype=torch.float64, device=dev)
                  for k in samples} for key in keys}
    P = 0
    per = U.numel() * V.numel()
    for R in rotations:
        if R.ndim != 3 or R.shape[1:] != (m, m):
            raise ValueError(f"rotation chunks must be [p, {m}, {m}], got {tuple(R.shape)}")
        P += R.shape[0]
        Ru = {}                                                        # dtype -> [p, |U|, m]
        for key in keys:
            J = Jv[key]
            if J.dtype not in Ru:
                Ru[J.dtype] = R.to(device=dev)[:, Ud, :].to(J.dtype)
            Ru_ = Ru[J.dtype]
            B = J.shape[0]
            b_chunk = max(1, min(B, max_elements // per))
            p_chunk = max(1, min(R.shape[0], max_elements // (per * b_chunk)))
            for b0 in range(0, B, b_chunk):
                Jb = J[b0:b0 + b_chunk]
                for p0 in range(0, R.shape[0], p_chunk):
                    Q = torch.matmul(Ru_[p0:p0 + p_chunk].unsqueeze(1), Jb.unsqueeze(0))
                    for k in samples:
                        msum[key][k][b0:b0 + Jb.shape[0]] += \
                            _grid_max(Q, *loc[k]).to(torch.float64).sum(0)
    if P == 0:
        raise ValueError("no rotations given")
    out = {}
    for key in keys:
        out[key] = {}
        for k in samples:
            mbar = msum[key][k] / P
            out[key][k] = torch.where(mbar > 0, M[key][k].to(torch.float64) / mbar.clamp_min(1e-300),
                                      torch.full_like(mbar, math.nan)).cpu()
    return out


# ======================================================================= spatial samplings
def spatial_selections(scfg: MNISTSpatialConfig | None = None) -> list[dict]:
    """The pixel selections of the three spatial analyses, in a fixed order: balls (draw-major:
    for each seed pixel, every radius), regions, minimum distances. Each is a dict with
    ``analysis`` ('ball', 'region', 'distance'), ``value`` (radius, region name, d), ``draw``
    (seed-pixel index for balls, else -1), ``center`` ((row, col) or None), ``allowed``
    (sorted pixel indices or None = all), ``min_distance`` (or None) and ``n_pixels``."""
    scfg = scfg or MNISTSpatialConfig()
    sel = []
    if scfg.radii and scfg.n_draws:
        balls = sample_balls(scfg.radii, scfg.n_draws, seed=scfg.pixel_seed)
        for d in range(scfg.n_draws):
            for i, r in enumerate(scfg.radii):
                idx = balls.indices(d, i)
                sel.append({"analysis": "ball", "value": r, "draw": d,
                            "center": tuple(int(v) for v in balls.seeds[d]),
                            "allowed": idx, "min_distance": None, "n_pixels": int(idx.numel())})
    for name in scfg.regions:
        idx = torch.nonzero(region_mask(name)).flatten()
        sel.append({"analysis": "region", "value": name, "draw": -1, "center": None,
                    "allowed": idx, "min_distance": None, "n_pixels": int(idx.numel())})
    for d in scfg.min_distances:
        sel.append({"analysis": "distance", "value": d, "draw": -1, "center": None,
                    "allowed": None, "min_distance": d, "n_pixels": N_PIXELS})
    return sel


def spatial_samples(scfg: MNISTSpatialConfig, k: int) -> list[tuple[torch.Tensor, dict]]:
    """Column samples (seed ``scfg.sample_seed``) of every selection of
    :func:`spatial_selections` for minor order k: [(col_idx [C, k], info), ...]."""
    out = []
    for s in spatial_selections(scfg):
        if s["allowed"] is not None and s["allowed"].numel() < k:
            raise ValueError(f"selection {s['analysis']} {s['value']} has {s['n_pixels']} pixels, "
                             f"fewer than k = {k}")
        out.append(column_samples(k, scfg.n_cols, scfg.sample_seed, allowed=s["allowed"],
                                  min_distance=s["min_distance"]))
    return out


def spatial_pair(params_trained: dict, params_init: dict, x: torch.Tensor,
                 scfg: MNISTSpatialConfig | None = None, device=None) -> dict:
    """Per-image PR of the trained and the initial network for every spatial selection.

    Returns ``{"pr": {"L1/k2": {"trained": float64 [S, N], "init": [S, N]}, ...},
    "samples": {"k2": {"n_rows": R, "n_cols": [S], "cols_exhaustive": [S],
    "acceptance_rate": [S]}}}`` with S selections in the order of
    :func:`spatial_selections` and N = ``scfg.n_images`` images; PR ratio = init / trained."""
    scfg = scfg or MNISTSpatialConfig()
    device, states, xs = _prepare_pair(params_trained, params_init, x, scfg.n_images,
                                       scfg.dtype, device)
    dtype = xs.dtype
    m = states["trained"]["W1"].shape[0]
    rows, cols, info = {}, {}, {}
    for k in scfg.ks:
        r, rinfo = row_samples(m, k, scfg.n_rows, scfg.sample_seed)
        rows[k] = r.to(device)
        cs = spatial_samples(scfg, k)
        cols[k] = [c.to(device) for c, _ in cs]
        info[f"k{k}"] = {"n_rows": int(r.shape[0]), "rows_exhaustive": bool(rinfo["exhaustive"]),
                         "n_cols": torch.tensor([int(c.shape[0]) for c, _ in cs]),
                         "cols_exhaustive": torch.tensor([bool(i["exhaustive"]) for _, i in cs]),
                         "acceptance_rate": torch.tensor([float(i["acceptance_rate"])
                                                          for _, i in cs], dtype=torch.float64)}
    chunk = image_chunk(m, device, dtype)
    for k in scfg.ks:                           # validate the tuples once (not per chunk)
        for c in cols[k]:
            check_sampled(torch.zeros(1, m, N_PIXELS, dtype=dtype), rows[k].cpu(), c.cpu())
    pr: dict[str, dict[str, list]] = {}
    for name, params in states.items():
        for Js in _jacobian_chunks(params, xs, scfg.layers, chunk):
            for layer in scfg.layers:
                check_jacobian(Js[layer], name=f"{layer} Jacobian")
                for k in scfg.ks:
                    vals = []
                    for c in cols[k]:
                        st = sampled_minor_stats(Js[layer], rows[k], c, powers=(1, 2),
                                                 validate=False)
                        vals.append(_pr(st["sum_p1"], st["sum_p2"]).cpu())
                    pr.setdefault(f"{layer}/k{k}", {}).setdefault(name, []).append(torch.stack(vals))
    return {"pr": {key: {name: torch.cat(v, dim=1) for name, v in d.items()}
                   for key, d in pr.items()},
            "samples": info}


# ==================================================================== cached sweep kinds
@functools.lru_cache(maxsize=2)
def _load_data(source: str, data_dir: str | None):
    return load_mnist(source, data_dir=data_dir)


def _threads():
    """One torch intra-op thread on CPU while the numba kernels use the cores (two OpenMP
    pools on two cores slow each other down: the small torch checks and matmuls between
    kernel calls ran 3-4x slower with two threads); no change on CUDA."""
    import contextlib
    return torch_threads(1) if _device(None).type == "cpu" else contextlib.nullcontext()


def _run_payload(config: MNISTRunConfig, cache: Cache) -> dict:
    payload = cache.load(RUN_KIND, config)
    if payload is None:
        raise RuntimeError(f"run {config} is not in {cache}: train it first (ensure_mnist_runs)")
    return payload


def _test_images(config: MNISTRunConfig, payload: dict, n: int) -> torch.Tensor:
    """The first n normalised test images (M-12) of the run's data, float64 [n, 784]."""
    data = _load_data(config.data, source_dir(config.data))   # $KAG_MNIST_DIR, ...
    if payload["data"].get("fingerprint") != data.fingerprint:
        raise ValueError(f"run {config} was trained on other {config.data!r} data than "
                         f"{data.description!r} (fingerprints differ)")
    if n > data.n_test:
        raise ValueError(f"{n} evaluation images requested but the {config.data!r} test split "
                         f"has {data.n_test}")
    return data.inputs("test", torch.float64)[:n]


def eval_config(run: MNISTRunConfig, ecfg: MNISTEvalConfig) -> dict:
    return {"run": run, "eval": ecfg}


def spatial_config(run: MNISTRunConfig, scfg: MNISTSpatialConfig) -> dict:
    return {"run": run, "spatial": scfg}


def eval_task(kind: str, configs: Sequence[dict], cache_root: str, on_result=None) -> list[str]:
    """Sweep task of kind ``"mnist_eval"``: :func:`pair_metrics` of each run (trained vs its
    initial network) plus its test accuracies, stored in ``Cache(cache_root)``."""
    cache = Cache(cache_root)
    keys = []
    for ec in configs:
        run, ecfg = ec["run"], ec["eval"]
        payload = _run_payload(run, cache)
        x = _test_images(run, payload, ecfg.n_images)
        with _threads():
            res = pair_metrics(payload["final"], payload["initial"], x, ecfg)
        res.update(test_acc=payload["test_acc"], test_acc_initial=payload["test_acc_initial"],
                   device=str(_device(None)))
        cache.store(kind, ec, res)
        keys.append(cache.key(kind, ec))
        if on_result is not None:
            on_result(keys[-1])
    return keys


def spatial_task(kind: str, configs: Sequence[dict], cache_root: str, on_result=None) -> list[str]:
    """Sweep task of kind ``"mnist_spatial"``: :func:`spatial_pair` of each run."""
    cache = Cache(cache_root)
    keys = []
    for sc in configs:
        run, scfg = sc["run"], sc["spatial"]
        payload = _run_payload(run, cache)
        x = _test_images(run, payload, scfg.n_images)
        with _threads():
            res = spatial_pair(payload["final"], payload["initial"], x, scfg)
        cache.store(kind, sc, res)
        keys.append(cache.key(kind, sc))
        if on_result is not None:
            on_result(keys[-1])
    return keys


def timeline_config(run: MNISTRunConfig, ecfg: MNISTEvalConfig) -> dict:
    if run.checkpoint_every < 1:
        raise ValueError(f"a timeline needs a run with checkpoints (checkpoint_every > 0): {run}")
    return {"run": run, "timeline": ecfg}


def timeline_task(kind: str, configs: Sequence[dict], cache_root: str,
                  on_result=None) -> list[str]:
    """Sweep task of kind ``"mnist_timeline"``: :func:`pair_metrics` of every checkpoint of a run
    against its initial network (P2 App. A.3.1, M-21)."""
    cache = Cache(cache_root)
    keys = []
    for tc in configs:
        run, ecfg = tc["run"], tc["timeline"]
        payload = _run_payload(run, cache)
        x = _test_images(run, payload, ecfg.n_images)
        ck = payload["checkpoints"]
        res = {"epochs": [int(e) for e in ck["epochs"]], "points": []}
        for i in range(len(res["epochs"])):
            params = {name: v[i] for name, v in ck["params"].items()}
            with _threads():
                point = pair_metrics(params, payload["initial"], x, ecfg)
            res["points"].append({"metrics": point["metrics"], "activity": point["activity"]["trained"]})
        cache.store(kind, tc, res)
        keys.append(cache.key(kind, tc))
        if on_result is not None:
            on_result(keys[-1])
    return keys


def _singletons(configs: list) -> list[list]:
    return [[c] for c in configs]


def _run_dependency(item: dict) -> list:
    return [(RUN_KIND, item["run"])]


# one run per task and results independent of the grouping: a cluster may split freely
register_kind(EVAL_KIND, group=_singletons, task=eval_task, dependencies=_run_dependency,
              splittable=True)
register_kind(SPATIAL_KIND, group=_singletons, task=spatial_task, dependencies=_run_dependency,
              splittable=True)
register_kind(TIMELINE_KIND, group=_singletons, task=timeline_task, dependencies=_run_dependency,
              splittable=True)


# ============================================================================ public entries
def _set_data_dir(data_dir) -> None:
    if data_dir is not None:
        os.environ[DATA_DIR_ENV] = str(data_dir)


def run_columns(run: MNISTRunConfig) -> dict:
    """The settings that tell MNIST runs apart, as DataFrame columns."""
    return {"hidden": run.hidden, "augment": run.augment, "seed": run.seed,
            "training": "augmented" if run.augment else "standard", "epochs": run.epochs,
            "data": run.data, "lr": run.lr, "weight_decay": run.weight_decay}


def evaluate_mnist(runs: Sequence[MNISTRunConfig], ecfg: MNISTEvalConfig | None = None,
                   cache: Cache | None = None, progress: bool = True, scheduler: Any = None,
                   data_dir=None):
    """P2 Fig. 1 metrics of every run against its initialisation, computing (and training) only
    what the cache lacks. Returns a pandas DataFrame with one row per (run, layer, k): the
    :func:`run_columns`, layer, k, the metric keys of :func:`pair_metrics`, the sample counts,
    the layer's activity (off_trained, on_init, z_mean_trained, ...: :func:`hidden_activity`),
    test_acc and test_acc_initial. ``data_dir``: where full MNIST lives (``data='full'`` runs);
    exported as ``$KAG_MNIST_DIR`` for the sweep tasks."""
    import pandas as pd

    ecfg = ecfg or MNISTEvalConfig()
    cache = cache if cache is not None else Cache()
    _set_data_dir(data_dir)
    items = [eval_config(r, ecfg) for r in runs]
    payloads = compute_and_load(EVAL_KIND, items, cache, progress=progress, scheduler=scheduler)
    rows = []
    for item, payload in zip(items, payloads):
        for key, metrics in payload["metrics"].items():
            layer, k = key.split("/k")
            act = {f"{key}_{name}": v for name, a in payload["activity"].items()
                   for key, v in a[layer].items()}
            rows.append({**run_columns(item["run"]), "layer": layer, "k": int(k), **metrics,
                         **payload["samples"][f"k{k}"], **act, "test_acc": payload["test_acc"],
                         "test_acc_initial": payload["test_acc_initial"]})
    return pd.DataFrame(rows)


def timeline_mnist(runs: Sequence[MNISTRunConfig], ecfg: MNISTEvalConfig | None = None,
                   cache: Cache | None = None, progress: bool = True, scheduler: Any = None,
                   data_dir=None):
    """Fig. 1 metrics along training: every checkpoint of each run (configs with
    ``checkpoint_every`` > 0) against its initial network. A pandas DataFrame with one row per
    (run, epoch, layer, k): the :func:`run_columns`, epoch, layer, k, the metric keys of
    :func:`pair_metrics` and the trained network's activity (off, on, z_mean, z_std)."""
    import pandas as pd

    ecfg = ecfg or MNISTEvalConfig()
    cache = cache if cache is not None else Cache()
    _set_data_dir(data_dir)
    items = [timeline_config(r, ecfg) for r in runs]
    payloads = compute_and_load(TIMELINE_KIND, items, cache, progress=progress,
                                scheduler=scheduler)
    rows = []
    for item, payload in zip(items, payloads):
        for epoch, point in zip(payload["epochs"], payload["points"]):
            for key, metrics in point["metrics"].items():
                layer, k = key.split("/k")
                rows.append({**run_columns(item["run"]), "epoch": epoch, "layer": layer,
                             "k": int(k), **metrics, **point["activity"][layer]})
    return pd.DataFrame(rows)


def spatial_mnist(runs: Sequence[MNISTRunConfig], scfg: MNISTSpatialConfig | None = None,
                  cache: Cache | None = None, progress: bool = True, scheduler: Any = None,
                  data_dir=None):
    """Spatial PR ratios of every run (computing only what the cache lacks), as a long pandas
    DataFrame with one row per (run, layer, k, selection, image): the :func:`run_columns`,
    layer, k, analysis, value, draw, n_pixels, n_cols (column tuples sampled), image,
    pr_trained, pr_init, pr_ratio (= init / trained, M-08)."""
    import pandas as pd

    scfg = scfg or MNISTSpatialConfig()
    cache = cache if cache is not None else Cache()
    _set_data_dir(data_dir)
    items = [spatial_config(r, scfg) for r in runs]
    payloads = compute_and_load(SPATIAL_KIND, items, cache, progress=progress,
                                scheduler=scheduler)
    sel = spatial_selections(scfg)
    meta = pd.DataFrame([{key: s[key] for key in ("analysis", "value", "draw", "n_pixels")}
                         for s in sel])
    meta["value"] = meta["value"].astype(object)
    frames = []
    for item, payload in zip(items, payloads):
        for key, d in payload["pr"].items():
            layer, k = key.split("/k")
            tr, ini = d["trained"].numpy(), d["init"].numpy()              # [S, N]
            S, N = tr.shape
            df = meta.loc[np.repeat(np.arange(S), N)].reset_index(drop=True)
            df["n_cols"] = np.repeat(payload["samples"][f"k{k}"]["n_cols"].numpy(), N)
            df["image"] = np.tile(np.arange(N), S)
            df["pr_trained"] = tr.ravel()
            df["pr_init"] = ini.ravel()
            df["pr_ratio"] = ini.ravel() / tr.ravel()
            for col, v in run_columns(item["run"]).items():
                df[col] = v
            df["layer"] = layer
            df["k"] = int(k)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def spatial_sample_table(hidden: Iterable[int], scfg: MNISTSpatialConfig | None = None):
    """Deliverable 7 of REPRODUCTION notebook 06: per (m, k, selection) the numbers of sampled
    row and column k-tuples, whether the columns were exhaustive and the acceptance rate of the
    distance constraint (pandas DataFrame; balls averaged over their seed-pixel draws)."""
    import pandas as pd

    scfg = scfg or MNISTSpatialConfig()
    sel = spatial_selections(scfg)
    rows = []
    for k in scfg.ks:
        cs = spatial_samples(scfg, k)
        for m in hidden:
            r, rinfo = row_samples(m, k, scfg.n_rows, scfg.sample_seed)
            for s, (c, info) in zip(sel, cs):
                rows.append({"m": m, "k": k, "analysis": s["analysis"], "value": s["value"],
                             "n_pixels": s["n_pixels"], "n_rows": int(r.shape[0]),
                             "rows_exhaustive": bool(rinfo["exhaustive"]),
                             "n_cols": int(c.shape[0]), "cols_exhaustive": bool(info["exhaustive"]),
                             "cols_total": int(info["n_total"]),
                             "acceptance_rate": float(info["acceptance_rate"])})
    df = pd.DataFrame(rows)
    df["value"] = df["value"].astype(str)
    return (df.groupby(["m", "k", "analysis", "value"], sort=False)
              .agg(n_pixels=("n_pixels", "mean"), n_rows=("n_rows", "first"),
                   rows_exhaustive=("rows_exhaustive", "all"), n_cols=("n_cols", "mean"),
                   cols_exhaustive=("cols_exhaustive", "mean"), cols_total=("cols_total", "mean"),
                   acceptance_rate=("acceptance_rate", "mean"))
              .reset_index())
