"""DEQ-MD (Daniele, Villa, Vaiter, Calatroni, arXiv 2507.11461): the fixed point of a Burg-entropy
mirror step on KL(y, A.) + R_theta, with a learned regulariser R_theta shipped in
``benchmark/networks/weights/``. One benchopt iteration is one iteration of the fixed-point
solver, so the PSNR-versus-time curve shows the convergence.

``solver`` picks how the fixed point is reached (``benchmark/algorithms/deqmd.py``): ``lbfgs``
(default) a projected quasi-Newton method run to a fixed-point residual < 1e-5, the equilibrium
itself, where the shipped weights were trained; ``mirror`` the paper's iteration and stopping rule
(relative change < 2.5e-5, an early-stopped iterate), kept by name for reproduction. ``symmetry``
averages the learned potential over a group of image symmetries at test time
(``benchmark/networks/symmetry.py``): ``"none"`` (default: the network alone, the paper's
DEQ-MD), ``"flip"`` (the image and its mirror, about 1.3 to 2.7 times the time), ``"d4"`` (the 8
symmetries of the square, about 4 to 7 times). ``tol`` and
``max_iter`` default to the solver's own (``benchmark.algorithms.deqmd.DEFAULT_TOL`` /
``DEFAULT_MAX_ITER``). Networks in
``benchmark/networks/regularizers.py``; weights chosen by (regularizer, the objective's
``kernel_name``, alpha): a model trained for that kernel if there is one, else the one of that
alpha trained on all kernels (the only choice for a ``"custom"`` kernel).
"""

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import (
    DEFAULT_SOLVER,
    DEFAULT_SYMMETRY,
    check_solver_name,
    make_solver,
)
from benchmark.glue.runner import announce
from benchmark.glue.solver import CallbackSolver
from benchmark.maths.mirror import initial_point
from benchmark.networks.registry import WeightsError, find_checkpoint, load_regularizer
from benchmark.networks.regularizers import check_regularizer_name
from benchmark.networks.symmetry import (
    check_symmetry_name,
    symmetrized,
    training_symmetry_note,
)


class Solver(CallbackSolver):
    name = "deqmd"
    parameters = {
        "regularizer": ["red"],
        "solver": [DEFAULT_SOLVER],
        "symmetry": [DEFAULT_SYMMETRY],
        "tol": [None],
        "max_iter": [None],
        "device": ["auto"],
    }

    def check_parameters(self):
        check_regularizer_name(self.regularizer)
        check_solver_name(self.solver)
        check_symmetry_name(self.symmetry)

    def skip_reason(self, alpha, kernel_name):
        try:
            find_checkpoint(self.regularizer, kernel_name, alpha)
        except WeightsError as exc:
            return str(exc)
        return None

    def prepare(self):
        self.model, self.weights = load_regularizer(self.regularizer, self.kernel_name,
                                                    self.alpha, self.torch_device)
        note = training_symmetry_note(self.weights, self.symmetry)
        if note:
            announce(f"deqmd: {note}")

    def build(self):
        potential = CompositeObjective(self.y, self.operator,
                                       symmetrized(self.model, self.symmetry))
        return make_solver(self.solver, potential, initial_point(self.y, self.operator),
                           self.tol, self.max_iter)
