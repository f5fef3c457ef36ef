r"""Forward model of the benchmark: blur kernels, the circular blur operator and Poisson noise.

The observation model is

.. math::

    y \sim \mathcal{P}(\alpha A x) / \alpha, \qquad x \in [0, 1]^{3 \times H \times W},

where :math:`A` is a circular 2-D convolution (deepinv's ``BlurFFT``) with a kernel that is
non-negative and sums to one, and :math:`\alpha > 0` is the photon count of a white pixel (a
larger :math:`\alpha` means less noise).

Kernels (the settings of Daniele et al., arXiv 2507.11461):

* ``gaussian``: isotropic Gaussian, :math:`\sigma = 1.2`, 11x11 support;
* ``uniform``: 9x9 box;
* ``motion``: kernel 7 (0-based) of Levin et al., "Understanding and evaluating blind
  deconvolution algorithms", CVPR 2009; 23x23.
"""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmark.data.paths import (
    DataNotFoundError,
    cache_dir,
    download_allowed,
    find_data_dir,
    not_found_message,
)

KERNEL_NAMES = ("gaussian", "uniform", "motion")
# The kernel name of an array that is none of KERNEL_NAMES (see check_kernel_name).
CUSTOM_KERNEL = "custom"
ALPHAS = (40, 60, 100)
NOISE_LEVEL_NAMES = {40: "high", 60: "medium", 100: "low"}
LEVIN_MOTION_INDEX = 7
MOTION_KERNEL_SHAPE = (23, 23)  # kernel LEVIN_MOTION_INDEX of Levin09.mat


def gaussian_kernel(sigma=1.2):
    """Isotropic Gaussian kernel of standard deviation ``sigma`` (deepinv's functional version)."""
    from deepinv.physics.functional import gaussian_blur  # noqa: PLC0415 (heavy: deepinv)

    return gaussian_blur(sigma=(sigma, sigma))[0, 0].to(torch.float32)


def uniform_kernel(size=9):
    """Uniform ``size`` x ``size`` box kernel."""
    return torch.full((size, size), 1.0 / size**2, dtype=torch.float32)


def read_levin_mat(path, index=LEVIN_MOTION_INDEX):
    """Kernel ``index`` (0-based) of Levin09.mat (MATLAB v7.3, i.e. HDF5, variable ``kernels``).

    MATLAB stores arrays column-major, so h5py reads each kernel transposed; we transpose back.
    """
    import h5py  # noqa: PLC0415 (only for Levin09.mat)

    with h5py.File(path, "r") as f:
        refs = f["kernels"][()].ravel()
        if not 0 <= index < refs.size:
            raise ValueError(f"{path} holds {refs.size} kernels; index {index} is out of range.")
        kernel = np.array(f[refs[index]], dtype=np.float64).T
    return torch.from_numpy(kernel / kernel.sum()).to(torch.float32)


def download_levin_npy(index):
    """Download deepinv's Levin09.npy into its cache, leaving no file behind on failure."""
    from deepinv.utils.demo import load_degradation  # noqa: PLC0415 (heavy: deepinv)

    target = cache_dir() / "degradations" / "Levin09.npy"
    if not target.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            load_degradation("Levin09.npy", data_dir=tmp, index=index, download=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".npy.part")
            try:
                shutil.copyfile(Path(tmp) / "Levin09.npy", partial)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
    kernel = np.load(target, allow_pickle=True)[index].astype(np.float64)
    return torch.from_numpy(kernel / kernel.sum()).to(torch.float32)


def motion_kernel(index=LEVIN_MOTION_INDEX, extra_dirs=()):
    """Levin et al. (2009) motion kernel ``index``: local ``kernels/Levin09.mat`` first, else
    download.

    ``extra_dirs``: more folders to search for ``Levin09.mat`` (see :mod:`benchmark.data.paths`).
    """
    local = find_data_dir("kernels", required_files=("Levin09.mat",), extra_dirs=extra_dirs)
    if local is not None:
        return read_levin_mat(local / "Levin09.mat", index)
    cached = cache_dir() / "degradations" / "Levin09.npy"
    if cached.is_file() or download_allowed():
        try:
            return download_levin_npy(index)
        except Exception as exc:
            raise DataNotFoundError(
                not_found_message("kernels", "The motion kernel file Levin09.mat",
                                  f"its download failed ({exc})", extra_dirs)
            ) from exc
    raise DataNotFoundError(
        not_found_message("kernels", "The motion kernel file Levin09.mat",
                          "downloads are disabled (POISSON_DEBLUR_OFFLINE=1)", extra_dirs)
    )


def check_kernel(kernel, atol=1e-4):
    """Validate a blur kernel: a finite, non-negative 2-D array that sums to one."""
    kernel = torch.as_tensor(kernel, dtype=torch.float32)
    if kernel.ndim != 2:
        raise ValueError(f"A blur kernel must be a 2-D array, got shape {tuple(kernel.shape)}.")
    if not torch.isfinite(kernel).all():
        raise ValueError("The blur kernel contains NaN or infinite entries.")
    if (kernel < 0).any():
        raise ValueError(
            f"The blur kernel has negative entries (min {kernel.min().item():.3g}); "
            "a Poisson model needs a non-negative kernel."
        )
    total = kernel.sum().item()
    if abs(total - 1.0) > atol:
        raise ValueError(f"The blur kernel must sum to 1, it sums to {total:.6g}.")
    return kernel


