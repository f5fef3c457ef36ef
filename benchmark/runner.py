"""Glue between the step-by-step algorithms and benchopt's callback strategy (no benchopt here)."""

import torch

from benchmark.device import select_device
from benchmark.physics import blur_operator, check_observation


def prepare_problem(y, kernel, device="auto"):
    """Move the observation to ``device`` ("auto": CUDA when there) and build the blur there.

    :return: ``(y, operator, device)``.
    """
    device = select_device(device)
    y = check_observation(torch.as_tensor(y, dtype=torch.float32)).to(device)
    operator = blur_operator(kernel, tuple(y.shape[1:]), device=device)
    return y, operator, device


def run_iterations(algorithm, callback):
    """One algorithm iteration per ``callback()`` call until either side says stop.

    ``callback()`` records the current estimate (benchopt's ``cb``) and returns False when
    benchopt's own limits are hit; the algorithm stops by its ``stop_reason``. The stop test runs
    after the callback, so the final iterate is always recorded.
    """
    with torch.no_grad():
        while callback():
            if algorithm.stop_reason is not None:
                break
            algorithm.step()
