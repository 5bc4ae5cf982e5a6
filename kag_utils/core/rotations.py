"""Haar rotations and the rotated max-minor workload of the random rotation ratio.

P1 (IV.6)-(IV.7), REPRODUCTION 2.9: for every example x and rotation R_p in SO(m), the
largest |k x k minor| of the rotated Jacobian J_p(x) = R_p . J(x). This is THE hot workload
(PERFORMANCE-NOTES.md): m = 32, n = 3, B = 1000, N_rot = 400 is 2e9 3x3 determinants.

`rotated_max_minors(J, rotations, ks)` computes every requested k (<= 3) in one pass per
(x, p), with three interchangeable backends that agree to rounding (tests/test_rotations.py):

Two readings of "the largest minor" (issue 12 item 5): "abs", the literal |minor| (the
default; REPRODUCTION 2.2), and "signed", the largest signed minor with rows and columns in
increasing (itertools.combinations) order. `rotated_max_minors_readings` returns both from
the same pass: the kernels carry each row's original index through the norm sort and take the
sign of the sorting permutation, and they prune on the signed running max (never above the
|.| one), so both maxima stay exact; asking for both costs about 20-30 % more than "abs" alone.

* "numba" (CPU default): a compiled loop kernel, parallel over (example, rotation) pairs,
  holding only a few length-m scratch vectors per thread, no large intermediates. It forms
  the rows q_i of R_p J(x) and takes k = 1 from |q_i|. For each row pair (b, c) the 2x2
  minors are, for n = 3, exactly the components of the cross product q_b x q_c (up to
  sign), and the 3x3 minors are det(q_a, q_b, q_c) = q_a . (q_b x q_c), so the 4,960 triples
  cost one 3-term dot each. Exact branch-and-bound pruning (n = 3 kernel): rows are sorted by
  decreasing norm and visited as b < c < a; a pair is skipped for k = 2 when
  |q_b||q_c| <= the running max (and a whole b when sum_{c>b} |q_b x q_c|^2 is), and for
  k = 3 when u^T S_c u <= max^2, where u = q_b x q_c and S_c = sum_{a>c} q_a q_a^T, because
  sum_{a>c} det(q_a, q_b, q_c)^2 = u^T S_c u (a Cauchy-Binet identity, tight when one a
  dominates, and effective on nearly rank-deficient Jacobians where |q_a||u| is not);
  sorted norms also end the b and c loops early. Bounds carry a few-ulp slack, so the
  maxima equal the unpruned ones up to rounding. Any other n uses a general kernel (2x2
  minors per column pair, 3x3 by cofactor expansion, Hadamard bound |q_a| * |q_b ^ q_c|).
  float32 input is computed in float64 and returned as float32.
* "torch" (CUDA tensors, k > 3, or numba missing): the same sharing in tensor form: 2x2
  minors of all row pairs, then all 3x3 minors as one batched matmul Q @ (q_b x q_c)
  (cofactor form for n != 3); k > 3 by gathered submatrices + torch.linalg.det. Chunked over
  (example, rotation) pairs so working tensors hold about `max_elements` values.
* "reference": the readable definition, loop over rotations and `minor_matrix(...).amax`.

Threads (deliberate): the numba kernel uses `num_threads` numba threads (default: numba's
setting, i.e. all cores; it is compute-bound with no large intermediates and parallel over
(example, rotation) pairs, so it scales with idle cores). The torch backend on CPU runs with
`num_threads` torch intra-op threads, default ONE: its per-chunk tensors are small and two
threads were up to 10x slower on the 2-core machine (PERFORMANCE-NOTES.md reports the same
for the naive method). On CUDA the thread settings do not matter.
"""
from __future__ import annotations

import contextlib
import functools
import math
from typing import Iterable, Optional

import numpy as np
import torch

from .threads import torch_threads, use_workqueue_layer
from .minors import (DEFAULT_BLOCK_ELEMENTS, check_k, minors_block, check_jacobian,
                     combinations_index, minor_matrix)

__all__ = ["haar_rotations", "rotated_max_minors", "rotated_max_minors_readings",
           "numba_available", "warm_up_kernels", "READINGS"]

