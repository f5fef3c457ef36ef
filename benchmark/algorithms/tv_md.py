r"""TV-MD: smoothed-TV regularised Poisson deblurring by Burg-entropy mirror descent.

The model-based baseline of Daniele et al. (arXiv 2507.11461):

.. math::

    \min_{x > 0}\ F(x) = \mathrm{KL}(y, Ax) + \lambda\, \mathrm{TV}_\epsilon(x),

a configuration of the mirror-descent driver (:mod:`benchmark.algorithms.mirror_descent`): the
composite objective with :class:`benchmark.maths.tv.SmoothedTV` as regulariser, Bregman
backtracking (:math:`\tau_0 = 1`, factor 0.5, :math:`\eta = 0.8`, upper clip at 1), started at
:math:`x_0 = \mathrm{clip}(A^\top y, 10^{-3}, 1)`. Each image stops when
:math:`\|x_{k+1} - x_k\| / \|x_{k+1}\| < \text{tol}` or its step size reaches its floor; the run
stops when every image has, or after ``max_iter`` iterations.
"""

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.mirror_descent import RELATIVE_CHANGE, Backtracking, MirrorDescent
from benchmark.maths.mirror import initial_point
from benchmark.maths.tv import SmoothedTV


def TVMirrorDescent(y, operator, lam, smoothing=1e-2, tol=1e-5, max_iter=1000, tau0=1.0):
    """TV-MD on the batch ``y``: a :class:`MirrorDescent` to run one ``step()`` at a time."""
    objective = CompositeObjective(y, operator, SmoothedTV(lam, smoothing))
    return MirrorDescent(objective, initial_point(y, operator), Backtracking(), RELATIVE_CHANGE,
                         tol, max_iter, tau0)
