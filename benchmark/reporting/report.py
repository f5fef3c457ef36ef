"""Tables and figures of a benchopt result file, written into a results folder.

    python -m benchmark.reporting.report outputs/<name>.parquet [more.parquet ...]
        [--out results] [--benchmark .]

Several result files (for instance a grid run first, then new solvers on the same settings) are
read as one; a solver's runs of a setting in a later file replace its runs of that setting in the
earlier files (a setting rerun with more time after a timeout, given after the grid's file).
A solver's name in a file written before the solver gained a parameter lacks that parameter; the
report gives it the parameter's default (from ``--benchmark``), so such a run and a later one of
the same configuration are one solver, not two rows.
Writes, from the last recorded point of every run (averaged over repetitions):

- ``psnr.md`` and ``ssim.md``: rows are solvers, columns are settings (dataset, kernel, alpha), the
  best value of each column in bold, and a mean column;
- ``runs.md``: iterations and wall time of each solver in each setting;
- ``psnr_vs_time/<setting>.png``: the PSNR-versus-time curve of every solver (a 256-colour
  palettised PNG);
- ``reconstructions/<setting>.jpg`` (a JPEG: see ``GRID_JPEG``): ground truth, observation and
  each solver's reconstruction of the first image of the setting, with PSNR in each caption;
- ``README.md``: all of the above with the command, commit, machine and run time read from the
  file.

A run that benchopt cut short (its time limit, ``--timeout``; see ``benchmark/glue/runner.py``) is
not a result like the others: every table shows its cells with the reason, e.g.
``22.61 (timeout)``, leaves them out of the best value of the column, marks the mean it enters,
and says below the table how to rerun; the figures label it too.

The ground truth and the observation are rebuilt with the benchmark's own dataset classes (the
noise is drawn from the recorded seed, so they are the ones the solvers saw, bit for bit). The
reconstructions are benchopt's ``objective_reconstruction`` frames (first image, <= 128 pixels
a side); captions give the PSNR averaged over the setting's images, the number of the tables.
"""

import argparse
import io
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from benchmark.glue.cache_key import NOT_RUN_TIME
from benchmark.glue.frames import reconstruction_frame
from benchmark.glue.runner import SOLVER_RULE, STOP_REASON, STOPPED_BY
from benchmark.maths.metrics import psnr
from benchmark.parameters import check_writable

PROTOCOL_FILE = "protocol.md"
# The figures are committed under results/, so they are kept small (about 15 kB a curve, 150 kB
# a grid, against 45 kB and 1.1 MB as plain 120-dpi PNG). A curve has few colours: a 256-colour
# palette changes no visible pixel. A grid is photographs: JPEG, at 100 dpi (a panel ~230 pixels
# wide: the <= 128-pixel reconstruction frames are still upsampled, the ground truth and the
# observation near their native size) with full-resolution colour (4:4:4, so the colour of the
# Poisson noise and of each method's artefacts stays).
CURVE_DPI, GRID_DPI = 120, 100
CURVE_SUFFIX, GRID_SUFFIX = ".png", ".jpg"
GRID_JPEG = {"quality": 75, "subsampling": 0, "optimize": True, "progressive": True}
METRICS = {"psnr": ("objective_psnr", "PSNR (dB)", "{:.2f}"),
           "ssim": ("objective_ssim", "SSIM", "{:.4f}")}


def read_runs(paths, benchmark_dir=None):
    """The benchopt result files as one frame, with ``solver``, ``setting`` and ``results_file``
    labels added. ``paths`` is one path or a list of them; where a solver (its full benchopt
    name) ran a setting in several files, only the runs of the last of those files are kept.
    With ``benchmark_dir``, a parameter missing from a solver's name (a file written before the
    solver had it) is given the solver's default from that benchmark first, so such a run and
    one of the same configuration named in full are one solver."""
    from benchopt.results import read_results  # noqa: PLC0415 (benchopt in library code)

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    df = pd.concat([read_results(path).assign(results_file=str(path), file_order=order)
                    for order, path in enumerate(paths)], ignore_index=True)
    if benchmark_dir is not None:
        defaults = solver_defaults(benchmark_dir)
        df["solver_name"] = df["solver_name"].map(
            lambda name: with_defaults(name, defaults))
    df["setting"] = setting_labels(df)
    latest = df.groupby(["solver_name", "setting"])["file_order"].transform("max")
    df = df[df["file_order"] == latest].drop(columns="file_order").reset_index(drop=True)
    df["solver"] = solver_labels(df["solver_name"])
    return df


