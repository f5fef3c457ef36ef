"""What a benchopt run depends on beyond its solver file, folded into benchopt's cache key.

benchopt caches a finished run under a hash of the objective, the dataset and the solver: their
parameters and the SHA of their own files, not of the library code they import. Without more, a
run of ``tv_md[lam=tuned]`` would be reused after ``benchmark/algorithms/presets.py`` changes, and
a DEQ-MD run after new weights are shipped. Solvers that inherit ``LibraryFingerprint`` put the
hash of the ``benchmark`` package's run-time sources and of the shipped weights' provenance files
(each holds the SHA-256 of its checkpoint) in their pickled state, which benchopt hashes.
"""

import functools
import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]

# Subpackages that no benchopt run imports (training and tuning, tables and figures): editing them
# does not change any result.
NOT_RUN_TIME = frozenset({"training", "reporting"})


def fingerprint_files(package_dir=PACKAGE_DIR):
    """The run-time sources of the package and the provenance of its shipped weights, sorted."""
    package_dir = Path(package_dir)
    sources = [p for p in package_dir.rglob("*.py")
               if p.relative_to(package_dir).parts[0] not in NOT_RUN_TIME]
    return sorted(sources) + sorted((package_dir / "networks" / "weights").glob("*.json"))


@functools.lru_cache(maxsize=None)
def library_fingerprint(package_dir=PACKAGE_DIR):
    """SHA-256 over the names and contents of ``fingerprint_files(package_dir)``."""
    digest = hashlib.sha256()
    for path in fingerprint_files(package_dir):
        digest.update(str(path.relative_to(package_dir)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class LibraryFingerprint:
    """Mixin for benchopt solvers: the library fingerprint is part of what benchopt hashes."""

    def _get_state(self):
        return {"library": library_fingerprint()}

    def __setstate__(self, state):
        """Nothing to restore: the fingerprint only serves the hash."""
