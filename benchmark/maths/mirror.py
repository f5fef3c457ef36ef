r"""Mirror descent with the Burg entropy and Bregman backtracking, per image of a batch.

This is the one implementation of the mirror step that every MD-type solver of the benchmark uses
(TV-MD, DEQ-MD, B-RED). With the Burg entropy :math:`h(x) = -\sum_i \log x_i`,
:math:`\nabla h(x) = -1/x`, and the mirror step
:math:`\nabla h(x^+) = \nabla h(x) - \tau \nabla F(x)` has the closed form

.. math::

    x^+ = \min\Big( \frac{x}{1 + \tau\, x \odot \nabla F(x)},\ u \Big),

with an optional upper clip :math:`u` (1 for images in :math:`[0, 1]`). A step is accepted when it
decreases :math:`F` enough relative to the Bregman distance it travelled (Daniele et al.,
arXiv 2507.11461, Alg. 1; Bauschke, Bolte, Teboulle, Math. Oper. Res. 2017):

.. math::

    F(x) - F(x^+) \ \ge\ \frac{\eta}{\tau} D_h(x^+, x), \qquad \eta = 0.8,

otherwise :math:`\tau \leftarrow 0.5\,\tau` and the step is retried. The step size is kept per
image and carried from one iteration to the next. A step whose denominator is not positive (the
update would leave the positive orthant) or whose value is not finite is rejected like a failed
test. An image whose step size falls below ``tau_min`` does not move (its value cannot increase)
and is reported as stalled.
"""

from dataclasses import dataclass

import torch

from benchmark.maths.poisson import bregman_divergence


@dataclass
class MirrorState:
    """Current iterate with its objective value, gradient and step size, one per image."""

    x: torch.Tensor
    value: torch.Tensor
    grad: torch.Tensor
    tau: torch.Tensor

    def subset(self, index):
        """The state of the images ``index`` of the batch (copies)."""
        return MirrorState(x=self.x[index], value=self.value[index], grad=self.grad[index],
                           tau=self.tau[index])

    def replace(self, index, sub):
        """A new state equal to this one, with the images ``index`` taken from ``sub``."""
        fields = {}
        for name in ("x", "value", "grad", "tau"):
            full = getattr(self, name).clone()
            full[index] = getattr(sub, name)
            fields[name] = full
        return MirrorState(**fields)


@dataclass
class StepInfo:
    """What one backtracking step did: evaluations of F, and images stalled at ``tau_min``."""

    evaluations: int
    stalled: torch.Tensor


def per_image(t):
    """Reshape a (B,) tensor to (B, 1, 1, 1) so that it broadcasts against images."""
    return t.view(-1, 1, 1, 1)


def burg_mirror_step(x, grad, tau, upper=1.0):
    r""":math:`x^+ = \min(x / (1 + \tau x \nabla F(x)), u)` and the denominator
    :math:`1 + \tau x \nabla F(x)`.

    ``tau`` has one entry per image. ``upper=None`` disables the clip.
    """
    denominator = 1.0 + per_image(tau) * x * grad
    x_new = x / denominator
    if upper is not None:
        x_new = x_new.clamp(max=upper)
    return x_new, denominator


def init_state(fun, x0, tau0=1.0):
    """State at ``x0``: ``fun(x, index)`` returns ``(F(x) per image, grad F(x))``."""
    value, grad = fun(x0, None)
    tau = torch.full((x0.shape[0],), float(tau0), dtype=x0.dtype, device=x0.device)
    return MirrorState(x=x0, value=value, grad=grad, tau=tau)


