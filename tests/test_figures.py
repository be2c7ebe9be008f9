"""The figures of chapter 2: where runs end (double well), the rate curve, the eigen-coordinates."""

import dataclasses

import numpy as np
import pytest

from lrcourse.core import descent, objectives, theory
from lrcourse import figures
from lrcourse.results import tables
from conftest import figure_json

WELL = objectives.double_well(0.3)
BOWL = objectives.quadratic((1.0, 10.0), angle=np.pi / 6)


# -- landing -----------------------------------------------------------------------------

def test_landing_codes_each_minimum_then_not_settled_then_diverged():
    minimizers = WELL.minimizers  # global first
    final = np.array([minimizers[0] + 1e-4, minimizers[1] - 1e-4, [0.0], [np.nan]])
    assert descent.landing(final, minimizers).tolist() == [0, 1, 2, 3]
    # tol decides what counts as arrived
    assert descent.landing(minimizers[1:] + 0.01, minimizers, tol=1e-3).tolist() == [2]
    assert descent.landing(minimizers[1:] + 0.01, minimizers, tol=0.1).tolist() == [1]


def test_landing_labels_name_the_global_minimum_by_value():
    labels = descent.landing_labels(WELL)
    assert labels == ["global minimum (w = −1.04)", "local minimum (w = 0.96)", "not settled", "diverged"]
    mirrored = objectives.double_well(-0.3)  # now the right valley is the deeper one
    assert descent.landing_labels(mirrored)[0] == "global minimum (w = 1.04)"


def test_final_positions_match_descent_run_start_by_start():
    starts, lrs = np.array([-1.7, 0.3, 1.8]), np.array([0.01, 0.1, 0.2, 0.4])
    final = descent.final_positions(WELL, starts, lrs, steps=150)
    assert final.shape == (3, 4, 1)
    for i, start in enumerate(starts):
        alone = descent.run(WELL, [start], lrs, steps=150)
        np.testing.assert_allclose(final[i], alone.final(), rtol=1e-12, atol=1e-12)  # NaN == NaN too
    assert np.isnan(final[[0, 2], -1]).all()  # α = 0.4 blows up from the far starts...
    assert np.isfinite(final[1, -1]).all()     # ...but from 0.3 it bounces without diverging


def test_small_steps_end_in_the_minimum_of_the_starting_valley():
    starts = np.linspace(-2, 2, 41)
    barrier = np.sort(np.roots([4, 0, -4, 0.3]).real)[1]
    ends = descent.landing(descent.final_positions(WELL, starts, [0.02], steps=800), WELL.minimizers)[:, 0]
    away = np.abs(starts - barrier) > 0.05  # right on the barrier, 800 small steps may not be enough
    assert np.array_equal(ends[away], np.where(starts < barrier, 0, 1)[away])


def test_final_positions_rejects_bad_input():
    with pytest.raises(ValueError, match="dimension 2"):
        descent.final_positions(BOWL, [0.0], [0.1], steps=5)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        descent.final_positions(WELL, [0.0], [-0.1], steps=5)
    with pytest.raises(ValueError, match="Invalid steps value: 0"):
        descent.final_positions(WELL, [0.0], [0.1], steps=0)


def test_basin_map_draws_the_landing_codes_and_the_curvature_limits():
    starts, lrs = np.linspace(-2, 2, 21), np.geomspace(0.01, 0.35, 20)
    fig = figures.basin_map(WELL, starts, lrs, steps=200)
    heatmap = fig.data[0]
    expected = descent.landing(descent.final_positions(WELL, starts, lrs, 200), WELL.minimizers)
    assert np.array_equal(np.asarray(heatmap.z), expected)
    np.testing.assert_allclose(heatmap.x, np.log10(lrs))
    legend = [t.name for t in fig.data[1:]]
    assert legend == descent.landing_labels(WELL)
    # one dotted line at 2/f''(w*) per minimum, f'' = 12 w² − 4 for this well
    dotted = sorted(s.x0 for s in fig.layout.shapes if s.line.dash == "dot")
    expected_x = sorted(np.log10(2 / (12 * WELL.minimizers[:, 0] ** 2 - 4)))
    np.testing.assert_allclose(dotted, expected_x, atol=1e-6)
    data, _ = figure_json(figures.show(fig, "basin")._repr_html_())
    assert data[0]["type"] == "heatmap"


@pytest.mark.parametrize("bad", [dict(lrs=[0.1]), dict(lrs=[0.2, 0.1]), dict(starts=[0.0]), dict(lrs=[0.0, 0.1])])
def test_basin_map_rejects_bad_grids(bad):
    args = dict(starts=[-1.0, 1.0], lrs=[0.05, 0.1]) | bad
    with pytest.raises(ValueError, match="Invalid"):
        figures.basin_map(WELL, args["starts"], args["lrs"], steps=5)


