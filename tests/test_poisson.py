"""KL data fit: value, gradient against autograd, prox optimality; Burg Bregman divergence."""

import torch

from benchmark.maths.physics import blur_operator
from benchmark.maths.poisson import (
    bregman_divergence,
    burg_entropy,
    kl_divergence,
    kl_grad,
    kl_prox,
    kl_value_and_grad,
)


def test_kl_matches_its_definition_on_a_hand_example():
    y = torch.tensor([[[[2.0, 0.0, 1.0]]]])
    Ax = torch.tensor([[[[1.0, 0.5, 1.0]]]])
    expected = (2 * torch.log(torch.tensor(2.0)) + 1 - 2) + 0.5 + 0.0
    assert torch.isclose(kl_divergence(y, Ax, eps=0.0), expected.double())


def test_kl_is_zero_at_perfect_fit_and_positive_elsewhere(small_problem):
    _, y, op = small_problem
    assert kl_divergence(y, y.clone(), eps=0.0).abs().max() < 1e-6
    assert (kl_divergence(y, op.A(torch.full_like(y, 0.5))) > 0).all()


def test_kl_is_per_image(small_problem):
    x, y, op = small_problem
    batch = kl_divergence(y, op.A(x))
    single = torch.cat([kl_divergence(y[i:i + 1], op.A(x[i:i + 1])) for i in range(2)])
    assert torch.allclose(batch, single)


def test_kl_gradient_matches_autograd(small_problem):
    x, y, _ = small_problem
    # an asymmetric kernel: with a symmetric one A^T = A, and a gradient A (1 - y / Ax) would pass
    kernel = torch.rand(5, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    op = blur_operator(kernel / kernel.sum(), tuple(x.shape[1:])).double()
    x = x.double().requires_grad_(True)
    y = y.double()
    kl_divergence(y, op.A(x)).sum().backward()
    assert torch.allclose(kl_grad(y, x.detach(), op), x.grad, rtol=1e-6, atol=1e-8)
    value, grad = kl_value_and_grad(y, x.detach(), op)
    assert torch.allclose(grad, x.grad, rtol=1e-6, atol=1e-8)
    assert torch.allclose(value, kl_divergence(y, op.A(x.detach())))


def test_kl_prox_satisfies_optimality_and_minimises():
    generator = torch.Generator().manual_seed(0)
    v = torch.randn(1, 1, 20, 20, generator=generator, dtype=torch.float64)
    y = torch.poisson(torch.full((1, 1, 20, 20), 3.0, dtype=torch.float64), generator=generator) / 5
    for gamma in (0.01, 0.3, 4.0):
        z = kl_prox(v, y, gamma, eps=1e-6)
        positive = y > 0
        assert positive.any() and (~positive).any()
        # y > 0: first-order condition gamma (1 - y / (z + eps)) + z - v = 0
        residual = gamma * (1 - y / (z + 1e-6)) + z - v
        assert residual[positive].abs().max() < 1e-8
        # y = 0: the cost is gamma z + (z - v)^2 / 2 on the domain z >= -eps
        assert torch.allclose(z[~positive], (v - gamma).clamp(min=-1e-6)[~positive])

        def cost(u):
            return gamma * kl_divergence(y, u, eps=1e-6) + 0.5 * ((u - v) ** 2).sum()

        for shift in (1e-3, -1e-3):
            assert cost(z) <= cost((z + shift).clamp(min=-1e-6)) + 1e-12


def test_bregman_divergence_is_nonnegative_and_zero_on_the_diagonal():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 8, 8, generator=generator, dtype=torch.float64) + 0.01
    u = torch.rand(4, 3, 8, 8, generator=generator, dtype=torch.float64) + 0.01
    assert (bregman_divergence(x, u) > 0).all()
    assert bregman_divergence(x, x).abs().max() < 1e-12


def test_bregman_divergence_is_the_bregman_divergence_of_burg_entropy():
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(2, 1, 5, 5, generator=generator, dtype=torch.float64) + 0.1
    u = (torch.rand(2, 1, 5, 5, generator=generator, dtype=torch.float64) + 0.1).requires_grad_()
    h_u = burg_entropy(u)
    (grad_h_u,) = torch.autograd.grad(h_u.sum(), u)
    expected = burg_entropy(x) - h_u - (grad_h_u * (x - u)).sum(dim=(1, 2, 3))
    assert torch.allclose(bregman_divergence(x, u.detach()), expected.detach())
