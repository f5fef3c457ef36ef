r"""Solvers for DEQ-MD's equilibrium: the fixed point of the Burg mirror step on :math:`\Psi`.

DEQ-MD's reconstruction (Daniele, Villa, Vaiter, Calatroni, arXiv 2507.11461) is the fixed point

.. math::

    x^* = T_\tau(x^*), \qquad
    T_\tau(x) = \min\Big( \frac{x}{1 + \tau\, x \odot \nabla \Psi(x)},\ 1 \Big), \qquad
    \Psi(x) = \mathrm{KL}(y, Ax) + R_\theta(x).

For :math:`x > 0` and any :math:`\tau > 0`, :math:`T_\tau(x) = x` exactly when :math:`x` is a
stationary (KKT) point of :math:`\Psi` on the box :math:`[0, 1]`: :math:`\nabla_i \Psi(x) = 0`
where :math:`0 < x_i < 1` and :math:`\nabla_i \Psi(x) \le 0` where :math:`x_i = 1`. So the
equilibrium can be reached by any method that finds such a point; how close a point is, is measured
by the fixed-point residual (:func:`fixed_point_residual`)

.. math::

    r_\tau(x) = \frac{\|T_\tau(x) - x\|}{\|T_\tau(x)\|},

at a reference step :math:`\tau` (0.25: where the paper's backtracking settles on its example,
butterfly with motion blur; :math:`r_\tau` grows about linearly with :math:`\tau`), which is also
the quantity the paper's stopping rule thresholds (its relative change between iterates, at its
own :math:`\tau`).

Two solvers share one interface (:class:`benchmark.algorithms.iterations.IterativeSolver`:
``x``, ``step()``, ``iterations``, ``evaluations``, ``stop_reason``, ``result()``), so that a
benchopt solver or the training loop runs either (:func:`benchmark.algorithms.deqmd.make_solver`):

* ``"mirror"``: the paper's iteration, the mirror-descent driver of
  :mod:`benchmark.algorithms.mirror_descent` with Bregman backtracking, stopped when the relative
  change :math:`\|x_{k+1} - x_k\| / \|x_{k+1}\| < 2.5 \cdot 10^{-5}` (the authors' rule).
  Its step settles at :math:`\tau = 0.25` and it then converges like :math:`1/k`: the rule stops
  it after about 1,500 iterations while it is still moving.
* :class:`ProjectedLBFGS`, ``"lbfgs"``: a box-constrained limited-memory quasi-Newton method on
  :math:`\Psi`, written for a batch (one history, one line search and one stopping test per image),
  stopped when :math:`r_\tau(x) <` ``tol``. Chosen because :math:`\Psi` has an explicit value (the
  KL plus the network's potential), so a line search on it is possible, and the box is handled
  directly by an active set, where generic DEQ solvers (Anderson, Broyden) applied to
  :math:`T_\tau` lose the box and stall (measured in the project's issue: torchdeq's Broyden
  needed 401 evaluations to reach :math:`4 \cdot 10^{-5}`, its Anderson did not reach
  :math:`10^{-4}` in 400, while scipy's L-BFGS-B reached :math:`2 \cdot 10^{-6}` in 228).
  ``scripts/bench_equilibrium.py`` measures it against the paper's iteration: with the first
  shipped weights, on one CPU thread, 131 network evaluations to :math:`r < 10^{-5}` against 1,553
  for the paper's rule on a 128x128 butterfly crop (motion, alpha 100), 111 against 625 and 73
  against 810 on 96x96 crops of leaves (Gaussian, 40) and starfish (uniform, 60); one evaluation
  costs 1.08 network forward+backward passes (``scripts/bench_deq_iteration.py``).

The method (Kim, Sra, Dhillon, "Tackling box-constrained optimization via a new projected
quasi-Newton approach", SIAM J. Sci. Comput. 2010; Nocedal, Wright, "Numerical Optimization",
Alg. 7.4 for the two-loop recursion), per image:

1. active set :math:`\mathcal{A} = \{i : x_i \le 0, \nabla_i \Psi > 0\} \cup
   \{i : x_i \ge 1, \nabla_i \Psi < 0\}`, free set :math:`\mathcal{F}` its complement;
2. direction :math:`d = -[H_k \nabla \Psi(x)]_{\mathcal{F}}`, :math:`d_{\mathcal{A}} = 0`, with
   :math:`H_k` the L-BFGS inverse-Hessian approximation from the last ``memory`` pairs
   :math:`(s_j, y_j) = (x_{j+1} - x_j, \nabla\Psi(x_{j+1}) - \nabla\Psi(x_j))` (pairs with
   :math:`s_j^\top y_j \le 10^{-10}\|s_j\|\|y_j\|` are skipped: :math:`\Psi` is not convex) and
   :math:`H_k^0 = \frac{s^\top y}{y^\top y} I` from the newest kept pair; before the first kept
   pair (and after a failed line search, which forgets the pairs) the direction is the mirror step
   :math:`d = T_1(x) - x`;
3. projected backtracking line search on :math:`x(t) = \Pi_{[0,1]}(x + t d)`, :math:`t = 1,
   \frac12, \dots`, accepting the first :math:`t` with, for :math:`s = x(t) - x`, the Armijo
   condition :math:`\Psi(x(t)) \le \Psi(x) + c_1 \nabla\Psi(x)^\top s`, :math:`c_1 = 10^{-4}`,
   or the approximate Wolfe conditions of Hager and Zhang (SIAM J. Optim. 2005)
   :math:`\nabla\Psi(x(t))^\top s \le (1 - 2\delta) |\nabla\Psi(x)^\top s|`,
   :math:`\delta = 0.1`, with :math:`\Psi(x(t)) \le \Psi(x) + 10^{-6} |\Psi(x)|`. Near the
   equilibrium the decrease of :math:`\Psi` falls below the rounding error of its float32 terms,
   so a test on values alone stalls (measured: at residual :math:`3 \cdot 10^{-6}` on a 32x32
   image); the slope test, built from gradients, still resolves it. An image whose line search
   fails even along the mirror step is frozen and reported as stalled.

Images that meet the tolerance are frozen (no further evaluation), as in the authors' code.

**A metric matched to the blur, for an image whose residual stalls.** Near the equilibrium
:math:`\nabla^2\Psi` is dominated on the free set by :math:`A^\top D A` (:math:`D` the KL's
curvature) and the network's Hessian; along the frequencies that the blur nearly removes the
data term has almost no curvature, and there L-BFGS, started from :math:`H_k^0 = \gamma I`,
needs many pairs to learn the scale. Measured (results/protocol.md, "Why the uniform alpha-40
equilibrium is slow on the photographs"): on scikit-image's astronaut with a 9x9 box blur, 971
iterations, 90% of the tail's movement at frequencies where :math:`|\hat k| < 0.2`. An image
whose residual has not halved in ``stall_window`` iterations therefore switches, for the rest of
the run, to the initial inverse-Hessian :math:`H_k^0 = \gamma P` with :math:`P` diagonal in
Fourier (:class:`BlurMetric`),

.. math::

    \hat P(\omega) = \frac{c}{|\hat k(\omega)|^2 + \mu}, \qquad
    \gamma = \frac{s^\top y}{y^\top P y},

:math:`c` such that :math:`\hat P` has mean 1, :math:`\mu = 0.1`: Newton's step for the
quadratic :math:`\frac12 \|Ax\|^2 + \frac\mu2 \|x\|^2`, scaled by the newest pair like the
identity it replaces (Nocedal, Wright, Sec. 7.2; a convolution preconditioner as in
Chan, Ng, "Conjugate gradient methods for Toeplitz systems", SIAM Review 1996). The pairs are
kept. Only the start of the two-loop recursion changes, so an image that never stalls takes
exactly the iterates it took without the switch; from the start of a run the same metric is
neutral on CBSD68 crops (5% fewer evaluations with uniform blur, 6% to 7% more with Gaussian and
motion blur), hence the switch.
"""

