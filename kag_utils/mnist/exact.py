"""Exact against sampled 2-minors on MNIST (the open question of P2's sampling, notebook 07).

P2 estimates its Fig. 1 quantities on a grid of up to 10,000 sampled row pairs x 10,000
sampled column pairs (M-11). For k = 2 and one image, ALL C(h,2) C(784,2) minors (2.5e9 at
h = 128) can be visited (`core.exact_minors.exact_minor_stats`), so the sampling error and
bias can be measured against the exact values on the same images:

* `exact_vs_sampled(params_trained, params_init, x, layer)`: for the first `n_images` images
  and one layer (L1 or L2, `models.mlp_jacobians`, float64 as M-22), the exact values and
  `n_draws` sampled estimates (draw d uses seed `seed + d`; d = 0 with seed 42 is P2's draw,
  `evaluation.row_samples` / `column_samples`) at each (n_rows, n_cols) of `counts`, of:

  - ``pr_trained``, ``pr_init``: P2's PR (P1 IV.5: ||mu||_1 / ||mu||_2 per image, averaged
    over images, M-07). It grows like sqrt(N) with the number N of minors, so a sampled value
    does NOT estimate the exact one; kept for the record, left out of `sampling_bias`.
  - ``pr_norm_trained``, ``pr_norm_init``: PR / sqrt(N) per image (= mean|mu| / rms|mu|),
    averaged over images: the scale-free form that a sampled grid estimates.
  - ``pr_ratio`` = pr_init / pr_trained (M-08; the same N for both, so it equals the ratio of
    the normalised PRs and the sampled value estimates the exact one).
  - ``kl``: KL(P_trained || P_init) of the pooled |minor| histograms (M-09) on FIXED bins:
    `bins` log10 bins over the union of the non-zero ranges that P2's own draw (seed 42,
    `edge_counts`) finds in the two networks, values outside clipped into the end bins, zeros
    in their own bin, eps added. The same edges serve the exact histogram and every draw, so
    exact and sampled KL differ only by sampling (P2 re-derives the edges per draw).

* `sampling_bias(df)`: per (metric, counts) the exact value, the mean and standard deviation
  (sd = the standard error of ONE sampled estimate) over the draws, bias = mean - exact, the
  bias in units of sd and of sd / sqrt(n_draws) (z: is the bias resolved?), the relative bias,
  and P2's own draw's error in units of sd.

* `exact_timing(hidden)`: the exact kernel's throughput (minors/s) and the time for one image
  per width on this machine, and how many images fit a time budget.

`exact_study(networks, x, ...)` loops `exact_vs_sampled` over several networks / layers and
returns one tidy DataFrame. Everything runs on the CPU (numba): the exact values by
`core.exact_minors.exact_minor_stats`, the sampled ones by `minors.sampled_minor_stats`, the
kernel of notebook 06 (the same minors and bins as the exact kernel, sums up to rounding
order; 1.7-1.8x faster than `exact_minors.grid_minor_stats` on P2's grid).
"""
from __future__ import annotations

import math
import os
import time
from typing import Iterable, Sequence

import numpy as np
import torch

from ..core.exact_minors import exact_minor_stats, n_minors
from ..core.minors import sample_combinations, sampled_minor_stats
from ..core.sampled_metrics import kl_from_histograms
from .data import N_PIXELS
from .evaluation import column_samples, log10_edges, row_samples
from .models import mlp_jacobians

__all__ = ["P2_COUNTS", "DEFAULT_COUNTS", "METRICS", "COMPARABLE", "exact_vs_sampled",
           "exact_study", "sampling_bias", "exact_timing", "pair_metrics_from_stats"]

P2_COUNTS = (10_000, 10_000)            # P2's "up to 10,000" row x column combinations (M-11)
DEFAULT_COUNTS = ((100, 100), (1_000, 1_000), P2_COUNTS)
METRICS = ("pr_trained", "pr_init", "pr_norm_trained", "pr_norm_init", "pr_ratio", "kl")
# Metrics whose sampled value estimates the exact one (absolute PR scales with sqrt(N)).
COMPARABLE = ("pr_norm_trained", "pr_norm_init", "pr_ratio", "kl")


