"""P2 (MNIST) metric variants on sampled minors (REPRODUCTION 2.15; M-07 .. M-11).

The minors are |det| over the grid (sampled row k-tuples) x (sampled column k-tuples)
(M-11), the SAME samples for the trained and the initial model and for every example
(`minors.sample_combinations`, seed 42). With m = 512, n = 784 and 10,000 x 10,000 samples a
grid is 1e8 minors per example, so everything here streams over blocks
(`minors.sampled_minor_stats`) and never materialises a whole grid.

* `participation_ratio_sampled`: P1's L1/L2 ratio per example, averaged (M-07).
* `inverse_participation_ratio_sampled`: N * sum mu^4 / (sum mu^2)^2 per example, averaged
  (sensitivity variant; higher = more concentrated).
* `pr_ratio(pr_init, pr_trained)` = rho_init / rho_trained: > 1 means the trained model is
  more concentrated (matches P2's direction; M-08).
* `minor_kl_divergence(mu_trained, mu_init)`: KL(P_trained || P_init) of histograms with 100
  log10 bins over the union of the non-zero ranges, a separate bin for exact zeros, eps =
  1e-10 added to every bin probability and renormalised, natural log (M-09);
  `minor_kl_divergence_sampled` does the same by streaming from Jacobians (two passes).
* `sampled_rotation_ratio`: P1's (IV.6)-(IV.7) with hidden-side Haar rotations, the max taken
  over the same sampled combinations (M-10).
* `sampled_metrics`: PR, IPR, their ratios and the KL from two streamed passes per model.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from .minors import (check_sampled, sampled_minor_histogram, sampled_minor_max,
                     sampled_minor_stats)

__all__ = [
    "participation_ratio_sampled", "inverse_participation_ratio_sampled", "pr_ratio",
    "minor_kl_divergence", "minor_kl_divergence_sampled", "sampled_rotation_ratio",
    "sampled_metrics", "kl_from_histograms",
]


def _pr_values(stats: dict) -> torch.Tensor:
    s1, s2 = stats["sum_p1"], stats["sum_p2"]
    return torch.where(s2 > 0, s1 / s2.clamp_min(1e-300).sqrt(), torch.full_like(s1, math.nan))


def _ipr_values(stats: dict) -> torch.Tensor:
    s2, s4 = stats["sum_p2"], stats["sum_p4"]
    N = stats["count"]
    return torch.where(s2 > 0, N * s4 / (s2 * s2).clamp_min(1e-300), torch.full_like(s2, math.nan))


def _mean_valid(v: torch.Tensor, what: str) -> float:
    ok = ~torch.isnan(v)
    n_bad = int((~ok).sum())
    if n_bad:
        warnings.warn(f"{what}: {n_bad} of {v.numel()} examples have all sampled minors zero "
                      f"and are excluded", RuntimeWarning, stacklevel=3)
    return float(v[ok].mean()) if n_bad < v.numel() else math.nan


def participation_ratio_sampled(J: torch.Tensor, row_idx: torch.Tensor, col_idx: torch.Tensor,
                                chunk: int = 500, reduce: bool = True):
    """P1's participation ratio (IV.5) on the sampled minor grid (REPRODUCTION 2.15, M-07):
    rho(x) = ||mu(x)||_1 / ||mu(x)||_2 over the R x C sampled minors of example x.
    J: [B, m, n]; row_idx: [R, k]; col_idx: [C, k]. Returns the mean over examples (float;
    all-zero examples excluded with a warning), or with reduce=False the float64 [B] values
    (nan for all-zero examples), e.g. per image for the spatial analyses."""
    st = sampled_minor_stats(J, row_idx, col_idx, powers=(1, 2), chunk=chunk)
    v = _pr_values(st)
    return _mean_valid(v, "participation_ratio_sampled") if reduce else v


def inverse_participation_ratio_sampled(J: torch.Tensor, row_idx: torch.Tensor,
                                        col_idx: torch.Tensor, chunk: int = 500,
                                        reduce: bool = True):
    """IPR variant (REPRODUCTION 2.15, sensitivity check): N * sum mu^4 / (sum mu^2)^2 per
    example over the N = R * C sampled minors; 1 for equal minors, N for a single non-zero
    one (higher = more concentrated). Mean over examples, or [B] values with reduce=False."""
    st = sampled_minor_stats(J, row_idx, col_idx, powers=(2, 4), chunk=chunk)
    v = _ipr_values(st)
    return _mean_valid(v, "inverse_participation_ratio_sampled") if reduce else v


def pr_ratio(pr_init, pr_trained):
    """P2's "PR ratio" (M-08) = rho_init / rho_trained. > 1 means the trained model's minors
    are more concentrated (the reciprocal of P1's normalised PR). Works on floats or on
    per-example tensors."""
    return pr_init / pr_trained


def _edges(lo_nz: float, hi: float, bins: int) -> np.ndarray:
    a, b = math.log10(lo_nz), math.log10(hi)
    if b <= a:                                   # a single non-zero value: widen the range
        a, b = a - 0.5, b + 0.5
    return np.linspace(a, b, bins + 1)


def kl_from_histograms(h_trained, h_init, eps: float = 1e-10) -> float:
    """KL(P || Q) = sum P log(P / Q) (natural log) of two count histograms over the same
    bins: each normalised to probabilities, eps added to every bin, renormalised (M-09)."""
    p = np.asarray(h_trained, dtype=np.float64)
    q = np.asarray(h_init, dtype=np.float64)
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("histograms must have the same shape and non-zero totals")
    p = p / p.sum() + eps
    q = q / q.sum() + eps
    p /= p.sum()
    q /= q.sum()
    return float(np.sum(p * np.log(p / q)))


def minor_kl_divergence(mu_trained, mu_init, bins: int = 100, eps: float = 1e-10) -> float:
    """KL(P_trained || P_init) of minor-magnitude histograms (P2 eq. 4; REPRODUCTION 2.15,
    M-09): pooled |minors| (any shape, flattened), `bins` bins uniform in log10 |mu| over the
    union of the non-zero ranges of both sets, exact zeros in a separate bin, eps added to
    every bin probability and renormalised, natural log. -> float (nats)."""
    a = np.abs(np.asarray(mu_trained.detach().cpu() if isinstance(mu_trained, torch.Tensor)
                          else mu_trained, dtype=np.float64).ravel())
    b = np.abs(np.asarray(mu_init.detach().cpu() if isinstance(mu_init, torch.Tensor)
                          else mu_init, dtype=np.float64).ravel())
    if a.size == 0 or b.size == 0:
        raise ValueError("both minor sets must be non-empty")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("minors contain NaN/inf")
    nz = np.concatenate([a[a > 0], b[b > 0]])
    if nz.size == 0:
        return 0.0                                # both entirely zero: identical histograms
    edges = _edges(nz.min(), nz.max(), bins)

    def hist(v):
        z = int((v == 0).sum())
        lv = np.log10(v[v > 0])
        idx = np.clip(np.searchsorted(edges[1:-1], lv, side="right"), 0, bins - 1)
        return np.concatenate([[z], np.bincount(idx, minlength=bins)])

    return kl_from_histograms(hist(a), hist(b), eps)


def minor_kl_divergence_sampled(J_trained: torch.Tensor, J_init: torch.Tensor,
                                row_idx: torch.Tensor, col_idx: torch.Tensor, bins: int = 100,
                                eps: float = 1e-10, chunk: int = 500) -> float:
    """`minor_kl_divergence` of the sampled minor grids of all examples of two models,
    streamed: a first pass finds the non-zero ranges, a second bins. Same result as
    materialising the grids (up to values on bin edges). J_*: [B, m, n] -> float."""
    return sampled_metrics(J_trained, J_init, row_idx, col_idx, bins=bins, eps=eps,
                           chunk=chunk)["kl"]


def sampled_metrics(J_trained: torch.Tensor, J_init: torch.Tensor, row_idx: torch.Tensor,
                    col_idx: torch.Tensor, bins: int = 100, eps: float = 1e-10,
                    chunk: int = 500) -> dict:
    """P2 Fig. 1 quantities of one (layer, k, model) from two streamed passes per model:
    pr_trained, pr_init, pr_ratio (= init / trained), ipr_trained, ipr_init, ipr_ratio
    (= trained / init, > 1 = more concentrated), kl (M-09), n_zero_trained, n_zero_init,
    n_minors (per model, pooled over examples). J_*: [B, m, n] (same examples)."""
    if J_trained.shape != J_init.shape:
        raise ValueError(f"J_trained {tuple(J_trained.shape)} and J_init {tuple(J_init.shape)} "
                         f"must have the same shape")
    st_t = sampled_minor_stats(J_trained, row_idx, col_idx, powers=(1, 2, 4), chunk=chunk)
    st_i = sampled_minor_stats(J_init, row_idx, col_idx, powers=(1, 2, 4), chunk=chunk)
    out = {}
    out["pr_trained"] = _mean_valid(_pr_values(st_t), "pr_trained")
    out["pr_init"] = _mean_valid(_pr_values(st_i), "pr_init")
    out["pr_ratio"] = pr_ratio(out["pr_init"], out["pr_trained"])
    out["ipr_trained"] = _mean_valid(_ipr_values(st_t), "ipr_trained")
    out["ipr_init"] = _mean_valid(_ipr_values(st_i), "ipr_init")
    out["ipr_ratio"] = out["ipr_trained"] / out["ipr_init"]
    nzt, nzi = int(st_t["n_zero"].sum()), int(st_i["n_zero"].sum())
    N = st_t["count"] * J_trained.reshape(-1, *J_trained.shape[-2:]).shape[0]
    out.update(n_zero_trained=nzt, n_zero_init=nzi, n_minors=N)
    lo = min(float(st_t["min_nonzero"].min()), float(st_i["min_nonzero"].min()))
    hi = max(float(st_t["max"].max()), float(st_i["max"].max()))
    if not math.isfinite(lo):                    # no non-zero minor anywhere
        out["kl"] = 0.0
        return out
    edges = torch.from_numpy(_edges(lo, hi, bins))
    h_t, _ = sampled_minor_histogram(J_trained, row_idx, col_idx, edges, chunk=chunk)
    h_i, _ = sampled_minor_histogram(J_init, row_idx, col_idx, edges, chunk=chunk)
    ht = np.concatenate([[nzt], h_t.reshape(-1, bins).sum(0).cpu().numpy()])
    hi_ = np.concatenate([[nzi], h_i.reshape(-1, bins).sum(0).cpu().numpy()])
    out["kl"] = kl_from_histograms(ht, hi_, eps)
    return out


def sampled_rotation_ratio(J: torch.Tensor, k: int, row_idx: torch.Tensor,
                           col_idx: torch.Tensor, rotations: torch.Tensor, chunk: int = 500,
                           max_elements: int = 2 ** 24, reduce: bool = True):
    """Rotation ratio on sampled minors (P2 eq. 5; REPRODUCTION 2.15, M-10): as P1 (IV.6)-
    (IV.7) with hidden-side rotations J -> R_p J (R_p Haar in SO(m)), every max taken over
    the sampled grid row_idx x col_idx only. J: [B, m, n]; row_idx, col_idx: [R, k], [C, k];
    rotations: [N_rot, m, m]. Only the rows of R_p J named by row_idx and the columns named
    by col_idx are formed, in slices of examples x rotations holding at most `max_elements`
    values. Returns the mean over examples of M(x) / mean_p m_p(x) (float), or the float64
    per-example ratios [B] with reduce=False (nan where all sampled minors vanish)."""
    row_idx, col_idx = check_sampled(J, row_idx, col_idx)
    if J.ndim != 3:
        raise ValueError(f"J must be [B, m, n]; got {tuple(J.shape)}")
    if row_idx.shape[1] != k:
        raise ValueError(f"row_idx holds {row_idx.shape[1]}-tuples but k = {k}")
    B, m, n = J.shape
    if rotations.ndim != 3 or rotations.shape[1:] != (m, m) or rotations.shape[0] == 0:
        raise ValueError(f"rotations must be [N_rot >= 1, m, m] with m = {m}")
    dev = J.device
    U = row_idx.unique()                                               # sorted rows used
    V = col_idx.unique()
    r_loc = torch.searchsorted(U, row_idx)                             # [R, k] into U
    c_loc = torch.searchsorted(V, col_idx)
    Jv = J[:, :, V.to(dev)]                                            # [B, m, |V|]
    R_u = rotations.to(dtype=J.dtype, device=dev)[:, U.to(dev), :]     # [P, |U|, m]

    def grid_max(Q):                                                   # Q: [..., |U|, |V|]
        # streamed max over the grid (numba kernel on CPU, torch blocks elsewhere)
        return sampled_minor_max(Q, r_loc, c_loc, chunk=chunk)

    M = grid_max(Jv[:, U.to(dev), :])                                  # [B]
    P = rotations.shape[0]
    per = U.numel() * V.numel()
    b_chunk = max(1, min(B, max_elements // per))
    p_chunk = max(1, min(P, max_elements // (per * b_chunk)))
    msum = J.new_zeros(B, dtype=torch.float64)
    for b0 in range(0, B, b_chunk):
        Jb = Jv[b0:b0 + b_chunk]                                       # [b, m, |V|]
        for p0 in range(0, P, p_chunk):
            Q = torch.matmul(R_u[p0:p0 + p_chunk].unsqueeze(1), Jb.unsqueeze(0))  # [p, b, |U|, |V|]
            msum[b0:b0 + Jb.shape[0]] += grid_max(Q).to(torch.float64).sum(0)
    mbar = msum / P
    ratio = torch.where(mbar > 0, M.to(torch.float64) / mbar.clamp_min(1e-300),
                        torch.full_like(mbar, math.nan))
    return _mean_valid(ratio, "sampled_rotation_ratio") if reduce else ratio
