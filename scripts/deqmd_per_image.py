"""DEQ-MD on set3c in one (kernel, alpha) setting: PSNR and SSIM of each image.

    python scripts/deqmd_per_image.py --kernel motion --alpha 100 [--solver lbfgs|mirror]
        [--symmetry none|flip|d4]
        [--tol T] [--max-iter N] [--device auto] [--images butterfly] [--trace 100]
        [--weights-dir benchmark/networks/weights]

benchopt's tables average over the images of a setting; the paper also quotes single images
(butterfly, motion blur, alpha = 100). This runs the same reconstruction as ``solvers/deqmd.py``
(same weights, same noise draw from ``--seed``, same fixed-point solver, stopping rule and cap;
data found as the datasets find it, ``POISSON_DEBLUR_DATA`` first) and prints one line per image
(PSNR, SSIM, network evaluations, fixed-point residual at tau 0.25), the mean, the iterations and
whether the cap was hit. ``--images`` keeps some images of the setting (their noise is that of the
whole setting's draw); ``--trace N`` prints, every N iterations, each image's PSNR and stopping
quantity (relative change for ``mirror``, residual for ``lbfgs``), to see how far the fixed point
is. ``--weights-dir`` compares checkpoints kept elsewhere (the same registry
rules: a kernel-specific model first, else the all-kernel one of that alpha).
"""

import argparse
import time

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import DEFAULT_SOLVER, DEFAULT_SYMMETRY, SOLVERS, make_solver
from benchmark.algorithms.equilibrium import fixed_point_residual
from benchmark.data.images import SET3C_NAMES, load_set3c
from benchmark.data.problem import make_problem
from benchmark.glue.runner import prepare_problem
from benchmark.maths.metrics import psnr, ssim
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import KERNEL_NAMES
from benchmark.networks.registry import WEIGHTS_DIR, load_regularizer
from benchmark.networks.symmetry import GROUPS, symmetrized, training_symmetry_note
from benchmark.parameters import alpha_argument


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default="motion", choices=KERNEL_NAMES)
    parser.add_argument("--alpha", type=alpha_argument, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--solver", default=DEFAULT_SOLVER, choices=sorted(SOLVERS))
    parser.add_argument("--symmetry", default=DEFAULT_SYMMETRY, choices=sorted(GROUPS))
    parser.add_argument("--tol", type=float, default=None, help="default: the solver's")
    parser.add_argument("--max-iter", type=int, default=None, help="default: the solver's")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--images", nargs="+", choices=SET3C_NAMES, default=list(SET3C_NAMES))
    parser.add_argument("--trace", type=int, default=0, metavar="N",
                        help="print PSNR, tau and relative change every N iterations")
    parser.add_argument("--weights-dir", default=str(WEIGHTS_DIR))
    args = parser.parse_args()

    x_true, names = load_set3c()
    problem = make_problem(x_true, names, args.kernel, args.alpha, args.seed)
    keep = [names.index(name) for name in args.images]
    x_true, names = x_true[keep], [names[i] for i in keep]
    y, operator, device = prepare_problem(problem["y"][keep], problem["kernel"], args.device)
    model, record = load_regularizer("red", args.kernel, args.alpha, device,
                                     weights_dir=args.weights_dir)
    print(f"set3c {args.kernel} alpha={args.alpha:g} seed={args.seed}, weights {record['file']}, "
          f"solver {args.solver}, symmetry {args.symmetry}")
    note = training_symmetry_note(record, args.symmetry)
    if note:
        print(f"note: {note}")

    start = time.perf_counter()
    potential = CompositeObjective(y, operator, symmetrized(model, args.symmetry))
    solver = make_solver(args.solver, potential, initial_point(y, operator), args.tol,
                         args.max_iter)
    while solver.stop_reason is None:
        solver.step()
        if args.trace and solver.iterations % args.trace == 0:
            values = psnr(solver.x.cpu(), x_true)
            per_image = "; ".join(
                f"{name} {float(p):.2f} dB, tau {float(t):.3g}, {float(c):.2e}"
                for name, p, t, c in zip(names, values, solver.tau, solver.criterion))
            print(f"iteration {solver.iterations:5d} ({time.perf_counter() - start:.0f} s): "
                  f"{per_image}")
    elapsed = time.perf_counter() - start
    result = solver.result()

    x = result.x.cpu()
    values = psnr(x, x_true), ssim(x, x_true)
    residual = fixed_point_residual(result.x, potential(result.x, None)[1]).cpu()
    for name, p, s, n, r in zip(names, *values, result.evaluations.tolist(), residual):
        print(f"{name:>10}: PSNR {float(p):6.2f} dB  SSIM {float(s):.4f}  {n} evaluations  "
              f"residual {float(r):.1e}")
    print(f"{'mean':>10}: PSNR {float(values[0].mean()):6.2f} dB  "
          f"SSIM {float(values[1].mean()):.4f}")
    print(f"{result.iterations} iterations in {elapsed:.0f} s on {device}; "
          f"cap {'hit' if result.hit_cap else 'not hit'} ({solver.stop_reason})")


if __name__ == "__main__":
    main()
