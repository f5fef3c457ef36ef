"""Print the final metrics of every solver of a benchopt result file, one table per dataset.

    python scripts/summarize_run.py outputs/<name>.parquet

Columns: final PSNR / SSIM / KL per pixel, iterations and time at the last recorded point, how
the run ended ("solver": its own rule; "CUT SHORT (timeout)": benchopt's time limit stopped it
first, so its numbers are not the solver's result; "run once": no iterations; "?": not recorded),
and, for diagnosis only,
the best PSNR met along the recorded curve with its iteration (an oracle that no solver uses: it
shows how far a stopping rule lands from the best iterate).
"""

import argparse

import pandas as pd

from benchmark.reporting.report import ended_by_labels


def summarize(df):
    rows = []
    for (dataset, solver), runs in df.groupby(["dataset_name", "solver_name"]):
        curve = runs.sort_values("stop_val")
        last, best = curve.iloc[-1], curve.loc[curve["objective_psnr"].idxmax()]
        rows.append({
            "dataset": dataset, "solver": solver,
            "PSNR": round(last["objective_psnr"], 2), "SSIM": round(last["objective_ssim"], 4),
            "KL/pixel": round(last["objective_kl_per_pixel"], 5),
            "iterations": int(last["stop_val"]), "time (s)": round(last["time"], 2),
            "ended by": ended_by_labels(curve.tail(1)).iloc[0],
            "best PSNR on curve": round(best["objective_psnr"], 2),
            "at iteration": int(best["stop_val"]),
        })
    return pd.DataFrame(rows)


CUT_SHORT_NOTE = ("CUT SHORT: benchopt stopped the run (its time limit) before the solver's own "
                  "stopping rule: these numbers are not the solver's result. Rerun with more time: "
                  "e.g. --timeout 30m.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="benchopt parquet (or csv) result file")
    args = parser.parse_args()
    df = pd.read_parquet(args.results) if args.results.endswith(".parquet") else \
        pd.read_csv(args.results)
    table = summarize(df)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        for dataset, part in table.groupby("dataset"):
            print(f"\n{dataset}")
            print(part.drop(columns="dataset").sort_values("PSNR", ascending=False)
                  .to_string(index=False))
    if table["ended by"].str.startswith("CUT SHORT").any():
        print(f"\n{CUT_SHORT_NOTE}")


if __name__ == "__main__":
    main()