import torch

from benchmark.algorithms.iterations import IterativeSolver
from benchmark.maths.mirror import mirror_map, per_image, relative_change

REFERENCE_TAU = 0.25
VALUE_NOISE = 1e-6
WOLFE_DELTA = 0.1
# an image whose residual has not halved in this many iterations switches to the blur metric
STALL_WINDOW = 100
BLUR_METRIC_MU = 0.1


def fixed_point_residual(x, grad, tau=REFERENCE_TAU, upper=1.0):
    r"""Per-image :math:`\|T_\tau(x) - x\| / \|T_\tau(x)\|` from :math:`x` and
    :math:`\nabla\Psi(x)`.

    :math:`T_\tau` is :func:`benchmark.maths.mirror.mirror_map`.
    """
    tau = torch.as_tensor(tau, dtype=x.dtype, device=x.device).expand(x.shape[0])
    return relative_change(mirror_map(x, grad, tau, upper), x)


def free_set(x, grad, upper=1.0):
    r"""Mask of the free pixels of :math:`x` on the box :math:`[0, u]`, the complement of the
    active set :math:`\{i : x_i \le 0, \nabla_i \Psi > 0\} \cup \{i : x_i \ge u,
    \nabla_i \Psi < 0\}` (the pixels a descent step would push out of the box)."""
    return ~(((x <= 0) & (grad > 0)) | ((x >= upper) & (grad < 0)))


