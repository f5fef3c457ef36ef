"""Reference point of every table: the back-projection A^T y clipped to [0, 1], no iteration.

Not an iterative method, so not a ``CallbackSolver``: benchopt runs it once (``run_once``).
"""

from benchopt import BaseSolver

from benchmark.glue.cache_key import LibraryFingerprint
from benchmark.glue.runner import prepare_problem
from benchmark.maths.physics import CUSTOM_KERNEL, check_alpha, check_kernel_name


class Solver(LibraryFingerprint, BaseSolver):
    name = "backprojection"
    sampling_strategy = "run_once"
    parameters = {"device": ["auto"]}

    def set_objective(self, y, kernel, alpha, kernel_name=CUSTOM_KERNEL):
        # unused here, but bad ones are an error for every solver
        check_alpha(alpha)
        check_kernel_name(kernel_name)
        self.y, self.operator, self.torch_device = prepare_problem(y, kernel, self.device)

    def run(self, _):
        self.x = self.operator.A_adjoint(self.y).clamp(0.0, 1.0)

    def get_result(self):
        return dict(x=self.x)
