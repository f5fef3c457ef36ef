"""B-RED (Hurault, Kamilov, Leclaire, Papadakis, NeurIPS 2023): Bregman RED, mirror descent on
lam KL(y, A.) + g_gamma with the trained Bregman score denoiser. Parameters at "preset" come from
the preset ("tuned" or "paper") per alpha (``benchmark/algorithms/presets.py``); maths in
``benchmark/algorithms/bregman_pnp.py``.
"""

from benchmark.algorithms.bregman_pnp import BregmanRED
from benchmark.glue.bregman_solver import FROM_PRESET, BregmanSolver


class Solver(BregmanSolver):
    name = "b_red"
    algorithm_class = BregmanRED
    preset_parameters = ("lam", "lam_init", "noise_level", "noise_level_init", "tau", "tau_init")
    parameters = {
        "preset": ["tuned"],
        "lam": [FROM_PRESET],
        "lam_init": [FROM_PRESET],
        "noise_level": [FROM_PRESET],
        "noise_level_init": [FROM_PRESET],
        "tau": [FROM_PRESET],
        "tau_init": [FROM_PRESET],
        "backtracking": [False],
        "symmetry": ["none"],
        "tol": [1e-7],
        "max_iter": [1000],
        "device": ["auto"],
    }
