"""Summarise a benchopt tuning run: the best parameters of each solver per alpha.

    python -m benchmark.reporting.tuning_report outputs/tuning_bregman.parquet
        [--out results/tuning_bregman.md]

For every solver (its bare name) and alpha, each parameter combination of the run is scored by the
PSNR of its last recorded point, averaged over the images and over the kernels of the file; the
best combination is the one a tuned preset should hold. Also reported: the number of runs and the
solver time they took (the sum of the last recorded times), the cost of tuning. Each table shows
the parameters that vary between its rows.
"""

import argparse
from pathlib import Path

from benchmark.reporting.report import last_records


def tuning_table(df):
    """One row per (solver, alpha, parameters): mean final PSNR over kernels, runs, time."""
    last = last_records(df, ["dataset_name", "solver_name", "idx_rep"]).copy()
    last["solver"] = last["solver_name"].str.split("[").str[0]
    last["alpha"] = last["p_dataset_alpha"].astype(float)
    grouped = last.groupby(["solver", "alpha", "solver_name"])
    table = grouped.agg(psnr=("objective_psnr", "mean"), runs=("objective_psnr", "size"),
                        seconds=("time", "sum"), kernels=("p_dataset_kernel", "nunique"))
    return table.reset_index()


def parameters_of(solver_name):
    """``{"lam": "0.5", ...}`` from benchopt's ``name[key=value,...]``."""
    inside = solver_name[solver_name.index("[") + 1:-1] if "[" in solver_name else ""
    return dict(item.split("=", 1) for item in inside.split(",") if item)


def varying_parameters(names):
    """For each name, the ``key=value`` of the parameters that differ between ``names``."""
    parsed = [parameters_of(name) for name in names]
    keys = sorted({k for p in parsed for k in p if len({q.get(k) for q in parsed}) > 1})
    return [",".join(f"{k}={p.get(k)}" for k in keys) or "(defaults)" for p in parsed]


def render(table):
    lines = []
    for (solver, alpha), rows in table.groupby(["solver", "alpha"]):
        rows = rows.sort_values("psnr", ascending=False)
        labels = varying_parameters(rows["solver_name"])
        lines += [f"## {solver}, alpha = {alpha:g}", "",
                  "| parameters | mean PSNR (dB) | runs | solver time (s) |", "|---|---|---|---|"]
        for i, (label, row) in enumerate(zip(labels, rows.itertuples())):
            name = f"**{label}**" if i == 0 else label
            lines.append(f"| {name} | {row.psnr:.2f} | {row.runs} | {row.seconds:.0f} |")
        lines.append("")
    lines.append(f"Total: {int(table['runs'].sum())} runs, {table['seconds'].sum():.0f} s of "
                 f"solver time.")
    return "\n".join(lines) + "\n"


def main(argv=None):
    from benchopt.results import read_results  # noqa: PLC0415 (benchopt in library code)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result_file")
    parser.add_argument("--out", default=None, help="also write the tables to this file")
    args = parser.parse_args(argv)
    text = render(tuning_table(read_results(args.result_file)))
    print(text, end="")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
