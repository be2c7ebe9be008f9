"""Theory against measurement: gradient descent on quadratics."""

import numpy as np
import pytest

from lrcourse.core import descent, objectives, theory


@pytest.mark.parametrize("eigenvalues", [(1.0, 10.0), (0.5, 4.0), (2.0, 100.0)])
def test_threshold_two_over_L_is_where_gradient_descent_starts_to_diverge(eigenvalues):
    quad = objectives.quadratic(eigenvalues, angle=0.4)
    critical = theory.critical_lr(max(eigenvalues))
    runs = descent.run(quad, [1.0, 1.0], [0.98 * critical, 1.02 * critical], steps=3000)
    below, above = runs.loss[-1]
    assert not runs.diverged[0] and below < 1e-8
    assert runs.diverged[1]


def test_measured_rate_at_the_optimal_lr_matches_kappa_formula():
    mu, L = 1.0, 20.0
    quad = objectives.quadratic((mu, L))
    lr = theory.optimal_lr(L, mu)
    runs = descent.run(quad, [1.0, 1.0], [lr], steps=60)
    measured = descent.measured_rate(np.linalg.norm(runs.path[:, 0], axis=1))
    kappa = theory.condition_number(L, mu)
    assert measured == pytest.approx((kappa - 1) / (kappa + 1), rel=0.01)
    assert theory.rate(lr, L, mu) == pytest.approx((kappa - 1) / (kappa + 1))


def test_optimal_lr_beats_its_neighbours():
    L, mu = 10.0, 1.0
    best = theory.optimal_lr(L, mu)
    assert theory.rate(best, L, mu) < theory.rate(0.9 * best, L, mu)
    assert theory.rate(best, L, mu) < theory.rate(1.1 * best, L, mu)


def test_rate_is_vectorised_and_predicts_steps():
    lrs = np.array([0.05, 0.1, 0.19, 0.21])
    rates = theory.rate(lrs, 10.0, 1.0)
    assert rates.shape == (4,)
    assert rates[-1] > 1 > rates[-2]
    steps = theory.steps_to_tolerance(0.1, 10.0, 1.0, 1e-6)
    assert 0.9**steps <= 1e-6 < 0.9 ** (steps - 1)
    assert theory.steps_to_tolerance(0.3, 10.0, 1.0, 1e-6) == float("inf")


@pytest.mark.parametrize("call, message", [
    (lambda: theory.critical_lr(0), "Invalid L"),
    (lambda: theory.critical_lr(-1.0), "Invalid L"),
    (lambda: theory.critical_lr(float("nan")), "Invalid L"),
    (lambda: theory.optimal_lr(1.0, 2.0), "Invalid mu value: 2.0"),
    (lambda: theory.optimal_lr(1.0, -0.5), "Invalid mu"),
    (lambda: theory.rate(-0.1, 10.0, 1.0), "Invalid learning rate: -0.1"),
    (lambda: theory.rate(0.1, 10.0, 11.0), "Invalid mu value: 11.0"),
    (lambda: theory.steps_to_tolerance(0.1, 10.0, 1.0, 2.0), "Invalid tol value: 2.0"),
])
def test_bad_input_names_the_argument_and_value(call, message):
    with pytest.raises(ValueError, match=message):
        call()
