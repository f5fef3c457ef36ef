"""Fixed-point solvers of DEQ-MD: the residual, the equilibrium, agreement with the paper's
iteration on a convex problem, the cap, per-image independence and monotone decrease."""

import re

import pytest
import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import make_solver, paper_iteration
from benchmark.algorithms.equilibrium import (
    BlurMetric,
    ProjectedLBFGS,
    fixed_point_residual,
)
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import blur_operator, simulate, uniform_kernel
from benchmark.maths.poisson import EPS
from benchmark.maths.tv import SmoothedTV, tv_smooth
from benchmark.networks.regularizers import REDPotential


def mirror_map(x, grad, tau):
    """T_tau(x) = min(x / (1 + tau x grad), 1), written out again for the tests."""
    return torch.minimum(x / (1.0 + tau * x * grad), torch.ones_like(x))


def autograd_gradient(y, op, regularizer, x):
    """grad Psi(x) by autograd of KL(y, Ax) + R(x), independent of the solver's own gradient."""
    x = x.detach().double().requires_grad_(True)
    Ax = op.A(x.float()).double()
    yd = y.double()
    kl = (torch.xlogy(yd, yd) - torch.xlogy(yd, Ax + EPS) + Ax - yd).sum()
    with torch.enable_grad():
        total = kl + regularizer(x.float()).double().sum()
        (grad,) = torch.autograd.grad(total, x)
    return grad.float()


@pytest.fixture
def tiny_red():
    torch.manual_seed(0)
    return REDPotential(features=8, depth=3).requires_grad_(False)


def test_residual_is_the_relative_distance_to_the_mirror_step():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(3, 3, 8, 8, generator=generator) * 0.9 + 0.05
    grad = torch.randn(3, 3, 8, 8, generator=generator)
    mapped = mirror_map(x, grad, 0.25)
    expected = (mapped - x).flatten(1).norm(dim=1) / mapped.flatten(1).norm(dim=1)
    assert torch.allclose(fixed_point_residual(x, grad, 0.25), expected)
    # a stationary point of the box problem is a fixed point whatever tau
    stationary = torch.where(grad < 0, torch.ones_like(x), x)
    kkt_grad = torch.where(grad < 0, grad, torch.zeros_like(grad))
    for tau in (0.1, 1.0, 10.0):
        assert float(fixed_point_residual(stationary, kkt_grad, tau).max()) == 0.0


def test_lbfgs_reaches_the_equilibrium_of_the_network_potential(small_problem, tiny_red):
    _, y, op = small_problem
    result = make_solver("lbfgs", CompositeObjective(y, op, tiny_red), initial_point(y, op),
                         tol=1e-5, max_iter=500).run()
    assert result.converged.all() and not result.hit_cap
    # residual recomputed from an autograd gradient and the mirror map written out again
    grad = autograd_gradient(y, op, tiny_red, result.x)
    mapped = mirror_map(result.x, grad, 0.25)
    residual = (mapped - result.x).flatten(1).norm(dim=1) / mapped.flatten(1).norm(dim=1)
    assert float(residual.max()) < 1.5e-5
    assert (result.x >= 0).all() and (result.x <= 1).all()
    # and the start was far from it
    x0 = initial_point(y, op)
    start = mirror_map(x0, autograd_gradient(y, op, tiny_red, x0), 0.25)
    assert float(((start - x0).flatten(1).norm(dim=1) / start.flatten(1).norm(dim=1)).min()) > 1e-3


