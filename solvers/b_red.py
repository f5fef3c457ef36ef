"""B-RED (Hurault, Kamilov, Leclaire, Papadakis, NeurIPS 2023): Bregman RED, mirror descent on
lam KL(y, A.) + g_gamma with the trained Bregman score denoiser. Parameters at "paper" come from
the table per alpha (``benchmark/tuned_parameters.py``); maths in
``benchmark/algorithms/bregman_pnp.py``.
"""

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.algorithms.bregman_pnp import BregmanRED
from benchmark.bregman_solver import FROM_TABLE, BregmanPnPSolverMixin
from benchmark.cache_key import LibraryFingerprint


class Solver(LibraryFingerprint, BregmanPnPSolverMixin, BaseSolver):
    name = "b_red"
    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")
    algorithm = BregmanRED
    table_parameters = ("lam", "lam_init", "tau", "tau_init")
    parameters = {
        "lam": [FROM_TABLE],
        "lam_init": [FROM_TABLE],
        "tau": [FROM_TABLE],
        "tau_init": [FROM_TABLE],
        "backtracking": [False],
        "tol": [1e-7],
        "max_iter": [1000],
        "device": ["auto"],
    }