def solver_parameters(name):
    """``(bare name, {parameter: value})`` of a benchopt solver name ``bare[k=v,k=v]``."""
    bare, _, rest = name.partition("[")
    pairs = [item.split("=", 1) for item in re.split(r",(?=[^,=\[\]]+=)", rest.rstrip("]"))
             if "=" in item]
    return bare, dict(pairs)


def solver_defaults(benchmark_dir):
    """``{solver: {parameter: default}}`` of the benchmark at ``benchmark_dir``, the defaults as
    benchopt writes them into a name (``str`` of the first value of each parameter's list)."""
    from benchopt.benchmark import Benchmark  # noqa: PLC0415 (benchopt in library code)

    return {cls.name: {key: str(values[0]) for key, values in cls.parameters.items()}
            for cls in Benchmark(Path(benchmark_dir)).get_solvers()}


def with_defaults(name, defaults):
    """The benchopt name ``name`` with the parameters it lacks set to ``defaults[bare name]``,
    in benchopt's order (sorted); a solver missing from ``defaults`` keeps its name."""
    bare, parameters = solver_parameters(name)
    if bare not in defaults:
        return name
    merged = {**defaults[bare], **parameters}
    if not merged:
        return bare
    return f"{bare}[{','.join(f'{key}={merged[key]}' for key in sorted(merged))}]"


def solver_labels(names):
    """The solver's bare name where it is unique in the file; else the bare name with the
    parameters whose values differ between that solver's names (a parameter missing from a name,
    one added to the solver since, counts as differing): ``deqmd`` and ``deqmd[symmetry=flip]``."""
    parsed = {name: solver_parameters(name) for name in pd.unique(names)}
    variants = {}
    for bare, parameters in parsed.values():
        variants.setdefault(bare, []).append(parameters)
    labels = {}
    for name, (bare, parameters) in parsed.items():
        others = variants[bare]
        differing = sorted({key for p in others for key in p
                            if len({q.get(key) for q in others}) > 1})
        shown = [f"{key}={parameters[key]}" for key in differing if key in parameters]
        labels[name] = f"{bare}[{','.join(shown)}]" if shown else bare
    return np.asarray([labels[name] for name in names])


def setting_labels(df):
    """``dataset kernel alpha``, plus every other dataset parameter that varies in the file."""
    fixed = ["p_dataset_kernel", "p_dataset_alpha", "p_dataset_seed"]
    others = [c for c in df.columns if c.startswith("p_dataset_") and c not in fixed
              and df[c].nunique(dropna=True) > 1]
    base = df["dataset_name"].str.split("[").str[0]
    labels = base + " " + df["p_dataset_kernel"].astype(str) + " a" + \
        df["p_dataset_alpha"].map(lambda a: f"{float(a):g}")
    for column in others:
        labels = labels + f" {column[len('p_dataset_'):]}=" + df[column].astype(str)
    return labels


def last_records(df, by):
    """The last recorded point (largest ``stop_val``) of every run, runs grouped by ``by``."""
    return df.sort_values("stop_val").groupby(by).tail(1)


def cut_short_labels(records):
    """Per record: benchopt's reason (``"timeout"``, ...) when the run was cut short by benchopt
    before the solver's own rule, else ``""`` (stopped by the solver, or not recorded: result
    files written before the stop was recorded, solvers that do not use the shared runner)."""
    if STOPPED_BY not in records.columns:
        return pd.Series("", index=records.index)
    by = records[STOPPED_BY]
    return by.where(by.notna() & (by != SOLVER_RULE), "").astype(str)


def ended_by_labels(records):
    """Per record, how its run ended, as the summary tables show it: ``"solver"`` (its own
    rule), ``"CUT SHORT (timeout)"`` (benchopt stopped it first), ``"run once"`` (no iterations),
    ``"?"`` (not recorded)."""
    flags = cut_short_labels(records)
    labels = pd.Series("?", index=records.index)
    if "sampling_strategy" in records.columns:
        strategy = records["sampling_strategy"].astype(str).str.lower()
        labels = labels.mask(strategy == "run_once", "run once")
    if STOPPED_BY in records.columns:
        labels = labels.mask(records[STOPPED_BY] == SOLVER_RULE, "solver")
    return labels.mask(flags != "", "CUT SHORT (" + flags + ")")


