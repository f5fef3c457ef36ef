"""DEQ-MD: regulariser gradients, checkpoint layout, stopping rule, cap, JFB training, weights."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import jfb_output, make_solver, reconstruct
from benchmark.algorithms.equilibrium import fixed_point_residual
from benchmark.data.images import smooth_random_images
from benchmark.data.problem import make_problem
from benchmark.maths.mirror import backtracking_step, init_state, initial_point
from benchmark.networks.registry import (
    WeightsError,
    find_checkpoint,
    load_checkpoint,
    load_regularizer,
    write_checkpoint,
)
from benchmark.networks.regularizers import (
    REDPotential,
    ScalarPotential,
    count_parameters,
    load_authors_state_dict,
)
from benchmark.networks.symmetry import SymmetrizedPotential


@pytest.fixture
def tiny_red():
    torch.manual_seed(0)
    return REDPotential(features=8, depth=3)


def test_red_has_the_papers_size_and_gradient_matches_autograd():
    assert count_parameters(REDPotential()) == 114_307
    torch.manual_seed(0)
    model = REDPotential(features=8, depth=3).double()
    x = torch.rand(2, 3, 12, 12, dtype=torch.float64)
    value, grad = model.value_and_grad(x)
    # R(x) = 0.5 ||D(x)||^2 and its gradient J_D(x)^T D(x), checked by central differences
    direction = torch.randn_like(x)
    h = 1e-6
    numeric = (model(x + h * direction) - model(x - h * direction)) / (2 * h)
    assert torch.allclose((grad * direction).sum(dim=(1, 2, 3)), numeric, rtol=1e-5, atol=1e-8)
    assert torch.allclose(value, 0.5 * (model.net(x) ** 2).sum(dim=(1, 2, 3)))


def test_scalar_potential_has_the_papers_size():
    assert abs(count_parameters(ScalarPotential()) - 7.2e6) < 0.1e6
    torch.manual_seed(0)
    model = ScalarPotential(width=8).double()
    x = torch.rand(2, 3, 128, 128, dtype=torch.float64)
    value, grad = model.value_and_grad(x)
    assert value.shape == (2,) and grad.shape == (2, 3, 128, 128)
    # the value is the network's, the gradient checked by central differences along a direction
    assert torch.allclose(value, model(x))
    direction = torch.randn_like(x)
    h = 1e-6
    numeric = (model(x + h * direction) - model(x - h * direction)) / (2 * h)
    assert torch.allclose((grad * direction).sum(dim=(1, 2, 3)), numeric, rtol=1e-5, atol=1e-8)


def test_authors_checkpoint_layout_loads(tmp_path):
    torch.manual_seed(1)
    theirs = REDPotential()
    state = {f"network.{k}": v for k, v in theirs.state_dict().items()}
    assert "network.net.in_conv.weight" in state and "network.net.conv_list.2.bias" in state
    # their DEQFixedPoint also stores the blur of its physics as buffers, which we do not load
    state["physics.filter"] = torch.rand(1, 3, 9, 9)
    state["physics.noise_model.gain"] = torch.tensor(1 / 60)
    torch.save(state, tmp_path / "best_model_checkpoint_Gauss_RED_DnCNN_alpha_60.pth")
    ours = load_authors_state_dict(REDPotential(), torch.load(
        tmp_path / "best_model_checkpoint_Gauss_RED_DnCNN_alpha_60.pth", weights_only=True))
    x = torch.rand(1, 3, 16, 16)
    assert torch.equal(ours(x), theirs(x))


def test_potential_gradient_matches_autograd(small_problem, tiny_red):
    _, y, op = small_problem
    potential = CompositeObjective(y, op, tiny_red)
    x = initial_point(y, op)
    value, grad = potential(x, None)
    x_var = x.clone().requires_grad_(True)
    value_graph, _ = potential(x_var, None, create_graph=True)
    (auto,) = torch.autograd.grad(value_graph.sum(), x_var)
    assert torch.allclose(value, value_graph.detach())
    assert torch.allclose(grad, auto, rtol=1e-4, atol=1e-6)


def test_accepted_step_costs_one_network_evaluation(small_problem, tiny_red):
    _, y, op = small_problem
    calls = []
    tiny_red.register_forward_hook(lambda *args: calls.append(1))
    potential = CompositeObjective(y, op, tiny_red)
    state = init_state(potential, initial_point(y, op), tau0=1e-4)
    calls.clear()
    new, info = backtracking_step(potential, state)
    assert not info.stalled.any() and info.evaluations == 1 and len(calls) == 1


def test_paper_iteration_stops_by_its_rule(small_problem, tiny_red):
    _, y, op = small_problem
    solver = make_solver("mirror", CompositeObjective(y, op, tiny_red), initial_point(y, op),
                         tol=1e-4, max_iter=2000)
    moves = {i: [] for i in range(y.shape[0])}
    while solver.stop_reason is None:
        before = solver.x.clone()
        solver.step()
        for i in range(y.shape[0]):
            if not torch.equal(before[i], solver.x[i]):
                moves[i].append(float((solver.x[i] - before[i]).norm() / solver.x[i].norm()))
    result = solver.result()
    assert not result.hit_cap and result.converged.all() and result.iterations < 2000
    # the rule, recomputed: each image moves until its first move < 1e-4 relative to its new
    # point, and not after it (frozen)
    for changes in moves.values():
        assert changes and changes[-1] < 1e-4 and all(c >= 1e-4 for c in changes[:-1])
    assert (result.x > 0).all() and (result.x <= 1).all()


def test_unknown_solver_names_the_choices(small_problem, tiny_red):
    _, y, op = small_problem
    with pytest.raises(ValueError, match="unknown fixed-point solver 'anderson'; "
                                         "choose one of 'lbfgs', 'mirror'"):
        reconstruct(y, op, tiny_red, "anderson")


def test_one_jfb_training_step_lowers_the_loss(small_problem, tiny_red):
    x_true, y, op = small_problem
    potential = CompositeObjective(y, op, tiny_red)

    def loss():
        tiny_red.requires_grad_(False)
        with torch.no_grad():
            fixed_point = make_solver("lbfgs", potential, initial_point(y, op), 1e-5, 500).run()
        assert fixed_point.converged.all()
        tiny_red.requires_grad_(True)
        return ((jfb_output(potential, fixed_point) - x_true) ** 2).mean()

    optimizer = torch.optim.SGD(tiny_red.parameters(), lr=0.05)
    before = loss()
    optimizer.zero_grad()
    before.backward()
    grads = [p.grad for p in tiny_red.parameters()]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0
    optimizer.step()
    assert loss().item() < before.item()


def test_weights_round_trip_and_errors(tmp_path, tiny_red):
    record = write_checkpoint(tiny_red.state_dict(), tmp_path / "red_all_a60.pt", {
        "regularizer": "red", "kernel": "all", "alpha": 60, "stage": "deq",
        "architecture": tiny_red.architecture})
    assert json.loads((tmp_path / "red_all_a60.json").read_text())["sha256"] == record["sha256"]
    # a kernel-specific model is preferred, else the all-kernel model of that alpha
    assert find_checkpoint("red", "motion", 60, weights_dir=tmp_path)["kernel"] == "all"
    model, _ = load_regularizer("red", "motion", 60, weights_dir=tmp_path)
    assert not any(p.requires_grad for p in model.parameters())
    with pytest.raises(WeightsError, match="No deq checkpoint .* alpha=40"):
        find_checkpoint("red", "gaussian", 40, weights_dir=tmp_path)
    (tmp_path / "red_all_a60.pt").write_bytes(b"corrupted")
    with pytest.raises(WeightsError, match="corrupted"):
        load_regularizer("red", "gaussian", 60, weights_dir=tmp_path)
    (tmp_path / "red_all_a60.pt").unlink()
    with pytest.raises(WeightsError, match="red_all_a60.pt is missing"):
        load_checkpoint(tmp_path / "red_all_a60.pt", record["sha256"])


@pytest.mark.parametrize("solver_name, symmetry, rule", [
    ("lbfgs", "flip", "fixed-point residual < 1e-05"),
    ("lbfgs", "none", "fixed-point residual < 1e-05"),
    ("mirror", "none", "relative change < 2.5e-05")])
def test_deqmd_solver_file_runs_each_fixed_point_solver_to_its_rule(solver_name, symmetry, rule):
    path = Path(__file__).resolve().parents[1] / "solvers" / "deqmd.py"
    spec = importlib.util.spec_from_file_location("solver_deqmd", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, names = smooth_random_images(1, 32, seed=0)
    data = make_problem(x, names, "gaussian", 60, seed=0)
    solver = module.Solver.get_instance(solver=solver_name, symmetry=symmetry, max_iter=3000,
                                        device="cpu")
    solver.set_objective(y=data["y"], kernel=data["kernel"], alpha=data["alpha"])
    iterates = []
    solver.run(lambda: iterates.append(solver.algorithm.x.clone()) or True)
    assert solver.algorithm.stop_reason.startswith(rule)
    out = solver.get_result()["x"]
    # one recorded point per iteration, plus the start; the last one is the result
    assert len(iterates) == solver.algorithm.iterations + 1 and torch.equal(iterates[-1], out)
    if solver_name == "mirror":
        # the paper's rule, recomputed from the recorded iterates: the run stops at the first
        # move below 2.5e-5 relative to its new point
        changes = [float((new - old).norm() / new.norm())
                   for old, new in zip(iterates, iterates[1:])]
        assert changes[-1] < 2.5e-5 and all(c >= 2.5e-5 for c in changes[:-1])
    if solver_name == "lbfgs":
        # the fixed point of the potential averaged over the group, and of no other
        averaged = SymmetrizedPotential(solver.model, "flip")
        residuals = {name: float(fixed_point_residual(
            out, CompositeObjective(solver.y, solver.operator, regularizer)(out, None)[1]).max())
            for name, regularizer in (("none", solver.model), ("flip", averaged))}
        assert residuals[symmetry] < 1e-5
        assert residuals["flip" if symmetry == "none" else "none"] > 1e-5
