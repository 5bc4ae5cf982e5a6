"""Compiled CPU kernels (numba) for grids of k x k minors, k <= 3 (used by `minors`).

A grid is every (row k-tuple) x (column k-tuple) pair of a sampled or full set of tuples
(P2 M-11; P1 IV.1), per example of a batch J: [L, m, n]. Two kernels:

* `grid_minors`: writes the whole grid |det| into an [L, R, C] array (materialised grids).
* `tile_reduce`: streams the grid without storing it and reduces it per example: sums of
  |mu|, |mu|^2, |mu|^4, the largest |mu|, the smallest non-zero |mu|, the number of exact
  zeros (mode FULL), or only the largest (mode MAX, the rotation ratio), and optionally a
  histogram of log10 |mu| over given edges (the KL divergence, M-09).

How `tile_reduce` is fast (issue 14): the column tuples are cut into tiles of `TILE` tuples.
A work item (example l, tile) gathers the used rows of J at the tile's columns once,
G[u, q, c] = J[l, rows_used[u], cols[c, q]] (about 0.8 MB for 512 rows, k = 3: it stays in the
core's L2 cache), and then walks every row tuple over the tile's lanes c in contiguous,
vectorised loops, four row tuples at a time. Each lane keeps its own running sums and
extremes (so the loops have no cross-lane reduction and need no fast-math), and the lanes are
combined once per tile. Work items are (example, tile) pairs, so the result does not depend
on the number of threads.

Exactly the same minors as `abs_minor`: the 3 x 3 closed form is the cofactor expansion along
the first row with the same operation order (no fused multiply-add), so maxima, minima, zero
counts and histogram counts are bit-identical to the element-wise kernel; sums differ only by
summation order (float rounding).

The histogram bins a value v without a logarithm: the top bits of v's float64 pattern
(exponent and FINE_BITS mantissa bits) name a fine interval of v; a table gives the interval's
first bin and the value from which on it is in the next bin (`bin_table`), so the bin is one
comparison away (log10 and a binary search only for intervals spanning more than two bins and
for subnormal values). The bins are those of numpy's searchsorted(edges[1:-1], log10 v,
"right"): values outside the edges are clipped into the end bins.
"""
from __future__ import annotations

import math

import numpy as np

from .threads import use_workqueue_layer

__all__ = ["HAVE_NUMBA", "TILE", "FINE_BITS", "MODE_NONE", "MODE_MAX", "MODE_FULL",
           "bin_table", "grid_reduce", "grid_minors", "abs_minor", "log10_bin", "tile_reduce"]

use_workqueue_layer()             # before numba's first parallel launch (see core.threads)
try:
    from numba import njit, prange
    HAVE_NUMBA = True
except Exception:  # pragma: no cover - numba is a pinned dependency
    HAVE_NUMBA = False

TILE = 64            # column tuples per tile: a compile-time constant of tile_reduce
FINE_BITS = 6        # fine histogram intervals per octave: 2 ** FINE_BITS
MANTISSA_BITS = 52
MODE_NONE, MODE_MAX, MODE_FULL = 0, 1, 2   # tile_reduce: histogram only, max only, all stats
SHIFT = MANTISSA_BITS - FINE_BITS          # float64 bits >> SHIFT: the fine interval
NORMAL = 1 << MANTISSA_BITS                # bit patterns >= NORMAL: normal (or inf) values
# the reductions' slots in tile_reduce's `out` and grid_reduce's result
S1, S2, S4, MAX, MIN_NONZERO, N_ZERO = range(6)


