"""Resumable training loop and the training data split."""

import csv
import hashlib
import json
import math
from pathlib import Path

import pytest
import torch
from conftest import real_data

from benchmark.algorithms.deqmd import reconstruct
from benchmark.maths.metrics import psnr
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import get_kernel
from benchmark.networks.registry import WEIGHTS_DIR, load_checkpoint, load_regularizer
from benchmark.networks.regularizers import REDPotential, build_regularizer
from benchmark.networks.symmetry import symmetrized
from benchmark.training import train_bregman_denoiser, train_denoiser, train_deq
from benchmark.training.crops import PatchSampler, cbsd432_split, validation_crops
from benchmark.training.loop import (
    ResumableRun,
    WeightAverage,
    best_weights,
    cosine_learning_rate,
    train,
)


class ConstantSampler:
    def __init__(self):
        self.generator = torch.Generator().manual_seed(0)

    def sample(self, batch):
        return torch.rand(batch, 3, 8, 8, generator=self.generator)

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])


def trained_in_one_go(folder, steps):
    """The model of :func:`train` run for ``steps`` steps without interruption."""
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 3, padding=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    train(model, optimizer, ConstantSampler(), lambda m, x: ((m(x) - x) ** 2).mean(),
          lambda m: 1.0, ResumableRun(folder), steps, batch=2)
    return model


def test_training_resumes_where_it_stopped(tmp_path):
    def run_to(steps):
        torch.manual_seed(0)
        model = torch.nn.Conv2d(3, 3, 3, padding=1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        step, _ = train(model, optimizer, ConstantSampler(),
                        lambda m, x: ((m(x) - x) ** 2).mean(), lambda m: 1.0,
                        ResumableRun(tmp_path), steps, batch=2, validate_every=2)
        return step, model

    step, _ = run_to(3)
    assert step == 3
    step, resumed = run_to(5)
    assert step == 5
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5]
    assert float(rows[1]["val_psnr"]) == 1.0 and rows[0]["val_psnr"] == ""

    # the same 5 steps in one go give the same weights: resuming restores everything
    assert torch.allclose(trained_in_one_go(tmp_path / "straight", 5).weight, resumed.weight)


