"""Shared fixtures: small random problems, and the real data some tests need.

Tests that read real data (set3c, CBSD68, CBSD432, kernels/Levin09.mat) get its folder from
:func:`real_data`: when a data set is missing, the test is skipped with a reason that names it
and says how to get it, unless ``POISSON_DEBLUR_REQUIRE_DATA=1`` (CI sets it), which turns the
skip into a failure.
"""

import os
from pathlib import Path

import pytest
import torch

from benchmark.data.fetch import completeness
from benchmark.data.paths import ENV_DATA_DIR, PROJECT_ROOT, skip_or_fail_missing_data
from benchmark.maths.physics import gaussian_kernel, simulate

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DATA_DESCRIPTIONS = {"set3c": "set3c/ (butterfly, leaves, starfish)",
                     "CBSD68": "CBSD68/ (68 BSD test images)",
                     "CBSD432": "CBSD432/ (432 BSD training images)",
                     "kernels": "kernels/Levin09.mat (motion kernels)"}


def shared_data_dir():
    """The verified data folder: $POISSON_DEBLUR_DATA, else ../shared/data beside the project."""
    env = os.environ.get(ENV_DATA_DIR)
    return Path(env) if env else SHARED_DATA


def data_roots():
    """Folders that may hold the data sets, in the order they are tried: $POISSON_DEBLUR_DATA
    (else ../shared/data), then data/ beside objective.py (where `benchmark.data.fetch` puts
    them)."""
    roots = []
    for root in (shared_data_dir(), PROJECT_ROOT / "data"):
        if root not in roots:
            roots.append(root)
    return roots


def missing_data(names, root):
    """The names of ``names`` that ``root`` does not hold complete."""
    return [n for n in names if completeness(n, root / n) is not None]


def real_data(*names):
    """The first folder of :func:`data_roots` that holds every data set of ``names`` ("set3c",
    "CBSD68", "CBSD432", "kernels"); else skip the calling test with a reason naming what is
    missing and how to get it, or fail it when POISSON_DEBLUR_REQUIRE_DATA=1."""
    for root in data_roots():
        if not missing_data(names, root):
            return root
    missing = missing_data(names, data_roots()[0])
    skip_or_fail_missing_data(
        f"needs real data: {', '.join(DATA_DESCRIPTIONS[n] for n in missing)}", data_roots())


def float64_problem(batch=3, size=12, seed=0):
    """``batch`` random 3x``size``x``size`` float64 images in [0.2, 0.8], their Gaussian-blurred
    (sigma 1) Poisson observation at alpha=40 and the blur: for exact batch-versus-alone checks."""
    generator = torch.Generator().manual_seed(seed)
    x = 0.2 + 0.6 * torch.rand(batch, 3, size, size, generator=generator, dtype=torch.float64)
    y, op = simulate(x, gaussian_kernel(1.0).double(), 40.0, seed=seed)
    return x, y, op


@pytest.fixture
def small_problem():
    """Two 3x32x32 smooth random images, their Gaussian-blurred Poisson observation at alpha=60."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 8, 8, generator=generator)
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False)
    x = x.clamp(0.05, 0.95)
    y, operator = simulate(x, gaussian_kernel(), 60.0, seed=1)
    return x, y, operator
