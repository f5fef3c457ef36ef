"""Richardson-Lucy (EM) deconvolution, stopped by the Poisson discrepancy principle.

Richardson (JOSA 1972), Lucy (AJ 1974); stopping rule of Bertero et al. (Inverse Problems 2010).
Maths in ``benchmark/algorithms/richardson_lucy.py``.
"""

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.glue.cache_key import LibraryFingerprint
from benchmark.algorithms.richardson_lucy import RichardsonLucy
from benchmark.glue.runner import prepare_problem, run_iterations


class Solver(LibraryFingerprint, BaseSolver):
    name = "richardson_lucy"
    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")
    parameters = {
        "discrepancy_target": [1.0],
        "max_iter": [500],
        "device": ["auto"],
    }

    def set_objective(self, y, kernel, alpha):
        self.y, self.operator, self.torch_device = prepare_problem(y, kernel, self.device)
        self.alpha = alpha

    def run(self, cb):
        self.algorithm = RichardsonLucy(self.y, self.operator, self.alpha, self.max_iter,
                                        self.discrepancy_target)
        run_iterations(self.algorithm, cb)

    def get_result(self):
        return dict(x=self.algorithm.x)
