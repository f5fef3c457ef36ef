r"""B-RED and B-PnP: Bregman plug-and-play for Poisson deblurring (Hurault, Kamilov, Leclaire,
Papadakis, "Convergent Bregman Plug-and-Play Image Restoration for Poisson Inverse Problems",
NeurIPS 2023, Sec. 4), with the Bregman score denoiser of
:mod:`benchmark.networks.bregman_denoiser`.

Both minimise :math:`F = \lambda f + \text{regulariser}` with :math:`f(x) = \mathrm{KL}(y, Ax)` and
the Burg entropy as mirror map, starting from :math:`x_0 = \mathrm{clip}(A^\top y, 10^{-3}, 1)`.

* **B-RED** (Bregman RED, a mirror gradient step on :math:`F = \lambda f + g_\gamma`):

  .. math::

      x^+ = \min\Big(
      \frac{x}{1 + \tau\, x \odot (\lambda \nabla f(x) + \nabla g_\gamma(x))},\ 1 \Big).

* **B-PnP** (Bregman proximal gradient, the denoiser as Bregman proximal operator of
  :math:`\phi_\gamma`, :math:`F = \lambda f + \phi_\gamma`):

  .. math::

      z = \frac{x}{1 + \lambda\, x \odot \nabla f(x)}, \qquad
      x^+ = B_\gamma(z) = z - a\, z^2 \odot \nabla g_\gamma(z), \qquad
      F(x^+) = \lambda f(x^+) + a\, g_\gamma(z) - D_h(x^+, z),

  with the mirror step :math:`z` clipped at 1 and :math:`x^+` clipped to :math:`[10^{-3}, 1]` (the
  denoiser is not guaranteed to keep images positive; a clipped pixel leaves the formula for
  :math:`F` approximate).

Both run an initialisation phase (the paper's: ``init_iterations`` iterations with a stronger data
weight ``lam_init``, a larger denoiser noise level :math:`1/\gamma = 1/50` and step ``tau_init``),
then the main phase (:math:`1/\gamma = 1/500`). Without backtracking the step is fixed (a pixel
whose mirror step would leave the positive orthant goes to 1, as in the authors' code). B-RED may
backtrack (main phase only): the step follows the shared Bregman backtracking of
:mod:`benchmark.maths.mirror` (sufficient decrease :math:`F(x) - F(x^+) \ge (\eta/\tau) D_h(x^+,
x)`), so :math:`F` decreases monotonically. B-PnP may not: :math:`B_\gamma` is the Bregman
proximal operator of :math:`\phi_\gamma` at step 1, so its iteration is a Bregman proximal
gradient step on :math:`\lambda f + \phi_\gamma` only at the data step :math:`\lambda` (the
paper's convergence asks :math:`\lambda L_f < 1` instead); a step :math:`\tau \lambda` makes it
one on :math:`\tau \lambda f + \phi_\gamma`, whose decrease is not the one tested, and the
search stalled at its step floor (measured, ``results/protocol.md``). The authors' code has no
such step either: its B-PnP mirror step uses :math:`\lambda` alone.

The run stops in the main phase when :math:`|F(x_{k+1}) - F(x_k)| / |F(x_k)| <` ``tol`` for every
image, or after ``max_iter`` iterations in all (initialisation included).
"""

from dataclasses import dataclass, replace

import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.mirror_descent import (
    NEVER,
    RELATIVE_VALUE_CHANGE,
    Backtracking,
    FixedStep,
    MirrorDescent,
)
from benchmark.maths.mirror import MirrorState, initial_point
from benchmark.maths.poisson import EPS, bregman_divergence
from benchmark.networks.bregman_denoiser import ScorePotential, bregman_gradient_step
from benchmark.networks.symmetry import check_symmetry_name, symmetrized
from benchmark.parameters import check_choice

LOWER = 1e-3
NO_BACKTRACKING = (
    "B-PnP has no backtracking: its denoiser is the Bregman proximal operator of phi_gamma at "
    "step 1, so its iteration minimises lam f + phi_gamma only at the data step lam (Hurault et "
    "al. 2023 ask lam L_f < 1 instead); a step tau * lam minimises tau lam f + phi_gamma, and the "
    "decrease of lam f + phi_gamma that backtracking tests stalls. Use backtracking=False, or "
    "b_red with backtracking=True.")


@dataclass(frozen=True)
class BregmanPnPParameters:
    """Parameters of B-RED / B-PnP; ``*_init`` hold during the first ``init_iterations``."""

    lam: float
    lam_init: float
    tau: float = 1.0
    tau_init: float = 1.0
    noise_level: float = 1.0 / 500
    noise_level_init: float = 1.0 / 50
    init_iterations: int = 100
    denoiser_weight: float = 1.0

    def __post_init__(self):
        for name in ("lam", "lam_init", "tau", "tau_init", "noise_level", "noise_level_init",
                     "denoiser_weight"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}.")
        if self.init_iterations < 0:
            raise ValueError(f"init_iterations must be >= 0, got {self.init_iterations}.")

    def phase(self, iteration):
        """``(lam, tau, noise_level, initialising)`` in force at ``iteration`` (0-based)."""
        if iteration < self.init_iterations:
            return self.lam_init, self.tau_init, self.noise_level_init, True
        return self.lam, self.tau, self.noise_level, False


