"""How tight must the training fixed points be? Cost and JFB gradient against the tolerance.

    python scripts/bench_training_tolerance.py --alpha 60 \
        --weights training_runs/eq_red_all_a60/best.pt --batches 3 --tols 1e-3 3e-4 1e-4 3e-5 1e-5

``train_deq`` solves each training fixed point with ``lbfgs`` to a relative fixed-point residual
``--train-tol`` (default 1e-5, the test-time tolerance), then backpropagates the JFB loss
:math:`\\|T_\\theta(x^*) - x\\|^2` (:func:`benchmark.training.train_deq.deq_loss`). A looser
tolerance costs fewer network evaluations but moves :math:`x^*` and so the gradient. For training
batches drawn as ``train_deq`` draws them (CBSD432 train crops, a kernel per batch, fresh Poisson
noise), every tolerance solves from the same start; the reference is the tightest tolerance.
Prints, per tolerance: network evaluations per image (mean over batches), the relative distance
:math:`\\|x^*_{tol} - x^*_{ref}\\| / \\|x^*_{ref}\\|`, the PSNR change of :math:`x^*` and the
cosine and relative norm difference of the weight gradient against the reference's.
"""

import argparse

import torch

from benchmark.device import select_device
from benchmark.maths.metrics import psnr
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import KERNEL_NAMES, get_kernel, simulate
from benchmark.networks.registry import red_from_weights, run_weights
from benchmark.training.crops import PatchSampler, cbsd432_split
from benchmark.training.train_deq import deq_loss


def weight_gradient(model, clean, y, operator, start, tol):
    """JFB loss gradient (flattened) and the fixed point, as ``train_deq`` computes them."""
    model.zero_grad(set_to_none=True)
    loss, extras, fixed_point = deq_loss(model, clean, y, operator, start, "lbfgs", tol, 1000)
    loss.backward()
    grad = torch.cat([p.grad.flatten() for p in model.parameters()])
    return grad, fixed_point, extras["evaluations"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-3, 3e-4, 1e-4, 3e-5, 1e-5])
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = select_device(args.device)
    tols = sorted(args.tols, reverse=True)
    model = red_from_weights(run_weights(args.weights), args.weights).to(device)
    sampler = PatchSampler(cbsd432_split()[0], args.patch, seed=args.seed)
    rows = {tol: [] for tol in tols}
    for b in range(args.batches):
        clean = sampler.sample(args.batch).to(device)
        kernel = KERNEL_NAMES[b % len(KERNEL_NAMES)]
        y, operator = simulate(clean, get_kernel(kernel), args.alpha, seed=args.seed + b)
        start = initial_point(y, operator)
        results = {tol: weight_gradient(model, clean, y, operator, start, tol) for tol in tols}
        ref_grad, ref_point, _ = results[tols[-1]]
        ref_psnr = float(psnr(ref_point.x, clean).mean())
        for tol, (grad, point, evaluations) in results.items():
            rows[tol].append((
                evaluations,
                float((point.x - ref_point.x).norm() / ref_point.x.norm()),
                float(psnr(point.x, clean).mean()) - ref_psnr,
                float(torch.nn.functional.cosine_similarity(grad, ref_grad, dim=0)),
                float((grad - ref_grad).norm() / ref_grad.norm())))
        print(f"batch {b} ({kernel}): reference PSNR {ref_psnr:.2f} dB")
    print(f"alpha {args.alpha:g}, {args.batches} batches of {args.batch} crops "
          f"{args.patch}x{args.patch}, reference tol {tols[-1]:g}, weights {args.weights}")
    print("| tol | evaluations per image | rel. distance of x* | PSNR change (dB) "
          "| gradient cosine | gradient rel. error |")
    print("| --- | --- | --- | --- | --- | --- |")
    for tol in tols:
        means = [sum(column) / len(column) for column in zip(*rows[tol])]
        print(f"| {tol:g} | {means[0]:.1f} | {means[1]:.1e} | {means[2]:+.3f} | {means[3]:.4f} "
              f"| {means[4]:.3f} |")


if __name__ == "__main__":
    main()
