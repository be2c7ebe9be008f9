"""Schedule figures: explorers, the noise floor, and tables of sweeps per schedule."""

import json
import math

import numpy as np
import pytest

from lrcourse.core import descent, objectives, schedules

from lrcourse.engine import History, Sweep
from lrcourse import figures
from lrcourse.core import theory
from lrcourse.results import analysis
from lrcourse.results import tables
from conftest import figure_json


# ------------------------------------------------------------------ schedule explorers

def test_schedule_summary_states_the_sum_and_the_landmarks():
    text = tables.schedule_summary(schedules.warmup_cosine(1.0, 4, 10), 10)
    lrs = schedules.warmup_cosine(1.0, 4, 10)(np.arange(10))
    assert f"Σα = {lrs.sum():.3g} over 10 steps" in text
    assert "start 0.2 · peak 1 (step 4) · end" in text          # nanoGPT's warmup: (t + 1) / (W + 1)


def test_each_static_step_draws_that_parameter_s_schedule():
    values = np.geomspace(0.001, 0.1, 21)
    explorer = figures.schedule_explorer(lambda lam: schedules.exponential(0.1, lam), values,
                                                label="λ", value=0.01, log=True, steps=50)
    data, layout = figure_json(explorer.to_html())
    steps = layout["sliders"][0]["steps"]
    assert len(steps) == len(values) >= 20
    assert steps[0]["args"][2] == [1]               # the reference curve stays, α(t) follows the slider
    for i in (0, 10, 20):
        expected = schedules.exponential(0.1, values[i])(np.arange(50))
        np.testing.assert_allclose(np.array(steps[i]["args"][0]["y"][0], dtype=float), expected, rtol=1e-4)
        assert "Σα = " + f"{expected.sum():.3g}" in steps[i]["args"][1]["title.text"]
    assert len({json.dumps(s["args"][0]["y"]) for s in steps}) == len(steps)
    assert values[layout["sliders"][0]["active"]] == pytest.approx(0.01, rel=0.15)


def test_an_integer_parameter_gets_integers_and_a_grid_slider():
    seen = []

    def make(step_size):
        seen.append(step_size)
        return schedules.step_decay(0.1, step_size, 0.5)

    explorer = figures.schedule_explorer(make, np.arange(5, 105, 5), label="step_size",
                                                integer=True, steps=100)
    explorer.to_html()
    assert explorer.grid_only and all(type(s) is int for s in seen)
    _, layout = figure_json(explorer.to_html())
    assert [s["label"] for s in layout["sliders"][0]["steps"]][:3] == ["5", "10", "15"]


def test_schedules_figure_draws_each_schedule_in_its_panel():
    named = {"constant": schedules.constant(0.1), "cosine": schedules.cosine(0.1, 30),
             "one-cycle": schedules.one_cycle(0.1, 30)}
    fig = figures.schedules_figure(named, 30, title="three")
    assert fig.layout.title.text == "three" and len(fig.data) == 3
    for trace, schedule in zip(fig.data, named.values()):
        np.testing.assert_array_equal(trace.y, schedule(np.arange(30)))
    assert [a.text for a in fig.layout.annotations] == list(named)
    with pytest.raises(ValueError, match="Invalid named value"):
        figures.schedules_figure({}, 30, title="none")


def test_lines_figure_thins_curves_but_keeps_the_last_point():
    fig = figures.lines_figure({"a": np.arange(11.0), "b": (np.arange(5.0) * 2, np.ones(5))},
                                      title="t", x_title="x", y_title="y", stride=4)
    np.testing.assert_array_equal(fig.data[0].x, [0, 4, 8, 10])
    np.testing.assert_array_equal(fig.data[1].x, [0, 8])
    with pytest.raises(ValueError, match="Invalid stride value: 0"):
        figures.lines_figure({"a": [1.0]}, title="t", x_title="x", y_title="y", stride=0)


# ------------------------------------------------------------------------ noise floor

BOWL = objectives.quadratic((1.0, 10.0), angle=np.pi / 6)
W0 = np.array([-2.0, 1.5])


