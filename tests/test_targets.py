"""Target registry and data sets: formulas vs numpy, seeds, splits, errors (A-01..A-03, A-30)."""
import math

import numpy as np
import pytest
import torch
from scipy.stats import special_ortho_group

from kag_utils.p1.targets import (TARGETS, check_target, evaluate_target, linear_coefficients,
                               make_dataset, make_inputs, random_labels, so_matrix, target_info)


@pytest.fixture
def x():
    return make_inputs(500, "train", data_seed=0)


def test_registry_names():
    assert set(TARGETS) == {"xor", "linear", "random", "lambda_xor", "so_xor", "gaussian"}


def test_inputs_uniform_cube_and_split_independence(x):
    assert x.shape == (500, 3) and x.dtype == torch.float64
    assert x.min() >= -1 and x.max() <= 1 and abs(float(x.mean())) < 0.05
    assert torch.equal(make_inputs(500, "train", 0), x)
    assert not torch.equal(make_inputs(500, "val", 0), x)
    assert not torch.equal(make_inputs(500, "train", 1), x)
    # the first rows do not depend on the split size
    assert torch.equal(make_inputs(700, "train", 0)[:500], x)


def test_formulas_against_numpy(x):
    xn = x.numpy()
    np.testing.assert_allclose(evaluate_target("xor", x), np.prod(np.sin(np.pi * xn), 1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(evaluate_target("lambda_xor", x, 1.3),
                               np.prod(np.sin(1.3 * np.pi * xn), 1), rtol=0, atol=1e-15)
    np.testing.assert_allclose(evaluate_target("lambda_xor", x, 1.0), evaluate_target("xor", x), atol=0)
    c, c0 = linear_coefficients(7)
    assert c.shape == (3,) and np.all(np.abs(c) <= 1) and abs(c0) <= 1
    np.testing.assert_allclose(evaluate_target("linear", x, function_seed=7), xn @ c + c0, atol=1e-15)
    O = special_ortho_group.rvs(3, random_state=4)
    np.testing.assert_allclose(evaluate_target("so_xor", x, 4),
                               np.prod(np.sin(np.pi * (xn @ O.T)), 1), atol=1e-14)
    np.testing.assert_allclose(evaluate_target("gaussian", x, 0.3),
                               np.prod(np.exp(-xn ** 2 / (2 * 0.3 ** 2)), 1), rtol=1e-14)


def test_so_matrix_is_a_rotation_and_recorded():
    O = so_matrix(3)
    np.testing.assert_allclose(O @ O.T, np.eye(3), atol=1e-14)
    assert math.isclose(np.linalg.det(O), 1.0, abs_tol=1e-12)
    assert torch.equal(target_info("so_xor", 3)["O"], torch.from_numpy(O))
    info = target_info("linear", function_seed=5)
    c, c0 = linear_coefficients(5)
    assert torch.equal(info["c"], torch.from_numpy(c)) and info["c0"] == c0


def test_random_labels_fixed_per_example_and_independent_splits():
    a = random_labels(1000, "train", 0)
    assert torch.equal(a, random_labels(1000, "train", 0))
    assert a.min() >= -1 and a.max() <= 1 and abs(float(a.mean())) < 0.1
    assert not torch.equal(random_labels(1000, "val", 0), a)
    assert not torch.equal(random_labels(1000, "test", 0), random_labels(1000, "val", 0))
    assert not torch.equal(random_labels(1000, "train", 1), a)


def test_dataset_inputs_shared_across_functions_and_dtype():
    ds = {t: make_dataset(t, p, n_train=50, n_val=20, n_test=30)
          for t, p in [("xor", None), ("linear", None), ("random", None), ("so_xor", 1),
                       ("lambda_xor", 0.7), ("gaussian", 0.5)]}
    for t, d in ds.items():
        assert [d[s][0].shape[0] for s in ("train", "val", "test")] == [50, 20, 30]
        for s in ("train", "val", "test"):
            assert torch.equal(d[s][0], ds["xor"][s][0]), (t, s)
    f32 = make_dataset("xor", n_train=50, n_val=20, n_test=30, dtype=torch.float32)
    assert f32["train"][1].dtype == torch.float32
    assert torch.equal(f32["train"][1], ds["xor"]["train"][1].float())
    assert torch.equal(ds["random"]["train"][1], random_labels(50, "train", 0))


def test_errors():
    with pytest.raises(ValueError, match="unknown target 'sine'.*xor, linear, random"):
        check_target("sine")
    with pytest.raises(ValueError, match="needs its parameter 'lam'"):
        make_dataset("lambda_xor")
    with pytest.raises(ValueError, match="takes no parameter"):
        check_target("xor", 1.0)
    with pytest.raises(ValueError, match="integer alpha"):
        check_target("so_xor", 1.5)
    with pytest.raises(ValueError, match="positive"):
        check_target("gaussian", 0.0)
    with pytest.raises(ValueError, match="per-example labels"):
        evaluate_target("random", torch.zeros(2, 3))
