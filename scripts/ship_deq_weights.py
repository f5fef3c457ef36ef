"""Ship an exported DEQ-MD checkpoint: copy it into the registry under its canonical name.

    python scripts/ship_deq_weights.py outputs/eq_red_all_a100_dn2800_tol1e-4.pt [...]
        [--weights-dir benchmark/networks/weights]

A training run exports its best weights with a provenance file (``train_deq --output``, always
outside the registry while it trains). This checks the file against the hash of its provenance,
then writes ``<regularizer>_<kernel>_a<alpha>.pt`` (the name ``benchmark.networks.registry``
looks up) and its provenance, which keeps every field of the run's record and adds
``exported_from`` (the run's file). The checkpoint it replaces, if any, is overwritten: keep it
elsewhere first (``weights/experiments/``) when numbers still quote it.
"""

import argparse
from pathlib import Path

from benchmark.networks.registry import (
    WEIGHTS_DIR,
    WeightsError,
    checkpoint_name,
    load_checkpoint,
    read_provenance,
    write_checkpoint,
)

PROVENANCE_OF_THE_FILE = ("sha256", "file")


def ship(source, weights_dir):
    """Copy the checkpoint ``source`` (with its ``.json``) into ``weights_dir``; its record."""
    source = Path(source)
    meta = source.with_suffix(".json")
    if not source.is_file():
        raise WeightsError(f"Weights file {source} is missing.")
    if not meta.is_file():
        raise SystemExit(f"{source}: no provenance file {meta} beside it.")
    record = read_provenance(meta)
    if record.get("stage") != "deq":
        raise SystemExit(f"{source}: stage {record.get('stage')!r}, not a DEQ checkpoint.")
    missing = [key for key in ("regularizer", "kernel", "alpha") if key not in record]
    if missing:
        raise SystemExit(f"{meta}: no {', '.join(missing)} in the provenance record.")
    state = load_checkpoint(source, record["sha256"])
    provenance = {key: value for key, value in record.items() if key not in PROVENANCE_OF_THE_FILE}
    provenance["exported_from"] = str(source)
    name = checkpoint_name(record["regularizer"], record["kernel"], record["alpha"])
    return write_checkpoint(state, Path(weights_dir) / f"{name}.pt", provenance)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", help="exported .pt files (a .json beside each)")
    parser.add_argument("--weights-dir", default=str(WEIGHTS_DIR))
    args = parser.parse_args()
    for source in args.checkpoints:
        record = ship(source, args.weights_dir)
        print(f"{source} -> {Path(args.weights_dir) / record['file']} (step {record['steps']}, "
              f"validation {record['validation_psnr']} dB, SHA-256 {record['sha256'][:12]})")


if __name__ == "__main__":
    main()
