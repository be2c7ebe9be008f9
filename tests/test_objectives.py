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
    objectives.gaussian_wells((0.85, 0.15)),
    objectives.gaussian_wells((0.5, 0.5)),
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


def test_gaussian_wells_separate_depth_from_sharpness():
    # heavy wide component: the deep minimum is the flat one; equal weights: the narrow one is deeper
    deep_flat, deep_sharp = objectives.gaussian_wells((0.85, 0.15)), objectives.gaussian_wells((0.5, 0.5))
    for well, deep_at in ((deep_flat, -1.0), (deep_sharp, 1.0)):
        minima = well.minimizers[:, 0]
        assert len(minima) == 2 and minima[0] == pytest.approx(deep_at, abs=1e-3)
        lam = objectives.curvature(well, minima)
        # near cᵢ the curvature is about 1/sᵢ²: 1/0.5² = 4 at −1, 1/0.2² = 25 at +1
        np.testing.assert_allclose(sorted(lam), [4.0, 25.0], rtol=0.01)
    assert objectives.curvature(deep_flat, deep_flat.minimizers[:1, 0])[0] < 5  # deep and flat
    assert objectives.curvature(deep_sharp, deep_sharp.minimizers[:1, 0])[0] > 20  # deep and sharp


def test_gaussian_wells_value_is_the_mixture_negative_log_likelihood():
    well = objectives.gaussian_wells((0.3, 0.7), centers=(0.0, 2.0), widths=(1.0, 0.5))
    w = np.array([-40.0, 0.3, 1.7])  # −40: far out, where a naive log(Σ) underflows to log 0
    density = lambda x, c, s: np.exp(-0.5 * ((x - c) / s) ** 2) / (s * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(well.value(w[1:, None]), -np.log(0.3 * density(w[1:], 0, 1) + 0.7 * density(w[1:], 2, 0.5)))
    assert np.isfinite(well.value(w[:1, None])).all() and np.isfinite(well.grad(w[:1, None])).all()
    assert well.value(w[:1, None])[0] == pytest.approx(0.5 * 40**2 - np.log(0.3 / np.sqrt(2 * np.pi)), rel=1e-9)


def test_curvature_matches_the_analytic_second_derivative():
    well = objectives.double_well(0.3)
    w = np.array([-1.5, 0.0, 0.4, 1.2])
    np.testing.assert_allclose(objectives.curvature(well, w), 12 * w**2 - 4, rtol=1e-6)
    with pytest.raises(ValueError, match="dimension 2"):
        objectives.curvature(objectives.rosenbrock(), [0.0])


@pytest.mark.parametrize("call, message", [
    (lambda: objectives.quadratic((1.0, -2.0)), "Invalid eigenvalues"),
    (lambda: objectives.quadratic(()), "Invalid eigenvalues"),
    (lambda: objectives.quadratic((1.0, 2.0, 3.0), angle=0.1), "Invalid angle"),
    (lambda: objectives.double_well(5.0), "Invalid tilt value: 5.0"),
    (lambda: objectives.rosenbrock(b=0.0), "Invalid b"),
    (lambda: objectives.gaussian_wells((0.5, -0.5)), r"Invalid weights value: \(0.5, -0.5\)"),
    (lambda: objectives.gaussian_wells((0.5, 0.5), widths=(1.0,)), "Invalid widths value"),
    (lambda: objectives.gaussian_wells((0.5, 0.5), centers=(0.0, np.inf)), "Invalid centers value"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
