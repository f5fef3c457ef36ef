"""The composite objective F = lam KL(y, A.) + R and the one mirror-descent driver built on it."""

import pytest
import torch
from conftest import float64_problem

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.mirror_descent import (
    RELATIVE_CHANGE,
    RELATIVE_VALUE_CHANGE,
    Backtracking,
    FixedStep,
    MirrorDescent,
)
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.maths.mirror import initial_point
from benchmark.maths.tv import SmoothedTV, tv_smooth
from benchmark.networks.regularizers import REDPotential


def kl_by_hand(y, Ax, eps=1e-6):
    """sum_i y log(y / (Ax + eps)) + Ax - y, with 0 log 0 = 0, written out again."""
    safe = torch.where(y > 0, y, torch.ones_like(y))
    log_term = torch.where(y > 0, y * torch.log(safe / (Ax + eps)), torch.zeros_like(y))
    return (log_term + Ax - y).flatten(1).sum(dim=1)


@pytest.mark.parametrize("regularizer", ["none", "tv", "red"])
def test_value_and_gradient_of_lam_kl_plus_r_against_autograd(regularizer):
    _, y, op = float64_problem()
    torch.manual_seed(0)
    reg = {"none": None, "tv": SmoothedTV(0.07, 0.05),
           "red": REDPotential(features=8, depth=3).double().requires_grad_(False)}[regularizer]
    lam = 0.6
    objective = CompositeObjective(y, op, reg, data_weight=lam)
    x = (0.1 + 0.8 * torch.rand(y.shape, dtype=torch.float64)).requires_grad_(True)

    def by_hand(x):
        r = {"none": lambda v: torch.zeros(v.shape[0], dtype=v.dtype),
             "tv": lambda v: 0.07 * tv_smooth(v, 0.05),
             "red": lambda v: 0.5 * (reg.net(v) ** 2).flatten(1).sum(dim=1)}[regularizer]
        return lam * kl_by_hand(y, op.A(x)) + r(x)

    expected_value = by_hand(x)
    (expected_grad,) = torch.autograd.grad(expected_value.sum(), x)
    value, grad = objective.value_and_grad(x.detach())
    assert torch.allclose(value, expected_value.detach(), rtol=1e-10)
    assert torch.allclose(grad, expected_grad, rtol=1e-8, atol=1e-10)


def test_sub_batch_view_is_the_objective_of_those_images():
    _, y, op = float64_problem()
    objective = CompositeObjective(y, op, SmoothedTV(0.05), data_weight=2.0)
    x = 0.5 * torch.ones_like(y)
    index = torch.tensor([2, 0])
    value, grad = objective(x[index], index)
    alone = [CompositeObjective(y[i:i + 1], op, SmoothedTV(0.05), data_weight=2.0)
             .value_and_grad(x[i:i + 1]) for i in (2, 0)]
    assert torch.allclose(value, torch.cat([v for v, _ in alone]))
    assert torch.allclose(grad, torch.cat([g for _, g in alone]))


def test_each_image_stops_on_its_own_as_if_it_were_alone():
    _, y, op = float64_problem()
    batch = TVMirrorDescent(y, op, 0.05, smoothing=0.05, tol=1e-4, max_iter=500).run()
    alone = [TVMirrorDescent(y[i:i + 1], op, 0.05, smoothing=0.05, tol=1e-4, max_iter=500).run()
             for i in range(y.shape[0])]
    assert batch.converged.all() and not batch.hit_cap
    for i, result in enumerate(alone):
        assert torch.allclose(batch.x[i:i + 1], result.x, rtol=1e-12, atol=1e-14)
        assert int(batch.evaluations[i]) == int(result.evaluations[0])
    # the images stopped at different iterations: freezing was exercised
    assert len({int(r.evaluations[0]) for r in alone}) > 1
    # and each stopped at the first iterate whose relative change is below tol: recomputed
    for i in range(y.shape[0]):
        solver = TVMirrorDescent(y[i:i + 1], op, 0.05, smoothing=0.05, tol=1e-4, max_iter=500)
        changes = []
        while solver.stop_reason is None:
            before = solver.x.clone()
            solver.step()
            changes.append(float((solver.x - before).norm() / solver.x.norm()))
        assert changes[-1] < 1e-4 and all(c >= 1e-4 for c in changes[:-1])


def test_a_frozen_image_is_not_evaluated_again():
    _, y, op = float64_problem(batch=2)
    calls = []
    objective = CompositeObjective(y, op, SmoothedTV(0.05))

    def recording(x, index):
        calls.append(set(index.tolist()))
        return objective(x, index)

    solver = MirrorDescent(recording, initial_point(y, op), Backtracking(), RELATIVE_CHANGE,
                           tol=1e-4, max_iter=500)
    frozen = None
    while solver.stop_reason is None:
        solver.step()
        if frozen is None and not bool(solver.active.all()):
            first = int((~solver.active).nonzero()[0])
            frozen, frozen_x, calls_then = first, solver.x[first].clone(), len(calls)
    assert frozen is not None and solver.iterations > 1
    assert all(frozen not in images for images in calls[calls_then:])
    assert len(calls) > calls_then
    assert torch.equal(solver.x[frozen], frozen_x)
    assert sum(frozen in images for images in calls) == int(solver.evaluations[frozen])


def test_relative_value_change_rule_and_fixed_step():
    _, y, op = float64_problem(batch=2)
    objective = CompositeObjective(y, op, SmoothedTV(0.05))
    solver = MirrorDescent(objective, initial_point(y, op), FixedStep(), RELATIVE_VALUE_CHANGE,
                           tol=1e-3, max_iter=2000, tau0=0.05)
    values = [objective.value_and_grad(solver.x)[0]]
    while solver.stop_reason is None:
        solver.step()
        values.append(objective.value_and_grad(solver.x)[0])
    assert solver.result().converged.all()
    values = torch.stack(values)
    changes = (values[1:] - values[:-1]).abs() / values[:-1].abs()
    for i in range(2):
        # F recomputed: image i stops at the first iteration with |F_k+1 - F_k| / |F_k| < tol,
        # and its value stays put afterwards (frozen)
        first = int((changes[:, i] < 1e-3).nonzero()[0])
        assert (values[first + 1:, i] == values[first + 1, i]).all()
        assert (changes[:first, i] >= 1e-3).all()
    assert solver.iterations == max(int((changes[:, i] < 1e-3).nonzero()[0]) for i in range(2)) + 1


def test_a_stalled_image_is_frozen_and_reported_not_converged():
    _, y, op = float64_problem(batch=2)
    objective = CompositeObjective(y, op, SmoothedTV(0.05))

    def stalls_image_zero(fun, state):
        new, stalled = FixedStep()(fun, state)
        if state.x.shape[0] == 2:
            stalled = torch.tensor([True, False])
            new.x[0] = state.x[0]
        return new, stalled

    solver = MirrorDescent(objective, initial_point(y, op), stalls_image_zero, RELATIVE_CHANGE,
                           tol=1e-3, max_iter=3000, tau0=0.05)
    result = solver.run()
    assert not bool(result.converged[0]) and bool(result.converged[1])
    assert int(result.evaluations[0]) == 2
    assert "stalled" in solver.stop_reason
    assert "1 image(s), the others met tol" in solver.stop_reason
