"""P1 metrics of Kolmogorov-Arnold geometry, (IV.2)-(IV.13) and App. A.

Every metric takes batches of Jacobians `J: [B, m, n]` (B evaluation examples; rows = hidden
neurons, columns = inputs) of a trained model and, where the definition needs it, of the same
seed's initial model at the same inputs. Definitions and defaults: REPRODUCTION.md 2.3-2.13,
ambiguities A-12, A-13, A-14, A-17, A-19, A-20, A-21. Scalars come back as Python floats.
Computation happens in the dtype given (the P1 notebooks pass float64, A-20); the column
softmax always runs in float64 (A-19).

`p1_metrics` evaluates all of them for one model state, sharing the minor matrices and one
rotated-max-minor kernel pass; each metric is also callable on its own.
"""
from __future__ import annotations

import math
import warnings
from typing import Iterable, Optional, Sequence

import numpy as np
import torch
from scipy.special import binom as _binom

from .minors import (_check_k, check_jacobian, combinations_index, iter_minor_blocks,
                     minor_matrix, subset_rank_table)
from .rotations import haar_rotations, rotated_max_minors, rotated_max_minors_readings
from .threads import torch_threads

__all__ = [
    "false_positive_rate", "row_means", "zero_threshold", "zero_row_mask",
    "zero_row_fraction", "dependent_zero_row_fraction", "consistently_zero_rows",
    "participation_ratio", "participation_ratio_max", "haar_rotations",
    "random_rotation_ratio", "random_rotation_ratios", "random_rotation_ratios_readings",
    "column_entropy",
    "column_divergence", "mean_excess", "quantile_ratio", "p1_metrics",
]


# ----------------------------------------------------------------------------- helpers
def _check_q(q: float, name: str = "q1") -> float:
    try:
        qf = float(q)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {q!r}") from None
    if not 0.0 < qf < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {q}")
    return qf


def _check_batch(J: torch.Tensor, k: Optional[int], name: str = "J") -> None:
    check_jacobian(J, None, name)
    if J.ndim != 3:
        raise ValueError(f"{name} must be a batch of Jacobians [B, m, n]; got shape {tuple(J.shape)}")
    if J.shape[0] == 0:
        raise ValueError(f"{name} has no examples (B = 0)")
    if k is not None:
        _check_k(k, J.shape[1], J.shape[2], name)


def _check_pair(J_trained: torch.Tensor, J_init: torch.Tensor, k: Optional[int]) -> None:
    _check_batch(J_trained, k, "J_trained")
    _check_batch(J_init, k, "J_init")
    if J_trained.shape != J_init.shape:
        raise ValueError(f"J_trained {tuple(J_trained.shape)} and J_init {tuple(J_init.shape)} "
                         f"must have the same shape (same examples, same m and n)")


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _frac(mask: np.ndarray) -> float:
    """Fraction of True entries (numpy count_nonzero: ~100x faster than torch's bool sum)."""
    return np.count_nonzero(mask) / mask.size


def _to_numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("values is empty")
    if not np.isfinite(v).all():
        raise ValueError("values contain NaN/inf")
    return v


# ----------------------------------------------------------------------------- zero rows
def false_positive_rate(q1: float, m: int, k: int) -> float:
    """q^(k) = 1 - C(m(1 - q1), k) / C(m, k) (P1 IV.4), with the Gamma-function binomial
    C(x, k) = Gamma(x+1) / (Gamma(k+1) Gamma(x-k+1)) (scipy.special.binom) for non-integer x.
    Equals q1 for k = 1; approximately k * q1 otherwise (REPRODUCTION 2.4 table)."""
    q1 = _check_q(q1, "q1")
    if isinstance(m, bool) or int(m) != m or m < 1:
        raise ValueError(f"m must be a positive integer, got {m!r}")
    _check_k(k, int(m), int(m), "an m x m matrix")
    return float(1.0 - _binom(m * (1.0 - q1), k) / _binom(m, k))


def _row_means(J: torch.Tensor, k: int) -> torch.Tensor:
    m, n = J.shape[-2:]
    if k == 1:
        return J.abs().mean(-1)
    rows = combinations_index(m, k, J.device)
    cols = combinations_index(n, k, J.device)
    out = J.new_empty(J.shape[:-2] + (rows.shape[0],))
    for r0, _, block in iter_minor_blocks(J, rows, cols, col_chunk=cols.shape[0]):
        out[..., r0:r0 + block.shape[-2]] = block.mean(-1)
    return out


