"""P2 spatial samplers on the 28 x 28 pixel grid (P2 §2, §3.1; REPRODUCTION §2.15).

Pixels are numbered as the flattened image: ``index = row * 28 + col`` (0-based, row-major,
the order of ``image.reshape(784)``), and a pixel sits at its integer (row, col) position.
Distances are Euclidean between those positions.

* Euclidean balls (M-13): all pixels at distance <= r from a seed pixel, clipped to the grid.
  With the seed at (14, 14) this gives 149, 611, 784, 784 pixels for r = 7, 14, 21, 28, and
  on average over uniformly random seed pixels 119.5, 377.8, 624.9, 764.5 (REPRODUCTION's
  DERIVED numbers; P2's "approximately 150, 600, 1400, 2500" are the nominal pi r^2). Seed
  pixels are uniform over all 784 pixels; one draw uses the same seed pixel for every radius.
* Rectangles (M-15): the four 14 x 14 quadrants TL, TR, BL, BR and the central 14 x 14 block
  (rows and columns 7..20), which overlaps them.
* Well-separated tuples (M-14): column k-tuples whose pixels are pairwise at distance >= d,
  d in {1, 2, 4, 7, 10, 14} (d = 1 is unconstrained). The sampler used by the analysis is
  ``kag_utils.core.minors.sample_combinations(..., min_distance=d, coords=pixel_coords())``; this
  module gives it the coordinates and masks, exact counts / acceptance rates of the constraint,
  a validator, and example tuples for the illustration figure.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import torch

SIDE = 28
N_PIXELS = SIDE * SIDE
RADII = (7, 14, 21, 28)                      # M-13
MIN_DISTANCES = (1, 2, 4, 7, 10, 14)         # M-14
REGIONS = ("TL", "TR", "BL", "BR", "center")  # M-15
REGION_NAMES = {"TL": "top-left", "TR": "top-right", "BL": "bottom-left",
                "BR": "bottom-right", "center": "center"}
# half-open (row_start, row_stop, col_start, col_stop) on the 28 x 28 grid
REGION_BOUNDS = {"TL": (0, 14, 0, 14), "TR": (0, 14, 14, 28), "BL": (14, 28, 0, 14),
                 "BR": (14, 28, 14, 28), "center": (7, 21, 7, 21)}


def pixel_coords(side: int = SIDE) -> torch.Tensor:
    """``[side*side, 2]`` int64 (row, col) of every pixel, in flattened (row-major) order."""
    rows, cols = torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij")
    return torch.stack([rows.reshape(-1), cols.reshape(-1)], dim=1)


def pixel_index(row: int, col: int, side: int = SIDE) -> int:
    """Flat index of pixel (row, col)."""
    if not (0 <= row < side and 0 <= col < side):
        raise ValueError(f"pixel ({row}, {col}) is outside the {side}x{side} grid")
    return row * side + col


def pairwise_distances(side: int = SIDE) -> torch.Tensor:
    """``[N, N]`` float64 Euclidean distances between all pixels (N = side^2)."""
    c = pixel_coords(side).to(torch.float64)
    return torch.cdist(c, c)


def to_image(values: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """A flat per-pixel tensor ``[..., side*side]`` as ``[..., side, side]`` (for imshow)."""
    if values.shape[-1] != side * side:
        raise ValueError(f"last dimension must be {side * side}, got {tuple(values.shape)}")
    return values.reshape(*values.shape[:-1], side, side)


def _check_center(center: Sequence[int], side: int) -> tuple[int, int]:
    row, col = (int(v) for v in center)
    pixel_index(row, col, side)
    return row, col


# -- Euclidean balls ---------------------------------------------------------------------------
def ball_mask(center: Sequence[int], radius: float, side: int = SIDE) -> torch.Tensor:
    """``[side*side]`` bool: pixels within Euclidean distance <= radius of ``center`` (row, col)."""
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    row, col = _check_center(center, side)
    c = pixel_coords(side)
    d2 = (c[:, 0] - row) ** 2 + (c[:, 1] - col) ** 2
    return d2.to(torch.float64) <= float(radius) ** 2


def ball_indices(center: Sequence[int], radius: float, side: int = SIDE) -> torch.Tensor:
    """Sorted int64 flat indices of ``ball_mask(center, radius)``; its length is |S|."""
    return torch.nonzero(ball_mask(center, radius, side)).flatten()


def sample_seed_pixels(n: int, generator: torch.Generator, side: int = SIDE) -> torch.Tensor:
    """``[n, 2]`` int64 (row, col) seed pixels, uniform over all pixels, with replacement (M-13)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    flat = torch.randint(side * side, (n,), generator=generator)
    return torch.stack([flat // side, flat % side], dim=1)


@dataclasses.dataclass(frozen=True, eq=False)
class BallSelections:
    """Balls of several radii around random seed pixels.

    seeds: [D, 2] (row, col) per draw; radii: the R radii; masks: bool [D, R, side*side];
    sizes: int64 [D, R] = |S| per draw and radius.
    """

    seeds: torch.Tensor
    radii: tuple[float, ...]
    masks: torch.Tensor
    sizes: torch.Tensor

    def indices(self, draw: int, radius_index: int) -> torch.Tensor:
        """Sorted flat pixel indices of one ball (the ``allowed`` columns for the minors)."""
        return torch.nonzero(self.masks[draw, radius_index]).flatten()


def sample_balls(radii: Sequence[float] = RADII, n_draws: int = 10,
                 generator: torch.Generator | None = None, seed: int | None = None,
                 side: int = SIDE) -> BallSelections:
    """Draw ``n_draws`` uniform seed pixels; for each, the balls of all ``radii`` around it.

    Pass a ``generator`` or an integer ``seed`` (one of them).
    """
    if (generator is None) == (seed is None):
        raise ValueError("pass exactly one of generator= or seed=")
    if generator is None:
        generator = torch.Generator().manual_seed(int(seed))
    radii = tuple(float(r) for r in radii)
    seeds = sample_seed_pixels(n_draws, generator, side)
    masks = torch.stack([torch.stack([ball_mask(s.tolist(), r, side) for r in radii])
                         for s in seeds]) if n_draws else torch.zeros(0, len(radii), side * side,
                                                                      dtype=torch.bool)
    return BallSelections(seeds=seeds, radii=radii, masks=masks, sizes=masks.sum(-1))


def mean_ball_size(radius: float, side: int = SIDE) -> float:
    """Exact mean |S| over a seed pixel uniform on the grid."""
    return float((pairwise_distances(side) <= radius).sum(1).to(torch.float64).mean())


def max_ball_size(radius: float, side: int = SIDE) -> int:
    """The largest |S| any seed pixel gives (the ball clipped to the grid)."""
    return int((pairwise_distances(side) <= radius).sum(1).max())


def lattice_disc_size(radius: float) -> int:
    """Lattice points within Euclidean distance ``radius`` of a lattice point on an unbounded
    grid (Gauss's circle problem): the size of a ball that no image border clips, close to
    pi r^2 (149, 613, 1373, 2453 for r = 7, 14, 21, 28)."""
    if radius < 0:
        raise ValueError(f"radius must be >= 0, got {radius}")
    r = int(math.floor(radius))
    return sum(2 * math.isqrt(int(math.floor(radius * radius)) - i * i) + 1
               for i in range(-r, r + 1) if i * i <= radius * radius)


def nested_balls_image(center: Sequence[int], radii: Sequence[float] = RADII,
                       side: int = SIDE) -> torch.Tensor:
    """``[side, side]`` int64 for the Fig. 2(a) illustration: i + 1 where the smallest ball
    containing the pixel is the i-th radius (radii in increasing order), 0 outside all; the
    seed pixel itself is -1."""
    radii = sorted(float(r) for r in radii)
    image = torch.zeros(side * side, dtype=torch.int64)
    for i in reversed(range(len(radii))):
        image[ball_mask(center, radii[i], side)] = i + 1
    row, col = _check_center(center, side)
    image[pixel_index(row, col, side)] = -1
    return to_image(image, side)


# -- rectangles ------------------------------------------------------------------------------
def region_mask(name: str, side: int = SIDE) -> torch.Tensor:
    """``[784]`` bool mask of one region of ``REGIONS`` (M-15; the 28 x 28 grid only)."""
    if side != SIDE:
        raise ValueError("the P2 regions are defined on the 28 x 28 grid")
    if name not in REGION_BOUNDS:
        raise ValueError(f"unknown region {name!r}; choose one of {REGIONS}")
    r0, r1, c0, c1 = REGION_BOUNDS[name]
    image = torch.zeros(SIDE, SIDE, dtype=torch.bool)
    image[r0:r1, c0:c1] = True
    return image.reshape(-1)


def region_masks() -> dict[str, torch.Tensor]:
    """{name: [784] bool} for TL, TR, BL, BR, center (the center overlaps the quadrants)."""
    return {name: region_mask(name) for name in REGIONS}


# -- well-separated tuples -----------------------------------------------------------------------
def _allowed_indices(allowed: torch.Tensor | None, n: int) -> torch.Tensor:
    if allowed is None:
        return torch.arange(n)
    allowed = torch.as_tensor(allowed)
    if allowed.dtype == torch.bool:
        if allowed.shape != (n,):
            raise ValueError(f"a boolean allowed mask must have shape [{n}], got {tuple(allowed.shape)}")
        return torch.nonzero(allowed).flatten()
    idx = allowed.to(torch.int64).flatten()
    if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise ValueError(f"allowed indices must lie in 0..{n - 1}")
    if len(torch.unique(idx)) != len(idx):
        raise ValueError("allowed indices must be distinct")
    return torch.sort(idx).values


def separation_mask(min_distance: float, side: int = SIDE) -> torch.Tensor:
    """``[N, N]`` bool: True where two distinct pixels are at distance >= min_distance."""
    d = pairwise_distances(side)
    return (d >= float(min_distance)) & ~torch.eye(side * side, dtype=torch.bool)


def min_pairwise_distance(tuples: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """``[T]`` float64: the smallest pairwise distance within each pixel k-tuple ``[T, k]``.

    k = 1 gives +inf (no pairs). Use it to check a constrained sampler's output.
    """
    tuples = torch.as_tensor(tuples, dtype=torch.int64)
    if tuples.ndim != 2:
        raise ValueError(f"tuples must be [T, k], got {tuple(tuples.shape)}")
    c = pixel_coords(side).to(torch.float64)[tuples]                      # [T, k, 2]
    k = tuples.shape[1]
    out = torch.full((tuples.shape[0],), math.inf, dtype=torch.float64)
    for a in range(k):
        for b in range(a + 1, k):
            out = torch.minimum(out, (c[:, a] - c[:, b]).norm(dim=-1))
    return out


def is_separated(tuples: torch.Tensor, min_distance: float, side: int = SIDE) -> torch.Tensor:
    """``[T]`` bool: every pair of pixels in the tuple is at distance >= min_distance."""
    return min_pairwise_distance(tuples, side) >= float(min_distance)


def count_separated_tuples(k: int, min_distance: float, allowed: torch.Tensor | None = None,
                           side: int = SIDE) -> int:
    """Exact number of k-subsets (k = 1, 2, 3) of the allowed pixels that are pairwise
    >= min_distance apart (k = 3 via trace(A^3) / 6 of the separation graph)."""
    idx = _allowed_indices(allowed, side * side)
    if k == 1:
        return len(idx)
    if k not in (2, 3):
        raise ValueError(f"exact counts are implemented for k = 1, 2, 3, got {k}")
    a = separation_mask(min_distance, side)[idx][:, idx].to(torch.float64)
    if k == 2:
        return int(a.sum().item()) // 2
    return int(round(float(torch.einsum("ij,jk,ki->", a, a, a)) / 6))


def acceptance_rate(k: int, min_distance: float, allowed: torch.Tensor | None = None,
                    side: int = SIDE) -> float:
    """Fraction of uniformly drawn k-subsets of the allowed pixels that satisfy the constraint
    (the acceptance rate of rejection sampling, M-14)."""
    n = len(_allowed_indices(allowed, side * side))
    total = math.comb(n, k)
    return count_separated_tuples(k, min_distance, allowed, side) / total if total else 0.0


def example_separated_tuples(k: int, min_distance: float, n: int, generator: torch.Generator,
                             allowed: torch.Tensor | None = None, side: int = SIDE,
                             max_rounds: int = 1000) -> torch.Tensor:
    """``[n, k]`` int64 sorted pixel k-tuples, pairwise >= min_distance apart, uniform over such
    tuples (rejection sampling). For illustration figures; the analysis samples columns with
    ``kag_utils.core.minors.sample_combinations``."""
    idx = _allowed_indices(allowed, side * side)
    if k < 1 or k > len(idx):
        raise ValueError(f"need 1 <= k <= {len(idx)} allowed pixels, got k = {k}")
    found: list[torch.Tensor] = []
    have = 0
    for _ in range(max_rounds):
        if have >= n:
            break
        batch = max(4 * (n - have), 64)
        cand = torch.argsort(torch.rand(batch, len(idx), generator=generator), dim=1)[:, :k]
        cand = torch.sort(idx[cand], dim=1).values
        ok = cand[is_separated(cand, min_distance, side)]
        found.append(ok)
        have += len(ok)
    if have < n:
        raise ValueError(f"found only {have} of {n} tuples with k={k}, d={min_distance} in "
                         f"{max_rounds} rounds; the constraint is (nearly) unsatisfiable")
    return torch.cat(found)[:n]


def tuples_image(tuples: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """``[side, side]`` int64 for the Fig. 3(a) illustration: t + 1 on the pixels of tuple t,
    0 elsewhere (a later tuple overwrites an earlier one on a shared pixel)."""
    tuples = torch.as_tensor(tuples, dtype=torch.int64)
    image = torch.zeros(side * side, dtype=torch.int64)
    for t, row in enumerate(tuples):
        image[row] = t + 1
    return to_image(image, side)
