"""Bad input at every entry point: a clear error that names the problem, raised before any work,
and nothing half-written left behind (negative or NaN observations, a kernel that is not a
non-negative array summing to 1, alpha <= 0, NaN or inf, an image with NaN, a weights file that is
missing, corrupted or for another network, a data set not on disk while offline, an output that
cannot be written)."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from benchopt.benchmark import Benchmark

import benchmark.data.images as images
import benchmark.data.paths as data_paths
import benchmark.maths.physics as physics
from benchmark.algorithms.bregman_pnp import BregmanPnP, BregmanPnPParameters, BregmanRED
from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import make_solver, reconstruct
from benchmark.algorithms.pidsplit import PIDSplitPlus
from benchmark.algorithms.presets import bregman_pnp_parameters
from benchmark.algorithms.richardson_lucy import RichardsonLucy
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.data.images import smooth_random_images
from benchmark.data.paths import DataNotFoundError
from benchmark.data.problem import make_problem
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import blur_operator
from benchmark.networks.bregman_denoiser import BregmanScoreDenoiser
from benchmark.networks.registry import (
    WeightsError,
    frozen_red_from_file,
    load_bregman_denoiser,
    load_regularizer,
    write_checkpoint,
)
from benchmark.networks.regularizers import REDPotential
from benchmark.reporting.report import dataset_instance, parameter_value, write_report
from benchmark.training import train_denoiser, train_deq
from benchmark.training.loop import ResumableRun, save_atomically

ROOT = Path(__file__).resolve().parents[1]
ALPHA_MESSAGE = "alpha must be a finite number > 0"
BAD_ALPHAS = [0, -1, float("nan"), float("inf")]
BAD_OBSERVATIONS = {"negative": (lambda y: y - 1, "negative entries"),
                    "nan": (lambda y: y * float("nan"), "NaN or infinite")}
BAD_KERNELS = [(torch.full((3, 3), 1 / 8), "must sum to 1, it sums to 1.125"),
               (torch.tensor([[0.6, -0.1], [0.25, 0.25]]), "negative entries"),
               (torch.tensor([[float("nan"), 0.5], [0.25, 0.25]]), "NaN or infinite")]


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tree(folder):
    """Every path under ``folder``, relative: what a failed command must not have changed."""
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


@pytest.fixture(scope="module")
def problem():
    x, names = smooth_random_images(2, 16, seed=0)
    return make_problem(x, names, "uniform", 60, seed=0)


@pytest.fixture(scope="module")
def solvers():
    return {cls.name: cls for cls in Benchmark(ROOT).get_solvers()}


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No data anywhere (project data folder, deepinv cache, $POISSON_DEBLUR_DATA), offline."""
    monkeypatch.setattr(data_paths, "PROJECT_ROOT", tmp_path / "project")
    for module in (data_paths, images, physics):
        monkeypatch.setattr(module, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("POISSON_DEBLUR_OFFLINE", "1")
    return tmp_path


@pytest.fixture
def a_file(tmp_path):
    """A file where an output folder would have to be: the output cannot be written."""
    path = tmp_path / "a_file"
    path.write_text("not a folder")
    return path


# The library: every algorithm a user calls directly checks y itself.

def algorithms(y, op):
    red, score = REDPotential(features=8, depth=3), BregmanScoreDenoiser(features=8, depth=3)
    return {
        "deqmd": lambda: reconstruct(y, op, red, max_iter=2),
        "deqmd_mirror": lambda: make_solver("mirror", CompositeObjective(y, op, red),
                                            initial_point(y, op), max_iter=2),
        "tv_md": lambda: TVMirrorDescent(y, op, 0.03, max_iter=2),
        "richardson_lucy": lambda: RichardsonLucy(y, op, 60, max_iter=2),
        "pidsplit": lambda: PIDSplitPlus(y, op, 0.03, max_iter=2),
        "b_red": lambda: BregmanRED(y, op, score, BregmanPnPParameters(
            **bregman_pnp_parameters("b_red", 60)), max_iter=2),
        "b_pnp": lambda: BregmanPnP(y, op, score, BregmanPnPParameters(
            **bregman_pnp_parameters("b_pnp", 60)), max_iter=2),
    }


@pytest.mark.parametrize("bad", sorted(BAD_OBSERVATIONS))
def test_every_algorithm_refuses_a_bad_observation(problem, bad):
    corrupt, message = BAD_OBSERVATIONS[bad]
    y = corrupt(problem["y"])
    op = blur_operator(problem["kernel"], tuple(y.shape[1:]))
    for name, build in algorithms(y, op).items():
        with pytest.raises(ValueError, match=f"observation y (has|contains) {message}"):
            build()
            pytest.fail(f"{name} accepted a {bad} observation")


@pytest.mark.parametrize("alpha", BAD_ALPHAS)
def test_library_functions_refuse_a_bad_alpha(problem, alpha):
    y = problem["y"]
    op = blur_operator(problem["kernel"], tuple(y.shape[1:]))
    for build in (lambda: RichardsonLucy(y, op, alpha),
                  lambda: bregman_pnp_parameters("b_red", alpha),
                  lambda: physics.simulate(problem["x_true"], problem["kernel"], alpha, 0),
                  lambda: make_problem(problem["x_true"], ["a", "b"], "uniform", alpha, 0)):
        with pytest.raises(ValueError, match=f"{ALPHA_MESSAGE}, got {float(alpha)}"):
            build()


@pytest.mark.parametrize("kernel, message", BAD_KERNELS)
def test_physics_refuses_a_bad_kernel(problem, kernel, message):
    with pytest.raises(ValueError, match=f"The blur kernel .*{message}"):
        make_problem(problem["x_true"], ["a", "b"], kernel, 60, seed=0)
    with pytest.raises(ValueError, match=message):
        blur_operator(kernel, (3, 16, 16))


def test_an_image_with_nan_is_refused(problem):
    x = problem["x_true"].clone()
    x[0, 1, 2, 3] = float("nan")
    with pytest.raises(ValueError, match="ground truth x contains NaN"):
        make_problem(x, ["a", "b"], "uniform", 60, seed=0)


# benchopt: the objective, the data sets, and every solver through the glue.

def test_the_objective_refuses_bad_data(problem):
    spec = importlib.util.spec_from_file_location("objective_bad_input", ROOT / "objective.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    objective = module.Objective()
    for alpha in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match=ALPHA_MESSAGE):
            objective.set_data(**{**problem, "alpha": alpha})
    for kernel, message in BAD_KERNELS:
        with pytest.raises(ValueError, match=message):
            objective.set_data(**{**problem, "kernel": kernel, "kernel_name": "custom"})
    x = problem["x_true"].clone()
    x[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="x_true contains NaN"):
        objective.set_data(**{**problem, "x_true": x})


@pytest.mark.parametrize("alpha", [float("nan"), float("inf"), 0])
def test_every_solver_refuses_a_bad_alpha_as_an_error_not_a_skip(problem, solvers, alpha):
    """The objective checks alpha; a solver driven by hand (or by a script) checks it too, and
    the learned ones do not mistake it for 'no weights for this alpha' and skip."""
    given = dict(y=problem["y"], kernel=problem["kernel"], kernel_name="uniform", alpha=alpha)
    assert len(solvers) == 7
    for name, cls in solvers.items():
        solver = cls.get_instance(device="cpu")
        if hasattr(solver, "skip_reason"):
            with pytest.raises(ValueError, match=ALPHA_MESSAGE):
                solver.skip(**given)
        with pytest.raises(ValueError, match=ALPHA_MESSAGE):
            solver.set_objective(**given)


def test_every_solver_refuses_an_unknown_kernel_name(problem, solvers):
    """A solver driven by hand checks the name it picks its weights by. That the name is the
    kernel's own is the objective's check: a solver does not build a kernel again
    (tests/test_objective.py)."""
    given = dict(y=problem["y"], kernel=problem["kernel"], kernel_name="sharp", alpha=60)
    for cls in solvers.values():
        solver = cls.get_instance(device="cpu")
        if hasattr(solver, "skip_reason"):
            with pytest.raises(ValueError, match="unknown kernel_name 'sharp'"):
                solver.skip(**given)
        with pytest.raises(ValueError, match="unknown kernel_name 'sharp'"):
            solver.set_objective(**given)


@pytest.mark.parametrize("bad", sorted(BAD_OBSERVATIONS))
def test_every_solver_refuses_a_bad_observation(problem, solvers, bad):
    corrupt, message = BAD_OBSERVATIONS[bad]
    given = dict(y=corrupt(problem["y"]), kernel=problem["kernel"], kernel_name="uniform",
                 alpha=60)
    for cls in solvers.values():
        with pytest.raises(ValueError, match=message):
            cls.get_instance(device="cpu").set_objective(**given)


def test_datasets_refuse_bad_parameters_and_data_not_on_disk_while_offline(isolated):
    datasets = {cls.name: cls for cls in Benchmark(ROOT).get_datasets()}
    for alpha in (0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=ALPHA_MESSAGE):
            datasets["simulated"].get_instance(alpha=alpha, n_images=1, size=16).get_data()
    for name, folder in (("set3c", "set3c"), ("cbsd68", "CBSD68")):
        with pytest.raises(DataNotFoundError, match=f"'{folder}' is not on disk and downloads "
                                                    "are disabled") as info:
            datasets[name].get_instance(kernel="uniform", alpha=60).get_data()
        assert str(isolated / "data" / folder) in str(info.value), "the folders searched"
    with pytest.raises(DataNotFoundError, match="Levin09.mat is not on disk"):
        datasets["simulated"].get_instance(kernel="motion", n_images=1, size=32).get_data()
    assert tree(isolated) == [], "no folder created (an empty one would read as a data set)"


# Weights: missing, corrupted, for another network; written atomically.

@pytest.fixture
def bad_weights(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "truncated.pt").write_bytes(b"PK\x03\x04 not a whole file")
    torch.save(BregmanScoreDenoiser(features=8, depth=3).state_dict(), folder / "other_net.pt")
    torch.save(torch.ones(3), folder / "a_tensor.pt")
    return folder


def test_a_bad_weights_file_is_named_with_what_is_wrong(bad_weights):
    cases = [("missing.pt", "is missing"),
             ("truncated.pt", "cannot be read as a PyTorch checkpoint"),
             ("other_net.pt", r"does not hold weights of REDPotential .*size mismatch"),
             ("a_tensor.pt", "holds a Tensor, not a model's weights")]
    for name, message in cases:
        with pytest.raises(WeightsError, match=rf"Weights file {bad_weights / name} {message}"):
            frozen_red_from_file(bad_weights / name)


def write_registry(folder, model, **record):
    """A registry of one checkpoint of ``model`` (what write_checkpoint ships)."""
    return write_checkpoint(model.state_dict(), folder / "red_all_a60.pt", {
        "regularizer": "red", "kernel": "all", "alpha": 60.0, "stage": "deq",
        "architecture": {"features": 8, "depth": 3}, **record})


def test_the_registry_names_a_checkpoint_for_another_architecture_or_a_corrupt_record(tmp_path):
    write_registry(tmp_path, REDPotential(features=16, depth=3))  # the record says 8 features
    with pytest.raises(WeightsError, match=r"red_all_a60.pt does not hold weights of "
                                           r"REDPotential \{'features': 8"):
        load_regularizer("red", "uniform", 60, weights_dir=tmp_path)
    (tmp_path / "red_all_a60.json").write_text('{"stage": "deq", ')
    with pytest.raises(WeightsError, match=r"Provenance file .*red_all_a60.json cannot be read"):
        load_regularizer("red", "uniform", 60, weights_dir=tmp_path)
    (tmp_path / "bregman_denoiser.json").write_text("[]")
    with pytest.raises(WeightsError, match="bregman_denoiser.json is not a provenance record"):
        load_bregman_denoiser(weights_dir=tmp_path)


class Interrupted(BaseException):
    """A write cut short (Ctrl-C, a killed job, a full disk)."""


def interrupt_after_half_a_file(monkeypatch):
    def half_save(obj, path):
        Path(path).write_bytes(b"half a checkpoint")
        raise Interrupted
    monkeypatch.setattr(torch, "save", half_save)


def test_an_interrupted_checkpoint_write_leaves_the_previous_pair_and_no_partial_file(
        tmp_path, monkeypatch):
    before = write_registry(tmp_path, REDPotential(features=8, depth=3))
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    interrupt_after_half_a_file(monkeypatch)
    with pytest.raises(Interrupted):
        write_registry(tmp_path, REDPotential(features=8, depth=3))
    with pytest.raises(Interrupted):
        save_atomically({"step": 1}, tmp_path / "state.pt")
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files
    assert load_regularizer("red", "all", 60, weights_dir=tmp_path)[1]["sha256"] == before["sha256"]

    def no_json(self, text):
        raise Interrupted
    monkeypatch.setattr(Path, "write_text", no_json)  # the .pt is written, its record is not
    with pytest.raises(Interrupted):
        write_registry(tmp_path, REDPotential(features=8, depth=3), steps=2)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == files


def test_a_checkpoint_that_cannot_be_written_is_refused_before_anything(a_file, tmp_path):
    with pytest.raises(NotADirectoryError, match=f"Cannot write {a_file}/w/red_all_a60.pt: "
                                                 f"{a_file} is a file, not a folder"):
        write_registry(a_file / "w", REDPotential(features=8, depth=3))
    assert tree(tmp_path) == ["a_file"]


def test_a_corrupted_training_state_is_named(tmp_path):
    run = ResumableRun(tmp_path / "run")
    run.state_path.write_bytes(b"\x00" * 10)
    model = REDPotential(features=8, depth=3)
    with pytest.raises(WeightsError, match=r"run/state.pt cannot be read as a PyTorch checkpoint"):
        run.load(model, torch.optim.Adam(model.parameters()), None)


# Command-line entry points: a usage error or a named error before any work, nothing written.

def usage_error(capsys, main, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("alpha", ["0", "-40", "nan", "inf"])
def test_training_and_scripts_refuse_a_bad_alpha(alpha, capsys, monkeypatch, tmp_path):
    message = f"argument --alpha: The Poisson scale {ALPHA_MESSAGE}, got {float(alpha)}."
    run_dir, output = tmp_path / "run", tmp_path / "out.pt"
    usage_error(capsys, train_deq.main, ["--alpha", alpha, "--run-dir", str(run_dir),
                                         "--output", str(output)], message)
    for script, argv in (("validate_deq", ["--alpha", alpha]),
                         ("deqmd_per_image", ["--alpha", alpha])):
        monkeypatch.setattr(sys, "argv", [script, *argv])
        usage_error(capsys, lambda _: load_script(script).main(), None, message)
    # before, NaN fell back to the data set's default alpha and the script ran at alpha 60
    usage_error(capsys, load_script("per_image_psnr").main,
                ["--dataset", "simulated", "--kernel", "uniform", "--alpha", alpha,
                 "--solvers", "backprojection"], message)
    assert tree(tmp_path) == []


def test_per_image_psnr_keeps_an_alpha_that_is_not_a_whole_number():
    """The data set declares alpha with an int default; 50.5 was truncated to 50."""
    dataset = dataset_instance(str(ROOT), "simulated", {"alpha": "50.5", "size": "16"})
    assert dataset.alpha == 50.5 and dataset.size == 16


@pytest.mark.parametrize("text, value", [("False", False), ("true", True), ("0", False),
                                         (" True ", True)])
def test_a_boolean_parameter_is_read_from_its_text(text, value):
    """bool("False") is True: a boolean parameter's text is read, not cast."""
    assert parameter_value(True, text) is value


def test_a_boolean_parameter_that_is_not_one_is_an_error():
    with pytest.raises(ValueError, match="'yes please' is not a boolean"):
        parameter_value(False, "yes please")


def test_training_refuses_an_output_it_cannot_write_before_any_work(a_file, tmp_path, capsys):
    common = ["--run-dir", str(tmp_path / "run"), "--output", str(a_file / "out.pt")]
    message = f"--output: Cannot write {a_file / 'out.pt'}: {a_file} is a file, not a folder."
    usage_error(capsys, train_deq.main, ["--alpha", "60", *common], message)
    usage_error(capsys, train_denoiser.main, common, message)
    assert tree(tmp_path) == ["a_file"]


@pytest.mark.parametrize("name, message", [("missing.pt", "is missing"),
                                           ("truncated.pt", "cannot be read"),
                                           ("other_net.pt", "does not hold weights of")])
def test_training_from_a_bad_init_fails_before_reading_data(bad_weights, tmp_path, name, message,
                                                            isolated):
    """The data folder is empty: the --init file is checked first, and no run folder or output
    is created."""
    run_dir, output = tmp_path / "run", tmp_path / "out.pt"
    common = ["--init", str(bad_weights / name), "--run-dir", str(run_dir), "--output", str(output),
              "--device", "cpu"]
    for main, argv in ((train_deq.main, ["--alpha", "60", *common]),
                       (train_denoiser.main, common)):
        with pytest.raises(WeightsError, match=f"{bad_weights / name} {message}"):
            main(argv)
    assert not run_dir.exists() and not output.exists()


def test_training_without_its_data_while_offline_names_it_and_leaves_no_run(tmp_path, isolated):
    run_dir, output = tmp_path / "run", tmp_path / "out.pt"
    common = ["--run-dir", str(run_dir), "--output", str(output), "--device", "cpu"]
    for main, argv in ((train_deq.main, ["--alpha", "60", "--kernels", "uniform", *common]),
                       (train_denoiser.main, common)):
        with pytest.raises(DataNotFoundError, match="'CBSD432' is not on disk and downloads are "
                                                    "disabled"):
            main(argv)
    assert not run_dir.exists() and not output.exists()


def test_validate_deq_checks_every_weights_file_before_its_long_work(bad_weights, monkeypatch,
                                                                     isolated):
    monkeypatch.setattr(sys, "argv", ["validate_deq", "--alpha", "60", "--device", "cpu",
                                      "--weights", str(bad_weights / "truncated.pt")])
    with pytest.raises(WeightsError, match="truncated.pt cannot be read"):
        load_script("validate_deq").main()  # before reading CBSD432, absent here


def test_ship_deq_weights_names_a_missing_or_unexplained_file_and_writes_nothing(tmp_path,
                                                                                 a_file):
    ship = load_script("ship_deq_weights").ship
    source = tmp_path / "export" / "run.pt"
    with pytest.raises(WeightsError, match=f"Weights file {source} is missing"):
        ship(source, tmp_path / "weights")
    write_checkpoint(REDPotential(features=8, depth=3).state_dict(), source, {
        "regularizer": "red", "kernel": "all", "alpha": 60.0, "stage": "deq"})
    with pytest.raises(NotADirectoryError, match=f"{a_file} is a file, not a folder"):
        ship(source, a_file / "weights")
    record = json.loads(source.with_suffix(".json").read_text())
    source.with_suffix(".json").write_text(json.dumps({**record, "sha256": None})[:-5])
    with pytest.raises(WeightsError, match="run.json cannot be read"):
        ship(source, tmp_path / "weights")
    assert tree(tmp_path) == ["a_file", "export", "export/run.json", "export/run.pt"]


def test_a_report_of_missing_results_or_to_an_unwritable_folder_writes_nothing(tmp_path, a_file):
    with pytest.raises(FileNotFoundError, match=f"No benchopt result file {tmp_path}/none.parquet"):
        write_report(tmp_path / "none.parquet", tmp_path / "new" / "deep" / "report")
    with pytest.raises(NotADirectoryError, match=f"{a_file} is a file, not a folder"):
        write_report(tmp_path / "none.parquet", a_file / "report")
    with pytest.raises(NotADirectoryError, match=f"Cannot write {a_file}: it is a file"):
        write_report(tmp_path / "none.parquet", a_file)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(Exception, match="bad.parquet"):
        write_report(tmp_path / "bad.parquet", tmp_path / "new" / "deep" / "report")
    assert tree(tmp_path) == ["a_file", "bad.parquet"], "no folder created, no staging left"


def test_a_failed_copy_of_the_downloaded_motion_kernels_leaves_no_file(monkeypatch, tmp_path):
    """deepinv's download is replaced by a file written in its folder; the copy into the cache
    fails half-way: nothing is left in the cache, and a later copy that works is read back."""
    import deepinv.utils.demo  # noqa: PLC0415

    def downloaded(name, data_dir, index, download):
        np.save(Path(data_dir) / name, np.full((2, 5, 5), 2.0))

    def copy_that_fails(source, target):
        Path(target).write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(physics, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(deepinv.utils.demo, "load_degradation", downloaded)
    with monkeypatch.context() as failing:
        failing.setattr(physics.shutil, "copyfile", copy_that_fails)
        with pytest.raises(OSError, match="No space left"):
            physics.download_levin_npy(1)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []
    kernel = physics.download_levin_npy(1)
    assert torch.allclose(kernel, torch.full((5, 5), 1 / 25))
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["Levin09.npy"]
