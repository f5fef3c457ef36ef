"""TV-MD: smoothed-TV regularised KL, minimised by Burg-entropy mirror descent with backtracking.

The model-based baseline of Daniele et al. (arXiv 2507.11461). ``lam="tuned"`` takes the weight
tuned on CBSD68 for the data set's alpha (``benchmark/algorithms/presets.py``); another alpha > 0
gets the tuned weights interpolated in log alpha, clamped at the ends (printed in the run's output);
a number overrides it.
"""

from benchmark.algorithms.presets import resolve_lambda
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.glue.runner import announce
from benchmark.glue.solver import CallbackSolver


class Solver(CallbackSolver):
    name = "tv_md"
    parameters = {
        "lam": ["tuned"],
        "smoothing": [1e-2],
        "tol": [1e-5],
        "max_iter": [1000],
        "device": ["auto"],
    }

    def prepare(self):
        self.weight = resolve_lambda("tv_md", self.lam, self.alpha, announce)

    def build(self):
        return TVMirrorDescent(self.y, self.operator, self.weight, self.smoothing, self.tol,
                               self.max_iter)
