"""TV-MD: smoothed-TV regularised KL, minimised by Burg-entropy mirror descent with backtracking.

The model-based baseline of Daniele et al. (arXiv 2507.11461). ``lam="tuned"`` takes the weight
tuned on CBSD68 for the data set's alpha (``benchmark/algorithms/presets.py``); another alpha > 0 gets
the tuned weights interpolated in log alpha, clamped at the ends (printed in the run's output);
a number overrides it.
"""

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.glue.cache_key import LibraryFingerprint
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.glue.runner import announce, prepare_problem, run_iterations
from benchmark.algorithms.presets import resolve_lambda


class Solver(LibraryFingerprint, BaseSolver):
    name = "tv_md"
    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")
    parameters = {
        "lam": ["tuned"],
        "smoothing": [1e-2],
        "tol": [1e-5],
        "max_iter": [1000],
        "device": ["auto"],
    }

    def set_objective(self, y, kernel, alpha):
        self.y, self.operator, self.torch_device = prepare_problem(y, kernel, self.device)
        self.weight = resolve_lambda("tv_md", self.lam, alpha, announce)

    def run(self, cb):
        self.algorithm = TVMirrorDescent(self.y, self.operator, self.weight, self.smoothing,
                                         self.tol, self.max_iter)
        run_iterations(self.algorithm, cb)

    def get_result(self):
        return dict(x=self.algorithm.x)
