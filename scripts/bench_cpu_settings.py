"""Time, peak memory and results on a CPU with one of the library's CPU settings off and on.

    python scripts/bench_cpu_settings.py [--setting memory|denormals] [--repeats 3] [--scale 1]

The two settings that every entry point applies on a CPU (``benchmark.device``), each an
environment switch:

* ``memory`` (``POISSON_DEBLUR_KEEP_CPU_MEMORY``): ``select_device`` calls
  ``keep_freed_cpu_memory``, so that glibc's malloc reuses the blocks torch frees instead of
  unmapping them;
* ``denormals`` (``POISSON_DEBLUR_FLUSH_DENORMALS``): ``import benchmark`` calls
  ``flush_denormals``, so that the CPU reads and writes subnormal floats as 0.

Both are process-wide and cannot be undone, hence the fresh worker processes, run alternately with
the setting off and on (``--repeats`` workers each), the other setting at its default. A worker
times each case (one untimed call, then the median of three) and reports its peak resident memory.
Printed per case: the median over workers of each arm, their ratio (off / on: above 1, the setting
is faster), and the largest absolute difference between the two arms' outputs (the first worker
of each); then each arm's peak memory (the largest case, d4, sets it). Cases, with the shipped
``red_motion_a100.pt`` (random weights when absent):

* the gradient of the potential on a set3c batch (3 images 256x256), on the same batch under
  the ``d4`` symmetry (24 images), and on a validation batch of 12 crops 128x128;
* a training step: 64 crops 64x64, the gradient with its graph, then the backward pass of a loss
  to the weights (output: the weights' gradient);
* a DEQ-MD solve: 10 iterations of the equilibrium solver on 3 images 256x256 (smooth random
  images, Gaussian blur, alpha 100; output: the iterate).

``--scale`` divides the image sides (toy runs).
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmark.algorithms.deqmd import reconstruct
from benchmark.data.images import smooth_random_images
from benchmark.device import (
    ENV_FLUSH_DENORMALS,
    ENV_KEEP_CPU_MEMORY,
    flush_denormals,
    keep_freed_cpu_memory,
    select_device,
    subnormals_survive,
)
from benchmark.maths.physics import gaussian_kernel, simulate
from benchmark.networks.registry import WEIGHTS_DIR, load_checkpoint
from benchmark.networks.regularizers import REDPotential
from benchmark.networks.symmetry import symmetrized

SETTINGS = {"memory": ENV_KEEP_CPU_MEMORY, "denormals": ENV_FLUSH_DENORMALS}
ARMS = ("off", "on")


def training_step(model, x):
    """The weights' gradient of a loss on the potential's gradient (taken with its graph)."""
    model.zero_grad()
    value, grad = model.value_and_grad(x, create_graph=True)
    (grad.square().sum() + value.sum()).backward()
    return torch.cat([p.grad.flatten() for p in model.parameters()])


def cases(model, scale):
    """``(label, run, data, whether the weights take gradients)`` of each case; ``run(data)``
    returns the tensor whose values the two arms must share."""
    def images(batch, size):
        generator = torch.Generator().manual_seed(0)
        return torch.rand(batch, 3, size // scale, size // scale, generator=generator)

    def gradient(potential):
        return lambda x: potential.value_and_grad(x)[1]
    x, _ = smooth_random_images(3, 256 // scale, seed=0)
    return [("gradient, 3 x 256x256", gradient(model), images(3, 256), False),
            ("gradient under d4, 24 x 256x256", gradient(symmetrized(model, "d4")),
             images(3, 256), False),
            ("gradient, 12 x 128x128", gradient(model), images(12, 128), False),
            ("training step, 64 x 64x64", lambda x: training_step(model, x), images(64, 64),
             True),
            ("DEQ-MD solve, 10 iterations, 3 x 256x256",
             lambda problem: reconstruct(*problem, model, max_iter=10).x,
             simulate(x, gaussian_kernel(), 100.0, seed=0), False)]


def check_arm(setting, arm):
    """Exit when the worker's process is not in the state its arm names."""
    if setting == "memory" and arm == "on" and not keep_freed_cpu_memory():
        sys.exit("keep_freed_cpu_memory() was not applied: this C library has no mallopt.")
    if setting == "denormals":
        if arm == "on" and (not flush_denormals() or subnormals_survive()):
            sys.exit("subnormal floats are not flushed in every thread on this CPU.")
        if arm == "off" and not subnormals_survive():
            sys.exit("subnormal floats are flushed although the setting is off.")


def worker(setting, arm, scale, save):
    """One worker: prints a JSON line of the median seconds per case and the peak memory, and
    saves each case's output to ``save`` when given."""
    select_device("cpu")
    check_arm(setting, arm)
    model = REDPotential()
    weights = WEIGHTS_DIR / "red_motion_a100.pt"
    if weights.is_file():
        model.load_state_dict(load_checkpoint(weights))
    seconds, outputs = {}, {}
    for label, run, data, train in cases(model, scale):
        model.requires_grad_(train)
        outputs[label] = run(data).detach().clone()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run(data)
            times.append(time.perf_counter() - start)
        seconds[label] = statistics.median(times)
    if save:
        torch.save(outputs, save)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def run_worker(setting, arm, scale, save):
    env = {**os.environ, SETTINGS[setting]: "1" if arm == "on" else "0"}
    command = [sys.executable, __file__, "--setting", setting, "--worker", arm, "--scale",
               str(scale)] + (["--save", str(save)] if save else [])
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--setting", choices=sorted(SETTINGS), default="denormals")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--device", default="cpu", choices=("cpu",),
                        help="the settings measured are the CPU's (no other device)")
    parser.add_argument("--worker", choices=ARMS, help=argparse.SUPPRESS)
    parser.add_argument("--save", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.setting, args.worker, args.scale, args.save)
        return
    runs = {arm: [] for arm in ARMS}
    with tempfile.TemporaryDirectory() as folder:
        saved = {arm: Path(folder) / f"{arm}.pt" for arm in ARMS}
        for repeat in range(args.repeats):
            for arm in ARMS:
                save = saved[arm] if repeat == 0 else None
                runs[arm].append(run_worker(args.setting, arm, args.scale, save))
        outputs = {arm: torch.load(saved[arm]) for arm in ARMS}
    print(f"setting {args.setting} ({SETTINGS[args.setting]}), {torch.get_num_threads()} threads, "
          f"{args.repeats} workers per arm, image sides / {args.scale}")
    for label in runs[ARMS[0]][0]["seconds"]:
        off, on = (statistics.median(r["seconds"][label] for r in runs[arm]) for arm in ARMS)
        difference = (outputs["off"][label] - outputs["on"][label]).abs().max().item()
        print(f"{label}: off {off:.3f} s, on {on:.3f} s, ratio {off / on:.2f}, "
              f"largest output difference {difference:.3g}")
    for arm in ARMS:
        print(f"peak memory, {arm}: {max(r['peak_mb'] for r in runs[arm]):.0f} MB")


if __name__ == "__main__":
    main()
