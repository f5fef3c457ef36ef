"""The benchopt Objective: metrics, what solvers receive (the kernel's name among them, up to
DEQ-MD's choice of weights), and rejection of bad data."""

import functools
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import real_data

import benchmark.maths.physics as physics
from benchmark.data.images import smooth_random_images
from benchmark.data.problem import make_problem
from benchmark.networks.registry import find_checkpoint, load_regularizer

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("poisson_objective", ROOT / "objective.py")
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
    assert set(given) == {"y", "kernel", "kernel_name", "alpha"}
    assert given["kernel_name"] == "gaussian"


def test_metrics_of_the_ground_truth_and_of_a_worse_estimate(objective):
    perfect = objective.evaluate_result(objective.x_true)
    assert perfect["value"] == 0 and perfect["psnr"] > 100 and perfect["ssim"] == pytest.approx(1)
    estimate = objective.operator.A(objective.x_true)
    blurred = objective.evaluate_result(estimate)
    assert 0 < blurred["value"] and blurred["psnr"] < perfect["psnr"] and blurred["ssim"] < 1
    # the MSE and the KL data fit per pixel, sum(y log(y / (Ax + eps)) + Ax - y) / (C H W),
    # recomputed (mean over images)
    y = objective.y.double()
    for result, x in ((perfect, objective.x_true), (blurred, estimate)):
        Ax = objective.operator.A(x).double()
        kl = (torch.xlogy(y, y) - torch.xlogy(y, Ax + 1e-6) + Ax - y).flatten(1).sum(1)
        assert result["kl_per_pixel"] == pytest.approx(float(kl.mean()) / y[0].numel(), rel=1e-5)
    assert blurred["value"] == pytest.approx(float(((estimate - objective.x_true) ** 2).mean()),
                                             rel=1e-5)
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
    with pytest.raises(ValueError, match="unknown kernel_name 'box'; choose one of 'gaussian', "
                                         "'uniform', 'motion', 'custom'"):
        obj.set_data(**{**data, "kernel_name": "box"})
    with pytest.raises(ValueError, match="kernel_name='motion' does not match the kernel array"):
        obj.set_data(**{**data, "kernel_name": "motion"})


def test_a_kernel_array_of_ones_own_is_named_custom():
    x, names = smooth_random_images(1, 16, seed=0)
    data = make_problem(x, names, torch.full((5, 5), 1 / 25), 40, seed=0)
    assert data["kernel_name"] == "custom"
    obj = objective_module.Objective()
    obj.set_data(**data)
    assert obj.get_objective()["kernel_name"] == "custom"


def load_component(folder, name):
    """The benchopt class (``Dataset`` or ``Solver``) of ``<folder>/<name>.py``."""
    path = ROOT / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{folder}_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("kernel, weights_kernel", [("motion", "motion"), ("gaussian", "all")])
def test_kernel_name_travels_from_the_dataset_to_deqmds_weights(kernel, weights_kernel,
                                                                monkeypatch, tmp_path):
    """A data set with the motion kernel makes DEQ-MD load the model trained for motion, found
    by the name the objective hands it, with no kernel built again; another kernel gets the
    all-kernel model of that alpha. The weights folder holds both models at alpha 100."""
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("kernels")))
    weights = ROOT / "benchmark" / "networks" / "weights"
    for source in (weights / "red_all_a100", weights / "red_motion_a100"):
        for suffix in (".pt", ".json"):
            (tmp_path / source.with_suffix(suffix).name).symlink_to(source.with_suffix(suffix))

    dataset = load_component("datasets", "simulated").Dataset.get_instance(
        kernel=kernel, alpha=100, n_images=1, size=32)
    objective = objective_module.Objective()
    objective.set_data(**dataset.get_data())
    given = objective.get_objective()
    assert given["kernel_name"] == kernel

    def no_kernel(*args, **kwargs):
        raise AssertionError("a solver must not build a kernel to find its name")

    for builder in ("get_kernel", "gaussian_kernel", "uniform_kernel", "motion_kernel",
                    "read_levin_mat"):
        monkeypatch.setattr(physics, builder, no_kernel)
    deqmd = load_component("solvers", "deqmd")
    monkeypatch.setattr(deqmd, "find_checkpoint",
                        functools.partial(find_checkpoint, weights_dir=tmp_path))
    monkeypatch.setattr(deqmd, "load_regularizer",
                        functools.partial(load_regularizer, weights_dir=tmp_path))
    solver = deqmd.Solver.get_instance(max_iter=2, device="cpu")
    assert solver.skip(**given) == (False, None)
    solver.set_objective(**given)
    assert solver.kernel_name == kernel
    assert solver.weights["kernel"] == weights_kernel and solver.weights["alpha"] == 100
    solver.run(lambda: True)
    assert solver.algorithm.iterations == 2 and solver.get_result()["x"].shape == (1, 3, 32, 32)
