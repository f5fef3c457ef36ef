r"""Richardson-Lucy (EM) deconvolution with a discrepancy-principle stopping rule.

Iteration (Richardson 1972; Lucy 1974; the EM algorithm of Shepp and Vardi 1982 for Poisson data):

.. math::

    x_{k+1} = \frac{x_k}{A^\top 1} \odot A^\top\Big(\frac{y}{A x_k + \varepsilon}\Big).

It keeps :math:`x_k > 0` and, after the first iteration, the flux
:math:`\sum_i (A^\top 1)_i (x_k)_i = \sum_i y_i`. The iteration is semi-convergent: it first
improves, then fits the noise. It stops without looking at the ground truth, at the first
:math:`k` with (Bertero, Boccacci, Talenti, Zanella, Zanni, "A discrepancy principle for Poisson
data", Inverse Problems 26, 2010)

.. math::

    D(x_k) = \frac{2}{N} \mathrm{KL}(\alpha y, \alpha A x_k)
           = \frac{2 \alpha}{N} \mathrm{KL}(y, A x_k) \ \le\ b,

where :math:`N` is the number of pixels and :math:`b = 1` the expected value of :math:`D` at the
true image for large counts; or after ``max_iter`` iterations. Each image of the batch stops on its
own: once it meets the rule it is frozen.
"""

import torch

from benchmark.algorithms.iterations import IterativeSolver
from benchmark.maths.physics import check_alpha, check_observation
from benchmark.maths.poisson import EPS, kl_divergence


def discrepancy(y, Ax, alpha, eps=EPS):
    r"""Per-image :math:`D = 2 \alpha \mathrm{KL}(y, Ax) / N` (the normalised Poisson deviance)."""
    pixels = y[0].numel()
    return 2.0 * alpha * kl_divergence(y, Ax, eps) / pixels


class RichardsonLucy(IterativeSolver):
    r"""Richardson-Lucy iterations on a batch, started from the constant image of equal flux; an
    image is frozen once :math:`D \le` ``discrepancy_target``."""

    criterion_name = "discrepancy D"
    met_when_equal = True

    def __init__(self, y, operator, alpha, max_iter=500, discrepancy_target=1.0, eps=EPS):
        y, alpha = check_observation(y), check_alpha(alpha)
        super().__init__(y.shape[0], y.device, discrepancy_target, max_iter)
        self.y, self.operator, self.alpha, self.eps = y, operator, alpha, eps
        self.normaliser = operator.A_adjoint(torch.ones_like(y))
        flux = y.flatten(1).mean(dim=1).clamp(min=eps)
        self.x = flux.view(-1, 1, 1, 1) * torch.ones_like(y)
        self.Ax = operator.A(self.x)

    def _advance(self, index):
        r""":math:`x \leftarrow x \odot A^\top(y / (Ax + \varepsilon)) / A^\top 1` for the images
        ``index``; returns their discrepancy."""
        y, Ax = self.y[index], self.Ax[index]
        ratio = self.operator.A_adjoint(y / (Ax + self.eps)) / self.normaliser[index]
        x = self.x[index] * ratio
        self.x[index] = x
        self.Ax[index] = self.operator.A(x)
        return discrepancy(y, self.Ax[index], self.alpha, self.eps)
