"""Tables of schedules and single runs (results.tables) and the distances of exact descent (results.analysis)."""

import math

import numpy as np
import pytest

from lrcourse.core import objectives, schedules, theory
from lrcourse.results import analysis, tables


def test_series_table_rows_are_steps_and_columns_series():
    text = tables.series_table({"a": np.array([1.0, 0.5, 0.25]), "b": np.array([2.0, 1.0, 0.5])},
                               at=(0, 2), fmt=".3f")
    lines = text.splitlines()
    assert lines[0].split() == ["t", "a", "b"]
    assert lines[2].split() == ["2", "0.250", "0.500"]
    with pytest.raises(ValueError, match="at"):
        tables.series_table({"a": np.zeros(3)}, at=(3,))


def test_schedule_table_evaluates_each_schedule_at_the_steps():
    text = tables.schedule_table({"step": schedules.step_decay(0.1, step_size=2)}, steps=[0, 2, 4])
    assert text.splitlines()[1].split() == ["step", "0.1", "0.01", "0.001"]
    with pytest.raises(ValueError, match="schedules"):
        tables.schedule_table({}, steps=[0])


def test_schedule_shape_table_finds_the_peak_and_the_sum():
    shape = schedules.warmup_cosine(1.0, warmup_steps=10, total_steps=100)(np.arange(100))
    row = tables.schedule_shape_table({"warm": shape}).splitlines()[1].split()
    assert row == ["warm", str(int(np.argmax(shape))), f"{shape.sum():.0f}"]
    with pytest.raises(ValueError, match="shapes"):
        tables.schedule_shape_table({"flat": np.zeros((2, 2))})


def test_noise_floor_table_predicts_the_floor_of_constant_rates_only():
    bowl = objectives.quadratic((1.0, 10.0))
    named = {"c": schedules.constant(0.1), "cos": schedules.cosine(0.1, 10)}
    losses = {"c": np.array([5.0, 0.2, 0.05]), "cos": np.array([5.0, 1.0, 0.01])}
    lines = tables.noise_floor_table(bowl, named, losses, noise=1.0).splitlines()
    floor = theory.predicted_noise_floor(bowl, 0.1, noise=1.0)
    assert lines[1].split() == ["c", "2", "0.05", f"{floor:.2g}"]
    assert lines[2].split() == ["cos", "2", "0.01"]
    with pytest.raises(ValueError, match="mean_loss"):
        tables.noise_floor_table(bowl, named, {"c": losses["c"]}, noise=1.0)


def test_travel_table_sums_the_rates_and_bounds_the_distance():
    decay = schedules.exponential(0.1, 0.1)
    distances = {"e": np.linspace(1.0, 0.3, 11)}
    row = tables.travel_table({"e": decay}, distances, flat=1.0, mu=1.0).splitlines()[1].split()
    total = decay(np.arange(10)).sum()
    forever = 0.1 / (1 - math.exp(-0.1))
    assert row == ["e", f"{total:.2f}", f"{forever:.2f}", "0.3", f"{math.exp(-total):.2g}",
                   f"{math.exp(-forever / 0.9):.2g}"]


def test_descent_distances_shrink_by_one_minus_alpha_lambda():
    line = objectives.quadratic((2.0,))
    d = analysis.descent_distances(line, [1.0], 0.1, steps=5)
    assert d.shape == (6,)
    np.testing.assert_allclose(d[1:] / d[:-1], 0.8)
    faster = analysis.descent_distances(line, [1.0], schedules.constant(0.4), steps=3)
    np.testing.assert_allclose(faster, [1.0, 0.2, 0.04, 0.008])
    with pytest.raises(ValueError, match="steps"):
        analysis.descent_distances(line, [1.0], 0.1, steps=0)


def test_threshold_search_table_brackets_two_over_L():
    bowl = objectives.quadratic((1.0, 10.0))
    grid = 0.2 * np.linspace(0.9, 1.1, 21)
    rows = dict(line.rsplit(maxsplit=1) for line in
                tables.threshold_search_table(bowl, [1.0, 1.0], grid, steps=500).splitlines()[1:])
    assert float(rows["largest α that did not move away"]) == pytest.approx(0.2)
    assert float(rows["smallest α that moved away"]) == pytest.approx(0.202)
    assert rows["predicted 2/L"] == "0.20000"


class _Run:
    def __init__(self, diverged_at):
        self.diverged_at = diverged_at


class _Sweep:
    seeds = (0, 1)

    def __getitem__(self, key):
        peak, seed = key
        return _Run(7 if (peak, seed) == (2.0, 1) else None)


def test_divergence_table_marks_the_runs_that_survived():
    lines = tables.divergence_table({"s": _Sweep()}, ["s"], [1.0, 2.0]).splitlines()
    assert lines[0].split() == ["schedule", "peak", "α", "seed", "0", "seed", "1"]
    assert lines[1].split() == ["s", "1", "–", "–"]
    assert lines[2].split() == ["s", "2", "–", "7"]


class _Catapult:
    loss = np.array([0.5, 0.7, 0.6, 0.4, 0.3])
    logs = {"sharpness": np.array([11.0, np.nan, 6.0, np.nan, 5.0]), "converged": np.array([1, np.nan, 1, np.nan, 1])}


def test_catapult_table_shows_the_loss_spike_and_the_fall_of_lambda_max():
    rows = [line.split() for line in tables.catapult_table(_Catapult(), early=3).splitlines()]
    assert rows[1] == ["start", "0", "0.500", "11.00"]
    assert rows[2] == ["highest", "loss", "1", "0.700"]
    assert rows[3] == ["next", "λ_max", "2", "6.00"]
    assert rows[4] == ["λ_max", "plateau", f"{np.median([6.0, 5.0]):.2f}"]
    with pytest.raises(ValueError, match="history"):
        tables.catapult_table(type("One", (), {"loss": [1.0], "logs": {"sharpness": [3.0]}})())
