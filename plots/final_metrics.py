"""Table for the HTML report: final PSNR, SSIM, KL per pixel, iterations and time per solver,
and how the run ended: "solver" (its own rule), "CUT SHORT (timeout)" (benchopt's time limit
stopped it first: not the solver's result), "run once" or "?" (not recorded)."""

from benchopt import BasePlot

from benchmark.reporting.report import ended_by_labels, last_records

COLUMNS = [("objective_psnr", "PSNR (dB)", "{:.2f}"), ("objective_ssim", "SSIM", "{:.4f}"),
           ("objective_kl_per_pixel", "KL / pixel", "{:.5f}"), ("stop_val", "iterations", "{:.0f}"),
           ("time", "time (s)", "{:.2f}")]


class Plot(BasePlot):
    name = "final_metrics"
    type = "table"
    options = {"dataset": ..., "objective": ...}

    def plot(self, df, dataset, objective):
        df = df.query("dataset_name == @dataset and objective_name == @objective")
        last = last_records(df, ["solver_name", "idx_rep"])
        medians = last.groupby("solver_name")[[c for c, _, _ in COLUMNS]].median()
        medians = medians.sort_values("objective_psnr", ascending=False)
        ended = last.assign(ended=ended_by_labels(last)).groupby("solver_name")["ended"].agg(
            lambda v: ", ".join(sorted(set(v))))
        return [[solver] + [fmt.format(row[c]) for c, _, fmt in COLUMNS] + [ended[solver]]
                for solver, row in medians.iterrows()]

    def get_metadata(self, df, dataset, objective):
        return {"title": f"Final metrics (median over repetitions)\nData: {dataset}",
                "columns": ["solver"] + [name for _, name, _ in COLUMNS] + ["ended by"]}
