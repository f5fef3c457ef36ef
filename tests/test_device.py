"""Device selection and the CPU memory setting of ``benchmark.device``."""

import os
import platform
import subprocess
import sys
import time

import pytest
import torch

from benchmark.device import (
    ENV_FLUSH_DENORMALS,
    ENV_KEEP_CPU_MEMORY,
    LATE_FLUSH,
    select_device,
    timed_call,
)

# In a fresh process: the network's gradient on three 256x256 images (64 channels: 50 MB per
# activation), twice, then the page faults of a third call (resource's ru_minflt), with or without
# keep_freed_cpu_memory() ("kept"), or as select_device("cpu") leaves it ("selected").
THIRD_CALL_FAULTS = """
import resource, sys, torch
from benchmark.device import keep_freed_cpu_memory, select_device
from benchmark.networks.regularizers import REDPotential
if sys.argv[1] == "kept":
    assert keep_freed_cpu_memory()
if sys.argv[1] == "selected":
    select_device("cpu")
torch.manual_seed(0)
model = REDPotential(depth=3).requires_grad_(False)
x = torch.rand(3, 3, 256, 256)
for _ in range(2):
    model.value_and_grad(x)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
model.value_and_grad(x)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


# one activation of the call is 3 * 64 * 256 * 256 floats: 12,288 pages of 4 KiB
ACTIVATION_PAGES = 3 * 64 * 256 * 256 * 4 // 4096


def third_call_faults(arm, keep_cpu_memory=None):
    env = {k: v for k, v in os.environ.items() if k != ENV_KEEP_CPU_MEMORY}
    if keep_cpu_memory is not None:
        env[ENV_KEEP_CPU_MEMORY] = keep_cpu_memory
    done = subprocess.run([sys.executable, "-c", THIRD_CALL_FAULTS, arm], capture_output=True,
                          text=True, check=True, env=env)
    return int(done.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_kept_cpu_memory_serves_the_next_network_call_without_page_faults():
    # glibc's default: each freed activation was unmapped, the next call faults its pages again
    default = third_call_faults("default")
    assert default > 4 * ACTIVATION_PAGES
    # kept: the freed blocks are reused, their pages already mapped (measured: none, or one
    # activation's pages now and then, where default faults sixteen activations' worth)
    assert third_call_faults("kept") < default / 8


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_select_device_keeps_cpu_memory_unless_the_environment_says_0():
    released = third_call_faults("selected", keep_cpu_memory="0")
    assert released > 4 * ACTIVATION_PAGES
    assert third_call_faults("selected") < released / 8


# In a fresh process on two threads: the number of nonzero elements of a product of normal floats
# that is subnormal (2**-100 * 2**-30 = 2**-130; float32's smallest normal number is 2**-126),
# on 2**20 elements, so that both threads take a share. With argv[1] "late", a parallel operation
# starts torch's threads before benchmark is imported; then select_device's warnings are printed.
SUBNORMAL_PRODUCTS = """
import sys, warnings, torch
if sys.argv[1] == "late":
    torch.ones(1 << 20).mul(2.0)
import benchmark
from benchmark.device import select_device
tiny = torch.full((1 << 20,), 2.0**-100)
print(int((tiny * 2.0**-30).ne(0).sum()))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    select_device("cpu")
print(repr([str(w.message) for w in caught]))
"""


def subnormal_products(order="first", flush=None):
    """``(nonzero subnormal products, select_device's warnings)`` in a fresh 2-thread process."""
    env = {k: v for k, v in os.environ.items() if k != ENV_FLUSH_DENORMALS}
    env["OMP_NUM_THREADS"] = "2"
    if flush is not None:
        env[ENV_FLUSH_DENORMALS] = flush
    done = subprocess.run([sys.executable, "-c", SUBNORMAL_PRODUCTS, order], capture_output=True,
                          text=True, check=True, env=env)
    count, warned = done.stdout.strip().splitlines()
    return int(count), warned


needs_flush_mode = pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                                      reason="torch's flush-to-zero mode is tested on x86")


@needs_flush_mode
def test_importing_benchmark_flushes_subnormals_in_every_thread_unless_the_environment_says_0():
    assert subnormal_products() == (0, "[]")
    kept, warned = subnormal_products(flush="0")
    assert kept == 1 << 20 and warned == "[]"


@needs_flush_mode
def test_threads_started_before_benchmark_is_imported_keep_subnormals_and_select_device_says_so():
    kept, warned = subnormal_products("late")
    # one of the two threads computed its share without the mode
    assert 0 < kept < 1 << 20
    assert warned == repr([LATE_FLUSH])


def test_a_keep_cpu_memory_value_that_is_not_a_switch_is_refused_by_name(monkeypatch):
    monkeypatch.setenv(ENV_KEEP_CPU_MEMORY, "2")
    with pytest.raises(ValueError, match=f"{ENV_KEEP_CPU_MEMORY}='2'.*1.*0"):
        select_device("cpu")


def test_select_device_names_the_choices_and_refuses_a_missing_gpu():
    assert select_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="cuda"):
        select_device("tpu")
    if not torch.cuda.is_available():
        assert select_device("auto") == torch.device("cpu")
        with pytest.raises(RuntimeError, match="no CUDA device"):
            select_device("cuda")


def test_timed_call_returns_the_result_and_at_least_the_time_the_call_took():
    def slow():
        time.sleep(0.05)
        return "value"

    start = time.perf_counter()
    result, seconds = timed_call(slow, "cpu")
    outside = time.perf_counter() - start
    assert result == "value"
    assert 0.05 <= seconds <= outside
