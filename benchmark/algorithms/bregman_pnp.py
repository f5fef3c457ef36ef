r"""B-RED and B-PnP: Bregman plug-and-play for Poisson deblurring (Hurault, Kamilov, Leclaire,
Papadakis, "Convergent Bregman Plug-and-Play Image Restoration for Poisson Inverse Problems",
NeurIPS 2023, Sec. 4), with the Bregman score denoiser of :mod:`benchmark.networks.bregman_denoiser`.

Both minimise :math:`F = \lambda f + \text{regulariser}` with :math:`f(x) = \mathrm{KL}(y, Ax)` and
the Burg entropy as mirror map, starting from :math:`x_0 = \mathrm{clip}(A^\top y, 10^{-3}, 1)`.

* **B-RED** (Bregman RED, a mirror gradient step on :math:`F = \lambda f + g_\gamma`):

  .. math::

      x^+ = \min\Big( \frac{x}{1 + \tau\, x \odot (\lambda \nabla f(x) + \nabla g_\gamma(x))},\ 1 \Big).

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
then the main phase (:math:`1/\gamma = 1/500`). Without backtracking the step is fixed (a pixel whose
mirror step would leave the positive orthant goes to 1, as in the authors' code); with it
(main phase only), the step follows the shared Bregman backtracking of
:mod:`benchmark.maths.mirror` (sufficient decrease :math:`F(x) - F(x^+) \ge (\eta/\tau) D_h(x^+,
x)`), so :math:`F` decreases monotonically. The run stops in the main phase when
:math:`|F(x_{k+1}) - F(x_k)| / |F(x_k)| <` ``tol`` for every image, or after ``max_iter``
iterations in all (initialisation included).
"""

from dataclasses import dataclass, replace

import torch

from benchmark.networks.bregman_denoiser import bregman_gradient_step
from benchmark.maths.mirror import (
    MirrorState,
    backtracking_step,
    fixed_step,
    init_state,
    initial_point,
)
from benchmark.maths.poisson import EPS, bregman_divergence, kl_divergence, kl_grad_wrt_Ax

LOWER = 1e-3


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
    """Shared loop of B-RED and B-PnP: phases, fixed or backtracking steps, stopping rule."""

    def __init__(self, y, operator, denoiser, parameters, backtracking=False, tol=1e-7,
                 max_iter=1000, eta=0.1, shrink=0.9, eps=EPS):
        self.y, self.operator, self.denoiser, self.eps = y, operator, denoiser, eps
        self.parameters, self.backtracking = parameters, backtracking
        self.tol, self.max_iter, self.eta, self.shrink = tol, max_iter, eta, shrink
        self.iterations = 0
        self.phase = None
        self.state = MirrorState(x=initial_point(y, operator, LOWER), value=None, grad=None,
                                 tau=None)
        self.stop_reason = None

    @property
    def x(self):
        return self.state.x

    def data_fit(self, x, index):
        """``(KL(y, Ax) per image, grad of KL)``."""
        y = self.y if index is None else self.y[index]
        Ax = self.operator.A(x)
        return kl_divergence(y, Ax, self.eps), self.operator.A_adjoint(kl_grad_wrt_Ax(y, Ax, self.eps))

    def step(self):
        lam, tau, noise_level, initialising = self.parameters.phase(self.iterations)
        objective = self.objective(lam, noise_level)
        if self.phase != (lam, tau, noise_level):
            self.phase = (lam, tau, noise_level)
            self.state = self.restart(objective, lam, tau)
        previous = self.state.value
        stalled = False
        if self.backtracking and not initialising and bool(torch.isfinite(previous).all()):
            self.state, info = backtracking_step(objective, self.state, upper=1.0, eta=self.eta,
                                                 shrink=self.shrink)
            stalled = bool(info.stalled.all())
        else:
            self.state = fixed_step(objective, self.state, upper=1.0)
        self.iterations += 1
        if stalled:
            self.stop_reason = (f"step size at its floor for every image after "
                                f"{self.iterations} iterations")
            return
        if not initialising and bool(torch.isfinite(previous).all()):
            change = (self.state.value - previous).abs() / previous.abs().clamp(min=1e-300)
            if bool((change < self.tol).all()):
                self.stop_reason = (f"relative change of F < {self.tol} after "
                                    f"{self.iterations} iterations")
                return
        if self.iterations >= self.max_iter:
            self.stop_reason = f"iteration cap max_iter={self.max_iter} hit"


class BregmanRED(_BregmanPnPIterations):
    r"""B-RED: mirror descent on :math:`F = \lambda\,\mathrm{KL}(y, A\cdot) + g_\gamma`."""

    def objective(self, lam, noise_level):
        def fun(x, index):
            data_value, data_grad = self.data_fit(x, index)
            reg_value, reg_grad = self.denoiser.value_and_grad(x, noise_level)
            return lam * data_value + reg_value, lam * data_grad + reg_grad
        return fun

    def restart(self, objective, lam, tau):
        return init_state(objective, self.state.x, tau)


class BregmanPnP(_BregmanPnPIterations):
    r"""B-PnP: :math:`x^+ = B_\gamma(x / (1 + \lambda x \nabla f(x)))`, :math:`F = \lambda f + \phi_\gamma`."""

    def objective(self, lam, noise_level):
        weight = self.parameters.denoiser_weight

        def fun(z, index):
            g_value, g_grad = self.denoiser.value_and_grad(z, noise_level)
            x = bregman_gradient_step(z, g_grad, weight).clamp(min=LOWER, max=1.0)
            data_value, data_grad = self.data_fit(x, index)
            value = lam * data_value + weight * g_value - bregman_divergence(x, z)
            return value, lam * data_grad, x
        return fun

    def restart(self, objective, lam, tau):
        """The potential :math:`\\phi_\\gamma` is only known at outputs of the denoiser: the value
        is unknown (NaN) until the first step of the phase, which is therefore a fixed step."""
        x = self.state.x
        _, data_grad = self.data_fit(x, None)
        value = torch.full((x.shape[0],), float("nan"), dtype=torch.float64, device=x.device)
        return MirrorState(x=x, value=value, grad=lam * data_grad,
                           tau=torch.full_like(value, tau, dtype=x.dtype))


def with_overrides(parameters, **overrides):
    """``parameters`` with the fields of ``overrides`` that are not None replaced."""
    return replace(parameters, **{k: v for k, v in overrides.items() if v is not None})
