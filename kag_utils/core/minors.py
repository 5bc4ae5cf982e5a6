"""Size-k minor matrices J^(k) of Jacobians, exact and sampled.

P1 (IV.1): J^(k)_{I,I'}(x) = |det J(x)[I, I']| for row k-tuples I of {0..m-1} and column
k-tuples I' of {0..n-1}, both in `itertools.combinations` (lexicographic) order, 0-based
(REPRODUCTION 2.2). J^(1) = |J|.

* `combinations_index`, `combination_rank`: the k-tuples and their lexicographic ranks.
* `minor_matrix(J, k)`: the full `[..., C(m,k), C(n,k)]` matrix. Closed forms for k = 1, 2, 3
  (k = 2: ad - bc; k = 3: cofactor expansion = triple product q_a . (q_b x q_c)), batched
  `torch.linalg.det` for k >= 4, computed in row-combination chunks.
* `iter_minor_blocks`: the streaming primitive. Yields blocks of |minors| over a grid of row
  tuples x column tuples so that callers reduce (max, sums, histograms) without ever holding
  the whole grid.
* P2 sampling (REPRODUCTION 2.15, M-11): `sample_combinations` draws up to `max_count` distinct
  k-subsets (optionally restricted to an allowed pixel subset and/or to pixels pairwise
  >= `min_distance` apart); `sampled_minors` evaluates the (row sample x column sample) grid;
  `sampled_minor_stats` streams per-example sums of |mu|^p, extremes, zero counts and
  log10 histograms over that grid; `sampled_minor_max` and `sampled_minor_histogram` stream
  only the maxima (rotation ratio) or only the histogram (KL divergence).
* On CPU (k <= 3) the grids go through the numba kernels of `minor_kernels`; on CUDA (and
  for k >= 4) through the torch closed forms in blocks.

Everything computes in the input dtype and on the input device. Bad input raises ValueError.
"""
from __future__ import annotations

import functools
import math
import warnings
from typing import Iterator, Optional, Sequence

import numpy as np
import torch

from .minor_kernels import (HAVE_NUMBA, MAX, MIN_NONZERO, MODE_FULL, MODE_MAX, MODE_NONE,
                            N_ZERO, S1, S2, S4, grid_minors, grid_reduce)

__all__ = [
    "combinations_index",
    "combination_rank",
    "subset_rank_table",
    "minor_matrix",
    "iter_minor_blocks",
    "sample_combinations",
    "sampled_minors",
    "sampled_minor_stats",
    "sampled_minor_max",
    "sampled_minor_histogram",
    "check_jacobian",
]

# Default size (in elements) of one working tensor in the chunked paths. A k = 3 block needs
# about a dozen temporaries of this size: 2**21 float64 elements = 16 MiB each.
DEFAULT_BLOCK_ELEMENTS = 2 ** 21

# CPU grids with k <= 3 go through the compiled numba kernels of `minor_kernels` (the
# streamed reductions ~10x faster than the element-wise kernel they replaced, issue 14). Tests
# switch them off to check the torch closed forms that CUDA tensors use.
USE_NUMBA = True


def _numba_ok(J: torch.Tensor, k: int) -> bool:
    return (k <= 3 and USE_NUMBA and HAVE_NUMBA and J.device.type == "cpu"
            and J.dtype in (torch.float32, torch.float64))