def bin_table(edges) -> tuple[int, np.ndarray, np.ndarray]:
    """(base, first, threshold): the lookup tables that bin positive float64 values v by
    log10 v over `edges` [nbins + 1], i.e. ``searchsorted(edges[1:-1], log10 v, "right")``
    (values outside the edges fall into the end bins).

    A normal float64 v with bit pattern b lies in the fine interval i = (b >> SHIFT) - base
    (its exponent and top FINE_BITS mantissa bits). For 0 <= i < len(first): the bin of v is
    first[i] + (v >= threshold[i]), where threshold[i] is the smallest value of the interval
    in the next bin (NaN when the whole interval lies in one bin); first[i] = -1 marks an
    interval that spans more than two bins (search those). Indices below 0 lie below
    edges[0] (bin 0), those >= len(first) above edges[-1] (the last bin); subnormal values
    need the search. The thresholds are found by bisection over the interval's float64
    values with numpy's log10, the definition the tests check against."""
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError("edges must be an increasing 1-D array of at least 2 log10 values")
    F = 1 << FINE_BITS
    inner = edges[1:-1]
    log2_10 = 1.0 / math.log10(2.0)
    # frexp exponents e (v = f 2^e, f in [0.5, 1)): below e_lo every v < 10^edges[0], from
    # e_hi on every v > 10^edges[-1]
    e_lo = max(int(math.floor(edges[0] * log2_10)) - 1, -1021)
    e_hi = min(int(math.ceil(edges[-1] * log2_10)) + 2, 1025)
    e = np.arange(e_lo, e_hi, dtype=np.int64)[:, None]
    j = np.arange(F, dtype=np.float64)[None, :]
    lo = np.ldexp(0.5 + j / (2 * F), e).ravel()                   # first value of the interval
    hi = np.nextafter(np.ldexp(0.5 + (j + 1) / (2 * F), e), 0.0).ravel()   # its last value

    def bins(v):
        with np.errstate(divide="ignore"):
            return np.searchsorted(inner, np.log10(v), side="right")

    b_lo, b_hi = bins(lo), bins(hi)
    first = np.where(b_hi - b_lo <= 1, b_lo, -1).astype(np.int64)
    threshold = np.full(lo.shape, np.nan)
    one = np.flatnonzero(b_hi - b_lo == 1)
    if one.size:                          # bisection on the bit patterns: lo_b < t <= hi_b
        lo_b = lo[one].view(np.int64).copy()
        hi_b = hi[one].view(np.int64).copy()
        want = b_lo[one] + 1
        while True:
            gap = hi_b - lo_b > 1
            if not gap.any():
                break
            mid = lo_b + (hi_b - lo_b) // 2
            up = bins(mid.view(np.float64)) >= want
            hi_b = np.where(gap & up, mid, hi_b)
            lo_b = np.where(gap & ~up, mid, lo_b)
        threshold[one] = hi_b.view(np.float64)
    # biased exponent of a normal float64 = e + 1022 in frexp's convention
    return (e_lo + 1022) * F, first, threshold


