"""Device selection shared by every solver: CUDA when it is there, CPU otherwise."""

import ctypes
import ctypes.util
import time
import warnings

import torch

from benchmark.environment import switch
from benchmark.parameters import check_device


def select_device(requested="auto"):
    """``torch.device`` for ``requested`` in {"auto", "cpu", "cuda", "cuda:<index>"}; "auto"
    prefers CUDA. Any other value is a ValueError that lists these.

    On CUDA, convolutions and matrix products run in full float32: cuDNN's default TF32 keeps 10
    mantissa bits, about 1e-3 relative error on the network's gradient, far above the fixed-point
    residual (1e-5) that DEQ-MD's equilibrium solver must resolve.

    On a CPU, glibc's malloc keeps the memory torch frees (:func:`keep_freed_cpu_memory`, unless
    ``POISSON_DEBLUR_KEEP_CPU_MEMORY=0``) and subnormal floats are flushed to 0
    (:func:`flush_denormals`, unless ``POISSON_DEBLUR_FLUSH_DENORMALS=0``), with a RuntimeWarning
    when some of torch's threads still keep them.
    """
    if isinstance(requested, torch.device):
        requested = str(requested)
    check_device(requested)
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was requested but torch sees no CUDA device.")
    device = torch.device(requested)
    if device.type == "cuda":
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    else:
        if cpu_memory_kept():
            keep_freed_cpu_memory()
        if denormals_flushed_by_default() and flush_denormals() and subnormals_survive():
            warnings.warn(LATE_FLUSH, RuntimeWarning, stacklevel=2)
    return device


# "0" leaves glibc's malloc as it is on a CPU (a process then returns the memory it frees: for a
# small machine running the `d4` symmetry on large batches); "1", the default, keeps it.
ENV_KEEP_CPU_MEMORY = "POISSON_DEBLUR_KEEP_CPU_MEMORY"


def cpu_memory_kept():
    """Whether :func:`select_device` applies :func:`keep_freed_cpu_memory` on a CPU: the
    :func:`~benchmark.environment.switch` ``POISSON_DEBLUR_KEEP_CPU_MEMORY``, on by default."""
    return switch(ENV_KEEP_CPU_MEMORY, default=True)


# "0" leaves subnormal floats as they are on a CPU; "1", the default, flushes them to 0.
ENV_FLUSH_DENORMALS = "POISSON_DEBLUR_FLUSH_DENORMALS"

LATE_FLUSH = ("some of torch's CPU threads keep subnormal floats: they were started before "
              "subnormals were flushed, by parallel torch code run before `benchmark` was "
              "imported. The networks may run several times slower on this CPU (the results do "
              "not change); import `benchmark` before running torch code, or set "
              f"{ENV_FLUSH_DENORMALS}=0 to silence this.")


def denormals_flushed_by_default():
    """Whether ``import benchmark`` and :func:`select_device` flush subnormal floats on a CPU
    (:func:`flush_denormals`): the :func:`~benchmark.environment.switch`
    ``POISSON_DEBLUR_FLUSH_DENORMALS``, on by default."""
    return switch(ENV_FLUSH_DENORMALS, default=True)


def flush_denormals():
    """Make this thread's CPU arithmetic read and write subnormal floats as 0 (flush-to-zero and
    denormals-are-zero, ``torch.set_flush_denormal``).

    The RED potential's Softplus(100) writes :math:`e^{100 t}` for its negative pre-activations,
    subnormal in float32 (below :math:`2^{-126}`) for :math:`t` from about -0.87 to -1.03, and its
    gradients and second derivatives multiply such numbers again. x86 CPUs handle a subnormal
    operand or result by a microcode assist of about a hundred cycles: on the Intel Xeon of
    results/protocol.md ("Subnormal floats") a training step of the network took 11 times longer,
    its gradient on three 256x256 images 8 times, than with subnormals flushed
    (``scripts/bench_cpu_settings.py --setting denormals``). What is flushed is below
    :math:`10^{-38}`: outputs agree to that level, and PSNR and SSIM do not change (a path to an
    equilibrium can part by rounding, as between two CPUs).

    The mode belongs to a thread, and a thread starts with its creator's: torch's OpenMP workers,
    started by the first parallel operation of the process, take it only when it was set before.
    ``import benchmark`` therefore calls this function first; :func:`select_device` calls it again
    and warns when :func:`subnormals_survive`. Returns ``False`` where the CPU has no such mode.
    """
    return torch.set_flush_denormal(True)


# 2**-100 * 2**-30 = 2**-130 is subnormal in float32 (smallest normal number: 2**-126)
TINY, TINIER = 2.0**-100, 2.0**-30
# elements per thread of the probe: twice torch's grain size, so that every thread takes a share
PROBE_PER_THREAD = 2 * 32768


def subnormals_survive():
    """Whether a product of normal floats that is subnormal comes out nonzero in one of torch's CPU
    threads: a float32 tensor of :data:`PROBE_PER_THREAD` elements per thread times a scalar."""
    tiny = torch.full((PROBE_PER_THREAD * torch.get_num_threads(),), TINY)
    return bool((tiny * TINIER).ne(0).any())


# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
INT_MAX = 2**31 - 1


def keep_freed_cpu_memory():
    """Make glibc's malloc keep the memory torch frees on a CPU, for the next tensors.

    torch takes each CPU tensor from malloc. glibc serves a large block (above 128 KiB to 32 MiB)
    with a fresh ``mmap`` and unmaps it when it is freed, and gives the top of its heap back to the
    system above 128 KiB: every call of the network then pays again for the page faults of its
    activations (64 channels per pixel: 50 MB per layer for three 256x256 images). With ``mmap``
    off (``M_MMAP_MAX = 0``) and the heap never trimmed (``M_TRIM_THRESHOLD`` at its maximum), the
    freed blocks are reused; the process keeps its peak memory. ``scripts/bench_cpu_settings.py``
    measures the time and the peak memory with and without it. PyTorch's CPU performance guide
    gives the same cause for preferring a caching allocator (jemalloc, TCMalloc).

    Process-wide, as the TF32 switches of :func:`select_device`. Returns whether it was applied:
    ``False`` where the C library has no ``mallopt`` (macOS, Windows) or refuses it.
    """
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c")).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, INT_MAX))


def describe_device(device):
    """``"cpu (N threads)"`` or ``"cuda (<GPU name>)"``: what a run used, for provenance files."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({torch.get_num_threads()} threads)"


def timed_call(fn, device):
    """``(fn(), seconds)``: the wall-clock time of one call, with the queue of a CUDA ``device``
    emptied before the clock starts and before it stops (CUDA kernels run asynchronously)."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    result = fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return result, time.perf_counter() - start