def row_means(J: torch.Tensor, k: int) -> torch.Tensor:
    """Row means of the size-k minor matrix (P1 IV.2):
    rho^(k)_j(x) = C(n,k)^-1 sum_{I'} J^(k)_{j,I'}(x).  J: [B, m, n] -> [B, C(m,k)]
    (rows in combinations order; streamed over row chunks)."""
    _check_batch(J, k)
    return _row_means(J, k)


def _quantile(values, q: float) -> float:
    if isinstance(values, torch.Tensor):
        values = _np(values)
    return float(np.quantile(values.reshape(-1), q, method="linear"))


def zero_threshold(J_init: torch.Tensor, k: int, q: float) -> float:
    """Q^(k): the q-th quantile (numpy "linear") of the initial model's size-k row means,
    pooled over all rows and examples (P1 IV.3; REPRODUCTION 2.4, A-12).
    Pass q = false_positive_rate(q1, m, k) to get the threshold used by IV.3."""
    _check_batch(J_init, k, "J_init")
    q = _check_q(q, "q")
    return _quantile(_row_means(J_init, k), q)


def _zero_mask(rm_trained: np.ndarray, rm_init: np.ndarray, q1: float, m: int, k: int):
    """Row means (numpy [B, C(m,k)]) -> (numpy bool zero mask (IV.3), Q^(k), q^(k))."""
    qk = false_positive_rate(q1, m, k)
    thr = _quantile(rm_init, qk)
    return rm_trained < thr, thr, qk


def zero_row_mask(J_trained: torch.Tensor, J_init: torch.Tensor, k: int, q1: float) -> torch.Tensor:
    """Zero rows (P1 IV.3): rho^(k)_j(x) < Q^(k), with Q^(k) the q^(k)-quantile of the initial
    model's row means and q^(k) = false_positive_rate(q1, m, k) (IV.4).
    J_trained, J_init: [B, m, n] (same examples) -> bool [B, C(m,k)]."""
    _check_pair(J_trained, J_init, k)
    q1 = _check_q(q1)
    mask, _, _ = _zero_mask(_np(_row_means(J_trained, k)), _np(_row_means(J_init, k)), q1,
                            J_trained.shape[1], k)
    return torch.from_numpy(mask).to(J_trained.device)


def zero_row_fraction(J_trained: torch.Tensor, J_init: torch.Tensor, k: int, q1: float) -> float:
    """Fraction of (example, row) pairs that are zero rows (IV.3), over B * C(m,k)
    (REPRODUCTION 2.5, A-13; multiply by 100 for the paper's "Zero (%)")."""
    return _frac(_np(zero_row_mask(J_trained, J_init, k, q1)))


def _dependent_mask(zero_k: np.ndarray, zero_km1: np.ndarray, m: int, k: int) -> np.ndarray:
    """zero_k: bool [B, C(m,k)], zero_km1: bool [B, C(m,k-1)] -> bool [B, C(m,k)]."""
    sub = _np(subset_rank_table(m, k))                                 # [C(m,k), k]
    any_sub_zero = np.take(zero_km1, sub[:, 0], axis=1)
    for d in range(1, k):
        any_sub_zero |= np.take(zero_km1, sub[:, d], axis=1)
    return zero_k & ~any_sub_zero


def dependent_zero_row_fraction(J_trained: torch.Tensor, J_init: torch.Tensor, k: int,
                                q1: float) -> float:
    """Dependent zero rows, k = 2 or 3 (P1 Table II; REPRODUCTION 2.7, A-13, A-33).

    A size-k row is dependent-zero at x when it is a zero row at size k (threshold Q^(k))
    while none of its k sub-tuples of size k-1 is a zero row at size k-1 (threshold
    Q^(k-1), same q1): the zero then comes from linear dependence. For k = 3 only the
    size-2 condition is applied (A-33). Returned as a fraction of ALL B * C(m,k) size-k rows.
    """
    if k not in (2, 3):
        raise ValueError(f"dependent zero rows are defined for k = 2 or 3, got k = {k}")
    _check_pair(J_trained, J_init, k)
    q1 = _check_q(q1)
    m = J_trained.shape[1]
    zk, _, _ = _zero_mask(_np(_row_means(J_trained, k)), _np(_row_means(J_init, k)), q1, m, k)
    zk1, _, _ = _zero_mask(_np(_row_means(J_trained, k - 1)), _np(_row_means(J_init, k - 1)),
                           q1, m, k - 1)
    return _frac(_dependent_mask(zk, zk1, m, k))


