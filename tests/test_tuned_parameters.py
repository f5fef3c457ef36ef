"""Tuned regularisation weights: a table per alpha, and a documented rule for any alpha > 0."""

import json
import math
import re
from pathlib import Path

import pytest
import torch
from conftest import real_data

from benchmark.algorithms import presets
from benchmark.algorithms.presets import TUNED_LAMBDA, resolve_lambda, tuned_lambda
from benchmark.algorithms.tv_md import TVMirrorDescent
from benchmark.data.images import load_cbsd68
from benchmark.maths.metrics import psnr
from benchmark.maths.physics import get_kernel, simulate
from benchmark.training import tuning

TUNING_TABLES = Path(__file__).resolve().parents[1] / "results" / "tuning.md"


@pytest.mark.parametrize("solver", sorted(TUNED_LAMBDA))
def test_every_noise_level_has_a_positive_weight(solver):
    assert sorted(TUNED_LAMBDA[solver]) == [40, 60, 100]
    for alpha in (40, 60, 100):
        assert resolve_lambda(solver, "tuned", alpha) > 0
        assert resolve_lambda(solver, "tuned", float(alpha)) == TUNED_LAMBDA[solver][alpha]


@pytest.mark.parametrize("solver", sorted(TUNED_LAMBDA))
def test_any_alpha_gets_the_documented_rule(solver):
    """Between tuned alphas: linear in (log alpha, log weight); outside: the end weights."""
    table = TUNED_LAMBDA[solver]
    # the midpoint in log alpha of two tuned alphas gets the geometric mean of their weights
    middle = math.sqrt(60 * 100)
    weight, how = tuned_lambda(solver, middle)
    assert weight == pytest.approx(math.sqrt(table[60] * table[100]))
    assert "interpolated in log alpha between the weights tuned at alpha=60" in how
    # alpha = 80: between the two, closer to alpha 100's weight
    weight80, _ = tuned_lambda(solver, 80)
    t = math.log(80 / 60) / math.log(100 / 60)
    assert weight80 == pytest.approx(table[60] ** (1 - t) * table[100] ** t)
    assert table[100] < weight80 < table[60]
    # the weight never grows with alpha (less noise, less regularisation) over a fine grid
    grid = [tuned_lambda(solver, a)[0] for a in torch.logspace(-1, 6, 200).tolist()]
    assert all(b <= a + 1e-12 for a, b in zip(grid, grid[1:]))
    # clamped at the ends, and said so
    for alpha, end in ((1, 40), (1e5, 100)):
        weight, how = tuned_lambda(solver, alpha)
        assert weight == table[end] and f"clamped to the weight tuned at alpha={end}" in how
    assert tuned_lambda(solver, 60.0) == (table[60], "tuned at alpha=60")
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        tuned_lambda(solver, 0)


def test_the_rule_is_printed_only_when_it_was_used():
    lines = []
    assert resolve_lambda("tv_md", "tuned", 60, lines.append) == 0.03 and lines == []
    weight = resolve_lambda("tv_md", "tuned", 80, lines.append)
    assert lines == [f"tv_md: lam={weight:.4g} for alpha=80: interpolated in log alpha between "
                     "the weights tuned at alpha=60 (0.03) and alpha=100 (0.02) (rule of "
                     "benchmark/algorithms/presets.py; pass lam=<number> to override)."]
    assert resolve_lambda("tv_md", 0.1, 80, lines.append) == 0.1 and len(lines) == 1


def test_explicit_weight_overrides_and_is_checked():
    assert resolve_lambda("pidsplit", 0.2, 40) == 0.2
    with pytest.raises(ValueError, match="must be > 0"):
        resolve_lambda("pidsplit", -0.1, 40)


def test_tuning_tables_hold_the_tuned_weights():
    """The tables live in results/tuning.md (not in the code, which benchopt's cache key hashes);
    the best weight of each table is the one in TUNED_LAMBDA."""
    assert "results/tuning.md" in presets.__doc__ and "PSNR (dB)" not in presets.__doc__
    text = TUNING_TABLES.read_text()
    best = {(solver, int(alpha)): float(lam) for solver, alpha, lam in re.findall(
        r"^## (\w+), alpha = (\d+)\n.*?^\| \*\*lam=([\d.]+)\*\* \|", text, re.M | re.S)}
    assert best == {(solver, alpha): weight for solver, table in TUNED_LAMBDA.items()
                    for alpha, weight in table.items()}


def test_the_tuning_script_prints_each_settings_psnr_and_the_best_weight_per_alpha(
        monkeypatch, capsys):
    """One CBSD68 crop, two weights, a few iterations, ``--device cpu``: one line per (kernel,
    alpha), each PSNR the one a TV-MD run on the same draw gives, and the better weight per alpha
    by the PSNR summed over kernels."""
    monkeypatch.setenv("POISSON_DEBLUR_DATA", str(real_data("CBSD68")))
    tuning.main(["--solver", "tv_md", "--n-images", "1", "--crop", "32", "--grid", "0.02", "0.2",
                 "--max-iter", "5", "--device", "cpu"])
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    settings, summary = lines[:-1], lines[-1]
    assert len(settings) == 9
    x = load_cbsd68(1, 32)[0]
    first = settings[0]
    y, operator = simulate(x, get_kernel(first["kernel"]), first["alpha"], 0)
    algorithm = TVMirrorDescent(y, operator, 0.2, max_iter=5)
    while algorithm.stop_reason is None:
        algorithm.step()
    assert math.isclose(first["psnr"]["0.2"], float(psnr(algorithm.x, x).mean()), rel_tol=1e-6)
    for alpha, best in summary["best_lambda"].items():
        total = {lam: sum(s["psnr"][str(lam)] for s in settings if s["alpha"] == float(alpha))
                 for lam in (0.02, 0.2)}
        assert best == max(total, key=total.get)
    with pytest.raises(ValueError, match="device"):
        tuning.main(["--solver", "tv_md", "--device", "gpu0"])
