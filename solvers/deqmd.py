"""DEQ-MD (Daniele, Villa, Vaiter, Calatroni, arXiv 2507.11461): the fixed point of a Burg-entropy
mirror step on KL(y, A.) + R_theta, with a learned regulariser R_theta shipped in
``benchmark/networks/weights/``. One benchopt iteration is one iteration of the fixed-point solver, so the
PSNR-versus-time curve shows the convergence.

``solver`` picks how the fixed point is reached (``benchmark/algorithms/equilibrium.py``): ``mirror`` is the
paper's iteration and stopping rule (relative change < 2.5e-5, an early-stopped iterate), ``lbfgs``
a projected quasi-Newton method run to a fixed-point residual < 1e-5 (the equilibrium itself).
``tol`` and ``max_iter`` default to the solver's own (``benchmark.algorithms.deqmd.DEFAULT_TOL`` /
``DEFAULT_MAX_ITER``). Maths in ``benchmark/algorithms/deqmd.py``; networks in ``benchmark/networks/regularizers.py``;
weights chosen by (regularizer, kernel, alpha).
"""

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.glue.cache_key import LibraryFingerprint
from benchmark.algorithms.deqmd import PoissonPotential, check_solver_name, make_solver
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import kernel_name_of
from benchmark.networks.regularizers import check_regularizer_name
from benchmark.glue.runner import prepare_problem, run_iterations
from benchmark.networks.registry import WeightsError, find_checkpoint, load_regularizer


class Solver(LibraryFingerprint, BaseSolver):
    name = "deqmd"
    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")
    parameters = {
        "regularizer": ["red"],
        "solver": ["mirror"],
        "tol": [None],
        "max_iter": [None],
        "device": ["auto"],
    }

    def skip(self, y, kernel, alpha):
        check_regularizer_name(self.regularizer)
        check_solver_name(self.solver)
        try:
            find_checkpoint(self.regularizer, kernel_name_of(kernel), alpha)
        except WeightsError as exc:
            return True, str(exc)
        return False, None

    def set_objective(self, y, kernel, alpha):
        self.y, self.operator, self.torch_device = prepare_problem(y, kernel, self.device)
        self.model, self.weights = load_regularizer(self.regularizer, kernel_name_of(kernel),
                                                    alpha, self.torch_device)

    def run(self, cb):
        potential = PoissonPotential(self.y, self.operator, self.model)
        self.algorithm = make_solver(self.solver, potential,
                                     initial_point(self.y, self.operator), self.tol,
                                     self.max_iter)
        run_iterations(self.algorithm, cb)

    def get_result(self):
        return dict(x=self.algorithm.x)
