"""The benchmark scripts of ``scripts/bench_*.py`` run end to end at toy sizes, and what they
count holds: the timed steps evaluate what they claim, the equilibrium solver's end point meets
its tolerance (the script recomputes the residual from a fresh gradient) where the paper's
iteration is still capped, a looser training tolerance costs fewer evaluations for a nearby fixed
point and gradient.

Timings are not checked (the machine is shared and noisy; at toy sizes overheads dominate): only
that every printed ratio is a positive number.
"""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import real_data

from benchmark.data.images import smooth_random_images
from benchmark.data.problem import make_problem
from benchmark.maths.metrics import psnr
from benchmark.maths.physics import blur_operator

ROOT = Path(__file__).resolve().parents[1]


def run_script(name, *args, data_root=None):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "POISSON_DEBLUR_OFFLINE": "1"}
    if data_root is not None:
        env["POISSON_DEBLUR_DATA"] = str(data_root)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / name), "--device", "cpu", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused_script(name, *args):
    """Run ``scripts/<name>`` with arguments it must refuse: its exit status and stderr."""
    env = {**os.environ, "POISSON_DEBLUR_OFFLINE": "1"}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stderr


def numbers_after(label, text):
    """Every number that follows ``label`` on a line of ``text``."""
    return [float(m) for m in re.findall(re.escape(label) + r"\s*([-+0-9.e]+)", text)]


def positive_numbers(values):
    return bool(values) and all(math.isfinite(v) and v > 0 for v in values)


def test_a_mirror_step_evaluates_its_objective_once_and_prints_its_ratios():
    out = run_script("bench_mirror_step.py", "--size", "32", "--batch", "1", "--repeats", "5")
    ratios = numbers_after("ratio to A + A^T:", out)
    assert len(ratios) == 3 and ratios[0] == 1.0 and positive_numbers(ratios), out
    # an accepted step at the settled step size: one evaluation of F and its gradient
    assert [int(m) for m in re.findall(r"(\d+) evaluation\(s\) of F", out)] == [1, 1], out


def test_a_deq_iteration_evaluates_the_network_once_and_prints_its_ratios():
    out = run_script("bench_deq_iteration.py", "--size", "32", "--batch", "1", "--repeats", "3",
                     "--warmup", "3")
    evaluations = [float(m) for m in re.findall(r"\(([0-9.]+) network evaluation", out)]
    # the paper's iteration: one evaluation per accepted step; L-BFGS: at least one on average
    assert len(evaluations) == 2 and evaluations[0] == 1.0 and evaluations[1] >= 1.0, out
    assert positive_numbers(numbers_after("/ (forward+backward):", out)), out


def test_the_equilibrium_solver_meets_its_tolerance_where_the_paper_s_iteration_is_capped():
    root = real_data("set3c")
    out = run_script("bench_equilibrium.py", "--settings", "butterfly:gaussian:100:48",
                     "--max-iter", "300", "--tol", "1e-5", data_root=root)
    lines = {name: next(line for line in out.splitlines() if line.strip().startswith(name + ":"))
             for name in ("mirror", "lbfgs")}
    residual = {name: numbers_after("residual", line)[0] for name, line in lines.items()}
    evaluations = {name: float(line.split(":")[1].split()[0]) for name, line in lines.items()}
    assert residual["lbfgs"] < 1e-5 and "cap hit" not in lines["lbfgs"], out
    assert "cap hit" in lines["mirror"] and residual["mirror"] > residual["lbfgs"], out
    assert evaluations["lbfgs"] < evaluations["mirror"], out


def test_a_looser_training_tolerance_costs_less_for_a_nearby_fixed_point_and_gradient():
    root = real_data("CBSD432")
    out = run_script("bench_training_tolerance.py", "--alpha", "100", "--weights",
                     str(ROOT / "benchmark/networks/weights/red_all_a100.pt"), "--batches", "1",
                     "--batch", "1", "--patch", "64", "--tols", "1e-3", "1e-5", data_root=root)
    rows = {float(cells[0]): [float(c) for c in cells[1:]]
            for cells in (line.strip("| ").split(" | ") for line in out.splitlines()
                          if re.match(r"\| [0-9][0-9.e-]* \|", line))}
    loose, tight = rows[1e-3], rows[1e-5]
    assert loose[0] < tight[0], out
    assert tight[1] == 0.0 and loose[1] < 0.05, out
    assert loose[3] > 0.9, out


