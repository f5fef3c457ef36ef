"""Solver parameters with a fixed set of values are checked, with the allowed values in the
message; the LPIPS metric is left out with one line when its backbone is not on disk."""

import importlib.util
from pathlib import Path

import pytest
import torch

import benchmark.maths.metrics as metrics
from benchmark.data.images import smooth_random_images
from benchmark.data.problem import make_problem
from benchmark.parameters import check_choice, check_choice_or_number, check_device

ROOT = Path(__file__).resolve().parents[1]


def load_solver(name):
    """The ``Solver`` class of ``solvers/<name>.py``."""
    path = ROOT / "solvers" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"solver_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Solver


@pytest.fixture(scope="module")
def problem():
    x, names = smooth_random_images(1, 16, seed=0)
    data = make_problem(x, names, "gaussian", 60, seed=0)
    return dict(y=data["y"], kernel=data["kernel"], kernel_name=data["kernel_name"],
                alpha=data["alpha"])


def test_check_choice_names_the_allowed_values():
    assert check_choice("preset", "paper", ("tuned", "paper")) == "paper"
    with pytest.raises(ValueError, match=r"^unknown preset 'best'; choose one of 'tuned', "
                                         r"'paper'\.$"):
        check_choice("preset", "best", ("tuned", "paper"))
    # a boolean parameter: 1 and "true" are not True
    assert check_choice("backtracking", True, (False, True)) is True
    for wrong in (1, "true", None):
        with pytest.raises(ValueError, match="choose one of False, True"):
            check_choice("backtracking", wrong, (False, True))


def test_check_choice_or_number():
    assert check_choice_or_number("lam", "tuned", ("tuned",)) == "tuned"
    assert check_choice_or_number("lam", 0.05, ("tuned",)) == 0.05
    assert check_choice_or_number("lam", "0.5", ("tuned",)) == 0.5
    with pytest.raises(ValueError, match=r"unknown lam 'tund'; choose one of 'tuned' or a number"):
        check_choice_or_number("lam", "tund", ("tuned",))
    for wrong, text in ((-1, "-1"), (0, "0"), (float("inf"), "inf"), ("nan", "nan")):
        with pytest.raises(ValueError, match=f"lam must be > 0 and finite, got {text}"):
            check_choice_or_number("lam", wrong, ("tuned",))
    with pytest.raises(ValueError, match="unknown lam True"):
        check_choice_or_number("lam", True, ("tuned",))


def test_check_device():
    for device in ("auto", "cpu", "cuda", "cuda:1"):
        assert check_device(device) == device
    with pytest.raises(ValueError, match=r"unknown device 'gpu'; choose one of 'auto', 'cpu', "
                                         r"'cuda' or 'cuda:<index>'"):
        check_device("gpu")


@pytest.mark.parametrize("name, parameters, message", [
    ("tv_md", dict(lam="tund"), "unknown lam 'tund'; choose one of 'tuned'"),
    ("pidsplit", dict(lam="nosuch"), "unknown lam 'nosuch'; choose one of 'tuned'"),
    ("tv_md", dict(device="gpu"), "unknown device 'gpu'; choose one of 'auto', 'cpu', 'cuda'"),
    ("richardson_lucy", dict(device="gpu"), "unknown device 'gpu'"),
    ("backprojection", dict(device="GPU"), "unknown device 'GPU'"),
])
def test_model_based_solvers_refuse_unknown_values(name, parameters, message, problem):
    solver = load_solver(name).get_instance(**parameters)
    with pytest.raises(ValueError, match=message):
        solver.set_objective(**problem)


@pytest.mark.parametrize("name", ["b_red", "b_pnp"])
@pytest.mark.parametrize("parameters, message", [
    (dict(preset="best"), "unknown preset 'best'; choose one of 'paper', 'tuned'"),
    (dict(backtracking="true"), "unknown backtracking 'true'; choose one of False, True"),
    (dict(lam="tuned"), "unknown lam 'tuned'; choose one of 'preset' or a number > 0"),
    (dict(device="gpu"), "unknown device 'gpu'"),
])
def test_bregman_solvers_refuse_unknown_values_instead_of_skipping(name, parameters, message,
                                                                   problem):
    """A wrong value is an error that lists the right ones, not a skip of the setting."""
    solver = load_solver(name).get_instance(**parameters)
    with pytest.raises(ValueError, match=message):
        solver.skip(**problem)


def test_b_pnp_refuses_backtracking_before_the_run(problem):
    solver = load_solver("b_pnp").get_instance(backtracking=True)
    with pytest.raises(ValueError, match="B-PnP has no backtracking"):
        solver.skip(**problem)
    assert load_solver("b_red").get_instance(backtracking=True).skip(**problem)[0] is False


