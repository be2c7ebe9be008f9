"""The vectorized runner: many α at once equals one α at a time; divergence is flagged."""

import functools

import numpy as np
import pytest

from lrcourse.core import descent, objectives, optim

QUAD = objectives.quadratic((1.0, 10.0), angle=0.5)


@pytest.mark.parametrize("optimizer", [optim.sgd, functools.partial(optim.sgd, momentum=0.9),
                                       functools.partial(optim.adam, betas=(0.8, 0.99))])
def test_vectorized_equals_one_alpha_at_a_time(optimizer):
    lrs = np.geomspace(1e-3, 0.5, 9)
    together = descent.run(QUAD, [1.0, -2.0], lrs, steps=80, optimizer=optimizer)
    for i, lr in enumerate(lrs):
        alone = descent.run(QUAD, [1.0, -2.0], [lr], steps=80, optimizer=optimizer)
        np.testing.assert_array_equal(together.path[:, i], alone.path[:, 0])
        assert together.diverged_at[i] == alone.diverged_at[0]


def test_divergence_is_flagged_with_its_step_and_frozen():
    runs = descent.run(QUAD, [1.0, 1.0], [0.05, 0.3], steps=200)
    assert list(runs.diverged) == [False, True]
    t = runs.diverged_at[1]
    # |1 − 0.3·10| = 2 per step: ‖w‖ passes 1e6·‖w₀‖ after about log2(1e6) ≈ 20 steps
    assert 15 <= t <= 25
    assert np.all(np.isnan(runs.path[t:, 1])) and np.all(np.isfinite(runs.path[:t, 1]))
    assert np.all(np.isfinite(runs.path[:, 0]))


def test_non_finite_values_count_as_divergence():
    runs = descent.run(objectives.rosenbrock(), [-1.5, 2.0], [0.1], steps=50)
    assert runs.diverged[0]
    assert np.isnan(runs.loss[-1, 0])


def test_steps_to_and_describe():
    runs = descent.run(QUAD, [1.0, 1.0], [1e-4, 0.1, 0.19, 0.25], steps=300)
    steps = runs.steps_to(1e-6)
    assert steps[0] == -1 and steps[1] > 0
    words = [descent.describe(runs, i, QUAD.minimizers) for i in range(4)]
    assert words[0].startswith("crawls")
    assert words[1].startswith("converges smoothly")
    assert words[2].startswith("converges oscillating")
    assert words[3].startswith("diverges")


def test_measured_rate_of_a_geometric_sequence():
    assert descent.measured_rate(0.5 ** np.arange(11)) == pytest.approx(0.5)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lrs=[-0.1]), "Invalid learning rate"),
    (dict(lrs=[np.nan]), "Invalid learning rate"),
    (dict(steps=0), "Invalid steps value: 0"),
    (dict(w0=[1.0, 2.0, 3.0]), "Invalid w0 value"),
    (dict(lrs=[[0.1, 0.2]]), "Invalid lrs value"),
])
def test_bad_input(kwargs, message):
    args = dict(objective=QUAD, w0=[1.0, 1.0], lrs=[0.1], steps=10) | kwargs
    with pytest.raises(ValueError, match=message):
        descent.run(**args)


def test_table_has_one_row_per_alpha_with_the_factor_and_the_verdict():
    bowl = objectives.quadratic((4.0,))
    runs = descent.run(bowl, [1.0], [0.1, 0.4, 0.75], steps=30)
    lines = descent.table(runs, bowl.minimizers, curvature=4.0).splitlines()
    assert lines[0].split() == ["α", "1−αL", "𝓛(w₃₀)", "what", "happened"]
    assert lines[1].split()[:2] == ["0.1", "0.60"] and "converges smoothly" in lines[1]
    assert lines[2].split()[1] == "-0.60" and "converges oscillating" in lines[2]
    assert lines[3].split()[2] == "—" and lines[3].endswith("diverges (blows up at step 20)")
    # without a curvature there is no factor column
    assert "1−αL" not in descent.table(runs, bowl.minimizers)
