"""What every iterative algorithm of the benchmark shares: per-image stopping and freezing.

An algorithm works on a batch of images. Each iteration it advances the images that are still
active and returns one stopping quantity per image (``criterion``); an image whose quantity meets
the tolerance is frozen (it is not evaluated again and its iterate no longer changes), and so is an
image the algorithm marks ``stalled`` (it cannot progress: reported, not converged). A run stops
when no image is active, or at the iteration cap, which is then reported in ``stop_reason`` and in
``result().hit_cap``. benchopt's callback solvers run an algorithm one ``step()`` at a time
(:mod:`benchmark.glue.runner`); scripts and training call ``run()``.
"""

from dataclasses import dataclass

import torch


@dataclass
class IterationResult:
    r"""End point of an iterative algorithm, per image: how far it is and what it cost.

    ``converged[i]``: image ``i`` met the stopping rule; ``hit_cap``: the iteration cap stopped the
    run before every image did. ``tau`` is the step size at the end point where the algorithm has
    one (the one DEQ-MD's training step uses), else None. ``evaluations[i]`` counts the
    evaluations of the objective (for a learned regulariser: network forward + backward) that
    image ``i`` took part in; ``criterion[i]`` is its last stopping quantity.
    """

    x: torch.Tensor
    tau: torch.Tensor
    iterations: int
    evaluations: torch.Tensor
    converged: torch.Tensor
    hit_cap: bool
    criterion: torch.Tensor


class IterativeSolver:
    """Iteration cap, per-image freezing, evaluation counts and the stop reason.

    A subclass implements ``_advance(index)``, one iteration for the images ``index`` of the batch
    (a tensor of batch indices), returning their stopping quantity; it names that quantity in
    ``criterion_name`` and exposes ``x`` (and ``tau`` if it has a step size). It may set
    ``stalled[i]`` for an image that cannot progress. An image has met the rule when its quantity
    is below ``tol`` (``met_when_equal = True``: at or below).
    """

    criterion_name = "stopping quantity"
    met_when_equal = False
    tau = None

    def __init__(self, batch, device, tol, max_iter):
        if not tol >= 0:
            raise ValueError(f"tol must be >= 0 (0: run to the cap), got {tol}.")
        if max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {max_iter}.")
        self.tol, self.max_iter = tol, int(max_iter)
        self.iterations = 0
        self.evaluations = torch.zeros(batch, dtype=torch.long, device=device)
        self.criterion = torch.full((batch,), float("inf"), dtype=torch.float64, device=device)
        self.active = torch.ones(batch, dtype=torch.bool, device=device)
        self.stalled = torch.zeros(batch, dtype=torch.bool, device=device)
        self.stop_reason = None

    def met(self):
        """Per image: has its last stopping quantity met the tolerance?"""
        if self.met_when_equal:
            return self.criterion <= self.tol
        return self.criterion < self.tol

    def counted(self, fun, index):
        """``fun(x, sub)`` for the images ``index``, counted per image: ``sub`` (None: all of
        ``index``) selects among ``index``, as :func:`benchmark.maths.mirror.backtracking_step`
        asks; ``fun(x, batch_index)`` is called with indices into the whole batch."""
        def restricted(x, sub):
            images = index if sub is None else index[sub]
            self.evaluations[images] += 1
            return fun(x, images)
        return restricted

    def step(self):
        """One iteration for the images that have not met the stopping rule."""
        index = self.active.nonzero().flatten()
        self.criterion[index] = self._advance(index).to(self.criterion.dtype)
        self.iterations += 1
        met = self.met()
        self.active &= ~met & ~self.stalled
        if not bool(self.active.any()):
            self.stop_reason = self._end_reason(met)
        elif self.iterations >= self.max_iter:
            self.stop_reason = (f"iteration cap max_iter={self.max_iter} hit (largest "
                                f"{self.criterion_name} {float(self.criterion.max()):.2e} > "
                                f"tol {self.tol:g})")

    def _end_reason(self, met):
        """Why the run ended once no image is active: all met the rule, or some stalled."""
        below = "<=" if self.met_when_equal else "<"
        stalled = int((self.stalled & ~met).sum())
        if not stalled:
            return (f"{self.criterion_name} {below} {self.tol:g} for every image after "
                    f"{self.iterations} iterations")
        finite = self.criterion[torch.isfinite(self.criterion)]
        at = (f" at largest {self.criterion_name} {float(finite.max()):.2e}" if finite.numel()
              else "")
        others = ("every image" if stalled == len(met) else
                  f"{stalled} image(s), the others met tol {self.tol:g}")
        return (f"stalled (no step decreased the objective enough: its rounding floor or the step "
                f"floor): {others}{at}, after {self.iterations} iterations")

    def run(self):
        """Iterate until the stopping rule or the cap; returns :meth:`result`."""
        while self.stop_reason is None:
            self.step()
        return self.result()

    def result(self):
        converged = self.met()
        return IterationResult(
            x=self.x, tau=self.tau, iterations=self.iterations,
            evaluations=self.evaluations.clone(), converged=converged,
            hit_cap=self.iterations >= self.max_iter and not bool(converged.all()),
            criterion=self.criterion.clone())
