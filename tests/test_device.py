"""Device selection and the CPU memory setting of ``benchmark.device``."""

import os
import platform
import subprocess
import sys
import time

import pytest
import torch

from benchmark.device import ENV_KEEP_CPU_MEMORY, select_device, timed_call

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
