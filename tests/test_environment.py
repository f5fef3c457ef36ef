"""The environment switches: one spelling for all of them, anything else refused by name."""

import pytest

from benchmark.data.paths import ENV_OFFLINE, ENV_REQUIRE_DATA, data_required, download_allowed
from benchmark.device import (
    ENV_FLUSH_DENORMALS,
    ENV_KEEP_CPU_MEMORY,
    cpu_memory_kept,
    denormals_flushed_by_default,
)

# (variable, what reads it, what it returns when the switch is on)
SWITCHES = [
    (ENV_OFFLINE, download_allowed, False),
    (ENV_REQUIRE_DATA, data_required, True),
    (ENV_KEEP_CPU_MEMORY, cpu_memory_kept, True),
    (ENV_FLUSH_DENORMALS, denormals_flushed_by_default, True),
]


@pytest.mark.parametrize(("name", "read", "when_on"), SWITCHES)
def test_every_switch_takes_the_same_values(monkeypatch, name, read, when_on):
    for value in ("1", "true", "Yes", " ON "):
        monkeypatch.setenv(name, value)
        assert read() is when_on, value
    for value in ("0", "false", "NO", "off"):
        monkeypatch.setenv(name, value)
        assert read() is (not when_on), value


@pytest.mark.parametrize(("name", "read", "default"), [
    (ENV_OFFLINE, download_allowed, True),
    (ENV_REQUIRE_DATA, data_required, False),
    (ENV_KEEP_CPU_MEMORY, cpu_memory_kept, True),
    (ENV_FLUSH_DENORMALS, denormals_flushed_by_default, True),
])
def test_an_unset_or_empty_switch_is_its_default(monkeypatch, name, read, default):
    monkeypatch.delenv(name, raising=False)
    assert read() is default
    monkeypatch.setenv(name, "")
    assert read() is default


@pytest.mark.parametrize(("name", "read"), [(name, read) for name, read, _ in SWITCHES])
def test_a_value_that_is_not_a_switch_is_refused_by_name(monkeypatch, name, read):
    monkeypatch.setenv(name, "ture")
    with pytest.raises(ValueError, match=f"{name}='ture' is not a switch value.*1.*0"):
        read()
