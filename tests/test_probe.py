"""kag_utils.core.probe: the public KA-geometry probe against the exact P1 metrics, exact vs sampled,
every input it refuses, and the CUDA path."""
import copy
import json
import math

import numpy as np
import pytest
import torch

from kag_utils.p1 import models
from kag_utils.p1.evaluation import first_layer_jacobian
from kag_utils.core.metrics import (dependent_zero_row_fraction, p1_metrics, random_rotation_ratios)
from kag_utils.core.probe import METRICS, ProbeReport, probe
from kag_utils.core.rotations import haar_rotations

Q1 = 1e-3


def _p1_pair(m=12, n_x=60):
    """A P1 MLP at init and a 'trained' copy (weights perturbed, three neurons silenced)."""
    init = models.init_params(0, (m,), n_in=3)
    trained = copy.deepcopy(init)
    g = torch.Generator().manual_seed(1)
    trained[0]["W"] = trained[0]["W"] + 0.3 * torch.randn(trained[0]["W"].shape, generator=g,
                                                         dtype=torch.float64)
    trained[0]["W"][:, :3] *= 1e-6
    x = torch.rand(n_x, 3, generator=g, dtype=torch.float64) * 2 - 1
    return trained, init, x


def _first_layer_map(params):
    return lambda x: models.hidden_features(params, x)              # [B, 3] -> [B, m]


def test_agrees_with_p1_metrics_on_a_p1_mlp():
    trained, init, x = _p1_pair()
    rep = probe(_first_layer_map(trained), x, k=(1, 2, 3), reference=_first_layer_map(init),
                q1=Q1, n_rotations=20, seed=3, progress=False)
    assert set(rep.mode.values()) == {"exact"}
    Jt, Ji = first_layer_jacobian(trained, x), first_layer_jacobian(init, x)   # [B, m, n]
    ref = p1_metrics(Jt, Ji, ks=(1, 2, 3), q1s=(Q1,))
    rot = haar_rotations(Jt.shape[1], 20, torch.Generator().manual_seed(3))
    rrt, rri = random_rotation_ratios(Jt, (1, 2, 3), rot), random_rotation_ratios(Ji, (1, 2, 3), rot)
    for k in (1, 2, 3):
        s = f"_k{k}_q{Q1:g}"
        close = lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)  # noqa: E731
        assert close(rep["pr", k][0], ref[f"pr_k{k}"]) and close(rep["pr", k][1], ref[f"pr_init_k{k}"])
        assert close(rep["pr", k][2], ref[f"pr_norm_k{k}"])
        assert close(rep["zero_frac", k][0], ref["zero_frac" + s])
        assert close(rep["zero_frac", k][1], ref["zero_frac_init" + s])
        assert close(rep["divergence", k][0], ref[f"divergence_k{k}"])
        assert close(rep["rr", k][0], rrt[k]) and close(rep["rr", k][1], rri[k])
        if k > 1:
            assert close(rep["dep_frac", k][0], ref["dep_frac" + s])
            assert close(rep["dep_frac", k][1], dependent_zero_row_fraction(Ji, Ji, k, Q1))
        else:
            assert ("dep_frac", 1) not in rep.values
    assert rep["zero_frac", 1][0] >= 3 / 12 - 1e-12                  # the silenced neurons
    # the report's table and dict
    tab = rep.table()
    assert list(tab.columns) == ["ours", "reference", "normalised", "mode"]
    assert set(tab.index.get_level_values("metric")) == set(METRICS)
    d = rep.to_dict()
    json.dumps(d)
    assert d["values"]["pr_k2"]["ours"] == rep["pr", 2][0]
    assert isinstance(rep, ProbeReport) and "pr" in repr(rep)


def test_exhaustive_sample_equals_exact():
    """When the tuple samples cover every tuple the sampled path IS the exact one."""
    trained, init, x = _p1_pair(m=8, n_x=30)
    kw = dict(k=(1, 2, 3), reference=_first_layer_map(init), n_rotations=10, progress=False)
    ex = probe(_first_layer_map(trained), x, **kw)
    sa = probe(_first_layer_map(trained), x, max_exact=0, n_samples=10 ** 6, rr_samples=10 ** 6, **kw)
    assert set(sa.mode.values()) == {"sampled"}
    for key, (o, r, nm) in ex.values.items():
        np.testing.assert_allclose(sa.values[key], (o, r, nm), rtol=1e-9, atol=1e-12,
                                   err_msg=str(key))