def final_points(df):
    """Last recorded point of every run, then the mean over repetitions per (setting, solver);
    ``cut_short`` holds benchopt's reason when any repetition was cut short, else ``""``."""
    last = last_records(df, ["setting", "solver", "idx_rep"]).copy()
    last["cut_short"] = cut_short_labels(last)
    columns = ["objective_psnr", "objective_ssim", "stop_val", "time"]
    grouped = last.groupby(["setting", "solver"], sort=False)
    final = grouped[columns].mean()
    final["cut_short"] = grouped["cut_short"].agg(lambda v: ", ".join(sorted(set(v) - {""})))
    return final.reset_index()


def cut_short_runs(df):
    """The last records of the runs that benchopt cut short: setting, solver, reason, message."""
    last = last_records(df, ["setting", "solver", "idx_rep"]).copy()
    last["cut_short"] = cut_short_labels(last)
    last = last[last["cut_short"] != ""]
    if STOP_REASON not in last.columns:
        last[STOP_REASON] = ""
    return last.sort_values(["setting", "solver"])


def cut_short_note(final):
    """Lines under a table that holds cut-short runs (none when it holds none)."""
    reasons = sorted(set(", ".join(final["cut_short"]).split(", ")) - {""})
    if not reasons:
        return ""
    return (f"\n({'/'.join(reasons)}): the run was cut short by benchopt ({', '.join(reasons)}) "
            "before the solver's own stopping rule, so the value is not the solver's result: it "
            "is never the column's best, and a mean that includes it is marked. Rerun with "
            "`--timeout` giving more time (e.g. `--timeout 30m`).\n")


def ordered_settings(df):
    """Settings in the order kernel (gaussian, uniform, motion, others) then alpha."""
    kernels = {"gaussian": 0, "uniform": 1, "motion": 2}
    first = df.drop_duplicates("setting")
    keys = {row.setting: (row.dataset_name.split("[")[0], kernels.get(row.p_dataset_kernel, 3),
                          float(row.p_dataset_alpha), row.setting)
            for row in first.itertuples()}
    return sorted(keys, key=keys.get)


