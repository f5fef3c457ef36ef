"""Device selection shared by every solver: CUDA when it is there, CPU otherwise."""

import torch

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
    return device


def describe_device(device):
    """``"cpu (N threads)"`` or ``"cuda (<GPU name>)"``: what a run used, for provenance files."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"{device.type} ({torch.get_num_threads()} threads)"
