r"""The objective every mirror-descent algorithm of the benchmark minimises, per image:

.. math::

    F(x) = \lambda\, \mathrm{KL}(y, Ax) + R(x), \qquad
    \nabla F(x) = \lambda A^\top\Big(1 - \frac{y}{Ax + \varepsilon}\Big) + \nabla R(x).

``R`` is any regulariser with the one interface ``value_and_grad(x, create_graph=False) ->
(R(x) per image, grad R(x))``: the weighted smoothed TV of TV-MD
(:class:`benchmark.maths.tv.SmoothedTV`), DEQ-MD's learned potentials
(:mod:`benchmark.networks.regularizers`), the Bregman score potential of B-RED
(:class:`benchmark.networks.bregman_denoiser.ScorePotential`); ``None`` is :math:`R = 0`. The
data weight :math:`\lambda` is 1 for TV-MD and DEQ-MD (their weight is inside :math:`R`) and the
B-RED/B-PnP parameter for those. Values are accumulated in float64 (:mod:`benchmark.maths.poisson`).
"""

import copy

from benchmark.maths.physics import check_observation
from benchmark.maths.poisson import EPS, kl_value_and_grad


class CompositeObjective:
    r""":math:`F = \lambda\,\mathrm{KL}(y, A\cdot) + R` on the batch ``y``; a sub-batch view by
    :meth:`subset`, and ``objective(x, index)`` for the images ``index`` of the batch, the form
    the mirror step and the fixed-point solvers call (:mod:`benchmark.maths.mirror`). ``y`` is
    checked once, here (:func:`benchmark.maths.physics.check_observation`)."""

    def __init__(self, y, operator, regularizer=None, data_weight=1.0, eps=EPS):
        self.y, self.operator, self.regularizer = check_observation(y), operator, regularizer
        self.data_weight, self.eps = data_weight, eps

    def subset(self, index):
        """The same objective on the images ``index`` of the batch (``None``: this one)."""
        if index is None:
            return self
        view = copy.copy(self)
        view.y = self.y[index]
        return view

    def data_fit(self, x):
        r"""``(KL(y, Ax) per image, its gradient)``, without the weight :math:`\lambda`."""
        return kl_value_and_grad(self.y, x, self.operator, self.eps)

    def value_and_grad(self, x, create_graph=False):
        r"""``(F(x) per image, grad F(x))``. ``create_graph=True`` keeps the graph of the
        regulariser's gradient to its weights (DEQ-MD's training step); otherwise both are
        detached and a learned regulariser costs one forward and one backward pass."""
        data_value, data_grad = self.data_fit(x)
        value, grad = self.data_weight * data_value, self.data_weight * data_grad
        if self.regularizer is not None:
            reg_value, reg_grad = self.regularizer.value_and_grad(x, create_graph=create_graph)
            value, grad = value + reg_value.double(), grad + reg_grad
        if not create_graph:
            value, grad = value.detach(), grad.detach()
        return value, grad

    def __call__(self, x, index=None, create_graph=False):
        return self.subset(index).value_and_grad(x, create_graph)