def test_without_noise_it_is_plain_gradient_descent():
    losses = descent.noisy_descent(BOWL, W0, 0.05, 30, noise=0.0, seeds=3)
    assert losses.shape == (31, 3)
    expected = descent.run(BOWL, W0, [0.05], 30).loss[:, 0]
    np.testing.assert_allclose(losses, np.repeat(expected[:, None], 3, axis=1), rtol=1e-12)


def test_the_same_seed_gives_the_same_noise_to_every_schedule():
    a = descent.noisy_descent(BOWL, W0, schedules.cosine(0.1, 50), 50, noise=1.0, seeds=4, seed=3)
    b = descent.noisy_descent(BOWL, W0, schedules.cosine(0.1, 50), 50, noise=1.0, seeds=4, seed=3)
    c = descent.noisy_descent(BOWL, W0, schedules.cosine(0.1, 50), 50, noise=1.0, seeds=4, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("lr", [0.02, 0.1, 0.15])
def test_a_constant_rate_settles_at_the_predicted_floor(lr):
    losses = descent.noisy_descent(BOWL, W0, lr, 600, noise=0.5, seeds=2000)
    measured = losses[300:].mean()
    predicted = theory.predicted_noise_floor(BOWL, lr, noise=0.5)
    assert measured == pytest.approx(predicted, rel=0.05)


def test_the_floor_formula_and_its_small_step_limit():
    one_d = objectives.quadratic((4.0,))
    lr, sigma = 0.1, 2.0
    assert theory.predicted_noise_floor(one_d, lr, sigma) == pytest.approx(lr * sigma**2 / (2 * (2 - lr * 4)))
    tiny = theory.predicted_noise_floor(BOWL, 1e-6, 1.0)
    assert tiny == pytest.approx(2 * 1e-6 / 4, rel=1e-4)            # d α σ² / 4 with d = 2
    np.testing.assert_allclose(theory.predicted_noise_floor(BOWL, np.array([0.01, 0.1]), 1.0),
                               [theory.predicted_noise_floor(BOWL, 0.01, 1.0),
                                theory.predicted_noise_floor(BOWL, 0.1, 1.0)])
    with pytest.raises(ValueError, match="not a quadratic"):
        theory.predicted_noise_floor(objectives.rosenbrock(), 0.01, 1.0)


def test_many_constant_rates_at_once_match_one_at_a_time():
    lrs = np.array([0.01, 0.05, 0.1])
    batched = descent.noisy_descent(BOWL, W0, lrs[:, None, None], 20, noise=0.0, seeds=2)
    assert batched.shape == (21, 3, 2)
    for i, lr in enumerate(lrs):
        np.testing.assert_allclose(batched[:, i], descent.noisy_descent(BOWL, W0, lr, 20, noise=0.0, seeds=2))


def test_noise_floor_explorer_shows_measured_loss_and_predicted_floor():
    lrs = np.geomspace(0.01, 0.15, 21)
    explorer = figures.noise_floor_explorer(BOWL, W0, lrs, steps=400, noise=1.0, seeds=300, value=0.1)
    data, layout = figure_json(explorer.to_html())
    steps = layout["sliders"][0]["steps"]
    assert len(steps) == len(lrs)
    for i in (0, 20):
        floor = theory.predicted_noise_floor(BOWL, lrs[i], 1.0)
        assert steps[i]["args"][0]["y"][1] == pytest.approx([floor, floor], rel=1e-4)
        loss = np.array(steps[i]["args"][0]["y"][0], dtype=float)
        assert loss[-20:].mean() == pytest.approx(floor, rel=0.15)      # 300 noisy runs: near the floor
        assert f"predicted floor {floor:.3g}" in steps[i]["args"][1]["title.text"]
    off_grid = explorer.traces(0.07)                                      # the live slider, between grid values
    assert off_grid[1]["y"][0] == pytest.approx(theory.predicted_noise_floor(BOWL, 0.07, 1.0))


# --------------------------------------------------------------- sweeps per schedule

def _history(final, loss_end, diverged_at=None, steps=10):
    loss = np.linspace(2.0, loss_end, steps if diverged_at is None else diverged_at + 1)
    return History(loss=loss, lrs=np.ones(len(loss) - (diverged_at is not None)), metric=np.array([0.5, final]),
                   metric_steps=np.array([5, steps]), metric_epochs=np.array([1.0, 2.0]),
                   diverged=diverged_at is not None, diverged_at=diverged_at,
                   diverged_loss=None if diverged_at is None else 50.0, seconds=0.0,
                   config={"metric_name": "test accuracy"})


def _sweep(finals, loss_ends, diverged=None, lrs=(0.1, 1.0)):
    seeds = (0, 1)
    histories = {}
    for i, lr in enumerate(lrs):
        for j, seed in enumerate(seeds):
            at = (diverged or {}).get((i, j))
            histories[(lr, seed)] = _history(finals[i][j], loss_ends[i][j], at)
    return Sweep(lrs=np.array(lrs), seeds=seeds, histories=histories, seconds=0.0, batched=True,
                 metric_name="test accuracy")


@pytest.fixture
def sweeps():
    return {
        "constant": _sweep([[0.90, 0.92], [0.10, 0.30]], [[0.2, 0.4], [2.3, 2.3]], diverged={(1, 0): 3}),
        "cosine": _sweep([[0.80, 0.84], [0.95, 0.97]], [[0.5, 0.5], [0.1, 0.3]]),
    }


def test_comparison_table_takes_each_schedule_at_its_best_peak(sweeps):
    lines = tables.comparison_table(sweeps, last=1).splitlines()
    assert lines[0].split()[:3] == ["schedule", "peak", "α"] and lines[1].split() == ["mean", "±", "std"]
    constant, cosine = lines[2].split(), lines[3].split()
    assert constant[:5] == ["constant", "0.1", "0.910", "±", "0.014"] and constant[-1] == "0/2"
    assert constant[5] == "0.3000"                      # mean of the two runs' last losses (0.2, 0.4)
    assert cosine[:3] == ["cosine", "1", "0.960"] and cosine[5] == "0.2000"


def test_comparison_table_at_one_peak_leaves_diverged_runs_out_of_the_loss(sweeps):
    constant = tables.comparison_table(sweeps, last=1, peak=1.0).splitlines()[2].split()
    assert constant[1] == "1" and constant[5] == "2.3000" and constant[-1] == "1/2"


def test_peak_table_marks_diverged_runs(sweeps):
    lines = tables.peak_table(sweeps).splitlines()
    assert lines[0].split()[-2:] == ["0.1", "1"]
    assert lines[1].split() == ["constant", "0.910", "0.200✕1"]
    assert lines[2].split() == ["cosine", "0.820", "0.960"]


def test_peak_figure_plots_the_error_per_schedule(sweeps):
    fig = figures.peak_figure(sweeps, title="errors")
    means = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in means] == ["constant", "cosine"]
    np.testing.assert_allclose(means[1].y, [1 - 0.82, 1 - 0.96])
    seeds = [t for t in fig.data if t.showlegend is False]
    np.testing.assert_allclose(seeds[1].y, [0.2, 0.16, 0.05, 0.03])    # every run of the cosine, as 1 − accuracy
    assert fig.layout.yaxis.type == "log" and fig.layout.title.text == "errors"
    assert "1 of 2 runs diverged" in means[0].text[1]
    assert figures.peak_figure(sweeps, title="acc", error=False).data[2].y[1] == pytest.approx(0.96)


def test_sweeps_on_different_grids_are_refused(sweeps):
    sweeps["other"] = _sweep([[0.9, 0.9], [0.9, 0.9]], [[0.1, 0.1], [0.1, 0.1]], lrs=(0.1, 2.0))
    for make in (lambda: tables.peak_table(sweeps), lambda: tables.comparison_table(sweeps, last=1)):
        with pytest.raises(ValueError, match="Invalid sweeps value: their peak α grids differ"):
            make()
    with pytest.raises(ValueError, match="Invalid sweeps value"):
        tables.peak_table({})


def test_train_loss_is_nan_for_a_diverged_run():
    assert math.isnan(analysis.train_loss(_history(0.1, 2.0, diverged_at=3), 5))
    assert analysis.train_loss(_history(0.9, 0.0), 3) == pytest.approx(np.linspace(2.0, 0.0, 10)[-3:].mean())
