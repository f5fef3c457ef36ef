r"""Mirror descent with the Burg entropy on :math:`F = \lambda\,\mathrm{KL}(y, A\cdot) + R`: the
one driver of TV-MD, DEQ-MD's paper iteration, B-RED and B-PnP.

Each iteration is one Burg-entropy mirror step (:mod:`benchmark.maths.mirror`)

.. math::

    x_{k+1} = \min\Big( \frac{x_k}{1 + \tau_k\, x_k \odot \nabla F(x_k)},\ 1 \Big),

with a pluggable **step rule** (:class:`Backtracking`: Bregman backtracking on :math:`\tau_k`,
carried per image; :class:`FixedStep`: :math:`\tau` fixed), a pluggable **stopping rule**
(:data:`RELATIVE_CHANGE`: :math:`\|x_{k+1} - x_k\| / \|x_{k+1}\|`; :data:`RELATIVE_VALUE_CHANGE`:
:math:`|F(x_{k+1}) - F(x_k)| / |F(x_k)|`; :data:`NEVER`: run to the cap) compared to ``tol`` per
image, and per-image freezing (:class:`benchmark.algorithms.iterations.IterativeSolver`): an
image that meets the rule, or whose step size reaches its floor (reported as stalled, keeping its
last stopping quantity), is no longer evaluated.

The objective is called as ``objective(x, index)`` for the images ``index`` of the batch
(:class:`benchmark.algorithms.composite.CompositeObjective`). A proximal method (B-PnP) passes an
objective that returns ``(value, grad, point)``: the new point is a map of the mirror step.
"""

import torch

from benchmark.algorithms.iterations import IterativeSolver
from benchmark.maths.mirror import backtracking_step, fixed_step, init_state, relative_change


class Backtracking:
    r"""Bregman backtracking (:func:`benchmark.maths.mirror.backtracking_step`): accept when
    :math:`F(x) - F(x^+) \ge (\eta/\tau) D_h(x^+, x)`, else :math:`\tau \leftarrow`
    ``shrink`` :math:`\tau`. Until the value at the current point is known (B-PnP's first step of
    a phase, where it is NaN) the step is fixed."""

    def __init__(self, eta=0.8, shrink=0.5, upper=1.0):
        self.eta, self.shrink, self.upper = eta, shrink, upper

    def __call__(self, fun, state):
        """``(new state, per-image mask of images stalled at the step floor)``."""
        if not bool(torch.isfinite(state.value).all()):
            return FixedStep(self.upper)(fun, state)
        new, info = backtracking_step(fun, state, upper=self.upper, eta=self.eta,
                                      shrink=self.shrink)
        return new, info.stalled


class FixedStep:
    """The mirror step with the state's step size, always accepted
    (:func:`benchmark.maths.mirror.fixed_step`)."""

    def __init__(self, upper=1.0):
        self.upper = upper

    def __call__(self, fun, state):
        stalled = torch.zeros(state.x.shape[0], dtype=torch.bool, device=state.x.device)
        return fixed_step(fun, state, upper=self.upper), stalled


class StoppingRule:
    """A per-image stopping quantity computed from the states before and after a step."""

    def __init__(self, name, quantity):
        self.name, self.quantity = name, quantity

    def __call__(self, old, new):
        return self.quantity(old, new)


RELATIVE_CHANGE = StoppingRule("relative change", lambda old, new: relative_change(new.x, old.x))
RELATIVE_VALUE_CHANGE = StoppingRule(
    "relative change of F",
    lambda old, new: (new.value - old.value).abs() / old.value.abs().clamp(min=1e-300))
NEVER = StoppingRule("(none: runs to the cap)",
                     lambda old, new: torch.full_like(new.value, float("inf")))


class MirrorDescent(IterativeSolver):
    """Mirror descent on a batch from ``x0``: ``step_rule(fun, state)``, ``stopping_rule(old,
    new)`` per image against ``tol``, freezing, cap. The first state evaluates :math:`F(x_0)`
    with step size ``tau0``, unless ``state`` (a :class:`benchmark.maths.mirror.MirrorState` at
    ``x0``) is given."""

    def __init__(self, objective, x0, step_rule, stopping_rule, tol, max_iter, tau0=1.0,
                 state=None):
        super().__init__(x0.shape[0], x0.device, tol, max_iter)
        self.objective, self.step_rule, self.stopping_rule = objective, step_rule, stopping_rule
        self.criterion_name = stopping_rule.name
        if state is None:
            all_images = torch.arange(x0.shape[0], device=x0.device)
            state = init_state(self.counted(objective, all_images), x0, tau0)
        self.state = state

    x = property(lambda self: self.state.x)
    tau = property(lambda self: self.state.tau)

    def _advance(self, index):
        whole = index.numel() == self.state.x.shape[0]
        state = self.state if whole else self.state.subset(index)
        new, stalled = self.step_rule(self.counted(self.objective, index), state)
        # an image stalled at the step floor did not move: its zero change is not convergence
        criterion = torch.where(stalled, self.criterion[index],
                                self.stopping_rule(state, new).to(self.criterion.dtype))
        self.state = new if whole else self.state.replace(index, new)
        self.stalled[index] |= stalled
        return criterion
