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

from typing import Iterable

import numpy as np
import torch

from .evaluation import first_layer_jacobian
from .metrics import consistently_zero_rows
from .models import Params, first_layer

__all__ = ["weight_row_sizes", "compare_dead_rows", "dead_neuron_analysis", "bias_silenced"]


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
                         fraction: float = 0.99) -> dict:
    """Consistently zero size-1 rows of a trained model and what they coincide with.

    The rows are those whose row mean (IV.2, k = 1) is below the initial model's threshold
    Q^(1) (IV.3, quantile q1) in at least ``fraction`` of the inputs x (REPRODUCTION 2.6,
    A-14), computed from float64 Jacobians (II.3) of ``params`` and ``init_params`` (the same
    seed's initial model) at x: [N, n]. Returns :func:`compare_dead_rows` of those rows with
    the trained first layer's row sizes and biases, plus ``max_preactivation`` (per row, the
    largest z_j(x) over x: a row whose z_j stays below about -3 is silenced by GeLU's flat
    tail, sigma'(-3) ~ -0.012, rather than by small weights)."""
    J = first_layer_jacobian(params, x)
    J0 = first_layer_jacobian(init_params, x)
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
