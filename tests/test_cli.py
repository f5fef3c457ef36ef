"""End-to-end: benchopt runs the benchmark, and its test suite fails on a solver it cannot
import."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import real_data
from PIL import Image

from benchmark.data.images import load_skimage_photos, smooth_random_images
from benchmark.data.problem import make_problem
from benchmark.maths.metrics import psnr
from benchmark.reporting import report
from benchmark.reporting.report import protocol_link, read_runs, solver_labels, write_report

ROOT = Path(__file__).resolve().parents[1]
BENCHOPT = [sys.executable, "-m", "benchopt"]


def run(args, cwd, timeout=600):
    # benchopt test starts `pytest` from PATH: the one of this interpreter's environment
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "POISSON_DEBLUR_OFFLINE": "1", "MPLBACKEND": "Agg", "PATH": path}
    return subprocess.run(BENCHOPT + args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def copy_benchmark(target):
    for name in ("objective.py", "config.yml", "test_config.py"):
        shutil.copy(ROOT / name, target / name)
    for folder in ("datasets", "solvers", "plots"):
        shutil.copytree(ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))


@pytest.fixture(scope="module")
def benchopt_run(tmp_path_factory):
    """One small run of three solvers on two settings of the simulated data set."""
    folder = tmp_path_factory.mktemp("benchmark")
    copy_benchmark(folder)
    result = run(["run", ".", "-d", "simulated[kernel=[gaussian,uniform],size=32]",
                  "-s", "richardson_lucy", "-s", "tv_md[max_iter=50]",
                  "-s", "pidsplit[max_iter=50]",
                  "-n", "30", "--output", "out", "--no-display"], cwd=folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder


def test_benchopt_run_records_psnr_curves_and_reconstructions(benchopt_run):
    df = pd.read_parquet(benchopt_run / "outputs" / "out.parquet")
    assert set(df["solver_name"].str.split("[").str[0]) == {"richardson_lucy", "tv_md", "pidsplit"}
    for column in ("objective_value", "objective_psnr", "objective_ssim",
                   "objective_kl_per_pixel", "objective_reconstruction", "time"):
        assert column in df.columns
    curves = df.groupby(["dataset_name", "solver_name"])["stop_val"].nunique()
    assert (curves > 1).all(), "every solver records a curve, not a single point"
    html = list((benchopt_run / "outputs").glob("*_out.html"))
    assert html, "benchopt wrote no HTML report"
    report = html[0].read_text()
    assert "data:image/png;base64" in report, "no reconstruction image in the report"
    assert "final_metrics" in report and "objective_psnr" in report


def test_report_tables_match_the_result_file_and_figures_render(benchopt_run):
    out = benchopt_run / "results"
    parquet = benchopt_run / "outputs" / "out.parquet"
    written = write_report(parquet, out, benchopt_run)
    df = pd.read_parquet(parquet)
    last = df.sort_values("stop_val").groupby(["dataset_name", "solver_name"]).tail(1)

    psnr_table = (out / "psnr.md").read_text().splitlines()
    header = [cell.strip() for cell in psnr_table[0].strip("|").split("|")]
    assert header[1:] == ["simulated gaussian a60", "simulated uniform a60", "mean"]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")[1:]]
            for line in psnr_table[2:]}
    assert set(rows) == {"richardson_lucy", "tv_md", "pidsplit"}
    for column, kernel in enumerate(["gaussian", "uniform"]):
        part = last[last["p_dataset_kernel"] == kernel]
        best = part["objective_psnr"].max()
        for solver, value in zip(part["solver_name"].str.split("[").str[0], part["objective_psnr"]):
            cell = rows[solver][column]
            assert cell.strip("*") == f"{value:.2f}"
            assert cell.startswith("**") == (value == best)

    runs = (out / "runs.md").read_text()
    assert "it. /" in runs and "richardson_lucy" in runs
    readme = (out / "README.md").read_text()
    for name in df["solver_name"].unique():
        assert f"- `{name.split('[')[0]}`: `{name}`" in readme, "each label with its full name"
    figures = [p for p in written if p.suffix in (".png", ".jpg")]
    assert len(figures) == 4, "one curve and one reconstruction grid per setting"
    for figure in figures:
        assert f"({figure.relative_to(out)})" in readme
        image = np.asarray(Image.open(figure).convert("RGB"), dtype=np.float32) / 255
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert image.std() > 0.05, f"{figure.name} is blank"


def test_a_report_that_fails_leaves_its_folder_as_it_was(benchopt_run, tmp_path, monkeypatch):
    out = tmp_path / "results"
    out.mkdir()
    (out / "psnr.md").write_text("the report before")
    parquet = benchopt_run / "outputs" / "out.parquet"

    def dataset_not_on_disk(benchmark_dir, row):
        raise FileNotFoundError("set3c is not on disk")
    # the tables come first; the reconstructions then need the dataset, which is missing
    monkeypatch.setattr(report, "rebuild_problem", dataset_not_on_disk)
    with pytest.raises(FileNotFoundError, match="not on disk"):
        write_report(parquet, out, benchopt_run)
    assert [p.name for p in out.rglob("*")] == ["psnr.md"]
    assert (out / "psnr.md").read_text() == "the report before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"], "no staging folder left"


def test_report_reads_several_result_files_as_one(benchopt_run, tmp_path):
    """A grid run, then new solvers in a second file: the tables are those of one file."""
    parquet = benchopt_run / "outputs" / "out.parquet"
    df = pd.read_parquet(parquet)
    first = df["solver_name"].str.startswith("richardson_lucy")
    df[first].to_parquet(tmp_path / "first.parquet")
    df[~first].to_parquet(tmp_path / "second.parquet")
    write_report(parquet, tmp_path / "one", benchopt_run)
    write_report([tmp_path / "first.parquet", tmp_path / "second.parquet"], tmp_path / "two",
                 benchopt_run)
    for table in ("psnr.md", "ssim.md"):
        assert (tmp_path / "one" / table).read_text() == (tmp_path / "two" / table).read_text()
    readme = (tmp_path / "two" / "README.md").read_text()
    assert "first.parquet` (richardson_lucy)" in readme
    assert "second.parquet` (pidsplit, tv_md)" in readme


def test_a_later_result_file_replaces_the_runs_it_repeats(benchopt_run, tmp_path):
    """One setting of one solver rerun (here: its PSNR moved by +1 dB) and given after the grid's
    file: only that solver in that setting comes from the rerun, the rest from the grid."""
    parquet = benchopt_run / "outputs" / "out.parquet"
    df = pd.read_parquet(parquet)
    tv_md = df["solver_name"].str.startswith("tv_md")
    repeated = tv_md & df["dataset_name"].str.contains("gaussian")
    assert repeated.any() and (tv_md & ~repeated).any()
    rerun = df[repeated].assign(objective_psnr=df.loc[repeated, "objective_psnr"] + 1.0)
    rerun.to_parquet(tmp_path / "rerun.parquet")
    runs = read_runs([parquet, tmp_path / "rerun.parquet"])
    assert len(runs) == len(df)
    from_rerun = runs["results_file"] == str(tmp_path / "rerun.parquet")
    assert (runs.loc[from_rerun, "solver"] == "tv_md").all()
    assert runs.loc[from_rerun, "setting"].nunique() == 1
    assert from_rerun.sum() == repeated.sum()
    assert np.allclose(np.sort(runs.loc[from_rerun, "objective_psnr"]),
                       np.sort(df.loc[repeated, "objective_psnr"] + 1.0))
    grid_only = read_runs(parquet)
    kept = runs.loc[~from_rerun, "objective_psnr"].to_numpy()
    assert np.allclose(np.sort(kept), np.sort(grid_only.loc[
        ~(grid_only["solver"].eq("tv_md") & grid_only["setting"].str.contains("gaussian")),
        "objective_psnr"]))


def test_a_run_named_before_a_parameter_existed_is_the_same_solver_as_its_default(
        benchopt_run, tmp_path):
    """tv_md's runs written as by a version without ``smoothing`` (its name lacks it), then the
    same solver's runs with it: with the benchmark's defaults they are one solver, the later
    file's; without them, two rows."""
    parquet = benchopt_run / "outputs" / "out.parquet"
    df = pd.read_parquet(parquet)
    tv_md = df["solver_name"].str.startswith("tv_md")
    assert df.loc[tv_md, "solver_name"].str.contains("smoothing=0.01,").all()
    old = df.assign(solver_name=df["solver_name"].str.replace("smoothing=0.01,", "",
                                                              regex=False))
    old.to_parquet(tmp_path / "old.parquet")
    files = [tmp_path / "old.parquet", parquet]
    merged = read_runs(files, benchopt_run)
    assert sorted(merged["solver"].unique()) == ["pidsplit", "richardson_lucy", "tv_md"]
    assert (merged["results_file"] == str(parquet)).all()
    assert len(merged) == len(df)
    apart = read_runs(files)
    assert apart.loc[apart["solver"].str.startswith("tv_md"), "solver"].nunique() == 2


