"""A small grid runs through benchopt's dask backend on a local cluster bound to loopback."""

import shutil

import pandas as pd
from test_cli import ROOT, copy_benchmark, run


def test_grid_runs_on_a_local_dask_cluster(tmp_path):
    copy_benchmark(tmp_path)
    (tmp_path / "configs").mkdir()
    shutil.copy(ROOT / "configs" / "parallel" / "dask_local.yml", tmp_path / "configs")
    result = run(["run", ".", "-d", "simulated[kernel=[gaussian,uniform],size=32]",
                  "-s", "richardson_lucy", "-s", "tv_md[max_iter=20]", "-n", "10",
                  "--parallel-config", "configs/dask_local.yml", "--no-cache",
                  "--output", "dask", "--no-plot"], cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Distributed run with backend: dask" in output, output[-3000:]
    df = pd.read_parquet(tmp_path / "outputs" / "dask.parquet")
    runs = df.groupby(["dataset_name", "solver_name"]).size()
    assert len(runs) == 4, "2 settings x 2 solvers"
    assert df["objective_psnr"].notna().all()
