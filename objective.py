r"""Poisson image deblurring: :math:`y \sim \mathcal{P}(\alpha A x) / \alpha`, recover :math:`x`.

Solvers receive what a real user has (``get_objective``): the observation ``y``, the blur
``kernel`` (a 2-D array; the operator :math:`A` is the circular convolution with it, see
``benchmark.maths.physics.blur_operator``), its ``kernel_name`` (``"gaussian"``, ``"uniform"``,
``"motion"``, or ``"custom"`` for an array of the user's own; learned solvers pick their weights
by it) and the Poisson scale ``alpha``. They never see the ground truth. Each solver returns
``x``, a (B, 3, H, W) tensor or array with the reconstruction of every image of the batch.

Datasets hand ``set_data`` the dict of ``benchmark.data.problem.make_problem``: ``x_true``,
``y``, ``kernel``, ``kernel_name``, ``alpha``, ``image_names`` and ``seed``.

Metrics (per image, then averaged over the batch): ``value`` (MSE, what benchopt monitors),
``psnr``, ``ssim``, ``kl_per_pixel`` (the data fit :math:`\mathrm{KL}(y, Ax) / N`), ``lpips``
when its backbone is available, and ``reconstruction``, a frame of the first image for the image
plot of the HTML report.
"""

import torch
from benchopt import BaseObjective

from benchmark.glue.frames import reconstruction_frame
from benchmark.maths.metrics import lpips, mse, psnr, ssim
from benchmark.maths.physics import (
    blur_operator,
    check_alpha,
    check_image_batch,
    check_kernel,
    check_kernel_name,
    check_observation,
)
from benchmark.maths.poisson import kl_divergence


class Objective(BaseObjective):
    name = "Poisson deblurring"
    url = "https://arxiv.org/abs/2507.11461"
    min_benchopt_version = "1.10"
    requirements = []

    def set_data(self, x_true, y, kernel, kernel_name, alpha, image_names, seed):
        self.x_true = check_image_batch(torch.as_tensor(x_true, dtype=torch.float32), "x_true")
        self.y = check_observation(torch.as_tensor(y, dtype=torch.float32))
        if self.y.shape != self.x_true.shape:
            raise ValueError(f"y has shape {tuple(self.y.shape)} but the ground truth has "
                             f"{tuple(self.x_true.shape)}.")
        self.kernel = check_kernel(kernel)
        self.kernel_name = check_kernel_name(kernel_name, self.kernel)
        self.alpha = check_alpha(alpha)
        self.image_names, self.seed = list(image_names), seed
        self.operator = blur_operator(self.kernel, tuple(self.y.shape[1:]))

    def get_objective(self):
        return dict(y=self.y, kernel=self.kernel, kernel_name=self.kernel_name, alpha=self.alpha)

    def evaluate_result(self, x):
        x = torch.as_tensor(x).detach().to("cpu", torch.float32)
        if x.shape != self.x_true.shape:
            raise ValueError(f"The solver returned shape {tuple(x.shape)}, expected "
                             f"{tuple(self.x_true.shape)}.")
        finite = bool(torch.isfinite(x).all())
        if not finite:
            x = torch.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)
        pixels = self.y[0].numel()
        kl = kl_divergence(self.y, self.operator.A(x.clamp(min=0.0))) / pixels
        result = dict(
            value=float(mse(x, self.x_true).mean()) if finite else float("nan"),
            psnr=float(psnr(x, self.x_true).mean()),
            ssim=float(ssim(x, self.x_true).mean()),
            kl_per_pixel=float(kl.mean()),
        )
        perceptual = lpips(x, self.x_true)
        if perceptual is not None:
            result["lpips"] = float(perceptual.mean())
        result["reconstruction"] = reconstruction_frame(x)
        return result

    def get_one_result(self):
        return dict(x=self.operator.A_adjoint(self.y).clamp(0.0, 1.0))
