"""A run that benchopt cuts short (its time limit) says so: in the solver's output, in the result
file, and in every table the project writes (report, run summary, HTML final-metrics table)."""

import subprocess
import sys

import pandas as pd
import pytest
import torch
from test_cli import ROOT, copy_benchmark, run

from benchmark.glue.runner import STOP_REASON, STOPPED_BY, cut_short_message, run_iterations
from benchmark.reporting.report import write_report


class CountingAlgorithm:
    """Stops by its own rule after ``stop_after`` steps."""

    def __init__(self, stop_after=None):
        self.stop_after, self.iterations, self.stop_reason = stop_after, 0, None
        self.x = torch.zeros(1)

    def step(self):
        self.iterations += 1
        if self.iterations == self.stop_after:
            self.stop_reason = f"iteration cap max_iter={self.stop_after} hit"


class FakeCallback:
    """The parts of benchopt's ``_Callback`` that the runner reads: a record every ``every``
    calls, ``status`` set when a limit of ``limit`` calls is hit (then it returns False)."""

    def __init__(self, limit=None, status="timeout", every=1):
        self.limit, self.final_status, self.every = limit, status, every
        self.info, self.curve, self.it, self.status = {"platform": "test"}, [], 0, "running"
        self.solver = type("S", (), {"name": "my_solver"})()

    def log(self):
        self.curve.append({"stop_val": self.it, **self.info})

    def __call__(self):
        if self.it % self.every == 0:
            self.log()
            if self.limit is not None and self.it >= self.limit:
                self.status = self.final_status
                return False
        self.it += 1
        return True

    def get_results(self):
        """benchopt logs a last record when the solver returned before a limit."""
        if self.status == "running" and self.curve[-1]["stop_val"] != self.it - 1:
            self.log()
        return self.curve


def test_a_run_cut_short_prints_one_line_and_marks_its_last_record(capsys):
    algorithm, callback = CountingAlgorithm(stop_after=1000), FakeCallback(limit=7)
    run_iterations(algorithm, callback)
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [cut_short_message("my_solver", 7, "timeout")]
    assert "after 7 iterations" in out[0] and "--timeout" in out[0]
    last = callback.get_results()[-1]
    assert last[STOPPED_BY] == "timeout" and "cut short by benchopt" in last[STOP_REASON]
    assert STOPPED_BY not in callback.curve[0], "only the last record is marked"


@pytest.mark.parametrize("every", [1, 4])
def test_a_run_stopped_by_its_own_rule_is_recorded_as_such(capsys, every):
    """Whether benchopt logged the final iterate itself or logs it after ``run`` returns."""
    algorithm, callback = CountingAlgorithm(stop_after=5), FakeCallback(every=every)
    run_iterations(algorithm, callback)
    assert capsys.readouterr().out == ""
    last = callback.get_results()[-1]
    assert algorithm.iterations == 5 and last[STOPPED_BY] == "solver"
    assert last[STOP_REASON] == "iteration cap max_iter=5 hit"


def test_the_message_names_the_flag_of_each_benchopt_limit():
    assert "-n with a larger number" in cut_short_message("s", 3, "max_runs")
    assert "--timeout" in cut_short_message("s", 3, "timeout")


@pytest.fixture(scope="module")
def timed_out_run(tmp_path_factory):
    """TV-MD with a tolerance it does not meet and a huge cap, under a 5 s limit; PIDSplit+ ends
    by its cap of 5 iterations (well inside the limit: at 2 s it was cut short once on a loaded
    machine, and with a cap of 20 once at 5 s, four processes on the two cores: each iteration's
    record evaluates every metric). A tolerance must be > 0, and in float32 the iterate of smooth
    random images stops moving at last (relative change 0 after 1,620 iterations at 32x32); on
    the photographs it still moves after 8,000 (64 s on one CPU thread, where 5 s make about
    600)."""
    folder = tmp_path_factory.mktemp("benchmark")
    copy_benchmark(folder)
    result = run(["run", ".", "-d", "skimage_photos[kernel=gaussian,alpha=60,crop=128]",
                  "-s", "tv_md[max_iter=1000000,tol=1e-30,device=cpu]",
                  "-s", "pidsplit[max_iter=5]",
                  "-s", "backprojection", "--timeout", "5", "--output", "cut", "--no-display"],
                 cwd=folder)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return folder, result.stdout + result.stderr


def test_benchopt_run_says_which_run_was_cut_short(timed_out_run):
    folder, output = timed_out_run
    lines = [line for line in output.splitlines() if "cut short by benchopt" in line]
    assert len(lines) == 1 and lines[0].startswith("tv_md: cut short by benchopt (timeout")
    assert "--timeout" in lines[0]
    df = pd.read_parquet(folder / "outputs" / "cut.parquet")
    last = df.sort_values("stop_val").groupby("solver_name").tail(1).set_index("solver_name")
    stopped = {name.split("[")[0]: value for name, value in last[STOPPED_BY].items()
               if isinstance(value, str)}
    assert stopped == {"tv_md": "timeout", "pidsplit": "solver"}, "run_once: nothing recorded"
    iterations = int(lines[0].split(" after ")[1].split()[0])
    assert 0 < iterations < 1_000_000


def test_report_and_summary_mark_the_run_cut_short(timed_out_run):
    folder, _ = timed_out_run
    parquet = folder / "outputs" / "cut.parquet"
    out = folder / "report"
    write_report(parquet, out, folder)
    psnr = (out / "psnr.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in psnr.splitlines()[2:]
            if line.startswith("| ")}
    assert "(timeout)" in rows["tv_md"] and "**" not in rows["tv_md"]
    assert "**" in rows["pidsplit"] and "(timeout)" not in rows["pidsplit"]
    assert "cut short by benchopt" in psnr
    assert "cut short (timeout)" in (out / "runs.md").read_text()
    readme = (out / "README.md").read_text()
    assert "## Runs cut short by benchopt" in readme
    assert "skimage_photos gaussian a60: tv_md: cut short by benchopt (timeout" in readme

    summary = subprocess.run([sys.executable, str(ROOT / "scripts" / "summarize_run.py"),
                              str(parquet)], capture_output=True, text=True, timeout=120)
    assert summary.returncode == 0, summary.stderr
    lines = summary.stdout.splitlines()
    tv_line = next(line for line in lines if line.lstrip().startswith("tv_md"))
    pid_line = next(line for line in lines if line.lstrip().startswith("pidsplit"))
    back_line = next(line for line in lines if line.lstrip().startswith("backprojection"))
    assert "CUT SHORT (timeout)" in tv_line and "CUT SHORT" not in pid_line
    assert "solver" in pid_line and "run once" in back_line and "--timeout" in summary.stdout


def test_html_final_metrics_table_marks_the_run_cut_short(timed_out_run):
    folder, _ = timed_out_run
    html = next((folder / "outputs").glob("*_cut.html")).read_text()
    assert "CUT SHORT (timeout)" in html and "ended by" in html
