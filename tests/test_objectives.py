"""Objectives: analytic gradients against finite differences, minimizers are minima."""

import numpy as np
import pytest

from lrcourse.core import objectives

OBJECTIVES = [
    objectives.quadratic((1.0, 10.0)),
    objectives.quadratic((0.5, 3.0), angle=0.7),
    objectives.quadratic((2.0,)),
    objectives.rosenbrock(),
    objectives.double_well(0.3),
    objectives.double_well(-0.5),
]


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
def test_gradient_matches_central_differences(objective):
    rng = np.random.default_rng(0)
    points = rng.uniform(-1.5, 1.5, size=(7, objective.dim))
    h = 1e-6
    numeric = np.stack([(objective.value(points + h * e) - objective.value(points - h * e)) / (2 * h)
                        for e in np.eye(objective.dim)], axis=-1)
    np.testing.assert_allclose(objective.grad(points), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("objective", OBJECTIVES, ids=lambda o: o.name)
def test_minimizers_are_stationary_local_minima(objective):
    for w in objective.minimizers:
        np.testing.assert_allclose(objective.grad(w), 0.0, atol=1e-9)
        rng = np.random.default_rng(1)
        nearby = w + 1e-3 * rng.standard_normal((20, objective.dim))
        assert np.all(objective.value(nearby) > objective.value(w))
    assert objective.value(objective.minimizers[0]) == pytest.approx(objective.min_value)


def test_double_well_lists_global_minimum_first():
    well = objectives.double_well(0.3)
    left, right = well.minimizers[:, 0]
    assert left < 0 < right and well(left[None]) < well(right[None])


def test_quadratic_curvature_and_rotation_keep_the_spectrum():
    quad = objectives.quadratic((1.0, 25.0), angle=0.3)
    hessian = np.stack([quad.grad(e) for e in np.eye(2)])
    np.testing.assert_allclose(np.linalg.eigvalsh(hessian), [1.0, 25.0])
    assert quad.curvature == (1.0, 25.0)


@pytest.mark.parametrize("call, message", [
    (lambda: objectives.quadratic((1.0, -2.0)), "Invalid eigenvalues"),
    (lambda: objectives.quadratic(()), "Invalid eigenvalues"),
    (lambda: objectives.quadratic((1.0, 2.0, 3.0), angle=0.1), "Invalid angle"),
    (lambda: objectives.double_well(5.0), "Invalid tilt value: 5.0"),
    (lambda: objectives.rosenbrock(b=0.0), "Invalid b"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