def get_kernel(kernel, extra_dirs=()):
    """A validated 2-D kernel from a name in :data:`KERNEL_NAMES` or from an array.

    ``extra_dirs`` is passed to :func:`motion_kernel` (where to look for ``Levin09.mat``).
    """
    if isinstance(kernel, str):
        if kernel not in KERNEL_NAMES:
            raise ValueError(f"Unknown kernel {kernel!r}; choose one of {KERNEL_NAMES}.")
        if kernel == "gaussian":
            kernel = gaussian_kernel()
        elif kernel == "uniform":
            kernel = uniform_kernel()
        else:
            kernel = motion_kernel(extra_dirs=extra_dirs)
    return check_kernel(kernel)


def check_kernel_name(name, kernel=None):
    """Validate the name that travels with a kernel array from the dataset to the solvers.

    ``name`` is one of :data:`KERNEL_NAMES`, or :data:`CUSTOM_KERNEL` for an array that is none of
    them (a learned solver then takes its weights trained on all kernels). With ``kernel`` (the
    array), a named kernel must be that kernel: ``gaussian`` and ``uniform`` are compared with
    the kernels they name (built in memory), ``motion`` by its shape only, so that Levin09.mat is
    not read again.
    """
    allowed = KERNEL_NAMES + (CUSTOM_KERNEL,)
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"unknown kernel_name {name!r}; choose one of "
                         f"{', '.join(repr(n) for n in allowed)} (a kernel array of your own is "
                         f"{CUSTOM_KERNEL!r}).")
    if kernel is None or name == CUSTOM_KERNEL:
        return name
    kernel = torch.as_tensor(kernel, dtype=torch.float32)
    if name == "motion":
        same = tuple(kernel.shape) == MOTION_KERNEL_SHAPE
    else:
        reference = gaussian_kernel() if name == "gaussian" else uniform_kernel()
        same = kernel.shape == reference.shape and torch.allclose(kernel, reference, atol=1e-6)
    if not same:
        raise ValueError(f"kernel_name={name!r} does not match the kernel array (shape "
                         f"{tuple(kernel.shape)}): name the kernel it is, or {CUSTOM_KERNEL!r} "
                         "for a kernel array of your own.")
    return name


def check_alpha(alpha):
    """Validate the Poisson scale: a finite number > 0."""
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"The Poisson scale alpha must be a finite number > 0, got {alpha}.")
    return alpha


def blur_operator(kernel, img_size, device="cpu"):
    r"""Circular blur :math:`x \mapsto k * x` as deepinv's ``BlurFFT`` on images of ``img_size``.

    :param kernel: 2-D kernel (validated by :func:`check_kernel`).
    :param tuple img_size: ``(C, H, W)``; the kernel must fit inside ``(H, W)``.
    """
    from deepinv.physics import BlurFFT  # noqa: PLC0415 (heavy: deepinv)

    kernel = check_kernel(kernel)
    channels, height, width = img_size
    if kernel.shape[0] > height or kernel.shape[1] > width:
        raise ValueError(
            f"The kernel ({tuple(kernel.shape)}) is larger than the image ({height}, {width})."
        )
    return BlurFFT(img_size=(channels, height, width), filter=kernel[None, None].to(device),
                   device=device)


def check_image_batch(x, name="x"):
    """Validate a batch of images of shape (B, C, H, W) with finite entries."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        shape = tuple(x.shape) if hasattr(x, "shape") else type(x).__name__
        raise ValueError(f"{name} must be a tensor of shape (B, C, H, W), got {shape}.")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values.")
    return x


def check_observation(y):
    """Validate Poisson observations: a finite, non-negative (B, C, H, W) tensor."""
    check_image_batch(y, "The observation y")
    if (y < 0).any():
        raise ValueError(
            f"The observation y has negative entries (min {y.min().item():.3g}); "
            "Poisson data are non-negative counts."
        )
    return y


def poisson_noise(clean, alpha, seed):
    r"""Draw :math:`y = \mathcal{P}(\alpha z) / \alpha` from a seeded generator.

    ``clean`` (:math:`z = Ax`) is clipped at 0 first: the FFT blur of a non-negative image can be
    slightly negative. The same ``seed`` gives the same ``y`` bit for bit on the same device.
    """
    alpha = check_alpha(alpha)
    generator = torch.Generator(device=clean.device).manual_seed(int(seed))
    rate = alpha * clean.clamp(min=0)
    return torch.poisson(rate, generator=generator) / alpha


def simulate(x, kernel, alpha, seed):
    """Blur the batch ``x`` with ``kernel`` and draw Poisson noise: returns ``(y, operator)``."""
    check_image_batch(x, "The ground truth x")
    operator = blur_operator(kernel, tuple(x.shape[1:]), device=x.device)
    y = poisson_noise(operator.A(x), alpha, seed)
    return y, operator
