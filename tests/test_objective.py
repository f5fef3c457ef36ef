"""The benchopt Objective: metrics, what solvers receive, and rejection of bad data."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.data.images import smooth_random_images
from benchmark.data.problem import make_problem

spec = importlib.util.spec_from_file_location(
    "poisson_objective", Path(__file__).resolve().parents[1] / "objective.py")
objective_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(objective_module)


@pytest.fixture
def objective():
    x, names = smooth_random_images(2, 24, seed=0)
    obj = objective_module.Objective()
    obj.set_data(**make_problem(x, names, "gaussian", 60, seed=0))
    return obj


def test_solvers_never_receive_the_ground_truth(objective):
    given = objective.get_objective()
    assert set(given) == {"y", "kernel", "alpha"}


def test_metrics_of_the_ground_truth_and_of_a_worse_estimate(objective):
    perfect = objective.evaluate_result(objective.x_true)
    assert perfect["value"] == 0 and perfect["psnr"] > 100 and perfect["ssim"] == pytest.approx(1)
    blurred = objective.evaluate_result(objective.operator.A(objective.x_true))
    assert 0 < blurred["value"] and blurred["psnr"] < perfect["psnr"] and blurred["ssim"] < 1
    assert perfect["kl_per_pixel"] > 0
    frame = perfect["reconstruction"]
    assert isinstance(frame, np.ndarray) and frame.shape == (24, 24, 3)


def test_psnr_is_averaged_per_image(objective):
    x = objective.x_true.clone()
    x[1] += 0.1
    result = objective.evaluate_result(x)
    error = ((x[1].clamp(0, 1) - objective.x_true[1]) ** 2).mean()
    per_image = [120.0, float(-10 * torch.log10(error))]  # image 0 is exact: MSE floored at 1e-12
    assert result["psnr"] == pytest.approx(sum(per_image) / 2, abs=1e-3)


def test_non_finite_estimate_reports_nan_value(objective):
    x = objective.x_true.clone()
    x[0, 0, 0, 0] = float("nan")
    assert np.isnan(objective.evaluate_result(x)["value"])


def test_wrong_shape_is_rejected(objective):
    with pytest.raises(ValueError, match="expected"):
        objective.evaluate_result(objective.x_true[:1])


def test_bad_data_is_rejected():
    x, names = smooth_random_images(1, 16, seed=0)
    data = make_problem(x, names, "uniform", 40, seed=0)
    obj = objective_module.Objective()
    with pytest.raises(ValueError, match="negative"):
        obj.set_data(**{**data, "y": data["y"] - 1})
    with pytest.raises(ValueError, match="NaN"):
        obj.set_data(**{**data, "y": data["y"] * float("nan")})
    with pytest.raises(ValueError, match="sum to 1"):
        obj.set_data(**{**data, "kernel": data["kernel"] * 2})
    with pytest.raises(ValueError, match="alpha"):
        obj.set_data(**{**data, "alpha": 0})
    with pytest.raises(ValueError, match="shape"):
        obj.set_data(**{**data, "y": data["y"][..., :8]})
