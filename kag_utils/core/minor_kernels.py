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

The histogram bins a value v without a logarithm of its own: bin b holds the values v with
T[b] <= v < T[b + 1], where T[b] is the smallest float64 whose log10 (numpy's) reaches the
inner edge b (`bin_thresholds`, found once by bisection), so the bins are exactly those of
numpy's searchsorted(edges[1:-1], log10 v, "right"), values outside the edges clipped into the
end bins. For uniform edges a vectorised loop guesses each bin from v's exponent and a polynomial
for log2 of its mantissa (error < 2e-6 decades; no table look-ups: gathers do not vectorise
here); a binary search over T settles the values whose guess lies within
GUESS_ERROR of an edge (a few in 10^4), subnormal values, and all values for non-uniform
edges.
"""
from __future__ import annotations

import math

import numpy as np

from .threads import use_workqueue_layer

__all__ = ["HAVE_NUMBA", "TILE", "MODE_NONE", "MODE_MAX", "MODE_FULL", "bin_thresholds",
           "bin_guess", "grid_reduce", "grid_minors", "abs_minor", "log10_bin", "tile_reduce"]

use_workqueue_layer()             # before numba's first parallel launch (see core.threads)
try:
    from numba import njit, prange
    HAVE_NUMBA = True
except Exception:  # pragma: no cover - numba is a pinned dependency
    HAVE_NUMBA = False

TILE = 64            # column tuples per tile: a compile-time constant of tile_reduce
MODE_NONE, MODE_MAX, MODE_FULL = 0, 1, 2   # tile_reduce: histogram only, max only, all stats
MANTISSA_MASK = (1 << 52) - 1              # float64 bit fields
ONE_BITS = 1023 << 52                      # the bit pattern of 1.0
NORMAL = 1 << 52                           # bit patterns below: zero or subnormal
LOG10_2 = math.log10(2.0)
# log2(1 + f) for f in [0, 1): a degree-6 polynomial (least squares on Chebyshev terms), error
# below 5.1e-6 octaves = 1.6e-6 decades; coefficients c0..c6
LOG2_POLY = tuple(float(c) for c in np.polynomial.Chebyshev.fit(
    np.linspace(0.0, 1.0, 20001), np.log2(np.linspace(1.0, 2.0, 20001)), 6).convert(
    kind=np.polynomial.Polynomial).coef)
GUESS_ERROR = 1e-5          # decades: a bound on the guessed log10 error (with a margin)
# the reductions' slots in tile_reduce's `out` and grid_reduce's result
S1, S2, S4, MAX, MIN_NONZERO, N_ZERO = range(6)


def bin_thresholds(edges) -> np.ndarray:
    """T: float64 [nbins + 1] for binning positive float64 values v by log10 v over `edges`
    [nbins + 1] as numpy's ``searchsorted(edges[1:-1], log10 v, "right")`` does (values
    outside the edges in the end bins): v is in bin b iff T[b] <= v < T[b + 1]. T[0] = 0,
    T[j] (1 <= j < nbins) = the smallest positive float64 whose np.log10 is >= edges[j] (inf
    if none), T[nbins] = NaN (no value reaches it). Found by bisection over the float64 bit
    patterns (numpy's log10 is monotonic)."""
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise ValueError("edges must be an increasing 1-D array of at least 2 log10 values")
    inner = edges[1:-1]
    lo = np.zeros(inner.size, dtype=np.int64)                       # bits of 0: below
    hi = np.full(inner.size, np.float64(np.inf).view(np.int64))     # bits of inf: at or above

    def reaches(bits):
        with np.errstate(divide="ignore"):
            return np.log10(bits.view(np.float64)) >= inner

    while True:                        # invariant: lo does not reach its edge, hi does
        gap = hi - lo > 1
        if not gap.any():
            break
        mid = lo + (hi - lo) // 2
        up = reaches(mid)
        hi = np.where(gap & up, mid, hi)
        lo = np.where(gap & ~up, mid, lo)
    return np.concatenate([[0.0], hi.view(np.float64), [np.nan]])


def bin_guess(edges) -> tuple[float, float, float]:
    """(lo, inv, eps) for tile_reduce's guessed bins: for uniform edges (equal steps to 1e-9
    relative) lo = edges[0], inv = 1 / step, so a value's position in bin widths is
    (log10 v - lo) * inv, and eps = the distance (in bin widths) to an edge within which a
    guess is checked by a search: GUESS_ERROR * inv plus 1e-6 for the edges' rounding.
    Non-uniform edges: (0, 0, inf), every value is searched."""
    edges = np.asarray(edges, dtype=np.float64)
    step = np.diff(edges)
    if step.size and np.allclose(step, step[0], rtol=1e-9, atol=0.0):
        inv = float(1.0 / step[0])
        return float(edges[0]), inv, GUESS_ERROR * inv + 1e-6
    return 0.0, 0.0, math.inf


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
    def _search_bin(T, v, nb):  # pragma: no cover (jit)
        # the largest b in [0, nb - 1] with T[b] <= v (T[0] = 0 <= v)
        lo = 0
        hi = nb - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if T[mid] <= v:
                lo = mid
            else:
                hi = mid - 1
        return lo

    # error_model="numpy": no zero-division checks, which kept the binning loop scalar
    @njit(parallel=True, cache=True, error_model="numpy")
    def tile_reduce(J, urows, rloc, colsT, n_tuples, mode, T_edges, guess_lo, guess_inv,
                    guess_eps, out,
                    hist):  # pragma: no cover (jit)
        """Streamed reductions of the grid (row tuples) x (column tuples) per example.

        J: [L, m, n] float32/64; urows: [U] the rows used (int64); rloc: [R4, k] the row
        tuples as indices into urows, R4 = n_tuples rounded up to a multiple of 4, the
        padding rows all = U (a zero row: their minors are 0 and are taken out of the zero
        counts); colsT: [k, C] the column tuples, transposed; mode: MODE_NONE / MAX / FULL;
        T_edges: bin_thresholds(edges); guess_lo, guess_inv, guess_eps: bin_guess(edges).
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
        p0, p1, p2, p3, p4, p5, p6 = LOG2_POLY
        top = max(nb - 1, 0) * 1.0
        nbf = nb * 1.0
        for t in prange(L * NB):
            l = t // NB
            blk = t - l * NB
            c0 = blk * T
            w = min(T, C - c0)
            G = np.empty((U + 1, k, T), J.dtype)
            for u in range(U):
                i = urows[u]
                for q in range(k):
                    for c in range(w):
                        G[u, q, c] = J[l, i, colsT[q, c0 + c]]
                    for c in range(w, T):                  # lanes past the last tuple
                        G[u, q, c] = 0.0
            for q in range(k):                             # row U: the zero row
                for c in range(T):
                    G[U, q, c] = 0.0
            acc = np.zeros((6, T))
            for c in range(T):
                acc[4, c] = np.inf
            d = np.zeros(4 * T)
            dbits = d.view(np.int64)
            mant = np.zeros(4 * T, np.int64)        # v's mantissa as the bits of [1, 2)
            mant_f = mant.view(np.float64)
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
                    # bins guessed in a vectorised loop (exponent + a polynomial for the
                    # mantissa's log2: see the module docstring); -1 = search (within
                    # guess_eps of an edge, subnormal, or non-uniform edges); nb = zero
                    for i in range(4 * T):
                        mant[i] = (dbits[i] & MANTISSA_MASK) | ONE_BITS
                    for i in range(4 * T):
                        f = mant_f[i] - 1.0
                        l2 = ((dbits[i] >> 52) - 1023) + (p0 + f * (p1 + f * (p2 + f * (
                            p3 + f * (p4 + f * (p5 + f * p6))))))
                        g = (l2 * LOG10_2 - guess_lo) * guess_inv   # position in bin widths
                        gc = g if g > 0.0 else 0.0
                        gc = gc if gc < top else top
                        gr = g + 0.5
                        gr = gr if gr > 0.0 else 0.0
                        gr = gr if gr < nbf else nbf
                        near = abs(g - int(gr)) < guess_eps     # int(gr): the nearest edge
                        bi = -1 if (near or dbits[i] < NORMAL) else int(gc)
                        bins[i] = bi if dbits[i] != 0 else nb
                    for c in range(w):
                        for s in range(4):      # four independent sub-histograms
                            bi = bins[s * T + c]
                            if bi < 0:
                                bi = _search_bin(T_edges, d[s * T + c], nb)
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
        T_edges = bin_thresholds(edges)
        lo, inv, eps = bin_guess(edges)
    else:
        T_edges, lo, inv, eps = np.zeros(2), 0.0, 0.0, math.inf
    tile_reduce(J, urows.astype(np.int64), rloc, colsT, R, mode, T_edges, lo, inv, eps, out,
                part)
    red[:, S1] = out[:, :, S1].sum(1)
    red[:, S2] = out[:, :, S2].sum(1)
    red[:, S4] = out[:, :, S4].sum(1)
    red[:, MAX] = out[:, :, MAX].max(1)
    red[:, MIN_NONZERO] = out[:, :, MIN_NONZERO].min(1)
    red[:, N_ZERO] = out[:, :, N_ZERO].sum(1)
    return red, (part.sum(1) if nb else None)
