"""Slow, obviously faithful reference implementations of the P1/P2 metric definitions.

Plain Python loops over itertools.combinations, numpy.linalg.det, float64; written from
the equations in REPRODUCTION.md sec. 2 (P1 IV.1-IV.13, App. A; P2 sec. 2.15), sharing no
code with kag_utils. Used only by the tests.
"""
from __future__ import annotations

import itertools
import math

import numpy as np


def np64(J):
    """torch tensor or array -> float64 numpy array."""
    try:
        J = J.detach().cpu().numpy()
    except AttributeError:
        pass
    return np.asarray(J, dtype=np.float64)


def minor_matrix(J, k):
    """J: [m, n] -> [C(m,k), C(n,k)] of |det J[I, I']| (IV.1)."""
    J = np64(J)
    m, n = J.shape
    rows = list(itertools.combinations(range(m), k))
    cols = list(itertools.combinations(range(n), k))
    out = np.zeros((len(rows), len(cols)))
    for a, I in enumerate(rows):
        for b, Ip in enumerate(cols):
            out[a, b] = abs(np.linalg.det(J[np.ix_(I, Ip)]))
    return out


def minor_matrices(Jb, k):
    return np.stack([minor_matrix(J, k) for J in np64(Jb)])


def linear_quantile(values, q):
    """numpy's default 'linear' quantile, by hand: h = (N - 1) q, interpolate."""
    v = sorted(np.asarray(values, dtype=np.float64).ravel().tolist())
    h = (len(v) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (h - lo) * (v[hi] - v[lo])


def false_positive_rate(q1, m, k):
    """(IV.4) with x! = Gamma(x + 1)."""
    x = m * (1 - q1)
    cx = math.gamma(x + 1) / (math.gamma(k + 1) * math.gamma(x - k + 1))
    return 1 - cx / math.comb(m, k)


def row_means(Jb, k):
    return minor_matrices(Jb, k).mean(axis=2)                 # (IV.2): [B, C(m,k)]


def zero_mask(Jt, Ji, k, q1):
    m = np64(Jt).shape[1]
    thr = linear_quantile(row_means(Ji, k), false_positive_rate(q1, m, k))
    return row_means(Jt, k) < thr                              # (IV.3)


def dependent_fraction(Jt, Ji, k, q1):
    """Zero at size k while no (k-1)-sub-tuple is zero at size k-1; over all rows (2.7)."""
    m = np64(Jt).shape[1]
    zk = zero_mask(Jt, Ji, k, q1)
    zk1 = zero_mask(Jt, Ji, k - 1, q1)
    rows_k = list(itertools.combinations(range(m), k))
    index_k1 = {t: i for i, t in enumerate(itertools.combinations(range(m), k - 1))}
    count = 0
    for x in range(zk.shape[0]):
        for r, I in enumerate(rows_k):
            if zk[x, r] and not any(zk1[x, index_k1[s]] for s in itertools.combinations(I, k - 1)):
                count += 1
    return count / zk.size


def consistently_zero(Jt, Ji, k, q1, fraction=0.99):
    mask = zero_mask(Jt, Ji, k, q1)
    B = mask.shape[0]
    return [r for r in range(mask.shape[1]) if mask[:, r].sum() >= fraction * B]


def participation_ratio(Jb, k):
    vals = []
    for J in np64(Jb):
        M = minor_matrix(J, k).ravel()
        vals.append(np.sum(np.abs(M)) / math.sqrt(np.sum(M ** 2)))
    return float(np.mean(vals))


def rotation_ratio(Jb, k, R):
    """(IV.6)-(IV.7): mean_x M(x) / mean_p max minor of R_p J(x)."""
    R = np64(R)
    ratios = []
    for J in np64(Jb):
        M = minor_matrix(J, k).max()
        mbar = np.mean([minor_matrix(Rp @ J, k).max() for Rp in R])
        ratios.append(M / mbar)
    return float(np.mean(ratios))


def rotated_max(Jb, k, R):
    """[B, N_rot] of max k-minor of R_p J(x)."""
    R = np64(R)
    return np.array([[minor_matrix(Rp @ J, k).max() for Rp in R] for J in np64(Jb)])


def _column_probs(M):
    """Softmax over rows of each column (IV.11), by the definition (values are small)."""
    E = np.exp(M)
    return E / E.sum(axis=0, keepdims=True)


def column_entropy(Jb, k):
    vals = []
    for J in np64(Jb):
        P = _column_probs(minor_matrix(J, k))
        base = math.log(P.shape[0])
        for i in range(P.shape[1]):
            vals.append(-sum(p * math.log(p) for p in P[:, i]) / base)
    return float(np.mean(vals))


def column_divergence(Jt, Ji, k):
    vals = []
    for A, B in zip(np64(Jt), np64(Ji)):
        P = _column_probs(minor_matrix(A, k))
        Q = _column_probs(minor_matrix(B, k))
        base = math.log(P.shape[0])
        for i in range(P.shape[1]):
            vals.append(sum(p * math.log(p / q) for p, q in zip(P[:, i], Q[:, i])) / base)
    return float(np.mean(vals))


def mean_excess(values, q):
    u = linear_quantile(values, q)
    exc = [x - u for x in np.ravel(values) if x > u]
    return sum(exc) / len(exc) if exc else float("nan")


def sampled_grid(J, rows, cols):
    """|det J[I, I']| for I in rows, I' in cols: [R, C]."""
    J = np64(J)
    return np.array([[abs(np.linalg.det(J[np.ix_(I, Ip)])) for Ip in cols] for I in rows])


def histogram_kl(a, b, bins=100, eps=1e-10):
    """P2 KL (2.15, M-09): log10 bins over the union of non-zero ranges + a zero bin."""
    a = np.abs(np.ravel(a)).astype(np.float64)
    b = np.abs(np.ravel(b)).astype(np.float64)
    nz = np.concatenate([a[a > 0], b[b > 0]])
    lo, hi = math.log10(nz.min()), math.log10(nz.max())
    width = (hi - lo) / bins

    def hist(v):
        h = [0] * (bins + 1)
        for x in v:
            if x == 0:
                h[0] += 1
            else:
                i = int((math.log10(x) - lo) / width)
                h[1 + min(max(i, 0), bins - 1)] += 1
        p = np.array(h, dtype=np.float64) / len(v) + eps
        return p / p.sum()

    P, Q = hist(a), hist(b)
    return float(sum(p * math.log(p / q) for p, q in zip(P, Q)))
