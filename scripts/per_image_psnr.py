"""PSNR and SSIM of every image of one setting of any data set of the benchmark, for any of its
solvers (their defaults, or parameters as benchopt takes them: ``"b_red[max_iter=150]"``), each
run to its own stopping rule: the benchmark's own solver classes, outside benchopt (no time
limit, nothing cached).

    python scripts/per_image_psnr.py --dataset skimage_photos --set images=science crop=128 \\
        --kernel motion --alpha 100 --solvers backprojection richardson_lucy tv_md deqmd \\
        "b_red[max_iter=150]"

benchopt's result files hold the mean over a setting's images; this prints, per solver, one line
with each image's PSNR, the mean (the number of the tables), the mean SSIM and how the solver
stopped. ``--set`` gives the data set's other parameters (``name=value``, typed as the data set
declares them). The observation is the data set's own draw, the one every benchopt run sees.
"""

import argparse
import ast
import time
from pathlib import Path

from benchopt.benchmark import Benchmark

from benchmark.maths.metrics import psnr, ssim
from benchmark.parameters import alpha_argument
from benchmark.reporting.report import dataset_class, dataset_instance, solver_parameters

ROOT = Path(__file__).resolve().parents[1]


def parse_assignments(items):
    """``["crop=128", "images=science"]`` -> ``{"crop": "128", "images": "science"}``."""
    values = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set takes name=value pairs, got {item!r}.")
        values[key] = value
    return values


def literal(text):
    """A parameter value as benchopt's command line reads it: a Python literal, else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run_to_its_rule(solver_class, parameters, objective, device):
    """The reconstruction of one benchopt solver with ``parameters`` (its defaults for the
    others) on ``device``, run until it stops itself, and its stop reason (None for a solver
    without iterations)."""
    solver = solver_class.get_instance(**{**parameters, "device": device})
    skip, reason = solver.skip(**objective)
    if skip:
        return None, f"skipped: {reason}"
    solver.set_objective(**objective)
    solver.run(lambda: True)
    algorithm = getattr(solver, "algorithm", None)
    return solver.get_result()["x"], getattr(algorithm, "stop_reason", None)


def add_problem_arguments(parser):
    """``--dataset``, ``--kernel``, ``--alpha`` and ``--set NAME=VALUE`` (the data set's other
    parameters): the problems a script runs on, as benchopt would build them."""
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--kernel", required=True)
    parser.add_argument("--alpha", type=alpha_argument, required=True)
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE")


def problem_data(parser, args, benchmark_root=str(ROOT)):
    """The data set's ``get_data()`` for the options of :func:`add_problem_arguments`; a
    parameter the data set does not declare is a usage error that names those it has."""
    values = {**parse_assignments(args.set), "kernel": args.kernel, "alpha": args.alpha}
    declared = dataset_class(benchmark_root, args.dataset).parameters
    if set(values) - set(declared):
        parser.error(f"{args.dataset} has no parameters {sorted(set(values) - set(declared))}; "
                     f"it has {sorted(declared)}")
    return dataset_instance(benchmark_root, args.dataset, values).get_data()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_problem_arguments(parser)
    parser.add_argument("--solvers", nargs="+", required=True)
    parser.add_argument("--benchmark", default=str(ROOT))
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:<index>")
    args = parser.parse_args(argv)
    benchmark = Benchmark(Path(args.benchmark))
    data = problem_data(parser, args, args.benchmark)
    objective = benchmark.get_benchmark_objective().get_instance()
    objective.set_data(**data)
    solvers = {cls.name: cls for cls in benchmark.get_solvers()}
    requested = [solver_parameters(name) for name in args.solvers]
    unknown = sorted({bare for bare, _ in requested} - set(solvers))
    if unknown:
        parser.error(f"unknown solvers {unknown}; the benchmark has {sorted(solvers)}")
    x_true = objective.x_true
    print(f"{args.dataset} {args.kernel} alpha={args.alpha:g} {args.set}: images "
          f"{', '.join(data['image_names'])}")
    for name, (bare, parameters) in zip(args.solvers, requested):
        start = time.perf_counter()
        parameters = {key: literal(value) for key, value in parameters.items()}
        x, reason = run_to_its_rule(solvers[bare], parameters, objective.get_objective(),
                                    args.device)
        if x is None:
            print(f"{name:>16}: {reason}")
            continue
        x = x.detach().to("cpu", x_true.dtype)
        scores = psnr(x, x_true).tolist()
        print(f"{name:>16}: PSNR {' '.join(f'{v:6.2f}' for v in scores)}  mean "
              f"{sum(scores) / len(scores):6.2f} dB  SSIM {float(ssim(x, x_true).mean()):.4f}  "
              f"{time.perf_counter() - start:.0f} s" + (f"  ({reason})" if reason else ""),
              flush=True)


if __name__ == "__main__":
    main()
