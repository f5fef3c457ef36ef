"""The shipped weights are package data, and the registry finds them through the package.

Nothing is installed here: the test checks that the registry's folder is the one the package's
resources give, that the package-data globs of pyproject.toml select every shipped checkpoint and
provenance file (so a wheel carries them), and that the loaders read from that folder.
"""

import fnmatch
import inspect
import json
import shutil
from importlib import resources
from pathlib import Path

import pytest
import torch

from benchmark.networks import registry
from benchmark.networks.registry import (
    WEIGHTS_DIR,
    WeightsError,
    find_checkpoint,
    load_bregman_denoiser,
    load_regularizer,
)
from benchmark.networks.regularizers import REDPotential

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "benchmark.networks"


def shipped_files():
    """The checkpoints and provenance files the registry reads (not ``experiments/``)."""
    return sorted(p for pattern in ("*.pt", "*.json") for p in WEIGHTS_DIR.glob(pattern))


def package_data_files():
    """The files that pyproject.toml's package-data globs of ``benchmark.networks`` select."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    # the package that owns the globs is one that setuptools' package discovery finds
    include = setuptools["packages"]["find"]["include"]
    assert any(fnmatch.fnmatchcase(PACKAGE, pattern) for pattern in include), (PACKAGE, include)
    globs = setuptools["package-data"][PACKAGE]
    package_dir = Path(str(resources.files(PACKAGE)))
    return {p for pattern in globs for p in package_dir.glob(pattern) if p.is_file()}


def test_registry_folder_is_the_package_resource():
    expected = resources.files(PACKAGE) / "weights"
    assert isinstance(expected, Path), "benchmark.networks is installed as files on disk"
    assert WEIGHTS_DIR == expected == registry.package_weights_dir()
    assert WEIGHTS_DIR.is_dir()
    # every loader reads that folder unless told otherwise
    for function in (registry.provenance_files, find_checkpoint, load_regularizer,
                     load_bregman_denoiser):
        assert inspect.signature(function).parameters["weights_dir"].default == WEIGHTS_DIR


def test_every_shipped_weight_is_package_data():
    shipped = shipped_files()
    assert {p.suffix for p in shipped} == {".pt", ".json"}
    # each provenance file has its checkpoint, and each checkpoint its provenance file
    assert {p.with_suffix("") for p in shipped if p.suffix == ".pt"} == \
        {p.with_suffix("") for p in shipped if p.suffix == ".json"}
    selected = package_data_files()
    missing = [p.name for p in shipped if p not in selected]
    assert not missing, f"not package data in pyproject.toml, so not in a wheel: {missing}"
    # experiments/ is outside the registry and, by choice, not package data
    assert not [p for p in selected if "experiments" in p.relative_to(WEIGHTS_DIR).parts]


def test_loaders_find_the_shipped_weights_in_that_folder():
    record = find_checkpoint("red", "gaussian", 100)
    assert Path(record["path"]).parent == WEIGHTS_DIR and Path(record["path"]).is_file()
    assert record["kernel"] in ("gaussian", "all")
    model, record = load_bregman_denoiser()
    assert Path(record["path"]) == WEIGHTS_DIR / "bregman_denoiser.pt"
    assert not any(p.requires_grad for p in model.parameters())


def test_a_missing_weights_file_is_named(tmp_path):
    for name in ("red_all_a100", "bregman_denoiser"):
        shutil.copy(WEIGHTS_DIR / f"{name}.json", tmp_path)  # provenance without its checkpoint
    with pytest.raises(WeightsError, match=r"Weights file .*red_all_a100\.pt is missing"):
        load_regularizer("red", "motion", 100, weights_dir=tmp_path)
    with pytest.raises(WeightsError, match=r"Weights file .*bregman_denoiser\.pt is missing"):
        load_bregman_denoiser(weights_dir=tmp_path)
    (tmp_path / "bregman_denoiser.json").unlink()
    with pytest.raises(WeightsError, match=r"bregman_denoiser\.json"):
        load_bregman_denoiser(weights_dir=tmp_path)
    # a file of the shipped folder says that it is package data
    with pytest.raises(WeightsError, match=r"red_gone\.pt is missing\. It is package data"):
        registry.load_checkpoint(WEIGHTS_DIR / "red_gone.pt")
    assert json.loads((WEIGHTS_DIR / "red_all_a100.json").read_text())["file"] == "red_all_a100.pt"


def test_frozen_red_from_file_loads_a_runs_weights_frozen(tmp_path):
    """A run's ``best.pt`` holds the state dict under ``"model"``: the potential built from it has
    those parameters, none trainable, in eval mode; a missing file is named."""
    torch.manual_seed(0)
    source = REDPotential()
    torch.save({"model": source.state_dict(), "step": 3}, tmp_path / "best.pt")
    model = registry.frozen_red_from_file(tmp_path / "best.pt")
    assert not model.training
    for (name, p), q in zip(model.named_parameters(), source.parameters()):
        assert not p.requires_grad and torch.equal(p, q), name
    with pytest.raises(WeightsError, match=r"Weights file .*nosuch\.pt is missing"):
        registry.frozen_red_from_file(tmp_path / "nosuch.pt")
