"""Bregman score denoiser, B-RED and B-PnP (Hurault et al., NeurIPS 2023)."""

import importlib.util
from pathlib import Path

import pytest
import torch
from conftest import float64_problem, real_data

from benchmark.algorithms.bregman_pnp import BregmanPnP, BregmanPnPParameters, BregmanRED
from benchmark.algorithms.presets import bregman_pnp_parameters
from benchmark.maths.mirror import MirrorState, fixed_step
from benchmark.maths.poisson import bregman_divergence, kl_divergence, kl_grad
from benchmark.networks.bregman_denoiser import BregmanScoreDenoiser, inverse_gamma_noise
from benchmark.networks.registry import WeightsError, load_bregman_denoiser
from benchmark.training.crops import cbsd432_split, validation_crops


def load_solver(name):
    """The ``Solver`` class of ``solvers/<name>.py``."""
    path = Path(__file__).resolve().parents[1] / "solvers" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"solver_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Solver


def tiny_denoiser(seed=0):
    torch.manual_seed(seed)
    model = BregmanScoreDenoiser(features=8, depth=3)
    with torch.no_grad():
        model.net.out_conv.weight.mul_(20.0)
    return model.eval().requires_grad_(False)


def test_denoiser_is_the_burg_gradient_step_of_its_potential():
    """B(x) = x - x^2 grad g(x), with grad g checked against central finite differences."""
    model = tiny_denoiser().double()
    x = torch.rand(2, 3, 8, 8, dtype=torch.float64) * 0.8 + 0.1
    direction = torch.randn_like(x)
    _, grad = model.value_and_grad(x, 0.02)
    h = 1e-6
    numeric = (model.potential(x + h * direction, 0.02)
               - model.potential(x - h * direction, 0.02)) / (2 * h)
    assert torch.allclose((grad * direction).flatten(1).sum(1), numeric, rtol=1e-6)
    assert torch.allclose(model(x, 0.02), x - x ** 2 * grad)
    assert torch.allclose(model(x, 0.02, weight=0.05), x - 0.05 * x ** 2 * grad)


def test_inverse_gamma_noise_has_the_mode_and_mean_of_its_law():
    """1/x~ ~ Gamma(gamma - 1, rate gamma x): E[1/x~] = (gamma - 1) / (gamma x)."""
    torch.manual_seed(0)
    x = torch.tensor([0.2, 0.5, 0.9]).view(1, 3, 1, 1).expand(20000, 3, 1, 1)
    gamma = 20.0
    noisy = inverse_gamma_noise(x, 1.0 / gamma)
    assert bool((noisy > 0).all())
    mean_inverse = (1.0 / noisy).mean(dim=0).flatten()
    expected = (gamma - 1) / (gamma * torch.tensor([0.2, 0.5, 0.9]))
    assert torch.allclose(mean_inverse, expected, rtol=0.01)
    # the noisier law (1/gamma = 0.1) spreads more than the gentler one (1/gamma = 0.01)
    spread = [((inverse_gamma_noise(x, level) - x) ** 2).mean() for level in (0.1, 0.01)]
    assert spread[0] > 5 * spread[1]


def test_shipped_denoiser_keeps_noisy_images_positive_and_denoises(monkeypatch):
    """On held-out CBSD432 crops with inverse-gamma noise at the levels of the paper's B-RED and
    B-PnP (1/50, 1/500) and between them, the shipped denoiser returns positive images (no
    clipping inside it); at 1/50 and 1/100 its output is closer to the clean images than its
    input. (At 1/500 it is not: `denoising_by_noise_level` in its provenance says by how much.)"""
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("CBSD432")))
    model, record = load_bregman_denoiser()
    _, validation = cbsd432_split()
    clean = validation_crops(validation[:6], 96).clamp(min=1e-3)
    torch.manual_seed(0)
    for level in (1.0 / 50, 1.0 / 100, 1.0 / 500):
        noisy = inverse_gamma_noise(clean, level)
        denoised = model(noisy, level)
        assert float(denoised.min()) > 0, (level, float(denoised.min()))
        if level >= 1.0 / 100:
            error, noise = (float(((v - clean) ** 2).mean()) for v in (denoised, noisy))
            assert error < 0.8 * noise, (level, error, noise)
    assert set(record["denoising_by_noise_level"]) >= {"0.02", "0.002"}


def test_missing_denoiser_weights_give_a_clear_error(tmp_path):
    with pytest.raises(WeightsError, match="No Bregman score denoiser.*train_bregman_denoiser"):
        load_bregman_denoiser(weights_dir=tmp_path)


def test_fixed_step_sends_pixels_leaving_the_orthant_to_the_upper_bound():
    x = torch.full((1, 1, 1, 3), 0.5)
    grad = torch.tensor([-4.0, 1.0, -1.0]).view(1, 1, 1, 3)
    state = MirrorState(x=x, value=torch.zeros(1), grad=grad, tau=torch.ones(1))
    new = fixed_step(lambda z, index: (torch.zeros(1), torch.zeros_like(z)), state)
    # denominators 1 + 0.5 * grad: -1 (leaves the orthant), 1.5, 0.5 (-> 1.0, clipped at 1)
    assert torch.allclose(new.x.flatten(), torch.tensor([1.0, 0.5 / 1.5, 1.0]))


