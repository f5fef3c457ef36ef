r"""DEQ-MD checkpoints on the held-out CBSD432 validation crops, with a chosen fixed-point solver.

    python scripts/validate_deq.py --alpha 100 --solver lbfgs \
        --weights benchmark/networks/weights/red_all_a100.pt training_runs/eq_red_all_a100/best.pt

The validation of ``benchmark.training.train_deq`` (the same crops: every 12th CBSD432 image, centre
crops; the same noise draws: seed 1000 + kernel index), for any checkpoint (an exported ``.pt`` or
a run's ``best.pt`` / ``state.pt``), so that models trained with different recipes are compared on
the same problems and the same solver. Prints the PSNR per kernel and the mean, the network
evaluations per image and how many fixed points met the solver's tolerance. Never set3c or CBSD68.

``--reg-weights`` scales the learned regulariser at test time, :math:`\mathrm{KL}(y, Ax) + w
R_\theta(x)` (solved as :math:`w^{-1} \mathrm{KL} + R_\theta`, the same stationary points), one
line per ``w``: whether a model's regularisation strength suits a kernel (``w = 1`` is DEQ-MD).

``--symmetry`` averages the learned potential over a group of image symmetries
(:mod:`benchmark.networks.symmetry`; ``none`` is the network itself), one line per group.

``--tv-md`` also prints TV-MD (the weight of ``benchmark.algorithms.presets`` for this alpha, its
benchopt defaults) on the same problems: the model-based reference that DEQ-MD should beat.
"""

import argparse
import time

from benchmark.algorithms.deqmd import DEFAULT_SOLVER, SOLVERS, reconstruct
from benchmark.algorithms.presets import tuned_lambda
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.device import select_device
from benchmark.maths.metrics import psnr
from benchmark.maths.physics import KERNEL_NAMES, get_kernel
from benchmark.networks.registry import frozen_red_from_file
from benchmark.networks.symmetry import GROUPS, symmetrized
from benchmark.parameters import alpha_argument
from benchmark.training.crops import cbsd432_split, validation_crops
from benchmark.training.train_deq import validation_problems


def per_kernel_text(kernels, scores):
    return ", ".join(f"{k} {s:.2f}" for k, s in zip(kernels, scores))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="*", default=[])
    parser.add_argument("--alpha", type=alpha_argument, required=True)
    parser.add_argument("--solver", default=DEFAULT_SOLVER, choices=sorted(SOLVERS))
    parser.add_argument("--max-iter", type=int, default=None)
    parser.add_argument("--kernels", nargs="+", default=list(KERNEL_NAMES))
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--reg-weights", type=float, nargs="+", default=[1.0],
                        help="weights w of the regulariser, KL + w R (default 1: DEQ-MD)")
    parser.add_argument("--symmetry", nargs="+", choices=sorted(GROUPS), default=["none"],
                        help="groups the potential is averaged over (default none: DEQ-MD)")
    parser.add_argument("--tv-md", action="store_true",
                        help="also print TV-MD's PSNR on the same problems")
    args = parser.parse_args()
    if min(args.reg_weights) <= 0:
        parser.error(f"--reg-weights must be positive, got {args.reg_weights}")
    device = select_device(args.device)
    models = [(path, frozen_red_from_file(path, device)) for path in args.weights]  # fail early
    crops = validation_crops(cbsd432_split()[1][:args.images], args.size).to(device)
    problems = validation_problems(crops, [get_kernel(k) for k in args.kernels], args.alpha)
    print(f"{args.images} CBSD432 validation crops {args.size}x{args.size}, alpha {args.alpha:g}, "
          f"solver {args.solver}, device {device}")
    if args.tv_md:
        lam, how = tuned_lambda("tv_md", args.alpha)
        scores = [float(psnr(TVMirrorDescent(y, operator, lam).run().x, crops).mean())
                  for y, operator in problems]
        print(f"TV-MD (lambda {lam:g}, {how}): mean {sum(scores) / len(scores):.3f} dB "
              f"({per_kernel_text(args.kernels, scores)})")
    for path, model in models:
        for symmetry, weight in [(s, w) for s in args.symmetry for w in args.reg_weights]:
            scores, evaluations, converged = [], [], 0
            start = time.perf_counter()
            for y, operator in problems:
                result = reconstruct(y, operator, symmetrized(model, symmetry), args.solver,
                                     max_iter=args.max_iter, data_weight=1.0 / weight)
                scores.append(float(psnr(result.x, crops).mean()))
                evaluations.append(float(result.evaluations.float().mean()))
                converged += int(result.converged.sum())
            label = path + "".join(
                [f" (symmetry {symmetry})" if args.symmetry != ["none"] else "",
                 f" (reg weight {weight:g})" if args.reg_weights != [1.0] else ""])
            print(f"{label}: mean {sum(scores) / len(scores):.3f} dB "
                  f"({per_kernel_text(args.kernels, scores)}); "
                  f"{sum(evaluations) / len(evaluations):.0f} evaluations per image; "
                  f"{converged}/{len(scores) * crops.shape[0]} met tol; "
                  f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
