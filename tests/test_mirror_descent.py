"""The shared Burg mirror step and its Bregman backtracking."""

import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.maths.mirror import (
    backtracking_step,
    burg_mirror_step,
    init_state,
    initial_point,
    relative_change,
)
from benchmark.maths.physics import simulate
from benchmark.maths.poisson import bregman_divergence, burg_entropy
from benchmark.maths.tv import SmoothedTV


def test_mirror_step_solves_the_mirror_equation():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 1, 6, 6, generator=generator, dtype=torch.float64) + 0.1
    g = torch.randn(2, 1, 6, 6, generator=generator, dtype=torch.float64)
    tau = torch.tensor([0.1, 0.05], dtype=torch.float64)
    x_new, _ = burg_mirror_step(x, g, tau, upper=None)
    # grad h(x+) = grad h(x) - tau grad F(x), with grad h(x) = -1 / x
    assert torch.allclose(-1 / x_new, -1 / x - tau.view(-1, 1, 1, 1) * g)
    x_clipped, _ = burg_mirror_step(x, g, tau, upper=1.0)
    assert x_clipped.max() <= 1.0 and torch.allclose(x_clipped, x_new.clamp(max=1.0))


def test_backtracking_decreases_tv_objective_monotonically(small_problem):
    _, y, op = small_problem
    fun = CompositeObjective(y, op, SmoothedTV(0.05))
    state = init_state(fun, initial_point(y, op), tau0=1.0)
    values = [state.value]
    for _ in range(30):
        new, info = backtracking_step(fun, state)
        assert (new.x > 0).all() and (new.x <= 1).all()
        # the accepted step satisfies the sufficient-decrease rule, image by image
        moved = ~info.stalled
        bound = 0.8 / new.tau * bregman_divergence(new.x, state.x)
        assert (state.value - new.value >= bound - 1e-9)[moved].all()
        # the stored value and gradient are those of the accepted point
        value, grad = fun(new.x, torch.arange(2))
        assert torch.allclose(value, new.value) and torch.allclose(grad, new.grad)
        values.append(new.value)
        state = new
    values = torch.stack(values)
    assert (values[1:] <= values[:-1]).all()
    assert (values[-1] < values[0]).all()


def test_backtracking_shrinks_steps_per_image():
    # F(x) = c * sum((x - 0.9)^2) from x = 0.5: with c = 200 the step tau = 1 leaves the positive
    # orthant and tau = 1/128 overshoots, so image 0 backtracks; image 1 (c = 0.01) keeps tau = 1.
    c = torch.tensor([200.0, 0.01], dtype=torch.float64)

    def fun(x, index):
        scale = (c if index is None else c[index]).view(-1, 1, 1, 1)
        return (scale * (x - 0.9) ** 2).sum(dim=(1, 2, 3)), 2 * scale * (x - 0.9)

    x0 = torch.full((2, 1, 4, 4), 0.5, dtype=torch.float64)
    state = init_state(fun, x0, tau0=1.0)
    new, info = backtracking_step(fun, state, upper=None)
    assert new.tau[1] == 1.0 and new.tau[0] == 1.0 / 256
    assert info.evaluations >= 2 and not info.stalled.any()


def test_nan_candidates_are_rejected_and_the_image_stalls():
    def fun(x, index):
        value = torch.where(x.flatten(1).max(dim=1).values < 0.5,
                            torch.full((x.shape[0],), float("nan"), dtype=x.dtype),
                            -burg_entropy(x))
        return value, torch.full_like(x, 10.0)

    x0 = torch.full((1, 1, 3, 3), 0.6, dtype=torch.float64)
    state = init_state(fun, x0, tau0=1.0)
    new, info = backtracking_step(fun, state, tau_min=1e-3)
    assert info.stalled.all()
    assert torch.equal(new.x, x0) and torch.isfinite(new.value).all()


def test_relative_change():
    a = torch.ones(2, 1, 2, 2)
    b = a.clone()
    b[1] *= 2
    assert torch.allclose(relative_change(b, a), torch.tensor([0.0, 0.5]))


def test_initial_point_is_the_clipped_backprojection(small_problem):
    # an asymmetric kernel, so that the backprojection A^T y differs from A y; A^T itself is
    # checked against A by adjointness (tests/test_physics.py)
    x, _, _ = small_problem
    kernel = torch.rand(5, 5, generator=torch.Generator().manual_seed(1))
    y, op = simulate(x, kernel / kernel.sum(), 60.0, seed=1)
    x0 = initial_point(y, op, lower=1e-3, upper=1.0)
    assert torch.equal(x0, op.A_adjoint(y).clamp(1e-3, 1.0))
    assert not torch.allclose(x0, op.A(y).clamp(1e-3, 1.0), atol=1e-3)
    assert float(x0.min()) >= 1e-3 and float(x0.max()) <= 1.0
