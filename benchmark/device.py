"""Device selection shared by every solver: CUDA when it is there, CPU otherwise."""

import torch


def select_device(requested="auto"):
    """``torch.device`` for ``requested`` in {"auto", "cpu", "cuda"}; "auto" prefers CUDA."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was requested but torch sees no CUDA device.")
    return torch.device(requested)