def test_a_run_killed_between_two_saves_resumes_without_logging_a_step_twice(tmp_path):
    def run_to(steps, fail_at_call=None, checkpoint_every=180.0):
        torch.manual_seed(0)
        model = torch.nn.Conv2d(3, 3, 3, padding=1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        calls = []

        def loss_fn(m, x):
            calls.append(1)
            if len(calls) == fail_at_call:
                raise KeyboardInterrupt
            return ((m(x) - x) ** 2).mean()
        train(model, optimizer, ConstantSampler(), loss_fn, lambda m: 1.0, ResumableRun(tmp_path),
              steps, batch=2, checkpoint_every=checkpoint_every)
        return model

    run_to(2)
    # resumed at step 2, logs step 3, then dies in step 4 before any save
    with pytest.raises(KeyboardInterrupt):
        run_to(5, fail_at_call=2, checkpoint_every=1e9)
    with open(tmp_path / "metrics.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [1, 2, 3]
    assert torch.load(tmp_path / "state.pt", weights_only=False)["step"] == 2
    resumed = run_to(5)
    with open(tmp_path / "metrics.csv") as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [1, 2, 3, 4, 5]
    assert torch.allclose(trained_in_one_go(tmp_path / "straight", 5).weight, resumed.weight)


def test_a_kill_while_a_row_is_logged_leaves_the_log_whole(tmp_path, monkeypatch):
    run = ResumableRun(tmp_path)
    for step in (1, 2, 3):
        run.log({"step": step, "loss": 0.5 / step, "val_psnr": ""})
    before = run.log_path.read_bytes()

    def killed(self, target):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(Path, "replace", killed)
        with pytest.raises(KeyboardInterrupt):
            run.log({"step": 4, "loss": 0.125, "val_psnr": 30.0})
    assert run.log_path.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["metrics.csv"]
    run.log({"step": 4, "loss": 0.125, "val_psnr": 30.0})
    with open(run.log_path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["step", "loss", "val_psnr"], ["1", "0.5", ""], ["2", "0.25", ""],
                    ["3", str(0.5 / 3), ""], ["4", "0.125", "30.0"]]


def test_a_cosine_schedule_sets_every_step_s_rate_also_after_a_resume(tmp_path):
    lr, lr_min, steps = 1e-2, 1e-4, 6
    expected = [lr_min + (lr - lr_min) * (1 + math.cos(math.pi * k / steps)) / 2
                for k in range(steps)]
    assert expected[0] == lr and expected[3] == pytest.approx((lr + lr_min) / 2)
    assert cosine_learning_rate(lr, lr_min, steps)(steps) == pytest.approx(lr_min)

    def run_to(total):
        model = torch.nn.Conv2d(3, 3, 3, padding=1)
        # the optimiser's own rate is not the schedule's: the schedule must override it,
        # also over the rate a resumed optimiser state carries
        optimizer = torch.optim.Adam(model.parameters(), lr=0.5)
        train(model, optimizer, ConstantSampler(), lambda m, x: ((m(x) - x) ** 2).mean(),
              lambda m: 1.0, ResumableRun(tmp_path), total, batch=2,
              learning_rate=cosine_learning_rate(lr, lr_min, steps))

    run_to(2)
    run_to(steps)
    with open(tmp_path / "metrics.csv") as f:
        logged = [float(r["lr"]) for r in csv.DictReader(f)]
    assert logged == pytest.approx(expected)


def test_the_best_validated_weights_are_kept_across_a_resume(tmp_path):
    scores = iter([1.0, 3.0, 2.0, 2.5, 0.5])
    snapshots = {}

    def validate(model):
        score = next(scores)
        snapshots[score] = model.weight.detach().clone()
        return score

    def run_to(steps):
        torch.manual_seed(0)
        model = torch.nn.Conv2d(3, 3, 3, padding=1)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        step, elapsed = train(model, optimizer, ConstantSampler(),
                              lambda m, x: ((m(x) - x) ** 2).mean(), validate,
                              ResumableRun(tmp_path), steps, batch=2, validate_every=2)
        return model, step, elapsed

    run_to(5)                        # validates at steps 2, 4 and 5: scores 1, 3, 2
    model, step, elapsed = run_to(6)  # resumes, validates at step 6: score 2.5
    # step 6 was validated: the final weights are not validated again (0.5 is never drawn)
    best = best_weights(ResumableRun(tmp_path), model, validate, step, elapsed)
    assert best["step"] == 4 and best["val_psnr"] == 3.0
    assert torch.equal(best["model"]["weight"], snapshots[3.0])
    assert not torch.equal(best["model"]["weight"], model.weight.detach())


def test_a_run_stopped_by_its_time_limit_logs_the_validation_of_its_final_weights(tmp_path):
    def validate(model):
        return float(model.weight.detach().abs().sum())

    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 3, padding=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    run = ResumableRun(tmp_path)
    step, elapsed = train(model, optimizer, ConstantSampler(),
                          lambda m, x: ((m(x) - x) ** 2).mean(), validate, run, 10, batch=2,
                          validate_every=5, max_seconds=0.0)
    assert step == 1  # stopped after its first step, which is not a validation step
    best_weights(run, model, validate, step, elapsed)
    with open(run.log_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [1] and rows[0]["loss"]
    assert float(rows[0]["val_psnr"]) == pytest.approx(validate(model), abs=1e-3)
    assert run.validated_at(1)


def averaged_run(folder, steps, decay, validate):
    """``train`` a small model with a weight average; returns the live model and the
    trajectory of its weights (the start, then after every step)."""
    torch.manual_seed(0)
    model = torch.nn.Conv2d(3, 3, 3, padding=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    seen = []

    def loss_fn(m, x):
        seen.append(m.weight.detach().clone())
        return ((m(x) - x) ** 2).mean()

    average = WeightAverage(model, decay)
    train(model, optimizer, ConstantSampler(), loss_fn, validate, ResumableRun(folder), steps,
          batch=2, validate_every=1, average=average)
    return model, average, seen + [model.weight.detach().clone()]


def test_the_weight_average_follows_its_recurrence_and_is_what_is_validated(tmp_path):
    decay, validated = 0.7, []

    def validate(model):
        validated.append(model.weight.detach().clone())
        return -float(len(validated) - 3) ** 2          # the best validation is the third

    model, average, trajectory = averaged_run(tmp_path, 5, decay, validate)
    expected, averaged = trajectory[0], []
    for weights in trajectory[1:]:
        expected = decay * expected + (1 - decay) * weights
        averaged.append(expected)
    assert len(validated) == 5
    for got, want in zip(validated, averaged, strict=True):
        assert torch.allclose(got, want, atol=1e-6)
    assert not torch.allclose(validated[-1], model.weight, atol=1e-4)
    best = ResumableRun(tmp_path).best()
    assert best["step"] == 3 and torch.allclose(best["model"]["weight"], averaged[2], atol=1e-6)
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(model, 1.0)


def test_a_resumed_run_continues_its_weight_average(tmp_path):
    averaged_run(tmp_path / "resumed", 2, 0.8, lambda m: 0.0)
    live, resumed, _ = averaged_run(tmp_path / "resumed", 5, 0.8, lambda m: 0.0)
    _, straight, _ = averaged_run(tmp_path / "straight", 5, 0.8, lambda m: 0.0)
    # restarting the average from the restored weights would break this equality
    assert torch.allclose(resumed.model.weight, straight.model.weight, atol=1e-7)
    assert not torch.allclose(resumed.model.weight, live.weight, atol=1e-4)


def test_cbsd432_split_is_disjoint_and_excludes_test_sets(monkeypatch):
    root = real_data("CBSD432", "CBSD68")
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(root))
    train_files, validation = cbsd432_split()
    assert len(train_files) + len(validation) == 432 and len(validation) == 36
    assert not {f.name for f in train_files} & {f.name for f in validation}
    cbsd68 = {p.stem for p in (root / "CBSD68").iterdir()}
    assert not {f.stem for f in train_files + validation} & cbsd68
    patches = PatchSampler(train_files[:3], patch=16, seed=0).sample(4)
    assert patches.shape == (4, 3, 16, 16) and 0 <= patches.min() and patches.max() <= 1


def test_entry_points_export_their_best_weights_with_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("CBSD432")))
    denoiser = tmp_path / "denoiser.pt"
    train_denoiser.main(["--steps", "2", "--batch", "2", "--patch", "16", "--validation-images",
                         "1", "--run-dir", str(tmp_path / "run_denoiser"), "--output",
                         str(denoiser)])
    # a continued denoiser starts from --init: with no step, its export is those weights
    continued = tmp_path / "continued.pt"
    train_denoiser.main(["--steps", "0", "--patch", "16", "--validation-images", "1", "--lr-min",
                         "1e-5", "--average-decay", "0.9", "--init", str(denoiser), "--run-dir",
                         str(tmp_path / "run_continued"), "--output", str(continued)])
    record = json.loads(continued.with_suffix(".json").read_text())
    assert record["initialisation"].startswith(str(denoiser))
    assert "cosine from 0.0005 to 1e-05" in record["data"] and "decay 0.9" in record["data"]
    exported, start = load_checkpoint(continued, record["sha256"]), load_checkpoint(denoiser)
    assert all(torch.equal(exported[k], start[k]) for k in start)
    with pytest.raises(SystemExit):
        train_denoiser.main(["--lr", "1e-4", "--lr-min", "1e-3"])
    deq = tmp_path / "deq.pt"
    train_deq.main(["--alpha", "60", "--kernels", "gaussian", "--steps", "2", "--batch", "1",
                    "--patch", "64", "--train-max-iter", "2", "--validation-images", "1",
                    "--validation-size", "64", "--validation-max-iter", "2", "--device", "cpu",
                    "--average-decay", "0.5", "--validate-every", "1", "--run-dir",
                    str(tmp_path / "run_deq"), "--output", str(deq)])
    record = json.loads(deq.with_suffix(".json").read_text())
    assert "moving average of the weights, decay 0.5" in record["data"]
    # no --init: the shipped denoiser, named with the hash of its file
    shipped = WEIGHTS_DIR / "red_denoiser.pt"
    assert record["initialisation"] == (
        f"red_denoiser.pt (SHA-256 {hashlib.sha256(shipped.read_bytes()).hexdigest()})")
    # two iterations cannot reach the equilibrium: the log and the provenance say so
    with open(tmp_path / "run_deq" / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["converged"]) for r in rows] == [0.0, 0.0]
    # --validate-every 1: both steps validated, and the provenance says how often
    assert all(r["val_psnr"] for r in rows) and "validated every 1 steps" in record["selection"]
    assert record["converged_share"] == 0.0 and record["fixed_point_solver"] == "lbfgs"
    assert record["device"].startswith("cpu")
    # no step: the --init weights validated and exported as they are, no share of fixed points
    train_deq.main(["--alpha", "60", "--kernels", "gaussian", "--steps", "0", "--patch", "64",
                    "--validation-images", "1", "--validation-size", "64",
                    "--validation-max-iter", "2", "--device", "cpu", "--init", str(deq),
                    "--run-dir", str(tmp_path / "run_deq_0"), "--output", str(tmp_path / "v.pt")])
    validated = json.loads((tmp_path / "v.json").read_text())
    assert validated["converged_share"] is None and validated["steps_trained"] == 0
    assert validated["validation_psnr"] == record["validation_psnr"]
    with pytest.raises(SystemExit):
        train_deq.main(["--alpha", "60", "--patch", "32"])
    with pytest.raises(SystemExit):
        train_deq.main(["--alpha", "60", "--average-decay", "1"])
    with pytest.raises(SystemExit):
        train_deq.main(["--alpha", "60", "--validate-every", "0"])
    bregman = tmp_path / "bregman.pt"
    train_bregman_denoiser.main(["--steps", "2", "--batch", "2", "--patch", "16",
                                 "--validation-images", "1", "--run-dir",
                                 str(tmp_path / "run_bregman"), "--output", str(bregman)])
    record = json.loads(bregman.with_suffix(".json").read_text())
    assert record["regularizer"] == "bregman" and "1/gamma ~ U[0.0, 0.1]" in record["data"]
    assert set(record["denoising_by_noise_level"]["0.02"]) == {"noisy_psnr", "denoised_psnr",
                                                               "min_output"}
    for path, run in ((denoiser, "run_denoiser"), (deq, "run_deq"), (bregman, "run_bregman")):
        record = json.loads(path.with_suffix(".json").read_text())
        best = ResumableRun(tmp_path / run).best()
        assert record["steps_trained"] == 2 and record["steps"] == best["step"]
        assert record["validation_psnr"] == round(best["val_psnr"], 3)
        weights = load_checkpoint(path, record["sha256"])
        assert all(torch.equal(weights[k], best["model"][k]) for k in weights)


