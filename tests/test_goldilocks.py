"""The unified Goldilocks window rule (initial model as baseline, half of xor(32)'s effect)."""
import numpy as np
import pytest

from kag_utils.readings.goldilocks import family_grid, goldilocks_window, modest_below


def test_family_grid():
    g = family_grid(0.5, 1.5, 2.5, 0.05, 0.1)
    assert len(g) == 31 and g[0] == 0.5 and g[-1] == 2.5 and 1.55 not in g and 1.6 in g
    assert family_grid(0.5, 1.5, 2.5, 0.5, 1.0) == [0.5, 1.0, 1.5, 2.5]
    with pytest.raises(ValueError):
        family_grid(1.0, 0.5, 2.0, 0.1, 0.1)


LAM = [0.5, 0.6, 0.7, 0.8, 1.0, 1.2, 1.4, 1.6]
#        modest  -> inside ...               -> closes
MEAN = [1.2, 1.4, 2.0, 2.5, 3.0, 2.2, 1.3, 1.0]


def test_window_closes_and_modest_points():
    w = goldilocks_window(LAM, MEAN, [0.05] * 8, 1.0, 0.0, 3.0, 0.05, +1)
    assert (w["low"], w["high"]) == (0.7, 1.2)
    assert w["bounded_low"] and w["bounded_high"]
    assert w["modest"] == [True, True, False, False, False, False, True, False]
    assert w["significant"][-1] is False
    m = modest_below(w, 0.7)
    assert m["holds"] and m["not_noticeable"] and m["decreasing"] and m["n_modest"] == 2


def test_window_running_into_grid_end_is_unbounded():
    w = goldilocks_window(LAM, [3.0] * 8, [0.05] * 8, 1.0, 0.0, 3.0, 0.05, +1)
    assert w["low"] == 0.5 and not w["bounded_low"] and not w["bounded_high"]
    assert modest_below(w, 0.7)["holds"] is False


def test_decreasing_metric_and_unsignificant_reference():
    pr = 5.0 - np.asarray(MEAN)            # PR falls with KA geometry
    w = goldilocks_window(LAM, pr, [0.01] * 8, 4.0, 0.0, 2.0, 0.01, -1)
    assert (w["low"], w["high"]) == (0.7, 1.2)
    w = goldilocks_window(LAM, MEAN, [0.05] * 8, 1.0, 0.5, 1.2, 0.5, +1)
    assert not w["reference_significant"] and w["low"] is None and w["n_inside"] == 0
    with pytest.raises(ValueError):
        goldilocks_window(LAM, MEAN, [0.05] * 8, 1.0, 0.0, 3.0, 0.05, 0)


def test_window_is_the_contiguous_run_of_readings_window():
    mean = [2.5, 1.2, 2.0, 2.5, 3.0, 2.2, 1.3, 1.0]          # 0.5 inside but cut off by 0.6
    w = goldilocks_window(LAM, mean, [0.05] * 8, 1.0, 0.0, 3.0, 0.05, +1)
    assert (w["low"], w["high"]) == (0.7, 1.2) and w["inside"][0] and w["bounded_low"]


def test_window_bound_verdicts():
    from kag_utils.readings.goldilocks import window_bound
    w = goldilocks_window(LAM, MEAN, [0.05] * 8, 1.0, 0.0, 3.0, 0.05, +1)
    assert window_bound(w, "low", 0.7)["verdict"] == "reproduced"
    assert window_bound(w, "high", 1.2)["verdict"] == "reproduced"
    assert window_bound(w, "high", 1.0)["verdict"] == "not reproduced"   # 1.2 vs 1.0 +- 0.1
    assert window_bound(w, "high", 1.1, resolution=0.2)["verdict"] == "reproduced"
    w = goldilocks_window(LAM, [3.0] * 8, [0.05] * 8, 1.0, 0.0, 3.0, 0.05, +1)
    assert window_bound(w, "low", 0.5)["verdict"] == "not reproduced"    # runs into the grid end
