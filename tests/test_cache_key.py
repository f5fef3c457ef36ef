"""benchopt's cache key of a run changes with the library code and weights it depends on."""

import shutil
from pathlib import Path

import joblib
import pytest
from benchopt.benchmark import Benchmark

from benchmark.glue import cache_key
from benchmark.glue.cache_key import NOT_RUN_TIME, fingerprint_files, library_fingerprint

BENCHMARK_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture
def package_copy(tmp_path):
    """A copy of the package sources and weight provenance files, to edit."""
    target = tmp_path / "benchmark"
    for path in fingerprint_files():
        relative = path.relative_to(cache_key.PACKAGE_DIR)
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / relative)
    (target / "reporting" / "report.py").parent.mkdir(parents=True, exist_ok=True)
    (target / "reporting" / "report.py").write_text("REPORT = 1\n")
    return target


def test_fingerprint_follows_run_time_sources_and_weights_only(package_copy):
    before = library_fingerprint(package_copy)
    assert before == library_fingerprint.__wrapped__(package_copy)

    (package_copy / "reporting" / "report.py").write_text("REPORT = 2\n")
    assert "reporting" in NOT_RUN_TIME
    assert library_fingerprint.__wrapped__(package_copy) == before

    tuned = package_copy / "algorithms" / "presets.py"
    tuned.write_text(tuned.read_text().replace('"tv_md": {40: 0.05', '"tv_md": {40: 0.07'))
    after_table = library_fingerprint.__wrapped__(package_copy)
    assert after_table != before

    provenance = sorted((package_copy / "networks" / "weights").glob("*.json"))
    assert provenance, "the shipped weights have provenance files"
    provenance[0].write_text(provenance[0].read_text().replace('"sha256": "', '"sha256": "0'))
    assert library_fingerprint.__wrapped__(package_copy) != after_table


def test_solver_hash_changes_with_the_fingerprint(monkeypatch):
    solvers = {cls.name: cls for cls in Benchmark(BENCHMARK_DIR).get_solvers()}
    for name in ("tv_md", "pidsplit", "deqmd", "richardson_lucy", "b_red", "b_pnp",
                 "backprojection"):
        solver = solvers[name].get_instance()
        monkeypatch.setattr(cache_key, "library_fingerprint", lambda: "a")
        first = joblib.hash(solver)
        assert joblib.hash(solver) == first
        monkeypatch.setattr(cache_key, "library_fingerprint", lambda: "b")
        assert joblib.hash(solver) != first, name
