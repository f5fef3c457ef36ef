"""Registry of the pretrained weights shipped in ``benchmark/networks/weights/``.

The weights are package data of ``benchmark.networks`` (``[tool.setuptools.package-data]`` in
``pyproject.toml``: ``weights/*.pt`` and ``weights/*.json``), so a wheel or a non-editable install
carries them; :data:`WEIGHTS_DIR` is found through the installed package
(``importlib.resources``), not through the source tree. ``weights/experiments/`` is not package
data: its checkpoints are outside the registry (see its README) and stay in the source tree.

Each checkpoint ``<file>.pt`` has a provenance file ``<file>.json`` beside it that records what
produced it: ``regularizer``, ``kernel`` (a kernel name or ``"all"``), ``alpha``, ``stage``,
``data``, ``steps``, ``wall_time_s``, ``validation_psnr``, ``command``, ``sha256`` (of the
``.pt`` file) and ``architecture`` (keyword arguments of the network). Loading checks the hash.
"""

import hashlib
import json
from importlib import resources
from pathlib import Path

import torch

from benchmark.networks.bregman_denoiser import BregmanScoreDenoiser
from benchmark.networks.regularizers import build_regularizer


def package_weights_dir():
    """The ``weights`` folder of the installed ``benchmark.networks`` package, on disk.

    The package is installed as ordinary files (editable or not), so its resources are real
    paths; a zipped install, whose resources are not, is refused with a clear error.
    """
    weights = resources.files(__package__) / "weights"
    if not isinstance(weights, Path):
        raise RuntimeError(
            f"The weights of {__package__} are not files on disk ({weights!r}): install the "
            "package as ordinary files (pip install ., or pip install -e .), not zipped.")
    return weights


WEIGHTS_DIR = package_weights_dir()


class WeightsError(FileNotFoundError):
    """A checkpoint is missing, corrupted, or no checkpoint exists for a setting."""


def sha256(path):
    """SHA-256 of a file, hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def provenance_files(weights_dir=WEIGHTS_DIR):
    """All provenance records (dicts, with their ``path``) in ``weights_dir``."""
    records = []
    for meta in sorted(Path(weights_dir).glob("*.json")):
        record = json.loads(meta.read_text())
        record["path"] = str(meta.with_suffix(".pt"))
        records.append(record)
    return records


def checkpoint_name(regularizer, kernel, alpha):
    """The file stem of a DEQ checkpoint in the registry: ``<regularizer>_<kernel>_a<alpha>``
    (``kernel`` a kernel name or ``"all"``), e.g. ``red_all_a60``."""
    return f"{regularizer}_{kernel}_a{float(alpha):g}"


def find_checkpoint(regularizer, kernel, alpha, stage="deq", weights_dir=WEIGHTS_DIR):
    """Provenance record of the checkpoint for (regularizer, kernel, alpha).

    A model trained for this kernel is preferred; else one trained on all kernels at this alpha
    (the paper trains one model per setting; one model per noise level trained on the three
    kernels is the documented fallback). Otherwise a :class:`WeightsError` lists what exists.
    """
    records = [r for r in provenance_files(weights_dir)
               if r["regularizer"] == regularizer and r["stage"] == stage
               and float(r["alpha"]) == float(alpha)]
    for wanted in (kernel, "all"):
        for record in records:
            if record["kernel"] == wanted:
                return record
    available = sorted({(r["regularizer"], r["kernel"], r["alpha"], r["stage"])
                        for r in provenance_files(weights_dir)})
    raise WeightsError(
        f"No {stage} checkpoint for regularizer={regularizer!r}, kernel={kernel!r}, "
        f"alpha={alpha} in {weights_dir}. Available (regularizer, kernel, alpha, stage): "
        f"{available or 'none'}. Train one with `python -m benchmark.training.train_deq`."
    )


def _missing_hint(path):
    """What to do about a missing file of the shipped weights' folder (empty for other paths)."""
    if path.parent.resolve() != WEIGHTS_DIR.resolve():
        return ""
    return (f" It is package data of {__package__} (pyproject.toml, "
            "[tool.setuptools.package-data]): reinstall the package from a checkout that has it.")


def load_checkpoint(path, expected_sha256=None):
    """State dict from ``path``, after checking that the file exists and matches its hash."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Weights file {path} is missing.{_missing_hint(path)}")
    if expected_sha256 is not None:
        actual = sha256(path)
        if actual != expected_sha256:
            raise WeightsError(f"Weights file {path} is corrupted: SHA-256 {actual} does not "
                               f"match the provenance record {expected_sha256}.")
    return torch.load(path, map_location="cpu", weights_only=True)


def run_weights(path):
    """The model's state dict from a file: an exported checkpoint, or a training run's
    ``best.pt`` / ``state.pt`` (which hold it under ``"model"``), on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Weights file {path} is missing.{_missing_hint(path)}")
    state = torch.load(path, map_location="cpu", weights_only=False)
    return state["model"] if "model" in state else state


def frozen_red_from_file(path, device="cpu"):
    """The RED potential (default architecture) of the weights file ``path`` (see
    :func:`run_weights`), frozen, in eval mode, on ``device``: a checkpoint outside the registry,
    as the validation scripts compare them."""
    model = build_regularizer("red")
    model.load_state_dict(run_weights(path))
    return model.to(device).eval().requires_grad_(False)


def load_regularizer(name, kernel, alpha, device="cpu", weights_dir=WEIGHTS_DIR):
    """The trained regulariser for (name, kernel, alpha), frozen, in eval mode, on ``device``.

    Returns ``(model, provenance_record)``; raises :class:`WeightsError` when no checkpoint fits
    or its file is missing or corrupted.
    """
    record = find_checkpoint(name, kernel, alpha, stage="deq", weights_dir=weights_dir)
    model = build_regularizer(name, record.get("architecture"))
    model.load_state_dict(load_checkpoint(record["path"], record["sha256"]))
    model.eval().requires_grad_(False)
    return model.to(device), record


def write_checkpoint(state_dict, path, provenance):
    """Write ``path`` (.pt) and its provenance (.json) atomically, the hash included."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".pt.part")
    torch.save(state_dict, partial)
    partial.replace(path)
    record = {**provenance, "sha256": sha256(path), "file": path.name}
    meta = path.with_suffix(".json")
    meta_partial = path.with_suffix(".json.part")
    meta_partial.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    meta_partial.replace(meta)
    return record


def load_bregman_denoiser(device="cpu", name="bregman_denoiser", weights_dir=WEIGHTS_DIR):
    """The trained Bregman score denoiser ``<name>.pt``, frozen, in eval mode, on ``device``.

    Returns ``(model, provenance_record)``; raises :class:`WeightsError` when the file or its
    provenance is missing or the file does not match its hash.
    """
    meta = Path(weights_dir) / f"{name}.json"
    if not meta.is_file():
        raise WeightsError(
            f"No Bregman score denoiser {meta} (weights and provenance). Train one with "
            f"`python -m benchmark.training.train_bregman_denoiser`.")
    record = json.loads(meta.read_text())
    path = meta.with_suffix(".pt")
    model = BregmanScoreDenoiser(**record.get("architecture", {}))
    model.load_state_dict(load_checkpoint(path, record["sha256"]))
    model.eval().requires_grad_(False)
    return model.to(device), {**record, "path": str(path)}
