"""Tests of kag_utils.claims (composite readings of notebooks 04-05) and tails.tail_shares."""
import numpy as np
import pytest

from kag_utils import claims, tails


# ------------------------------------------------------------------------ near_each
def test_near_each_all_close_is_reproduced():
    r = claims.near_each([0.99, 0.95, 0.90], [1.0, 0.96, 0.91], 0.001)
    assert r["verdict"] == "reproduced" and r["n_off"] == 0


def test_near_each_one_point_off_fails_and_is_named():
    # 10 % of 0.43 is 0.043; a gap of 0.13 with SE 0.02 is far outside (2 SE + 0.043 = 0.083)
    r = claims.near_each([0.99, 0.30], [1.0, 0.43], [0.001, 0.02])
    assert r["verdict"] == "not reproduced" and r["n_off"] == 1 and r["worst_index"] == 1
    assert r["worst_diff"] == pytest.approx(-0.13)


def test_near_each_large_errors_are_inconclusive():
    r = claims.near_each([0.5], [0.6], [0.2])        # 2 SE = 0.4 > half of the scale 0.6
    assert r["verdict"] == "inconclusive"


def test_near_each_shape_mismatch():
    with pytest.raises(ValueError, match="equal length"):
        claims.near_each([1.0, 2.0], [1.0], 0.1)


# ------------------------------------------------------------------ signal strength
@pytest.mark.parametrize("mean,se,cls,verdict", [
    (1.0, 0.01, "none", "not reproduced"),        # at the baseline: a measured null
    (1.3, 0.02, "modest", "reproduced"),          # significant, 30 % of the reference effect
    (1.8, 0.02, "KA-like", "not reproduced"),     # 80 % of the reference effect: not weak
    (1.2, 0.3, "inconclusive", "inconclusive"),   # 2 SE = 0.6 > half the reference effect
    (0.7, 0.02, "none", "not reproduced"),        # significant against the KA direction
])
def test_weak_signal_classes(mean, se, cls, verdict):
    r = claims.weak_signal(mean, se, baseline=1.0, baseline_se=0.0, reference=2.0)
    assert r["class"] == cls and r["verdict"] == verdict


def test_signal_strength_direction_minus_one_and_effect():
    # PR drops with KA geometry: baseline 1, reference 0.5; 0.9 is 20 % of the effect
    r = claims.signal_strength(0.9, 0.01, 1.0, 0.0, 0.5, direction=-1)
    assert r["class"] == "modest" and r["effect"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="reference"):
        claims.signal_strength(0.9, 0.01, 1.0, 0.0, 1.5, direction=-1)


# ------------------------------------------------------------------- extremum_near
def test_extremum_near_location_and_significance():
    ext = {"x": 0.85, "beyond_ends": True}
    assert claims.extremum_near(ext, 0.85)["verdict"] == "reproduced"
    # the complaint of issue 12: paper 0.85, ours 0.85, plateau reaching an end of the grid
    flat = {"x": 0.85, "beyond_ends": False}
    r = claims.extremum_near(flat, 0.85)
    assert r["verdict"] == "inconclusive" and r["location"] == "reproduced"
    far = {"x": 0.60, "beyond_ends": True}
    assert claims.extremum_near(far, 0.85)["verdict"] == "not reproduced"
    # "near" is 10 % of 0.85 = 0.085; a grid step of 0.05 adds half a step
    assert claims.extremum_near({"x": 0.95, "beyond_ends": True}, 0.85)["verdict"] == "not reproduced"
    assert claims.extremum_near({"x": 0.95, "beyond_ends": True}, 0.85,
                                resolution=0.05)["verdict"] == "reproduced"
    with pytest.raises(ValueError, match="extremum"):
        claims.extremum_near({"x": 1.0}, 1.0)


