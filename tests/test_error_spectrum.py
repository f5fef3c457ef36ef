"""The MSE split by radial frequency band (``benchmark.maths.metrics.mse_by_frequency_band``) and
``scripts/error_spectrum.py``: the bands sum to the MSE (Parseval), a pure cosine error lands in
the band of its frequency, and the script's bands give back the PSNR it prints."""

import math
import re

import torch
from test_bench_scripts import ROOT, refused_script, run_script

from benchmark.maths.metrics import mse_by_frequency_band

EDGES = [0, 1 / 32, 1 / 16, 1 / 8, 1 / 4]


def test_the_bands_sum_to_the_mse_of_the_clipped_image():
    generator = torch.Generator().manual_seed(0)
    x_true = torch.rand(3, 3, 24, 20, generator=generator)
    x = x_true + 0.3 * torch.randn(3, 3, 24, 20, generator=generator)  # partly outside [0, 1]
    bands = mse_by_frequency_band(x, x_true, EDGES)
    expected = ((x.clamp(0, 1) - x_true) ** 2).flatten(1).mean(1)
    assert bands.shape == (3, len(EDGES)) and (bands >= 0).all()
    assert torch.allclose(bands.sum(1), expected, rtol=1e-5)


def test_a_cosine_error_lands_in_the_band_of_its_frequency():
    """An error of amplitude a along the rows, frequency 0.1875 cycles per pixel (in [1/8, 1/4)),
    has MSE a^2 / 2, all of it in that band."""
    size, amplitude = 32, 0.1
    rows = torch.arange(size, dtype=torch.float64)[:, None].expand(size, size)
    x_true = torch.full((1, 3, size, size), 0.5, dtype=torch.float64)
    x = x_true + amplitude * torch.cos(2 * math.pi * 0.1875 * rows)
    bands = mse_by_frequency_band(x, x_true, EDGES)[0]
    assert math.isclose(float(bands[3]), amplitude ** 2 / 2, rel_tol=1e-9)
    assert float(bands.sum() - bands[3]) < 1e-12


def test_error_spectrum_prints_bands_that_sum_to_the_printed_psnr():
    weights = str(ROOT / "benchmark/networks/weights/red_all_a100.pt")
    out = run_script("error_spectrum.py", "--dataset", "simulated", "--set", "size=16",
                     "--kernel", "gaussian", "--alpha", "100", "--weights", weights)
    lines = [line for line in out.splitlines() if "MSE per band" in line]
    assert len(lines) == 2, out
    for line in lines:
        value, bands = re.search(r"PSNR\s+([0-9.]+)\s+MSE per band(.*)", line).groups()
        mse = sum(float(v) for v in bands.split()) * 1e-4
        assert len(bands.split()) == len(EDGES)
        assert abs(-10 * math.log10(mse) - float(value)) < 0.01, line
    status, stderr = refused_script("error_spectrum.py", "--dataset", "simulated", "--kernel",
                                    "gaussian", "--alpha", "100", "--weights", weights,
                                    "--edges", "0.1", "0.2")
    assert status != 0 and "--edges must start at 0" in stderr