def objective_trace(algorithm):
    """F after each iteration as the algorithm reports it, until its own stopping rule."""
    values = []
    with torch.no_grad():
        while algorithm.stop_reason is None:
            algorithm.step()
            values.append(algorithm.state.value.clone())
    return torch.stack(values)


def b_red_main_phase_trace(algorithm, y, operator, denoiser, parameters):
    """B-RED's main-phase objective F = lam KL(y, Ax) + g_gamma(x), recomputed here (not the
    algorithm's bookkeeping) at the start of the main phase (the last initialisation iterate) and
    after each main-phase iteration, until the algorithm's own stopping rule. The value the
    algorithm reports (and backtracks and stops on) must be that F."""
    values, reported = [], []
    with torch.no_grad():
        while algorithm.stop_reason is None:
            algorithm.step()
            x = algorithm.x
            values.append(parameters.lam * kl_divergence(y, operator.A(x))
                          + denoiser.potential(x, parameters.noise_level))
            reported.append(algorithm.state.value.clone())
    start = max(parameters.init_iterations - 1, 0)
    values, reported = torch.stack(values)[start:], torch.stack(reported)[start:]
    assert torch.allclose(reported, values, rtol=1e-6), (reported, values)
    return values


def test_b_red_objective_decreases_monotonically_with_backtracking(small_problem):
    """Steps too long for this problem: fixed, F goes up somewhere; with backtracking it never
    does (until every image stalls at the step floor, which stops the run)."""
    _, y, operator = small_problem
    parameters = BregmanPnPParameters(lam=1.0, lam_init=2.0, tau=5.0, init_iterations=3)

    def main_phase_values(backtracking):
        denoiser = tiny_denoiser()
        algorithm = BregmanRED(y, operator, denoiser, parameters,
                               backtracking=backtracking, tol=0.0, max_iter=40)
        return b_red_main_phase_trace(algorithm, y, operator, denoiser, parameters), algorithm

    fixed, _ = main_phase_values(False)
    assert not bool((fixed[1:] <= fixed[:-1]).all())
    values, algorithm = main_phase_values(True)
    assert bool(torch.isfinite(values).all()) and len(values) > 3
    assert bool((values[1:] <= values[:-1]).all()), values
    assert bool((values[-1] < values[0]).all())
    assert bool((algorithm.state.tau < parameters.tau).all())


def test_b_pnp_refuses_backtracking_and_says_why(small_problem):
    """B-PnP's denoiser is a Bregman proximal operator at step 1: its data step is fixed."""
    _, y, operator = small_problem
    parameters = BregmanPnPParameters(lam=4.0, lam_init=2.0, denoiser_weight=0.05,
                                      init_iterations=3)
    with pytest.raises(ValueError, match="B-PnP has no backtracking: its denoiser is the Bregman"):
        BregmanPnP(y, operator, tiny_denoiser(), parameters, backtracking=True)
    assert BregmanPnP(y, operator, tiny_denoiser(), parameters).backtracking is False


def test_b_pnp_objective_is_data_fit_plus_denoiser_potential(small_problem):
    """F(x+) = lam f(x+) + a g(z) - D_h(x+, z) at x+ = B(z), as the algorithm reports it."""
    _, y, operator = small_problem
    denoiser = tiny_denoiser()
    parameters = BregmanPnPParameters(lam=0.5, lam_init=0.5, denoiser_weight=0.05,
                                      init_iterations=0)
    algorithm = BregmanPnP(y, operator, denoiser, parameters)
    x = algorithm.x
    with torch.no_grad():
        algorithm.step()

    z = (x / (1 + 0.5 * x * kl_grad(y, x, operator))).clamp(max=1.0)
    g_value, g_grad = denoiser.value_and_grad(z, parameters.noise_level)
    x_new = (z - 0.05 * z ** 2 * g_grad).clamp(1e-3, 1.0)
    expected = (0.5 * kl_divergence(y, operator.A(x_new)) + 0.05 * g_value
                - bregman_divergence(x_new, z))
    assert torch.allclose(algorithm.x, x_new, atol=1e-6)
    assert torch.allclose(algorithm.state.value, expected, rtol=1e-5)


def test_b_red_stops_on_the_relative_change_of_its_objective(small_problem):
    _, y, operator = small_problem
    parameters = BregmanPnPParameters(lam=0.5, lam_init=2.0, tau=0.05, init_iterations=2)
    denoiser = tiny_denoiser()
    algorithm = BregmanRED(y, operator, denoiser, parameters, tol=1e-3, max_iter=500)
    values = b_red_main_phase_trace(algorithm, y, operator, denoiser, parameters)
    assert algorithm.stop_reason.startswith("relative change of F < 0.001")
    # F recomputed: each image stops at the first main-phase iteration whose relative change is
    # below tol (earlier ones at or above it, up to the rounding of F), then stays put (frozen);
    # the run ends when the last image stops
    changes = (values[1:] - values[:-1]).abs() / values[:-1].abs()
    firsts = []
    for i in range(y.shape[0]):
        first = int((changes[:, i] < 1e-3).nonzero()[0])
        assert (changes[:first, i] >= 1e-3 - 1e-8).all()
        assert (values[first + 1:, i] == values[first + 1, i]).all()
        firsts.append(first)
    assert len(changes) == max(firsts) + 1 and len(changes) < 500 - parameters.init_iterations


