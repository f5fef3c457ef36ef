"""The gradient through DEQ-MD's equilibrium by implicit differentiation: conjugate gradients,
Hessian-vector products, and the weight gradient against finite differences of the equilibrium."""

import pytest
import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.equilibrium import fixed_point_residual
from benchmark.algorithms.implicit_differentiation import (
    conjugate_gradient,
    hessian_vector_product,
    implicit_direction,
)
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import gaussian_kernel, simulate
from benchmark.networks.registry import load_regularizer
from benchmark.training.train_deq import implicit_loss, jfb_loss, training_fixed_point


@pytest.fixture
def double_problem():
    """A float64 problem of two 3x12x12 smooth images inside (0, 1), Gaussian blur, alpha 60,
    and the shipped RED model of Gaussian blur at alpha 60 in float64 (so that the equilibrium can
    be solved to 1e-11; a random network's equilibria touch the box and jump under a change of
    the weights, measured)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 4, 4, generator=generator, dtype=torch.float64)
    x = torch.nn.functional.interpolate(x, size=(12, 12), mode="bilinear", align_corners=False)
    x = 0.2 + 0.6 * x
    y, operator = simulate(x.float(), gaussian_kernel(), 60.0, seed=1)
    operator = operator.double()
    model = load_regularizer("red", "gaussian", 60)[0].double()
    return x, y.double(), operator, model


def weight_vector(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def set_weights(model, vector):
    offset = 0
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(vector[offset:offset + p.numel()].view_as(p))
            offset += p.numel()


def test_conjugate_gradient_solves_each_image_s_system_on_its_free_set():
    torch.manual_seed(0)
    n = 16
    matrices = []
    for _ in range(2):
        q = torch.randn(n, n, dtype=torch.float64)
        matrices.append(q @ q.T + 0.5 * torch.eye(n, dtype=torch.float64))
    rhs = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    free = torch.ones_like(rhs)
    free[1, 0, 0, :2] = 0.0

    def product(u):
        return free * torch.stack([(m @ v.flatten()).view(1, 4, 4) for m, v in zip(matrices, u)])
    result = conjugate_gradient(product, free * rhs, free * (0.5 + torch.rand_like(rhs)), 200,
                                tol=1e-12)
    for i, m in enumerate(matrices):
        kept = free[i].flatten().bool()
        expected = torch.zeros(n, dtype=torch.float64)
        expected[kept] = torch.linalg.solve(m[kept][:, kept], rhs[i].flatten()[kept])
        assert torch.allclose(result.v[i].flatten(), expected, rtol=1e-8, atol=1e-10)
    assert (result.residual < 1e-12).all()


def test_conjugate_gradient_stops_before_a_direction_of_negative_curvature():
    rhs = torch.ones(1, 1, 1, 2, dtype=torch.float64)
    # H = diag(1, -1): the first CG direction (1, 1) has curvature 0: CG stops where it is
    result = conjugate_gradient(lambda u: u * torch.tensor([1.0, -1.0], dtype=torch.float64),
                                rhs, torch.ones_like(rhs), 10)
    assert result.iterations.item() == 0 and torch.equal(result.v, torch.zeros_like(rhs))


def test_hessian_vector_product_matches_finite_differences_of_the_gradient(double_problem):
    _, y, operator, model = double_problem
    model.requires_grad_(False)
    objective = CompositeObjective(y, operator, model)
    x = initial_point(y, operator)
    u = torch.randn_like(x)
    _, product = hessian_vector_product(objective, x)
    eps = 1e-6
    difference = (objective(x + eps * u)[1] - objective(x - eps * u)[1]) / (2 * eps)
    assert torch.allclose(product(u), difference, rtol=1e-5, atol=1e-6 * difference.abs().max())


def test_the_implicit_gradient_is_the_derivative_of_the_loss_at_the_equilibrium(double_problem):
    """The loss ||x*(theta) - x||^2 at equilibria solved to a residual of 1e-11, differentiated
    along a random direction of the weights by central differences, against the implicit
    gradient (no damping, CG to convergence) and against JFB's, which is not that derivative."""
    clean, y, operator, model = double_problem
    start = initial_point(y, operator)

    def loss_at(weights):
        set_weights(model, weights)
        _, point = training_fixed_point(model, y, operator, start, "lbfgs", 1e-11, 5000)
        assert point.converged.all()
        return float(((point.x - clean) ** 2).mean()), point

    theta = weight_vector(model)
    direction = torch.randn(theta.shape, generator=torch.Generator().manual_seed(3),
                            dtype=torch.float64)
    direction *= 1e-2 * theta.norm() / direction.norm()
    eps = 1e-3
    derivative = (loss_at(theta + eps * direction)[0] - loss_at(theta - eps * direction)[0]) / (
        2 * eps)

    set_weights(model, theta)
    objective, point = training_fixed_point(model, y, operator, start, "lbfgs", 1e-11, 5000)
    x_star = point.x
    assert float(fixed_point_residual(x_star, CompositeObjective(y, operator, model)(x_star)[1])
                 .max()) < 1e-10
    gradients = {}
    for name, loss_fn, options in (("implicit", implicit_loss, {"cg_iterations": 500,
                                                                 "damping": 0.0}),
                                   ("jfb", jfb_loss, {})):
        loss, extras = loss_fn(model, objective, point, clean, **options)
        model.zero_grad(set_to_none=True)
        loss.backward()
        gradients[name] = torch.cat([p.grad.flatten() for p in model.parameters()])
        if name == "implicit":
            assert extras["cg_residual"] < 1e-6
    implicit = float(gradients["implicit"] @ direction)
    assert implicit == pytest.approx(derivative, rel=2e-3)
    assert abs(float(gradients["jfb"] @ direction) - derivative) > 0.05 * abs(derivative)


def test_damping_solves_the_damped_system(double_problem):
    """With damping mu, the direction solves (H + mu diag(1/x*)) v = b on the free set: checked
    with Hessian-vector products by finite differences of the gradient."""
    clean, y, operator, model = double_problem
    objective, point = training_fixed_point(model, y, operator, initial_point(y, operator),
                                            "lbfgs", 1e-9, 5000)
    x_star = point.x
    rhs = 2 * (x_star - clean) / x_star.numel()
    result = implicit_direction(objective, x_star, rhs, 500, damping=0.3, tol=1e-10)
    eps = 1e-6
    grad_plus = objective(x_star + eps * result.v)[1]
    grad_minus = objective(x_star - eps * result.v)[1]
    free = (x_star < 1).to(x_star.dtype)
    damped = free * ((grad_plus - grad_minus) / (2 * eps) + 0.3 * result.v / x_star)
    assert torch.allclose(damped, free * rhs, rtol=1e-4, atol=1e-5 * rhs.abs().max())
    assert torch.equal(result.v * (1 - free), torch.zeros_like(result.v))