def test_lpips_left_out_in_one_line_once_and_never_downloaded(monkeypatch, tmp_path, capsys):
    import deepinv.loss.metric  # noqa: PLC0415 (heavy: deepinv)

    def no_network(*args, **kwargs):
        raise AssertionError("LPIPS must not be built (it would download) without its backbone")

    monkeypatch.setattr(metrics, "lpips_backbone_file", lambda: tmp_path / "alexnet.pth")
    monkeypatch.setattr(deepinv.loss.metric, "LPIPS", no_network)
    monkeypatch.setattr(metrics, "_LPIPS", {})
    x = torch.rand(1, 3, 16, 16)
    assert metrics.lpips(x, x) is None and metrics.lpips(x, x) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [metrics.LPIPS_MISSING.format(file=tmp_path / "alexnet.pth")]
    assert err[0].startswith("LPIPS is not computed: its backbone weights")
    assert "URLError" not in err[0] and "benchmark.data.fetch --lpips" in err[0]


def test_lpips_backbone_is_torchvisions_alexnet_in_the_hub_cache():
    path = metrics.lpips_backbone_file()
    assert path.parent == Path(torch.hub.get_dir()) / "checkpoints"
    assert path.name.startswith("alexnet-") and path.suffix == ".pth"


@pytest.mark.parametrize("alpha", [1, 80, 1e5])
def test_model_based_solvers_take_any_alpha_and_learned_ones_skip_with_their_alphas(alpha,
                                                                                    capsys):
    x, names = smooth_random_images(1, 16, seed=0)
    data = make_problem(x, names, "gaussian", alpha, seed=0)
    problem = dict(y=data["y"], kernel=data["kernel"], kernel_name=data["kernel_name"],
                   alpha=data["alpha"])
    for name in ("tv_md", "pidsplit"):
        solver = load_solver(name).get_instance()
        solver.set_objective(**problem)
        out = capsys.readouterr().out.strip().splitlines()
        assert len(out) == 1 and out[0].startswith(f"{name}: lam={solver.weight:.4g} for "
                                                   f"alpha={alpha:g}: ")
        assert ("interpolated in log alpha" if alpha == 80 else "clamped") in out[0]
    for name in ("b_red", "b_pnp"):
        skip, reason = load_solver(name).get_instance().skip(**problem)
        assert skip and reason.startswith(f"No tuned parameters of {name} for alpha={alpha:g}: "
                                          "its tuned preset was made for alpha in {40, 60, 100} "
                                          "only.")


@pytest.mark.parametrize("parameters, message", [
    (dict(regularizer="nosuch"), "unknown regularizer 'nosuch'; choose one of 'red', 'scalar'"),
    (dict(solver="anderson"), "unknown fixed-point solver 'anderson'; choose one of 'lbfgs', "
                              "'mirror'"),
])
def test_deqmd_refuses_unknown_values_instead_of_skipping(parameters, message, problem):
    solver = load_solver("deqmd").get_instance(**parameters)
    with pytest.raises(ValueError, match=message):
        solver.skip(**problem)


def test_deqmd_skips_an_alpha_without_weights_naming_those_there_are(problem):
    skip, reason = load_solver("deqmd").get_instance().skip(**{**problem, "alpha": 80.0})
    assert skip and "alpha=80" in reason and "('red', 'all', 100.0, 'deq')" in reason


def test_deqmd_says_when_it_runs_a_symmetry_its_weights_were_not_trained_in(capsys):
    """The shipped weights were trained with the network alone: ``flip`` gets one line naming
    both, the default none. The provenance of the Gaussian model at alpha 60 records
    ``symmetry``; that of the motion model at alpha 100 predates that field (its 23x23 kernel
    needs a larger image than the fixture's)."""
    x, names = smooth_random_images(1, 32, seed=0)
    for kernel, alpha, weights in (("gaussian", 60, "red_gaussian_a60.pt"),
                                   ("motion", 100, "red_motion_a100.pt")):
        data = make_problem(x, names, kernel, alpha, seed=0)
        problem = {key: data[key] for key in ("y", "kernel", "kernel_name", "alpha")}
        for symmetry, expected in (("none", []), ("flip", [
                f"deqmd: the weights {weights} were trained with symmetry='none'; this run uses "
                "symmetry='flip', a potential they were not trained in"])):
            load_solver("deqmd").get_instance(symmetry=symmetry).set_objective(**problem)
            assert capsys.readouterr().out.strip().splitlines() == expected
