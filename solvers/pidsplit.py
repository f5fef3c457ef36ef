"""PIDSplit+ (Setzer, Steidl, Teuber 2010): ADMM for KL + TV with every sub-step in closed form.

``lam="tuned"`` takes the TV weight tuned on CBSD68 for the data set's alpha
(``benchmark/algorithms/presets.py``); another alpha > 0 gets the tuned weights interpolated in log
alpha, clamped at the ends (printed in the run's output); a number overrides it. Maths in
``benchmark/algorithms/pidsplit.py``.
"""

from benchmark.algorithms.pidsplit import PIDSplitPlus
from benchmark.algorithms.presets import resolve_lambda
from benchmark.glue.runner import announce
from benchmark.glue.solver import CallbackSolver


class Solver(CallbackSolver):
    name = "pidsplit"
    parameters = {
        "lam": ["tuned"],
        "gamma": [10.0],
        "tol": [1e-5],
        "max_iter": [1000],
        "device": ["auto"],
    }

    def prepare(self):
        self.weight = resolve_lambda("pidsplit", self.lam, self.alpha, announce)

    def build(self):
        return PIDSplitPlus(self.y, self.operator, self.weight, self.gamma, self.tol,
                            self.max_iter)