def test_the_training_loss_with_flip_is_that_of_the_mirror_symmetric_method(small_problem):
    """With the Gaussian kernel (left-right symmetric) the problem of the mirrored images is the
    mirror of the problem: the JFB loss and its weight gradient are the same on both with
    ``symmetry="flip"`` (the fixed point, the step and the loss are those of R averaged over the
    mirror), and not with the network alone. The fixed points are solved to 1e-6, so that the
    solver's stopping error stays below the loss gap checked."""
    clean, y, operator = small_problem
    model, _ = load_regularizer("red", "gaussian", 60)

    def loss_and_gradient(clean, y, symmetry):
        loss, extras, _ = train_deq.deq_loss(model, clean, y, operator, initial_point(y, operator),
                                             "lbfgs", 1e-6, 1000, symmetry)
        assert extras["converged"] == 1.0
        weight = model.net.in_conv.weight
        (gradient,) = torch.autograd.grad(loss, weight)
        return float(loss.detach()), gradient

    for symmetry, same in (("flip", True), ("none", False)):
        loss, gradient = loss_and_gradient(clean, y, symmetry)
        mirrored_loss, mirrored_gradient = loss_and_gradient(clean.flip(-1), y.flip(-1), symmetry)
        gap = abs(loss - mirrored_loss) / loss
        if same:
            assert gap < 1e-4 and torch.allclose(gradient, mirrored_gradient, rtol=1e-2,
                                                 atol=1e-3 * gradient.abs().max())
        else:
            assert gap > 1e-3, (symmetry, gap)


