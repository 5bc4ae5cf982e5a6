"""P1 Table IV: random rotation ratios (IV.6-IV.7) of the toy Jacobians (IV.8)-(IV.10), m = 7
hidden neurons, n = 3 inputs, under both readings of "the largest minor" (|minor| and the
signed maximum; :func:`kag_utils.core.metrics.random_rotation_ratios_readings`).

* J1 = [I_3; 0] (IV.8), perfectly aligned: :func:`j1_ratio_sets` gives its ratios over
  independent rotation sets (the Monte-Carlo spread of one estimate).
* J2, J3 (IV.9, IV.10): single random draws in the paper (seeds unknown);
  :func:`random_draws` draws many of each and :func:`draw_ratios` gives each draw's ratios,
  so the paper's value can be placed among them.
* :func:`scaling_checks`: a global rescaling leaves every ratio unchanged; a non-uniform one
  changes k = 1, 2 but not k = 3 (J1 has one non-zero 3 x 3 minor).

Rotation sets are :func:`kag_utils.p1.evaluation.fixed_rotations` (Haar, seeded, A-17).
Readings of the resulting arrays: :mod:`kag_utils.readings.concentration`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from ..core.metrics import random_rotation_ratio, random_rotation_ratios_readings
from .evaluation import fixed_rotations

__all__ = ["TOY_M", "TOY_N", "toy_j1", "j1_ratio_sets", "random_draws", "draw_ratios",
           "scaling_checks"]

TOY_M, TOY_N = 7, 3                  # Table IV's toy Jacobians: m = 7 rows, n = 3 columns
J1_ROTATION_SEED = 1000              # rotation set r of J1's spread uses seed 1000 + r
DRAW_SEED = 2024                     # generator of the J2 and J3 draws


def toy_j1() -> torch.Tensor:
    """J1 = [I_3; 0] (IV.8): [1, 7, 3], float64."""
    J1 = torch.zeros(1, TOY_M, TOY_N, dtype=torch.float64)
    J1[0, :TOY_N] = torch.eye(TOY_N, dtype=torch.float64)
    return J1


def j1_ratio_sets(n_rot: int, repeats: int, ks: Sequence[int] = (1, 2, 3),
                  first_seed: int = J1_ROTATION_SEED) -> dict[str, np.ndarray]:
    """J1's random rotation ratios under both readings for ``repeats`` independent sets of
    ``n_rot`` rotations (set r: seed ``first_seed + r``): {reading: [repeats, len(ks)]}."""
    if repeats < 1 or n_rot < 1:
        raise ValueError(f"need repeats >= 1 and n_rot >= 1, got {repeats}, {n_rot}")
    J1 = toy_j1()
    out: dict[str, list] = {"abs": [], "signed": []}                  # reading -> [repeat, k]
    for rep in range(repeats):
        R = fixed_rotations(TOY_M, n_rot, first_seed + rep)            # [n_rot, 7, 7]
        res = random_rotation_ratios_readings(J1, ks, R)
        for r in out:
            out[r].append([res[r][k] for k in ks])
    return {r: np.array(v) for r, v in out.items()}


def random_draws(n_draws: int, seed: int = DRAW_SEED) -> dict[str, torch.Tensor]:
    """``n_draws`` toy Jacobians of each random kind, from one generator (J2 first):
    {"J2": N(0, 1) entries (IV.9), "J3": U(-1, 1) entries (IV.10)}, each [n_draws, 7, 3]."""
    if n_draws < 1:
        raise ValueError(f"need n_draws >= 1, got {n_draws}")
    gen = torch.Generator().manual_seed(seed)
    return {"J2": torch.randn(n_draws, TOY_M, TOY_N, generator=gen, dtype=torch.float64),
            "J3": 2 * torch.rand(n_draws, TOY_M, TOY_N, generator=gen, dtype=torch.float64) - 1}


def draw_ratios(draws: dict[str, torch.Tensor], rotations: torch.Tensor,
                ks: Sequence[int] = (1, 2, 3)) -> dict:
    """Each draw's ratio under both readings with one rotation set [n_rot, 7, 7]:
    {name: {reading: {k: [n_draws]}}}."""
    return {name: random_rotation_ratios_readings(J, ks, rotations, return_per_example=True)
            for name, J in draws.items()}


def scaling_checks(rotations: torch.Tensor, factor: float = 5.0,
                   diagonal: Sequence[float] = (1.0, 2.0, 4.0),
                   ks: Sequence[int] = (1, 2, 3)) -> dict:
    """P1 §IV.B's scaling statements on J1 with one rotation set: {"base", "global" (J1 x
    ``factor``), "nonuniform" (J1's non-zero block replaced by diag(``diagonal``)): [ratio per
    k], "global_change": the largest |global - base|, "nonuniform_changes": [|nonuniform -
    base| per k]}."""
    J1 = toy_j1()
    scaled = J1.clone()
    scaled[0, :TOY_N] = torch.diag(torch.tensor(list(diagonal), dtype=torch.float64))
    rr_glob = [random_rotation_ratio(factor * J1, k, rotations) for k in ks]
    rr_base = [random_rotation_ratio(J1, k, rotations) for k in ks]
    rr_scaled = [random_rotation_ratio(scaled, k, rotations) for k in ks]
    return {"global": rr_glob, "base": rr_base, "nonuniform": rr_scaled,
            "global_change": max(abs(a - b) for a, b in zip(rr_glob, rr_base)),
            "nonuniform_changes": [abs(a - b) for a, b in zip(rr_scaled, rr_base)]}
