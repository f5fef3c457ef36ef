"""scripts/ship_deq_weights.py: a run's export enters the registry under its canonical name."""

import importlib.util
from pathlib import Path

import pytest
import torch

from benchmark.networks.registry import WeightsError, load_regularizer, write_checkpoint
from benchmark.networks.regularizers import REDPotential

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ship_deq_weights.py"


@pytest.fixture
def ship():
    spec = importlib.util.spec_from_file_location("ship_deq_weights", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ship


@pytest.fixture
def exported(tmp_path):
    torch.manual_seed(0)
    model = REDPotential(features=8, depth=3)
    source = tmp_path / "run" / "eq_red_all_a40_trial.pt"
    write_checkpoint(model.state_dict(), source, {
        "regularizer": "red", "kernel": "all", "alpha": 40.0, "stage": "deq", "steps": 3,
        "validation_psnr": 20.0, "architecture": model.architecture})
    return model, source


def test_shipped_weights_load_from_the_registry_with_the_runs_provenance(ship, exported, tmp_path):
    model, source = exported
    registry = tmp_path / "weights"
    ship(source, registry)
    loaded, record = load_regularizer("red", "uniform", 40, weights_dir=registry)
    assert Path(record["path"]).name == "red_all_a40.pt"
    assert record["exported_from"] == str(source) and record["steps"] == 3
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor)


def test_a_corrupted_or_unexplained_export_is_refused_and_nothing_is_written(ship, exported,
                                                                            tmp_path):
    _, source = exported
    registry = tmp_path / "weights"
    source.write_bytes(source.read_bytes()[:-1] + b"x")
    with pytest.raises(WeightsError, match="corrupted"):
        ship(source, registry)
    source.with_suffix(".json").unlink()
    with pytest.raises(SystemExit, match="no provenance file"):
        ship(source, registry)
    assert not registry.exists() or not any(registry.iterdir())