use_workqueue_layer()             # before numba's first parallel launch (see core.threads)
try:  # numba is a pinned dependency, but keep a pure-torch fallback
    import numba
    from numba import njit, prange
    _NUMBA = True
except Exception:  # pragma: no cover - exercised only where numba is missing
    _NUMBA = False


def numba_available() -> bool:
    """True when the compiled CPU kernel can be used."""
    return _NUMBA


# ----------------------------------------------------------------------------- Haar sampler
@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - installed with the pinned mlxtend
        return None
    return ThreadpoolController()       # scans the loaded libraries once (about 0.1 s)


def _one_blas_thread():
    """numpy's BLAS (OpenBLAS) limited to one thread for the block: its threaded LU (the det
    sign below) spun for minutes when the other core was busy (8 dets of 512 x 512 took over
    300 s with 2 threads under load, 0.07 s with one). The sign of a +-1 det does not depend
    on the thread count. threadpoolctl comes with scikit-learn (mlxtend's dependency); without
    it the block runs unchanged."""
    controller = _blas_controller()
    if controller is None:  # pragma: no cover
        return contextlib.nullcontext()
    return controller.limit(limits=1, user_api="blas")


def haar_rotations(m: int, count: int, generator: torch.Generator, dtype=torch.float64,
                   device=None) -> torch.Tensor:
    """`count` independent Haar-uniform rotations in SO(m): [count, m, m] (P1 IV.6; A-17).

    Method (Mezzadri 2007): G with iid N(0, 1) entries, G = QR; Q <- Q diag(sign R_ii) is Haar
    on O(m). Rotations with det Q = -1 get the sign of their first column flipped: right
    multiplication by the fixed reflection diag(-1, 1, ..., 1) maps the det = -1 coset onto
    SO(m) and preserves Haar measure, so the result is Haar on SO(m). The Gaussians are drawn
    in float64 from `generator` (on the generator's device; reproducible for a fixed seed),
    then the result is cast to `dtype` and moved to `device`.
    Deviation from REPRODUCTION A-17's PROPOSAL (scipy special_ortho_group): same measure,
    seeded by a torch.Generator as the brief requires.
    """
    if m < 1 or count < 0:
        raise ValueError(f"need m >= 1 and count >= 0, got m = {m}, count = {count}")
    if not isinstance(generator, torch.Generator):
        raise ValueError("generator must be a torch.Generator")
    G = torch.randn(count, m, m, generator=generator, dtype=torch.float64, device=generator.device)
    Q, R = torch.linalg.qr(G)                                          # [count, m, m] each
    s = torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))                # [count, m]
    s = torch.where(s == 0, torch.ones_like(s), s)
    Q = Q * s.unsqueeze(-2)                                            # scale column j by s_j
    # det sign on CPU via numpy's LAPACK: torch 2.14's MKL batched det returns wrong values
    # (with "DLASWP parameter 6" errors) for m >= 256 once torch.set_num_threads has been
    # changed in the process, as torch_threads() does (tests/test_rotations.py)
    if Q.device.type == "cpu":
        with _one_blas_thread():
            neg = torch.from_numpy(np.linalg.det(Q.numpy()) < 0)      # [count]
    else:
        neg = torch.linalg.det(Q) < 0
    Q[neg, :, 0] = -Q[neg, :, 0]
    return Q.to(dtype=dtype, device=device if device is not None else Q.device)


# ----------------------------------------------------------------------------- numba kernels
# start value of a signed running max: finite, because fastmath kernels may assume no infs
_LOWEST = -1.7976931348623157e308
READINGS = ("abs", "signed")