if HAVE_NUMBA:
    @njit(inline="always", cache=True)
    def abs_minor(J, l, rows, r, cols, c, k):  # pragma: no cover (jit)
        """|det| of the k x k minor (k <= 3) of J[l] on row tuple rows[r] and column tuple
        cols[c], in closed form (k = 3: cofactor expansion along the first row)."""
        i0 = rows[r, 0]
        j0 = cols[c, 0]
        if k == 1:
            return abs(J[l, i0, j0])
        i1 = rows[r, 1]
        j1 = cols[c, 1]
        if k == 2:
            return abs(J[l, i0, j0] * J[l, i1, j1] - J[l, i0, j1] * J[l, i1, j0])
        i2 = rows[r, 2]
        j2 = cols[c, 2]
        y0 = J[l, i1, j0]
        y1 = J[l, i1, j1]
        y2 = J[l, i1, j2]
        z0 = J[l, i2, j0]
        z1 = J[l, i2, j1]
        z2 = J[l, i2, j2]
        return abs(J[l, i0, j0] * (y1 * z2 - y2 * z1)
                   - J[l, i0, j1] * (y0 * z2 - y2 * z0)
                   + J[l, i0, j2] * (y0 * z1 - y1 * z0))

    @njit(inline="always", cache=True)
    def log10_bin(inner, lg, nbins):  # pragma: no cover (jit)
        """Bin of log10 value ``lg`` among ``nbins`` bins with the nbins - 1 sorted inner edges
        ``inner``: the index of the first inner edge > lg (binary search, numpy's "right")."""
        lo = 0
        hi = nbins - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if inner[mid] <= lg:
                lo = mid + 1
            else:
                hi = mid
        return lo

    @njit(parallel=True, cache=True)
    def grid_minors(J, rows, cols, out):  # pragma: no cover (jit)
        """out[l, r, c] = |det| of J[l] on rows[r] x cols[c]. J: [L, m, n]; rows: [R, k];
        cols: [C, k] (k <= 3); out: [L, R, C] in J's dtype."""
        L = J.shape[0]
        R = rows.shape[0]
        C = cols.shape[0]
        k = rows.shape[1]
        for t in prange(L * R):
            l = t // R
            r = t - l * R
            for c in range(C):
                out[l, r, c] = abs_minor(J, l, rows, r, cols, c, k)

    # ---- tile_reduce helpers (inlined). G: [U + 1, k, TILE], the tile's gathered rows.
    @njit(inline="always", cache=True)
    def _det3(G, a, b, e, c):  # pragma: no cover (jit)
        # rows a, b, e of G at lane c; abs_minor's formula and operation order
        y0 = G[b, 0, c]
        y1 = G[b, 1, c]
        y2 = G[b, 2, c]
        z0 = G[e, 0, c]
        z1 = G[e, 1, c]
        z2 = G[e, 2, c]
        return abs(np.float64(G[a, 0, c] * (y1 * z2 - y2 * z1)
                              - G[a, 1, c] * (y0 * z2 - y2 * z0)
                              + G[a, 2, c] * (y0 * z1 - y1 * z0)))

    @njit(inline="always", cache=True)
    def _det2(G, a, b, c):  # pragma: no cover (jit)
        return abs(np.float64(G[a, 0, c] * G[b, 1, c] - G[a, 1, c] * G[b, 0, c]))

    @njit(inline="always", cache=True)
    def _det1(G, a, c):  # pragma: no cover (jit)
        return abs(np.float64(G[a, 0, c]))

    @njit(inline="always", cache=True)
    def _nonzero_or_inf(a):  # pragma: no cover (jit)
        return a if a > 0.0 else np.inf

    @njit(inline="always", cache=True)
    def _zero(a):  # pragma: no cover (jit)
        return 1.0 if a == 0.0 else 0.0

    @njit(inline="always", cache=True)
    def _full4(acc, c, a, b, e, f):  # pragma: no cover (jit)
        # lane c's running reductions over four more values a, b, e, f
        acc[0, c] += (a + b) + (e + f)
        sa = a * a
        sb = b * b
        se = e * e
        sf = f * f
        acc[1, c] += (sa + sb) + (se + sf)
        acc[2, c] += (sa * sa + sb * sb) + (se * se + sf * sf)
        acc[3, c] = max(acc[3, c], max(max(a, b), max(e, f)))
        acc[4, c] = min(acc[4, c], min(min(_nonzero_or_inf(a), _nonzero_or_inf(b)),
                                       min(_nonzero_or_inf(e), _nonzero_or_inf(f))))
        acc[5, c] += (_zero(a) + _zero(b)) + (_zero(e) + _zero(f))

    @njit(inline="always", cache=True)
    def _max4(acc, c, a, b, e, f):  # pragma: no cover (jit)
        acc[3, c] = max(acc[3, c], max(max(a, b), max(e, f)))

    @njit(inline="always", cache=True)
    def _slow_bin(v, inner, nb):  # pragma: no cover (jit)
        return log10_bin(inner, math.log10(v), nb)

    @njit(parallel=True, cache=True)
    def tile_reduce(J, urows, rloc, colsT, n_tuples, mode, base, first, threshold, inner, out,
                    hist):  # pragma: no cover (jit)
        """Streamed reductions of the grid (row tuples) x (column tuples) per example.

        J: [L, m, n] float32/64; urows: [U] the rows used (int64); rloc: [R4, k] the row
        tuples as indices into urows, R4 = n_tuples rounded up to a multiple of 4, the
        padding rows all = U (a zero row: their minors are 0 and are taken out of the zero
        counts); colsT: [k, C] the column tuples, transposed; mode: MODE_NONE / MAX / FULL;
        base, first, threshold: bin_table(edges); inner: edges[1:-1] (float64).
        out: float64 [L, NB, 6] per (example, tile of TILE column tuples): sums of |mu|,
        |mu|^2, |mu|^4, max, smallest non-zero (inf if none), number of zeros (the last
        three or only max, by mode); hist: int64 [L, NB, nbins] (nbins = 0: no histogram).
        """
        T = TILE
        L = J.shape[0]
        U = urows.shape[0]
        R4 = rloc.shape[0]
        k = colsT.shape[0]
        C = colsT.shape[1]
        NB = out.shape[1]
        nb = hist.shape[2]
        npad = R4 - n_tuples
        ntab = first.shape[0]
        first_x = np.empty(ntab + 2, np.int64)   # the tables with the end bins either side
        thr_x = np.full(ntab + 2, np.nan)
        first_x[0] = 0
        first_x[ntab + 1] = max(nb - 1, 0)
        for j in range(ntab):
            first_x[j + 1] = first[j]
            thr_x[j + 1] = threshold[j]
        for t in prange(L * NB):
            l = t // NB
            blk = t - l * NB
            c0 = blk * T
            w = min(T, C - c0)
            G = np.zeros((U + 1, k, T), J.dtype)           # row U stays zero
            for u in range(U):
                i = urows[u]
                for q in range(k):
                    for c in range(w):
                        G[u, q, c] = J[l, i, colsT[q, c0 + c]]
            acc = np.zeros((6, T))
            for c in range(T):
                acc[4, c] = np.inf
            d = np.zeros(4 * T)
            dbits = d.view(np.int64)
            bins = np.zeros(4 * T, np.int64)
            h = np.zeros((4, nb + 1), np.int64)      # column nb: the zeros
            for r in range(0, R4, 4):
                a0 = rloc[r, 0]
                b0 = rloc[r + 1, 0]
                e0 = rloc[r + 2, 0]
                f0 = rloc[r + 3, 0]
                a1 = a0
                b1 = b0
                e1 = e0
                f1 = f0
                a2 = a0
                b2 = b0
                e2 = e0
                f2 = f0
                if k >= 2:
                    a1 = rloc[r, 1]
                    b1 = rloc[r + 1, 1]
                    e1 = rloc[r + 2, 1]
                    f1 = rloc[r + 3, 1]
                if k == 3:
                    a2 = rloc[r, 2]
                    b2 = rloc[r + 1, 2]
                    e2 = rloc[r + 2, 2]
                    f2 = rloc[r + 3, 2]
                if nb > 0:
                    # minors into d, then reductions and the histogram from d
                    if k == 3:
                        for c in range(T):
                            d[c] = _det3(G, a0, a1, a2, c)
                            d[T + c] = _det3(G, b0, b1, b2, c)
                            d[2 * T + c] = _det3(G, e0, e1, e2, c)
                            d[3 * T + c] = _det3(G, f0, f1, f2, c)
                    elif k == 2:
                        for c in range(T):
                            d[c] = _det2(G, a0, a1, c)
                            d[T + c] = _det2(G, b0, b1, c)
                            d[2 * T + c] = _det2(G, e0, e1, c)
                            d[3 * T + c] = _det2(G, f0, f1, c)
                    else:
                        for c in range(T):
                            d[c] = _det1(G, a0, c)
                            d[T + c] = _det1(G, b0, c)
                            d[2 * T + c] = _det1(G, e0, c)
                            d[3 * T + c] = _det1(G, f0, c)
                    if mode == 2:
                        for c in range(T):
                            _full4(acc, c, d[c], d[T + c], d[2 * T + c], d[3 * T + c])
                    elif mode == 1:
                        for c in range(T):
                            _max4(acc, c, d[c], d[T + c], d[2 * T + c], d[3 * T + c])
                    # bins from the bit patterns (vectorised, see bin_table); -1 = search
                    # (more than one edge in the fine interval, or subnormal); nb = zero
                    for i in range(4 * T):
                        bits = dbits[i]
                        j = (bits >> SHIFT) - base
                        j = j if j > -1 else -1
                        j = (j if j < ntab else ntab) + 1
                        f = first_x[j]
                        bi = f + (1 if d[i] >= thr_x[j] else 0)
                        bi = bi if (f >= 0 and bits >= NORMAL) else -1
                        bins[i] = bi if bits != 0 else nb
                    for c in range(w):
                        for s in range(4):      # four independent sub-histograms
                            bi = bins[s * T + c]
                            if bi < 0:
                                bi = _slow_bin(d[s * T + c], inner, nb)
                            h[s, bi] += 1
                elif mode == 2:
                    if k == 3:
                        for c in range(T):
                            _full4(acc, c, _det3(G, a0, a1, a2, c), _det3(G, b0, b1, b2, c),
                                   _det3(G, e0, e1, e2, c), _det3(G, f0, f1, f2, c))
                    elif k == 2:
                        for c in range(T):
                            _full4(acc, c, _det2(G, a0, a1, c), _det2(G, b0, b1, c),
                                   _det2(G, e0, e1, c), _det2(G, f0, f1, c))
                    else:
                        for c in range(T):
                            _full4(acc, c, _det1(G, a0, c), _det1(G, b0, c),
                                   _det1(G, e0, c), _det1(G, f0, c))
                else:
                    if k == 3:
                        for c in range(T):
                            _max4(acc, c, _det3(G, a0, a1, a2, c), _det3(G, b0, b1, b2, c),
                                  _det3(G, e0, e1, e2, c), _det3(G, f0, f1, f2, c))
                    elif k == 2:
                        for c in range(T):
                            _max4(acc, c, _det2(G, a0, a1, c), _det2(G, b0, b1, c),
                                  _det2(G, e0, e1, c), _det2(G, f0, f1, c))
                    else:
                        for c in range(T):
                            _max4(acc, c, _det1(G, a0, c), _det1(G, b0, c),
                                  _det1(G, e0, c), _det1(G, f0, c))
            # combine the lanes of this tile (lanes >= w are padding)
            x1 = 0.0
            x2 = 0.0
            x4 = 0.0
            xm = 0.0
            xn = np.inf
            xz = 0.0
            for c in range(w):
                x1 += acc[0, c]
                x2 += acc[1, c]
                x4 += acc[2, c]
                xm = max(xm, acc[3, c])
                xn = min(xn, acc[4, c])
                xz += acc[5, c]
            out[l, blk, 0] = x1
            out[l, blk, 1] = x2
            out[l, blk, 2] = x4
            out[l, blk, 3] = xm
            out[l, blk, 4] = xn
            if mode == 2:
                out[l, blk, 5] = xz - npad * w
            elif nb > 0:
                out[l, blk, 5] = h[0, nb] + h[1, nb] + h[2, nb] + h[3, nb] - npad * w
            for b in range(nb):
                hist[l, blk, b] = h[0, b] + h[1, b] + h[2, b] + h[3, b]