class _BregmanPnPIterations:
    """Shared by B-RED and B-PnP: the initialisation phase, then the main phase, each a
    :class:`MirrorDescent` on the phase's objective (``objective(lam, noise_level)``), started by
    ``first_state`` (``None``: the driver evaluates :math:`F` at the start)."""

    def __init__(self, y, operator, denoiser, parameters, backtracking=False, tol=1e-7,
                 max_iter=1000, eta=0.1, shrink=0.9, eps=EPS, symmetry="none"):
        self.y, self.operator, self.denoiser, self.eps = y, operator, denoiser, eps
        self.symmetry = check_symmetry_name(symmetry)
        self.data = CompositeObjective(y, operator, eps=eps)
        self.parameters, self.backtracking = parameters, self.check_backtracking(backtracking)
        self.tol, self.max_iter, self.eta, self.shrink = tol, max_iter, eta, shrink
        self.iterations = 0
        self.stop_reason = None
        self.phase = self.start_phase(initial_point(y, operator, LOWER))

    @classmethod
    def check_backtracking(cls, backtracking):
        """``backtracking`` if the method takes that value, else a ValueError that says why."""
        return check_choice("backtracking", backtracking, (False, True))

    @property
    def x(self):
        return self.phase.x

    @property
    def state(self):
        """The :class:`benchmark.maths.mirror.MirrorState` of the current phase."""
        return self.phase.state

    def start_phase(self, x):
        """The driver of the phase in force at ``self.iterations``, started at ``x``."""
        lam, tau, noise_level, initialising = self.parameters.phase(self.iterations)
        objective = self.objective(lam, noise_level)
        if initialising:
            length = min(self.parameters.init_iterations, self.max_iter)
            step_rule, stopping_rule = FixedStep(), NEVER
        else:
            length = self.max_iter - self.iterations
            step_rule = (Backtracking(self.eta, self.shrink) if self.backtracking
                         else FixedStep())
            stopping_rule = RELATIVE_VALUE_CHANGE
        return MirrorDescent(objective, x, step_rule, stopping_rule, self.tol, length, tau,
                             state=self.first_state(x, lam, tau))

    def step(self):
        self.phase.step()
        self.iterations += 1
        if self.phase.stop_reason is None:
            return
        if self.iterations < self.max_iter and self.parameters.phase(self.iterations - 1)[3]:
            self.phase = self.start_phase(self.phase.x)
        elif self.phase.result().hit_cap:
            self.stop_reason = f"iteration cap max_iter={self.max_iter} hit"
        else:
            self.stop_reason = f"{self.phase.stop_reason} (main phase)"

    def first_state(self, x, lam, tau):
        return None

    def score(self, noise_level):
        r"""The potential :math:`g_\gamma` of the denoiser at ``noise_level``, averaged over the
        group ``symmetry`` (:mod:`benchmark.networks.symmetry`; ``"none"``: the denoiser's own)."""
        return symmetrized(ScorePotential(self.denoiser, noise_level), self.symmetry)


class BregmanRED(_BregmanPnPIterations):
    r"""B-RED: mirror descent on :math:`F = \lambda\,\mathrm{KL}(y, A\cdot) + g_\gamma`."""

    def objective(self, lam, noise_level):
        return CompositeObjective(self.y, self.operator, self.score(noise_level),
                                  data_weight=lam, eps=self.eps)


class BregmanPnP(_BregmanPnPIterations):
    r"""B-PnP: :math:`x^+ = B_\gamma(x / (1 + \lambda x \nabla f(x)))`,
    :math:`F = \lambda f + \phi_\gamma`, at a fixed step (no backtracking: module docstring)."""

    @classmethod
    def check_backtracking(cls, backtracking):
        if super().check_backtracking(backtracking):
            raise ValueError(NO_BACKTRACKING)
        return backtracking

    def objective(self, lam, noise_level):
        weight, score = self.parameters.denoiser_weight, self.score(noise_level)
        def fun(z, index):
            g_value, g_grad = score.value_and_grad(z)
            x = bregman_gradient_step(z, g_grad, weight).clamp(min=LOWER, max=1.0)
            data_value, data_grad = self.data.subset(index).data_fit(x)
            value = lam * data_value + weight * g_value - bregman_divergence(x, z)
            return value, lam * data_grad, x
        return fun

    def first_state(self, x, lam, tau):
        r"""The potential :math:`\phi_\gamma` is only known at outputs of the denoiser: the value
        is unknown (NaN) until the first step of the phase, which is therefore a fixed step."""
        _, data_grad = self.data.data_fit(x)
        value = torch.full((x.shape[0],), float("nan"), dtype=torch.float64, device=x.device)
        return MirrorState(x=x, value=value, grad=lam * data_grad,
                           tau=torch.full_like(value, tau, dtype=x.dtype))


def with_overrides(parameters, **overrides):
    """``parameters`` with the fields of ``overrides`` that are not None replaced."""
    return replace(parameters, **{k: v for k, v in overrides.items() if v is not None})