def compare_runs(before, after, benchmark_dir):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare_runs.py"), str(before), str(after),
         "--benchmark-dir", str(benchmark_dir)], capture_output=True, text=True, timeout=300)


def test_compare_runs_matches_solvers_by_their_full_names_with_the_defaults(
        benchopt_run, tmp_path):
    """An old file (tv_md's name without ``smoothing``) against the run: the same solvers, the
    same numbers. A variant of tv_md in one file is not compared with the other's tv_md, and a
    final PSNR moved by 1e-6 dB is found."""
    parquet = benchopt_run / "outputs" / "out.parquet"
    df = pd.read_parquet(parquet)
    tv_md = df["solver_name"].str.startswith("tv_md")
    old = df.assign(solver_name=df["solver_name"].str.replace("smoothing=0.01,", "", regex=False))
    old.to_parquet(tmp_path / "old.parquet")
    same = compare_runs(tmp_path / "old.parquet", parquet, benchopt_run)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "identical model-based results" in same.stdout

    variant = df.assign(solver_name=df["solver_name"].str.replace(
        "smoothing=0.01,", "smoothing=0.02,", regex=False))
    variant.to_parquet(tmp_path / "variant.parquet")
    apart = compare_runs(tmp_path / "old.parquet", tmp_path / "variant.parquet", benchopt_run)
    assert apart.returncode == 1
    one_file_only = [line for line in apart.stdout.splitlines()
                     if line.startswith("FAILED")][0]
    assert "smoothing=0.01" in one_file_only and "smoothing=0.02" in one_file_only
    assert "pidsplit" not in one_file_only and "richardson_lucy" not in one_file_only

    last = df.groupby(["solver_name", "dataset_name", "idx_rep"])["stop_val"].transform("max")
    moved = df.copy()
    moved.loc[tv_md & (df["stop_val"] == last), "objective_psnr"] += 1e-6
    moved.to_parquet(tmp_path / "moved.parquet")
    differs = compare_runs(parquet, tmp_path / "moved.parquet", benchopt_run)
    assert differs.returncode == 1
    flagged = [line.split()[0] for line in differs.stdout.splitlines() if line.endswith("DIFFERS")]
    assert flagged == ["tv_md"]


