"""Exact statistics of ALL 2 x 2 minors of a Jacobian, streamed (no minor is ever stored).

For a width-h layer of P2 (J: [h, 784] per image) the size-2 minor matrix J^(2) has
C(h, 2) * C(784, 2) entries (2.5e9 at h = 128, 1.0e10 at h = 256), too many to hold but few
enough to visit. `exact_minor_stats(J, log10_edges)` visits every one of them once, in a
compiled numba kernel parallel over blocks of row pairs, and returns the same per-example
reductions as `minors.sampled_minor_stats` on a sampled grid (so that exact and sampled
estimates are comparable term by term):

  "sum_p1" = sum |mu|, "sum_p2" = sum mu^2 (float64 [B]); "max", "min_nonzero" (inf if none),
  "n_zero" (exact zeros, int64 [B]); "count" = C(m,2) C(n,2); with `log10_edges`
  ([nbins + 1], increasing) "hist": int64 [B, nbins], the non-zero |mu| by log10 bin with the
  binning of `minors.sampled_minor_stats` and of P2's KL (M-09): bin = searchsorted(inner
  edges, log10 |mu|, "right"), values outside the edges clipped into the end bins, zeros
  counted apart.

Then P1's participation ratio (IV.5) of all minors of an example is
sum_p1 / sqrt(sum_p2) and the KL divergence of P2 (M-09) follows from the histograms
(`sampled_metrics.kl_from_histograms`, zeros as an extra bin).

How: for a row pair (i, j) and a column p, the minors with every later column q are one
contiguous sweep mu_q = J[i,p] J[j,q] - J[j,p] J[i,q] (the same expression, in the same order,
as `minor_kernels.abs_minor`, so each minor equals the sampled kernel's bit for bit). The sums are
accumulated per (pair, p) first (at most n - 1 terms) and then per block, which keeps the
float64 rounding of 1e9-term sums near 1e-15 relative. The log10 bin comes from a lookup
table on the float's top bits (exponent and `FINE_BITS` mantissa bits): each such interval
lies inside one bin, except the few that straddle an edge, for which log10 and a binary search
decide, as in `sampled_minor_stats`. Only k = 2 is provided: all 3-minors of one image
(C(h,3) C(784,3) ~ 2.8e13 at h = 128) are out of reach.

`grid_minor_stats(J, row_idx, col_idx, log10_edges)` is the same reduction over a SAMPLED grid
of row pairs x column pairs (P2's M-11): the column pairs are gathered once into two [m, C]
matrices, so every row pair is again one contiguous sweep; it returns what
`sampled_minor_stats(..., powers=(1, 2), log10_edges)` returns. It was 4-5x faster than the
element-wise stats kernel; the tiled kernel (`minor_kernels.tile_reduce`) behind
`sampled_minor_stats` is now 1.7-1.8x faster than it on P2's grid (h = 64, 128; 10,000 x 10,000
pairs), so the library's sampled estimates use `sampled_minor_stats` and this one remains as
an independent cross-check of it.

CPU tensors go through numba (switched off, like `minors`, by `minors.USE_NUMBA = False`);
other devices (CUDA) fall back to `sampled_minor_stats` (over the exhaustive grid of all row
and column pairs for `exact_minor_stats`): the same numbers, streamed in torch blocks.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np
import torch

from . import minors as minors_mod
from .minors import (HAVE_NUMBA, check_jacobian, check_sampled, combinations_index,
                     sampled_minor_stats)

__all__ = ["exact_minor_stats", "grid_minor_stats", "n_minors", "log10_bin_table",
           "FINE_BITS"]

# Mantissa bits of the lookup table: intervals of 2**-FINE_BITS octave (0.0012 decade), so
# with 100 bins over ~20 decades about 0.6 % of the intervals straddle an edge.
FINE_BITS = 8
_SHIFT = 52 - FINE_BITS

if HAVE_NUMBA:
    from numba import njit, prange

    from .minor_kernels import log10_bin

    @njit(cache=True)
    def _reduce(buf, w, key_lo, table, inner, nbins, hist, acc):  # pragma: no cover (jit)
        # Adds the w values buf[:w] (|minors|, float64) to the running reductions
        # acc = [sum, sum of squares, max, min non-zero, zero count] and to hist [nbins]:
        # the bin of v is table[(bits of v) >> _SHIFT - key_lo] (below / above the table: the
        # end bins), where -1 (an interval that straddles an edge) falls back to log10 and a
        # binary search, as in minors.sampled_minor_stats.
        bits = buf.view(np.int64)
        nt = table.shape[0]
        b1 = 0.0
        b2 = 0.0
        for u in range(w):
            v = buf[u]
            b1 += v
            b2 += v * v
        acc[0] += b1
        acc[1] += b2
        amx = acc[2]
        amn = acc[3]
        az = 0
        for u in range(w):
            v = buf[u]
            if v == 0.0:
                az += 1
                continue
            if v > amx:
                amx = v
            if v < amn:
                amn = v
            if nbins > 1:
                kk = (bits[u] >> _SHIFT) - key_lo
                if kk < 0:
                    b = 0
                elif kk >= nt:
                    b = nbins - 1
                else:
                    b = table[kk]
                    if b < 0:
                        b = log10_bin(inner, np.log10(v), nbins)
                hist[b] += 1
            elif nbins == 1:
                hist[0] += 1
        acc[2] = amx
        acc[3] = amn
        acc[4] += az

    @njit(parallel=True, cache=True)
    def _exact2_kernel(J, pairs, key_lo, table, inner, nbins, acc, hist):  # pragma: no cover
        # J: [L, m, n]; pairs: [P, 2] row pairs (i < j). Work item (l, ch) covers the row
        # pairs [ch*P/NC, (ch+1)*P/NC) of example l against ALL column pairs (p < q), one
        # sweep over q > p per (pair, p): mu = J[i,p] J[j,q] - J[i,q] J[j,p] (abs_minor's
        # expression and order). acc: [L, NC, 5] (see _reduce); hist: [L, NC, max(nbins, 1)].
        L = J.shape[0]
        n = J.shape[2]
        P = pairs.shape[0]
        NC = acc.shape[1]
        for t in prange(L * NC):
            l = t // NC
            ch = t - l * NC
            buf = np.empty(max(n - 1, 1), dtype=np.float64)
            a = acc[l, ch]
            h = hist[l, ch]
            for r in range(ch * P // NC, (ch + 1) * P // NC):
                i = pairs[r, 0]
                j = pairs[r, 1]
                for p in range(n - 1):
                    x0 = J[l, i, p]
                    y0 = J[l, j, p]
                    w = n - 1 - p
                    for u in range(w):
                        q = p + 1 + u
                        buf[u] = np.float64(abs(x0 * J[l, j, q] - J[l, i, q] * y0))
                    _reduce(buf, w, key_lo, table, inner, nbins, h, a)

    @njit(parallel=True, cache=True)
    def _grid2_kernel(A0, A1, pairs, key_lo, table, inner, nbins, acc, hist):  # pragma: no cover
        # A0, A1: [L, m, C] = J[:, :, cols[:, 0]], J[:, :, cols[:, 1]] (the sampled column
        # pairs gathered once); pairs: [R, 2] row pairs. Work item (l, ch) covers the row
        # pairs [ch*R/NC, (ch+1)*R/NC): mu_c = A0[i,c] A1[j,c] - A1[i,c] A0[j,c], i.e.
        # J[i,p] J[j,q] - J[i,q] J[j,p] for (p, q) = cols[c] (abs_minor's expression).
        L = A0.shape[0]
        C = A0.shape[2]
        P = pairs.shape[0]
        NC = acc.shape[1]
        for t in prange(L * NC):
            l = t // NC
            ch = t - l * NC
            buf = np.empty(max(C, 1), dtype=np.float64)
            a = acc[l, ch]
            h = hist[l, ch]
            for r in range(ch * P // NC, (ch + 1) * P // NC):
                i = pairs[r, 0]
                j = pairs[r, 1]
                for c in range(C):
                    buf[c] = np.float64(abs(A0[l, i, c] * A1[l, j, c] - A1[l, i, c] * A0[l, j, c]))
                _reduce(buf, C, key_lo, table, inner, nbins, h, a)


def n_minors(m: int, n: int, k: int = 2) -> int:
    """Number of k x k minors of an m x n matrix: C(m, k) * C(n, k)."""
    return math.comb(int(m), int(k)) * math.comb(int(n), int(k))


def log10_bin_table(edges: np.ndarray, fine_bits: int = FINE_BITS) -> tuple[int, np.ndarray]:
    """(key_lo, table) for binning positive float64 values by log10 on `edges`
    ([nbins + 1], nbins >= 2): for key = (bits of v) >> (52 - fine_bits), the bin of every v
    with that key is table[key - key_lo] (numpy's searchsorted(edges[1:-1], log10 v,
    "right")), or -1 where the key's interval straddles an inner edge. Keys below the table
    hold values below edges[1] (bin 0), keys above it values above edges[-2] (last bin)."""
    inner = np.asarray(edges, dtype=np.float64)[1:-1]
    if inner.size == 0:
        raise ValueError("log10_bin_table needs at least 2 bins (3 edges)")
    shift = 52 - int(fine_bits)

    def key(lg: float) -> int:
        v = np.array([min(max(10.0 ** lg, 5e-324), 1.7e308)], dtype=np.float64)
        return int(v.view(np.int64)[0] >> shift)

    key_lo = max(key(float(inner[0])) - 1, 0)
    key_hi = key(float(inner[-1])) + 2
    keys = np.arange(key_lo, key_hi, dtype=np.int64)
    lo = (keys << shift).view(np.float64)                      # smallest value of each key
    hi = (((keys + 1) << shift) - 1).view(np.float64)          # largest value of each key
    with np.errstate(divide="ignore"):
        b_lo = np.searchsorted(inner, np.log10(lo), side="right")
        b_hi = np.searchsorted(inner, np.log10(hi), side="right")
    table = np.where(b_lo == b_hi, b_lo, -1).astype(np.int64)
    return key_lo, table


def _check_edges(log10_edges) -> Optional[np.ndarray]:
    if log10_edges is None:
        return None
    e = np.asarray(torch.as_tensor(log10_edges, dtype=torch.float64).cpu(), dtype=np.float64)
    if e.ndim != 1 or e.size < 2 or not np.all(np.isfinite(e)) or not np.all(np.diff(e) > 0):
        raise ValueError("log10_edges must be a finite, strictly increasing 1-D array of at "
                         f"least 2 edges (nbins + 1); got {e!r}")
    return e


def _accumulators(L: int, NC: int, nbins: int) -> tuple[np.ndarray, np.ndarray]:
    acc = np.zeros((L, NC, 5))                       # sum, sum of squares, max, min nz, zeros
    acc[:, :, 3] = np.inf
    return acc, np.zeros((L, NC, max(nbins, 1)), dtype=np.int64)


def _tables(edges: Optional[np.ndarray]) -> tuple[int, int, np.ndarray, np.ndarray]:
    nbins = 0 if edges is None else edges.size - 1
    if nbins >= 2:
        key_lo, table = log10_bin_table(edges)
        return nbins, key_lo, table, np.ascontiguousarray(edges[1:-1])
    return nbins, 0, np.zeros(1, dtype=np.int64), np.zeros(1)


def _work_items(P: int, L: int, chunks_per_thread: int) -> int:
    import numba
    return max(1, min(P, -(-max(1, int(chunks_per_thread)) * numba.get_num_threads() // L)))


def _assemble(acc: np.ndarray, hist: np.ndarray, nbins: int, lead, count: int) -> dict:
    out = {"sum_p1": torch.from_numpy(acc[:, :, 0].sum(1)),
           "sum_p2": torch.from_numpy(acc[:, :, 1].sum(1)),
           "max": torch.from_numpy(acc[:, :, 2].max(1)),
           "min_nonzero": torch.from_numpy(acc[:, :, 3].min(1)),
           "n_zero": torch.from_numpy(acc[:, :, 4].sum(1).astype(np.int64))}
    if nbins:
        out["hist"] = torch.from_numpy(hist.sum(1))
    out = {key: v.reshape(tuple(lead) + tuple(v.shape[1:])) for key, v in out.items()}
    out["count"] = count
    return out


def _numba_path(J: torch.Tensor) -> bool:
    return (HAVE_NUMBA and minors_mod.USE_NUMBA and J.device.type == "cpu"
            and J.dtype in (torch.float32, torch.float64))


def exact_minor_stats(J: torch.Tensor, log10_edges=None, *, chunks_per_thread: int = 4
                      ) -> dict:
    """Per-example sums, extremes, zero count and log10 histogram of ALL 2 x 2 minors.

    J: [..., m, n] (float32 / float64; m, n >= 2); log10_edges: None or [nbins + 1]
    increasing. Returns the dict of `minors.sampled_minor_stats(J, all row pairs, all column
    pairs, powers=(1, 2), log10_edges)`, leading dims [...] kept: sum_p1, sum_p2 (float64),
    max, min_nonzero (float64; inf where no minor is non-zero), n_zero (int64), count
    (= C(m,2) C(n,2)) and, with edges, hist (int64 [..., nbins]). Nothing of size C(m,2) C(n,2)
    is allocated. On CPU one numba call (threads: numba's default; work items: about
    `chunks_per_thread` blocks of row pairs per thread and example); elsewhere the torch
    fallback of `sampled_minor_stats` on the exhaustive grid.
    """
    check_jacobian(J, 2)
    edges = _check_edges(log10_edges)
    m, n = J.shape[-2:]
    if not _numba_path(J):
        rows = combinations_index(m, 2, J.device)
        cols = combinations_index(n, 2, J.device)
        return sampled_minor_stats(J, rows, cols, powers=(1, 2),
                                   log10_edges=None if edges is None else torch.from_numpy(edges),
                                   validate=False)
    Jn = np.ascontiguousarray(J.detach().reshape(-1, m, n).numpy())          # [L, m, n]
    L = Jn.shape[0]
    pairs = np.ascontiguousarray(combinations_index(m, 2).numpy())            # [P, 2]
    NC = _work_items(pairs.shape[0], L, chunks_per_thread)
    nbins, key_lo, table, inner = _tables(edges)
    acc, hist = _accumulators(L, NC, nbins)
    _exact2_kernel(Jn, pairs, np.int64(key_lo), table, inner, nbins, acc, hist)
    return _assemble(acc, hist, nbins, J.shape[:-2], n_minors(m, n, 2))


def grid_minor_stats(J: torch.Tensor, row_idx: torch.Tensor, col_idx: torch.Tensor,
                     log10_edges=None, *, chunks_per_thread: int = 4) -> dict:
    """`minors.sampled_minor_stats(J, row_idx, col_idx, powers=(1, 2), log10_edges)` for
    k = 2 by the exact kernel's reduction: the sampled column pairs are gathered once into
    two [m, C] matrices, then every row pair sweeps them contiguously (same minors bit for
    bit, same bins; slower than the tiled kernel of `sampled_minor_stats`: a cross-check).
    J: [..., m, n]; row_idx: [R, 2]; col_idx: [C, 2] (sorted pairs). Holds 2 * m * C values
    of J per example. CPU (numba); elsewhere `sampled_minor_stats` itself."""
    row_idx, col_idx = check_sampled(J, row_idx, col_idx)
    if row_idx.shape[1] != 2:
        raise ValueError(f"grid_minor_stats is for 2-minors; got {row_idx.shape[1]}-tuples")
    edges = _check_edges(log10_edges)
    if not _numba_path(J):
        return sampled_minor_stats(J, row_idx, col_idx, powers=(1, 2),
                                   log10_edges=None if edges is None else torch.from_numpy(edges),
                                   validate=False)
    m, n = J.shape[-2:]
    Jf = J.detach().reshape(-1, m, n)
    A0 = np.ascontiguousarray(Jf[:, :, col_idx[:, 0]].numpy())                # [L, m, C]
    A1 = np.ascontiguousarray(Jf[:, :, col_idx[:, 1]].numpy())
    L = A0.shape[0]
    pairs = np.ascontiguousarray(row_idx.cpu().numpy())
    NC = _work_items(pairs.shape[0], L, chunks_per_thread)
    nbins, key_lo, table, inner = _tables(edges)
    acc, hist = _accumulators(L, NC, nbins)
    _grid2_kernel(A0, A1, pairs, np.int64(key_lo), table, inner, nbins, acc, hist)
    return _assemble(acc, hist, nbins, J.shape[:-2], pairs.shape[0] * A0.shape[2])