def test_sampled_agrees_with_exact_within_sampling_error():
    """Sampled grids (a third of the row tuples) over several seeds: the normalised PR and
    the zero fraction scatter around the exact values within 4 standard errors."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh())
    init = copy.deepcopy(net)
    with torch.no_grad():
        net[0].weight.mul_(torch.linspace(0.05, 2.0, 16)[:, None])
    x = torch.randn(24, 6)
    kw = dict(k=2, reference=init, n_rotations=0, progress=False)
    ex = probe(net, x, **kw)
    assert ex.mode[2] == "exact"
    draws = {"pr": [], "zero_frac": []}
    for seed in range(6):
        sa = probe(net, x, max_exact=0, n_samples=40, seed=seed, **kw)  # 40 of C(16,2) = 120 rows
        assert sa.mode[2] == "sampled"
        draws["pr"].append(sa["pr", 2][2])                          # normalised
        draws["zero_frac"].append(sa["zero_frac", 2][0])
    for metric, col in (("pr", 2), ("zero_frac", 0)):
        v = np.array(draws[metric])
        se = v.std(ddof=1) / math.sqrt(len(v))
        assert abs(v.mean() - ex[metric, 2][col]) <= 4 * se + 1e-3 * abs(ex[metric, 2][col]), \
            (metric, v, ex[metric, 2])


# ----------------------------------------------------------------------------- refusals
def _lin(n_in=4, n_out=5):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(n_in, n_out), torch.nn.GELU())


@pytest.mark.parametrize("f, x, kw, match", [
    (lambda x: (x * 3).long(), torch.randn(4, 3), {}, "no derivative"),
    (lambda x: x.detach() * 2, torch.randn(4, 3), {}, "no gradient path"),
    (lambda x: torch.round(x), torch.randn(4, 3), {}, "identically zero"),
    (lambda x: x.sum(), torch.randn(4, 3), {}, "batch axis"),
    (lambda x: x[:1] * 2, torch.randn(4, 3), {}, "batch axis"),
    (lambda x: x * 2, torch.randn(0, 3), {}, "empty batch"),
    (lambda x: x * 2, torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), {}, "NaN"),
    (lambda x: torch.sqrt(x), torch.tensor([[0.0, 1.0], [2.0, 3.0]]), dict(k=1), "NaN/inf"),
    (lambda x: x * 2, torch.arange(6).reshape(2, 3), {}, "floating point"),
    (lambda x: x * 2, torch.randn(4, 3), dict(k=(1, 4)), "exceeds min"),
    (lambda x: x * 2, torch.randn(4, 3), dict(k=0), "positive ints"),
    (lambda x: x * 2, torch.randn(4, 3), dict(reference=lambda x: x[:, :2]), "same shapes"),
    (lambda x: x * 2, torch.randn(4, 3), dict(reference=lambda x: x[:2]), "batch axis"),
    (lambda x: x * 2, torch.randn(4, 3), dict(reference="init"), "callable"),
    (lambda x: x * 2, torch.randn(4, 3), dict(max_jacobian_elements=10), "fewer examples"),
])
def test_refuses_with_a_helpful_message(f, x, kw, match):
    with pytest.raises(ValueError, match=match):
        probe(f, x, progress=False, **kw)


def test_batch_statistics_are_refused_and_eval_mode_restored():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.Tanh())
    net.train()
    x = torch.randn(8, 4)
    with pytest.raises(ValueError, match="mixes examples"):
        probe(net, x, k=1, eval_mode=False, progress=False)
    rep = probe(net, x, k=1, n_rotations=0, progress=False)         # eval mode: running stats
    assert net.training and net[1].training                          # restored
    assert ("pr", 1) in rep.values and ("rr", 1) not in rep.values


def test_no_reference_and_image_shaped_inputs():
    """Conv stack on [B, 1, 6, 6] images: flattening, no reference (own thresholds); ReLU's
    exactly-zero outputs make Q^(k) = 0, which the probe reports."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())   # 36 -> 2*4*4 = 32
    x = torch.randn(5, 1, 6, 6)
    with pytest.warns(RuntimeWarning) as rec:                        # ReLU: exactly zero rows
        rep = probe(net, x, k=(1, 2), n_rotations=5, progress=False)
    assert {str(w.message)[:8] for w in rec} == {"Q^(1) = ", "Q^(2) = "}
    assert rep["zero_frac", 1][0] == 0.0
    assert (rep.info["m"], rep.info["n"]) == (32, 36)
    assert math.isnan(rep["pr", 1][1]) and math.isnan(rep["pr", 1][2])
    assert rep["pr", 1][0] > 1 and ("divergence", 1) not in rep.values     # KL(P || P) = 0


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu():
    trained, init, x = _p1_pair(m=10, n_x=40)
    kw = dict(k=(1, 2, 3), n_rotations=10, progress=False)
    cpu = probe(_first_layer_map(trained), x, reference=_first_layer_map(init), **kw)
    to = lambda p: [{k: v.cuda() for k, v in layer.items()} for layer in p]  # noqa: E731
    gpu = probe(_first_layer_map(to(trained)), x.cuda(), reference=_first_layer_map(to(init)), **kw)
    assert gpu.info["device"].startswith("cuda")
    for key, v in cpu.values.items():
        np.testing.assert_allclose(gpu.values[key], v, rtol=1e-6, atol=1e-9, err_msg=str(key))
    sa = probe(_first_layer_map(to(trained)), x.cuda(), reference=_first_layer_map(to(init)),
               max_exact=0, n_samples=10 ** 6, rr_samples=10 ** 6, **kw)
    for key, v in cpu.values.items():
        np.testing.assert_allclose(sa.values[key], v, rtol=1e-6, atol=1e-9, err_msg=str(key))