def test_missing_parameters_take_the_defaults_in_benchopts_order():
    defaults = {"deqmd": {"symmetry": "none", "tol": "None", "solver": "lbfgs"}}
    assert report.with_defaults("deqmd[solver=mirror,tol=None]", defaults) == \
        "deqmd[solver=mirror,symmetry=none,tol=None]"
    assert report.with_defaults("deqmd", defaults) == "deqmd[solver=lbfgs,symmetry=none,tol=None]"
    assert report.with_defaults("b_red[lam=[1, 2]]", defaults) == "b_red[lam=[1, 2]]"


def test_report_links_the_protocol_of_its_folder_or_of_the_parent(tmp_path):
    sub = tmp_path / "bregman"
    sub.mkdir()
    assert protocol_link(sub) is None
    (tmp_path / "protocol.md").write_text("protocol")
    assert protocol_link(sub) == "../protocol.md"
    (sub / "protocol.md").write_text("own protocol")
    assert protocol_link(sub) == "protocol.md"


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


def readme_template():
    """The solver file of the README's "Add a solver" section."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Add a solver"):]
    return section[section.index("```python\n") + len("```python\n"):section.index("```\n", 10)]


def test_readme_solver_template_passes_benchopt_test(tmp_path):
    copy_benchmark(tmp_path)
    template = readme_template()
    assert 'name = "my_method"' in template and "class Solver(CallbackSolver):" in template
    (tmp_path / "solvers" / "my_method.py").write_text(template)
    result = run(["test", ".", "--skip-install", "-k", "my_method"], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "passed" in output.splitlines()[-1] and "failed" not in output.splitlines()[-1]


@pytest.mark.parametrize("kernel, alpha, lam", [("gaussian", 60, 0.03), ("uniform", 40, 0.05),
                                              ("gaussian", 100, 0.02)])
def test_readme_solver_template_is_a_method_that_works(kernel, alpha, lam):
    """It stops by its own rule, above A^T y (the old template, plain KL gradient steps of 0.1,
    fell below it), on photographs and on the simulated images."""
    namespace = {}
    exec(compile(readme_template(), "README template", "exec"), namespace)
    for x, names in (load_skimage_photos(crop=64), smooth_random_images(2, 32, seed=0)):
        data = make_problem(x, names, kernel, alpha, seed=0)
        solver = namespace["Solver"].get_instance(lam=lam)
        solver.set_objective(data["y"], data["kernel"], data["alpha"], data["kernel_name"])
        solver.run(lambda: True)
        algorithm = solver.algorithm
        assert algorithm.stop_reason is not None and algorithm.iterations <= 1000
        x_hat = solver.get_result()["x"]
        back = solver.operator.A_adjoint(solver.y).clamp(0, 1)
        assert float(psnr(x_hat, x).mean()) > float(psnr(back, x).mean()) + 0.5


def test_deqmd_per_image_names_the_missing_checkpoint(tmp_path):
    """The per-image script loads weights by the registry rules; an empty folder is a clear
    error."""
    env = {**os.environ, "POISSON_DEBLUR_OFFLINE": "1",
           "POISSON_DEBLUR_DATA": str(real_data("set3c", "kernels"))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "deqmd_per_image.py"), "--kernel", "motion",
         "--alpha", "100", "--weights-dir", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "WeightsError: No deq checkpoint for regularizer='red', kernel='motion'" in last
    assert str(tmp_path) in last


def test_quickstart_runs_every_solver_with_caps_on_the_slow_ones():
    config = yaml.safe_load((ROOT / "configs" / "quickstart.yml").read_text())
    solvers = {entry.split("[")[0]: entry for entry in config["solver"]}
    assert set(solvers) == {path.stem for path in (ROOT / "solvers").glob("*.py")}
    for name in ("b_red", "b_pnp"):
        assert "max_iter=" in solvers[name], f"{name} needs a cap in the quick start"
    assert config["timeout"] >= 600 and config["output"] == "quickstart"


def test_report_labels_variants_of_a_solver_by_the_parameters_that_differ():
    old = "deqmd[device=auto,max_iter=None,regularizer=red,solver=lbfgs,tol=None]"
    names = pd.Series([old, old.replace("tol=None", "symmetry=flip,tol=None"),
                       old.replace("solver=lbfgs", "solver=mirror"), "tv_md[lam=tuned,tol=1e-06]",
                       "b_red[lam=[1, 2],max_iter=150]", old])
    assert list(solver_labels(names)) == [
        "deqmd[solver=lbfgs]", "deqmd[solver=lbfgs,symmetry=flip]", "deqmd[solver=mirror]",
        "tv_md", "b_red", "deqmd[solver=lbfgs]"]


def test_provenance_names_benchopts_tag_or_says_there_was_none(benchopt_run):
    df = report.read_runs([benchopt_run / "outputs" / "out.parquet"])
    untagged = "\n".join(report.provenance(df.assign(**{"benchmark-git-tag": None}), benchopt_run))
    assert "(`git describe --tags`): none (the repository had no tag)" in untagged
    tagged = "\n".join(report.provenance(df.assign(**{"benchmark-git-tag": "v1.2"}), benchopt_run))
    assert "(`git describe --tags`): `v1.2`;" in tagged
