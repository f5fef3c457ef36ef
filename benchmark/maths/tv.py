r"""Discrete gradient with circular boundaries, total variation and its smoothed version.

Boundaries are periodic to match the circular blur, so that every operator here is diagonalised
by the 2-D FFT (used by PIDSplit+'s linear solve).

* :math:`\nabla x = (D_h x, D_v x)` with forward differences
  :math:`(D_h x)_{i,j} = x_{i,j+1} - x_{i,j}`, :math:`(D_v x)_{i,j} = x_{i+1,j} - x_{i,j}`;
* its adjoint :math:`\nabla^\top (p_h, p_v) = D_h^\top p_h + D_v^\top p_v = -\mathrm{div}\,p`;
* smoothed (hypersurface) TV, channel by channel,
  :math:`\mathrm{TV}_\epsilon(x) = \sum_{c,i} \sqrt{|(\nabla x)_{c,i}|^2 + \epsilon^2}`, whose
  gradient is :math:`\nabla^\top \big(\nabla x / \sqrt{|\nabla x|^2 + \epsilon^2}\big)`.
"""

import math

import torch


def gradient(x):
    """Forward differences with periodic boundaries: a (B, C, H, W, 2) tensor (horizontal,
    vertical)."""
    dh = torch.roll(x, shifts=-1, dims=-1) - x
    dv = torch.roll(x, shifts=-1, dims=-2) - x
    return torch.stack((dh, dv), dim=-1)


def gradient_adjoint(p):
    r"""Adjoint of :func:`gradient`: :math:`D_h^\top p_h + D_v^\top p_v` (minus the divergence)."""
    ph, pv = p[..., 0], p[..., 1]
    return (torch.roll(ph, shifts=1, dims=-1) - ph) + (torch.roll(pv, shifts=1, dims=-2) - pv)


def tv_smooth(x, smoothing):
    """Smoothed isotropic TV per image (channels summed)."""
    magnitude = torch.sqrt((gradient(x) ** 2).sum(dim=-1) + smoothing**2)
    return magnitude.sum(dim=(1, 2, 3), dtype=torch.float64)


def tv_smooth_value_and_grad(x, smoothing):
    """``(TV_eps(x) per image, its gradient)`` in closed form."""
    g = gradient(x)
    magnitude = torch.sqrt((g**2).sum(dim=-1, keepdim=True) + smoothing**2)
    value = magnitude.sum(dim=(1, 2, 3, 4), dtype=torch.float64)
    return value, gradient_adjoint(g / magnitude)


def tv_isotropic(x):
    r"""Non-smoothed isotropic TV per image, :math:`\sum_{c,i} |(\nabla x)_{c,i}|`."""
    return torch.linalg.vector_norm(gradient(x), dim=-1).sum(dim=(1, 2, 3), dtype=torch.float64)


def shrink_isotropic(p, threshold):
    r"""Prox of :math:`t \sum_i |p_i|` (pixelwise 2-vectors): :math:`p \max(1 - t/|p|, 0)`."""
    norm = torch.linalg.vector_norm(p, dim=-1, keepdim=True)
    return p * torch.clamp(1.0 - threshold / norm.clamp(min=1e-12), min=0.0)


def laplacian_spectrum(height, width, device="cpu", dtype=torch.float32):
    r"""Eigenvalues of :math:`\nabla^\top \nabla` on the ``rfft2`` grid (H, W // 2 + 1).

    :math:`\lambda_{k,l} = 4 \sin^2(\pi k / H) + 4 \sin^2(\pi l / W)`.
    """
    k = torch.arange(height, device=device, dtype=dtype)
    ell = torch.arange(width // 2 + 1, device=device, dtype=dtype)
    vertical = 4.0 * torch.sin(math.pi * k / height) ** 2
    horizontal = 4.0 * torch.sin(math.pi * ell / width) ** 2
    return vertical[:, None] + horizontal[None, :]


class SmoothedTV:
    r"""The regulariser :math:`R(x) = \lambda\, \mathrm{TV}_\epsilon(x)` of TV-MD, with the
    regulariser interface of :class:`benchmark.algorithms.composite.CompositeObjective`."""

    def __init__(self, weight, smoothing=1e-2):
        self.weight, self.smoothing = weight, smoothing

    def value_and_grad(self, x, create_graph=False):
        """``(lam TV_eps(x) per image, lam grad TV_eps(x))``; closed form, no graph needed."""
        value, grad = tv_smooth_value_and_grad(x, self.smoothing)
        return self.weight * value, self.weight * grad
