"""How far is the paper's JFB weight gradient from the exact one at the equilibrium?

    python scripts/bench_implicit_gradient.py --alpha 100 --kernels motion \\
        --weights benchmark/networks/weights/red_motion_a100.pt --batches 2 --batch 8 --patch 64 \\
        --damping 1 0.3 0.1 --cg 5 10 20 --cg-reference 150

For training batches drawn as ``train_deq`` draws them (CBSD432 train crops, a kernel per batch,
fresh Poisson noise), the fixed point is solved once by ``lbfgs`` to ``--tol``; then, at that
point, the JFB gradient (:func:`benchmark.training.train_deq.jfb_loss`, the paper's) and the
implicit gradient (:func:`benchmark.training.train_deq.implicit_loss`) for each damping of
``--damping`` and each number of CG steps of ``--cg``. Each is compared with the implicit gradient
of ``--cg-reference`` CG steps at its damping, and with that at the smallest damping (the nearest
to the exact gradient). Prints per gradient: both cosines, the CG steps taken and the CG residual
(means over images), and the seconds it took beyond the fixed point (median over batches).
"""

import argparse
import statistics
import time

import torch

from benchmark.device import select_device
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import get_kernel, simulate
from benchmark.networks.registry import red_from_weights, run_weights
from benchmark.training.crops import PatchSampler, cbsd432_split
from benchmark.training.train_deq import implicit_loss, jfb_loss, training_fixed_point


def weight_gradient(model, loss_fn, objective, fixed_point, clean, **options):
    """The flattened weight gradient of ``loss_fn`` at the solved ``fixed_point``, its extras and
    the seconds it took."""
    model.zero_grad(set_to_none=True)
    start = time.perf_counter()
    loss, extras = loss_fn(model, objective, fixed_point, clean, **options)
    loss.backward()
    seconds = time.perf_counter() - start
    return torch.cat([p.grad.flatten() for p in model.parameters()]), extras, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--kernels", nargs="+", default=["motion"])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=64)
    parser.add_argument("--tol", type=float, default=1e-5)
    parser.add_argument("--damping", type=float, nargs="+", default=[1.0, 0.3, 0.1])
    parser.add_argument("--cg", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--cg-reference", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = select_device(args.device)
    model = red_from_weights(run_weights(args.weights), args.weights).to(device)
    sampler = PatchSampler(cbsd432_split()[0], args.patch, seed=args.seed)
    dampings = sorted(args.damping, reverse=True)
    rows = {}
    for b in range(args.batches):
        clean = sampler.sample(args.batch).to(device)
        kernel = args.kernels[b % len(args.kernels)]
        y, operator = simulate(clean, get_kernel(kernel), args.alpha, seed=args.seed + b)
        objective, point = training_fixed_point(model, y, operator, initial_point(y, operator),
                                                "lbfgs", args.tol, 1000)
        references = {mu: weight_gradient(model, implicit_loss, objective, point, clean,
                                          cg_iterations=args.cg_reference, damping=mu)
                      for mu in dampings}
        exact = references[dampings[-1]][0]
        print(f"batch {b} ({kernel}): fixed point in {float(point.evaluations.float().mean()):.0f}"
              " evaluations; references: " + ", ".join(
                  f"damping {mu:g} CG {e['cg_iterations']:.0f} steps to {e['cg_residual']:.1e}"
                  for mu, (_, e, _) in references.items()))
        results = {("jfb", "", ""): (*weight_gradient(model, jfb_loss, objective, point, clean),
                                     exact)}
        for mu in dampings:
            for k in sorted(set(args.cg + [args.cg_reference])):
                result = (references[mu] if k == args.cg_reference else weight_gradient(
                    model, implicit_loss, objective, point, clean, cg_iterations=k, damping=mu))
                results[("implicit", mu, k)] = (*result, references[mu][0])
        for name, (grad, extras, seconds, own) in results.items():
            cosine = torch.nn.functional.cosine_similarity
            rows.setdefault(name, []).append((
                float(cosine(grad, own, dim=0)), float(cosine(grad, exact, dim=0)),
                extras.get("cg_iterations", 0.0), extras.get("cg_residual", float("nan")),
                seconds))
    print(f"alpha {args.alpha:g}, kernels {args.kernels}, {args.batches} batches of {args.batch} "
          f"crops {args.patch}x{args.patch}, fixed points to {args.tol:g}, weights {args.weights};"
          f" reference: {args.cg_reference} CG steps at most")
    print("| gradient | damping | CG steps at most | cosine to its damping's reference | cosine "
          f"to the reference at damping {dampings[-1]:g} | CG steps | CG residual | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for (name, mu, k), values in rows.items():
        own, exact, steps, residual, _ = (sum(c) / len(c) for c in zip(*values))
        seconds = statistics.median(v[4] for v in values)
        mu = "" if mu == "" else f"{mu:g}"
        print(f"| {name} | {mu} | {k} | {own:.4f} | {exact:.4f} | {steps:.1f} | {residual:.1e} "
              f"| {seconds:.1f} |")


if __name__ == "__main__":
    main()
