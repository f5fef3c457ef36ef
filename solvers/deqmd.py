"""DEQ-MD (Daniele, Villa, Vaiter, Calatroni, arXiv 2507.11461): the fixed point of a Burg-entropy
mirror step on KL(y, A.) + R_theta, with a learned regulariser R_theta shipped in
``benchmark/weights/``. One benchopt iteration is one fixed-point iteration, so the PSNR-versus-time
curve shows the convergence. Maths in ``benchmark/deq.py``; networks in
``benchmark/regularizers.py``; weights chosen by (regularizer, kernel, alpha).
"""

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.cache_key import LibraryFingerprint
from benchmark.deq import TOL, DEQMirrorDescent, PoissonPotential
from benchmark.mirror_descent import initial_point
from benchmark.physics import kernel_name_of
from benchmark.runner import prepare_problem, run_iterations
from benchmark.weights import WeightsError, find_checkpoint, load_regularizer


class Solver(LibraryFingerprint, BaseSolver):
    name = "deqmd"
    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")
    parameters = {
        "regularizer": ["red"],
        "tol": [TOL],
        "max_iter": [300],
        "device": ["auto"],
    }

    def skip(self, y, kernel, alpha):
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
        self.algorithm = DEQMirrorDescent(potential, initial_point(self.y, self.operator),
                                          self.tol, self.max_iter)
        run_iterations(self.algorithm, cb)

    def get_result(self):
        return dict(x=self.algorithm.x)
