"""Compare the final PSNR of every (solver, setting) of two benchopt result files: a refactor
check ("same seeds, same numbers").

    python scripts/compare_runs.py BEFORE.parquet AFTER.parquet [--learned deqmd b_red b_pnp]
        [--learned-tol 0.01] [--benchmark-dir .]

Solvers are matched on their full benchopt names, each parameter a name lacks (a file written
before the solver had it) set to its default in the benchmark at ``--benchmark-dir`` (the
report's rule): ``tv_md[lam=tuned]`` of an old file and ``tv_md[lam=tuned,smoothing=0.01]`` are
one solver; two variants of a solver are never compared with each other. Prints the two PSNR
tables (dB, two decimals, as results/ shows them) and, per solver, the
largest absolute difference over the settings at full precision. Exit status 1 when a
model-based solver's final PSNR differs at all (to the last digit of the result file) or a
learned solver's (``--learned``, matched on the bare solver name) by more than
``--learned-tol`` dB, or when a (solver, setting) is in one file only.
"""

import argparse
import sys
from pathlib import Path

import pandas as pd

from benchmark.reporting.report import final_points, ordered_settings, read_runs, solver_labels


def final_psnr(path, benchmark_dir):
    """Per (solver, setting): the final PSNR, mean over repetitions; solvers by their full names
    with the benchmark's defaults."""
    df = read_runs(path, benchmark_dir)
    df["solver"] = df["solver_name"]
    final = final_points(df)
    table = final.pivot(index="solver", columns="setting", values="objective_psnr")
    return table[ordered_settings(df)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--learned", nargs="*", default=["deqmd", "b_red", "b_pnp"])
    parser.add_argument("--learned-tol", type=float, default=0.01)
    parser.add_argument("--benchmark-dir", default=Path(__file__).resolve().parents[1],
                        help="the benchmark whose solver defaults complete old names "
                             "(default: this repository)")
    args = parser.parse_args()
    before = final_psnr(args.before, args.benchmark_dir)
    after = final_psnr(args.after, args.benchmark_dir)
    names = list(dict.fromkeys([*before.index, *after.index]))
    label = dict(zip(names, solver_labels(pd.Series(names))))
    for name, table in (("before", before), ("after", after)):
        print(f"\nPSNR (dB), {name}: {getattr(args, name)}")
        print(table.rename(index=label).round(2).to_string())
    failures = []
    missing = set(before.index) ^ set(after.index)
    if missing:
        failures.append(f"solvers in one file only: {sorted(missing)}")
    if list(before.columns) != list(after.columns):
        failures.append("the two files do not hold the same settings")
    print("\nlargest |after - before| per solver (dB)")
    for solver in sorted(set(before.index) & set(after.index)):
        difference = (after.loc[solver] - before.loc[solver]).abs().max()
        learned = solver.split("[")[0] in args.learned
        allowed = args.learned_tol if learned else 0.0
        verdict = "ok" if difference <= allowed else "DIFFERS"
        print(f"{label[solver]:30s} {difference:.3e}  ({'learned' if learned else 'model-based'}, "
              f"allowed {allowed:g}) {verdict}")
        if difference > allowed:
            failures.append(solver)
    if failures:
        print(f"\nFAILED: {failures}")
        sys.exit(1)
    print("\nidentical model-based results; learned within the tolerance")


if __name__ == "__main__":
    main()