def test_lbfgs_matches_the_papers_iteration_on_a_convex_problem():
    # KL + lam TV_eps is strictly convex here (a well-conditioned 3x3 blur, float64, so that
    # neither solver meets the float32 rounding floor): both must reach its unique minimiser.
    # The paper's iteration converges like 1/k: its rule at 1e-7 takes thousands of iterations.
    kernel = torch.full((3, 3), 0.05)
    kernel[1, 1] = 0.6
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 4, 4, generator=generator)
    x = torch.nn.functional.interpolate(x, size=(16, 16), mode="bilinear").clamp(0.05, 0.95)
    y, op = simulate(x, kernel, 60.0, seed=1)
    y, x0 = y.double(), initial_point(y, op).double()
    objective = CompositeObjective(y, op, SmoothedTV(0.02, 0.1))
    paper = paper_iteration(objective, x0, tol=1e-7, max_iter=20000).run()
    ours = ProjectedLBFGS(objective, x0, tol=1e-8, max_iter=2000).run()
    assert paper.converged.all() and ours.converged.all()
    distance = (ours.x - paper.x).norm() / paper.x.norm()
    assert float(distance) < 1e-3
    assert int(ours.evaluations[0]) * 10 < int(paper.evaluations[0])


def test_cap_is_respected_and_reported(small_problem, tiny_red):
    _, y, op = small_problem
    potential = CompositeObjective(y, op, tiny_red)
    for name in ("lbfgs", "mirror"):
        solver = make_solver(name, potential, initial_point(y, op), tol=1e-12, max_iter=3)
        result = solver.run()
        assert result.iterations == 3 and result.hit_cap and not result.converged.any()
        assert "max_iter=3" in solver.stop_reason


def test_images_of_a_batch_are_solved_independently(small_problem):
    # the batch result equals each image solved alone (histories, line searches and freezing
    # are per image)
    _, y, op = small_problem
    x0 = initial_point(y, op)
    batch = ProjectedLBFGS(CompositeObjective(y, op, SmoothedTV(0.02, 0.1)), x0, tol=1e-6).run()
    for i in range(y.shape[0]):
        alone = ProjectedLBFGS(CompositeObjective(y[i:i + 1], op, SmoothedTV(0.02, 0.1)),
                               x0[i:i + 1], tol=1e-6).run()
        assert torch.allclose(alone.x[0], batch.x[i], atol=1e-4)
        assert int(alone.evaluations[0]) == int(batch.evaluations[i])


def test_lbfgs_decreases_the_potential_monotonically(small_problem, tiny_red):
    _, y, op = small_problem
    potential = CompositeObjective(y, op, tiny_red)
    solver = ProjectedLBFGS(potential, initial_point(y, op), tol=1e-6, max_iter=60)
    values = [potential(solver.x, None)[0]]
    while solver.stop_reason is None:
        solver.step()
        values.append(potential(solver.x, None)[0])
    values = torch.stack(values)
    # sufficient decrease, or (approximate Wolfe) no increase beyond 1e-6 relative
    assert (values[1:] <= values[:-1] + 1e-6 * values[:-1].abs()).all()
    assert (values[-1] < values[0]).all()


def test_bad_parameters_are_named(small_problem, tiny_red):
    _, y, op = small_problem
    potential = CompositeObjective(y, op, tiny_red)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        ProjectedLBFGS(potential, initial_point(y, op), tol=-1e-5)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        paper_iteration(potential, initial_point(y, op), max_iter=0)
    with pytest.raises(ValueError, match="memory must be >= 1"):
        ProjectedLBFGS(potential, initial_point(y, op), memory=0)
    with pytest.raises(ValueError, match="stall_window must be >= 1"):
        ProjectedLBFGS(potential, initial_point(y, op), stall_window=0)
    with pytest.raises(ValueError, match="mu must be > 0"):
        BlurMetric(op, y.shape[1:], mu=0.0)


