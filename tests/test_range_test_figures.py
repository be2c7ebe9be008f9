"""Range-test figures and the check of its suggestions against a grid search."""

import itertools
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest


from lrcourse.engine import History, Sweep
from lrcourse.engine import lr_range
from lrcourse.results.analysis import Validation
from lrcourse import figures
from lrcourse.results import tables

LRS = np.geomspace(1e-4, 10, 40)


def _losses():
    """Flat, then a descent, then a blow-up: the shape of a range test."""
    x = np.log10(LRS)
    return 2.0 - 0.8 / (1 + np.exp(-3 * (x + 1))) + np.where(x > 0.4, 30 * (x - 0.4) ** 2, 0.0)


def _result(losses=None, stopped_at=None, **changes):
    losses = _losses() if losses is None else losses
    suggestions = ({rule: lr_range.suggest(LRS, losses, rule) for rule in lr_range.RULES}
                   if len(losses) == len(LRS) else {"valley": 1e-3})
    fields = dict(lrs=LRS, losses=losses, raw_losses=losses + 0.05 * np.sin(np.arange(len(losses))),
                  suggestions=suggestions, stopped_at=stopped_at, config={"stop_factor": 4.0})
    fields.update(changes)
    return SimpleNamespace(**fields)


def _by_name(fig, start):
    found = [t for t in fig.data if t.name and t.name.startswith(start)]
    assert len(found) == 1, [t.name for t in fig.data]
    return found[0]


# ------------------------------------------------------------------ one range test

def test_each_rule_is_a_vertical_line_at_its_suggestion():
    r = _result()
    fig = figures.range_test_figure(r, title="a test")
    assert fig.layout.title.text == "a test" and fig.layout.xaxis.type == "log"
    assert fig.layout.xaxis.range[0] < np.log10(LRS[0]) and fig.layout.xaxis.range[1] > np.log10(LRS[-1])
    np.testing.assert_array_equal(_by_name(fig, "smoothed").y, r.losses)
    np.testing.assert_array_equal(_by_name(fig, "loss of each step").y, r.raw_losses)
    assert len(set(r.suggestions.values())) == 3          # three different lines to find
    labels = {a.text: a for a in fig.layout.annotations}
    for rule, alpha in r.suggestions.items():
        line = _by_name(fig, f"{rule}:")
        np.testing.assert_array_equal(line.x, [alpha, alpha])
        assert tuple(line.y) == fig.layout.yaxis.range                # from the bottom to the top
        label = labels[f"{rule} {alpha:.3g}"]
        assert f"{alpha:.3g}" in line.name
        assert label.x == pytest.approx(np.log10(alpha))              # annotations on a log axis: log10(α)


def test_the_labels_of_nearby_suggestions_do_not_overlap():
    fig = figures.range_test_figure(_result(), title="t")
    heights = [a.y for a in fig.layout.annotations]
    low, top = fig.layout.yaxis.range
    assert len(heights) == 3 and len(set(heights)) == 3 and all(low < h < top for h in heights)


def test_a_stopped_test_is_marked_where_it_stopped():
    r = _result(stopped_at=len(LRS) - 1)
    stop = _by_name(figures.range_test_figure(r, title="t"), "stopped")
    assert stop.x[0] == LRS[-1] and stop.marker.symbol == "x"
    assert "4 × its best" in stop.name
    assert not any(t.name.startswith("stopped") for t in figures.range_test_figure(_result(), title="t").data)


def test_the_default_range_shows_the_descent_and_lets_the_blow_up_run_off():
    r = _result()
    low, top = figures.range_test_figure(r, title="t").layout.yaxis.range
    assert low < r.losses.min() and top > r.losses[0]
    assert top < r.losses.max()                                      # the blow-up (≈ 10) is cut off
    fall = r.losses[0] - r.losses.min()
    assert top - low < 4 * fall                                      # and the descent fills the plot
    assert figures.range_test_figure(r, title="t", y_range=(0, 50)).layout.yaxis.range == (0, 50)


def test_some_rules_only_and_without_the_raw_loss():
    fig = figures.range_test_figure(_result(), title="t", rules=["valley"], raw=False)
    assert [t.name.split(":")[0] for t in fig.data] == ["smoothed loss", "valley"]
    with pytest.raises(ValueError, match="Invalid rules value: \\['fastest'\\]"):
        figures.range_test_figure(_result(), title="t", rules=["fastest"])