def test_at_or_before():
    assert claims.at_or_before(0.05, 0.5)["verdict"] == "reproduced"     # well before
    assert claims.at_or_before(0.55, 0.5)["verdict"] == "reproduced"     # within 10 %
    assert claims.at_or_before(0.60, 0.5)["verdict"] == "not reproduced"
    assert claims.at_or_before(0.60, 0.5, resolution=0.1)["verdict"] == "reproduced"
    assert claims.at_or_before(None, 0.5)["verdict"] == "not reproduced"


# --------------------------------------------------------------------- tail shares
def _shares_reference(trained, initial, lo, hi):
    """Slow faithful reference: sort the initial sample, interpolate its quantiles by hand
    (numpy 'linear' = position (n - 1) q), count trained values by a Python loop."""
    s = sorted(initial)
    def q(p):
        pos = (len(s) - 1) * p
        i = int(pos)
        return s[i] + (pos - i) * (s[min(i + 1, len(s) - 1)] - s[i])
    ql, qh = q(lo), q(hi)
    below = sum(1 for t in trained if t < ql) / len(trained)
    above = sum(1 for t in trained if t > qh) / len(trained)
    return below, above


def test_tail_shares_matches_reference():
    rng = np.random.default_rng(0)
    init = rng.lognormal(0.0, 1.0, 2001)
    trained = np.concatenate([rng.lognormal(0.0, 2.5, 1500), np.zeros(7)])
    r = tails.tail_shares(trained, init)
    below, above = _shares_reference(trained, init, 0.01, 0.99)
    assert r["below"] == pytest.approx(below) and r["above"] == pytest.approx(above)
    assert r["below_excess"] == pytest.approx(below / 0.01)


def test_tail_shares_null_spread_and_rescaling():
    rng = np.random.default_rng(1)
    init = rng.lognormal(0.0, 1.0, 200_000)
    same = tails.tail_shares(rng.lognormal(0.0, 1.0, 200_000), init)
    assert same["below"] == pytest.approx(0.01, abs=0.002)
    assert same["above"] == pytest.approx(0.01, abs=0.002)
    wide = tails.tail_shares(rng.lognormal(0.0, 2.0, 200_000), init)   # peaked AND heavy
    assert wide["below"] > 0.05 and wide["above"] > 0.05
    scaled = tails.tail_shares(10 * init, init)                         # a rescaling only
    assert scaled["above"] > 0.05 and scaled["below"] < 0.01
    with pytest.raises(ValueError, match="lo < hi"):
        tails.tail_shares(init, init, lo=0.9, hi=0.1)


# --------------------------------------------------------------- order of magnitude
@pytest.mark.parametrize("ours,paper,verdict,decade", [
    (4.3, 4.0, "reproduced", "reproduced"),
    (4.66, 4.0, "not reproduced", "reproduced"),   # 4.6e4: rounds to 10^5, lies in 10^4's decade
    (3.8, 4.0, "reproduced", "not reproduced"),
    (12.07, 45.0, "not reproduced", "not reproduced"),
    (1.04, 1.0, "reproduced", "reproduced"),
])
def test_order_of_magnitude(ours, paper, verdict, decade):
    r = claims.order_of_magnitude(ours, paper)
    assert r["verdict"] == verdict and r["decade_verdict"] == decade
    assert r["diff"] == pytest.approx(ours - paper)


def test_all_of_and_only_at():
    assert claims.all_of(["reproduced", "reproduced"]) == "reproduced"
    assert claims.all_of(["reproduced", "inconclusive"]) == "inconclusive"
    assert claims.all_of(["inconclusive", "not reproduced"]) == "not reproduced"
    with pytest.raises(ValueError):
        claims.all_of([])
    R, N, I = "reproduced", "not reproduced", "inconclusive"
    assert claims.only_at({32: N, 256: N, 1000: R}, 1000) == R
    assert claims.only_at({32: N, 256: R, 1000: R}, 1000) == N      # also elsewhere
    assert claims.only_at({32: N, 256: N, 1000: N}, 1000) == N      # not even there
    assert claims.only_at({32: I, 256: N, 1000: R}, 1000) == I
    with pytest.raises(ValueError, match="not among"):
        claims.only_at({32: R}, 1000)
