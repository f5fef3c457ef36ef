"""The base class of the benchmark's iterative solvers: a solver file holds only its name, its
parameters and the algorithm it builds.

benchopt finds a solver as the class named ``Solver`` of a file in ``solvers/`` and needs it to
derive from ``benchopt.BaseSolver``; :class:`CallbackSolver` does, so a solver file reads::

    class Solver(CallbackSolver):
        name = "richardson_lucy"            # literal class attributes of the file's own class
        parameters = {"discrepancy_target": [1.0], "max_iter": [500], "device": ["auto"]}

        def build(self):                    # the algorithm, on the problem set up below
            return RichardsonLucy(self.y, self.operator, self.alpha, self.max_iter,
                                  self.discrepancy_target)

``name`` and ``parameters`` stay in the solver file: benchopt reads them from the file's text
when it cannot import it (to report the failure, or to install into another environment).

What the base class does, so that no solver file repeats it:

- benchopt's callback strategy (one recorded point per iteration: PSNR-versus-time curves) with
  no stopping criterion of benchopt's own: the algorithm stops by its own rule;
- ``set_objective(y, kernel, alpha, kernel_name)`` (``Objective.get_objective``): ``self.y`` and
  the blur ``self.operator`` on the solver's ``device`` parameter (``self.torch_device``),
  ``self.kernel_name`` and ``self.alpha``, then the :meth:`~CallbackSolver.prepare` hook;
- ``run(cb)``: ``self.algorithm = self.build()``, then one ``step()`` per callback until its
  ``stop_reason`` is set or benchopt stops it (:func:`benchmark.glue.runner.run_iterations`,
  which says when benchopt cut a run short);
- ``get_result()``: ``self.algorithm.x``;
- ``skip(...)``: :meth:`~CallbackSolver.check_parameters`, then
  :meth:`~CallbackSolver.skip_reason`;
- the library fingerprint in benchopt's cache key (:mod:`benchmark.glue.cache_key`).

The algorithm that :meth:`~CallbackSolver.build` returns has ``x`` (the current estimate, shape
(B, 3, H, W)), ``step()``, ``stop_reason`` (``None`` while it runs, then why it stopped) and
``iterations``.
"""

from abc import abstractmethod

from benchopt import BaseSolver
from benchopt.stopping_criterion import NoCriterion

from benchmark.glue.cache_key import LibraryFingerprint
from benchmark.glue.runner import prepare_problem, run_iterations
from benchmark.maths.physics import CUSTOM_KERNEL, check_alpha, check_kernel_name


class CallbackSolver(LibraryFingerprint, BaseSolver):
    """A benchopt solver that runs a step-by-step algorithm under the callback strategy.

    Subclasses set ``name`` and ``parameters`` (one of them ``device``: ``auto``, ``cpu``,
    ``cuda`` or ``cuda:<index>``) and implement :meth:`build`; the other hooks are optional.
    ``kernel_name`` defaults to ``"custom"`` (a kernel array without a name) for a solver driven
    by hand; benchopt always passes the objective's.
    """

    sampling_strategy = "callback"
    stopping_criterion = NoCriterion(strategy="callback")

    # Hooks of the subclasses.

    def check_parameters(self):
        """Raise a ValueError that lists the allowed values when a parameter has a wrong one
        (called by ``skip`` and ``set_objective``: a wrong value is an error, never a skip)."""

    def skip_reason(self, alpha, kernel_name):
        """Why this solver cannot run this problem (the text benchopt prints), or None to run
        it: e.g. no weights for this kernel and alpha."""
        return None

    def prepare(self):
        """Set-up that depends on the problem and is not timed (weights, a tuned weight for
        ``self.alpha``); ``self.y``, ``self.operator``, ``self.torch_device``,
        ``self.kernel_name`` and ``self.alpha`` are set."""

    @abstractmethod
    def build(self):
        """The algorithm to run, on ``self.y`` and ``self.operator``, at its starting point (timed
        by benchopt, together with the iterations)."""

    # benchopt's solver API.

    def skip(self, y, kernel, alpha, kernel_name=CUSTOM_KERNEL):
        self.check_parameters()
        reason = self.skip_reason(check_alpha(alpha), check_kernel_name(kernel_name))
        return reason is not None, reason

    def set_objective(self, y, kernel, alpha, kernel_name=CUSTOM_KERNEL):
        self.check_parameters()
        self.y, self.operator, self.torch_device = prepare_problem(y, kernel, self.device)
        self.kernel_name = check_kernel_name(kernel_name)
        self.alpha = check_alpha(alpha)
        self.prepare()

    def run(self, cb):
        self.algorithm = self.build()
        run_iterations(self.algorithm, cb)

    def get_result(self):
        return dict(x=self.algorithm.x)
