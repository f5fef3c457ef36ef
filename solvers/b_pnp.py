"""B-PnP (Hurault, Kamilov, Leclaire, Papadakis, NeurIPS 2023): Bregman proximal gradient with the
trained Bregman score denoiser as Bregman proximal operator. Parameters at "paper" come from the
table per alpha (``benchmark/tuned_parameters.py``); maths in
``benchmark/algorithms/bregman_pnp.py``.
"""

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.algorithms.bregman_pnp import BregmanPnP
from benchmark.bregman_solver import FROM_TABLE, BregmanPnPSolverMixin
from benchmark.cache_key import LibraryFingerprint


class Solver(LibraryFingerprint, BregmanPnPSolverMixin, BaseSolver):
    name = "b_pnp"
    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")
    algorithm = BregmanPnP
    table_parameters = ("lam", "lam_init", "denoiser_weight")
    parameters = {
        "lam": [FROM_TABLE],
        "lam_init": [FROM_TABLE],
        "denoiser_weight": [FROM_TABLE],
        "backtracking": [False],
        "tol": [1e-7],
        "max_iter": [1000],
        "device": ["auto"],
    }
