r"""DEQ-MD: the deep-equilibrium mirror-descent reconstruction of Daniele, Villa, Vaiter, Calatroni
(arXiv 2507.11461).

The reconstruction is the fixed point :math:`x^* = T_\theta(x^*)` of one Burg-entropy mirror step on

.. math::

    \Psi(x) = \mathrm{KL}(y, Ax) + R_\theta(x),
    \qquad
    T_\theta(x) = \min\Big( \frac{x}{1 + \tau\, x \odot \nabla \Psi(x)},\ 1 \Big),

with the Bregman backtracking of :mod:`benchmark.mirror_descent` (:math:`\tau_0 = 1`, factor 0.5,
:math:`\eta = 0.8`, the step carried from one iteration to the next, per image). Iterations start at
:math:`A^\top y` clipped to :math:`[10^{-3}, 1]`. An image stops (is frozen, as in the authors'
code) once :math:`\|x_{k+1} - x_k\| / \|x_{k+1}\| < 2.5 \cdot 10^{-5}`; the run stops when every
image has, or at an iteration cap that is reported when hit.

Training uses Jacobian-free backpropagation (Fung et al., AAAI 2022): the fixed point is found
without a graph, then one more step :math:`T_\theta(x^*)` is taken with the graph, and the loss
:math:`\|T_\theta(x^*) - x\|^2` is backpropagated through that single step only.
"""

from dataclasses import dataclass

import torch

from benchmark.mirror_descent import (
    MirrorState,
    backtracking_step,
    burg_mirror_step,
    init_state,
    initial_point,
    relative_change,
)
from benchmark.poisson import EPS, kl_divergence, kl_grad_wrt_Ax

TOL = 2.5e-5


class PoissonPotential:
    r""":math:`\Psi(x) = \mathrm{KL}(y, Ax) + R_\theta(x)` and its gradient, per image.

    ``regularizer.value_and_grad(x, create_graph)`` returns :math:`R_\theta` per image and
    :math:`\nabla R_\theta`. With ``create_graph=False`` no graph is kept towards the weights: an
    evaluation costs one forward and one backward pass of the network.
    """

    def __init__(self, y, operator, regularizer, eps=EPS):
        self.y, self.operator, self.regularizer, self.eps = y, operator, regularizer, eps

    def __call__(self, x, index, create_graph=False):
        y = self.y if index is None else self.y[index]
        Ax = self.operator.A(x)
        reg_value, reg_grad = self.regularizer.value_and_grad(x, create_graph=create_graph)
        value = kl_divergence(y, Ax, self.eps) + reg_value.double()
        grad = self.operator.A_adjoint(kl_grad_wrt_Ax(y, Ax, self.eps)) + reg_grad
        if not create_graph:
            value, grad = value.detach(), grad.detach()
        return value, grad


@dataclass
class FixedPointResult:
    """The fixed point, the step sizes reached, iterations, and whether the cap was hit."""

    x: torch.Tensor
    tau: torch.Tensor
    iterations: int
    hit_cap: bool
    change: torch.Tensor


class DEQMirrorDescent:
    """Fixed-point iterations of DEQ-MD on a batch; one backtracking mirror step per ``step()``."""

    def __init__(self, potential, x0, tol=TOL, max_iter=300, tau0=1.0):
        self.potential, self.tol, self.max_iter = potential, tol, max_iter
        self.state = init_state(potential, x0, tau0)
        self.iterations = 0
        self.change = torch.full((x0.shape[0],), float("inf"), device=x0.device)
        self.active = torch.ones(x0.shape[0], dtype=torch.bool, device=x0.device)
        self.stop_reason = None

    @property
    def x(self):
        return self.state.x

    def step(self):
        """One backtracking mirror step for the images that have not met the stopping rule."""
        state = self.state
        if bool(self.active.all()):
            new_state, _ = backtracking_step(self.potential, state)
            self.change = relative_change(new_state.x, state.x)
            self.state = new_state
        else:
            idx = self.active.nonzero().flatten()

            def potential(x, index):
                return self.potential(x, idx if index is None else idx[index])

            sub = MirrorState(x=state.x[idx], value=state.value[idx], grad=state.grad[idx],
                              tau=state.tau[idx])
            new_sub, _ = backtracking_step(potential, sub)
            self.change[idx] = relative_change(new_sub.x, sub.x)
            for name in ("x", "value", "grad", "tau"):
                full = getattr(state, name).clone()
                full[idx] = getattr(new_sub, name)
                setattr(state, name, full)
        self.iterations += 1
        self.active &= ~(self.change < self.tol)
        if not bool(self.active.any()):
            self.stop_reason = (f"relative change < {self.tol} for every image after "
                                f"{self.iterations} iterations")
        elif self.iterations >= self.max_iter:
            self.stop_reason = (f"iteration cap max_iter={self.max_iter} hit (largest relative "
                                f"change {float(self.change.max()):.2e} > tol {self.tol})")

    def result(self):
        return FixedPointResult(x=self.state.x, tau=self.state.tau, iterations=self.iterations,
                                hit_cap=self.stop_reason is not None and "cap" in self.stop_reason,
                                change=self.change)


def solve(potential, x0, tol=TOL, max_iter=300):
    """Run :class:`DEQMirrorDescent` to its stopping rule; returns a :class:`FixedPointResult`."""
    solver = DEQMirrorDescent(potential, x0, tol, max_iter)
    while solver.stop_reason is None:
        solver.step()
    return solver.result()


def jfb_output(potential, fixed_point):
    r"""One mirror step :math:`T_\theta(x^*)` from the (detached) fixed point, with the graph to
    the weights: the output of the DEQ used by the training loss (Jacobian-free backprop)."""
    x_star = fixed_point.x.detach()
    _, grad = potential(x_star, None, create_graph=True)
    x_out, _ = burg_mirror_step(x_star, grad, fixed_point.tau, upper=1.0)
    return x_out.clamp(min=torch.finfo(x_out.dtype).tiny)


def reconstruct(y, operator, regularizer, tol=TOL, max_iter=300):
    """DEQ-MD reconstruction of the batch ``y`` (no graph): returns a :class:`FixedPointResult`."""
    potential = PoissonPotential(y, operator, regularizer)
    return solve(potential, initial_point(y, operator), tol, max_iter)