def grid_reduce(J: np.ndarray, rows: np.ndarray, cols: np.ndarray, mode: int,
                edges=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-example reductions of the |minor| grid rows x cols by `tile_reduce`.

    J: [L, m, n] float32/float64; rows: [R, k], cols: [C, k] integer tuples (k <= 3; any
    order: the reductions do not depend on it); mode: MODE_FULL, MODE_MAX or MODE_NONE (then
    edges are required); edges: None or the [nbins + 1] increasing log10 bin edges.
    Returns (red float64 [L, 6]: slots S1, S2, S4, MAX, MIN_NONZERO, N_ZERO; in MODE_MAX only
    MAX is filled, in MODE_NONE only N_ZERO), hist int64 [L, nbins] of the non-zero |mu| (or
    None without edges)."""
    if not HAVE_NUMBA:  # pragma: no cover
        raise RuntimeError("grid_reduce needs numba (a pinned dependency: scripts/setup.sh)")
    J = np.ascontiguousarray(J)
    L = J.shape[0]
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    R, k = rows.shape
    C = cols.shape[0]
    if not 1 <= k <= 3 or cols.shape[1] != k:
        raise ValueError(f"grid_reduce needs row and column tuples of one size k <= 3, got "
                         f"{rows.shape} and {cols.shape}")
    nb = 0 if edges is None else len(edges) - 1
    if mode == MODE_NONE and nb == 0:
        raise ValueError("MODE_NONE reduces nothing without histogram edges")
    red = np.zeros((L, 6))
    red[:, MIN_NONZERO] = np.inf
    hist = np.zeros((L, nb), dtype=np.int64)
    if R == 0 or C == 0 or L == 0:
        return red, (hist if nb else None)
    # row tuples in lexicographic order (the first row repeats: cache reuse), as indices into
    # the rows used; padded to a multiple of 4 with the zero row
    rows = rows[np.lexsort(rows.T[::-1])]
    urows, inv = np.unique(rows, return_inverse=True)
    R4 = -(-R // 4) * 4
    rloc = np.full((R4, k), urows.size, dtype=np.int64)
    rloc[:R] = inv.reshape(R, k)
    colsT = np.ascontiguousarray(cols.T)
    NB = -(-C // TILE)
    out = np.zeros((L, NB, 6))
    part = np.zeros((L, NB, nb), dtype=np.int64)
    if nb:
        edges = np.asarray(edges, dtype=np.float64)
        base, first, threshold = bin_table(edges)
        inner = np.ascontiguousarray(edges[1:-1]) if nb > 1 else np.zeros(1)
    else:
        base, first, threshold, inner = 0, np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1)
    tile_reduce(J, urows.astype(np.int64), rloc, colsT, R, mode, base, first, threshold, inner,
                out, part)
    red[:, S1] = out[:, :, S1].sum(1)
    red[:, S2] = out[:, :, S2].sum(1)
    red[:, S4] = out[:, :, S4].sum(1)
    red[:, MAX] = out[:, :, MAX].max(1)
    red[:, MIN_NONZERO] = out[:, :, MIN_NONZERO].min(1)
    red[:, N_ZERO] = out[:, :, N_ZERO].sum(1)
    return red, (part.sum(1) if nb else None)
