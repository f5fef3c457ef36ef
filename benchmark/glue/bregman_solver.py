"""The base class of the benchopt solvers B-RED and B-PnP: what they share.

Parameters left at ``"preset"`` come from the solver's ``preset`` ("tuned" on CBSD68 for the shipped
denoiser, or "paper") in :mod:`benchmark.algorithms.presets`, for the data set's alpha; a number
overrides the preset. ``symmetry`` averages the denoiser's potential over a group of image
symmetries (:mod:`benchmark.networks.symmetry`), as DEQ-MD's ``symmetry`` does; the presets were
tuned with ``"none"``, the default. An alpha without an entry, and no value given, makes the
solver skip with a message that says so (no silent default).
"""

from benchmark.algorithms.bregman_pnp import BregmanPnPParameters
from benchmark.algorithms.presets import BREGMAN_PNP_PRESETS, bregman_pnp_parameters
from benchmark.glue.solver import CallbackSolver
from benchmark.networks.registry import WeightsError, load_bregman_denoiser
from benchmark.networks.symmetry import check_symmetry_name
from benchmark.parameters import check_choice, check_choice_or_number, check_device

FROM_PRESET = "preset"


class BregmanSolver(CallbackSolver):
    """A :class:`~benchmark.glue.solver.CallbackSolver` that runs ``algorithm_class`` (B-RED or
    B-PnP, built as ``algorithm_class(y, operator, denoiser, parameters, backtracking, tol,
    max_iter, symmetry=symmetry)``) with the shipped Bregman score denoiser.

    Subclasses set ``name``, ``parameters`` (``preset``, ``backtracking``, ``symmetry``, ``tol``,
    ``max_iter``, ``device`` and those of ``preset_parameters``), ``algorithm_class`` and
    ``preset_parameters`` (the parameters that default to the preset).
    """

    algorithm_class = None
    preset_parameters = ()

    def check_parameters(self):
        """ValueError on a parameter outside its set of values (the allowed ones in the text)."""
        check_choice("preset", self.preset, sorted(BREGMAN_PNP_PRESETS))
        self.algorithm_class.check_backtracking(self.backtracking)
        check_symmetry_name(self.symmetry)
        check_device(self.device)
        for name in self.preset_parameters:
            check_choice_or_number(name, getattr(self, name), (FROM_PRESET,))

    def parameters_for(self, alpha):
        """The algorithm's parameters for ``alpha``: the preset's, overridden by those given."""
        given = {name: getattr(self, name) for name in self.preset_parameters}
        values = {k: float(v) for k, v in given.items() if v != FROM_PRESET}
        if len(values) < len(given):
            values = {**bregman_pnp_parameters(self.name, alpha, self.preset), **values}
        return BregmanPnPParameters(**values)

    def skip_reason(self, alpha, kernel_name):
        """An alpha that the preset has no entry for (the message names the alphas that have
        one), or a missing denoiser."""
        try:
            self.parameters_for(alpha)
            load_bregman_denoiser()
        except (ValueError, WeightsError) as exc:
            return str(exc)
        return None

    def prepare(self):
        self.algorithm_parameters = self.parameters_for(self.alpha)
        self.denoiser, self.weights = load_bregman_denoiser(self.torch_device)

    def build(self):
        return self.algorithm_class(self.y, self.operator, self.denoiser, self.algorithm_parameters,
                                    self.backtracking, self.tol, self.max_iter,
                                    symmetry=self.symmetry)
