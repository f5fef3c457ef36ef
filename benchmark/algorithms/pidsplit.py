r"""PIDSplit+ (Setzer, Steidl, Teuber, "Deblurring Poissonian images by split Bregman techniques",
J. Vis. Commun. Image Represent. 21, 2010): ADMM on

.. math::

    \min_x\ \mathrm{KL}(y, Ax) + \lambda \|\nabla x\|_{2,1} + \iota_{[0,1]}(x)

with the three splittings :math:`u_1 = Ax`, :math:`u_2 = \nabla x`, :math:`u_3 = x` and penalty
:math:`\gamma`. Every sub-step has a closed form:

.. math::

    x^{k+1} &= (A^\top A + \nabla^\top \nabla + I)^{-1}
        \big(A^\top(u_1^k - b_1^k) + \nabla^\top(u_2^k - b_2^k) + u_3^k - b_3^k\big)
        \quad \text{(one FFT solve: all three operators are circulant)}\\
    u_1^{k+1} &= \mathrm{prox}_{\mathrm{KL}(y, \cdot)/\gamma}(A x^{k+1} + b_1^k)\\
    u_2^{k+1} &= \mathrm{shrink}(\nabla x^{k+1} + b_2^k, \lambda / \gamma)\\
    u_3^{k+1} &= \Pi_{[0,1]}(x^{k+1} + b_3^k)\\
    b_i^{k+1} &= b_i^k + L_i x^{k+1} - u_i^{k+1}.

The original method constrains :math:`x \ge 0`; we project onto :math:`[0, 1]`, the constraint set
shared by every solver of the benchmark. The estimate reported is :math:`u_3`, which is feasible.
Each image stops when the larger of the relative changes of :math:`u_1` and :math:`u_3`,
:math:`\|u^{k+1} - u^k\| / \|u^{k+1}\|`, is below ``tol`` (the first sweep leaves :math:`u_3`
unchanged, so :math:`u_3` alone cannot tell) and is frozen from then on, as in every algorithm of
the benchmark (:class:`benchmark.algorithms.iterations.IterativeSolver`); the run stops when every
image has, or after ``max_iter`` iterations.
"""

import torch

from benchmark.algorithms.iterations import IterativeSolver
from benchmark.maths.mirror import relative_change
from benchmark.maths.physics import check_observation
from benchmark.maths.poisson import EPS, kl_prox
from benchmark.maths.tv import gradient, gradient_adjoint, laplacian_spectrum, shrink_isotropic


class PIDSplitPlus(IterativeSolver):
    """PIDSplit+ iterations on a batch of images; one ADMM sweep of the active images per call to
    ``step``."""

    criterion_name = "relative change of u1 and u3"

    def __init__(self, y, operator, lam, gamma=50.0, tol=1e-5, max_iter=1000, eps=EPS):
        y = check_observation(y)
        super().__init__(y.shape[0], y.device, tol, max_iter)
        self.y, self.operator, self.lam, self.gamma, self.eps = y, operator, lam, gamma, eps
        height, width = y.shape[-2:]
        # |FFT(k)|^2 on the rfft2 grid: deepinv's BlurFFT stores |FFT(k)| in ``mask``.
        otf_power = operator.mask[..., 0] ** 2
        self.inverse_spectrum = 1.0 / (otf_power + laplacian_spectrum(
            height, width, device=y.device, dtype=y.dtype) + 1.0)
        x0 = operator.A_adjoint(y).clamp(0.0, 1.0)
        self.u1, self.u2, self.u3 = operator.A(x0), gradient(x0), x0
        self.b1 = torch.zeros_like(self.u1)
        self.b2 = torch.zeros_like(self.u2)
        self.b3 = torch.zeros_like(self.u3)

    @property
    def x(self):
        return self.u3

    def solve_normal_equations(self, rhs):
        r""":math:`(A^\top A + \nabla^\top \nabla + I)^{-1} \text{rhs}`, diagonal in Fourier."""
        size = rhs.shape[-2:]
        spectrum = torch.fft.rfft2(rhs) * self.inverse_spectrum
        return torch.fft.irfft2(spectrum, s=size)

    def _advance(self, index):
        """One sweep for the images ``index``; their relative changes of u1 and u3."""
        names = ("u1", "u2", "u3", "b1", "b2", "b3")
        whole = index.numel() == self.y.shape[0]
        u1, u2, u3, b1, b2, b3 = (getattr(self, name) if whole else getattr(self, name)[index]
                                  for name in names)
        y = self.y if whole else self.y[index]
        op = self.operator
        x = self.solve_normal_equations(op.A_adjoint(u1 - b1) + gradient_adjoint(u2 - b2)
                                        + u3 - b3)
        Ax, grad_x = op.A(x), gradient(x)
        new_u1 = kl_prox(Ax + b1, y, 1.0 / self.gamma, self.eps)
        new_u2 = shrink_isotropic(grad_x + b2, self.lam / self.gamma)
        new_u3 = (x + b3).clamp(0.0, 1.0)
        new = (new_u1, new_u2, new_u3, b1 + Ax - new_u1, b2 + grad_x - new_u2, b3 + x - new_u3)
        for name, value in zip(names, new):
            setattr(self, name, value if whole else getattr(self, name).index_copy(0, index, value))
        return torch.maximum(relative_change(new_u1, u1), relative_change(new_u3, u3))
