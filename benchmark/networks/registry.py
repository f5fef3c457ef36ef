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
from benchmark.networks.regularizers import REDPotential, build_regularizer
from benchmark.parameters import check_writable


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


def read_provenance(meta):
    """The provenance record (a dict) of the file ``meta``; a :class:`WeightsError` naming the file
    when it is not a JSON object with the checkpoint's ``sha256``."""
    try:
        record = json.loads(Path(meta).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"Provenance file {meta} cannot be read: {exc}.") from exc
    if not isinstance(record, dict) or "sha256" not in record:
        raise WeightsError(f"Provenance file {meta} is not a provenance record: a JSON object "
                           "with the checkpoint's sha256 is expected.")
    return record


def provenance_files(weights_dir=WEIGHTS_DIR):
    """All provenance records (dicts, with their ``path``) in ``weights_dir``."""
    records = []
    for meta in sorted(Path(weights_dir).glob("*.json")):
        record = read_provenance(meta)
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


def read_weights(path, weights_only=True):
    """``torch.load`` of the file ``path`` on the CPU; a :class:`WeightsError` naming the file when
    it is missing or is not a readable PyTorch file (truncated, corrupted, something else)."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"Weights file {path} is missing.{_missing_hint(path)}")
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"Weights file {path} cannot be read as a PyTorch checkpoint (truncated "
                           f"or corrupted?): {reason}") from exc


def load_weights(model, state_dict, path):
    """``model`` with the weights ``state_dict`` (read from ``path``); a :class:`WeightsError`
    naming the file when they are not weights of this network and architecture."""
    try:
        model.load_state_dict(state_dict)
    except (RuntimeError, TypeError, AttributeError) as exc:
        # torch's message: a header line, then one line per kind of mismatch; keep two of those
        lines = [line.strip().rstrip(".") for line in str(exc).strip().splitlines()]
        reason = "; ".join(lines[1:3]) if len(lines) > 1 else lines[0]
        raise WeightsError(
            f"Weights file {path} does not hold weights of {type(model).__name__} "
            f"{getattr(model, 'architecture', '')}: {reason}.") from exc
    return model


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
    return read_weights(path)


def run_weights(path):
    """The model's state dict from a file: an exported checkpoint, or a training run's
    ``best.pt`` / ``state.pt`` (which hold it under ``"model"``), on the CPU."""
    state = read_weights(path, weights_only=False)
    if not isinstance(state, dict):
        raise WeightsError(f"Weights file {path} holds a {type(state).__name__}, not a model's "
                           "weights (a state dict, or a training run's file with one under "
                           "'model').")
    return state["model"] if "model" in state else state


def red_from_weights(state_dict, path):
    """The RED potential of the architecture of ``state_dict`` (DnCNN width, depth, channels),
    with those weights (read from ``path``); a :class:`WeightsError` naming the file when they
    are not RED weights."""
    try:
        model = REDPotential(**REDPotential.architecture_of(state_dict))
    except (KeyError, IndexError, AttributeError, TypeError) as exc:
        raise WeightsError(f"Weights file {path} does not hold the weights of a RED potential "
                           f"(DnCNN): no {exc} in it.") from exc
    return load_weights(model, state_dict, path)


def frozen_red_from_file(path, device="cpu"):
    """The RED potential of the weights file ``path`` (see :func:`run_weights`; the DnCNN's
    architecture is that of the weights), frozen, in eval mode, on ``device``: a checkpoint
    outside the registry, as the validation scripts compare them."""
    model = red_from_weights(run_weights(path), path)
    return model.to(device).eval().requires_grad_(False)


def load_regularizer(name, kernel, alpha, device="cpu", weights_dir=WEIGHTS_DIR):
    """The trained regulariser for (name, kernel, alpha), frozen, in eval mode, on ``device``.

    Returns ``(model, provenance_record)``; raises :class:`WeightsError` when no checkpoint fits
    or its file is missing, corrupted or for another architecture.
    """
    record = find_checkpoint(name, kernel, alpha, stage="deq", weights_dir=weights_dir)
    model = build_regularizer(name, record.get("architecture"))
    load_weights(model, load_checkpoint(record["path"], record["sha256"]), record["path"])
    model.eval().requires_grad_(False)
    return model.to(device), record


def save_atomically(obj, path):
    """``torch.save`` to ``<path>.part``, then rename: a reader never sees half a file, and a
    write that fails or is interrupted leaves neither ``path`` changed nor the partial file."""
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    try:
        torch.save(obj, partial)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_checkpoint(state_dict, path, provenance):
    """Write ``path`` (.pt) and its provenance (.json), the hash included: both are written in
    full beside their targets first and renamed last, so that a failed or interrupted write
    leaves the previous pair (or nothing) in place, and no partial file."""
    path = check_writable(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial, meta = path.with_name(path.name + ".part"), path.with_suffix(".json")
    meta_partial = meta.with_name(meta.name + ".part")
    try:
        torch.save(state_dict, partial)
        record = {**provenance, "sha256": sha256(partial), "file": path.name}
        meta_partial.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
        partial.replace(path)
        meta_partial.replace(meta)
    except BaseException:
        partial.unlink(missing_ok=True)
        meta_partial.unlink(missing_ok=True)
        raise
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
    record = read_provenance(meta)
    path = meta.with_suffix(".pt")
    model = BregmanScoreDenoiser(**record.get("architecture", {}))
    load_weights(model, load_checkpoint(path, record["sha256"]), path)
    model.eval().requires_grad_(False)
    return model.to(device), {**record, "path": str(path)}