def pair_metrics_from_stats(st_trained: dict, st_init: dict, eps: float = 1e-10) -> dict:
    """The METRICS of a trained / initial pair from per-image minor statistics of the same
    grid (`exact_minor_stats` or `sampled_minor_stats` with powers (1, 2) and a histogram on
    common edges): PRs and normalised PRs averaged over images (images whose minors all vanish
    excluded), pr_ratio = pr_init / pr_trained, KL of the pooled histograms (zeros as a bin)."""
    out = {}
    N = st_trained["count"]
    if st_init["count"] != N:
        raise ValueError("trained and initial statistics must come from the same grid")
    for name, st in (("trained", st_trained), ("init", st_init)):
        s1 = st["sum_p1"].to(torch.float64).reshape(-1)
        s2 = st["sum_p2"].to(torch.float64).reshape(-1)
        ok = s2 > 0
        pr = s1[ok] / s2[ok].sqrt()
        out[f"pr_{name}"] = float(pr.mean()) if bool(ok.any()) else math.nan
        out[f"pr_norm_{name}"] = out[f"pr_{name}"] / math.sqrt(N)
    out["pr_ratio"] = out["pr_init"] / out["pr_trained"]
    if "hist" in st_trained and "hist" in st_init:
        h = {}
        for name, st in (("trained", st_trained), ("init", st_init)):
            counts = st["hist"].reshape(-1, st["hist"].shape[-1]).sum(0).numpy()
            h[name] = np.concatenate([[int(st["n_zero"].sum())], counts])
        out["kl"] = kl_from_histograms(h["trained"], h["init"], eps)
    return out


def _sample(m: int, n_rows: int, n_cols: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, bool]:
    rows, rinfo = row_samples(m, 2, n_rows, seed)
    cols, cinfo = column_samples(2, n_cols, seed)
    return rows, cols, bool(rinfo["exhaustive"] and cinfo["exhaustive"])


def exact_vs_sampled(params_trained: dict, params_init: dict, x: torch.Tensor,
                     layer: str = "L1", *, n_images: int = 2,
                     counts: Sequence[tuple[int, int]] = DEFAULT_COUNTS, n_draws: int = 8,
                     seed: int = 42, bins: int = 100, eps: float = 1e-10,
                     edge_counts: tuple[int, int] = P2_COUNTS):
    """Exact and sampled P2 quantities of all 2-minors of one layer on the first `n_images`
    images (see the module docstring). params_*: `mnist.models` weights (W1 [h, 784], ...);
    x: [N, 784] normalised images. Returns a tidy pandas DataFrame with columns hidden, layer,
    n_images, estimator ("exact" | "sampled"), n_rows, n_cols (per image; the exact rows carry
    C(h,2) and C(784,2)), n_minors (per image), exhaustive, draw (-1 for exact), seed,
    metric, value. df.attrs: "edges" (the fixed log10 edges), "seconds" ({"exact": s,
    "sampled (R, C)": s for all draws}), "exact_range" / "edge_range" (log10 of the smallest
    non-zero and the largest |minor| found by the exact pass / by the edge draw)."""
    import pandas as pd

    if layer not in ("L1", "L2"):
        raise ValueError(f"layer must be 'L1' or 'L2', got {layer!r}")
    if n_images < 1 or x.shape[0] < n_images:
        raise ValueError(f"need 1 <= n_images <= {x.shape[0]} images, got n_images = {n_images}")
    if n_draws < 2:
        raise ValueError(f"n_draws must be >= 2 to estimate a standard error, got {n_draws}")
    xs = x[:n_images].detach().to(torch.float64)
    Js = {}
    for name, params in (("trained", params_trained), ("init", params_init)):
        p = {k: v.detach().to(torch.float64) for k, v in params.items()}
        Js[name] = mlp_jacobians(p, xs, (layer,))[layer].contiguous()    # [B, h, 784]
    m, n = Js["trained"].shape[-2:]
    if n != N_PIXELS:
        raise ValueError(f"expected Jacobians over {N_PIXELS} pixels, got {n}")
    # fixed edges: P2's rule on P2's draw (seed 42 at edge_counts), pooled over both networks
    rows, cols, _ = _sample(m, edge_counts[0], edge_counts[1], seed)
    lo, hi = math.inf, 0.0
    for J in Js.values():
        st = sampled_minor_stats(J, rows, cols, powers=())          # checks J (finite) once
        lo = min(lo, float(st["min_nonzero"].min()))
        hi = max(hi, float(st["max"].max()))
    if not math.isfinite(lo):
        raise ValueError("every sampled minor of both networks is zero: no histogram to compare")
    edges = log10_edges(lo, hi, bins)
    t_edges = torch.from_numpy(edges)
    rows_out = []
    seconds = {}

    def add(estimator, n_rows, n_cols, exhaustive, draw, dseed, res):
        for metric in METRICS:
            rows_out.append(dict(hidden=m, layer=layer, n_images=n_images, estimator=estimator,
                                 n_rows=n_rows, n_cols=n_cols, n_minors=n_rows * n_cols,
                                 exhaustive=exhaustive, draw=draw, seed=dseed, metric=metric,
                                 value=res[metric]))

    t0 = time.perf_counter()
    ex = {name: exact_minor_stats(J, edges) for name, J in Js.items()}
    seconds["exact"] = time.perf_counter() - t0
    add("exact", math.comb(m, 2), math.comb(n, 2), True, -1, -1,
        pair_metrics_from_stats(ex["trained"], ex["init"], eps))
    exact_lo = min(float(s["min_nonzero"].min()) for s in ex.values())
    exact_hi = max(float(s["max"].max()) for s in ex.values())
    for n_rows, n_cols in counts:
        t0 = time.perf_counter()
        for d in range(n_draws):
            rows, cols, exhaustive = _sample(m, n_rows, n_cols, seed + d)
            st = {name: sampled_minor_stats(J, rows, cols, (1, 2), t_edges, validate=False)
                  for name, J in Js.items()}
            add("sampled", int(rows.shape[0]), int(cols.shape[0]), exhaustive, d, seed + d,
                pair_metrics_from_stats(st["trained"], st["init"], eps))
        seconds[f"sampled {n_rows}x{n_cols}"] = time.perf_counter() - t0
    df = pd.DataFrame(rows_out)
    df.attrs.update(edges=edges.tolist(), seconds=seconds,
                    exact_range=(math.log10(exact_lo), math.log10(exact_hi)),
                    edge_range=(math.log10(lo), math.log10(hi)))
    return df


