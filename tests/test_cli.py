"""End-to-end: benchopt runs the benchmark, and its test suite fails on a solver it cannot import."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BENCHOPT = [sys.executable, "-m", "benchopt"]


def run(args, cwd, timeout=600):
    env = {**os.environ, "POISSON_DEBLUR_OFFLINE": "1", "MPLBACKEND": "Agg"}
    return subprocess.run(BENCHOPT + args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def copy_benchmark(target):
    for name in ("objective.py", "config.yml", "test_config.py"):
        shutil.copy(ROOT / name, target / name)
    for folder in ("datasets", "solvers", "plots"):
        shutil.copytree(ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))


def test_benchopt_run_records_psnr_curves_and_reconstructions(tmp_path):
    copy_benchmark(tmp_path)
    result = run(["run", ".", "-d", "simulated[kernel=gaussian,size=32]", "-s", "richardson_lucy",
                  "-s", "tv_md[max_iter=50]", "-s", "pidsplit[max_iter=50]", "-n", "30",
                  "--output", "out", "--no-display"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    parquet = tmp_path / "outputs" / "out.parquet"
    df = pd.read_parquet(parquet)
    assert set(df["solver_name"].str.split("[").str[0]) == {"richardson_lucy", "tv_md", "pidsplit"}
    for column in ("objective_value", "objective_psnr", "objective_ssim",
                   "objective_kl_per_pixel", "objective_reconstruction", "time"):
        assert column in df.columns
    curves = df.groupby("solver_name")["stop_val"].nunique()
    assert (curves > 1).all(), "every solver records a curve, not a single point"
    html = list((tmp_path / "outputs").glob("*_out.html"))
    assert html, "benchopt wrote no HTML report"
    report = html[0].read_text()
    assert "data:image/png;base64" in report, "no reconstruction image in the report"
    assert "final_metrics" in report and "objective_psnr" in report


def test_benchopt_test_fails_when_a_solver_cannot_be_imported(tmp_path):
    copy_benchmark(tmp_path)
    for solver in (tmp_path / "solvers").glob("*.py"):
        if solver.name != "richardson_lucy.py":
            solver.unlink()
    (tmp_path / "solvers" / "broken.py").write_text(
        "from benchopt import BaseSolver\n"
        "from benchopt import safe_import_context\n\n"
        "with safe_import_context() as import_ctx:\n"
        "    import package_that_does_not_exist  # noqa: F401\n\n\n"
        "class Solver(BaseSolver):\n"
        "    name = 'broken'\n"
        "    sampling_strategy = 'callback'\n\n"
        "    def set_objective(self, y, kernel, alpha):\n"
        "        pass\n\n"
        "    def run(self, cb):\n"
        "        pass\n\n"
        "    def get_result(self):\n"
        "        return dict(x=None)\n"
    )
    result = run(["test", ".", "--skip-install", "-k", "test_solver_run"], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "test_solver_run[broken-simulated]" in output
    assert "ModuleNotFoundError: No module named 'package_that_does_not_exist'" in output
    assert "1 passed" in output, "the importable solver still runs"
    assert "skipped" not in output.splitlines()[-1]
