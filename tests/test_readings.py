import numpy as np
import pytest

from kag_utils import readings as an

X = np.round(np.arange(0, 1.0, 0.1), 2)          # 0.0 ... 0.9


def test_significant_uses_combined_se_and_direction():
    mean = np.array([1.0, 1.3, 0.7])
    assert an.significant(mean, 0.1, 1.0).tolist() == [False, True, False]
    assert an.significant(mean, 0.1, 1.0, direction=-1).tolist() == [False, False, True]
    # baseline SE widens the band: 0.3 > 2 * sqrt(0.1^2 + 0.1^2) = 0.283 but not 2 * 0.2
    assert an.significant(mean, 0.1, 1.0, baseline_se=0.1)[1]
    assert not an.significant(mean, 0.2, 1.0)[1]


def test_onset_is_sustained():
    # an isolated early fluctuation (x = 0.1) is not the onset; the signal from 0.5 on is
    mean = np.array([1.0, 1.5, 1.0, 1.0, 1.1, 2.0, 3.0, 4.0, 4.0, 5.0])
    out = an.onset(X, mean, 0.1, baseline=1.0)
    assert out["x"] == 0.5 and out["index"] == 5 and out["first_significant"] == 0.1
    # a signal that disappears at the end has no sustained onset
    assert an.onset(X, np.r_[mean[:-1], 1.0], 0.1, baseline=1.0) is None
    # decreasing metrics (PR) with direction -1
    assert an.onset(X, 2.0 - mean / 5, 0.03, baseline=1.8, direction=-1)["x"] == 0.5


def test_half_rise():
    mean = np.array([1, 1, 1, 2, 3, 5, 9, 9, 8, 9.0])
    out = an.half_rise(X, mean, baseline=1.0)
    assert out["peak_excess"] == 8.0 and out["x"] == 0.5     # first excess >= 4
    assert an.half_rise(X, np.ones(10), baseline=1.0) is None


def test_window_around_the_peak():
    lam = np.round(np.arange(0.5, 1.55, 0.1), 2)              # 11 points
    mean = np.array([1.0, 1.05, 1.5, 2.0, 3.0, 3.5, 2.5, 1.5, 1.0, 1.4, 1.0])
    out = an.window(lam, mean, 0.1, baseline=1.0)
    assert (out["low"], out["high"], out["peak"]) == (0.7, 1.2, 1.0)
    assert out["bounded_low"] and out["bounded_high"] and out["n_points"] == 6
    assert out["n_flagged_outside"] == 1                      # the isolated point at 1.4
    hm = an.half_max_window(lam, mean, baseline=1.0)          # excess >= 1.25
    assert (hm["low"], hm["high"]) == (0.9, 1.1)
    # a window touching the grid's edge is not bounded there
    edge = an.window(lam, np.linspace(3, 1, 11), 0.1, baseline=1.0)
    assert edge["low"] == 0.5 and not edge["bounded_low"] and edge["bounded_high"]
    assert an.window(lam, np.ones(11), 0.1, baseline=1.0) is None
    assert an.half_max_window(lam, np.ones(11), baseline=1.0) is None


def test_extremum_plateau_and_ends():
    mean = np.array([1.0, 0.9, 0.7, 0.5, 0.45, 0.5, 0.6, 0.65, 0.7, 0.8])
    out = an.extremum(X, mean, 0.02, kind="min")
    assert out["x"] == 0.4 and out["interior"] and out["beyond_ends"]
    assert (out["plateau_low"], out["plateau_high"]) == (0.3, 0.5)   # within 2*sqrt(2)*0.02
    mono = an.extremum(X, np.arange(10.0), 0.5, kind="max")
    assert mono["x"] == 0.9 and not mono["interior"] and not mono["beyond_ends"]
    broad = an.extremum(X, mean, 0.2, kind="min")                      # large error bars
    assert broad["interior"] and not broad["beyond_ends"]
    assert broad["plateau_high"] - broad["plateau_low"] > 0.3


def test_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        an.onset([0.2, 0.1], [1, 2], 0.1, baseline=0)
    with pytest.raises(ValueError, match="NaN"):
        an.window([0.1, 0.2], [1, np.nan], 0.1, baseline=0)
    with pytest.raises(ValueError, match="direction"):
        an.significant([1.0], 0.1, 0.0, direction=2)
    with pytest.raises(ValueError, match="kind"):
        an.extremum([0.1, 0.2], [1, 2], 0.1, kind="peak")
    with pytest.raises(ValueError, match="equal length"):
        an.half_rise([0.1, 0.2], [1.0], baseline=0)


def test_extremum_paired_by_seed():
    # three seeds with different offsets but the same shape: a minimum at x = 0.4 that an
    # unpaired test cannot separate from the last point, while paired differences can
    shape = np.array([1.0, 0.9, 0.7, 0.5, 0.45, 0.5, 0.6, 0.65, 0.7, 0.55])
    samples = np.stack([shape + off for off in (-0.3, 0.0, 0.3)])
    samples[:, -1] += [0.0, 0.02, 0.04]          # some scatter in the end's difference
    mean = samples.mean(0)
    se = samples.std(0, ddof=1) / np.sqrt(3)
    unpaired = an.extremum(X, mean, se, kind="min")
    paired = an.extremum(X, mean, se, kind="min", samples=samples)
    assert unpaired["x"] == paired["x"] == 0.4
    assert not unpaired["beyond_ends"] and paired["beyond_ends"] and paired["paired"]
    d = samples[:, -1] - samples[:, 4]
    assert an.paired_se(samples, 4)[-1] == pytest.approx(d.std(ddof=1) / np.sqrt(3))
    # a seed that never reached a point drops out of that pair only
    samples[0, 9] = np.nan
    assert np.isfinite(an.paired_se(samples, 4)).all()
    with pytest.raises(ValueError, match="samples"):
        an.extremum(X, mean, se, samples=samples[:, :3])
