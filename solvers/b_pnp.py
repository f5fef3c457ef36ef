"""B-PnP (Hurault, Kamilov, Leclaire, Papadakis, NeurIPS 2023): Bregman proximal gradient with the
trained Bregman score denoiser as Bregman proximal operator. Parameters at "preset" come from the
preset ("tuned" or "paper") per alpha (``benchmark/algorithms/presets.py``); maths in
``benchmark/algorithms/bregman_pnp.py``.
"""

from benchmark.algorithms.bregman_pnp import BregmanPnP
from benchmark.glue.bregman_solver import FROM_PRESET, BregmanSolver


class Solver(BregmanSolver):
    name = "b_pnp"
    algorithm_class = BregmanPnP
    preset_parameters = ("lam", "lam_init", "noise_level", "noise_level_init", "denoiser_weight")
    parameters = {
        "preset": ["tuned"],
        "lam": [FROM_PRESET],
        "lam_init": [FROM_PRESET],
        "noise_level": [FROM_PRESET],
        "noise_level_init": [FROM_PRESET],
        "denoiser_weight": [FROM_PRESET],
        "backtracking": [False],
        "symmetry": ["none"],
        "tol": [1e-7],
        "max_iter": [1000],
        "device": ["auto"],
    }