def exact_study(networks: Iterable[tuple[dict, dict, dict]], x: torch.Tensor,
                layers: Sequence[str] = ("L1",), **kwargs):
    """`exact_vs_sampled` for several networks and layers, concatenated. networks: iterable
    of (labels, params_trained, params_init) with labels a dict of columns to add (e.g.
    {"seed": 0, "augment": False}); kwargs go to `exact_vs_sampled`. df.attrs["seconds"]
    holds each part's timings under "h<width> <label>=<value> ... <layer>" (e.g.
    "h64 seed=0 L1")."""
    import pandas as pd

    parts, seconds = [], {}
    for labels, pt, pi in networks:
        for layer in layers:
            df = exact_vs_sampled(pt, pi, x, layer, **kwargs)
            for k, v in labels.items():
                df[k] = v
            key = " ".join([f"h{int(df['hidden'].iloc[0])}",
                            *(f"{k}={v}" for k, v in labels.items()), layer])
            seconds[key] = df.attrs["seconds"]
            parts.append(df)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out.attrs["seconds"] = seconds
    return out


def sampling_bias(df, metrics: Sequence[str] = COMPARABLE, by: Sequence[str] = ()):
    """Bias of the sampled estimates against the exact value (see the module docstring).

    df: `exact_vs_sampled` / `exact_study` output; by: extra grouping columns (e.g. "seed").
    Returns one row per (by..., hidden, layer, metric, n_rows, n_cols) of the sampled grids:
    exact, mean, sd (ddof = 1: the standard error of one sampled estimate), n_draws, bias
    (= mean - exact), bias_sd (= bias / sd), se_mean (= sd / sqrt(n_draws)), z
    (= bias / se_mean), rel_bias (= bias / exact), p2_draw (the value of draw 0, i.e. seed 42
    when seed = 42) and p2_err_sd (= (p2_draw - exact) / sd)."""
    import pandas as pd

    keys = [*by, "hidden", "layer", "n_images", "metric"]
    d = df[df["metric"].isin(metrics)]
    exact = d[d["estimator"] == "exact"].set_index(keys)["value"]
    if exact.index.duplicated().any():
        raise ValueError(f"more than one exact value per {keys}: add the distinguishing "
                         f"columns to by=")
    rows = []
    for gkey, g in d[d["estimator"] == "sampled"].groupby(keys + ["n_rows", "n_cols"], sort=True):
        ex = float(exact.loc[tuple(gkey[:len(keys)])])
        v = g.sort_values("draw")["value"].to_numpy(dtype=np.float64)
        mean, sd = float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else math.nan
        se = sd / math.sqrt(v.size)
        bias = mean - ex
        p2 = float(g.loc[g["draw"] == 0, "value"].iloc[0]) if (g["draw"] == 0).any() else math.nan
        rows.append({**dict(zip(keys + ["n_rows", "n_cols"], gkey)), "exact": ex, "mean": mean,
                     "sd": sd, "n_draws": int(v.size), "bias": bias,
                     "bias_sd": bias / sd if sd > 0 else math.nan, "se_mean": se,
                     "z": bias / se if se > 0 else math.nan,
                     "rel_bias": bias / ex if ex != 0 else math.nan, "p2_draw": p2,
                     "p2_err_sd": (p2 - ex) / sd if sd > 0 else math.nan})
    return pd.DataFrame(rows)


