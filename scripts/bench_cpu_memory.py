"""Time and peak memory on a CPU with glibc's malloc as it is, and keeping the memory torch frees.

    python scripts/bench_cpu_memory.py [--repeats 3] [--scale 1] [--device cpu]

``benchmark.device.select_device`` calls ``keep_freed_cpu_memory`` on a CPU: glibc's malloc then
reuses the blocks torch frees instead of unmapping them (see its docstring). This script runs the
cases below in fresh worker processes, alternately with glibc's defaults and with that setting
(``--repeats`` workers each; the setting is process-wide and cannot be undone, hence the
processes). A worker times each case (one untimed call, then the median of three) and reports its
peak resident memory. Printed per case: the median over workers of each arm, their ratio (default
/ kept: above 1, keeping memory is faster); then each arm's peak memory (the largest case, d4,
sets it). Cases, with the shipped ``red_motion_a100.pt`` (random weights when absent):

* the gradient of the potential on a set3c batch (3 images 256x256), on the same batch under
  the ``d4`` symmetry (24 images), and on a validation batch of 12 crops 128x128;
* a training step: 64 crops 64x64, the gradient with its graph, then the backward pass of a loss
  to the weights;
* a DEQ-MD solve: 10 iterations of the equilibrium solver on 3 images 256x256 (smooth random
  images, Gaussian blur, alpha 100).

``--scale`` divides the image sides (toy runs).
"""

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

import torch

from benchmark.algorithms.deqmd import reconstruct
from benchmark.data.images import smooth_random_images
from benchmark.device import keep_freed_cpu_memory
from benchmark.maths.physics import gaussian_kernel, simulate
from benchmark.networks.registry import WEIGHTS_DIR, load_checkpoint
from benchmark.networks.regularizers import REDPotential
from benchmark.networks.symmetry import symmetrized

ARMS = ("glibc default", "kept")


def training_step(model, x):
    model.zero_grad()
    value, grad = model.value_and_grad(x, create_graph=True)
    (grad.square().sum() + value.sum()).backward()


def cases(model, scale):
    """``(label, run, data, whether the weights take gradients)`` of each case."""
    def images(batch, size):
        generator = torch.Generator().manual_seed(0)
        return torch.rand(batch, 3, size // scale, size // scale, generator=generator)
    x, _ = smooth_random_images(3, 256 // scale, seed=0)
    d4 = symmetrized(model, "d4")
    return [("gradient, 3 x 256x256", model.value_and_grad, images(3, 256), False),
            ("gradient under d4, 24 x 256x256", d4.value_and_grad, images(3, 256), False),
            ("gradient, 12 x 128x128", model.value_and_grad, images(12, 128), False),
            ("training step, 64 x 64x64", lambda x: training_step(model, x), images(64, 64),
             True),
            ("DEQ-MD solve, 10 iterations, 3 x 256x256",
             lambda problem: reconstruct(*problem, model, max_iter=10),
             simulate(x, gaussian_kernel(), 100.0, seed=0), False)]


def worker(arm, scale):
    """One worker: prints a JSON line of the median seconds per case and the peak memory."""
    if arm == "kept" and not keep_freed_cpu_memory():
        sys.exit("keep_freed_cpu_memory() was not applied: this C library has no mallopt.")
    model = REDPotential()
    weights = WEIGHTS_DIR / "red_motion_a100.pt"
    if weights.is_file():
        model.load_state_dict(load_checkpoint(weights))
    seconds = {}
    for label, run, data, train in cases(model, scale):
        model.requires_grad_(train)
        run(data)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run(data)
            times.append(time.perf_counter() - start)
        seconds[label] = statistics.median(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=("cpu",),
                        help="the setting measured is the CPU's (no other device)")
    parser.add_argument("--worker", choices=ARMS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.scale)
        return
    runs = {arm: [] for arm in ARMS}
    for _ in range(args.repeats):
        for arm in ARMS:
            done = subprocess.run([sys.executable, __file__, "--worker", arm, "--scale",
                                   str(args.scale)], capture_output=True, text=True, check=True)
            runs[arm].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{torch.get_num_threads()} threads, {args.repeats} workers per arm, "
          f"image sides / {args.scale}")
    for label in runs[ARMS[0]][0]["seconds"]:
        default, kept = (statistics.median(r["seconds"][label] for r in runs[arm])
                         for arm in ARMS)
        print(f"{label}: glibc default {default:.3f} s, kept {kept:.3f} s, "
              f"ratio {default / kept:.2f}")
    for arm in ARMS:
        print(f"peak memory, {arm}: {max(r['peak_mb'] for r in runs[arm]):.0f} MB")


if __name__ == "__main__":
    main()