def test_more_cg_steps_bring_the_implicit_gradient_to_its_reference_and_jfb_stays_away():
    root = real_data("CBSD432")
    out = run_script("bench_implicit_gradient.py", "--alpha", "100", "--weights",
                     str(ROOT / "benchmark/networks/weights/red_motion_a100.pt"), "--batches", "1",
                     "--batch", "1", "--patch", "64", "--damping", "0.3", "--cg", "1",
                     "--cg-reference", "15", data_root=root)
    rows = {tuple(cells[:3]): [float(c) for c in cells[3:]]
            for cells in (line.strip("| ").split(" | ") for line in out.splitlines()
                          if re.match(r"\| (jfb|implicit) \|", line))}
    jfb, one, reference = rows[("jfb", "", "")], rows[("implicit", "0.3", "1")], rows[
        ("implicit", "0.3", "15")]
    assert reference[0] > 0.9999 and reference[2] <= 15, out
    assert one[2] == 1 and reference[3] < one[3], out
    assert jfb[0] < 0.99, out


@pytest.mark.parametrize("setting", ["memory", "denormals"])
def test_the_cpu_settings_benchmark_prints_a_ratio_and_a_difference_per_case(setting):
    """Each arm's worker checks that its process is in the state the arm names (it exits
    otherwise); the outputs of the two arms are the same computation, equal to float32 rounding."""
    out = run_script("bench_cpu_settings.py", "--setting", setting, "--scale", "8", "--repeats",
                     "1")
    ratios = numbers_after("ratio", out)
    assert len(ratios) == 5 and positive_numbers(ratios), out
    differences = [float(d) for d in re.findall(r"largest output difference (\S+)", out)]
    assert len(differences) == 5 and all(0 <= d < 1e-4 for d in differences), out
    peaks = [float(m) for m in re.findall(r"peak memory, (?:off|on): (\d+) MB", out)]
    assert len(peaks) == 2 and positive_numbers(peaks), out


def test_per_image_psnr_prints_each_images_psnr_of_the_data_sets_own_draw():
    """On the simulated data set: A^T y's PSNR per image, recomputed here from the same draw, is
    what the script prints; Richardson-Lucy runs to its own rule, or to the cap it is given as
    benchopt takes parameters; an unknown solver is refused."""
    out = run_script("per_image_psnr.py", "--dataset", "simulated", "--set", "size=16",
                     "--kernel", "uniform", "--alpha", "60", "--solvers", "backprojection",
                     "richardson_lucy", "richardson_lucy[discrepancy_target=0.0,max_iter=3]")
    x, names = smooth_random_images(2, 16, 0)
    problem = make_problem(x, names, "uniform", 60, 0)
    operator = blur_operator(problem["kernel"], tuple(x.shape[1:]))
    expected = psnr(operator.A_adjoint(problem["y"]).clamp(0.0, 1.0), x).tolist()
    line = next(line for line in out.splitlines() if "backprojection:" in line)
    printed = [float(v) for v in line.split("PSNR")[1].split("mean")[0].split()]
    assert len(printed) == 2 and all(abs(p - e) < 0.006 for p, e in zip(printed, expected)), out
    assert "discrepancy D <= 1 for every image" in out, out
    assert "(iteration cap max_iter=3 hit" in out, out
    for wrong, message in ((["--solvers", "nosuch"], "unknown solvers ['nosuch']"),
                           (["--solvers", "tv_md", "--set", "crop=64"],
                            "simulated has no parameters ['crop']")):
        status, stderr = refused_script("per_image_psnr.py", "--dataset", "simulated", "--kernel",
                                        "uniform", "--alpha", "60", *wrong)
        assert status != 0 and message in stderr, stderr