def _numba_block(J: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """The whole grid rows x cols in one kernel call, written straight into the result
    (no intermediate blocks: fresh large buffers cost page faults). J on CPU, k <= 3."""
    lead = J.shape[:-2]
    Jn = J.detach().reshape(-1, *J.shape[-2:]).contiguous().numpy()     # [L, m, n]
    out = np.empty((Jn.shape[0], rows.shape[0], cols.shape[0]), dtype=Jn.dtype)
    grid_minors(Jn, np.ascontiguousarray(rows.cpu().numpy()),
                np.ascontiguousarray(cols.cpu().numpy()), out)
    return torch.from_numpy(out).reshape(*lead, rows.shape[0], cols.shape[0])


def _numba_reduce(J: torch.Tensor, row_idx: torch.Tensor, col_idx: torch.Tensor, mode: int,
                  edges: Optional[np.ndarray] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """minor_kernels.grid_reduce of J [..., m, n] (CPU) -> ([L, 6], [L, nbins] or None)."""
    Jn = J.detach().reshape(-1, *J.shape[-2:]).contiguous().numpy()     # [L, m, n]
    return grid_reduce(Jn, row_idx.cpu().numpy(), col_idx.cpu().numpy(), mode, edges)


# ----------------------------------------------------------------------------- validation
def check_jacobian(J: torch.Tensor, k: Optional[int] = None, name: str = "J",
                   min_ndim: int = 2) -> None:
    """Raise ValueError unless J is a floating tensor `[..., m, n]` of finite values and,
    when k is given, 1 <= k <= min(m, n)."""
    if not isinstance(J, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(J).__name__}")
    if J.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions ([..., m, n]); "
                         f"got shape {tuple(J.shape)}")
    if not (J.is_floating_point()):
        raise ValueError(f"{name} must be a floating-point tensor, got {J.dtype}")
    if J.numel() and not bool(torch.isfinite(J).all()):
        bad = int((~torch.isfinite(J)).sum())
        raise ValueError(f"{name} contains {bad} NaN/inf entries")
    if k is not None:
        check_k(k, J.shape[-2], J.shape[-1], name)


def check_k(k, m: int, n: int, name: str = "J") -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"minor size k must be an int, got {k!r}")
    if k < 1:
        raise ValueError(f"minor size k must be >= 1, got {k}")
    if k > min(m, n):
        raise ValueError(f"minor size k = {k} exceeds min(m, n) = min({m}, {n}) of {name}")


# ----------------------------------------------------------------------------- combinations
@functools.lru_cache(maxsize=None)
def _combinations_np(m: int, k: int) -> np.ndarray:
    """All k-subsets of range(m) in itertools.combinations order, as int64 [C(m,k), k]."""
    if k == 0:
        return np.zeros((1, 0), dtype=np.int64)
    if k > m:
        return np.zeros((0, k), dtype=np.int64)
    if k == 1:
        out = np.arange(m, dtype=np.int64)[:, None]
    elif k == 2:
        out = np.stack(np.triu_indices(m, 1), axis=1).astype(np.int64)  # lexicographic
    else:
        out = _combinations_rec(m, k)
    out.setflags(write=False)
    return out


def _combinations_rec(m: int, k: int) -> np.ndarray:
    parts = []
    for first in range(m - k + 1):          # tuples starting with `first`, in order
        rest = _combinations_np(m - first - 1, k - 1) + (first + 1)
        head = np.full((rest.shape[0], 1), first, dtype=np.int64)
        parts.append(np.concatenate([head, rest], axis=1))
    return np.concatenate(parts, axis=0)


_COMB_CACHE: dict = {}


def combinations_index(m: int, k: int, device=None) -> torch.Tensor:
    """All k-subsets of {0..m-1} in `itertools.combinations` order: LongTensor [C(m,k), k].

    Cached per (m, k, device); treat the result as read-only.
    """
    if m < 0 or k < 0:
        raise ValueError(f"need m, k >= 0, got m = {m}, k = {k}")
    dev = torch.device(device) if device is not None else torch.device("cpu")
    key = (int(m), int(k), str(dev))
    t = _COMB_CACHE.get(key)
    if t is None:
        t = torch.from_numpy(np.array(_combinations_np(int(m), int(k)))).to(dev)
        _COMB_CACHE[key] = t
    return t


