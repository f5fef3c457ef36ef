"""DEQ-MD's equilibrium: the paper's iteration at its rule against the projected L-BFGS solver.

    python scripts/bench_equilibrium.py [--device auto] [--weights-dir benchmark/networks/weights]
        [--settings butterfly:motion:100:128 leaves:gaussian:40:96 starfish:uniform:60:96]

Each setting is ``image:kernel:alpha:crop`` (a set3c image, its centre crop, noise from
``--seed``; the settings of the project's issue, where these measurements were first made; no
parameter of either solver is chosen from them). For each, from the same start
:math:`x_0 = \\mathrm{clip}(A^\\top y, 10^{-3}, 1)` with the shipped weights of that (kernel,
alpha):

* ``mirror``: the paper's iteration until its rule (relative change < 2.5e-5, no cap below
  ``--max-iter``);
* ``lbfgs``: :class:`benchmark.algorithms.equilibrium.ProjectedLBFGS` until the fixed-point residual
  :math:`\\|T_\\tau(x) - x\\| / \\|T_\\tau(x)\\|` at :math:`\\tau = 0.25` is below ``--tol``.

It prints, per solver: network evaluations (forward + backward passes of the regulariser), wall
time, the residual of the end point at tau 0.25 (recomputed from a fresh gradient, not read from
the solver), :math:`\\Psi` there and the PSNR; then the ratios mirror / lbfgs of evaluations and of
time. Both run in the same process, one after the other, on one image.
"""

import argparse

import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import PAPER_TOL, make_solver
from benchmark.algorithms.equilibrium import fixed_point_residual
from benchmark.data.images import center_crop, load_set3c
from benchmark.data.problem import make_problem
from benchmark.device import select_device, timed_call
from benchmark.glue.runner import prepare_problem
from benchmark.maths.metrics import psnr
from benchmark.maths.mirror import initial_point
from benchmark.networks.registry import WEIGHTS_DIR, load_regularizer

DEFAULT_SETTINGS = ("butterfly:motion:100:128", "leaves:gaussian:40:96", "starfish:uniform:60:96")


def run_solver(name, potential, x0, tol, max_iter, x_true, device):
    """Solve, then measure the end point independently; returns a dict of the numbers."""
    result, seconds = timed_call(lambda: make_solver(name, potential, x0, tol, max_iter).run(),
                                 device)
    value, grad = potential(result.x, None)
    return dict(evaluations=int(result.evaluations[0]), seconds=seconds,
                residual=float(fixed_point_residual(result.x, grad)[0]), value=float(value[0]),
                psnr=float(psnr(result.x.cpu(), x_true)[0]), iterations=result.iterations,
                hit_cap=result.hit_cap, x=result.x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=list(DEFAULT_SETTINGS))
    parser.add_argument("--tol", type=float, default=1e-5)
    parser.add_argument("--max-iter", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--weights-dir", default=str(WEIGHTS_DIR))
    args = parser.parse_args()
    device = select_device(args.device)
    images, names = load_set3c()
    print(f"device {device}, torch threads {torch.get_num_threads()}; mirror: paper's rule "
          f"(relative change < {PAPER_TOL:g}); lbfgs: residual < {args.tol:g} at tau 0.25")
    for setting in args.settings:
        image, kernel, alpha, crop = setting.split(":")
        alpha, crop = float(alpha), int(crop)
        x_true = center_crop(images[names.index(image)][None], crop)
        problem = make_problem(x_true, [image], kernel, alpha, args.seed)
        y, operator, _ = prepare_problem(problem["y"], problem["kernel"], device)
        model, record = load_regularizer("red", kernel, alpha, device,
                                         weights_dir=args.weights_dir)
        potential = CompositeObjective(y, operator, model)
        x0 = initial_point(y, operator)
        print(f"\n{image} {crop}x{crop}, {kernel}, alpha {alpha:g}, weights {record['file']}")
        rows = {"mirror": run_solver("mirror", potential, x0, PAPER_TOL, args.max_iter, x_true,
                                     device),
                "lbfgs": run_solver("lbfgs", potential, x0, args.tol, args.max_iter, x_true,
                                    device)}
        for name, row in rows.items():
            print(f"  {name:>6}: {row['evaluations']:5d} evaluations, {row['iterations']:5d} "
                  f"iterations, {row['seconds']:7.1f} s, residual {row['residual']:.1e}, "
                  f"Psi {row['value']:.4f}, PSNR {row['psnr']:.2f} dB"
                  + (" (cap hit)" if row["hit_cap"] else ""))
        distance = ((rows["mirror"]["x"] - rows["lbfgs"]["x"]).norm()
                    / rows["lbfgs"]["x"].norm())
        print(f"  ratio mirror / lbfgs: evaluations "
              f"{rows['mirror']['evaluations'] / rows['lbfgs']['evaluations']:.1f}x, "
              f"time {rows['mirror']['seconds'] / rows['lbfgs']['seconds']:.1f}x; "
              f"end points {100 * float(distance):.1f}% apart")


if __name__ == "__main__":
    main()
