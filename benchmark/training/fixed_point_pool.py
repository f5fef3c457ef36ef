r"""A fixed set of DEQ-MD training problems that remembers each problem's last fixed point.

Training at the equilibrium solves one fixed point per training image and step. With fresh crops
and fresh noise at every step, each solve starts from :math:`x_0 = \mathrm{clip}(A^\top y)`. With
a fixed pool of problems (crop, kernel, noise draw), a problem met again starts from its own last
fixed point: the weights moved by a few optimiser steps since, so the new equilibrium is near and
the solve takes far fewer network evaluations (``train_deq --pool``; the evaluations per step are
logged in ``metrics.csv``). The price is less variety: ``size`` problems instead of a new draw at
every step.

The problems are rebuilt identically from the seed when a run resumes; the remembered fixed points
are not saved (a resumed run solves each problem once from :math:`x_0` again).
"""

from dataclasses import dataclass

import torch

from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import simulate


@dataclass
class ProblemBatch:
    """Training problems ``ids`` of the pool, all blurred by kernel ``kernel_index``."""

    ids: torch.Tensor
    kernel_index: int


class FixedPointPool:
    """``size`` problems: crops of ``sampler``, kernel ``i % len(kernels)`` for problem ``i``, one
    Poisson draw each at ``alpha``; ``sample(batch)`` draws a kernel, then ``batch`` of its
    problems. Tensors live on ``device``."""

    def __init__(self, sampler, kernels, alpha, size, seed, device="cpu"):
        if size < len(kernels):
            raise ValueError(f"The pool needs at least one problem per kernel ({len(kernels)}), "
                             f"got size={size}.")
        self.kernels = kernels
        self.clean = sampler.sample(size).to(device)
        self.kernel_of = torch.arange(size) % len(kernels)
        self.y = torch.empty_like(self.clean)
        self.operators = []
        for k, kernel in enumerate(kernels):
            members = (self.kernel_of == k).nonzero().flatten()
            y, operator = simulate(self.clean[members], kernel, alpha, seed=seed + k)
            self.y[members.to(self.y.device)] = y
            self.operators.append(operator)
        self.last = torch.zeros_like(self.clean)
        self.solved = torch.zeros(size, dtype=torch.bool)
        self.generator = torch.Generator().manual_seed(seed)

    def sample(self, batch):
        """A :class:`ProblemBatch` of ``batch`` distinct problems sharing one kernel."""
        k = int(torch.randint(len(self.kernels), (1,), generator=self.generator))
        members = (self.kernel_of == k).nonzero().flatten()
        if batch > members.numel():
            raise ValueError(f"batch {batch} is larger than the {members.numel()} problems of a "
                             f"kernel in the pool; raise --pool to at least "
                             f"{batch * len(self.kernels)}.")
        chosen = members[torch.randperm(members.numel(), generator=self.generator)[:batch]]
        return ProblemBatch(ids=chosen, kernel_index=k)

    def problem(self, batch):
        """``(clean, y, operator, x_start)`` of a :class:`ProblemBatch`: the start is each
        problem's last fixed point, or :math:`x_0` for a problem not solved yet."""
        ids = batch.ids.to(self.clean.device)
        clean, y = self.clean[ids], self.y[ids]
        operator = self.operators[batch.kernel_index]
        start = initial_point(y, operator)
        solved = self.solved[batch.ids].to(start.device)
        start[solved] = self.last[ids][solved]
        return clean, y, operator, start

    def remember(self, batch, x):
        """Keep ``x`` as the last fixed point of the problems of ``batch``."""
        self.last[batch.ids.to(self.last.device)] = x.detach()
        self.solved[batch.ids] = True

    def state_dict(self):
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state):
        self.generator.set_state(state["generator"])