# -- the quadratic -----------------------------------------------------------------------

def test_rate_curve_draws_the_theory_and_the_measured_points():
    lrs, measured = np.array([0.05, 0.1]), np.array([0.95, 0.9])
    fig = figures.rate_curve(10.0, 1.0, lrs, measured)
    by_name = {t.name: t for t in fig.data}
    predicted = by_name["predicted rate"]
    np.testing.assert_allclose(predicted.y, theory.rate(np.asarray(predicted.x), 10.0, 1.0))
    assert max(predicted.x) > theory.critical_lr(10.0)  # the curve shows the divergent side
    np.testing.assert_array_equal(by_name["measured rate"].x, lrs)
    np.testing.assert_array_equal(by_name["measured rate"].y, measured)
    verticals = sorted(s.x0 for s in fig.layout.shapes if s.line.dash == "dot")
    np.testing.assert_allclose(verticals, [2 / 11, 0.2])
    assert "measured rate" not in {t.name for t in figures.rate_curve(10.0, 1.0).data}


def test_eigen_explorer_coordinates_shrink_by_one_minus_alpha_lambda():
    lrs = np.geomspace(0.004, 0.24, 41)
    explorer = figures.eigen_explorer(BOWL, [-2.0, 1.5], lrs, steps=12, value=0.17)
    lr = 0.17
    traces = explorer.traces(lr)
    assert [t["name"] for t in traces] == ["λ = 1", "λ = 10"]
    for trace, lam in zip(traces, (1.0, 10.0)):
        c = np.asarray(trace["y"])
        assert c[0] > 0  # every coordinate starts positive
        np.testing.assert_allclose(c[1:] / c[:-1], 1 - lr * lam, rtol=1e-9)
    assert "+0.83 for λ = 1" in explorer.title(lr) and "-0.70 for λ = 10" in explorer.title(lr)
    _, layout = figure_json(explorer.to_html())
    assert len(layout["sliders"][0]["steps"]) == 41


def test_eigen_explorer_needs_a_quadratic():
    with pytest.raises(ValueError, match="not a quadratic"):
        figures.eigen_explorer(objectives.rosenbrock(), [0.0, 0.0], [0.01, 0.02])


def test_trajectory_explorer_can_name_the_minimum_it_ends_in():
    lrs = np.geomspace(0.01, 0.3, 41)
    named = figures.trajectory_explorer(WELL, [1.8], lrs, steps=60, name_minimum=True)
    plain = figures.trajectory_explorer(WELL, [1.8], lrs, steps=60)
    assert named.title(0.05).endswith("<br>ends in the local minimum")   # small step: stays in its valley
    assert named.title(0.12).endswith("<br>ends in the global minimum")  # the first step jumps the barrier
    assert "minimum" not in plain.title(0.05)
    assert named.title(0.3).startswith("α = 0.3:<br>diverges") and "ends in" not in named.title(0.3)


# -- sweep figures ----------------------------------------------------------------------

def _fake_sweep():
    from lrcourse.engine import History, Sweep

    def history(lr, seed, diverge_at=None):
        steps = 20 if diverge_at is None else diverge_at + 1
        loss = 2.0 * np.exp(-lr * np.arange(steps)) + 0.01 * seed
        if diverge_at is not None:
            loss[-1] = np.inf
        metric = np.array([0.1, 0.5 + lr / 10]) if diverge_at is None else np.array([0.1, 0.1])
        return History(loss=loss, lrs=np.full(steps - (diverge_at is not None), lr), metric=metric,
                       metric_steps=np.array([10, steps]), metric_epochs=np.array([1.0, 2.0]),
                       diverged=diverge_at is not None, diverged_at=diverge_at,
                       diverged_loss=np.inf if diverge_at is not None else None, seconds=0.0,
                       config={"lr": lr, "seed": seed})

    lrs = np.array([0.01, 0.1, 1.0])
    histories = {(float(lr), seed): history(lr, seed, 7 if (lr == 1.0 and seed == 1) else None)
                 for lr in lrs for seed in (0, 1)}
    return Sweep(lrs=lrs, seeds=(0, 1), histories=histories, seconds=0.0, batched=False,
                 metric_name="accuracy", maximize=True)


def test_sweep_explorer_draws_each_seed_and_marks_divergence():
    sweep = _fake_sweep()
    explorer = figures.sweep_explorer(sweep, smooth=1)
    seed0, seed1, crosses = explorer.traces(1.0)
    np.testing.assert_allclose(seed0["y"], sweep[1.0, 0].loss)
    assert len(seed1["x"]) == 8 and np.isnan(seed1["y"][-1])  # cut at the divergence, inf not drawn
    assert list(crosses["x"]) == [7.0] and np.isfinite(crosses["y"]).all()
    assert "diverged in 1/2 runs, at step 7" in explorer.title(1.0)
    assert len(explorer.traces(0.1)[-1]["x"]) == 0
    assert explorer.grid_only and list(explorer.values) == [0.01, 0.1, 1.0]


