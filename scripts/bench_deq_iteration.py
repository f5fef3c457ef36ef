"""Cost of one DEQ-MD iteration relative to one forward+backward pass of its network.

    python scripts/bench_deq_iteration.py [--size 256] [--batch 3] [--repeats 5] [--device auto]

Interleaved in one process, medians of ``--repeats`` runs, on the same batch:
(1) one forward and one backward pass of the RED network with respect to its input
    (``value_and_grad``, weights frozen: no graph towards them);
(2) one iteration of the paper's fixed-point iteration (the mirror-descent driver,
    ``benchmark.algorithms.deqmd.paper_iteration``): a backtracking mirror step on KL + R and the
    driver's bookkeeping, timed from the state reached after ``--warmup`` iterations (so that the
    step size has settled as in a real run). An accepted step evaluates the network once at the
    new point and that evaluation is reused at the next iteration;
(3) one iteration of the equilibrium solver (projected L-BFGS,
    ``benchmark.algorithms.equilibrium``) after ``--warmup`` iterations: the two-loop recursion,
    the line search and its evaluations.
The number of network evaluations per timed iteration is printed, and the ratios per evaluation.
Uses the shipped pre-trained denoiser weights when present, else random weights.
"""

import argparse
import statistics

import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.algorithms.deqmd import paper_iteration
from benchmark.algorithms.equilibrium import ProjectedLBFGS
from benchmark.data.images import smooth_random_images
from benchmark.device import select_device, timed_call
from benchmark.maths.mirror import initial_point
from benchmark.maths.physics import gaussian_kernel, simulate
from benchmark.networks.registry import WEIGHTS_DIR, load_checkpoint
from benchmark.networks.regularizers import REDPotential


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = select_device(args.device)

    torch.manual_seed(0)
    model = REDPotential()
    if (WEIGHTS_DIR / "red_denoiser.pt").is_file():
        model.load_state_dict(load_checkpoint(WEIGHTS_DIR / "red_denoiser.pt"))
    model = model.to(device).eval().requires_grad_(False)
    x, _ = smooth_random_images(args.batch, args.size, seed=0)
    y, operator = simulate(x.to(device), gaussian_kernel(), 60.0, seed=0)
    potential = CompositeObjective(y, operator, model)
    x0 = initial_point(y, operator)
    paper = paper_iteration(potential, x0, tol=0.0, max_iter=10**6)
    for _ in range(args.warmup):
        paper.step()
    evaluations = []
    lbfgs = ProjectedLBFGS(potential, x0, tol=1e-12, max_iter=10**6)
    for _ in range(args.warmup):
        lbfgs.step()
    lbfgs_evaluations = []

    def iteration():
        before = int(paper.evaluations.max())
        paper.step()
        evaluations.append(int(paper.evaluations.max()) - before)

    def lbfgs_iteration():
        before = int(lbfgs.evaluations.max())
        lbfgs.step()
        lbfgs_evaluations.append(int(lbfgs.evaluations.max()) - before)

    cases = {"network forward+backward": lambda: model.value_and_grad(x0),
             "DEQ-MD iteration": iteration, "L-BFGS iteration": lbfgs_iteration}
    times = {name: [] for name in cases}
    for fn in cases.values():
        fn()
    for _ in range(args.repeats):
        for name, fn in cases.items():
            times[name].append(timed_call(fn, device)[1])
    network = statistics.median(times["network forward+backward"])
    step = statistics.median(times["DEQ-MD iteration"])
    print(f"device={device}, torch threads={torch.get_num_threads()}, batch {args.batch}x3x"
          f"{args.size}x{args.size}, {args.repeats} repeats (medians)")
    print(f"network forward+backward: {1e3 * network:9.1f} ms")
    print(f"DEQ-MD iteration:         {1e3 * step:9.1f} ms "
          f"({max(evaluations)} network evaluation(s) per iteration)")
    print(f"ratio iteration / (forward+backward): {step / network:.3f}")
    timed_evaluations = lbfgs_evaluations[1:]  # the first call was the untimed warm-up
    per_evaluation = sum(times["L-BFGS iteration"]) / sum(timed_evaluations)
    print(f"L-BFGS iteration:         {1e3 * statistics.median(times['L-BFGS iteration']):9.1f} ms "
          f"({sum(timed_evaluations) / len(timed_evaluations):.2f} network evaluations per "
          f"iteration on average)")
    print(f"ratio L-BFGS time per evaluation / (forward+backward): {per_evaluation / network:.3f}")


if __name__ == "__main__":
    main()
