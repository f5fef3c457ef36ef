"""PIDSplit+ (Setzer, Steidl, Teuber 2010): ADMM for KL + TV with every sub-step in closed form.

``lam="tuned"`` takes the TV weight tuned on CBSD68 for the data set's alpha
(``benchmark/algorithms/presets.py``); another alpha > 0 gets the tuned weights interpolated in log
alpha, clamped at the ends (printed in the run's output); a number overrides it. Maths in
``benchmark/algorithms/pidsplit.py``.
"""

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.glue.cache_key import LibraryFingerprint
from benchmark.algorithms.pidsplit import PIDSplitPlus
from benchmark.glue.runner import announce, prepare_problem, run_iterations
from benchmark.algorithms.presets import resolve_lambda


class Solver(LibraryFingerprint, BaseSolver):
    name = "pidsplit"
    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")
    parameters = {
        "lam": ["tuned"],
        "gamma": [10.0],
        "tol": [1e-5],
        "max_iter": [1000],
        "device": ["auto"],
    }

    def set_objective(self, y, kernel, alpha):
        self.y, self.operator, self.torch_device = prepare_problem(y, kernel, self.device)
        self.weight = resolve_lambda("pidsplit", self.lam, alpha, announce)

    def run(self, cb):
        self.algorithm = PIDSplitPlus(self.y, self.operator, self.weight, self.gamma, self.tol,
                                      self.max_iter)
        run_iterations(self.algorithm, cb)

    def get_result(self):
        return dict(x=self.algorithm.x)
