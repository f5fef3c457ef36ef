"""Image plot for the HTML report: the last reconstruction of each solver, with its PSNR."""

from benchopt import BasePlot


def final_rows(df):
    """The last recorded point of every run (solver, repetition) of ``df``."""
    return df.sort_values("stop_val").groupby(["solver_name", "idx_rep"]).tail(1)


class Plot(BasePlot):
    name = "reconstructions"
    type = "image"
    options = {"dataset": ..., "objective": ...}

    def plot(self, df, dataset, objective):
        df = df.query("dataset_name == @dataset and objective_name == @objective")
        if "objective_reconstruction" not in df.columns:
            return []
        images = []
        for _, row in final_rows(df).groupby("solver_name").head(1).iterrows():
            images.append({
                "image": row["objective_reconstruction"],
                "label": f"{row['solver_name']}: {row['objective_psnr']:.2f} dB "
                         f"(SSIM {row['objective_ssim']:.3f})",
            })
        return images

    def get_metadata(self, df, dataset, objective):
        return {"title": f"Reconstructions (first image)\nData: {dataset}", "ncols": 3}
