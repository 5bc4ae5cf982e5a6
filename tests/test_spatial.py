"""P2 spatial samplers: pixel coordinates, Euclidean balls, rectangles, separated tuples."""
from __future__ import annotations

import itertools
import math

import pytest
import torch

from kag_utils.mnist import spatial as sp


def test_coordinates_follow_flattening_order():
    c = sp.pixel_coords()
    assert c.shape == (784, 2) and c.dtype == torch.int64
    idx = torch.arange(784)
    assert torch.equal(c[:, 0], idx // 28) and torch.equal(c[:, 1], idx % 28)
    image = torch.arange(784).reshape(28, 28)                  # image[r, c] -> flat index
    assert torch.equal(sp.to_image(idx), image)
    assert sp.pixel_index(3, 5) == image[3, 5] == 89
    with pytest.raises(ValueError):
        sp.pixel_index(28, 0)
    d = sp.pairwise_distances()
    assert d[sp.pixel_index(0, 0), sp.pixel_index(3, 4)] == 5.0


def test_ball_sizes_match_derived_numbers():
    """REPRODUCTION §2.15 DERIVED: |S| = 149, 611, 784, 784 around (14, 14) with distance <= r
    (distance < r would give 145, 609, ...), 119.5 / 377.8 / 624.9 / 764.5 on average."""
    sizes = [len(sp.ball_indices((14, 14), r)) for r in sp.RADII]
    assert sizes == [149, 611, 784, 784]
    means = [round(sp.mean_ball_size(r), 1) for r in sp.RADII]
    assert means == [119.5, 377.8, 624.9, 764.5]
    assert len(sp.ball_indices((0, 0), 7)) < 149                # clipped at the corner
    assert len(sp.ball_indices((5, 5), 0)) == 1


def test_ball_mask_brute_force():
    for (r0, c0), rad in (((3, 20), 5), ((27, 0), 9.5), ((14, 7), 2.2)):
        expected = torch.tensor([(r - r0) ** 2 + (c - c0) ** 2 <= rad ** 2
                                 for r in range(28) for c in range(28)])
        assert torch.equal(sp.ball_mask((r0, c0), rad), expected)
    with pytest.raises(ValueError):
        sp.ball_mask((0, 0), -1)


def test_sample_balls():
    sel = sp.sample_balls(n_draws=6, seed=3)
    assert sel.seeds.shape == (6, 2) and sel.masks.shape == (6, 4, 784) and sel.sizes.shape == (6, 4)
    assert int(sel.seeds.min()) >= 0 and int(sel.seeds.max()) <= 27
    again = sp.sample_balls(n_draws=6, generator=torch.Generator().manual_seed(3))
    assert torch.equal(again.masks, sel.masks)
    assert torch.all(sel.masks[:, :-1] <= sel.masks[:, 1:])      # nested: one seed pixel per draw
    for d in range(6):
        for i, r in enumerate(sel.radii):
            assert torch.equal(sel.indices(d, i), sp.ball_indices(sel.seeds[d].tolist(), r))
    assert torch.equal(sel.sizes, sel.masks.sum(-1))
    with pytest.raises(ValueError):
        sp.sample_balls(n_draws=2)
    # uniform over pixels: every pixel is a possible seed
    seeds = sp.sample_seed_pixels(20000, torch.Generator().manual_seed(0))
    counts = torch.bincount(seeds[:, 0] * 28 + seeds[:, 1], minlength=784)
    assert counts.min() > 0 and abs(counts.double().mean() - 20000 / 784) < 1e-9


def test_nested_balls_image():
    img = sp.nested_balls_image((14, 14), (7, 14))
    assert img.shape == (28, 28)
    assert img[14, 14] == -1 and img[14, 20] == 1 and img[14, 25] == 2 and img[0, 0] == 0
    assert int((img == 1).sum()) == 149 - 1 and int((img != 0).sum()) == 611


def test_regions():
    masks = sp.region_masks()
    assert list(masks) == ["TL", "TR", "BL", "BR", "center"]
    for m in masks.values():
        assert m.shape == (784,) and int(m.sum()) == 196
    quadrants = torch.stack([masks[k] for k in ("TL", "TR", "BL", "BR")]).sum(0)
    assert torch.all(quadrants == 1)                              # a partition of the grid
    center = sp.to_image(masks["center"])
    assert center[7:21, 7:21].all() and int(center.sum()) == 196
    assert not center[6].any() and not center[:, 21].any()
    for k in ("TL", "TR", "BL", "BR"):
        assert int((masks[k] & masks["center"]).sum()) == 49
    tl = sp.to_image(masks["TL"])
    assert tl[13, 13] and not tl[14, 13] and not tl[13, 14]
    with pytest.raises(ValueError):
        sp.region_mask("middle")


def test_min_pairwise_distance_and_is_separated():
    t = torch.tensor([[sp.pixel_index(0, 0), sp.pixel_index(0, 3), sp.pixel_index(4, 0)],
                      [sp.pixel_index(5, 5), sp.pixel_index(6, 6), sp.pixel_index(20, 20)]])
    torch.testing.assert_close(sp.min_pairwise_distance(t),
                               torch.tensor([3.0, math.sqrt(2)], dtype=torch.float64))
    assert sp.is_separated(t, 3).tolist() == [True, False]
    assert sp.is_separated(t, 1).tolist() == [True, True]       # d = 1: no constraint
    assert math.isinf(float(sp.min_pairwise_distance(t[:, :1])[0]))


def test_separation_mask():
    m = sp.separation_mask(4)
    d = sp.pairwise_distances()
    assert m.shape == (784, 784) and not m.diagonal().any()
    assert torch.equal(m, (d >= 4) & (d > 0))
    assert torch.equal(m, m.T)


@pytest.mark.parametrize("d", sp.MIN_DISTANCES)
def test_counts_match_brute_force(d):
    allowed = sp.ball_mask((10, 12), 4.5)                        # 69 pixels
    idx = torch.nonzero(allowed).flatten()
    n = len(idx)
    pairs = torch.tensor(list(itertools.combinations(idx.tolist(), 2)))
    triples = torch.tensor(list(itertools.combinations(idx.tolist(), 3)))
    assert sp.count_separated_tuples(2, d, allowed) == int(sp.is_separated(pairs, d).sum())
    assert sp.count_separated_tuples(3, d, idx) == int(sp.is_separated(triples, d).sum())
    assert sp.count_separated_tuples(1, d, allowed) == n
    rate = sp.acceptance_rate(2, d, allowed)
    assert rate == pytest.approx(int(sp.is_separated(pairs, d).sum()) / math.comb(n, 2))


def test_full_grid_counts_and_rates():
    assert sp.count_separated_tuples(2, 1) == math.comb(784, 2)
    assert sp.count_separated_tuples(3, 1) == math.comb(784, 3)
    assert sp.acceptance_rate(3, 1) == 1.0
    rates = [sp.acceptance_rate(2, d) for d in sp.MIN_DISTANCES]
    assert all(a >= b for a, b in zip(rates, rates[1:])) and rates[-1] > 0.5
    d2 = sp.pairwise_distances()
    assert sp.count_separated_tuples(2, 14) == int(((d2 >= 14).sum()) // 2)
    with pytest.raises(ValueError):
        sp.count_separated_tuples(4, 2)
    with pytest.raises(ValueError):
        sp.count_separated_tuples(2, 2, torch.tensor([1, 1, 2]))


def test_example_separated_tuples():
    g = torch.Generator().manual_seed(0)
    t = sp.example_separated_tuples(3, 14, 25, g)
    assert t.shape == (25, 3) and sp.is_separated(t, 14).all()
    assert torch.all(t[:, 1:] > t[:, :-1])                       # sorted, distinct
    allowed = sp.region_mask("center")
    u = sp.example_separated_tuples(2, 7, 10, torch.Generator().manual_seed(1), allowed=allowed)
    assert allowed[u].all() and sp.is_separated(u, 7).all()
    again = sp.example_separated_tuples(3, 14, 25, torch.Generator().manual_seed(0))
    assert torch.equal(again, t)
    # uniform over the valid tuples of a tiny allowed set (4 pixels on a row, d = 2)
    tiny = torch.tensor([sp.pixel_index(0, c) for c in range(4)])
    draws = sp.example_separated_tuples(2, 2, 3000, torch.Generator().manual_seed(2), allowed=tiny)
    valid = {(0, 2), (0, 3), (1, 3)}
    counts = {v: 0 for v in valid}
    for row in draws.tolist():
        counts[tuple(row)] += 1
    assert all(abs(c / 3000 - 1 / 3) < 0.04 for c in counts.values())
    with pytest.raises(ValueError, match="unsatisfiable"):
        sp.example_separated_tuples(3, 3, 1, torch.Generator().manual_seed(0), allowed=tiny,
                                    max_rounds=5)


def test_tuples_image():
    t = torch.tensor([[0, 783], [30, 500]])
    img = sp.tuples_image(t)
    assert img.shape == (28, 28)
    assert img[0, 0] == 1 and img[27, 27] == 1 and img[1, 2] == 2 and int((img > 0).sum()) == 4
