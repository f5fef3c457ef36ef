r"""Bregman score denoiser for the Burg entropy (Hurault, Kamilov, Leclaire, Papadakis, "Convergent
Bregman Plug-and-Play Image Restoration for Poisson Inverse Problems", NeurIPS 2023, Sec. 3).

With the Burg entropy :math:`h(x) = -\sum_i \log x_i` (so :math:`\nabla^2 h(x)^{-1} = x^2`), the
denoiser is a Bregman gradient step on a learned potential :math:`g_\gamma`:

.. math::

    B_\gamma(x) = x - x^2 \odot \nabla g_\gamma(x), \qquad
    g_\gamma(x) = \tfrac12 \|x - N_\theta(x, 1/\gamma)\|^2 = \tfrac12 \|D_\theta(x, 1/\gamma)\|^2,

where :math:`N_\theta = x + D_\theta` takes the noise level :math:`1/\gamma` as a constant extra
input channel (as in the authors' code). The paper's :math:`N_\theta` is a DRUNet; here it is
DEQ-MD's DnCNN (depth 5, 64 channels, Softplus) with one extra input channel, which trains on a CPU.
:math:`B_\gamma` is the Bregman proximal operator of a potential :math:`\phi_\gamma` (the paper's
Prop. 1) with, at :math:`x^+ = B_\gamma(z)`,

.. math::

    \phi_\gamma(x^+) = g_\gamma(z) - D_h(x^+, z).

The relaxed denoiser :math:`x - a\, x^2 \nabla g_\gamma(x)` used by B-PnP is the same construction
for the potential :math:`a\, g_\gamma`.

It is trained to remove inverse-gamma noise, the noise whose likelihood is
:math:`\propto \exp(-\gamma D_h(x, \tilde x))`: :math:`1/\tilde x \sim \mathrm{Gamma}(\text{shape}
= \gamma - 1, \text{rate} = \gamma x)` (mode :math:`x`), with :math:`1/\gamma \sim U[0, 0.1]`.
"""

import torch
from torch import nn

from benchmark.networks.regularizers import DnCNN, potential_and_grad

TRAINING_NOISE_RANGE = (0.0, 0.1)
MIN_NOISE_LEVEL = 1e-3
CLEAN_FLOOR = 1e-3


def noise_map(noise_level, x):
    """A (B, 1, H, W) map of the noise level ``1/gamma`` (a number or one value per image)."""
    level = torch.as_tensor(noise_level, dtype=x.dtype, device=x.device)
    return level.reshape(-1, 1, 1, 1).expand(x.shape[0], 1, *x.shape[-2:])


def inverse_gamma_noise(x, noise_level):
    r"""Draw :math:`\tilde x` with
    :math:`1/\tilde x \sim \mathrm{Gamma}(\gamma - 1, \text{rate } \gamma x)`.

    ``x`` must be positive; ``noise_level`` is :math:`1/\gamma` (a number or one value per image,
    at least :data:`MIN_NOISE_LEVEL`), drawn from the global random generator.
    """
    gamma = 1.0 / noise_map(noise_level, x).clamp(min=MIN_NOISE_LEVEL)
    return 1.0 / torch.distributions.Gamma(gamma - 1.0, gamma * x).sample()


class BregmanScoreDenoiser(nn.Module):
    r""":math:`B_\gamma(x) = x - a\, x^2 \nabla g_\gamma(x)`, with :math:`g_\gamma` per image."""

    def __init__(self, features=64, depth=5, beta=100.0, channels=3):
        super().__init__()
        self.architecture = dict(features=features, depth=depth, beta=beta, channels=channels)
        self.net = DnCNN(channels, features, depth, beta, extra_inputs=1)

    def potential(self, x, noise_level):
        r""":math:`g_\gamma(x) = \frac12 \|D_\theta(x, 1/\gamma)\|^2` per image (float64 sums)."""
        residual = self.net(torch.cat([x, noise_map(noise_level, x)], dim=1))
        return 0.5 * (residual ** 2).flatten(1).sum(dim=1, dtype=torch.float64)

    def value_and_grad(self, x, noise_level, create_graph=False):
        r"""``(g(x) per image, grad g(x))``: one forward and one backward pass of the network."""
        return potential_and_grad(lambda v: self.potential(v, noise_level), x, create_graph)

    def forward(self, x, noise_level, weight=1.0, create_graph=False):
        r""":math:`x - a\, x^2 \nabla g_\gamma(x)` with :math:`a` = ``weight``."""
        return bregman_gradient_step(x, self.value_and_grad(x, noise_level, create_graph)[1],
                                     weight)


class ScorePotential:
    r"""The potential :math:`g_\gamma` of a Bregman score denoiser at a fixed noise level
    :math:`1/\gamma`, with the regulariser interface of
    :class:`benchmark.algorithms.composite.CompositeObjective` (B-RED's :math:`R`)."""

    def __init__(self, denoiser, noise_level):
        self.denoiser, self.noise_level = denoiser, noise_level

    def value_and_grad(self, x, create_graph=False):
        return self.denoiser.value_and_grad(x, self.noise_level, create_graph)


def bregman_gradient_step(x, grad, weight=1.0):
    r""":math:`x - a\, x^2 \odot \nabla g(x)`: the Burg-entropy gradient step of the denoiser."""
    return x - weight * x ** 2 * grad
