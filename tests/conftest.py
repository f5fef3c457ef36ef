"""Shared fixtures: small random problems, and the location of the verified shared data."""

import os
from pathlib import Path

import pytest
import torch

from benchmark.physics import gaussian_kernel, simulate

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def shared_data_dir():
    """The verified data folder: $POISSON_DEBLUR_DATA, else ../shared/data beside the project."""
    env = os.environ.get("POISSON_DEBLUR_DATA")
    return Path(env) if env else SHARED_DATA


@pytest.fixture
def small_problem():
    """Two 3x32x32 smooth random images, their Gaussian-blurred Poisson observation at alpha=60."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 8, 8, generator=generator)
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = x.clamp(0.05, 0.95)
    y, operator = simulate(x, gaussian_kernel(), 60.0, seed=1)
    return x, y, operator