@pytest.mark.parametrize("result, match", [
    (_result(losses=np.ones(5)), "Invalid result: lrs, losses and raw_losses have shapes"),
    (_result(lrs=LRS[::-1]), "not positive and increasing"),
    (_result(lrs=np.r_[0.0, LRS[1:]]), "not positive and increasing"),
    (SimpleNamespace(lrs=LRS), "Invalid result: SimpleNamespace"),
    ([1, 2, 3], "Invalid result: list"),
])
def test_bad_results_are_named(result, match):
    with pytest.raises(ValueError, match=match):
        figures.range_test_figure(result, title="t")


def test_a_figure_needs_a_title():
    for title in ("", "  ", None):
        with pytest.raises(ValueError, match="Invalid title"):
            figures.range_test_figure(_result(), title=title)


def test_it_draws_what_the_engine_measures():
    """A real range test (½·4·w², which diverges above α = 0.5) goes through unchanged."""
    import torch

    from lrcourse import engine

    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    problem = engine.Problem(model=model, loss=lambda forward, _: 2.0 * forward.weight.pow(2).sum(),
                             batches=itertools.count(), steps=1)
    r = lr_range.range_test(problem, start_lr=1e-3, end_lr=100.0, steps=200)
    fig = figures.range_test_figure(r, title="quadratic")
    assert r.stopped_at is not None and _by_name(fig, "stopped").x[0] == r.lrs[-1]
    for rule, alpha in r.suggestions.items():
        assert _by_name(fig, f"{rule}:").x[0] == alpha < 0.5


# ------------------------------------------------------------------ several range tests

def test_several_tests_on_one_plot_with_a_marker_at_each_suggestion():
    a, b = _result(), _result(losses=_losses() + 0.3)
    fig = figures.range_tests_figure({"seed 0": a, "seed 1": b}, rule="minimum/10", title="two seeds")
    assert [t.name for t in fig.data][::2] == ["seed 0", "seed 1"]
    for name, r in (("seed 0", a), ("seed 1", b)):
        marker = _by_name(fig, f"{name}: minimum/10")
        alpha = r.suggestions["minimum/10"]
        assert marker.x[0] == alpha
        assert marker.y[0] == pytest.approx(np.interp(np.log(alpha), np.log(LRS), r.losses))
    assert fig.layout.yaxis.range[1] > max(a.losses[0], b.losses[0])


def test_several_tests_reject_bad_input():
    with pytest.raises(ValueError, match="Invalid results value"):
        figures.range_tests_figure({}, title="t")
    with pytest.raises(ValueError, match="Invalid rules value"):
        figures.range_tests_figure({"a": _result()}, rule="lowest", title="t")
    with pytest.raises(ValueError, match="Invalid results\\['b'\\]"):
        figures.range_tests_figure({"a": _result(), "b": object()}, title="t")


def test_the_suggestions_table_has_one_line_per_test_with_every_rule():
    a, b = _result(stopped_at=len(LRS) - 1), _result(losses=_losses() + 0.3)
    lines = tables.suggestions_table({"seed 0": a, "a longer name": b}, label="test").splitlines()
    assert lines[0].split() == ["test", "stopped", "at", "lowest", "at", "steepest", "valley", "minimum/10"]
    row = lines[1].split()
    assert row[:2] == ["seed", "0"] and row[2] == f"{LRS[-1]:.3g}"
    assert row[3] == f"{LRS[np.argmin(a.losses)]:.3g}"
    assert row[4:] == [f"{a.suggestions[r]:.3g}" for r in ("steepest", "valley", "minimum/10")]
    assert lines[2].split()[3] == "–"                                # it never stopped
    assert len({len(line) for line in lines}) == 1                   # the columns line up
    with pytest.raises(ValueError, match="Invalid results value"):
        tables.suggestions_table({})
    with pytest.raises(ValueError, match="Invalid rules value"):
        tables.suggestions_table({"a": a, "b": _result(suggestions={"valley": 1e-3})})


# ------------------------------------------------------------------ against a grid search

def _history(final, diverged_at=None):
    return History(loss=np.ones(3), lrs=np.ones(3), metric=np.array([final]), metric_steps=np.array([3]),
                   metric_epochs=np.array([1.0]), diverged=diverged_at is not None, diverged_at=diverged_at,
                   diverged_loss=None, seconds=0.0, config={"metric_name": "test accuracy"})


