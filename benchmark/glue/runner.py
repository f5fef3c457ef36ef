"""Glue between the step-by-step algorithms and benchopt's callback strategy (no benchopt import).

How a run ended is written into benchopt's result file, in two columns of the run's last record:

- ``run_stopped_by``: ``"solver"`` when the algorithm's own rule (tolerance, iteration cap, ...)
  stopped it, else benchopt's reason for cutting it short: ``"timeout"`` (its time limit,
  ``--timeout``, 100 s by default), ``"max_runs"`` (its limit on recorded points, ``-n``) or
  ``"diverged"``;
- ``run_stop_reason``: the algorithm's stop reason, or the line printed when benchopt cut it short.

A run cut short is also announced by one line in the run's output. The tables of
``benchmark.reporting.report`` and ``scripts/summarize_run.py`` mark such runs.
"""

import torch

from benchmark.device import select_device
from benchmark.maths.physics import blur_operator, check_observation

STOPPED_BY = "run_stopped_by"
STOP_REASON = "run_stop_reason"
SOLVER_RULE = "solver"
# What to pass to ``benchopt run`` so that a run is not cut short, per benchopt status.
BENCHOPT_LIMITS = {
    "timeout": ("its time limit", "pass --timeout with more time (e.g. --timeout 30m)"),
    "max_runs": ("its limit on recorded points", "pass -n with a larger number (e.g. -n 1000)"),
    "diverged": ("its divergence check", "check the solver's parameters"),
}


def prepare_problem(y, kernel, device="auto"):
    """Move the observation to ``device`` ("auto": CUDA when there) and build the blur there.

    :return: ``(y, operator, device)``.
    """
    device = select_device(device)
    y = check_observation(torch.as_tensor(y, dtype=torch.float32)).to(device)
    operator = blur_operator(kernel, tuple(y.shape[1:]), device=device)
    return y, operator, device


def announce(text):
    """Print one line of the run's output, on a line of its own (benchopt's progress line is
    rewritten in place with carriage returns)."""
    print(f"\n{text}", flush=True)


def cut_short_message(solver, iterations, status):
    """The line printed when benchopt stops ``solver`` before its own stopping rule."""
    limit, remedy = BENCHOPT_LIMITS.get(status, ("one of its limits", "see `benchopt run --help`"))
    return (f"{solver}: cut short by benchopt ({status}: {limit}) after {iterations} iterations, "
            f"before its own stopping rule; its result is not final: {remedy}.")


def run_iterations(algorithm, callback):
    """One algorithm iteration per ``callback()`` call until either side says stop.

    ``callback()`` records the current estimate (benchopt's ``cb``) and returns False when
    benchopt's own limits are hit; the algorithm stops by its ``stop_reason``. The stop test runs
    after the callback, so the final iterate is always recorded. When benchopt stopped the
    algorithm first, one line says so (how many iterations ran, what to pass); either way the
    stop is written into the run's last record (see the module's docstring).
    """
    with torch.no_grad():
        while callback():
            if algorithm.stop_reason is not None:
                break
            algorithm.step()
    if algorithm.stop_reason is not None:
        _record_stop(callback, SOLVER_RULE, algorithm.stop_reason, benchopt_stopped=False)
        return
    status = getattr(callback, "status", None) or "stopped"
    solver = getattr(getattr(callback, "solver", None), "name", type(algorithm).__name__)
    message = cut_short_message(solver, algorithm.iterations, status)
    announce(message)
    _record_stop(callback, status, message, benchopt_stopped=True)


def _record_stop(callback, stopped_by, reason, benchopt_stopped):
    """Write the two stop columns into the last record of benchopt's ``_Callback``.

    benchopt (1.10) copies ``callback.info`` into every record it logs and keeps the records in
    ``callback.curve``. When benchopt stopped the run, the record it just logged is the last one.
    When the algorithm stopped itself, the last record is the one logged at the current count
    (``it - 1``) if there is one, else the one benchopt logs after ``run`` returns, which copies
    ``info``. A callback without these attributes (a plain function in tests) is left alone.
    """
    info, curve, it = (getattr(callback, name, None) for name in ("info", "curve", "it"))
    if not isinstance(info, dict) or not isinstance(curve, list) or it is None:
        return
    stop = {STOPPED_BY: stopped_by, STOP_REASON: reason}
    callback.info = {**info, **stop}
    if not curve:
        return
    last = curve[-1].get("stop_val")
    if benchopt_stopped or last == it - 1:
        for record in curve:
            if record.get("stop_val") == last:
                record.update(stop)
