r"""DEQ-MD: the deep-equilibrium mirror-descent reconstruction of Daniele, Villa, Vaiter, Calatroni
(arXiv 2507.11461).

The reconstruction is the fixed point :math:`x^* = T_\theta(x^*)` of one Burg-entropy mirror step on

.. math::

    \Psi(x) = \mathrm{KL}(y, Ax) + R_\theta(x),
    \qquad
    T_\theta(x) = \min\Big( \frac{x}{1 + \tau\, x \odot \nabla \Psi(x)},\ 1 \Big),

reached from :math:`x_0 = A^\top y` clipped to :math:`[10^{-3}, 1]` by one of two fixed-point
solvers: ``"mirror"``, the paper's iteration (Bregman backtracking on :math:`\tau`, stopped when
:math:`\|x_{k+1} - x_k\| / \|x_{k+1}\| < 2.5 \cdot 10^{-5}`, an early-stopped iterate of the 1/k
regime), or ``"lbfgs"``, a batched projected quasi-Newton method stopped at a fixed-point residual
:math:`\|T_\tau(x) - x\| / \|T_\tau(x)\| < 10^{-5}`. Each image is frozen once it meets its rule;
a run stops when every image has, or at an iteration cap that is reported when hit.

Training uses Jacobian-free backpropagation (Fung et al., AAAI 2022): the fixed point is found
without a graph, then one more step :math:`T_\theta(x^*)` is taken with the graph, and the loss
:math:`\|T_\theta(x^*) - x\|^2` is backpropagated through that single step only.
"""

import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.equilibrium import ProjectedLBFGS
from benchmark.algorithms.mirror_descent import RELATIVE_CHANGE, Backtracking, MirrorDescent
from benchmark.maths.mirror import burg_mirror_step, initial_point
from benchmark.parameters import check_choice

PAPER_TOL = 2.5e-5


def paper_iteration(objective, x0, tol=PAPER_TOL, max_iter=3000):
    r"""The paper's iteration: :math:`x_{k+1} = T_{\tau_k}(x_k)` with Bregman backtracking on
    :math:`\tau_k` (:math:`\tau_0 = 1`, halved on failure, carried), each image stopped when
    :math:`\|x_{k+1} - x_k\| / \|x_{k+1}\| <` ``tol``."""
    return MirrorDescent(objective, x0, Backtracking(), RELATIVE_CHANGE, tol, max_iter)


SOLVERS = {"mirror": paper_iteration, "lbfgs": ProjectedLBFGS}
# The default: the equilibrium itself, where the shipped weights were trained.
DEFAULT_SOLVER = "lbfgs"
# The group of image symmetries the learned potential is averaged over at test time
# (benchmark.networks.symmetry): by default none, the network alone, the paper's DEQ-MD; "flip"
# and "d4" validate higher at 1.3 to 7 times the time (results/protocol.md, "A symmetrised
# regulariser").
DEFAULT_SYMMETRY = "none"
DEFAULT_TOL = {"mirror": PAPER_TOL, "lbfgs": 1e-5}
DEFAULT_MAX_ITER = {"mirror": 300, "lbfgs": 1000}


def check_solver_name(name):
    """``name`` if it is a fixed-point solver of :data:`SOLVERS`, else a ValueError naming them."""
    return check_choice("fixed-point solver", name, sorted(SOLVERS))


def make_solver(name, objective, x0, tol=None, max_iter=None):
    r"""The fixed-point solver ``name`` (``"mirror"``: :func:`paper_iteration`; ``"lbfgs"``:
    :class:`benchmark.algorithms.equilibrium.ProjectedLBFGS` to the residual ``tol``) on the
    :class:`benchmark.algorithms.composite.CompositeObjective` ``objective``, started at ``x0``;
    ``tol`` and ``max_iter`` default to :data:`DEFAULT_TOL` and :data:`DEFAULT_MAX_ITER`."""
    check_solver_name(name)
    tol = DEFAULT_TOL[name] if tol is None else tol
    max_iter = DEFAULT_MAX_ITER[name] if max_iter is None else max_iter
    return SOLVERS[name](objective, x0, tol=tol, max_iter=max_iter)


def jfb_output(objective, fixed_point):
    r"""One mirror step :math:`T_\tau(x^*)` from the (detached) fixed point, with the graph to
    the weights: the output of the DEQ used by the training loss (Jacobian-free backprop). The
    step :math:`\tau` is the one the solver ended with (the reference step for ``"lbfgs"``)."""
    x_star = fixed_point.x.detach()
    _, grad = objective(x_star, None, create_graph=True)
    x_out, _ = burg_mirror_step(x_star, grad, fixed_point.tau, upper=1.0)
    return x_out.clamp(min=torch.finfo(x_out.dtype).tiny)


def reconstruct(y, operator, regularizer, solver=DEFAULT_SOLVER, tol=None, max_iter=None,
                data_weight=1.0):
    """DEQ-MD reconstruction of the batch ``y`` from :math:`x_0` (no graph): returns the
    :class:`benchmark.algorithms.iterations.IterationResult` of the fixed-point solver
    ``solver``. ``data_weight`` multiplies the KL term (1: DEQ-MD; other values probe the
    learned regulariser's strength, ``scripts/validate_deq.py --reg-weights``)."""
    objective = CompositeObjective(y, operator, regularizer, data_weight=data_weight)
    return make_solver(solver, objective, initial_point(y, operator), tol, max_iter).run()