def combination_rank(combos: torch.Tensor, m: int) -> torch.Tensor:
    """Lexicographic rank of sorted k-tuples among all k-subsets of {0..m-1}.

    combos: [..., k] (strictly increasing along the last axis) -> LongTensor [...], so that
    `combinations_index(m, k)[combination_rank(c, m)] == c`.
    Uses rank = C(m,k) - 1 - sum_i C(m-1-c_i, k-i).
    """
    k = combos.shape[-1]
    table = torch.tensor([[math.comb(a, b) for b in range(k + 1)] for a in range(m + 1)],
                         dtype=torch.int64, device=combos.device)     # [m+1, k+1]
    i = torch.arange(k, device=combos.device)
    terms = table[(m - 1 - combos).clamp_min(0), (k - i)]              # [..., k]
    return math.comb(m, k) - 1 - terms.sum(-1)


@functools.lru_cache(maxsize=None)
def _subset_rank_table_cpu(m: int, k: int) -> torch.Tensor:
    rows = combinations_index(m, k)                                    # [C(m,k), k]
    keep = [torch.cat([rows[:, :d], rows[:, d + 1:]], dim=1) for d in range(k)]
    sub = torch.stack(keep, dim=1)                                     # [C(m,k), k, k-1]
    return combination_rank(sub, m)                                    # [C(m,k), k]


def subset_rank_table(m: int, k: int, device=None) -> torch.Tensor:
    """For each size-k row tuple (combinations order), the ranks of its k sub-tuples of size
    k-1 (dropping element 0, 1, ..., k-1) among the (k-1)-subsets: LongTensor [C(m,k), k].
    Used by the dependent-zero-row test (REPRODUCTION 2.7)."""
    if not 2 <= k <= m:
        raise ValueError(f"need 2 <= k <= m, got k = {k}, m = {m}")
    t = _subset_rank_table_cpu(int(m), int(k))
    return t if device is None else t.to(device)


