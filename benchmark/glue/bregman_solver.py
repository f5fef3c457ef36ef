"""What the benchopt solvers B-RED and B-PnP share (no benchopt import here).

Parameters left at ``"preset"`` come from the solver's ``preset`` ("tuned" on CBSD68 for the shipped
denoiser, or "paper") in :mod:`benchmark.algorithms.presets`, for the data set's alpha; a number
overrides the preset. An alpha without an entry, and no value given, makes the solver skip with a
message that says so (no silent default).
"""

from benchmark.algorithms.bregman_pnp import BregmanPnPParameters
from benchmark.parameters import check_choice, check_choice_or_number, check_device
from benchmark.glue.runner import prepare_problem, run_iterations
from benchmark.algorithms.presets import BREGMAN_PNP_PRESETS, bregman_pnp_parameters
from benchmark.networks.registry import WeightsError, load_bregman_denoiser

FROM_PRESET = "preset"


class BregmanPnPSolverMixin:
    """``skip``/``set_objective``/``run``/``get_result`` for a solver with ``algorithm``,
    ``preset`` and ``preset_parameters`` (benchopt parameters that default to the preset)."""

    def check_parameters(self):
        """ValueError on a parameter outside its set of values (the allowed ones in the text)."""
        check_choice("preset", self.preset, sorted(BREGMAN_PNP_PRESETS))
        check_choice("backtracking", self.backtracking, (False, True))
        check_device(self.device)
        for name in self.preset_parameters:
            check_choice_or_number(name, getattr(self, name), (FROM_PRESET,))

    def parameters_for(self, alpha):
        self.check_parameters()
        given = {name: getattr(self, name) for name in self.preset_parameters}
        values = {k: float(v) for k, v in given.items() if v != FROM_PRESET}
        if len(values) < len(given):
            values = {**bregman_pnp_parameters(self.name, alpha, self.preset), **values}
        return BregmanPnPParameters(**values)

    def skip(self, y, kernel, alpha):
        """Skip an alpha that the preset has no entry for (the message names the alphas that
        have one) and a missing denoiser; a wrong parameter value is an error, not a skip."""
        self.check_parameters()
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
