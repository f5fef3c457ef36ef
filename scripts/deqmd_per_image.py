"""DEQ-MD on set3c in one (kernel, alpha) setting: PSNR and SSIM of each image.

    python scripts/deqmd_per_image.py --kernel motion --alpha 100 [--max-iter 300] [--device auto]

benchopt's tables average over the images of a setting; the paper also quotes single images
(butterfly, motion blur, alpha = 100). This runs the same reconstruction as ``solvers/deqmd.py``
(same weights, same noise draw from ``--seed``, same stopping rule and cap; data found as the
datasets find it, ``POISSON_DEBLUR_DATA`` first) and prints one line per image, the mean, the
iterations and whether the cap was hit.
"""

import argparse
import time

from benchmark.deq import TOL, reconstruct
from benchmark.images import load_set3c
from benchmark.metrics import psnr, ssim
from benchmark.physics import kernel_name_of
from benchmark.problem import make_problem
from benchmark.runner import prepare_problem
from benchmark.weights import load_regularizer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default="motion", choices=["gaussian", "uniform", "motion"])
    parser.add_argument("--alpha", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-iter", type=int, default=300)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    x_true, names = load_set3c()
    problem = make_problem(x_true, names, args.kernel, args.alpha, args.seed)
    y, operator, device = prepare_problem(problem["y"], problem["kernel"], args.device)
    model, record = load_regularizer("red", kernel_name_of(problem["kernel"]), args.alpha, device)
    start = time.perf_counter()
    result = reconstruct(y, operator, model, TOL, args.max_iter)
    elapsed = time.perf_counter() - start

    x = result.x.cpu()
    values = psnr(x, x_true), ssim(x, x_true)
    print(f"set3c {args.kernel} alpha={args.alpha:g} seed={args.seed}, weights {record['file']}")
    for name, p, s in zip(names, *values):
        print(f"{name:>10}: PSNR {float(p):6.2f} dB  SSIM {float(s):.4f}")
    print(f"{'mean':>10}: PSNR {float(values[0].mean()):6.2f} dB  "
          f"SSIM {float(values[1].mean()):.4f}")
    print(f"{result.iterations} iterations in {elapsed:.0f} s on {device}; "
          f"cap {'hit' if result.hit_cap else 'not hit'}")


if __name__ == "__main__":
    main()
