"""Image plot for the HTML report: the last reconstruction of each solver, with its PSNR."""

from benchopt import BasePlot

from benchmark.reporting.report import last_records


class Plot(BasePlot):
    name = "reconstructions"
    type = "image"
    options = {"dataset": ..., "objective": ...}

    def plot(self, df, dataset, objective):
        df = df.query("dataset_name == @dataset and objective_name == @objective")
        if "objective_reconstruction" not in df.columns:
            return []
        images = []
        last = last_records(df, ["solver_name", "idx_rep"])
        for _, row in last.groupby("solver_name").head(1).iterrows():
            images.append({
                "image": row["objective_reconstruction"],
                "label": f"{row['solver_name']}: {row['objective_psnr']:.2f} dB "
                         f"(SSIM {row['objective_ssim']:.3f})",
            })
        return images

    def get_metadata(self, df, dataset, objective):
        return {"title": f"Reconstructions (first image)\nData: {dataset}", "ncols": 3}