if _NUMBA:
    @njit(parallel=True, fastmath=True, cache=True)
    def _kernel_n3(J, Rt, do1, do2, do3, doA, doS, out1, out2, out3, sout1, sout2, sout3,
                   nchunks):  # pragma: no cover (jit)
        # J: [B, m, 3] float64; Rt: [P, m, m] with Rt[p, j, i] = R_p[i, j]; out*: [B, P]
        # largest |minor| (when doA), sout*: [B, P] largest signed minor (when doS), rows and
        # columns in increasing (combinations) order. Both from one pass: the pruning
        # threshold is the signed running max when doS (it never exceeds the |.| one).
        # Work item t = (b, p); each thread owns a few length-m scratch vectors.
        B, m, _ = J.shape
        P = Rt.shape[0]
        T = B * P
        eps = 4.0 * 2.220446049250313e-16          # slack for rounding in the bounds
        for ch in prange(nchunks):
            x0 = np.empty(m)
            y0 = np.empty(m)
            z0 = np.empty(m)
            n0 = np.empty(m)
            x = np.empty(m)
            y = np.empty(m)
            z = np.empty(m)
            nrm = np.empty(m + 1)
            sxx = np.empty(m)
            sxy = np.empty(m)
            sxz = np.empty(m)
            syy = np.empty(m)
            syz = np.empty(m)
            szz = np.empty(m)
            order = np.empty(m, np.int64)
            t0 = ch * T // nchunks
            t1 = (ch + 1) * T // nchunks
            for t in range(t0, t1):
                b = t // P
                p = t - b * P
                # rows q_i of Q = R_p J(x_b), as three coordinate vectors (vectorised over i)
                for i in range(m):
                    x0[i] = 0.0
                    y0[i] = 0.0
                    z0[i] = 0.0
                for j in range(m):
                    jx = J[b, j, 0]
                    jy = J[b, j, 1]
                    jz = J[b, j, 2]
                    for i in range(m):
                        r = Rt[p, j, i]
                        x0[i] += r * jx
                        y0[i] += r * jy
                        z0[i] += r * jz
                m1 = 0.0
                s1 = _LOWEST
                for i in range(m):
                    m1 = max(m1, max(abs(x0[i]), max(abs(y0[i]), abs(z0[i]))))
                    s1 = max(s1, max(x0[i], max(y0[i], z0[i])))
                    n0[i] = x0[i] * x0[i] + y0[i] * y0[i] + z0[i] * z0[i]
                m2 = 0.0
                m3 = 0.0
                s2 = _LOWEST
                s3 = _LOWEST
                if do2 or do3:
                    # rows in order of decreasing |q_i|^2 (insertion sort; max is order-free)
                    for i in range(m):
                        v = n0[i]
                        q = i
                        while q > 0 and n0[order[q - 1]] < v:
                            order[q] = order[q - 1]
                            q -= 1
                        order[q] = i
                    for i in range(m):
                        o = order[i]
                        x[i] = x0[o]
                        y[i] = y0[o]
                        z[i] = z0[o]
                        nrm[i] = n0[o]
                    nrm[m] = 0.0
                    # suffix Gram matrices S_c = sum_{a > c} q_a q_a^T (6 entries each)
                    axx = 0.0
                    axy = 0.0
                    axz = 0.0
                    ayy = 0.0
                    ayz = 0.0
                    azz = 0.0
                    for c in range(m - 1, -1, -1):
                        sxx[c] = axx
                        sxy[c] = axy
                        sxz[c] = axz
                        syy[c] = ayy
                        syz[c] = ayz
                        szz[c] = azz
                        axx += x[c] * x[c]
                        axy += x[c] * y[c]
                        axz += x[c] * z[c]
                        ayy += y[c] * y[c]
                        ayz += y[c] * z[c]
                        azz += z[c] * z[c]
                    # pruning thresholds on squared values; -1 (never prune) while the
                    # signed running max is still negative
                    m2s = -1.0 if doS else 0.0
                    m3s = -1.0 if doS else 0.0
                    for bb in range(m - 1):
                        nb_ = nrm[bb]
                        # norm bounds; sorted norms make them non-increasing in bb and c
                        alive2 = do2 and nb_ * nrm[bb + 1] > m2s
                        alive3 = do3 and nb_ * nrm[bb + 1] * nrm[bb + 2] > m3s
                        if not (alive2 or alive3):
                            break
                        xb = x[bb]
                        yb = y[bb]
                        zb = z[bb]
                        ob = order[bb]
                        need2 = False
                        if alive2:
                            # sum_{c > b} |q_b x q_c|^2 = |q_b|^2 tr S_b - q_b^T S_b q_b
                            tr = sxx[bb] + syy[bb] + szz[bb]
                            tot = nb_ * tr - (xb * xb * sxx[bb] + yb * yb * syy[bb]
                                              + zb * zb * szz[bb]
                                              + 2.0 * (xb * yb * sxy[bb] + xb * zb * sxz[bb]
                                                       + yb * zb * syz[bb]))
                            need2 = tot + eps * nb_ * tr > m2s
                        if not (need2 or alive3):
                            continue
                        for c in range(bb + 1, m):
                            pb = nb_ * nrm[c]
                            go2 = need2 and pb > m2s
                            go3 = alive3 and pb * nrm[c + 1] > m3s
                            if not (go2 or go3):
                                break                  # both bounds only shrink with c
                            # q_b x q_c = (minor cols (1,2), -minor cols (0,2), minor cols (0,1))
                            cx = yb * z[c] - zb * y[c]
                            cy = zb * x[c] - xb * z[c]
                            cz = xb * y[c] - yb * x[c]
                            oc = order[c]
                            if go2:
                                m2 = max(m2, max(abs(cx), max(abs(cy), abs(cz))))
                                if doS:
                                    # original rows (min, max): cols (1,2), (0,2), (0,1) minors
                                    # are (cx, -cy, cz), negated when ob > oc
                                    if ob < oc:
                                        s2 = max(s2, max(cx, max(-cy, cz)))
                                    else:
                                        s2 = max(s2, -min(cx, min(-cy, cz)))
                                    m2s = s2 * s2 if s2 > 0.0 else (0.0 if s2 == 0.0 else -1.0)
                                else:
                                    m2s = m2 * m2
                            if go3:
                                # sum_{a > c} det(q_a, q_b, q_c)^2 = u^T S_c u, u = q_b x q_c
                                qf = (cx * cx * sxx[c] + cy * cy * syy[c] + cz * cz * szz[c]
                                      + 2.0 * (cx * cy * sxy[c] + cx * cz * sxz[c]
                                               + cy * cz * syz[c]))
                                w = (cx * cx + cy * cy + cz * cz) * (sxx[c] + syy[c] + szz[c])
                                if qf + eps * w > m3s:
                                    for a in range(c + 1, m):
                                        d = x[a] * cx + y[a] * cy + z[a] * cz
                                        m3 = max(m3, abs(d))
                                        if doS:
                                            # det(q_a, q_b, q_c) -> rows in original order:
                                            # the sign of the sorting permutation
                                            oa = order[a]
                                            inv = ((oa > ob) + (oa > oc) + (ob > oc)) % 2
                                            s3 = max(s3, -d if inv else d)
                                    if doS:
                                        m3s = (s3 * s3 if s3 > 0.0
                                               else (0.0 if s3 == 0.0 else -1.0))
                                    else:
                                        m3s = m3 * m3
                out1[b, p] = m1
                out2[b, p] = m2
                out3[b, p] = m3
                sout1[b, p] = s1
                sout2[b, p] = s2
                sout3[b, p] = s3

    @njit(parallel=True, fastmath=True, cache=True)
    def _kernel_general(J, R, do1, do2, do3, doA, doS, pairs, tri, tri_pairs, out1, out2,
                        out3, sout1, sout2, sout3, nchunks):  # pragma: no cover (jit)
        # J: [B, m, n], R: [P, m, m]; pairs: [C2, 2] column pairs; tri: [C3, 3] column
        # triples; tri_pairs: [C3, 3] indices in `pairs` of (c1,c2), (c0,c2), (c0,c1).
        # Rows are visited in original order (a < bb < c), so every d below is the signed
        # minor; sout* get the signed maxima (doS), out* the |.| maxima.
        B, m, n = J.shape
        P = R.shape[0]
        C2 = pairs.shape[0]
        C3 = tri.shape[0]
        T = B * P
        for ch in prange(nchunks):
            Q = np.empty((m, n))
            M2 = np.empty(C2)
            nrm = np.empty(m)
            pm = np.empty(m)
            t0 = ch * T // nchunks
            t1 = (ch + 1) * T // nchunks
            for t in range(t0, t1):
                b = t // P
                p = t - b * P
                m1 = 0.0
                s1 = _LOWEST
                for i in range(m):
                    ss = 0.0
                    for c in range(n):
                        s = 0.0
                        for j in range(m):
                            s += R[p, i, j] * J[b, j, c]
                        Q[i, c] = s
                        m1 = max(m1, abs(s))
                        s1 = max(s1, s)
                        ss += s * s
                    nrm[i] = ss
                run = 0.0
                for i in range(m):
                    pm[i] = run
                    run = max(run, nrm[i])
                m2 = 0.0
                m3 = 0.0
                s2 = _LOWEST
                s3 = _LOWEST
                m3s = -1.0 if doS else 0.0          # -1: never prune (signed max < 0)
                if do2 or do3:
                    for bb in range(m):
                        for c in range(bb + 1, m):
                            w2 = 0.0
                            for q in range(C2):
                                u = pairs[q, 0]
                                v = pairs[q, 1]
                                d = Q[bb, u] * Q[c, v] - Q[bb, v] * Q[c, u]
                                M2[q] = d
                                w2 += d * d
                                m2 = max(m2, abs(d))
                                s2 = max(s2, d)
                            if do3 and bb > 0 and pm[bb] * w2 > m3s:
                                for a in range(bb):
                                    for q in range(C3):
                                        d = (Q[a, tri[q, 0]] * M2[tri_pairs[q, 0]]
                                             - Q[a, tri[q, 1]] * M2[tri_pairs[q, 1]]
                                             + Q[a, tri[q, 2]] * M2[tri_pairs[q, 2]])
                                        m3 = max(m3, abs(d))
                                        s3 = max(s3, d)
                                if doS:
                                    m3s = s3 * s3 if s3 > 0.0 else (0.0 if s3 == 0.0 else -1.0)
                                else:
                                    m3s = m3 * m3
                out1[b, p] = m1
                out2[b, p] = m2
                out3[b, p] = m3
                sout1[b, p] = s1
                sout2[b, p] = s2
                sout3[b, p] = s3


