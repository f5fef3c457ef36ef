"""What the benchopt solvers B-RED and B-PnP share (no benchopt import here).

Parameters left at ``"paper"`` come from the table of :mod:`benchmark.tuned_parameters` for the data
set's alpha; a number overrides the table entry. An alpha without an entry, and no value given,
makes the solver skip with a message that says so (no silent default).
"""

from benchmark.algorithms.bregman_pnp import BregmanPnPParameters
from benchmark.runner import prepare_problem, run_iterations
from benchmark.tuned_parameters import bregman_pnp_parameters
from benchmark.weights import WeightsError, load_bregman_denoiser

FROM_TABLE = "paper"


class BregmanPnPSolverMixin:
    """``skip``/``set_objective``/``run``/``get_result`` for a solver with ``algorithm`` and
    ``table_parameters`` (names of benchopt parameters that default to the table)."""

    def parameters_for(self, alpha):
        given = {name: getattr(self, name) for name in self.table_parameters}
        values = {k: float(v) for k, v in given.items() if v != FROM_TABLE}
        if len(values) < len(given):
            values = {**bregman_pnp_parameters(self.name, alpha), **values}
        return BregmanPnPParameters(**values)

    def skip(self, y, kernel, alpha):
        try:
            self.parameters_for(alpha)
            load_bregman_denoiser()
        except (ValueError, WeightsError) as exc:
            return True, str(exc)
        return False, None

    def set_objective(self, y, kernel, alpha):
        self.y, self.operator, self.torch_device = prepare_problem(y, kernel, self.device)
        self.algorithm_parameters = self.parameters_for(alpha)
        self.denoiser, self.weights = load_bregman_denoiser(self.torch_device)

    def run(self, cb):
        self.iterations = self.algorithm(self.y, self.operator, self.denoiser,
                                         self.algorithm_parameters, self.backtracking, self.tol,
                                         self.max_iter)
        run_iterations(self.iterations, cb)

    def get_result(self):
        return dict(x=self.iterations.x)
