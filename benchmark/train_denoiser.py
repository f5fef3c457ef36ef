r"""Pre-train the gradient-step denoiser :math:`x - \nabla R_\theta(x)` of the RED regulariser.

    python -m benchmark.train_denoiser --steps 2000 --run-dir benchmark/weights/runs/denoiser

Loss (Hurault et al., ICLR 2022; DEQ-MD's pre-training): for clean CBSD432 patches :math:`x`,
:math:`\sigma \sim U[0.025, 0.25]` per patch and :math:`z = x + \sigma n`,

.. math::

    \mathcal{L}(\theta) = \big\| z - \nabla R_\theta(z) - x \big\|^2 \ \text{(mean over pixels)}.

Resumable (``--run-dir``), logged to ``metrics.csv``; the final weights are exported to
``benchmark/weights/red_denoiser.pt`` with their provenance (validation PSNR at sigma = 0.1 on
centre crops of the held-out CBSD432 images).
"""

import argparse
import sys

import torch

from benchmark.metrics import psnr
from benchmark.regularizers import REDPotential
from benchmark.training import ResumableRun, best_weights, train
from benchmark.training_data import PatchSampler, cbsd432_split, validation_crops
from benchmark.weights import WEIGHTS_DIR, write_checkpoint

SIGMA_RANGE = (0.025, 0.25)
VALIDATION_SIGMA = 0.1


def denoising_loss(model, clean):
    sigma = torch.empty(clean.shape[0], 1, 1, 1).uniform_(*SIGMA_RANGE)
    noisy = clean + sigma * torch.randn_like(clean)
    return ((model.denoise(noisy, create_graph=True) - clean) ** 2).mean()


def make_validator(crops, seed=0):
    generator = torch.Generator().manual_seed(seed)
    noisy = crops + VALIDATION_SIGMA * torch.randn(crops.shape, generator=generator)

    def validate(model):
        model.eval()
        return float(psnr(model.denoise(noisy), crops).mean())
    return validate


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--patch", type=int, default=48)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--run-dir", default=str(WEIGHTS_DIR / "runs" / "denoiser"))
    parser.add_argument("--output", default=str(WEIGHTS_DIR / "red_denoiser.pt"))
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop (resumably) after this many minutes of this call")
    parser.add_argument("--validation-images", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    train_files, val_files = cbsd432_split()
    sampler = PatchSampler(train_files, args.patch, seed=args.seed)
    validate = make_validator(validation_crops(val_files[:args.validation_images], 96))
    model = REDPotential()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    run = ResumableRun(args.run_dir)
    step, elapsed = train(model, optimizer, sampler, denoising_loss, validate, run, args.steps,
                          args.batch, validate_every=100,
                          max_seconds=None if args.max_minutes is None else 60 * args.max_minutes)
    best = best_weights(run, model, validate, step, elapsed)
    record = write_checkpoint(best["model"], args.output, {
        "regularizer": "red", "kernel": "none", "alpha": 0, "stage": "denoiser",
        "architecture": model.architecture,
        "data": f"CBSD432 train split ({len(train_files)} images), {args.patch}x{args.patch} "
                f"patches, batch {args.batch}, Gaussian noise sigma ~ U{list(SIGMA_RANGE)}",
        "steps": best["step"], "steps_trained": step, "complete": step >= args.steps,
        "wall_time_s": round(elapsed, 1), "validation_psnr": round(best["val_psnr"], 3),
        "selection": "the weights of the best validation PSNR of the run (validated every "
                     "100 steps and at the end)",
        "validation": f"{args.validation_images} held-out CBSD432 centre crops 96x96, "
                      f"sigma={VALIDATION_SIGMA}",
        "command": "python -m benchmark.train_denoiser " + " ".join(sys.argv[1:] if argv is None
                                                                    else argv),
    })
    print(f"step {step}/{args.steps}; best validation PSNR {best['val_psnr']:.2f} dB at step "
          f"{best['step']} -> {record['file']}")


if __name__ == "__main__":
    main()
