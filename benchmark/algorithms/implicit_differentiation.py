r"""The gradient of a training loss through DEQ-MD's equilibrium, by implicit differentiation.

DEQ-MD's reconstruction :math:`x^*(\theta)` is a stationary point of
:math:`\Psi_\theta(x) = \mathrm{KL}(y, Ax) + R_\theta(x)` on the box :math:`[0, 1]`
(:mod:`benchmark.algorithms.equilibrium`). On its free set :math:`\mathcal{F}`
(:func:`benchmark.algorithms.equilibrium.free_set`; the active pixels do not move under a small
change of :math:`\theta`), :math:`\nabla_{\mathcal{F}} \Psi_\theta(x^*(\theta)) = 0`, and the
implicit function theorem gives, for a loss :math:`\ell(x^*)`,

.. math::

    H v = \nabla_{\mathcal{F}} \ell(x^*), \quad H = [\nabla^2_{xx} \Psi_\theta(x^*)]_{\mathcal{F}
    \mathcal{F}}, \qquad
    \nabla_\theta\, \ell(x^*(\theta)) = -\big(\partial_\theta \nabla_x R_\theta(x^*)\big)^\top v

(the KL term does not depend on :math:`\theta`). :math:`v` is found by conjugate gradients with
Hessian-vector products by double backpropagation, preconditioned by :math:`\mathrm{diag}(x^*)`,
the inverse scale of the Poisson term's curvature :math:`A^\top \mathrm{diag}(y/(Ax)^2) A`.
CG is stopped after ``iterations`` steps, at a relative residual ``tol``, or where it meets a
direction of non-positive curvature (:math:`\Psi` is not convex). :math:`H` has eigenvalues near
zero at the equilibria of the trained models (directions that neither the data nor the
regulariser constrain), so :func:`implicit_direction` damps it, :math:`H + \mu\,
\mathrm{diag}(1/x^*)`: :math:`\mu = 0` is the exact gradient, a large :math:`\mu` that of the
metric :math:`\mathrm{diag}(x^*)`.

Jacobian-free backpropagation (Fung et al., AAAI 2022;
:func:`benchmark.algorithms.deqmd.jfb_output`), the paper's training, takes one mirror step
:math:`T_\tau(x^*)` with the graph instead: its weight gradient is the one above with
:math:`H^{-1}` replaced by :math:`\tau\,\mathrm{diag}(x^{*2})` on the free set, the inverse of
the Burg metric. It ignores how the blur couples pixels, which the exact gradient accounts for
(Bai, Kolter, Koltun, "Deep equilibrium models", NeurIPS 2019; Bolte, Pauwels, Vaiter,
"One-step differentiation of iterative algorithms", NeurIPS 2023, on when the one-step gradient
is close to the exact one).
"""

from dataclasses import dataclass

import torch

from benchmark.algorithms.equilibrium import dot, free_set
from benchmark.maths.mirror import per_image

# mu of implicit_direction: the damping of the Hessian in the metric diag(1/x*). 1 trained best of
# 0.1, 1 and 10 (results/protocol.md, "The exact gradient at the equilibrium"); 0.1 is nearer the
# exact gradient, which the Hessian's near-zero eigenvalues make noisy from one batch to the next.
DEFAULT_DAMPING = 1.0


@dataclass
class ConjugateGradientResult:
    """``v`` per image, with each image's CG steps and final relative residual
    :math:`\\|b - Hv\\| / \\|b\\|`."""

    v: torch.Tensor
    iterations: torch.Tensor
    residual: torch.Tensor


def hessian_vector_product(objective, x):
    r"""``(grad, product)``: :math:`\nabla\Psi(x)` (detached) and the function
    :math:`u \mapsto \nabla^2\Psi(x)\, u`, by double backpropagation through one evaluation of
    ``objective`` (a :class:`benchmark.algorithms.composite.CompositeObjective`) at ``x``. The graph
    is built once and kept for every product; the weights' gradients are not tracked unless
    they require it."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        _, grad = objective(x, None, create_graph=True)

    def product(u):
        (hu,) = torch.autograd.grad(grad, x, u, retain_graph=True)
        return hu
    return grad.detach(), product


def conjugate_gradient(product, rhs, preconditioner, iterations, tol=1e-6):
    r"""Preconditioned conjugate gradients for :math:`H v = b`, per image of a batch.

    ``product`` computes :math:`Hu`, ``rhs`` is :math:`b`, ``preconditioner`` the diagonal of
    :math:`M^{-1}` (zero outside the free set, so the iterates stay in it). Each image stops
    at ``tol`` (relative residual :math:`\|b - Hv\| / \|b\|`), after ``iterations`` steps, or
    before a direction :math:`p` with :math:`p^\top H p \le 0`. Inner products in float64.
    """
    v = torch.zeros_like(rhs)
    residual = rhs.clone()
    z = preconditioner * residual
    p = z.clone()
    rz = dot(residual, z)
    rhs_norm = dot(rhs, rhs).sqrt().clamp(min=1e-300)
    relative = torch.ones_like(rhs_norm)
    steps = torch.zeros(rhs.shape[0], dtype=torch.long, device=rhs.device)
    active = relative > tol
    for _ in range(iterations):
        if not active.any():
            break
        hp = product(p)
        curvature = dot(p, hp)
        active = active & (curvature > 0)
        step = per_image(torch.where(active, rz / curvature.clamp(min=1e-300),
                                     torch.zeros_like(rz))).to(v.dtype)
        v = v + step * p
        residual = residual - step * hp
        relative = torch.where(active, dot(residual, residual).sqrt() / rhs_norm, relative)
        steps = steps + active.long()
        z = preconditioner * residual
        rz_new = dot(residual, z)
        beta = torch.where(active, rz_new / rz.clamp(min=1e-300), torch.zeros_like(rz))
        p = z + per_image(beta).to(v.dtype) * p
        rz = torch.where(active, rz_new, rz)
        active = active & (relative > tol)
    return ConjugateGradientResult(v, steps, relative)


def implicit_direction(objective, x_star, loss_grad, iterations, damping=DEFAULT_DAMPING,
                       tol=1e-6):
    r""":math:`v` with :math:`[\nabla^2\Psi(x^*) + \mu\,\mathrm{diag}(1/x^*)]_{\mathcal{F}
    \mathcal{F}}\, v = [\nabla \ell(x^*)]_{\mathcal{F}}` (zero off the free set), :math:`\mu`
    = ``damping``, by :func:`conjugate_gradient` preconditioned by :math:`\mathrm{diag}(x^*)` on
    :math:`\mathcal{F}`."""
    grad, product = hessian_vector_product(objective, x_star)
    free = free_set(x_star, grad).to(x_star.dtype)
    inverse_metric = free * x_star

    def damped(u):
        return free * product(u) + damping * free * u / x_star.clamp(min=1e-12)
    return conjugate_gradient(damped, free * loss_grad, inverse_metric, iterations, tol)


def implicit_surrogate(regularizer, x_star, v):
    r"""A scalar whose gradient in the weights is :math:`-(\partial_\theta \nabla_x
    R_\theta(x^*))^\top v`, the implicit gradient of the module docstring for the direction ``v``
    of :func:`implicit_direction` (``x_star`` and ``v`` detached; one forward and one double
    backward pass through the network)."""
    _, reg_grad = regularizer.value_and_grad(x_star.detach(), create_graph=True)
    return -(reg_grad * v.detach()).flatten(1).sum(dim=1, dtype=torch.float64).sum()
