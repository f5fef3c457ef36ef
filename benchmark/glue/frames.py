"""Small image frames for reports: benchopt's image plot and ``benchmark.reporting.report``."""

import numpy as np
import torch

FRAME_MAX_SIDE = 128


def reconstruction_frame(x):
    """First image of the batch as an (H, W, 3) float16 array, average-pooled to <= 128 pixels."""
    image = x[0].clamp(0.0, 1.0)
    factor = max(1, int(np.ceil(max(image.shape[-2:]) / FRAME_MAX_SIDE)))
    if factor > 1:
        image = torch.nn.functional.avg_pool2d(image[None], factor)[0]
    return image.permute(1, 2, 0).cpu().numpy().astype(np.float16)
