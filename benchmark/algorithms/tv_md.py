r"""TV-MD: smoothed-TV regularised Poisson deblurring by Burg-entropy mirror descent.

The model-based baseline of Daniele et al. (arXiv 2507.11461):

.. math::

    \min_{x > 0}\ F(x) = \mathrm{KL}(y, Ax) + \lambda\, \mathrm{TV}_\epsilon(x),

solved with the shared mirror step of :mod:`benchmark.maths.mirror` (Burg entropy, upper clip at
1, Bregman backtracking with :math:`\tau_0 = 1`, factor 0.5, :math:`\eta = 0.8`). It stops when
every image satisfies :math:`\|x_{k+1} - x_k\| / \|x_{k+1}\| < \text{tol}`, when every image has
stalled at the step floor, or after ``max_iter`` iterations.
"""

from benchmark.maths.mirror import (
    backtracking_step,
    init_state,
    initial_point,
    relative_change,
)
from benchmark.maths.poisson import EPS, kl_divergence, kl_grad_wrt_Ax
from benchmark.maths.tv import tv_smooth_value_and_grad


class TVObjective:
    r""":math:`F(x) = \mathrm{KL}(y, Ax) + \lambda \mathrm{TV}_\epsilon(x)` and its gradient, per image."""

    def __init__(self, y, operator, lam, smoothing=1e-2, eps=EPS):
        self.y, self.operator, self.lam, self.smoothing, self.eps = y, operator, lam, smoothing, eps

    def __call__(self, x, index):
        y = self.y if index is None else self.y[index]
        Ax = self.operator.A(x)
        tv_value, tv_grad = tv_smooth_value_and_grad(x, self.smoothing)
        value = kl_divergence(y, Ax, self.eps) + self.lam * tv_value
        grad = self.operator.A_adjoint(kl_grad_wrt_Ax(y, Ax, self.eps)) + self.lam * tv_grad
        return value, grad


class TVMirrorDescent:
    """Iterations of TV-MD on a batch, one backtracking mirror step per call to ``step``."""

    def __init__(self, y, operator, lam, smoothing=1e-2, tol=1e-5, max_iter=1000, tau0=1.0):
        self.objective = TVObjective(y, operator, lam, smoothing)
        self.state = init_state(self.objective, initial_point(y, operator), tau0)
        self.tol, self.max_iter = tol, max_iter
        self.iterations = 0
        self.stop_reason = None

    @property
    def x(self):
        return self.state.x

    def step(self):
        new_state, info = backtracking_step(self.objective, self.state)
        change = relative_change(new_state.x, self.state.x)
        self.state = new_state
        self.iterations += 1
        if bool((change < self.tol).all()):
            self.stop_reason = f"relative change < {self.tol} after {self.iterations} iterations"
        elif bool(info.stalled.all()):
            self.stop_reason = f"step size at its floor for every image after {self.iterations} iterations"
        elif self.iterations >= self.max_iter:
            self.stop_reason = f"iteration cap max_iter={self.max_iter} hit"
