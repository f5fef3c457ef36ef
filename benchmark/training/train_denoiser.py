r"""Pre-train the gradient-step denoiser :math:`x - \nabla R_\theta(x)` of the RED regulariser.

    python -m benchmark.training.train_denoiser --steps 2000 --run-dir training_runs/denoiser

Loss (Hurault et al., ICLR 2022; DEQ-MD's pre-training): for clean CBSD432 patches :math:`x`,
:math:`\sigma \sim U[0.025, 0.25]` per patch and :math:`z = x + \sigma n`,

.. math::

    \mathcal{L}(\theta) = \big\| z - \nabla R_\theta(z) - x \big\|^2 \ \text{(mean over pixels)}.

Resumable (``--run-dir``), logged to ``metrics.csv``; the final weights are exported to
``benchmark/networks/weights/red_denoiser.pt`` with their provenance (validation PSNR at
sigma = 0.1 on centre crops of the held-out CBSD432 images).
"""

import argparse
import sys

import torch

from benchmark.device import select_device
from benchmark.maths.metrics import psnr
from benchmark.networks.registry import WEIGHTS_DIR, load_weights, run_weights, write_checkpoint
from benchmark.networks.regularizers import REDPotential
from benchmark.parameters import writable_output
from benchmark.training.crops import PatchSampler, cbsd432_split, validation_crops
from benchmark.training.loop import (
    RUNS_DIR,
    ResumableRun,
    add_schedule_arguments,
    best_weights,
    check_schedule_arguments,
    describe_schedule,
    named_with_hash,
    run_provenance,
    schedule,
    train,
)

SIGMA_RANGE = (0.025, 0.25)
VALIDATION_SIGMA = 0.1

# Validate every this many steps (the denoiser's steps are cheap: 100).
VALIDATE_EVERY = 100


def denoising_loss(model, clean):
    sigma = torch.empty(clean.shape[0], 1, 1, 1, device=clean.device).uniform_(*SIGMA_RANGE)
    noisy = clean + sigma * torch.randn_like(clean)
    return ((model.denoise(noisy, create_graph=True) - clean) ** 2).mean()


def make_validator(crops, seed=0):
    generator = torch.Generator().manual_seed(seed)
    noisy = crops + VALIDATION_SIGMA * torch.randn(crops.shape,
                                                   generator=generator).to(crops.device)

    def validate(model):
        model.eval()
        return float(psnr(model.denoise(noisy), crops).mean())
    return validate


def parse_denoiser_arguments(description, run_name, output_name, lr, argv):
    """Parse the command line shared by the denoiser training entry points."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=lr)
    add_schedule_arguments(parser)
    parser.add_argument("--init", default=None,
                        help="continue from these weights (an exported .pt, or a run's best.pt "
                             "or state.pt) in a new run; default: a fresh network")
    parser.add_argument("--run-dir", default=str(RUNS_DIR / run_name))
    parser.add_argument("--output", default=str(WEIGHTS_DIR / output_name))
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop (resumably) after this many minutes of this call")
    parser.add_argument("--validation-images", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when torch sees it), cpu, cuda")
    args = parser.parse_args(argv)
    check_schedule_arguments(parser, args)
    writable_output(parser, args.output)
    return args


def train_and_export(model, loss_fn, make_validate, args, command, provenance, describe=None):
    """Train ``model`` on CBSD432 patches (resumably), export its best validated weights.

    ``make_validate(crops)`` returns the validation function for the held-out centre crops;
    ``provenance`` is completed with data, steps, wall time, validation PSNR and the command, and
    with ``describe(model, crops)`` (a dict of measurements of the exported weights) when given.
    """
    torch.manual_seed(args.seed)
    device = select_device(args.device)
    if args.init is not None:  # the weights first: a bad file fails before the data are read
        load_weights(model, run_weights(args.init), args.init)
        provenance = {**provenance, "initialisation": named_with_hash(args.init)}
    train_files, val_files = cbsd432_split()
    sampler = PatchSampler(train_files, args.patch, seed=args.seed)
    crops = validation_crops(val_files[:args.validation_images], 96).to(device)
    validate = make_validate(crops)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    learning_rate, average = schedule(args, model)
    run = ResumableRun(args.run_dir)
    step, elapsed = train(model, optimizer, sampler, lambda m, clean: loss_fn(m, clean.to(device)),
                          validate, run, args.steps,
                          args.batch, validate_every=VALIDATE_EVERY,
                          max_seconds=None if args.max_minutes is None else 60 * args.max_minutes,
                          learning_rate=learning_rate, average=average)
    best = best_weights(run, model if average is None else average.model, validate, step,
                        elapsed)
    if describe is not None:
        model.load_state_dict(best["model"])
        provenance = {**provenance, **describe(model.eval(), crops)}
    record = write_checkpoint(best["model"], args.output, {
        **provenance, "architecture": model.architecture,
        "data": f"CBSD432 train split ({len(train_files)} images), {args.patch}x{args.patch} "
                f"patches, batch {args.batch}, {describe_schedule(args)}; "
                + provenance["data"],
        **run_provenance(best, step, args.steps, elapsed, device, VALIDATE_EVERY),
        "validation": f"{args.validation_images} held-out CBSD432 centre crops 96x96, "
                      + provenance["validation"],
        "command": command,
    })
    print(f"step {step}/{args.steps}; best validation PSNR {best['val_psnr']:.2f} dB at step "
          f"{best['step']} -> {record['file']}")
    return record


def main(argv=None):
    args = parse_denoiser_arguments(__doc__.splitlines()[0], "denoiser", "red_denoiser.pt", 5e-4,
                                    argv)
    train_and_export(
        REDPotential(), denoising_loss, make_validator, args,
        "python -m benchmark.training.train_denoiser "
        + " ".join(sys.argv[1:] if argv is None else argv),
        {"regularizer": "red", "kernel": "none", "alpha": 0, "stage": "denoiser",
         "data": f"Gaussian noise sigma ~ U{list(SIGMA_RANGE)}",
         "validation": f"sigma={VALIDATION_SIGMA}"})


if __name__ == "__main__":
    main()