class BlurMetric:
    r"""The operator :math:`P`, diagonal in Fourier, :math:`\hat P = c / (|\hat k|^2 + \mu)`
    with :math:`c` setting the mean of :math:`\hat P` to 1 (module docstring), for a circular blur
    ``operator`` on images of ``shape`` ``(C, H, W)``.

    :math:`|\hat k|^2` is read from the operator itself, as the discrete Fourier transform of
    :math:`A^\top A \delta` (:math:`\delta` the unit impulse at pixel (0, 0)): for a circular
    convolution that is exactly :math:`|\hat k|^2`, whatever the operator's implementation.
    :math:`P` is symmetric positive definite, a valid L-BFGS initial matrix for any operator.
    """

    def __init__(self, operator, shape, dtype=torch.float32, device="cpu", mu=BLUR_METRIC_MU):
        if not mu > 0:
            raise ValueError(f"The blur metric's mu must be > 0, got {mu}.")
        impulse = torch.zeros((1,) + tuple(shape), dtype=dtype, device=device)
        impulse[..., 0, 0] = 1.0
        spectrum = torch.fft.rfft2(operator.A_adjoint(operator.A(impulse))).real.clamp(min=0.0)
        inverse = 1.0 / (spectrum.double() + mu)
        # the mean over the full frequency grid: rfft2 keeps columns 0 .. W//2; the others are
        # the mirror images of columns 1 .. (W-1)//2
        width = shape[-1]
        mirrored = inverse[..., 1:(width - 1) // 2 + 1]
        mean = (inverse.sum() + mirrored.sum()) / (inverse[..., 0].numel() * width)
        self.transfer = (inverse / mean).to(dtype)

    def __call__(self, v):
        r""":math:`P v` for a batch ``v`` of shape ``(B, C, H, W)``."""
        return torch.fft.irfft2(torch.fft.rfft2(v) * self.transfer, s=v.shape[-2:]).to(v.dtype)


class ProjectedLBFGS(IterativeSolver):
    """Batched projected L-BFGS on :math:`\\Psi` over :math:`[0, 1]`, stopped by the fixed-point
    residual :math:`r_\\tau` at ``tau`` (see the module docstring for the method and the choice).

    The ``memory`` pairs live in a ring buffer shared by the batch (slot ``k`` written at iteration
    ``k mod memory``); an image whose pair is rejected, or that is frozen, stores a zero pair
    (:math:`\\rho = 0`), which the two-loop recursion ignores. An image whose residual has not
    halved in ``stall_window`` iterations switches to the :class:`BlurMetric` of
    ``objective.operator`` (``stall_window=None``: never); ``metric_from[i]`` is the iteration at
    which image ``i`` switched (-1: it did not).
    """

    criterion_name = "fixed-point residual"

    def __init__(self, objective, x0, tol=1e-5, max_iter=1000, memory=10, tau=REFERENCE_TAU,
                 c1=1e-4, max_backtracks=12, stall_window=STALL_WINDOW):
        super().__init__(x0.shape[0], x0.device, tol, max_iter)
        self.objective = objective
        if memory < 1:
            raise ValueError(f"memory must be >= 1, got {memory}.")
        if stall_window is not None and stall_window < 1:
            raise ValueError(f"stall_window must be >= 1 or None, got {stall_window}.")
        self.stall_window, self.metric = stall_window, None
        self.memory, self.c1, self.max_backtracks = memory, c1, max_backtracks
        batch = x0.shape[0]
        self.tau = torch.full((batch,), float(tau), dtype=x0.dtype, device=x0.device)
        self.x = x0.clamp(0.0, 1.0)
        self.value, self.grad = self.evaluate(self.x, torch.arange(batch, device=x0.device))
        self.s = torch.zeros((memory,) + tuple(x0.shape), dtype=x0.dtype, device=x0.device)
        self.y = torch.zeros_like(self.s)
        self.rho = torch.zeros((memory, batch), dtype=torch.float64, device=x0.device)
        self.gamma = torch.zeros(batch, dtype=torch.float64, device=x0.device)
        self.metric_from = torch.full((batch,), -1, dtype=torch.long, device=x0.device)
        # the residual at its last halving, and when (the stall test)
        self.progress = torch.full((batch,), float("inf"), dtype=torch.float64, device=x0.device)
        self.progress_at = torch.zeros(batch, dtype=torch.long, device=x0.device)

    def evaluate(self, x, index):
        r""":math:`(\Psi, \nabla\Psi)` at ``x``, the images ``index`` of the batch, counted."""
        return self.counted(self.objective, index)(x, None)

    def _slots(self):
        """Ring-buffer slots from the oldest pair to the newest."""
        written = min(self.iterations, self.memory)
        return [(self.iterations - written + k) % self.memory for k in range(written)]

    def _initial_matrix(self, v, switched, free=1.0):
        """:math:`H^0 / \\gamma` applied to ``v``: the blur metric restricted to the mask ``free``
        for the images ``switched`` (:math:`P v` spreads over every pixel), the identity for the
        others (``v`` itself)."""
        if not bool(switched.any()):
            return v
        return torch.where(per_image(switched), self.metric(v) * free, v)

    def _direction(self, x, grad, s, y, rho, gamma, free, switched):
        r"""Two-loop recursion :math:`d = -[H \nabla\Psi]_{\mathcal{F}}`, per image, from
        :math:`H^0 = \gamma I`, or :math:`\gamma P` for the images ``switched``; the mirror
        step :math:`T_1(x) - x` for images without a pair or where it is not a descent direction.
        Returns the direction and the mask of the images that took the quasi-Newton one."""
        slots = self._slots()
        q = grad * free
        coefficients = {}
        for k in reversed(slots):
            coefficients[k] = rho[k] * dot(s[k], q)
            q = q - per_image(coefficients[k]).to(q.dtype) * y[k]
        r = per_image(gamma).to(q.dtype) * self._initial_matrix(q, switched, free)
        for k in slots:
            b = rho[k] * dot(y[k], r)
            r = r + per_image(coefficients[k] - b).to(r.dtype) * s[k]
        direction = -r * free
        mirror = mirror_map(x, grad, torch.ones(x.shape[0], dtype=x.dtype, device=x.device))
        quasi_newton = (gamma > 0) & (dot(grad, direction) < 0)
        return torch.where(per_image(quasi_newton), direction, mirror - x), quasi_newton

    def _line_search(self, index, x, value, grad, direction):
        """Projected backtracking per image, Armijo or approximate Wolfe (module docstring);
        returns the accepted points and a mask of the images that found one (the others keep
        their point)."""
        new_x, new_value, new_grad = x.clone(), value.clone(), grad.clone()
        step = torch.ones(x.shape[0], dtype=x.dtype, device=x.device)
        accepted = torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
        pending = torch.arange(x.shape[0], device=x.device)
        for _ in range(self.max_backtracks):
            trial = (x[pending] + per_image(step[pending]) * direction[pending]).clamp(0.0, 1.0)
            trial_value, trial_grad = self.evaluate(trial, index[pending])
            moved = trial - x[pending]
            slope, trial_slope = dot(grad[pending], moved), dot(trial_grad, moved)
            armijo = trial_value <= value[pending] + self.c1 * slope
            approximate = ((trial_value <= value[pending] + VALUE_NOISE * value[pending].abs())
                           & (slope < 0) & (trial_slope <= (1 - 2 * WOLFE_DELTA) * slope.abs()))
            ok = torch.isfinite(trial_value) & (armijo | approximate)
            done = pending[ok]
            new_x[done], new_value[done], new_grad[done] = (
                trial[ok], trial_value[ok], trial_grad[ok])
            accepted[done] = True
            pending = pending[~ok]
            if pending.numel() == 0:
                break
            step[pending] *= 0.5
        return new_x, new_value, new_grad, accepted

    def _advance(self, index):
        x, grad, value = self.x[index], self.grad[index], self.value[index]
        s, y, rho = self.s[:, index], self.y[:, index], self.rho[:, index]
        free = free_set(x, grad)
        switched = self.metric_from[index] >= 0
        direction, quasi_newton = self._direction(x, grad, s, y, rho, self.gamma[index],
                                                  free.to(x.dtype), switched)
        new_x, new_value, new_grad, accepted = self._line_search(index, x, value, grad, direction)

        # curvature pair (s, y) of this iteration, kept where s^T y > 0 (Psi is not convex)
        pair_s, pair_y = new_x - x, new_grad - grad
        curvature = dot(pair_s, pair_y)
        valid = accepted & (curvature > 1e-10 * norm(pair_s) * norm(pair_y))
        slot = self.iterations % self.memory
        keep = per_image(valid)
        self.s[slot] = 0.0
        self.y[slot] = 0.0
        self.rho[slot] = 0.0
        self.s[slot, index] = torch.where(keep, pair_s, torch.zeros_like(pair_s))
        self.y[slot, index] = torch.where(keep, pair_y, torch.zeros_like(pair_y))
        self.rho[slot, index] = torch.where(valid, 1.0 / curvature.clamp(min=1e-300),
                                            torch.zeros_like(curvature))
        residual = fixed_point_residual(new_x, new_grad, self.tau[index])
        switched = switched | self._switch_if_stalled(index, residual, x.shape[1:])
        # H^0 = gamma M from the newest kept pair: gamma = s^T y / y^T M y, M = I or P
        scaled_y = self._initial_matrix(pair_y, switched)
        self.gamma[index] = torch.where(valid, curvature / dot(pair_y, scaled_y).clamp(min=1e-300),
                                        self.gamma[index])
        # a failed line search forgets the image's pairs: its next direction is a mirror step;
        # one that fails along the mirror step too has hit the rounding floor of Psi: stalled
        self.rho[:, index[~accepted]] = 0.0
        self.gamma[index[~accepted]] = 0.0
        self.stalled[index[~accepted & ~quasi_newton]] = True
        self.x[index], self.value[index], self.grad[index] = new_x, new_value, new_grad
        return residual

    def step(self):
        """One iteration (:meth:`IterativeSolver.step`); once the run ends, its stop reason also
        names the images that switched to the blur metric and the iteration each switched at."""
        super().step()
        if self.stop_reason is None:
            return
        switched = (self.metric_from >= 0).nonzero().flatten().tolist()
        if switched:
            at = ", ".join(f"image {i} at {int(self.metric_from[i])}" for i in switched)
            self.stop_reason += f"; switched to the blur metric: {at}"

    def _switch_if_stalled(self, index, residual, shape):
        """Marks the images ``index`` whose residual has not halved in ``stall_window``
        iterations as switched to the blur metric (built at the first switch); returns the mask
        of the images that switched now."""
        halved = residual < 0.5 * self.progress[index]
        self.progress[index[halved]] = residual[halved].to(self.progress.dtype)
        self.progress_at[index[halved]] = self.iterations
        if self.stall_window is None:
            return torch.zeros_like(halved)
        waited = self.iterations - self.progress_at[index]
        now = ~halved & (waited >= self.stall_window) & (self.metric_from[index] < 0)
        if bool(now.any()):
            if self.metric is None:
                self.metric = BlurMetric(self.objective.operator, shape, self.x.dtype,
                                         self.x.device)
            self.metric_from[index[now]] = self.iterations
        return now


def dot(a, b):
    """Per-image inner product, accumulated in float64."""
    return (a * b).flatten(1).sum(dim=1, dtype=torch.float64)


def norm(a):
    return dot(a, a).sqrt()
