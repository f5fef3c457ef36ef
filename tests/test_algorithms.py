"""TV operators and the three model-based algorithms: the maths they promise."""

import torch
from conftest import float64_problem

from benchmark.algorithms.pidsplit import PIDSplitPlus
from benchmark.algorithms.richardson_lucy import RichardsonLucy, discrepancy
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.maths.physics import gaussian_kernel, simulate
from benchmark.maths.poisson import kl_divergence
from benchmark.maths.tv import (
    gradient,
    gradient_adjoint,
    laplacian_spectrum,
    shrink_isotropic,
    tv_isotropic,
    tv_smooth,
    tv_smooth_value_and_grad,
)


def test_gradient_adjoint_is_the_adjoint():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 7, 9, generator=generator, dtype=torch.float64)
    p = torch.randn(2, 3, 7, 9, 2, generator=generator, dtype=torch.float64)
    assert torch.isclose((gradient(x) * p).sum(), (x * gradient_adjoint(p)).sum())


def test_smoothed_tv_gradient_matches_autograd():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 8, 8, generator=generator, dtype=torch.float64).requires_grad_()
    tv_smooth(x, 0.05).sum().backward()
    value, grad = tv_smooth_value_and_grad(x.detach(), 0.05)
    assert torch.allclose(grad, x.grad) and torch.allclose(value, tv_smooth(x.detach(), 0.05))
    # eps -> 0: the smoothed TV tends to the isotropic TV (within N eps = 3.84e-6 here)
    assert torch.all((tv_smooth(x.detach(), 1e-8) - tv_isotropic(x.detach())).abs() < 1e-4)


def test_laplacian_spectrum_diagonalises_gradient_normal_operator():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, 6, 10, generator=generator, dtype=torch.float64)
    direct = gradient_adjoint(gradient(x))
    spectral = torch.fft.irfft2(torch.fft.rfft2(x) * laplacian_spectrum(6, 10, dtype=torch.float64),
                                s=(6, 10))
    assert torch.allclose(direct, spectral)


def test_isotropic_shrinkage_is_the_prox_of_the_group_norm():
    p = torch.tensor([[3.0, 4.0], [0.3, 0.4]])
    out = shrink_isotropic(p, 1.0)
    assert torch.allclose(out[0], torch.tensor([2.4, 3.2])) and torch.all(out[1] == 0)


def test_richardson_lucy_keeps_positivity_and_flux(small_problem):
    _, y, op = small_problem
    rl = RichardsonLucy(y, op, alpha=60.0, max_iter=25, discrepancy_target=0.0)
    for _ in range(25):
        rl.step()
        assert (rl.x > 0).all()
        assert torch.allclose(rl.x.sum(dim=(1, 2, 3)), y.sum(dim=(1, 2, 3)), rtol=1e-4)
    assert rl.stop_reason.startswith("iteration cap")


def test_richardson_lucy_first_iterate_is_the_backprojection(small_problem):
    # an asymmetric kernel, so that the backprojection A^T y differs from A y
    x, _, _ = small_problem
    kernel = torch.rand(5, 5, generator=torch.Generator().manual_seed(1))
    y, op = simulate(x, kernel / kernel.sum(), 60.0, seed=1)
    assert not torch.allclose(op.A(y), op.A_adjoint(y), atol=1e-3)
    rl = RichardsonLucy(y, op, alpha=60.0)
    rl.step()
    assert torch.allclose(rl.x, op.A_adjoint(y), atol=1e-5)


def test_richardson_lucy_is_the_em_iteration_so_the_kl_decreases(small_problem):
    _, y, op = small_problem
    rl = RichardsonLucy(y, op, alpha=60.0, max_iter=30, discrepancy_target=0.0)
    values = []
    for _ in range(30):
        rl.step()
        values.append(kl_divergence(y, op.A(rl.x)))
    values = torch.stack(values)
    assert (values[1:] <= values[:-1] + 1e-6).all()


def test_richardson_lucy_stops_by_discrepancy(small_problem):
    _, y, op = small_problem
    rl = RichardsonLucy(y, op, alpha=60.0, max_iter=500)
    while rl.stop_reason is None:
        rl.step()
    assert "discrepancy" in rl.stop_reason
    assert (discrepancy(y, op.A(rl.x), 60.0) <= 1.0).all()


def tv_objective(x, y, op, lam):
    return kl_divergence(y, op.A(x)) + lam * tv_isotropic(x)


