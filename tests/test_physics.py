"""Kernels, the blur operator and the seeded Poisson noise."""

import pytest
import torch
from conftest import real_data

import benchmark.maths.physics as physics
from benchmark.maths.physics import (
    blur_operator,
    check_alpha,
    check_kernel,
    check_kernel_name,
    check_observation,
    gaussian_kernel,
    get_kernel,
    poisson_noise,
    read_levin_mat,
    simulate,
    uniform_kernel,
)


def test_gaussian_and_uniform_kernels_are_normalised():
    g, u = gaussian_kernel(1.2), uniform_kernel(9)
    assert g.shape == (11, 11) and u.shape == (9, 9)
    assert torch.isclose(g.sum(), torch.tensor(1.0)) and torch.isclose(u.sum(), torch.tensor(1.0))
    assert g[5, 5] == g.max() and torch.allclose(g, g.T) and torch.allclose(g, g.flip(0))


def test_levin_motion_kernel_from_shared_mat():
    path = real_data("kernels") / "kernels" / "Levin09.mat"
    k = read_levin_mat(path, 7)
    assert k.shape == (23, 23)
    assert torch.isclose(k.sum(), torch.tensor(1.0)) and (k >= 0).all()
    assert not torch.allclose(k, k.T), "motion kernel 7 is not symmetric"


def test_motion_kernel_found_through_environment(monkeypatch):
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("kernels")))
    assert get_kernel("motion").shape == (23, 23)


def test_blur_is_adjoint_and_preserves_flux():
    # an asymmetric kernel: with a symmetric one (uniform, Gaussian) A is self-adjoint, and an
    # A_adjoint that applied A again would pass
    kernel = torch.rand(5, 5, generator=torch.Generator().manual_seed(1))
    op = blur_operator(kernel / kernel.sum(), (3, 24, 20))
    generator = torch.Generator().manual_seed(0)
    u = torch.randn(2, 3, 24, 20, generator=generator, dtype=torch.float32)
    v = torch.randn(2, 3, 24, 20, generator=generator, dtype=torch.float32)
    lhs, rhs = (op.A(u) * v).sum(), (u * op.A_adjoint(v)).sum()
    assert torch.isclose(lhs, rhs, rtol=1e-4, atol=1e-4)
    assert torch.isclose(op.A(u).sum(), u.sum(), rtol=1e-4, atol=1e-3)
    assert torch.isclose(op.A_adjoint(u).sum(), u.sum(), rtol=1e-4, atol=1e-3)


def test_blur_is_a_circular_convolution():
    kernel = torch.zeros(3, 3)
    kernel[1, 2] = 1.0
    op = blur_operator(kernel, (1, 5, 5))
    x = torch.arange(25.0).view(1, 1, 5, 5)
    # (k * x)(i, j) = sum_ab k(a, b) x(i - a, j - b): a kernel off-centre by +1 column shifts right.
    assert torch.allclose(op.A(x), torch.roll(x, shifts=1, dims=-1), atol=1e-4)


def test_noise_is_reproducible_and_seed_dependent(small_problem):
    x, y, op = small_problem
    y_again, _ = simulate(x, gaussian_kernel(), 60.0, seed=1)
    y_other, _ = simulate(x, gaussian_kernel(), 60.0, seed=2)
    assert torch.equal(y, y_again)
    assert not torch.equal(y, y_other)
    counts = y * 60.0
    assert torch.allclose(counts, counts.round(), atol=1e-4) and (y >= 0).all()


def test_noise_accepts_slightly_negative_blur():
    z = torch.tensor([[[[-1e-7, 0.5]]]])
    y = poisson_noise(z, 40, seed=0)
    assert y[0, 0, 0, 0] == 0


def test_noise_mean_matches_alpha_scaling():
    z = torch.full((1, 1, 200, 200), 0.3)
    y = poisson_noise(z, 40, seed=3)
    assert abs(y.mean().item() - 0.3) < 0.005
    assert abs(y.var().item() - 0.3 / 40) < 0.0005


@pytest.mark.parametrize("alpha", [0, -1, float("nan"), float("inf")])
def test_bad_alpha_is_rejected(alpha):
    with pytest.raises(ValueError, match="alpha"):
        check_alpha(alpha)


@pytest.mark.parametrize(
    "kernel, message",
    [
        (torch.full((3, 3), 1 / 8), "sum to 1"),
        (torch.tensor([[0.5, -0.1], [0.3, 0.3]]), "negative"),
        (torch.tensor([[float("nan"), 1.0]]), "NaN"),
        (torch.ones(2, 2, 2) / 8, "2-D"),
    ],
)
def test_bad_kernel_is_rejected(kernel, message):
    with pytest.raises(ValueError, match=message):
        check_kernel(kernel)


def test_unknown_kernel_name_is_rejected():
    with pytest.raises(ValueError, match="Unknown kernel"):
        get_kernel("disk")


def test_kernel_larger_than_image_is_rejected():
    with pytest.raises(ValueError, match="larger than the image"):
        blur_operator(uniform_kernel(9), (3, 8, 8))


def test_bad_observations_are_rejected():
    with pytest.raises(ValueError, match="negative"):
        check_observation(torch.tensor([[[[0.1, -0.2]]]]))
    with pytest.raises(ValueError, match="NaN"):
        check_observation(torch.tensor([[[[0.1, float("nan")]]]]))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        check_observation(torch.ones(3, 4, 4))


def test_kernel_name_is_checked_against_its_array_without_reading_the_motion_file(monkeypatch):
    def no_file(*args, **kwargs):
        raise AssertionError("the motion kernel file must not be read to check a kernel's name")

    monkeypatch.setattr(physics, "motion_kernel", no_file)
    monkeypatch.setattr(physics, "read_levin_mat", no_file)
    assert check_kernel_name("gaussian", gaussian_kernel()) == "gaussian"
    assert check_kernel_name("uniform", uniform_kernel()) == "uniform"
    motion_like = torch.full((23, 23), 1 / 23**2)
    assert check_kernel_name("motion", motion_like) == "motion"
    for name in ("custom", "uniform"):
        assert check_kernel_name(name) == name
    assert check_kernel_name("custom", uniform_kernel(5)) == "custom"


@pytest.mark.parametrize("name, kernel, message", [
    ("disk", None, "unknown kernel_name 'disk'; choose one of 'gaussian', 'uniform', 'motion', "
                   "'custom'"),
    (None, None, "unknown kernel_name None"),
    ("Gaussian", None, "unknown kernel_name 'Gaussian'"),
    ("gaussian", "uniform", r"kernel_name='gaussian' does not match the kernel array "
                            r"\(shape \(9, 9\)\)"),
    ("uniform", "uniform5", "kernel_name='uniform' does not match"),
    ("motion", "uniform", r"kernel_name='motion' does not match the kernel array "
                          r"\(shape \(9, 9\)\)"),
])
def test_bad_kernel_name_is_rejected(name, kernel, message):
    arrays = {None: None, "uniform": uniform_kernel(), "uniform5": uniform_kernel(5)}
    with pytest.raises(ValueError, match=message):
        check_kernel_name(name, arrays[kernel])
