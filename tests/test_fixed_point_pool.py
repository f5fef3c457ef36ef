"""The pool of DEQ-MD training problems: fixed problems, one kernel per batch, warm starts."""

import pytest
import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import make_solver
from benchmark.data.images import smooth_random_images
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import gaussian_kernel, simulate, uniform_kernel
from benchmark.networks.regularizers import REDPotential
from benchmark.training.fixed_point_pool import FixedPointPool


class RandomCrops:
    def sample(self, batch):
        return smooth_random_images(batch, 32, seed=3)[0]


@pytest.fixture
def pool():
    return FixedPointPool(RandomCrops(), [gaussian_kernel(), uniform_kernel()], 60.0, size=6,
                          seed=5)


def test_problems_are_fixed_and_batches_share_a_kernel(pool):
    # problem i is blurred by kernel i % 2 with one fixed noise draw, rebuilt from the seed
    again = FixedPointPool(RandomCrops(), [gaussian_kernel(), uniform_kernel()], 60.0, size=6,
                           seed=5)
    assert torch.equal(pool.y, again.y)
    members = torch.tensor([1, 3, 5])
    expected, _ = simulate(pool.clean[members], uniform_kernel(), 60.0, seed=5 + 1)
    assert torch.equal(pool.y[members], expected)
    for _ in range(10):
        batch = pool.sample(2)
        assert len(set(batch.ids.tolist())) == 2
        assert all(int(i) % 2 == batch.kernel_index for i in batch.ids)
    with pytest.raises(ValueError, match="raise --pool to at least 8"):
        pool.sample(4)


def test_a_problem_met_again_starts_from_its_last_fixed_point(pool):
    torch.manual_seed(0)
    model = REDPotential(features=8, depth=3).requires_grad_(False)
    batch = pool.sample(3)
    clean, y, operator, start = pool.problem(batch)
    assert torch.equal(start, initial_point(y, operator))
    potential = CompositeObjective(y, operator, model)
    cold = make_solver("lbfgs", potential, start, 1e-5, 1000).run()
    pool.remember(batch, cold.x)
    _, _, _, warm_start = pool.problem(batch)
    assert torch.equal(warm_start, cold.x)
    warm = make_solver("lbfgs", potential, warm_start, 1e-5, 1000).run()
    assert warm.converged.all() and int(warm.evaluations.max()) <= 3
    assert int(cold.evaluations.min()) > 10
    assert float((warm.x - cold.x).norm() / cold.x.norm()) < 1e-3