@contextlib.contextmanager
def _numba_threads(n: Optional[int]):
    if n is None or not _NUMBA:
        yield
        return
    prev = numba.get_num_threads()
    numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))
    try:
        yield
    finally:
        numba.set_num_threads(prev)


def _column_tables(n: int):
    pairs = combinations_index(n, 2).numpy() if n >= 2 else np.zeros((0, 2), np.int64)
    tri = combinations_index(n, 3).numpy() if n >= 3 else np.zeros((0, 3), np.int64)
    if n >= 3:
        rank = {tuple(pq): i for i, pq in enumerate(pairs.tolist())}
        tri_pairs = np.array([[rank[(c1, c2)], rank[(c0, c2)], rank[(c0, c1)]]
                              for c0, c1, c2 in tri.tolist()], dtype=np.int64)
    else:
        tri_pairs = np.zeros((0, 3), np.int64)
    return (np.ascontiguousarray(pairs), np.ascontiguousarray(tri), tri_pairs)


def _numba_rotated(J: torch.Tensor, rotations: torch.Tensor, ks: tuple,
                   num_threads: Optional[int], readings: tuple) -> dict:
    Jn = np.ascontiguousarray(J.detach().to(torch.float64).cpu().numpy())       # [B, m, n]
    Rn = np.ascontiguousarray(rotations.detach().to(torch.float64).cpu().numpy())  # [P, m, m]
    B, m, n = Jn.shape
    P = Rn.shape[0]
    outs = [np.zeros((B, P)) for _ in range(3)]                       # |minor| maxima
    souts = [np.zeros((B, P)) for _ in range(3)]                      # signed maxima
    do = [k in ks for k in (1, 2, 3)]
    doA, doS = "abs" in readings, "signed" in readings
    if B * P:
        with _numba_threads(num_threads):
            nchunks = max(1, min(B * P, 16 * numba.get_num_threads()))
            if n == 3:
                Rt = np.ascontiguousarray(Rn.transpose(0, 2, 1))
                _kernel_n3(Jn, Rt, do[0], do[1], do[2], doA, doS, *outs, *souts, nchunks)
            else:
                _kernel_general(Jn, Rn, do[0], do[1], do[2], doA, doS, *_column_tables(n),
                                *outs, *souts, nchunks)
    res = {"abs": outs, "signed": souts}
    return {r: {k: torch.from_numpy(res[r][k - 1]).to(J.dtype) for k in ks} for r in readings}


