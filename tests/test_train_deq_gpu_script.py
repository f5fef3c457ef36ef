"""scripts/train_deq_gpu.sh on a CPU, one model, tiny sizes: the length of the run it starts comes
from its probe, the run stops at its time budget, and a second call continues it from its
checkpoint instead of starting again; with SYMMETRY=flip it trains and validates the symmetrised
potential, with GRADIENT=implicit the gradient by implicit differentiation."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import real_data

from benchmark.data.paths import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "train_deq_gpu.sh"
TINY = {"MODELS": "red_all_a40", "BATCH": "1", "VAL_IMAGES": "1", "VAL_SIZE": "64",
        "VAL_MAX_ITER": "3", "HELD_IMAGES": "1", "HELD_SIZE": "64", "HELD_MAX_ITER": "3",
        "PROBE_STEPS": "2", "OMP_NUM_THREADS": "1", "SYMMETRY": "flip",
        "GRADIENT": "implicit", "CG_DAMPING": "1"}


def run_script(folder, seconds, total):
    env = {**os.environ, **TINY, "TOTAL_SECONDS": str(total),
           "POISSON_DEBLUR_DATA": str(real_data("CBSD432", "kernels")),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", str(SCRIPT), str(folder), str(seconds), "cpu"], env=env,
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def logged_steps(folder):
    with open(folder / "runs" / "gpu_red_all_a40" / "metrics.csv", newline="") as f:
        return [int(row["step"]) for row in csv.DictReader(f)]


def seconds_per_step(metrics):
    """Seconds per step of a run after its first step, from its ``metrics.csv``."""
    with open(metrics, newline="") as f:
        elapsed = [float(row["elapsed_s"]) for row in csv.DictReader(f)]
    return round((elapsed[-1] - elapsed[0]) / (len(elapsed) - 1), 3)


def test_the_gpu_training_script_stops_at_its_budget_and_resumes(tmp_path):
    total = 600  # the runs' length: a cosine over 0.7 * 600 s of the probe's steps
    out = run_script(tmp_path, 4, total)
    assert "red_all_a40" in out and "red_motion_a100" not in out
    steps, every = map(int, (tmp_path / "runs" / "gpu_red_all_a40.steps").read_text().split())
    per_step = seconds_per_step(tmp_path / "probe" / "red_all_a40" / "metrics.csv")
    assert steps == max(10, int(0.7 * total / per_step)) and every == max(5, 5 * round(steps / 30))
    first = logged_steps(tmp_path)
    assert first == list(range(1, len(first) + 1)) and len(first) < steps
    record = json.loads((tmp_path / "runs" / "gpu_red_all_a40.json").read_text())
    assert record["steps_trained"] == len(first) and not record["complete"]
    assert f"--steps {steps}" in record["command"] and record["alpha"] == 40
    assert record["symmetry"] == "flip" and record["gradient"] == "implicit"
    assert "CG steps, damping 1" in record["data"]
    heldout = (tmp_path / "runs" / "heldout_red_all_a40.txt").read_text()
    for weights in ("/red_all_a40.pt", "/gpu_red_all_a40.pt"):
        for symmetry in ("none", "flip"):
            assert f"{weights} (symmetry {symmetry}): mean" in heldout, heldout

    probe = (tmp_path / "probe" / "red_all_a40" / "metrics.csv").read_bytes()
    out = run_script(tmp_path, 4, total)
    assert f"resumed to --steps {steps}" in out
    assert (tmp_path / "probe" / "red_all_a40" / "metrics.csv").read_bytes() == probe
    second = logged_steps(tmp_path)
    assert second[:len(first)] == first and second == list(range(1, len(second) + 1))
    assert len(second) > len(first)
    record = json.loads((tmp_path / "runs" / "gpu_red_all_a40.json").read_text())
    assert record["steps_trained"] == len(second)
