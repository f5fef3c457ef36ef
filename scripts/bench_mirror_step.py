"""Cost of one mirror-descent step relative to one application of A and A^T.

    python scripts/bench_mirror_step.py [--size 256] [--batch 3] [--repeats 30] [--device auto]

Times, on the same data and interleaved in one process (medians of ``--repeats`` runs):
(1) one application of A followed by one of A^T, the floor of any step on the data fit;
(2) one accepted Burg mirror step with backtracking on F = KL(y, A.) (one evaluation of F and
    its gradient: A and A^T once each, plus the elementwise work);
(3) one TV-MD step (F = KL + lambda TV_eps).
Prints each median and its ratio to (1).
"""

import argparse
import statistics

import torch

from benchmark.algorithms.composite import CompositeObjective
from benchmark.data.images import smooth_random_images
from benchmark.device import select_device, timed_call
from benchmark.maths.mirror import backtracking_step, init_state, initial_point
from benchmark.maths.physics import gaussian_kernel, simulate
from benchmark.maths.tv import SmoothedTV


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = select_device(args.device)

    x, _ = smooth_random_images(args.batch, args.size, seed=0)
    x = x.to(device)
    y, operator = simulate(x, gaussian_kernel(), 60.0, seed=0)
    x0 = initial_point(y, operator)
    kl_fun, tv_fun = (CompositeObjective(y, operator),
                      CompositeObjective(y, operator, SmoothedTV(0.05)))
    kl_state, tv_state = init_state(kl_fun, x0, 1e-3), init_state(tv_fun, x0, 1e-3)

    cases = {
        "A + A^T": lambda: operator.A_adjoint(operator.A(x0)),
        "mirror step, KL": lambda: backtracking_step(kl_fun, kl_state),
        "mirror step, KL + TV": lambda: backtracking_step(tv_fun, tv_state),
    }
    times = {name: [] for name in cases}
    with torch.no_grad():
        for fn in cases.values():
            fn()
        for _ in range(args.repeats):
            for name, fn in cases.items():
                times[name].append(timed_call(fn, device)[1])
    evaluations = {name: backtracking_step(f, s)[1].evaluations for name, (f, s) in
                   {"mirror step, KL": (kl_fun, kl_state),
                    "mirror step, KL + TV": (tv_fun, tv_state)}.items()}
    floor = statistics.median(times["A + A^T"])
    print(f"device={device}, torch threads={torch.get_num_threads()}, images {args.batch}x3x"
          f"{args.size}x{args.size}, {args.repeats} repeats (medians)")
    for name, values in times.items():
        median = statistics.median(values)
        extra = f", {evaluations[name]} evaluation(s) of F" if name in evaluations else ""
        print(f"{name:>22}: {1e3 * median:8.2f} ms   ratio to A + A^T: "
              f"{median / floor:5.2f}{extra}")


if __name__ == "__main__":
    main()
