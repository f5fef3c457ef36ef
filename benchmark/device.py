"""Device selection shared by every solver: CUDA when it is there, CPU otherwise."""

import ctypes
import ctypes.util
import time

import torch

from benchmark.environment import switch
from benchmark.parameters import check_device


def select_device(requested="auto"):
    """``torch.device`` for ``requested`` in {"auto", "cpu", "cuda", "cuda:<index>"}; "auto"
    prefers CUDA. Any other value is a ValueError that lists these.

    On CUDA, convolutions and matrix products run in full float32: cuDNN's default TF32 keeps 10
    mantissa bits, about 1e-3 relative error on the network's gradient, far above the fixed-point
    residual (1e-5) that DEQ-MD's equilibrium solver must resolve.
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
    elif cpu_memory_kept():
        keep_freed_cpu_memory()
    return device


# "0" leaves glibc's malloc as it is on a CPU (a process then returns the memory it frees: for a
# small machine running the `d4` symmetry on large batches); "1", the default, keeps it.
ENV_KEEP_CPU_MEMORY = "POISSON_DEBLUR_KEEP_CPU_MEMORY"


def cpu_memory_kept():
    """Whether :func:`select_device` applies :func:`keep_freed_cpu_memory` on a CPU: the
    :func:`~benchmark.environment.switch` ``POISSON_DEBLUR_KEEP_CPU_MEMORY``, on by default."""
    return switch(ENV_KEEP_CPU_MEMORY, default=True)


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
    freed blocks are reused; the process keeps its peak memory. ``scripts/bench_cpu_memory.py``
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
