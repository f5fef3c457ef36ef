r"""Train DEQ-MD's RED regulariser end to end by Jacobian-free backpropagation.

    python -m benchmark.train_deq --alpha 60 --kernels gaussian uniform motion --steps 300

For each batch of clean CBSD432 patches :math:`x`: a kernel is drawn from ``--kernels``, Poisson
noise is drawn afresh, :math:`y = \mathcal{P}(\alpha A x)/\alpha`; the DEQ-MD fixed point
:math:`x^*` is computed without a graph (``--train-max-iter`` iterations at most), then one more
mirror step :math:`T_\theta(x^*)` is taken with the graph and the loss
:math:`\|T_\theta(x^*) - x\|^2` is backpropagated to :math:`\theta` (JFB, Fung et al. 2022). The
network starts from the pre-trained gradient-step denoiser (``benchmark/weights/red_denoiser.pt``).

Resumable (``--run-dir``), logged to ``metrics.csv``. The weights are exported to
``benchmark/weights/red_<kernel or all>_a<alpha>.pt`` with a provenance file whose validation PSNR
is that of DEQ-MD reconstructions of held-out CBSD432 centre crops.
"""

import argparse
import sys

import torch

from benchmark.deq import PoissonPotential, jfb_output, reconstruct, solve
from benchmark.metrics import psnr
from benchmark.mirror_descent import initial_point
from benchmark.physics import get_kernel, simulate
from benchmark.regularizers import REDPotential
from benchmark.training import ResumableRun, best_weights, train
from benchmark.training_data import PatchSampler, cbsd432_split, validation_crops
from benchmark.weights import WEIGHTS_DIR, find_checkpoint, load_checkpoint, write_checkpoint


def make_loss(kernels, alpha, max_iter, tol):
    def loss_fn(model, clean):
        kernel = kernels[int(torch.randint(len(kernels), (1,)))]
        y, operator = simulate(clean, kernel, alpha, seed=int(torch.randint(2**31, (1,))))
        for p in model.parameters():
            p.requires_grad_(False)
        potential = PoissonPotential(y, operator, model)
        with torch.no_grad():
            fixed_point = solve(potential, initial_point(y, operator), tol, max_iter)
        for p in model.parameters():
            p.requires_grad_(True)
        return ((jfb_output(potential, fixed_point) - clean) ** 2).mean()
    return loss_fn


def make_validator(crops, kernels, alpha, max_iter):
    problems = [simulate(crops, kernel, alpha, seed=1000 + i) for i, kernel in enumerate(kernels)]

    def validate(model):
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        scores = [float(psnr(reconstruct(y, op, model, max_iter=max_iter).x, crops).mean())
                  for y, op in problems]
        for p in model.parameters():
            p.requires_grad_(True)
        return sum(scores) / len(scores)
    return validate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, required=True)
    parser.add_argument("--kernels", nargs="+", default=["gaussian", "uniform", "motion"])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--patch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--train-max-iter", type=int, default=40)
    parser.add_argument("--train-tol", type=float, default=1e-4)
    parser.add_argument("--validation-images", type=int, default=4)
    parser.add_argument("--validation-max-iter", type=int, default=100)
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--output", default=None,
                        help="checkpoint to write (default benchmark/weights/<name>.pt)")
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    kernel_tag = args.kernels[0] if len(args.kernels) == 1 else "all"
    name = f"red_{kernel_tag}_a{int(args.alpha)}"
    run_dir = args.run_dir or str(WEIGHTS_DIR / "runs" / name)
    torch.manual_seed(args.seed)
    kernels = [get_kernel(k) for k in args.kernels]
    train_files, val_files = cbsd432_split()
    sampler = PatchSampler(train_files, args.patch, seed=args.seed)
    crops = validation_crops(val_files[:args.validation_images], 96)
    validate = make_validator(crops, kernels, args.alpha, args.validation_max_iter)

    model = REDPotential()
    init = find_checkpoint("red", "none", 0, stage="denoiser")
    model.load_state_dict(load_checkpoint(init["path"], init["sha256"]))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    run = ResumableRun(run_dir)
    loss_fn = make_loss(kernels, args.alpha, args.train_max_iter, args.train_tol)
    step, elapsed = train(model, optimizer, sampler, loss_fn, validate, run, args.steps,
                          args.batch, validate_every=25,
                          max_seconds=None if args.max_minutes is None else 60 * args.max_minutes)
    best = best_weights(run, model, validate, step, elapsed)
    output = args.output or WEIGHTS_DIR / f"{name}.pt"
    record = write_checkpoint(best["model"], output, {
        "regularizer": "red", "kernel": kernel_tag, "alpha": args.alpha, "stage": "deq",
        "architecture": model.architecture, "initialisation": init["file"],
        "data": f"CBSD432 train split ({len(train_files)} images), {args.patch}x{args.patch} "
                f"patches, batch {args.batch}, kernels {args.kernels}, Poisson noise redrawn "
                f"per batch; fixed point cap {args.train_max_iter}, tol {args.train_tol}",
        "steps": best["step"], "steps_trained": step, "complete": step >= args.steps,
        "wall_time_s": round(elapsed, 1), "validation_psnr": round(best["val_psnr"], 3),
        "selection": "the weights of the best validation PSNR of the run (validated every "
                     "25 steps and at the end)",
        "validation": f"DEQ-MD on {args.validation_images} held-out CBSD432 centre crops 96x96, "
                      f"mean over kernels {args.kernels}, cap {args.validation_max_iter}",
        "command": "python -m benchmark.train_deq " + " ".join(sys.argv[1:] if argv is None
                                                               else argv),
    })
    print(f"step {step}/{args.steps}; best validation PSNR {best['val_psnr']:.2f} dB at step "
          f"{best['step']} -> {record['file']}")


if __name__ == "__main__":
    main()