def test_blur_metric_is_the_normalised_inverse_of_the_shifted_kernel_spectrum():
    # P v = F^-1[ c / (|k^|^2 + mu) F v ], c: mean of the transfer function 1; an asymmetric
    # kernel and an odd width (rfft2 keeps half of the columns), recomputed with the full FFT
    generator = torch.Generator().manual_seed(0)
    kernel = torch.rand(5, 4, generator=generator)
    kernel = kernel / kernel.sum()
    shape = (3, 12, 13)
    metric = BlurMetric(blur_operator(kernel, shape), shape, torch.float64, mu=0.1)
    padded = torch.zeros(12, 13, dtype=torch.float64)
    padded[:5, :4] = kernel
    inverse = 1.0 / (torch.fft.fft2(padded).abs() ** 2 + 0.1)
    transfer = inverse / inverse.mean()
    v, u = torch.randn(2, 2, *shape, dtype=torch.float64, generator=generator)
    expected = torch.fft.ifft2(torch.fft.fft2(v) * transfer).real
    assert torch.allclose(metric(v), expected, rtol=1e-5, atol=1e-6)
    # symmetric positive definite: <u, P v> = <P u, v>, <v, P v> >= min(transfer) |v|^2 > 0
    assert torch.allclose((u * metric(v)).sum(), (metric(u) * v).sum(), rtol=1e-5)
    assert float((v * metric(v)).sum()) >= 0.999 * float(transfer.min() * (v * v).sum()) > 0


def ill_conditioned_problem(alpha):
    """A 9x9 box blur of a blocky image at a high photon count, with a weak smoothed TV: the
    frequencies that the blur nearly removes are left with little curvature (float64)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 16, 16, generator=generator)
    x = torch.nn.functional.interpolate(x, size=(32, 32), mode="nearest").clamp(0.05, 0.95)
    y, op = simulate(x, uniform_kernel(9), alpha, seed=1)
    return y.double(), op, SmoothedTV(0.0005, 0.02)


def autograd_tv_gradient(y, op, tv, x):
    """grad (KL(y, Ax) + w TV_eps(x)) by autograd, independent of the solvers' gradients."""
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        Ax = op.A(x)
        kl = (torch.xlogy(y, y) - torch.xlogy(y, Ax + EPS) + Ax - y).sum()
        (grad,) = torch.autograd.grad(kl + tv.weight * tv_smooth(x, tv.smoothing).sum(), x)
    return grad


def test_a_stalled_image_switches_to_the_blur_metric_and_reaches_the_same_equilibrium_sooner():
    y, op, tv = ill_conditioned_problem(alpha=1000.0)
    x0 = initial_point(y, op).double()
    objective = CompositeObjective(y, op, tv)
    solvers = [ProjectedLBFGS(objective, x0, tol=1e-9, max_iter=3000, stall_window=window)
               for window in (None, 20)]
    plain, switched = (solver.run() for solver in solvers)
    assert plain.converged.all() and switched.converged.all()
    # the stop reason says when the image switched: after a full window, before the end
    assert "blur metric" not in solvers[0].stop_reason
    at = re.search(r"switched to the blur metric: image 0 at (\d+)$", solvers[1].stop_reason)
    assert at is not None and 20 <= int(at.group(1)) < switched.iterations
    for result in (plain, switched):
        grad = autograd_tv_gradient(y, op, tv, result.x)
        mapped = mirror_map(result.x, grad, 0.25)
        residual = (mapped - result.x).norm() / mapped.norm()
        assert float(residual) < 1.5e-9
    assert float((switched.x - plain.x).norm() / plain.x.norm()) < 1e-5
    assert int(switched.evaluations[0]) < 0.75 * int(plain.evaluations[0])


def test_an_image_whose_residual_keeps_halving_takes_the_same_iterates(small_problem):
    # the switch only changes the start of the two-loop recursion after a stall: the iterates of
    # a run that never stalls (a mild Gaussian blur) are those of the solver without the switch,
    # to the bit
    _, y, op = small_problem
    x0 = initial_point(y, op)
    objective = CompositeObjective(y, op, SmoothedTV(0.02, 0.1))
    runs = [ProjectedLBFGS(objective, x0, tol=1e-6, max_iter=3000, stall_window=window).run()
            for window in (None, 10)]
    assert runs[0].converged.all()
    assert torch.equal(runs[0].x, runs[1].x)
    assert torch.equal(runs[0].evaluations, runs[1].evaluations)