_CUDA_BLOCK_ELEMENTS = 2 ** 26


def _signed_minors_block(Q: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """Signed det Q[..., rows[r], cols[c]] for all (r, c): Q [..., m, n] -> [..., R, C]."""
    k = rows.shape[1]
    lead = Q.shape[:-2]
    sub = Q[..., rows.reshape(-1), :].reshape(*lead, rows.shape[0], k, Q.shape[-1])
    sub = sub[..., cols].movedim(-2, -3)                               # [..., R, C, k, k]
    return torch.linalg.det(sub)


def _torch_rotated(J: torch.Tensor, rotations: torch.Tensor, ks: tuple,
                   max_elements: Optional[int], readings: tuple) -> dict:
    """Torch backend. For k <= 3 it shares work like the numba kernel: the 2x2 minors M2 of
    every row pair (b, c) and column pair, then for k = 3 all dets at once as a batched
    matmul, det(q_a, q_b, q_c)|_T = Q[a, T] . s(M2[(b, c)], T) (cofactor expansion; for
    n = 3 simply Q @ (q_b x q_c)), maximised over all a not in {b, c}. k > 3 uses gathered
    submatrices + torch.linalg.det over row-combination chunks. Chunked over (example,
    rotation) pairs so that the working tensors hold about `max_elements` values
    (default 2**21 on CPU, 2**26 on CUDA). The signed reading takes the max of the same
    minors with rows in increasing order: det(q_a, q_b, q_c) for b < c is the ordered minor
    times -1 when b < a < c (one transposition) and +1 otherwise."""
    B, m, n = J.shape
    P = rotations.shape[0]
    dev = J.device
    if max_elements is None:
        max_elements = _CUDA_BLOCK_ELEMENTS if dev.type == "cuda" else DEFAULT_BLOCK_ELEMENTS
    R = rotations.to(dtype=J.dtype, device=dev)
    doA, doS = "abs" in readings, "signed" in readings
    out = {r: {k: J.new_zeros(B, P) for k in ks} for r in readings}
    need2 = any(k in ks for k in (2, 3))
    need3 = 3 in ks
    big = [k for k in ks if k > 3]
    per = m * n
    if need2:
        pairs = combinations_index(m, 2, dev)                         # [Pm, 2] row pairs
        cp = combinations_index(n, 2, dev)                            # [Cn2, 2] column pairs
        per += 4 * pairs.shape[0] * cp.shape[0]
    if need3:
        tri = combinations_index(n, 3, dev)                           # [T, 3] column triples
        rank = {tuple(q): i for i, q in enumerate(cp.tolist())}
        tp = torch.tensor([[rank[(c1, c2)], rank[(c0, c2)], rank[(c0, c1)]]
                           for c0, c1, c2 in tri.tolist()], dtype=torch.int64, device=dev)
        sign = torch.tensor([1.0, -1.0, 1.0], dtype=J.dtype, device=dev)
        # a in {b, c} gives det 0 up to rounding: mask those entries out exactly
        ar = torch.arange(m, device=dev)
        keep_b = ((ar[:, None] != pairs[None, :, 0]) & (ar[:, None] != pairs[None, :, 1]))
        keep = keep_b.to(J.dtype).unsqueeze(-1)                        # [m, Pm, 1]
        # row-order sign of det(q_a, q_b, q_c); excluded a get -inf for the signed max
        between = (ar[:, None] > pairs[None, :, 0]) & (ar[:, None] < pairs[None, :, 1])
        order_sign = (1.0 - 2.0 * between.to(J.dtype)).unsqueeze(-1)   # [m, Pm, 1]
        drop = (~keep_b).unsqueeze(-1)                                 # [m, Pm, 1]
        per += 3 * m * pairs.shape[0] * tri.shape[0] + 2 * pairs.shape[0] * tri.shape[0] * 3
    n_pairs = max(1, max_elements // per)                             # (x, p) pairs per chunk
    p_chunk = max(1, min(P, n_pairs))
    b_chunk = max(1, min(B, n_pairs // p_chunk))
    for b0 in range(0, B, b_chunk):
        Jb = J[b0:b0 + b_chunk]                                         # [b, m, n]
        for p0 in range(0, P, p_chunk):
            Q = torch.einsum("pij,bjc->bpic", R[p0:p0 + p_chunk], Jb)  # [b, p, m, n]
            sl = (slice(b0, b0 + Q.shape[0]), slice(p0, p0 + Q.shape[1]))
            if 1 in ks:
                if doA:
                    out["abs"][1][sl] = Q.abs().amax(dim=(-2, -1))
                if doS:
                    out["signed"][1][sl] = Q.amax(dim=(-2, -1))
            if need2:
                X = Q.index_select(-2, pairs[:, 0])                    # [b, p, Pm, n]
                Y = Q.index_select(-2, pairs[:, 1])
                M2 = (X.index_select(-1, cp[:, 0]) * Y.index_select(-1, cp[:, 1])
                      - X.index_select(-1, cp[:, 1]) * Y.index_select(-1, cp[:, 0]))  # [b,p,Pm,Cn2]
                if 2 in ks:
                    if doA:
                        out["abs"][2][sl] = M2.abs().amax(dim=(-2, -1))
                    if doS:
                        out["signed"][2][sl] = M2.amax(dim=(-2, -1))
                if need3:
                    S = M2[..., tp] * sign                              # [b, p, Pm, T, 3]
                    Qt = Q[..., tri]                                    # [b, p, m, T, 3]
                    dets = torch.einsum("...atj,...qtj->...aqt", Qt, S)  # [b, p, m, Pm, T]
                    if doS:
                        out["signed"][3][sl] = (dets * order_sign).masked_fill_(
                            drop, -math.inf).amax(dim=(-3, -2, -1))
                    if doA:
                        out["abs"][3][sl] = (dets.abs_() * keep).amax(dim=(-3, -2, -1))
            for k in big:
                rows, cols = combinations_index(m, k, dev), combinations_index(n, k, dev)
                lead = Q.shape[0] * Q.shape[1]
                r_chunk = max(1, max_elements // max(1, lead * cols.shape[0] * k * k))
                best = {r: Q.new_full(Q.shape[:2], -math.inf if r == "signed" else 0.0)
                        for r in readings}
                for r0 in range(0, rows.shape[0], r_chunk):
                    blk = _signed_minors_block(Q, rows[r0:r0 + r_chunk], cols)  # [b, p, r, C]
                    if doS:
                        best["signed"] = torch.maximum(best["signed"], blk.amax(dim=(-2, -1)))
                    if doA:
                        best["abs"] = torch.maximum(best["abs"], blk.abs().amax(dim=(-2, -1)))
                for r in readings:
                    out[r][k][sl] = best[r]
    return out


def _reference_rotated(J: torch.Tensor, rotations: torch.Tensor, ks: tuple,
                       readings: tuple) -> dict:
    """Readable definition (IV.6): for each p, the max over (rows, cols) of the minors of
    R_p J: `minor_matrix` (|det|) for "abs", ordered dets for "signed"."""
    R = rotations.to(dtype=J.dtype, device=J.device)
    m, n = J.shape[-2:]
    out = {}
    for reading in readings:
        out[reading] = {}
        for k in ks:
            rows, cols = combinations_index(m, k, J.device), combinations_index(n, k, J.device)
            per_p = []
            for p in range(R.shape[0]):
                Jp = R[p] @ J                                           # [B, m, n]
                M = (minor_matrix(Jp, k) if reading == "abs"
                     else _signed_minors_block(Jp, rows, cols))         # [B, C(m,k), C(n,k)]
                per_p.append(M.amax(dim=(-2, -1)))                      # [B]
            out[reading][k] = (torch.stack(per_p, dim=-1) if per_p
                               else J.new_zeros(J.shape[0], 0))
    return out


def rotated_max_minors_readings(J: torch.Tensor, rotations: torch.Tensor,
                                ks: Iterable[int] = (1, 2, 3),
                                readings: Iterable[str] = READINGS, backend: str = "auto",
                                num_threads: Optional[int] = None,
                                max_elements: Optional[int] = None) -> dict:
    """The rotated maxima of :func:`rotated_max_minors` under one or both readings of
    (IV.6)-(IV.7), from ONE pass per (x, p): {reading: {k: Tensor [..., N_rot]}}.

    readings: "abs" (the literal definition: the largest |k x k minor|) and/or "signed"
    (the largest signed minor, rows and columns in increasing (itertools.combinations)
    order, so a minor's sign is that of the ordered submatrix). Computing both costs little
    more than "signed" alone: the kernels prune on the signed running max, which never
    exceeds the |.| one.
    """
    ks = tuple(sorted(set(int(k) for k in ks)))
    if not ks:
        raise ValueError("ks must name at least one minor size")
    given = {readings} if isinstance(readings, str) else set(readings)
    if not given or given - set(READINGS):
        raise ValueError(f"readings must be a non-empty subset of {READINGS}, got {readings!r}")
    readings = tuple(r for r in READINGS if r in given)
    check_jacobian(J)
    m, n = J.shape[-2:]
    for k in ks:
        check_k(k, m, n)
    if not isinstance(rotations, torch.Tensor) or rotations.ndim != 3 \
            or rotations.shape[1:] != (m, m):
        raise ValueError(f"rotations must be [N_rot, m, m] with m = {m}; got "
                         f"{tuple(rotations.shape) if isinstance(rotations, torch.Tensor) else type(rotations)}")
    if not bool(torch.isfinite(rotations).all()):
        raise ValueError("rotations contain NaN/inf")
    lead = J.shape[:-2]
    Jf = J.reshape(-1, m, n)                                            # [B, m, n]
    if backend == "auto":
        backend = "numba" if (_NUMBA and J.device.type == "cpu" and max(ks) <= 3) else "torch"
    if backend == "numba":
        if not _NUMBA:
            raise ValueError("backend='numba' requested but numba is not importable")
        if max(ks) > 3:
            raise ValueError("the numba kernel handles k <= 3; use backend='torch' for larger k")
        res = _numba_rotated(Jf, rotations, ks, num_threads, readings)
        res = {r: {k: v.to(J.device) for k, v in d.items()} for r, d in res.items()}
    elif backend == "torch":
        if J.device.type == "cpu":
            # small per-chunk tensors: 1 intra-op thread is much faster on 2-core machines
            # (measured 1.3 s vs 16 s at B = 50, N_rot = 400 under load); override with num_threads
            with torch_threads(num_threads or 1):
                res = _torch_rotated(Jf, rotations, ks, max_elements, readings)
        else:
            res = _torch_rotated(Jf, rotations, ks, max_elements, readings)
    elif backend == "reference":
        res = _reference_rotated(Jf, rotations, ks, readings)
    else:
        raise ValueError(f"unknown backend {backend!r}: use 'auto', 'numba', 'torch' or 'reference'")
    return {r: {k: v.reshape(*lead, rotations.shape[0]) for k, v in d.items()}
            for r, d in res.items()}


def rotated_max_minors(J: torch.Tensor, rotations: torch.Tensor, ks: Iterable[int] = (1, 2, 3),
                       backend: str = "auto", num_threads: Optional[int] = None,
                       max_elements: Optional[int] = None, reading: str = "abs") -> dict:
    """m^(k)_p(x) = max over all k-minors of R_p . J(x), for every example and rotation
    (P1 IV.6 and the per-rotation maxima that IV.7 averages; REPRODUCTION 2.9).

    J: [..., m, n]; rotations: [N_rot, m, m] -> {k: Tensor [..., N_rot]} in J's dtype/device,
    all requested k from one pass per (x, p). backend: "auto" (numba on CPU when every
    k <= 3, else torch), "numba", "torch", or "reference". `num_threads` sets numba's
    thread count for this call (default: numba's current setting); see the module docstring.
    `max_elements` bounds the torch backend's working tensors (default 2**21 values on CPU,
    2**26 on CUDA). reading: "abs" (the literal |minor|, default) or "signed" (the largest
    signed minor; see :func:`rotated_max_minors_readings` for both in one pass).
    """
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    return rotated_max_minors_readings(J, rotations, ks, (reading,), backend, num_threads,
                                       max_elements)[reading]


def warm_up_kernels() -> float:
    """Compile (or load from numba's on-disk cache) both numba kernels; returns seconds taken.
    Call once before timing anything."""
    import time
    if not _NUMBA:
        return 0.0
    t = time.perf_counter()
    g = torch.Generator().manual_seed(0)
    R = haar_rotations(4, 2, g)
    rotated_max_minors(torch.randn(2, 4, 3, generator=g, dtype=torch.float64), R, backend="numba")
    rotated_max_minors(torch.randn(2, 4, 4, generator=g, dtype=torch.float64), R, backend="numba")
    return time.perf_counter() - t
