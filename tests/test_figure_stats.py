"""Statistics behind P1's verbal figure claims (kag_utils.figure_stats), against slow
faithful references; each test can fail."""
import numpy as np
import pytest
import torch
from scipy import stats

from kag_utils import claims
from kag_utils import figure_stats as fs
from kag_utils.dead_neurons import bias_silenced, dead_neuron_analysis
from kag_utils.models import init_params

rng = np.random.default_rng(0)


def test_smallest_weight_row_rank_by_definition():
    A = rng.normal(size=(3, 8))
    A[:, 5] *= 1e-3                                                      # smallest weight row
    sig = rng.uniform(0.2, 1.1, size=(50, 8))                           # sigma'(z_j(x))
    J = sig[:, :, None] * A.T[None]                                     # (II.3): [B, m, n]
    r = fs.smallest_weight_row_rank(A, J)
    assert r.shape == (50,) and np.all(r == 0.0)                        # always the smallest
    # slow reference: scipy's average ranks
    J2 = rng.normal(size=(40, 8, 3))
    exp = [(stats.rankdata(np.abs(Jx).mean(1))[5] - 1) / 7 for Jx in J2]
    np.testing.assert_allclose(fs.smallest_weight_row_rank(A, J2), exp)
    assert 0.3 < fs.smallest_weight_row_rank(A, rng.normal(size=(400, 8, 3))).mean() < 0.7
    with pytest.raises(ValueError, match="A"):
        fs.smallest_weight_row_rank(A, J2[:, :, :2])


def test_row_effect_share_anova():
    r, c = rng.uniform(0.1, 10, size=6), rng.uniform(0.1, 10, size=3)
    J = np.outer(r, c)[None]                                            # rank one, positive
    lr, lc = np.log10(r), np.log10(c)
    exp = lr.var() / (lr.var() + lc.var())
    assert fs.row_effect_share(J)[0] == pytest.approx(exp, rel=1e-12)
    bars = np.repeat(rng.uniform(0.1, 5, size=(2, 6, 1)), 3, axis=2)   # constant rows
    np.testing.assert_allclose(fs.row_effect_share(bars), 1.0)
    # slow reference: one-way ANOVA sums of squares by loops
    X = rng.normal(size=(4, 5, 3))
    for b in range(4):
        L = np.log10(np.abs(X[b]))
        mu = L.mean()
        ss_t = sum((L[j, i] - mu) ** 2 for j in range(5) for i in range(3))
        ss_b = sum(3 * (L[j].mean() - mu) ** 2 for j in range(5))
        assert fs.row_effect_share(X)[b] == pytest.approx(ss_b / ss_t, rel=1e-12)
    assert np.isnan(fs.row_effect_share(np.ones((1, 4, 3)))[0])
    assert fs.row_effect_share(torch.ones(1, 4, 3, dtype=torch.float64)).shape == (1,)


def test_zipf_inflection_finds_the_slowest_rise():
    # log10 values whose slope against rank is smallest at rank 0.3: y = (r - 0.3)^3 + r
    r = np.linspace(0, 1, 20001)
    for centre in (0.3, 0.55):
        v = 10 ** (8 * (r - centre) ** 3 + 0.5 * r)
        assert fs.zipf_inflection(rng.permutation(v)) == pytest.approx(centre, abs=0.011)
    with pytest.raises(ValueError):
        fs.zipf_inflection(np.ones(5))


def test_smallest_positive():
    v = np.array([0.0, 0.0, 1e-20, 1e-3, 1.0])
    assert fs.smallest_positive_log10(v) == (pytest.approx(-20.0), 2)
    with pytest.raises(ValueError):
        fs.smallest_positive_log10(np.zeros(3))


def test_gap_and_all_of():
    assert fs.gap_to_max(1.5, 0.3, [1.0, 1.2], [0.1, 0.4]) == (pytest.approx(0.3),
                                                              pytest.approx(0.5))
    ok, no, inc = ({"verdict": v} for v in ("reproduced", "not reproduced", "inconclusive"))
    assert claims.all_of([ok, ok]) == "reproduced"
    assert claims.all_of([ok, inc]) == "inconclusive"
    assert claims.all_of([inc, no, ok]) == "not reproduced"
    with pytest.raises(ValueError):
        claims.all_of([])


def test_bias_silenced():
    params = init_params(0, (6,), 3, 1, torch.float64)
    x = torch.rand(200, 3, dtype=torch.float64) * 2 - 1
    base = dead_neuron_analysis(params, params, x)
    assert bias_silenced(base) == 0
    # neuron 2 silenced by a large negative bias, neuron 4 by zero weights
    params[0]["b"][2] = -20.0
    params[0]["W"][:, 4] = 0.0
    res = dead_neuron_analysis(params, init_params(0, (6,), 3, 1, torch.float64), x)
    assert {2, 4} <= set(res["rows"])
    assert bias_silenced(res) == 1