def _consistent(mask: np.ndarray, fraction: float) -> np.ndarray:
    B = mask.shape[0]
    counts = np.count_nonzero(mask, axis=0)                            # [C(m,k)]
    need = fraction * B - 1e-9 * B                                     # ">= 99 %", float-safe
    return counts >= need


def consistently_zero_rows(J_trained: torch.Tensor, J_init: torch.Tensor, k: int, q1: float,
                           fraction: float = 0.99) -> torch.Tensor:
    """Indices (combinations order) of size-k rows that are zero rows (IV.3) in at least
    `fraction` of the examples (P1 sec. IV.A "consistently zero"; REPRODUCTION 2.6, A-14:
    ">= 0.99 * B"). Compute per model seed. -> LongTensor [n_rows]."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    mask = _np(zero_row_mask(J_trained, J_init, k, q1))
    return torch.from_numpy(np.flatnonzero(_consistent(mask, fraction)))


# ----------------------------------------------------------------------------- PR
def _l1_l2(J: torch.Tensor, k: int):
    m, n = J.shape[-2:]
    rows = combinations_index(m, k, J.device)
    cols = combinations_index(n, k, J.device)
    l1 = J.new_zeros(J.shape[0])
    l2 = J.new_zeros(J.shape[0])
    for _, _, block in iter_minor_blocks(J, rows, cols, col_chunk=cols.shape[0]):
        l1 += block.sum(dim=(-2, -1))
        l2 += (block * block).sum(dim=(-2, -1))
    return l1, l2


def _pr_from_norms(l1: torch.Tensor, l2sq: torch.Tensor, what: str) -> tuple[float, int]:
    ok = l2sq > 0
    n_bad = int((~ok).sum())
    if n_bad:
        warnings.warn(f"{what}: {n_bad} of {l2sq.numel()} examples have an all-zero minor matrix "
                      f"and are excluded", RuntimeWarning, stacklevel=3)
    if n_bad == l2sq.numel():
        return math.nan, n_bad
    return float((l1[ok] / l2sq[ok].sqrt()).mean()), n_bad


def participation_ratio(J: torch.Tensor, k: int, return_excluded: bool = False):
    """Size-k participation ratio (P1 IV.5): PR^(k) = mean_x ||J^(k)(x)||_1 / ||J^(k)(x)||_2,
    norms over all C(m,k) * C(n,k) entries. 1 <= PR <= participation_ratio_max(m, n, k);
    lower = more concentrated. Examples with ||J^(k)(x)||_2 = 0 are excluded, with a warning
    (REPRODUCTION 2.8). J: [B, m, n] -> float (and the excluded count if return_excluded)."""
    _check_batch(J, k)
    pr, n_bad = _pr_from_norms(*_l1_l2(J, k), "participation_ratio")
    return (pr, n_bad) if return_excluded else pr


def participation_ratio_max(m: int, n: int, k: int) -> float:
    """Upper bound of (IV.5): sqrt(C(m,k) * C(n,k)) (e.g. 9.80 / 38.57 / 70.43 for m = 32, n = 3)."""
    _check_k(k, m, n, "the Jacobian")
    return math.sqrt(math.comb(m, k) * math.comb(n, k))


# ----------------------------------------------------------------------------- RR
def _check_rotations(rotations: torch.Tensor, m: int) -> None:
    if not isinstance(rotations, torch.Tensor) or rotations.ndim != 3 or rotations.shape[1:] != (m, m):
        raise ValueError(f"rotations must be a tensor [N_rot, m, m] with m = {m}")
    if rotations.shape[0] == 0:
        raise ValueError("rotations is empty (N_rot = 0)")


def _rr_from(M: torch.Tensor, mp: torch.Tensor, what: str) -> tuple[float, int]:
    mbar = mp.mean(dim=-1)                                             # [B]
    ok = mbar > 0
    n_bad = int((~ok).sum())
    if n_bad:
        warnings.warn(f"{what}: {n_bad} of {mbar.numel()} examples have all k-minors zero "
                      f"(rank < k) and are excluded", RuntimeWarning, stacklevel=3)
    if n_bad == mbar.numel():
        return math.nan, n_bad
    return float((M[ok] / mbar[ok]).mean()), n_bad


def random_rotation_ratios_readings(J: torch.Tensor, ks: Iterable[int], rotations: torch.Tensor,
                                    readings: Iterable[str] = ("abs", "signed"),
                                    backend: str = "auto", num_threads: Optional[int] = None,
                                    return_per_example: bool = False) -> dict:
    """Random rotation ratios under one or both readings of (IV.6)-(IV.7), from ONE pass of
    the rotated kernel: {reading: {k: value}} (see :func:`random_rotation_ratios`).

    "abs": the literal definition, M and m_p the largest |k x k minor|. "signed": M and
    m_p the largest *signed* minor (rows and columns in increasing order), a reading of the
    paper's "largest minor" that the text leaves open (issue 12 item 5). Examples whose mean
    rotated maximum is not positive (rank < k under "abs") are excluded with a warning.
    """
    ks = tuple(sorted(set(int(k) for k in ks)))
    _check_batch(J, None)
    m, n = J.shape[1:]
    for k in ks:
        _check_k(k, m, n)
    _check_rotations(rotations, m)
    eye = torch.eye(m, dtype=rotations.dtype, device=rotations.device).unsqueeze(0)
    res = rotated_max_minors_readings(J, torch.cat([eye, rotations], 0), ks, readings,
                                      backend=backend, num_threads=num_threads)
    out = {}
    for reading, per_k in res.items():
        out[reading] = {}
        for k in ks:
            M, mp = per_k[k][:, 0], per_k[k][:, 1:]
            what = f"random_rotation_ratio(k={k}, {reading})"
            if return_per_example:
                mbar = mp.mean(-1)
                out[reading][k] = torch.where(
                    mbar > 0, M / torch.where(mbar > 0, mbar, torch.ones_like(mbar)),
                    torch.full_like(mbar, math.nan))
            else:
                out[reading][k] = _rr_from(M, mp, what)[0]
    return out


def random_rotation_ratios(J: torch.Tensor, ks: Iterable[int], rotations: torch.Tensor,
                           backend: str = "auto", num_threads: Optional[int] = None,
                           return_per_example: bool = False, reading: str = "abs") -> dict:
    """Random rotation ratios for several k from ONE pass of the rotated kernel
    (P1 IV.6-IV.7; REPRODUCTION 2.9, A-17):

      M^(k)(x) = max J^(k)(x);  m^(k)_p(x) = max (R_p J(x))^(k);
      r^(k)(x) = M^(k)(x) / mean_p m^(k)_p(x);  r-bar^(k) = mean_x r^(k)(x).

    J: [B, m, n]; rotations: [N_rot, m, m] (`haar_rotations`; the same set for all examples
    and for trained and initial models). Returns {k: float}; with return_per_example,
    {k: Tensor [B]} of r^(k)(x) (nan where excluded). Examples whose J has rank < k
    (all minors zero) are excluded with a warning. M^(k) is computed by the same kernel
    with the identity prepended to the rotations. reading: "abs" (the literal |minor|,
    default) or "signed" (largest signed minor; :func:`random_rotation_ratios_readings`).
    """
    if reading not in ("abs", "signed"):
        raise ValueError(f"reading must be 'abs' or 'signed', got {reading!r}")
    return random_rotation_ratios_readings(J, ks, rotations, (reading,), backend, num_threads,
                                           return_per_example)[reading]


def random_rotation_ratio(J: torch.Tensor, k: int, rotations: torch.Tensor,
                          backend: str = "auto", num_threads: Optional[int] = None) -> float:
    """Random rotation ratio r-bar^(k) (P1 IV.6-IV.7) for one k; see random_rotation_ratios.
    Scale-invariant (J -> cJ leaves it unchanged); > 1 means the largest minors are aligned
    with the neuron basis. J: [B, m, n], rotations: [N_rot, m, m] -> float."""
    return random_rotation_ratios(J, (k,), rotations, backend, num_threads)[k]


# ----------------------------------------------------------------------------- column softmax
def _log_col_probs(J: torch.Tensor, k: int) -> torch.Tensor:
    M = minor_matrix(J, k).to(torch.float64)                           # [B, C(m,k), C(n,k)]
    return torch.log_softmax(M, dim=-2)                                # softmax over rows j


def _log_base(m: int, k: int) -> float:
    R = math.comb(m, k)
    if R < 2:
        raise ValueError(f"column entropy/divergence need C(m,k) >= 2 rows for the log base; "
                         f"m = {m}, k = {k} gives {R}")
    return math.log(R)


def column_entropy(J: torch.Tensor, k: int) -> float:
    """Column entropy (P1 IV.11-IV.12): P_ji = softmax over rows j of the minor magnitudes
    J^(k)_ji at unit temperature (float64 log-softmax, A-19); S_i = -sum_j P_ji log P_ji with
    log base C(m,k) (so S in [0, 1], 1 = uniform). Mean over columns and examples (Fig. 7).
    J: [B, m, n] -> float."""
    _check_batch(J, k)
    base = _log_base(J.shape[1], k)
    logP = _log_col_probs(J, k)
    S = -(logP.exp() * logP).sum(dim=-2) / base                        # [B, C(n,k)]
    return float(S.mean())


def column_divergence(J_trained: torch.Tensor, J_init: torch.Tensor, k: int) -> float:
    """Column divergence (P1 IV.13): KL_i(x) = sum_j P_ji log(P_ji / Q_ji), P from the trained
    model, Q from the same seed's initial model at the same x, both the column softmax of
    (IV.11) (float64 log-softmax, A-19), log base C(m,k); mean over columns and examples.
    J_trained, J_init: [B, m, n] -> float."""
    _check_pair(J_trained, J_init, k)
    base = _log_base(J_trained.shape[1], k)
    logP = _log_col_probs(J_trained, k)
    logQ = _log_col_probs(J_init, k)
    KL = (logP.exp() * (logP - logQ)).sum(dim=-2) / base
    return float(KL.mean())


# ----------------------------------------------------------------------------- App. A
def mean_excess(values, quantile_levels) -> np.ndarray:
    """Empirical mean excess function at quantile thresholds (P1 App. A; REPRODUCTION 2.13):
    MEF(u) = mean of (X - u) over the samples X > u, evaluated at u = Q(q) (numpy "linear"
    quantile) for each q in quantile_levels. values: any array/tensor (flattened);
    -> float64 array shaped like quantile_levels (nan where no sample exceeds u)."""
    v = np.sort(_to_numpy(values))
    levels = np.asarray(quantile_levels, dtype=np.float64)
    if np.any((levels < 0) | (levels > 1)):
        raise ValueError("quantile_levels must lie in [0, 1]")
    u = np.quantile(v, levels, method="linear")
    suffix = np.concatenate([np.cumsum(v[::-1])[::-1], [0.0]])          # suffix[i] = sum v[i:]
    first = np.searchsorted(v, u, side="right")                        # first index with v > u
    count = v.size - first
    with np.errstate(invalid="ignore", divide="ignore"):
        mef = np.where(count > 0, (suffix[first] - count * u) / np.maximum(count, 1), np.nan)
    return mef


def quantile_ratio(values, hi: float = 0.99, lo: float = 0.01, *, exclude_zeros: bool = False) -> float:
    """Quantile ratio Q(hi) / Q(lo) of pooled minors (P1 App. A; REPRODUCTION 2.13, A-21).
    A-20 zero handling: by default zeros are included; if Q(lo) == 0 the ratio is inf and a
    warning reports the number of exact zeros (then also report exclude_zeros=True, which
    drops exact zeros before taking the quantiles)."""
    hi = _check_q(hi, "hi")
    lo = _check_q(lo, "lo")
    if lo >= hi:
        raise ValueError(f"need lo < hi, got lo = {lo}, hi = {hi}")
    v = _to_numpy(values)
    if exclude_zeros:
        v = v[v != 0]
        if v.size == 0:
            raise ValueError("all values are zero")
    qh, ql = np.quantile(v, [hi, lo], method="linear")
    if ql == 0:
        n0 = int((v == 0).sum())
        warnings.warn(f"quantile_ratio: Q({lo}) = 0 ({n0} of {v.size} values are exactly zero); "
                      f"returning inf, see exclude_zeros=True (A-20)", RuntimeWarning, stacklevel=2)
        return math.inf if qh > 0 else math.nan
    return float(qh / ql)


# ----------------------------------------------------------------------------- fused evaluator
def _fmt(q: float) -> str:
    return f"{q:g}"


def p1_metrics(J_trained: torch.Tensor, J_init: torch.Tensor, ks: Sequence[int] = (1, 2, 3),
               q1s: Sequence[float] = (1e-4, 1e-3, 1e-2),
               rotations: Optional[torch.Tensor] = None, consistent_fraction: float = 0.99,
               backend: str = "auto", num_threads: Optional[int] = None,
               torch_num_threads: Optional[int] = 1) -> dict:
    """Every P1 metric of one model state, sharing minor matrices and one rotated-kernel pass.

    J_trained, J_init: [B, m, n] (same examples x). Holds the full minor matrices of both
    models for each k (B * C(m,k) * C(n,k) values; 5 M for m = 32, B = 1000: fine for P1).
    Returns a flat dict of Python floats/ints (JSON-ready), for each k in ks:
      pr_k{k}, pr_init_k{k}, pr_norm_k{k} (= pr / pr_init, Fig. 5), pr_max_k{k},
      pr_excluded_k{k}, pr_init_excluded_k{k}                                   (IV.5)
      entropy_k{k}, entropy_init_k{k}, divergence_k{k}            (IV.12, IV.13; C(m,k) >= 2)
      quantile_ratio_k{k}, quantile_ratio_init_k{k} (Q.99/Q.01 of pooled minors, inf if
      Q.01 = 0), quantile_ratio_nonzero_k{k}, n_zero_minors_k{k}           (App. A, A-20)
      rr_k{k}, rr_init_k{k}, rr_norm_k{k} (only when rotations are given)  (IV.7, Fig. 6)
    and for each q1 in q1s (key suffix _q{q1:g}):
      fpr_k{k}_q.. = q^(k) (IV.4); threshold_k{k}_q.. = Q^(k);
      zero_frac_k{k}_q.., zero_frac_init_k{k}_q..  (fractions of B * C(m,k); IV.3, Table II)
      n_consistent_k{k}_q.. (rows zero in >= consistent_fraction of examples, 2.6),
      consistent_share_k{k}_q.. (share of zero (x, row) pairs in those rows; nan if none),
      not_consistent_frac_k{k}_q.. (A-14)
      dep_frac_k{k}_q.. (k = 2, 3; fraction of all rows, A-13), dep_of_zero_k{k}_q..
      (dependent / zero rows; nan if no zero rows).
    Threads: the torch operations run with `torch_num_threads` intra-op threads (default 1:
    on the 2-core machines two threads were 2-10x SLOWER for these medium tensors, worst
    when another process competes; None keeps the caller's setting); the numba kernels use
    `num_threads` (default: all cores).
    """
    if torch_num_threads is None:
        return _p1_metrics(J_trained, J_init, ks, q1s, rotations, consistent_fraction,
                           backend, num_threads)
    with torch_threads(torch_num_threads):
        return _p1_metrics(J_trained, J_init, ks, q1s, rotations, consistent_fraction,
                           backend, num_threads)


def _p1_metrics(J_trained, J_init, ks, q1s, rotations, consistent_fraction, backend,
                num_threads) -> dict:
    ks = tuple(sorted(set(int(k) for k in ks)))
    _check_pair(J_trained, J_init, None)
    B, m, n = J_trained.shape
    for k in ks:
        _check_k(k, m, n)
    q1s = [_check_q(q) for q in q1s]
    if rotations is not None:
        _check_rotations(rotations, m)
    out: dict = {}
    masks: dict = {}                                   # (k, q1) -> trained zero mask

    def zero_masks(k, rm_t, rm_i):
        qks = [false_positive_rate(q1, m, k) for q1 in q1s]
        thrs = np.quantile(rm_i.reshape(-1), qks, method="linear")
        for q1, qk, thr in zip(q1s, qks, thrs.tolist()):
            mt = rm_t < thr
            mi = rm_i < thr
            masks[(k, q1)] = mt
            s = f"_k{k}_q{_fmt(q1)}"
            out["fpr" + s] = qk
            out["threshold" + s] = thr
            out["zero_frac" + s] = _frac(mt)
            out["zero_frac_init" + s] = _frac(mi)
            cons = _consistent(mt, consistent_fraction)                # [C(m,k)]
            n_zero = np.count_nonzero(mt)
            n_in = np.count_nonzero(mt[:, cons])
            out["n_consistent" + s] = int(np.count_nonzero(cons))
            out["consistent_share" + s] = n_in / n_zero if n_zero else math.nan
            out["not_consistent_frac" + s] = (n_zero - n_in) / mt.size

    for k in ks:
        Mt = minor_matrix(J_trained, k)                                # [B, C(m,k), C(n,k)]
        Mi = minor_matrix(J_init, k)
        zero_masks(k, _np(Mt.mean(-1)), _np(Mi.mean(-1)))
        for tag, M in (("", Mt), ("_init", Mi)):
            flat = M.reshape(B, -1)
            pr, bad = _pr_from_norms(flat.sum(-1), (flat * flat).sum(-1), f"participation_ratio{tag}")
            out[f"pr{tag}_k{k}"] = pr
            out[f"pr{tag}_excluded_k{k}"] = bad
            vals = flat.detach().reshape(-1).cpu().numpy()
            qh, ql = np.quantile(vals, [0.99, 0.01], method="linear")
            out[f"quantile_ratio{tag}_k{k}"] = float(qh / ql) if ql > 0 else (math.inf if qh > 0 else math.nan)
            if tag == "":
                nz = vals[vals != 0]
                out[f"n_zero_minors_k{k}"] = int(vals.size - nz.size)
                if nz.size:
                    qh, ql = np.quantile(nz, [0.99, 0.01], method="linear")
                    out[f"quantile_ratio_nonzero_k{k}"] = float(qh / ql)
                else:
                    out[f"quantile_ratio_nonzero_k{k}"] = math.nan
        out[f"pr_norm_k{k}"] = out[f"pr_k{k}"] / out[f"pr_init_k{k}"]
        out[f"pr_max_k{k}"] = participation_ratio_max(m, n, k)
        if math.comb(m, k) >= 2:
            base = math.log(math.comb(m, k))
            lP = torch.log_softmax(Mt.to(torch.float64), dim=-2)
            lQ = torch.log_softmax(Mi.to(torch.float64), dim=-2)
            P, Q = lP.exp(), lQ.exp()
            out[f"entropy_k{k}"] = float((-(P * lP).sum(-2) / base).mean())
            out[f"entropy_init_k{k}"] = float((-(Q * lQ).sum(-2) / base).mean())
            out[f"divergence_k{k}"] = float(((P * (lP - lQ)).sum(-2) / base).mean())
        del Mt, Mi

    for k in ks:
        if k not in (2, 3):
            continue
        for q1 in q1s:
            if (k - 1, q1) not in masks:               # size k-1 not requested: compute it
                rm_t = _np(_row_means(J_trained, k - 1))
                rm_i = _np(_row_means(J_init, k - 1))
                masks[(k - 1, q1)] = _zero_mask(rm_t, rm_i, q1, m, k - 1)[0]
            dep = _dependent_mask(masks[(k, q1)], masks[(k - 1, q1)], m, k)
            s = f"_k{k}_q{_fmt(q1)}"
            n_zero = np.count_nonzero(masks[(k, q1)])
            out["dep_frac" + s] = _frac(dep)
            out["dep_of_zero" + s] = np.count_nonzero(dep) / n_zero if n_zero else math.nan

    if rotations is not None:
        rt = random_rotation_ratios(J_trained, ks, rotations, backend, num_threads)
        ri = random_rotation_ratios(J_init, ks, rotations, backend, num_threads)
        for k in ks:
            out[f"rr_k{k}"] = rt[k]
            out[f"rr_init_k{k}"] = ri[k]
            out[f"rr_norm_k{k}"] = rt[k] / ri[k]
    return out