# ----------------------------------------------------------------------------- closed forms
def minors_block(J: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """|det J[..., rows[r], cols[c]]| for all (r, c): J [..., m, n], rows [R, k], cols [C, k]
    -> [..., R, C]. Closed forms for k <= 3, batched det otherwise.

    On CPU (float32/64, k <= 3) a compiled numba kernel computes the block directly. The torch
    path (CUDA, fallback): for k <= 3 the columns are gathered first (k tensors [..., m, C]) and then whole rows of
    those (contiguous copies): G[i][j] = J[..., rows[:, i], cols[:, j]]. This is ~6x faster on
    CPU than gathering rows first and then scattered columns.
    """
    k = rows.shape[1]
    if _numba_ok(J, k):
        return _numba_block(J, rows, cols)
    if k <= 3:
        Jc = [J.index_select(-1, cols[:, j]) for j in range(k)]            # k x [..., m, C]
        G = [[Jc[j].index_select(-2, rows[:, i]) for j in range(k)] for i in range(k)]
        if k == 1:
            return G[0][0].abs_()
        if k == 2:
            (a, b), (c, d) = G
            return (a * d).sub_(b * c).abs_()
        (x0, x1, x2), (y0, y1, y2), (z0, z1, z2) = G
        # cofactor expansion along the first row = q_x . (q_y x q_z)
        det = x0 * (y1 * z2 - y2 * z1)
        det -= x1 * (y0 * z2 - y2 * z0)
        det += x2 * (y0 * z1 - y1 * z0)
        return det.abs_()
    lead = J.shape[:-2]
    R, C = rows.shape[0], cols.shape[0]
    sub = J[..., rows.reshape(-1), :].reshape(*lead, R, k, J.shape[-1])  # [..., R, k, n]
    sub = sub[..., cols]                                               # [..., R, k, C, k]
    sub = sub.movedim(-2, -3)                                          # [..., R, C, k, k]
    return torch.linalg.det(sub).abs()


def _chunk_len(total: int, other: int, budget: int) -> int:
    return max(1, min(total, budget // max(1, other)))


def iter_minor_blocks(J: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                      row_chunk: Optional[int] = None, col_chunk: Optional[int] = None,
                      max_elements: int = DEFAULT_BLOCK_ELEMENTS
                      ) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Stream |minors| of J over the grid rows x cols in blocks.

    J: [..., m, n]; rows: [R, k] row tuples; cols: [C, k] column tuples (any sorted tuples,
    e.g. `combinations_index` or `sample_combinations`). Yields `(r0, c0, block)` with
    block: [..., r, c] = |det J[..., rows[r0:r0+r], cols[c0:c0+c]]|. Without explicit chunk
    sizes, blocks hold about `max_elements` values (the leading batch included), so memory
    stays bounded whatever the grid size. No validation here (callers validate).
    """
    rows = rows.to(J.device)
    cols = cols.to(J.device)
    R, C = rows.shape[0], cols.shape[0]
    lead = max(1, math.prod(J.shape[:-2]))
    if col_chunk is None:
        col_chunk = _chunk_len(C, lead, max_elements)
    if row_chunk is None:
        row_chunk = _chunk_len(R, lead * col_chunk, max_elements)
    for c0 in range(0, C, col_chunk):
        cc = cols[c0:c0 + col_chunk]
        for r0 in range(0, R, row_chunk):
            yield r0, c0, minors_block(J, rows[r0:r0 + row_chunk], cc)


def minor_matrix(J: torch.Tensor, k: int, max_elements: int = DEFAULT_BLOCK_ELEMENTS
                 ) -> torch.Tensor:
    """Size-k minor matrix J^(k) (P1 IV.1; REPRODUCTION 2.2).

    J: [..., m, n] -> [..., C(m,k), C(n,k)] holding |det| of every k x k submatrix, rows and
    columns in `itertools.combinations` order. Computed in J's dtype/device: on CPU (k <= 3)
    by one numba kernel call, otherwise in row chunks of about `max_elements` elements (the
    output itself is allocated in full: use `iter_minor_blocks` for reductions that need not
    hold it).
    """
    check_jacobian(J, k)
    m, n = J.shape[-2:]
    rows = combinations_index(m, k, J.device)
    cols = combinations_index(n, k, J.device)
    if k == 1:
        return J.abs()
    if _numba_ok(J, k):
        return _numba_block(J, rows, cols)
    out = J.new_empty(J.shape[:-2] + (rows.shape[0], cols.shape[0]))
    for r0, c0, block in iter_minor_blocks(J, rows, cols, col_chunk=cols.shape[0],
                                           max_elements=max_elements):
        out[..., r0:r0 + block.shape[-2], :] = block
    return out


# ----------------------------------------------------------------------------- sampling
def _pairwise_ok(tuples: torch.Tensor, coords: torch.Tensor, min_distance: float) -> torch.Tensor:
    """tuples: [T, k] indices into coords [N, 2] -> bool [T]: all pairs >= min_distance."""
    k = tuples.shape[1]
    ok = torch.ones(tuples.shape[0], dtype=torch.bool)
    d2 = float(min_distance) ** 2 * (1 - 1e-12)
    for i in range(k):
        for j in range(i + 1, k):
            diff = coords[tuples[:, i]] - coords[tuples[:, j]]
            ok &= (diff * diff).sum(-1) >= d2
    return ok


def sample_combinations(n: int, k: int, max_count: int, generator: torch.Generator,
                        allowed=None, min_distance: Optional[float] = None, coords=None, *,
                        enumerate_limit: int = 2_000_000, max_draws: Optional[int] = None,
                        return_info: bool = False, device=None):
    """Up to `max_count` distinct sorted k-subsets of {0..n-1} (P2 A.2.2; REPRODUCTION 2.15).

    * Universe: `allowed` (an index subset, e.g. the pixels of a ball or patch) or all n.
    * Optional spatial constraint: every pair of points in a tuple is at Euclidean distance
      >= `min_distance`, with `coords: [n, 2]` the points' coordinates (M-14).
    * If the number V of valid tuples is <= max_count, ALL of them are returned, in
      combinations order ("up to 10,000").
    * Otherwise a uniform random subset of size max_count of the valid tuples is returned, in
      random draw order (so any prefix is itself a uniform sample, e.g. for the reduced RR
      grid of M-11). Deterministic given `generator` (P2: `torch.Generator().manual_seed(42)`).
    * Method: if C(|universe|, k) <= `enumerate_limit`, enumerate, filter, and take a random
      permutation prefix (exact). Otherwise rejection sampling: uniform ordered k-tuples of
      distinct indices (sorted), rejected when they violate the distance constraint or
      repeat an earlier draw, which is uniform over the valid tuples. If `max_draws`
      candidate tuples (default 200 * max_count + 100,000) do not yield max_count tuples, it
      stops and returns fewer, with a warning stating the count and the acceptance rate.

    Returns LongTensor [count, k] (global indices, each row increasing), and, with
    `return_info=True`, also a dict: n_returned, n_universe, n_total (= C(|universe|, k)),
    n_valid (exact when enumerated, else None), acceptance_rate (valid / total, exact or
    estimated from the candidate draws), exhaustive (all valid tuples returned).
    """
    if not isinstance(generator, torch.Generator):
        raise ValueError("generator must be a torch.Generator (e.g. torch.Generator().manual_seed(42))")
    if max_count < 1:
        raise ValueError(f"max_count must be >= 1, got {max_count}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if allowed is None:
        universe = torch.arange(n, dtype=torch.int64)
    else:
        universe = torch.as_tensor(allowed, dtype=torch.int64).flatten().cpu().unique()  # sorted
        if universe.numel() and (universe.min() < 0 or universe.max() >= n):
            raise ValueError(f"allowed indices must lie in [0, {n}); got range "
                             f"[{int(universe.min())}, {int(universe.max())}]")
    N = universe.numel()
    if k > N:
        raise ValueError(f"k = {k} exceeds the number of allowed indices ({N})")
    ucoords = None
    if min_distance is not None:
        if coords is None:
            raise ValueError("min_distance needs coords: [n, 2] point coordinates")
        coords = torch.as_tensor(coords, dtype=torch.float64).cpu()
        if coords.ndim != 2 or coords.shape[0] != n:
            raise ValueError(f"coords must be [n = {n}, d]; got {tuple(coords.shape)}")
        if min_distance < 0:
            raise ValueError(f"min_distance must be >= 0, got {min_distance}")
        ucoords = coords[universe]
    total = math.comb(N, k)
    info = dict(n_universe=N, n_total=total)

    if total <= enumerate_limit:
        local = combinations_index(N, k)                               # [total, k]
        if ucoords is not None and k >= 2:
            local = local[_pairwise_ok(local, ucoords, min_distance)]
        V = local.shape[0]
        info.update(n_valid=V, acceptance_rate=V / total if total else 0.0)
        if V == 0:
            raise ValueError(f"no {k}-tuple of the {N} allowed points satisfies "
                             f"min_distance = {min_distance}")
        if V <= max_count:
            chosen, exhaustive = local, True
        else:
            perm = torch.randperm(V, generator=generator)[:max_count]
            chosen, exhaustive = local[perm], False
    else:
        if max_draws is None:
            max_draws = 200 * max_count + 100_000
        seen: set = set()
        picked: list = []
        drawn = 0
        valid_drawn = 0
        batch = max(1024, 2 * max_count)
        while len(picked) < max_count and drawn < max_draws:
            b = min(batch, max_draws - drawn)
            cand = torch.randint(0, N, (b, k), generator=generator)
            cand, _ = cand.sort(dim=1)
            distinct = (cand[:, 1:] != cand[:, :-1]).all(dim=1) if k > 1 else torch.ones(b, dtype=torch.bool)
            cand = cand[distinct]
            drawn += int(distinct.sum())          # candidates = uniform k-subsets
            if ucoords is not None and k >= 2:
                ok = _pairwise_ok(cand, ucoords, min_distance)
                valid_drawn += int(ok.sum())
                cand = cand[ok]
            else:
                valid_drawn += cand.shape[0]
            for row in cand.tolist():
                t = tuple(row)
                if t not in seen:
                    seen.add(t)
                    picked.append(row)
                    if len(picked) == max_count:
                        break
        rate = valid_drawn / drawn if drawn else 0.0
        info.update(n_valid=None, acceptance_rate=rate)
        if not picked:
            raise ValueError(f"rejection sampling found no valid {k}-tuple in {drawn} draws "
                             f"(min_distance = {min_distance}, {N} allowed points)")
        if len(picked) < max_count:
            warnings.warn(f"sample_combinations: only {len(picked)} of {max_count} tuples found "
                          f"after {drawn} candidate draws (acceptance rate {rate:.3g}); "
                          f"returning fewer", RuntimeWarning, stacklevel=2)
        chosen = torch.tensor(picked, dtype=torch.int64).reshape(-1, k)
        exhaustive = False
    out = universe[chosen]
    info.update(n_returned=out.shape[0], exhaustive=exhaustive)
    if device is not None:
        out = out.to(device)
    return (out, info) if return_info else out


def _check_index(idx: torch.Tensor, size: int, what: str) -> torch.Tensor:
    idx = torch.as_tensor(idx)
    if idx.ndim != 2 or idx.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"{what} must be an integer tensor [count, k]; got {tuple(idx.shape)} {idx.dtype}")
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= size):
        raise ValueError(f"{what} has indices outside [0, {size})")
    if idx.shape[1] > 1 and idx.shape[0] and not bool((idx[:, 1:] > idx[:, :-1]).all()):
        raise ValueError(f"{what}: each tuple must be strictly increasing")
    return idx.long()


def check_sampled(J, row_idx, col_idx):
    check_jacobian(J)
    m, n = J.shape[-2:]
    row_idx = _check_index(row_idx, m, "row_idx")
    col_idx = _check_index(col_idx, n, "col_idx")
    if row_idx.shape[1] != col_idx.shape[1]:
        raise ValueError(f"row tuples have size {row_idx.shape[1]} but column tuples {col_idx.shape[1]}")
    check_k(row_idx.shape[1], m, n)
    return row_idx, col_idx


def sampled_minors(J: torch.Tensor, row_idx: torch.Tensor, col_idx: torch.Tensor,
                   chunk: int = 500) -> torch.Tensor:
    """|det| over the grid of sampled row tuples x sampled column tuples (REPRODUCTION M-11).

    J: [..., m, n], row_idx: [R, k], col_idx: [C, k] -> [..., R, C], computed in blocks of
    `chunk` row tuples x `chunk` column tuples (P2's chunks of 500; on CPU with k <= 3 one
    numba kernel call writes the result directly). The output is held in full; for
    reductions use `sampled_minor_stats` / `iter_minor_blocks`.
    """
    row_idx, col_idx = check_sampled(J, row_idx, col_idx)
    if _numba_ok(J, row_idx.shape[1]):
        return _numba_block(J, row_idx, col_idx)
    out = J.new_empty(J.shape[:-2] + (row_idx.shape[0], col_idx.shape[0]))
    for r0, c0, block in iter_minor_blocks(J, row_idx, col_idx, row_chunk=chunk, col_chunk=chunk):
        out[..., r0:r0 + block.shape[-2], c0:c0 + block.shape[-1]] = block
    return out


def sampled_minor_stats(J: torch.Tensor, row_idx: torch.Tensor, col_idx: torch.Tensor,
                        powers: Sequence[int] = (1, 2), log10_edges: Optional[torch.Tensor] = None,
                        chunk: int = 500, max_elements: int = 2 ** 22,
                        validate: bool = True) -> dict:
    """Streaming per-example reductions of the sampled minor grid (never materialised).

    J: [..., m, n]; row_idx: [R, k]; col_idx: [C, k]. Returns a dict of tensors over the
    leading dims `[...]` (float64 accumulators):
      "sum_p{p}" for each p in powers: sum of |mu|^p over the R x C grid;
      "max": largest |mu|; "min_nonzero": smallest non-zero |mu| (inf if none);
      "n_zero": number of exact zeros; "count": R*C (int);
      with `log10_edges` ([nbins + 1], increasing): "hist": [..., nbins] counts of non-zero
      |mu| by log10 bin (values outside the edges are clipped into the end bins).
    On CPU (k <= 3, powers within {1, 2, 4}) a numba kernel streams the grid without storing
    any of it (`minor_kernels.tile_reduce`; sums in a fixed order that does not depend on the
    thread count); otherwise (CUDA) blocks of `chunk` x `chunk` tuples are reduced with
    torch, the leading dims in slices so a block holds at most about `max_elements` values.
    `validate=False` skips the input checks (finite J, valid tuples): for callers that reduce
    one checked Jacobian over many tuple sets (the check costs more than a small grid).
    """
    if validate:
        row_idx, col_idx = check_sampled(J, row_idx, col_idx)
    else:
        row_idx, col_idx = row_idx.long(), col_idx.long()
    lead_shape = J.shape[:-2]
    Jf = J.reshape(-1, *J.shape[-2:])                                  # [L, m, n]
    L = Jf.shape[0]
    dev = J.device
    acc = {f"sum_p{p}": torch.zeros(L, dtype=torch.float64, device=dev) for p in powers}
    acc["max"] = torch.zeros(L, dtype=torch.float64, device=dev)
    acc["min_nonzero"] = torch.full((L,), math.inf, dtype=torch.float64, device=dev)
    acc["n_zero"] = torch.zeros(L, dtype=torch.int64, device=dev)
    nb = None
    if log10_edges is not None:
        edges = torch.as_tensor(log10_edges, dtype=torch.float64, device=dev)
        nb = edges.numel() - 1
        if nb < 1:
            raise ValueError("log10_edges needs at least 2 edges")
        acc["hist"] = torch.zeros(L, nb, dtype=torch.int64, device=dev)
        inner = edges[1:-1].contiguous()
    if _numba_ok(J, row_idx.shape[1]) and set(powers) <= {1, 2, 4}:
        red, hist = _numba_reduce(Jf, row_idx, col_idx, MODE_FULL,
                                  None if nb is None else edges.cpu().numpy())
        slot = {1: S1, 2: S2, 4: S4}
        for p in powers:
            acc[f"sum_p{p}"] = torch.from_numpy(red[:, slot[p]].copy())
        acc["max"] = torch.from_numpy(red[:, MAX].copy())
        acc["min_nonzero"] = torch.from_numpy(red[:, MIN_NONZERO].copy())
        acc["n_zero"] = torch.from_numpy(red[:, N_ZERO].astype(np.int64))
        if nb is not None:
            acc["hist"] = torch.from_numpy(hist)
        out = {key: v.reshape(*lead_shape, *v.shape[1:]) for key, v in acc.items()}
        out["count"] = row_idx.shape[0] * col_idx.shape[0]
        return out
    lslice = max(1, min(L, max_elements // max(1, chunk * chunk)))
    for l0 in range(0, L, lslice):
        Jl = Jf[l0:l0 + lslice]
        nl = Jl.shape[0]
        for _, _, block in iter_minor_blocks(Jl, row_idx, col_idx, row_chunk=chunk, col_chunk=chunk):
            b = block.reshape(nl, -1).to(torch.float64)                 # [nl, r*c]
            for p in powers:
                acc[f"sum_p{p}"][l0:l0 + nl] += (b if p == 1 else b ** p).sum(1)
            acc["max"][l0:l0 + nl] = torch.maximum(acc["max"][l0:l0 + nl], b.amax(1))
            zero = b == 0
            acc["n_zero"][l0:l0 + nl] += zero.sum(1)
            nz = torch.where(zero, torch.full_like(b, math.inf), b)
            acc["min_nonzero"][l0:l0 + nl] = torch.minimum(acc["min_nonzero"][l0:l0 + nl], nz.amin(1))
            if nb is not None:
                lg = torch.log10(torch.where(zero, torch.ones_like(b), b))
                binid = torch.bucketize(lg, inner, right=True)          # 0..nb-1, clipped
                binid = binid + torch.arange(nl, device=dev).unsqueeze(1) * nb
                cnt = torch.bincount(binid[~zero], minlength=nl * nb).reshape(nl, nb)
                acc["hist"][l0:l0 + nl] += cnt
    out = {key: v.reshape(*lead_shape, *v.shape[1:]) for key, v in acc.items()}
    out["count"] = row_idx.shape[0] * col_idx.shape[0]
    return out


def _checked(J, row_idx, col_idx, validate):
    if validate:
        return check_sampled(J, row_idx, col_idx)
    return torch.as_tensor(row_idx).long(), torch.as_tensor(col_idx).long()


def sampled_minor_max(J: torch.Tensor, row_idx: torch.Tensor, col_idx: torch.Tensor,
                      chunk: int = 500, validate: bool = True) -> torch.Tensor:
    """Largest |minor| over the sampled grid per example (the maxima of the rotation ratio,
    M-10): J [..., m, n], row_idx [R, k], col_idx [C, k] -> float64 [...]. Equals
    ``sampled_minor_stats(J, row_idx, col_idx, powers=())["max"]``; on CPU (k <= 3) a numba
    kernel that keeps only the maxima."""
    row_idx, col_idx = _checked(J, row_idx, col_idx, validate)
    if _numba_ok(J, row_idx.shape[1]):
        red, _ = _numba_reduce(J, row_idx, col_idx, MODE_MAX)
        return torch.from_numpy(red[:, MAX].copy()).reshape(J.shape[:-2])
    return sampled_minor_stats(J, row_idx, col_idx, powers=(), chunk=chunk,
                               validate=False)["max"]


def sampled_minor_histogram(J: torch.Tensor, row_idx: torch.Tensor, col_idx: torch.Tensor,
                            log10_edges, chunk: int = 500, validate: bool = True
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-example histogram of the non-zero sampled |minors| by log10 bin, and the number of
    exact zeros: J [..., m, n] -> (hist int64 [..., nbins], n_zero int64 [...]), with
    `log10_edges` [nbins + 1] increasing; values outside the edges are clipped into the end
    bins (numpy's searchsorted(edges[1:-1], log10 |mu|, "right")). Equals the "hist" and
    "n_zero" of ``sampled_minor_stats(..., log10_edges=...)``; on CPU (k <= 3) a numba kernel
    that bins by lookup table instead of taking log10 of every minor."""
    row_idx, col_idx = _checked(J, row_idx, col_idx, validate)
    edges = torch.as_tensor(log10_edges, dtype=torch.float64)
    if edges.ndim != 1 or edges.numel() < 2 or not bool((edges[1:] > edges[:-1]).all()):
        raise ValueError("log10_edges must be an increasing 1-D sequence of at least 2 edges")
    if _numba_ok(J, row_idx.shape[1]):
        red, hist = _numba_reduce(J, row_idx, col_idx, MODE_NONE, edges.numpy())
        lead = J.shape[:-2]
        return (torch.from_numpy(hist).reshape(*lead, hist.shape[-1]),
                torch.from_numpy(red[:, N_ZERO].astype(np.int64)).reshape(lead))
    st = sampled_minor_stats(J, row_idx, col_idx, powers=(), log10_edges=edges.to(J.device),
                             chunk=chunk, validate=False)
    return st["hist"], st["n_zero"]