def test_cap_counts_the_initialisation_phase(small_problem):
    _, y, operator = small_problem
    parameters = BregmanPnPParameters(lam=0.025, lam_init=2.0, denoiser_weight=0.05,
                                      init_iterations=4)
    algorithm = BregmanPnP(y, operator, tiny_denoiser(), parameters, tol=0.0, max_iter=6)
    objective_trace(algorithm)
    assert algorithm.stop_reason == "iteration cap max_iter=6 hit"
    assert algorithm.iterations == 6


def test_alpha_without_table_entry_is_an_error_not_a_default():
    assert bregman_pnp_parameters("b_red", 40, "paper") == dict(lam_init=2.0, lam=0.5,
                                                                tau_init=1.0, tau=0.05)
    assert bregman_pnp_parameters("b_pnp", 60, "paper")["lam"] == 0.025
    for solver in ("b_red", "b_pnp"):  # the tuned preset covers the benchmark's alphas
        for alpha in (40, 60, 100):
            BregmanPnPParameters(**bregman_pnp_parameters(solver, alpha))
    for solver in ("b_red", "b_pnp"):
        with pytest.raises(ValueError, match=rf"No paper parameters of {solver} for alpha=100"):
            bregman_pnp_parameters(solver, 100, "paper")
        with pytest.raises(ValueError, match=rf"No tuned parameters of {solver} for alpha=20"):
            bregman_pnp_parameters(solver, 20, "tuned")
    with pytest.raises(ValueError, match="unknown preset 'best'; choose one of 'paper', 'tuned'"):
        bregman_pnp_parameters("b_red", 40, "best")


def test_solver_skips_an_alpha_without_parameters_and_says_why():
    solver = load_solver("b_red").get_instance(preset="paper", lam="preset", lam_init="preset",
                                  noise_level="preset", noise_level_init="preset", tau="preset",
                                  tau_init="preset", backtracking=False, tol=1e-7, max_iter=10,
                                  device="cpu")
    skip, reason = solver.skip(None, None, 100)
    assert skip and "No paper parameters of b_red for alpha=100" in reason
    # every parameter given: no table needed; one left at "preset" needs the table again
    given = dict(preset="paper", lam=0.3, lam_init=2.0, noise_level=0.002,
                 noise_level_init=0.02, tau=0.05, tau_init=1.0, backtracking=False, tol=1e-7,
                 max_iter=10, device="cpu")
    with pytest.raises(ValueError, match="No paper parameters of b_red for alpha=100"):
        load_solver("b_red").get_instance(**{**given, "tau": "preset"}).parameters_for(100)
    solver = load_solver("b_red").get_instance(**given)
    assert solver.parameters_for(100) == BregmanPnPParameters(
        lam=0.3, lam_init=2.0, noise_level=0.002, noise_level_init=0.02, tau=0.05, tau_init=1.0)


@pytest.mark.parametrize("name", ["lam", "lam_init", "tau", "noise_level", "denoiser_weight"])
def test_parameters_must_be_positive(name):
    values = dict(lam=0.5, lam_init=2.0)
    values[name] = 0.0
    with pytest.raises(ValueError, match=f"{name} must be > 0"):
        BregmanPnPParameters(**values)


@pytest.mark.parametrize("method, parameters", [
    (BregmanRED, BregmanPnPParameters(lam=0.5, lam_init=2.0, tau=0.05, init_iterations=2)),
    (BregmanPnP, BregmanPnPParameters(lam=0.5, lam_init=2.0, denoiser_weight=0.05,
                                      init_iterations=2)),
])
def test_b_red_and_b_pnp_give_each_image_of_a_batch_what_it_gets_alone(method, parameters):
    """Per-image stopping and freezing (float64): a batch of three gives each image its own run,
    and the images stopped at different iterations."""
    _, y, operator = float64_problem(size=16, seed=5)
    denoiser = tiny_denoiser().double()

    def run(images):
        algorithm = method(images, operator, denoiser, parameters, tol=1e-3, max_iter=400)
        with torch.no_grad():
            while algorithm.stop_reason is None:
                algorithm.step()
        return algorithm

    batch = run(y)
    assert batch.iterations < 400
    iterations = []
    for i in range(y.shape[0]):
        alone = run(y[i:i + 1])
        assert torch.allclose(batch.x[i:i + 1], alone.x, rtol=1e-10, atol=1e-12)
        iterations.append(alone.iterations)
    assert len(set(iterations)) > 1 and batch.iterations == max(iterations)