def test_pidsplit_normal_equation_solve_inverts_the_operator(small_problem):
    # an asymmetric kernel: its transfer function is complex, so that |FFT(k)|^2 is checked (with
    # a symmetric one it is real, and Re(FFT(k))^2 would pass)
    x, _, _ = small_problem
    kernel = torch.rand(5, 5, generator=torch.Generator().manual_seed(1))
    y, op = simulate(x, kernel / kernel.sum(), 60.0, seed=1)
    alg = PIDSplitPlus(y, op, lam=0.05)
    generator = torch.Generator().manual_seed(0)
    rhs = torch.randn(y.shape, generator=generator)
    x = alg.solve_normal_equations(rhs)
    applied = op.A_adjoint(op.A(x)) + gradient_adjoint(gradient(x)) + x
    assert torch.allclose(applied, rhs, atol=1e-4)


def test_pidsplit_and_tv_md_reach_the_same_tv_model(small_problem):
    # an asymmetric kernel, so that an A taken for A^T in either method moves its point
    x_true, _, _ = small_problem
    kernel = torch.rand(5, 5, generator=torch.Generator().manual_seed(1))
    y, op = simulate(x_true, kernel / kernel.sum(), 60.0, seed=1)
    lam = 0.02
    pid = PIDSplitPlus(y, op, lam=lam, gamma=10.0, tol=1e-7, max_iter=1500)
    while pid.stop_reason is None:
        pid.step()
    md = TVMirrorDescent(y, op, lam=lam, smoothing=1e-3, tol=1e-7, max_iter=1500)
    while md.stop_reason is None:
        md.step()
    start = tv_objective(op.A_adjoint(y).clamp(0, 1), y, op, lam)
    f_pid, f_md = tv_objective(pid.x, y, op, lam), tv_objective(md.x, y, op, lam)
    assert (f_pid < start).all() and (f_md < start).all()
    # PIDSplit+ solves the non-smooth model exactly; TV-MD its smoothed version (eps = 1e-3)
    assert ((f_pid - f_md).abs() / f_md < 1e-2).all()
    assert (pid.x >= 0).all() and (pid.x <= 1).all()


def test_pidsplit_stops_each_image_on_its_own_as_if_it_were_alone():
    _, y, op = float64_problem(seed=3)
    batch = PIDSplitPlus(y, op, lam=0.05, gamma=10.0, tol=1e-4, max_iter=2000).run()
    assert batch.converged.all() and not batch.hit_cap
    sweeps = []
    for i in range(y.shape[0]):
        alone = PIDSplitPlus(y[i:i + 1], op, lam=0.05, gamma=10.0, tol=1e-4, max_iter=2000)
        changes = []
        while alone.stop_reason is None:
            u1, u3 = alone.u1.clone(), alone.u3.clone()
            alone.step()
            changes.append(max(float((alone.u1 - u1).norm() / alone.u1.norm()),
                               float((alone.u3 - u3).norm() / alone.u3.norm())))
        # it stopped at the first sweep whose larger relative change is below tol
        assert changes[-1] < 1e-4 and all(c >= 1e-4 for c in changes[:-1])
        assert torch.allclose(batch.x[i:i + 1], alone.x, rtol=1e-12, atol=1e-14)
        sweeps.append(len(changes))
    # the images stopped after different numbers of sweeps: freezing was exercised
    assert len(set(sweeps)) > 1
    assert batch.iterations == max(sweeps)


def test_richardson_lucy_gives_each_image_of_a_batch_what_it_gets_alone():
    """Each image stops at the first iterate whose discrepancy is at most the target and is
    frozen: a batch run equals the runs of its images alone, which stop at different iterations."""
    generator = torch.Generator().manual_seed(4)
    x = 0.1 + 0.8 * torch.rand(3, 3, 16, 16, generator=generator, dtype=torch.float64)
    x[0] = x[0].mean()
    y, op = simulate(x, gaussian_kernel(1.0).double(), 40.0, seed=4)
    batch = RichardsonLucy(y, op, alpha=40.0, max_iter=200).run()
    assert batch.converged.all()
    iterations = []
    for i in range(y.shape[0]):
        alone = RichardsonLucy(y[i:i + 1], op, alpha=40.0, max_iter=200).run()
        assert torch.allclose(batch.x[i:i + 1], alone.x, rtol=1e-12, atol=1e-14)
        assert float(discrepancy(y[i:i + 1], op.A(alone.x), 40.0)) <= 1.0
        iterations.append(alone.iterations)
    assert len(set(iterations)) > 1 and batch.iterations == max(iterations)
