"""Dead neurons of P1 App. B: what makes a hidden neuron's Jacobian row consistently zero?

P1 App. B finds consistently zero rows (zero in >= 99 % of examples, REPRODUCTION 2.6) in
models trained at small batch sizes and states two things about them (A-29 defaults):

1. they "exactly coincide with the smallest rows of the weight matrix", the size of row j of
   A^T being the mean absolute value of its elements, mean_i |A_ij| (A: [n, m], so row j of
   A^T is column j of A). Tested as: the c consistently zero rows are the c smallest rows,
   i.e. every consistently zero row is no larger than every other row (tie-safe form of set
   equality with the c smallest);
2. negative biases a_j < 0 (sign only) "differ in count from the number of consistently zero
   rows and generally occur on different neurons, e.g., about 50% of the consistently zero
   rows coincide with neurons receiving a negative bias".

By (II.3), J_ji(x) = sigma'(z_j(x)) A^T_ji: a row vanishes for all x either because the
weights A^T_j are small or because z_j(x) = x . A_j + a_j stays deep in GeLU's flat negative
region (which needs a large negative bias a_j). The functions below say which.
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import torch

from .evaluation import (ALIVE_KIND, DEAD_FRACTION, DEAD_Q1, alive_config,
                         first_layer_jacobian)
from ..core.activations import GELU, Activation
from ..core.metrics import consistently_zero_rows
from .models import Params, first_layer
from .runs import group_by_run
from ..pipeline.sweep import register_kind

__all__ = ["weight_row_sizes", "compare_dead_rows", "dead_neuron_analysis", "bias_silenced",
           "dead_rows", "alive_rows", "alive_metrics", "alive_config", "ALIVE_KIND"]


def weight_row_sizes(A: torch.Tensor) -> np.ndarray:
    """Size of each row j of A^T: mean_i |A_ij| (P1 App. B; A-29). A: [n, m] -> float64 [m]."""
    if not isinstance(A, torch.Tensor) or A.ndim != 2:
        raise ValueError(f"A must be the first-layer weight matrix [n, m], got {getattr(A, 'shape', A)!r}")
    return A.detach().to(torch.float64).abs().mean(0).cpu().numpy()


def compare_dead_rows(consistent: Iterable[int], row_sizes, bias) -> dict:
    """Compare a set of consistently zero rows with the smallest weight rows and with the
    neurons that receive a negative bias (P1 App. B; A-29).

    consistent: row indices j (0-based); row_sizes: [m] (weight_row_sizes); bias: [m] (a).
    Returns a dict of plain values:
      n_consistent      c, the number of consistently zero rows
      rows              the sorted row indices
      coincide_smallest the c rows are exactly the c smallest weight rows (None if c = 0)
      overlap_smallest  |rows & c smallest rows| / c, ties broken by index (None if c = 0)
      max_size_rank     the largest 1-based rank (ascending size) among the rows (None if c = 0)
      n_negative_bias   number of neurons j with a_j < 0 (all m neurons)
      negative_bias_share  |rows & {a_j < 0}| / c (None if c = 0)
    """
    sizes = np.asarray(torch.as_tensor(row_sizes).detach().cpu(), dtype=np.float64).ravel()
    b = np.asarray(torch.as_tensor(bias).detach().cpu(), dtype=np.float64).ravel()
    m = sizes.size
    if b.size != m:
        raise ValueError(f"row_sizes ({m}) and bias ({b.size}) must both have one entry per neuron")
    rows = sorted({int(j) for j in consistent})
    if rows and (rows[0] < 0 or rows[-1] >= m):
        raise ValueError(f"row indices must lie in 0..{m - 1}, got {rows}")
    negative = b < 0
    out = {"n_consistent": len(rows), "rows": rows, "n_negative_bias": int(negative.sum()),
           "coincide_smallest": None, "overlap_smallest": None, "max_size_rank": None,
           "negative_bias_share": None}
    c = len(rows)
    if c == 0:
        return out
    inside = np.zeros(m, dtype=bool)
    inside[rows] = True
    order = np.argsort(sizes, kind="stable")                      # ascending size, ties by index
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(1, m + 1)
    out["coincide_smallest"] = bool(c == m or sizes[inside].max() <= sizes[~inside].min())
    out["overlap_smallest"] = float(np.count_nonzero(inside[order[:c]]) / c)
    out["max_size_rank"] = int(rank[inside].max())
    out["negative_bias_share"] = float(np.count_nonzero(negative & inside) / c)
    return out


def dead_neuron_analysis(params: Params, init_params: Params, x: torch.Tensor, q1: float = 0.01,
                         fraction: float = 0.99, activation: Activation = GELU) -> dict:
    """Consistently zero size-1 rows of a trained model and what they coincide with.

    The rows are those whose row mean (IV.2, k = 1) is below the initial model's threshold
    Q^(1) (IV.3, quantile q1) in at least ``fraction`` of the inputs x (REPRODUCTION 2.6,
    A-14), computed from float64 Jacobians (II.3) of ``params`` and ``init_params`` (the same
    seed's initial model) at x: [N, n]. Returns :func:`compare_dead_rows` of those rows with
    the trained first layer's row sizes and biases, plus ``max_preactivation`` (per row, the
    largest z_j(x) over x: a row whose z_j stays below about -3 is silenced by GeLU's flat
    tail, sigma'(-3) ~ -0.012, rather than by small weights). ``activation``: the model's
    sigma (default P1's GeLU)."""
    J = first_layer_jacobian(params, x, activation)
    J0 = first_layer_jacobian(init_params, x, activation)
    rows = consistently_zero_rows(J, J0, 1, q1, fraction).tolist()
    A, a = first_layer(params)
    out = compare_dead_rows(rows, weight_row_sizes(A), a)
    z = x.to(torch.float64) @ A.to(torch.float64) + a.to(torch.float64)      # [N, m]
    zmax = z.max(0).values
    out["max_preactivation"] = [float(zmax[j]) for j in out["rows"]]
    return out


def bias_silenced(analysis: dict, z_floor: float = -3.0) -> int:
    """How many of a model's consistently zero rows (:func:`dead_neuron_analysis`) a large
    negative bias silences: the pre-activation z_j(x) = x . A_j + a_j stays below ``z_floor``
    at every input, deep in GeLU's flat tail (|sigma'(-3)| ~ 0.012), which for inputs in
    [-1, 1]^n needs a_j < z_floor + sum_i |A_ij|. Rows that are zero for the other reason
    (small weights, z_j(x) anywhere) are not counted. P1 §IV.A: large negative biases have
    "not been the cause of the consistently zero rows" (reproduced when this is 0)."""
    return int(sum(z < z_floor for z in analysis.get("max_preactivation", [])))


# ---------------------------------------------------------------------------------------------
# The dead-rows-out reading of every P1 metric (issue 12 item 4)
# ---------------------------------------------------------------------------------------------
# Dead neurons (consistently zero size-1 rows) zero every minor they enter, so they inflate
# zero rows, lower the PR and raise the RR without any input-dependent KA patterning. The
# second reading evaluates the model restricted to its live neurons: the rows j of J (and of
# the same seed's initial J0, for the thresholds and the normalisation) that are NOT
# consistently zero are kept, and every metric is computed for that m' = m - d neuron model
# exactly as for a model of width m' (q^(k) and Q^(k) of width m', PR / RR normalised by the
# initial model's same neurons, the RR with the fixed Haar set of SO(m')). A model without
# dead rows has the all-rows values (the cached task then copies them: the fast path).


def dead_rows(J_trained: torch.Tensor, J_init: torch.Tensor, q1: float = DEAD_Q1,
              fraction: float = DEAD_FRACTION) -> torch.Tensor:
    """Dead neurons: indices of the consistently zero size-1 rows. J: [B, m, n] -> [d]."""
    return consistently_zero_rows(J_trained, J_init, 1, q1, fraction)


def alive_rows(J_trained: torch.Tensor, J_init: torch.Tensor, q1: float = DEAD_Q1,
               fraction: float = DEAD_FRACTION) -> torch.Tensor:
    """Indices of the live neurons (complement of :func:`dead_rows`), ascending: [m - d]."""
    keep = torch.ones(J_trained.shape[1], dtype=torch.bool)
    keep[dead_rows(J_trained, J_init, q1, fraction)] = False
    return torch.nonzero(keep).flatten()


def alive_metrics(J_trained: torch.Tensor, J_init: torch.Tensor, ks=(1, 2, 3),
                  q1s=(1e-4, 1e-3, 1e-2), consistent_fraction: float = 0.99, n_rot: int = 0,
                  n_x_rot: int | None = None, rotation_seed: int = 0, dead_q1: float = DEAD_Q1,
                  dead_fraction: float = DEAD_FRACTION, keep: torch.Tensor | None = None) -> dict:
    """Every P1 metric of the model with its dead rows left out (see above).

    J_trained, J_init: [B, m, n]. Returns the keys of :func:`kag_utils.core.metrics.p1_metrics`
    for the live rows plus, when ``n_rot`` > 0, rr_k*, rr_init_k*, rr_norm_k* (the first
    ``n_x_rot`` inputs, rotations :func:`kag_utils.p1.evaluation.fixed_rotations` (m', n_rot, seed),
    examples with an all-zero minor matrix excluded as in the cached RR), and n_dead, m_alive.
    A size k larger than m' has no minors: its keys are NaN (counted by m_alive, not hidden).
    ``keep`` overrides the live rows (default :func:`alive_rows`)."""
    from .evaluation import fixed_rotations as rotation_set
    from ..core.metrics import p1_metrics, random_rotation_ratios

    m = J_trained.shape[1]
    keep = alive_rows(J_trained, J_init, dead_q1, dead_fraction) if keep is None else keep
    m_alive = int(keep.numel())
    Jt, Ji = J_trained[:, keep], J_init[:, keep]                    # [B, m', n]
    ok_ks = tuple(k for k in ks if k <= m_alive)
    out: dict = {"n_dead": m - m_alive, "m_alive": m_alive}
    if ok_ks:
        out.update(p1_metrics(Jt, Ji, ok_ks, q1s, consistent_fraction=consistent_fraction))
    if n_rot and ok_ks:
        nx = Jt.shape[0] if n_x_rot is None else int(n_x_rot)
        R = rotation_set(m_alive, int(n_rot), int(rotation_seed))   # [n_rot, m', m']
        for tag, J in (("", Jt), ("_init", Ji)):
            per_x = random_rotation_ratios(J[:nx], ok_ks, R, return_per_example=True)
            for k in ok_ks:
                out[f"rr{tag}_k{k}"] = float(torch.nanmean(per_x[k]))
        for k in ok_ks:
            out[f"rr_norm_k{k}"] = out[f"rr_k{k}"] / out[f"rr_init_k{k}"]
    for k in ks:
        if k not in ok_ks:
            out.update({f"pr_norm_k{k}": math.nan, f"divergence_k{k}": math.nan,
                        f"rr_norm_k{k}": math.nan})
            out.update({f"zero_frac_k{k}_q{q:g}": math.nan for q in q1s})
            out.update({f"dep_frac_k{k}_q{q:g}": math.nan for q in q1s if k > 1})
    return out


def _alive_payload(ac: dict, cache) -> dict:
    from .evaluation import (EVAL_KIND, load_run_cached, eval_config, eval_inputs,
                             state_params)
    config, state, ecfg, dead = ac["run"], ac["state"], ac["eval"], ac["dead"]
    full = cache.load(EVAL_KIND, eval_config(config, state, ecfg))
    if full is None:
        raise RuntimeError("the all-rows evaluation is missing from the cache; use "
                           "evaluate(..., dead_rows='out') (it resolves dependencies)")
    if not full["reached"]:
        return dict(full)
    run = load_run_cached(config, str(cache.root))
    x = eval_inputs(config, ecfg.split, ecfg.n_x)
    J = first_layer_jacobian(state_params(run, state), x, config.activation)   # [B, m, n]
    J0 = first_layer_jacobian(run.init_params, x, config.activation)
    keep = alive_rows(J, J0, dead["q1"], dead["fraction"])
    base = {k: full[k] for k in ("reached", "state_r2", "state_epoch")}
    if keep.numel() == J.shape[1]:                                  # no dead rows: fast path
        return {**full, "n_dead": 0, "m_alive": int(keep.numel())}
    return {**base, **alive_metrics(J, J0, ecfg.ks, ecfg.q1s, ecfg.consistent_fraction,
                                    ecfg.n_rot, ecfg.n_x_rot, ecfg.rotation_seed, keep=keep)}


def alive_task(kind: str, configs, cache_root: str, on_result=None) -> list[str]:
    """Sweep task of kind ``p1_alive``: the dead-rows-out reading of each state."""
    from .evaluation import store_run_readings
    return store_run_readings(kind, configs, cache_root, _alive_payload, on_result)


def _alive_dependencies(ac: dict) -> list:
    from .evaluation import EVAL_KIND, eval_config
    return [(EVAL_KIND, eval_config(ac["run"], ac["state"], ac["eval"]))]


register_kind(ALIVE_KIND, group=group_by_run, task=alive_task,
              dependencies=_alive_dependencies, splittable=True)
