r"""Poisson data fidelity (Kullback-Leibler divergence) and the Burg-entropy Bregman divergence.

All functions work on batches of shape (B, C, H, W) and return one value per image, on any device.
We write our own instead of deepinv's ``PoissonLikelihood``: in deepinv 0.5.0 its gradient is
multiplied by ``gain**2``, its prox can return negative values, and its batched cost mixes images.

Notation (Daniele, Villa, Vaiter, Calatroni, arXiv 2507.11461, Sec. 2): :math:`y \ge 0` are the
observations divided by :math:`\alpha`, :math:`z = Ax` the blurred image, :math:`\varepsilon > 0`
a small constant that keeps the logarithm finite where :math:`Ax = 0`. Per-image sums are
accumulated in float64, so that the sufficient-decrease tests of backtracking compare differences
of values that are not drowned in rounding error.
"""

import torch

EPS = 1e-6
SUM_DIMS = (1, 2, 3)


def kl_divergence(y, Ax, eps=EPS):
    r"""Per-image KL divergence between the observation and the blurred image.

    .. math::

        \mathrm{KL}(y, Ax) = \sum_{y_i > 0} \Big( y_i \log\frac{y_i}{(Ax)_i + \varepsilon}
        + (Ax)_i - y_i \Big) + \sum_{y_i = 0} (Ax)_i

    ``xlogy`` makes the :math:`y_i = 0` terms exactly zero, values and gradients alike.
    """
    log_term = torch.xlogy(y, y) - torch.xlogy(y, Ax + eps)
    return (log_term + Ax - y).sum(dim=SUM_DIMS, dtype=torch.float64)


def kl_grad_wrt_Ax(y, Ax, eps=EPS):
    r"""Gradient of :math:`z \mapsto \mathrm{KL}(y, z)` at :math:`z = Ax`:
    :math:`1 - y / (Ax + \varepsilon)`."""
    return 1.0 - y / (Ax + eps)


def kl_grad(y, x, operator, eps=EPS):
    r"""Gradient of :math:`x \mapsto \mathrm{KL}(y, Ax)`:

    .. math::

        \nabla_x \mathrm{KL}(y, Ax) = A^\top \Big( 1 - \frac{y}{Ax + \varepsilon} \Big)
    """
    return operator.A_adjoint(kl_grad_wrt_Ax(y, operator.A(x), eps))


def kl_value_and_grad(y, x, operator, eps=EPS):
    """``(KL(y, Ax) per image, its gradient in x)`` with a single application of A and of A^T."""
    Ax = operator.A(x)
    return kl_divergence(y, Ax, eps), operator.A_adjoint(kl_grad_wrt_Ax(y, Ax, eps))


def kl_prox(v, y, gamma, eps=EPS):
    r"""Closed-form proximal operator of :math:`z \mapsto \gamma\, \mathrm{KL}(y, z)`, elementwise.

    The minimiser of :math:`\gamma (z - y \log(z + \varepsilon)) + \tfrac12 (z - v)^2` solves
    :math:`\gamma (1 - y / (z + \varepsilon)) + z - v = 0`; with :math:`w = z + \varepsilon`
    it is the positive root of :math:`w^2 - (v + \varepsilon - \gamma) w - \gamma y = 0`:

    .. math::

        z = \tfrac12 \Big( v + \varepsilon - \gamma
            + \sqrt{(v + \varepsilon - \gamma)^2 + 4 \gamma y} \Big) - \varepsilon .

    ``gamma`` is a positive number or a tensor that broadcasts against ``v``.
    """
    shifted = v + eps - gamma
    return 0.5 * (shifted + torch.sqrt(shifted**2 + 4.0 * gamma * y)) - eps


def burg_entropy(x):
    r"""Burg entropy :math:`h(x) = -\sum_i \log x_i`, the mirror map of DEQ-MD (per image)."""
    return -torch.log(x).sum(dim=SUM_DIMS)


def bregman_divergence(x, u):
    r"""Bregman divergence of the Burg entropy, per image:

    .. math::

        D_h(x, u) = h(x) - h(u) - \langle \nabla h(u), x - u \rangle
                  = \sum_i \Big( \frac{x_i}{u_i} - \log\frac{x_i}{u_i} - 1 \Big) \ \ge 0,

    with equality if and only if :math:`x = u`. Both arguments must be positive.
    """
    ratio = x / u
    return (ratio - torch.log(ratio) - 1.0).sum(dim=SUM_DIMS, dtype=torch.float64)