def _sweep(finals, lrs, diverged=()):
    """finals[i][j]: the final metric of α = lrs[i], seed j; ``diverged``: (i, j) of runs that diverged."""
    seeds = (0, 1)
    histories = {(float(lr), seed): _history(finals[i][j], 5 if (i, j) in diverged else None)
                 for i, lr in enumerate(lrs) for j, seed in enumerate(seeds)}
    return Sweep(lrs=np.array(lrs, dtype=float), seeds=seeds, histories=histories, seconds=0.0, batched=True,
                 metric_name="test accuracy")


@pytest.fixture
def check():
    grid = _sweep([[0.50, 0.60], [0.90, 0.94], [0.96, 0.98], [0.10, 0.10]], [0.01, 0.1, 1.0, 10.0],
                  diverged=[(3, 0)])
    trained = _sweep([[0.88, 0.90], [0.97, 0.97], [0.20, 0.40]], [0.1, 1.2, 2.0], diverged=[(2, 1)])
    return Validation({"valley": 0.1, "steepest": 2.0, "minimum/10": 1.2}, trained, grid)


def test_the_table_puts_each_suggestion_next_to_the_grid_best(check):
    lines = tables.validation_table({"toy": check}).splitlines()
    assert lines[0] == "toy: final test accuracy, 2 seeds"
    assert lines[1].split() == ["grid", "best", "α", "=", "1", "0.970", "±", "0.014"]
    valley, steepest, tenth = (line.split() for line in lines[2:])
    assert valley == ["valley", "α", "=", "0.1", "0.890", "±", "0.014", "10×", "lower"]
    assert steepest[:6] == ["steepest", "α", "=", "2", "0.300", "±"] and steepest[-2:] == ["2.0×", "higher"]
    assert "(1/2 diverged)" in lines[3]
    assert tenth[-2:] == ["1.2×", "higher"]


def test_the_table_of_several_cases_keeps_their_order(check):
    text = tables.validation_table({"b": check, "a": check})
    assert text.index("b: final") < text.index("a: final") and text.count("grid best") == 2


def test_a_suggestion_without_runs_is_named(check):
    missing = check._replace(suggestions={"valley": 0.3})
    with pytest.raises(ValueError, match="Invalid trained value: no runs at α = 0.3"):
        tables.validation_table({"toy": missing})
    with pytest.raises(ValueError, match="Invalid cases value"):
        tables.validation_table({})
    with pytest.raises(ValueError, match="expected a Validation"):
        tables.validation_table({"toy": (check.suggestions, check.trained, check.grid)})


def test_the_figure_has_one_panel_per_case_and_a_marker_per_suggestion(check):
    fig = figures.validation_figure({"one": check, "two": check}, title="checked", log_y=["two"])
    assert [a.text for a in fig.layout.annotations] == ["one", "two"]
    assert fig.layout.yaxis.type == "linear" and fig.layout.yaxis2.type == "log"
    assert [t.error_y.visible for t in fig.data if t.name.startswith("grid")] == [True, False]
    grids = [t for t in fig.data if t.name.startswith("grid")]
    assert len(grids) == 2 and [t.showlegend for t in grids] == [True, False]
    np.testing.assert_allclose(grids[0].y, [0.55, 0.92, 0.97, 0.10])
    valley = [t for t in fig.data if t.name == "valley"]
    assert [t.x[0] for t in valley] == [0.1, 0.1] and valley[0].y[0] == pytest.approx(0.89)
    assert [t.showlegend for t in valley] == [True, False]          # one legend entry per rule
    steepest = next(t for t in fig.data if t.name == "steepest")
    assert steepest.x[0] == 2.0 and steepest.y[0] == pytest.approx(0.3)   # as Sweep.summary: 0.2 and 0.4
    with pytest.raises(ValueError, match="Invalid log_y value"):
        figures.validation_figure({"one": check}, title="t", log_y=["three"])
    with pytest.raises(ValueError, match="Invalid y_ranges value"):
        figures.validation_figure({"one": check}, title="t", y_ranges={"three": (0, 1)})


def test_the_figure_takes_a_metric_range_per_case_in_data_units(check):
    fig = figures.validation_figure({"one": check, "two": check}, title="t", log_y=["two"],
                                        y_ranges={"one": (0, 1), "two": (5, 100)})
    assert fig.layout.yaxis.range == (0, 1)
    assert fig.layout.yaxis2.range == pytest.approx((np.log10(5), 2.0))
    assert fig.layout.xaxis.dtick == 1