def exact_timing(hidden: Sequence[int] = (64, 128, 256), *, n_pixels: int = N_PIXELS,
                 bins: int = 100, budget_s: float = 1200.0, n_draws: int = 8,
                 counts: Sequence[tuple[int, int]] = DEFAULT_COUNTS, seed: int = 0,
                 J: dict | None = None):
    """Throughput of the exact kernel and the cost of the study on this machine.

    For each width h, one Jacobian [1, h, n_pixels] (J[h] if given, else Gaussian with
    He-like scale) after a warm-up compile: `exact_minor_stats` over all its 2-minors and
    `sampled_minor_stats` over P2's sampled grid (up to 10,000 x 10,000), both with a
    `bins`-bin histogram. Returns a pandas DataFrame: hidden, n_minors (exact, per image),
    seconds (wall, one image, one network), cpu_seconds (process CPU time, all threads),
    threads (numba), minors_per_s, minors_per_cpu_s, grid_minors (P2's grid),
    grid_seconds, grid_minors_per_s, load1 (the 1-min load average before the timing: other
    processes slow the wall time), study_s_per_image (estimated wall time of
    `exact_vs_sampled` per image and layer: the exact pass of both networks plus n_draws
    draws at every count of both, the sampled passes scaled by their number of minors) and
    images_in_budget (= budget_s // study_s_per_image; the exact part alone: exact_images).
    """
    import numba
    import pandas as pd

    edges = np.linspace(-12.0, 2.0, bins + 1)
    g = torch.Generator().manual_seed(seed)
    warm = torch.randn(1, 3, 5, generator=g, dtype=torch.float64)
    exact_minor_stats(warm, edges)                                          # compile
    rows = []
    for h in hidden:
        Jh = (J[h] if J is not None and h in J else
              torch.randn(1, h, n_pixels, generator=g, dtype=torch.float64) * math.sqrt(2 / n_pixels))
        n_img = int(np.prod(Jh.shape[:-2]))
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan
        c0, t0 = time.process_time(), time.perf_counter()
        exact_minor_stats(Jh, edges)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        N = n_minors(h, n_pixels) * n_img
        r_idx, _ = row_samples(h, 2, P2_COUNTS[0], 42)
        c_idx = (column_samples(2, P2_COUNTS[1], 42)[0] if n_pixels == N_PIXELS else
                 sample_combinations(n_pixels, 2, P2_COUNTS[1], torch.Generator().manual_seed(42)))
        t_edges = torch.from_numpy(edges)
        sampled_minor_stats(Jh, r_idx[:2], c_idx[:2], (1, 2), t_edges)     # compile
        t1 = time.perf_counter()
        sampled_minor_stats(Jh, r_idx, c_idx, (1, 2), t_edges, validate=False)
        gwall = time.perf_counter() - t1
        G = r_idx.shape[0] * c_idx.shape[0] * n_img
        sampled = sum(min(r, math.comb(h, 2)) * min(c, math.comb(n_pixels, 2)) for r, c in counts)
        per_image = (2 * wall + 2 * n_draws * gwall * sampled / max(G, 1)) / n_img
        rows.append(dict(hidden=h, n_minors=N, seconds=wall, cpu_seconds=cpu,
                         threads=numba.get_num_threads(), minors_per_s=N / wall,
                         minors_per_cpu_s=N / cpu if cpu > 0 else math.nan, grid_minors=G,
                         grid_seconds=gwall, grid_minors_per_s=G / gwall, load1=load,
                         study_s_per_image=per_image,
                         images_in_budget=int(budget_s // per_image),
                         exact_images=int(budget_s // (2 * wall / n_img))))
    return pd.DataFrame(rows)
