r"""Image-quality metrics of the benchmark, per image of a batch.

* PSNR: :math:`10 \log_{10}(1 / \mathrm{MSE})` on images clipped to [0, 1];
* SSIM: Wang et al. (IEEE TIP 2004), scikit-image's implementation on the RGB image
  (``channel_axis``), data range 1, Gaussian window of sigma 1.5;
* LPIPS (Zhang et al., CVPR 2018) through deepinv, only when its backbone weights can be loaded.
"""

import warnings

import numpy as np
import torch

_LPIPS = {}


def mse(x, x_true):
    """Per-image mean squared error."""
    return ((x - x_true) ** 2).flatten(1).mean(dim=1)


def psnr(x, x_true):
    """Per-image PSNR (dB) of ``x`` clipped to [0, 1] against ``x_true`` (peak 1)."""
    error = mse(x.clamp(0.0, 1.0), x_true).clamp(min=1e-12)
    return -10.0 * torch.log10(error)


def ssim(x, x_true):
    """Per-image SSIM of ``x`` clipped to [0, 1] (scikit-image, RGB, Gaussian window)."""
    from skimage.metrics import structural_similarity

    values = []
    for est, ref in zip(x.clamp(0.0, 1.0).cpu().numpy(), x_true.cpu().numpy()):
        values.append(structural_similarity(
            ref.transpose(1, 2, 0), est.transpose(1, 2, 0), channel_axis=-1, data_range=1.0,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False))
    return torch.tensor(np.array(values, dtype=np.float64))


def lpips_model(device="cpu"):
    """deepinv's LPIPS (AlexNet), or None with a one-line warning when it cannot be loaded."""
    if "model" not in _LPIPS:
        try:
            from deepinv.loss.metric import LPIPS

            _LPIPS["model"] = LPIPS(device=device)
        except Exception as exc:
            warnings.warn(f"LPIPS left out: its backbone could not be loaded "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0][:120]}).",
                          stacklevel=2)
            _LPIPS["model"] = None
    return _LPIPS["model"]


def lpips(x, x_true):
    """Per-image LPIPS, or None when the metric is unavailable."""
    model = lpips_model(x.device)
    if model is None:
        return None
    with torch.no_grad():
        return model(x.clamp(0.0, 1.0), x_true).flatten().double()
