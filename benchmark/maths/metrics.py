r"""Image-quality metrics of the benchmark, per image of a batch.

* PSNR: :math:`10 \log_{10}(1 / \mathrm{MSE})` on images clipped to [0, 1];
* SSIM: Wang et al. (IEEE TIP 2004), scikit-image's implementation on the RGB image
  (``channel_axis``), data range 1, Gaussian window of sigma 1.5;
* LPIPS (Zhang et al., CVPR 2018) through deepinv (torchmetrics' AlexNet variant), only when
  torchvision's ImageNet AlexNet weights are in torch's hub cache: a run never downloads them.
"""

import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch

_LPIPS = {}


def mse(x, x_true):
    """Per-image mean squared error."""
    return ((x - x_true) ** 2).flatten(1).mean(dim=1)


def mse_by_frequency_band(x, x_true, edges):
    r"""Per-image MSE of ``x`` clipped to [0, 1], split by radial frequency band.

    With :math:`\hat e` the 2-D DFT of the error of one channel (:math:`H \times W` pixels) and
    :math:`r(f) = \sqrt{f_1^2 + f_2^2}` in cycles per pixel, band :math:`[a, b)` gets
    :math:`\frac{1}{C H W} \sum_c \sum_{a \le r(f) < b} |\hat e_c(f)|^2 / (H W)`, so that by
    Parseval the bands of ``edges`` (increasing, the first 0, the last band open above) sum to
    :func:`mse` of the clipped image.

    :return: tensor (batch, len(edges)).
    """
    error = x.clamp(0.0, 1.0) - x_true
    height, width = error.shape[-2:]
    energy = torch.fft.fft2(error).abs() ** 2 / (height * width)
    radius = torch.hypot(torch.fft.fftfreq(height, device=x.device)[:, None],
                         torch.fft.fftfreq(width, device=x.device)[None, :])
    bounds = list(edges[1:]) + [float("inf")]
    bands = [(radius >= low) & (radius < high) for low, high in zip(edges, bounds)]
    return torch.stack([energy[..., band].sum(dim=(1, 2)) for band in bands], dim=1) / (
        error[0].numel())


def psnr(x, x_true):
    """Per-image PSNR (dB) of ``x`` clipped to [0, 1] against ``x_true`` (peak 1)."""
    error = mse(x.clamp(0.0, 1.0), x_true).clamp(min=1e-12)
    return -10.0 * torch.log10(error)


def ssim(x, x_true):
    """Per-image SSIM of ``x`` clipped to [0, 1] (scikit-image, RGB, Gaussian window)."""
    from skimage.metrics import structural_similarity  # noqa: PLC0415 (heavy: skimage)

    values = []
    for est, ref in zip(x.clamp(0.0, 1.0).cpu().numpy(), x_true.cpu().numpy()):
        values.append(structural_similarity(
            ref.transpose(1, 2, 0), est.transpose(1, 2, 0), channel_axis=-1, data_range=1.0,
            gaussian_weights=True, sigma=1.5, use_sample_covariance=False))
    return torch.tensor(np.array(values, dtype=np.float64))


def lpips_backbone_file():
    """Where torchvision keeps the ImageNet AlexNet weights that LPIPS needs (torch's hub cache,
    ``$TORCH_HOME/hub/checkpoints``, by default ``~/.cache/torch/hub/checkpoints``)."""
    import torchvision  # noqa: PLC0415 (heavy: torchvision)

    url = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


LPIPS_MISSING = ("LPIPS is not computed: its backbone weights (torchvision's ImageNet AlexNet, "
                 "{file}) are not available; to enable it, run `python -m benchmark.data.fetch "
                 "--lpips` once with network.")


def lpips_model(device="cpu"):
    """deepinv's LPIPS (AlexNet), or None when its backbone weights are not on disk.

    The weights are never downloaded during a run: without them, one line says that LPIPS is
    not computed and how to enable it, once per process.
    """
    if "model" not in _LPIPS:
        _LPIPS["model"] = None
        backbone = lpips_backbone_file()
        if not backbone.is_file():
            print("\n" + LPIPS_MISSING.format(file=backbone), file=sys.stderr, flush=True)
            return None
        try:
            from deepinv.loss.metric import LPIPS  # noqa: PLC0415 (heavy: deepinv)

            _LPIPS["model"] = LPIPS(device=device)
        except Exception as exc:
            print(f"\nLPIPS is not computed: its backbone could not be loaded from {backbone} "
                  f"({type(exc).__name__}).", file=sys.stderr, flush=True)
    return _LPIPS["model"]


def lpips(x, x_true):
    """Per-image LPIPS, or None when the metric is unavailable."""
    model = lpips_model(x.device)
    if model is None:
        return None
    with torch.no_grad():
        return model(x.clamp(0.0, 1.0), x_true).flatten().double()
