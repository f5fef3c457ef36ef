"""Tuned regularisation weights: a table per alpha, and clear errors outside it."""

import pytest

from benchmark.tuned_parameters import TUNED_LAMBDA, resolve_lambda


@pytest.mark.parametrize("solver", sorted(TUNED_LAMBDA))
def test_every_noise_level_has_a_positive_weight(solver):
    assert sorted(TUNED_LAMBDA[solver]) == [40, 60, 100]
    for alpha in (40, 60, 100):
        assert resolve_lambda(solver, "tuned", alpha) > 0
        assert resolve_lambda(solver, "tuned", float(alpha)) == TUNED_LAMBDA[solver][alpha]


def test_untuned_alpha_is_a_clear_error():
    with pytest.raises(ValueError, match="No tuned weight of tv_md for alpha=25"):
        resolve_lambda("tv_md", "tuned", 25)


def test_explicit_weight_overrides_and_is_checked():
    assert resolve_lambda("pidsplit", 0.2, 40) == 0.2
    with pytest.raises(ValueError, match="must be > 0"):
        resolve_lambda("pidsplit", -0.1, 40)