def test_train_deq_validates_and_records_the_symmetrised_potential(tmp_path, monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("CBSD432")))
    output = tmp_path / "flip.pt"
    train_deq.main(["--alpha", "60", "--kernels", "gaussian", "--steps", "1", "--batch", "1",
                    "--patch", "64", "--train-max-iter", "3", "--validation-images", "1",
                    "--validation-size", "64", "--validation-max-iter", "20", "--device", "cpu",
                    "--symmetry", "flip", "--validate-every", "1", "--init",
                    str(WEIGHTS_DIR / "red_all_a60.pt"), "--run-dir", str(tmp_path / "run"),
                    "--output", str(output)])
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["symmetry"] == "flip" and "symmetry 'flip'" in record["validation"]
    model = REDPotential()
    model.load_state_dict(load_checkpoint(output, record["sha256"]))
    model.requires_grad_(False)
    crops = validation_crops(cbsd432_split()[1][:1], 64)
    ((y, operator),) = train_deq.validation_problems(crops, [get_kernel("gaussian")], 60)

    def validation(symmetry):
        result = reconstruct(y, operator, symmetrized(model, symmetry), "lbfgs", max_iter=20)
        return float(psnr(result.x, crops).mean())

    flip, alone = validation("flip"), validation("none")
    assert abs(record["validation_psnr"] - flip) < 1e-3 < abs(flip - alone)


