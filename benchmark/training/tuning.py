"""Tune the regularisation weight of a model-based solver on CBSD68, one weight per alpha.

    python -m benchmark.training.tuning --solver tv_md
    python -m benchmark.training.tuning --solver pidsplit --n-images 6 --crop 192

For every (kernel, alpha) and every weight of the grid, the solver runs to its own stopping rule
(at most ``--max-iter`` iterations) on the first ``--n-images`` CBSD68 images; the PSNR averaged
over images is printed as one JSON line per setting, and the weight with the best PSNR averaged
over images and kernels is printed for each alpha. set3c is never used here. ``--device``
(default ``auto``: CUDA when torch sees it) is where the images and the solver run; a seeded
Poisson draw differs between the CPU's and CUDA's generators, so CPU and GPU tunings see different
noise.
"""

import argparse
import json
import time

import torch

from benchmark.algorithms.pidsplit import PIDSplitPlus
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.data.images import load_cbsd68
from benchmark.device import select_device
from benchmark.maths.metrics import psnr
from benchmark.maths.physics import ALPHAS, KERNEL_NAMES, get_kernel, simulate

ALGORITHMS = {
    "tv_md": lambda y, op, lam, max_iter: TVMirrorDescent(y, op, lam, max_iter=max_iter),
    "pidsplit": lambda y, op, lam, max_iter: PIDSplitPlus(y, op, lam, max_iter=max_iter),
}


def run_to_stop(algorithm):
    with torch.no_grad():
        while algorithm.stop_reason is None:
            algorithm.step()
    return algorithm.x


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--solver", choices=sorted(ALGORITHMS), required=True)
    parser.add_argument("--grid", type=float, nargs="+",
                        default=[0.02, 0.03, 0.05, 0.08, 0.12, 0.18])
    parser.add_argument("--n-images", type=int, default=6)
    parser.add_argument("--crop", type=int, default=192)
    parser.add_argument("--max-iter", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:<index>")
    args = parser.parse_args(argv)

    device = select_device(args.device)
    x = load_cbsd68(args.n_images, args.crop)[0].to(device)
    start = time.perf_counter()
    scores = {(alpha, lam): [] for alpha in ALPHAS for lam in args.grid}
    for kernel in KERNEL_NAMES:
        for alpha in ALPHAS:
            y, operator = simulate(x, get_kernel(kernel), alpha, args.seed)
            row = {}
            for lam in args.grid:
                estimate = run_to_stop(ALGORITHMS[args.solver](y, operator, lam, args.max_iter))
                row[lam] = float(psnr(estimate, x).mean())
                scores[(alpha, lam)].append(row[lam])
            print(json.dumps({"kernel": kernel, "alpha": alpha, "psnr": row}), flush=True)
    best = {alpha: max(args.grid, key=lambda lam: sum(scores[(alpha, lam)]))
            for alpha in ALPHAS}
    print(json.dumps({"solver": args.solver, "best_lambda": best,
                      "runs": len(scores) * len(KERNEL_NAMES),
                      "seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main()