def test_sweep_explorer_smooths_and_plots_metrics():
    sweep = _fake_sweep()
    smoothed = figures.sweep_explorer(sweep, smooth=4).traces(0.01)[0]["y"]
    raw = sweep[0.01, 0].loss
    assert smoothed[0] == raw[0] and smoothed[5] == pytest.approx(raw[2:6].mean())
    metric = figures.sweep_explorer(sweep, quantity="metric").traces(0.1)[0]
    assert list(metric["x"]) == [1.0, 2.0] and metric["y"][-1] == pytest.approx(0.51)
    with pytest.raises(ValueError, match="Invalid quantity: 'accuracy'"):
        figures.sweep_explorer(sweep, quantity="accuracy")


def test_final_metric_figure_shows_mean_seeds_and_diverged_runs():
    sweep = _fake_sweep()
    fig = figures.final_metric_figure(sweep, div_id="fake-final").figure
    mean, seed0, seed1, diverged = fig.data
    np.testing.assert_allclose(mean.y, sweep.summary()["mean"])
    assert len(seed1.x) == 2 and list(diverged.x) == [1.0]
    assert 'id="fake-final"' in figures.final_metric_figure(sweep, div_id="fake-final")._repr_html_()


def test_metric_curves_without_epochs_are_drawn_against_steps():
    from lrcourse.engine import Sweep

    sweep = _fake_sweep()
    histories = {key: dataclasses.replace(h, metric_epochs=np.full(len(h.metric), np.nan))
                 for key, h in sweep.histories.items()}
    no_epochs = Sweep(lrs=sweep.lrs, seeds=sweep.seeds, histories=histories, seconds=0.0, batched=False)
    explorer = figures.sweep_explorer(no_epochs, quantity="metric")
    assert list(explorer.traces(0.1)[0]["x"]) == [10.0, 20.0]
    assert explorer.figure.layout.xaxis.title.text == "step"


# -- chapter 1: the classifier ----------------------------------------------------------

def test_training_table_reports_accuracies_and_divergence():
    from lrcourse.core import logistic

    data = logistic.load_two_digits(3, 8, seed=0)
    lrs = {"good": 1.0, "far too large": 300.0}
    trained = {name: logistic.train(data.X_train, data.y_train, lr, 30, l2=0.01) for name, lr in lrs.items()}
    lines = tables.training_table(trained, lrs, data).splitlines()
    assert lines[0].split() == ["α", "train", "loss", "train", "acc", "test", "acc"]
    good = lines[1].split()
    assert good[:2] == ["good", "1"] and float(good[2]) == pytest.approx(trained["good"].losses[-1], rel=1e-2)
    assert float(good[4]) == pytest.approx(logistic.accuracy(trained["good"].weights, data.X_test, data.y_test), abs=1e-3)
    assert "diverged" in lines[2] and f"at step {trained['far too large'].diverged_at}" in lines[2]
    with pytest.raises(ValueError, match="Invalid lrs value"):
        tables.training_table(trained, {"good": 1.0}, data)


def test_loss_curves_draw_one_titled_line_per_run():
    fig = figures.loss_curves({"a": [1.0, 0.5, 0.25], "b": [1.0, 2.0, np.nan]}, title="Two runs")
    assert [trace.name for trace in fig.data] == ["a", "b"]
    np.testing.assert_array_equal(fig.data[0].y, [1.0, 0.5, 0.25])
    assert fig.layout.title.text == "Two runs" and fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.title.text == "step" and fig.layout.yaxis.title.text
    with pytest.raises(ValueError, match="Invalid curves value"):
        figures.loss_curves({}, title="none")


def test_digit_mosaic_places_each_label_on_its_row():
    images = {3: np.ones((10, 8, 8)), 8: 2 * np.ones((9, 8, 8))}
    fig = figures.digit_mosaic(images, title="Threes and eights")
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (2 * 9, 8 * 9)                     # 8 images of 8×8 per row, one-pixel gaps
    assert np.nanmax(z[:9]) == 1 and np.nanmin(z[9:]) == 2
    assert np.isnan(z[8]).all() and np.isnan(z[:, 8]).all()  # the gaps are blank
    assert list(fig.layout.yaxis.ticktext) == ["3", "8"]
    assert fig.layout.title.text == "Threes and eights" and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    with pytest.raises(ValueError, match="at least 8 images"):
        figures.digit_mosaic({3: np.ones((2, 8, 8))}, title="too few")