def test_train_deq_with_the_implicit_gradient_logs_its_solves_and_records_it(tmp_path, monkeypatch):
    """One step of ``--gradient implicit``: the weights move, the log has the CG steps and
    residual of the step, the provenance names the gradient; bad CG options are refused."""
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("CBSD432")))
    output = tmp_path / "implicit.pt"
    start = WEIGHTS_DIR / "red_all_a60.pt"
    train_deq.main(["--alpha", "60", "--kernels", "gaussian", "--steps", "1", "--batch", "1",
                    "--patch", "64", "--train-max-iter", "20", "--validation-images", "1",
                    "--validation-size", "64", "--validation-max-iter", "5", "--device", "cpu",
                    "--gradient", "implicit", "--cg-iterations", "3", "--cg-damping", "0.2",
                    "--lr", "1e-3", "--init", str(start), "--run-dir", str(tmp_path / "run"),
                    "--output", str(output)])
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["gradient"] == "implicit"
    assert "at most 3 CG steps, damping 0.2" in record["data"]
    with open(tmp_path / "run" / "metrics.csv") as f:
        (row,) = list(csv.DictReader(f))
    assert 0 < float(row["cg_iterations"]) <= 3 and 0 < float(row["cg_residual"]) < 1
    trained, initial = load_checkpoint(output, record["sha256"]), load_checkpoint(start)
    assert any(not torch.equal(trained[k], initial[k]) for k in initial)
    for option, value in (("--cg-iterations", "0"), ("--cg-damping", "-1")):
        with pytest.raises(SystemExit):
            train_deq.main(["--alpha", "60", option, value])


def test_train_deq_keeps_the_architecture_of_its_init_weights(tmp_path, monkeypatch):
    """``--init`` weights of another width and depth than the default DnCNN train as they are,
    and their export records that architecture, from which the registry rebuilds the network."""
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("CBSD432")))
    torch.manual_seed(0)
    narrow = REDPotential(features=16, depth=3)
    init = tmp_path / "narrow_init.pt"
    torch.save(narrow.state_dict(), init)
    assert REDPotential.architecture_of(narrow.state_dict()) == dict(features=16, depth=3,
                                                                      channels=3)
    output = tmp_path / "narrow.pt"
    train_deq.main(["--alpha", "60", "--kernels", "gaussian", "--steps", "1", "--batch", "1",
                    "--patch", "64", "--train-max-iter", "3", "--validation-images", "1",
                    "--validation-size", "64", "--validation-max-iter", "3", "--device", "cpu",
                    "--init", str(init), "--run-dir", str(tmp_path / "run"), "--output",
                    str(output)])
    record = json.loads(output.with_suffix(".json").read_text())
    assert record["architecture"]["features"] == 16 and record["architecture"]["depth"] == 3
    rebuilt = build_regularizer("red", record["architecture"])
    rebuilt.load_state_dict(load_checkpoint(output, record["sha256"]))
    assert len(rebuilt.net.conv_list) == 1 and rebuilt.net.in_conv.out_channels == 16