def backtracking_step(fun, state, upper=1.0, eta=0.8, shrink=0.5, tau_min=1e-8):
    r"""One mirror step with Bregman backtracking, independently for each image of the batch.

    :param fun: ``fun(x, index) -> (value, grad)``: :math:`F` and :math:`\nabla F` at ``x``, which
        holds the images ``index`` of the batch (``index=None``: the whole batch, in order). The
        value and gradient at the accepted point are kept in the returned state, so an accepted
        step costs one evaluation of ``fun``. For a proximal method (B-PnP) ``fun(z, index)``
        returns ``(value, grad, point)``: the new point is a map of the mirror step ``z`` (the
        denoiser), ``value`` is :math:`F` there and ``grad`` the gradient of the smooth part.
    :param MirrorState state: current point; it is not modified.
    :return: ``(new_state, StepInfo)``.

    When every image accepts its first trial step (the usual case once the step sizes have
    settled) the whole batch is handled without any indexing or copy.
    """
    x, grad, value = state.x, state.grad, state.value
    batch = x.shape[0]
    tau = state.tau.clone()
    stalled = torch.zeros_like(tau, dtype=torch.bool)
    pending = torch.arange(batch, device=x.device)
    new = None
    evaluations = 0
    while pending.numel() > 0:
        whole = pending.numel() == batch
        index = None if whole else pending
        xs, gs = (x, grad) if whole else (x[pending], grad[pending])
        candidate, denominator = burg_mirror_step(xs, gs, tau[pending], upper)
        admissible = (denominator > 0).flatten(1).all(dim=1)
        accepted = torch.zeros_like(admissible)
        if admissible.any():
            every = bool(admissible.all())
            idx = pending if every else pending[admissible]
            cand = candidate if every else candidate[admissible]
            value_c, grad_c, cand = evaluate(fun, cand, index if every else idx)
            evaluations += 1
            bound = eta / tau[idx] * bregman_divergence(cand, xs if every else xs[admissible])
            ok = torch.isfinite(value_c) & (value[idx] - value_c >= bound)
            if whole and every and bool(ok.all()):
                return (MirrorState(x=cand, value=value_c, grad=grad_c, tau=tau),
                        StepInfo(evaluations=evaluations, stalled=stalled))
            if new is None:
                new = MirrorState(x=x.clone(), value=value.clone(), grad=grad.clone(), tau=tau)
            new.x[idx[ok]] = cand[ok]
            new.value[idx[ok]] = value_c[ok]
            new.grad[idx[ok]] = grad_c[ok]
            accepted[admissible] = ok
        rejected = pending[~accepted]
        tau[rejected] = tau[rejected] * shrink
        floor = rejected[tau[rejected] < tau_min]
        tau[floor] = tau_min
        stalled[floor] = True
        pending = rejected[tau[rejected] > tau_min]
    if new is None:
        new = MirrorState(x=x, value=value, grad=grad, tau=tau)
    new.tau = tau
    return new, StepInfo(evaluations=evaluations, stalled=stalled)


def evaluate(fun, z, index):
    """``(value, grad, point)`` of ``fun`` at the mirror step ``z`` (``point`` is ``z`` itself
    unless ``fun`` returns the point of a proximal method)."""
    out = fun(z, index)
    return out if len(out) == 3 else (*out, z)


def mirror_map(x, grad, tau, upper=1.0):
    r"""The mirror step :math:`T_\tau(x)` of :func:`burg_mirror_step`, defined everywhere.

    A pixel whose denominator :math:`1 + \tau x \nabla F(x)` is not positive (the step would leave
    the positive orthant; :math:`x^+ \to +\infty` as the denominator tends to :math:`0^+`) is set
    to the upper bound, as in the code of Hurault et al. (NeurIPS 2023).
    """
    mapped, denominator = burg_mirror_step(x, grad, tau, upper)
    return torch.where(denominator > 0, mapped, torch.full_like(mapped, upper))


def fixed_step(fun, state, upper=1.0):
    """One mirror step (:func:`mirror_map`) with the step size of ``state``, no backtracking.
    Returns the new state."""
    candidate = mirror_map(state.x, state.grad, state.tau, upper)
    value, grad, point = evaluate(fun, candidate, None)
    return MirrorState(x=point, value=value, grad=grad, tau=state.tau)


def relative_change(x_new, x_old):
    r"""Per-image :math:`\|x_{k+1} - x_k\| / \|x_{k+1}\|`, the stopping quantity of DEQ-MD."""
    diff = (x_new - x_old).flatten(1).norm(dim=1)
    return diff / x_new.flatten(1).norm(dim=1).clamp(min=torch.finfo(x_new.dtype).tiny)


def initial_point(y, operator, lower=1e-3, upper=1.0):
    r""":math:`x_0 = \mathrm{clip}(A^\top y, \text{lower}, \text{upper})`.

    The Burg mirror step is multiplicative, so :math:`x_0` must be positive: pixels where
    :math:`A^\top y = 0` start at ``lower``.
    """
    return operator.A_adjoint(y).clamp(min=lower, max=upper)
