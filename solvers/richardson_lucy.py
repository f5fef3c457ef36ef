"""Richardson-Lucy (EM) deconvolution, stopped by the Poisson discrepancy principle.

Richardson (JOSA 1972), Lucy (AJ 1974); stopping rule of Bertero et al. (Inverse Problems 2010).
Maths in ``benchmark/algorithms/richardson_lucy.py``.
"""

from benchmark.algorithms.richardson_lucy import RichardsonLucy
from benchmark.glue.solver import CallbackSolver


class Solver(CallbackSolver):
    name = "richardson_lucy"
    parameters = {
        "discrepancy_target": [1.0],
        "max_iter": [500],
        "device": ["auto"],
    }

    def build(self):
        return RichardsonLucy(self.y, self.operator, self.alpha, self.max_iter,
                              self.discrepancy_target)
