r"""Train the Bregman score denoiser of B-RED and B-PnP on inverse-gamma noise.

    python -m benchmark.training.train_bregman_denoiser --steps 20000 --max-minutes 60

Loss (Hurault et al., NeurIPS 2023, Sec. 3 and their training code): for clean CBSD432 patches
:math:`x` clamped to :math:`[10^{-3}, 1]` (the Burg entropy needs positive images), a noise level
:math:`1/\gamma \sim U[0, 0.1]` per patch (at least :math:`10^{-3}`) and inverse-gamma noise
:math:`1/\tilde x \sim \mathrm{Gamma}(\gamma - 1, \text{rate } \gamma x)`,

.. math::

    \mathcal{L}(\theta) = \big\| B_\gamma(\tilde x) - x \big\|^2 \ \text{(mean over pixels)},
    \qquad B_\gamma(\tilde x) = \tilde x - \tilde x^2 \nabla g_\gamma(\tilde x).

Resumable (``--run-dir``), logged to ``metrics.csv``; the best validated weights are exported to
``benchmark/networks/weights/bregman_denoiser.pt`` with their provenance (validation PSNR at
:math:`1/\gamma = 1/50`, the level of the algorithms' initialisation phase, on centre crops of the
held-out CBSD432 images).
"""

import sys

import torch

from benchmark.maths.metrics import psnr
from benchmark.networks.bregman_denoiser import (
    CLEAN_FLOOR,
    MIN_NOISE_LEVEL,
    TRAINING_NOISE_RANGE,
    BregmanScoreDenoiser,
    inverse_gamma_noise,
)
from benchmark.training.train_denoiser import parse_denoiser_arguments, train_and_export

VALIDATION_NOISE_LEVEL = 1.0 / 50


def bregman_denoising_loss(model, clean):
    clean = clean.clamp(min=CLEAN_FLOOR)
    level = torch.empty(clean.shape[0]).uniform_(*TRAINING_NOISE_RANGE).clamp(min=MIN_NOISE_LEVEL)
    noisy = inverse_gamma_noise(clean, level)
    return ((model(noisy, level, create_graph=True) - clean) ** 2).mean()


def make_validator(crops, seed=0):
    crops = crops.clamp(min=CLEAN_FLOOR)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        noisy = inverse_gamma_noise(crops.cpu(), VALIDATION_NOISE_LEVEL).to(crops.device)

    def validate(model):
        model.eval()
        return float(psnr(model(noisy, VALIDATION_NOISE_LEVEL), crops).mean())
    return validate


def denoising_by_level(model, crops, levels=(0.1, 0.05, 0.02, 0.01, 0.005, 0.002), seed=0):
    """PSNR (dB) of the noisy and the denoised held-out crops, and the smallest output pixel, at
    each noise level 1/gamma: how the exported denoiser behaves across the levels the
    algorithms may use."""
    crops = crops.clamp(min=CLEAN_FLOOR)
    table = {}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        for level in levels:
            noisy = inverse_gamma_noise(crops.cpu(), level).to(crops.device)
            denoised = model(noisy, level)
            table[f"{level:g}"] = {"noisy_psnr": round(float(psnr(noisy, crops).mean()), 2),
                                   "denoised_psnr": round(float(psnr(denoised, crops).mean()), 2),
                                   "min_output": round(float(denoised.min()), 4)}
    return {"denoising_by_noise_level": table}


def main(argv=None):
    args = parse_denoiser_arguments(__doc__.splitlines()[0], "bregman_denoiser",
                                    "bregman_denoiser.pt", 5e-4, argv)
    train_and_export(
        BregmanScoreDenoiser(), bregman_denoising_loss, make_validator, args,
        "python -m benchmark.training.train_bregman_denoiser "
        + " ".join(sys.argv[1:] if argv is None else argv),
        {"regularizer": "bregman", "kernel": "none", "alpha": 0, "stage": "denoiser",
         "data": f"inverse-gamma noise, 1/gamma ~ U{list(TRAINING_NOISE_RANGE)} per patch",
         "validation": f"1/gamma={VALIDATION_NOISE_LEVEL}"},
        describe=denoising_by_level)


if __name__ == "__main__":
    main()