def metric_table(final, settings, metric):
    """Markdown table of ``metric``: solvers by mean (best first), best of each column in bold.

    A cell of a run cut short by benchopt reads ``value (timeout)``, is never bold, and marks the
    mean of its row; a note under the table says what that means.
    """
    column, name, fmt = METRICS[metric]
    table = final.pivot(index="solver", columns="setting", values=column)
    table = table.reindex(columns=settings)
    flags = final.pivot(index="solver", columns="setting", values="cut_short")
    flags = flags.reindex(index=table.index, columns=settings).fillna("")
    table["mean"] = table.mean(axis=1, skipna=False)
    flags["mean"] = flags.apply(lambda row: ", ".join(sorted(set(row) - {""})), axis=1)
    order = table["mean"].sort_values(ascending=False).index
    table, flags = table.loc[order], flags.loc[order]
    header = f"| {name} | " + " | ".join(table.columns) + " |"
    lines = [header, "|" + " --- |" * (len(table.columns) + 1)]
    best = table.where(flags == "").max(axis=0)
    for solver, row in table.iterrows():
        cells = []
        for setting, value in row.items():
            flag = flags.at[solver, setting]
            if pd.isna(value):
                cells.append("–")
            elif flag:
                cells.append(f"{fmt.format(value)} ({flag})")
            else:
                text = fmt.format(value)
                cells.append(f"**{text}**" if value == best[setting] else text)
        lines.append(f"| {solver} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + cut_short_note(final)


def runs_table(final, settings):
    """Markdown table of iterations and wall time (seconds) per solver and setting; a run cut
    short by benchopt says so in its cell."""
    lines = ["Iterations are benchopt's `stop_val` of the last record: the solver's "
             "iterations, or one more where benchopt logs its final record one count after the "
             "last step; a cap of N iterations reads N + 1. "
             "Time is benchopt's solver timer (the evaluation of metrics excluded).", "",
             "| solver | " + " | ".join(settings) + " |", "|" + " --- |" * (len(settings) + 1)]
    for solver, part in final.groupby("solver", sort=False):
        part = part.set_index("setting")
        cells = []
        for s in settings:
            if s not in part.index:
                cells.append("–")
                continue
            cell = f"{part.at[s, 'stop_val']:.0f} it. / {part.at[s, 'time']:.1f} s"
            flag = part.at[s, "cut_short"]
            cells.append(f"{cell}, cut short ({flag})" if flag else cell)
        lines.append(f"| {solver} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n" + cut_short_note(final)


def cut_short_section(df):
    """Markdown lines that list the runs benchopt cut short, with the line each one printed."""
    runs = cut_short_runs(df)
    if runs.empty:
        return []
    lines = ["## Runs cut short by benchopt", "",
             "These runs did not end by their solver's own rule: their numbers above are marked "
             "and are not results. Rerun with more time (e.g. `--timeout 30m`).", ""]
    for row in runs.itertuples():
        message = getattr(row, STOP_REASON)
        message = message if isinstance(message, str) and message else row.cut_short
        lines.append(f"- {row.setting}: {message}")
    return lines + [""]


def slug(text):
    """File-name form of a setting label."""
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", text).strip("_")


def save_palettised_png(fig, path, dpi):
    """``fig`` as an RGB PNG quantised to 256 colours (Pillow's median cut)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    buffer.seek(0)
    Image.open(buffer).convert("RGB").quantize(256).save(path, format="PNG", optimize=True,
                                                         dpi=(dpi, dpi))


def plot_curves(df, setting, path):
    """PSNR versus time (log scale) of every solver in ``setting`` (first repetition); a solver
    with a single point (no iterations, as A^T y) is a dashed horizontal line."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 (heavy: matplotlib)

    fig, ax = plt.subplots(figsize=(6, 4))
    part = df[(df["setting"] == setting) & (df["idx_rep"] == df["idx_rep"].min())]
    for solver, run in part.groupby("solver", sort=False):
        run = run.sort_values("stop_val")
        flag = cut_short_labels(run.tail(1)).iloc[0]
        label = f"{solver} (cut short: {flag})" if flag else solver
        if len(run) == 1:
            ax.axhline(run["objective_psnr"].iloc[0], color="gray", linestyle="--", label=label)
            continue
        ax.plot(run["time"].clip(lower=1e-4), run["objective_psnr"], marker=".", label=label,
                linestyle=":" if flag else "-")
    ax.set_xscale("log")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(setting)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_palettised_png(fig, path, CURVE_DPI)
    plt.close(fig)


def dataset_class(benchmark_dir, name):
    """The ``Dataset`` class called ``name`` in the benchmark at ``benchmark_dir``."""
    from benchopt.benchmark import Benchmark  # noqa: PLC0415 (benchopt in library code)

    classes = {cls.name: cls for cls in Benchmark(Path(benchmark_dir)).get_datasets()}
    if name not in classes:
        raise ValueError(f"No dataset {name!r} in the benchmark at {benchmark_dir} (it has "
                         f"{sorted(classes)}): pass --benchmark <benchmark folder>.")
    return classes[name]


def parameter_value(default, value):
    """``value`` (a string from a table or a command line, or a number) cast to the type of the
    parameter's ``default``: a number that is not a whole one stays a float where the default is
    an int (``alpha=50.5`` is not truncated), and a boolean is read from its text (``"False"``
    is False), else a :class:`ValueError`."""
    kind = type(default)
    if kind is bool and isinstance(value, str):
        if value.strip().lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{value!r} is not a boolean (True or False).")
        return value.strip().lower() in ("true", "1")
    if kind is int and not float(value).is_integer():
        return float(value)
    return kind(value)


def dataset_instance(benchmark_dir, name, values):
    """The dataset ``name`` of the benchmark at ``benchmark_dir`` with the parameters ``values``
    (``{parameter: value}``, strings accepted), each cast by :func:`parameter_value`; a parameter
    missing from ``values`` (or NaN there) keeps its default."""
    cls = dataset_class(benchmark_dir, name)
    params = {key: parameter_value(grid[0], values[key]) for key, grid in cls.parameters.items()
              if values.get(key) is not None and not pd.isna(values[key])}
    return cls.get_instance(**params)


def rebuild_problem(benchmark_dir, row):
    """Ground truth, observation and blur of the setting of ``row``, rebuilt from its dataset."""
    values = {key[len("p_dataset_"):]: value for key, value in row.items()
              if key.startswith("p_dataset_")}
    data = dataset_instance(benchmark_dir, row["dataset_name"].split("[")[0], values).get_data()
    return data["x_true"], data["y"], data["kernel"]


def plot_reconstructions(df, setting, benchmark_dir, path):
    """Ground truth, observation and the last reconstruction of every solver (first image)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415 (heavy: matplotlib)

    part = df[df["setting"] == setting]
    last = last_records(part, ["solver", "idx_rep"])
    last = last[last["idx_rep"] == last["idx_rep"].min()]
    x_true, y, _ = rebuild_problem(benchmark_dir, part.iloc[0])
    panels = [("ground truth", x_true[:1]),
              (f"observation y: {psnr(y, x_true).mean().item():.2f} dB", y[:1])]
    last = last.assign(cut_short=cut_short_labels(last))
    for row in last.sort_values("objective_psnr", ascending=False).itertuples():
        flag = f" ({row.cut_short})" if row.cut_short else ""
        panels.append((f"{row.solver}: {row.objective_psnr:.2f} dB{flag}",
                       row.objective_reconstruction))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels), 3.0))
    for ax, (caption, image) in zip(np.atleast_1d(axes), panels):
        if isinstance(image, torch.Tensor):
            image = reconstruction_frame(image)
        ax.imshow(np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0))
        ax.set_title(caption, fontsize=8)
        ax.axis("off")
    fig.suptitle(f"{setting}: first image; captions give the PSNR averaged over the setting's "
                 f"{len(x_true)} images, as in the tables", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="jpeg", dpi=GRID_DPI, pil_kwargs=dict(GRID_JPEG))
    plt.close(fig)


RUN_TIME_PATHS = ["objective.py", "datasets", "solvers", "benchmark"]


def last_run_time_commit(benchmark_dir):
    """The last git commit that changed a file a benchopt run reads, or None outside git."""
    excluded = [f":(exclude)benchmark/{name}" for name in sorted(NOT_RUN_TIME)]
    result = subprocess.run(["git", "log", "-1", "--format=%H %cs", "--", *RUN_TIME_PATHS,
                             ":(exclude)training_runs", *excluded],
                            cwd=benchmark_dir, capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def provenance(df, benchmark_dir):
    """Markdown lines on where the numbers come from: files, code, machine, run time."""
    last = last_records(df, ["setting", "solver", "idx_rep"])
    code = last_run_time_commit(benchmark_dir)
    lines = []
    for results_file, part in df.groupby("results_file", sort=False):
        first = part.iloc[0]
        machine = ", ".join(str(first.get(key)) for key in
                            ("platform", "system-processor", "system-cpus") if key in df.columns)
        tag = first.get("benchmark-git-tag")
        tag = f"`{tag}`" if tag else "none (the repository had no tag)"
        solvers = ", ".join(sorted(part["solver"].unique()))
        lines += [
            f"- results file: `{results_file}` ({solvers}), saved "
            f"{pd.to_datetime(part['run_date']).max():%Y-%m-%d %H:%M}; benchmark tag recorded "
            f"by benchopt (`git describe --tags`): {tag}; machine: {machine} CPUs, "
            f"{first.get('system-ram (GB)', '?')} GB RAM, CUDA {first.get('version-cuda', 'none')}"]
    return lines + [
        f"- last commit changing the files a run reads (objective, datasets, solvers, library, "
        f"weights) when this report was written: `{code or 'unknown (not a git checkout)'}`",
        f"- runs: {len(last)} ({df['setting'].nunique()} settings x "
        f"{df['solver'].nunique()} solvers)",
        f"- solver time, summed over runs: {last['time'].sum() / 60:.1f} min (benchopt's "
        f"timer, without the evaluation of metrics)",
    ]


def solver_names_section(df):
    """Markdown list of each row label with the solver's full benchopt name: every parameter of
    the run, also those that the labels leave out because all runs of the solver share them."""
    pairs = df[["solver", "solver_name"]].drop_duplicates().sort_values(["solver", "solver_name"])
    return ["## Solvers, with every parameter", "",
            *[f"- `{label}`: `{name}`" for label, name in pairs.itertuples(index=False)], ""]


def protocol_link(out):
    """Relative link to the protocol file of ``out`` or, for a sub-folder of results, of its
    parent; None when there is neither."""
    for folder, link in ((out, PROTOCOL_FILE), (out.parent, f"../{PROTOCOL_FILE}")):
        if (folder / PROTOCOL_FILE).is_file():
            return link
    return None


def write_report(results_files, out, benchmark_dir="."):
    """Write the tables, figures and README of ``results_files`` (one path or a list) into
    ``out``; return the paths written. Everything is written into a staging folder beside
    ``out`` first and moved into ``out`` once complete: a report that fails (a result file or a
    dataset that is not on disk, say) leaves ``out`` as it was, and no folder it created.
    ``out`` is checked first (:func:`benchmark.parameters.check_writable`)."""
    out = check_writable(out, folder=True)
    paths = [results_files] if isinstance(results_files, (str, Path)) else list(results_files)
    missing = [str(path) for path in paths if not Path(path).is_file()]
    if missing:
        raise FileNotFoundError(f"No benchopt result file {', '.join(missing)}.")
    created = [folder for folder in (out.parent, *out.parent.parents) if not folder.exists()]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    written = None
    try:
        compose_report(results_files, staging, out, benchmark_dir)
        written = []
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            target = out / path.relative_to(staging)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            written.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created if written is None else ():  # failed: the deepest first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
    order = [".md", CURVE_SUFFIX, GRID_SUFFIX]
    return sorted(written, key=lambda path: (order.index(path.suffix), path))


def compose_report(results_files, folder, out, benchmark_dir):
    """The files of the report on ``results_files`` written into ``folder``; the README's command
    and links are those of its final folder ``out``."""
    df = read_runs(results_files, benchmark_dir)
    names = [results_files] if isinstance(results_files, (str, Path)) else results_files
    final = final_points(df)
    settings = ordered_settings(df)
    (folder / "psnr_vs_time").mkdir(parents=True, exist_ok=True)
    (folder / "reconstructions").mkdir(parents=True, exist_ok=True)
    tables = {metric: metric_table(final, settings, metric) for metric in METRICS}
    for metric, table in tables.items():
        (folder / f"{metric}.md").write_text(table)
    runs = runs_table(final, settings)
    (folder / "runs.md").write_text(runs)
    figures = []
    for setting in settings:
        name = slug(setting)
        plot_curves(df, setting, folder / "psnr_vs_time" / (name + CURVE_SUFFIX))
        plot_reconstructions(df, setting, benchmark_dir,
                             folder / "reconstructions" / (name + GRID_SUFFIX))
        figures.append((setting, name))
    readme = ["# Results", "", "Generated by", "",
              f"    python -m benchmark.reporting.report {' '.join(map(str, names))} --out {out}",
              "",
              "from the benchopt result files below. Do not edit by hand: rerun the command.", "",
              *provenance(df, benchmark_dir), ""]
    protocol = protocol_link(out)
    if protocol:
        readme += [f"Protocol and every difference from the paper's: [{PROTOCOL_FILE}]"
                   f"({protocol}).", ""]
    readme += cut_short_section(df)
    readme += solver_names_section(df)
    readme += ["## PSNR (last iterate, mean over the images of each setting)", "",
               tables["psnr"], "## SSIM", "", tables["ssim"],
               "## Iterations and wall time", "", runs, "## Figures", ""]
    for setting, name in figures:
        readme += [f"### {setting}", "",
                   f"![PSNR versus time](psnr_vs_time/{name}{CURVE_SUFFIX})",
                   f"![reconstructions](reconstructions/{name}{GRID_SUFFIX})", ""]
    (folder / "README.md").write_text("\n".join(readme))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="benchopt result files (parquet or csv)")
    parser.add_argument("--out", default="results", help="folder to write into")
    parser.add_argument("--benchmark", default=".", help="the benchmark folder (for datasets/)")
    args = parser.parse_args()
    for path in write_report(args.results, args.out, args.benchmark):
        print(path)


if __name__ == "__main__":
    main()
