"""Optimizer figures and tables: sources, the momentum map, paths, good ranges, layers, heat maps, defaults."""

import ast
import functools
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st


from lrcourse.core import descent, objectives, optim
from lrcourse.engine import History, Sweep
from lrcourse import figures
from lrcourse import interview
from lrcourse.engine import recording
from lrcourse.results import analysis
from lrcourse.results import tables
from conftest import figure_json

FACTORIES = [optim.sgd, optim.adagrad, optim.rmsprop, optim.adam, optim.adamw]


# ------------------------------------------------------------------ update_source

@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_update_source_keeps_the_equations_and_the_update_and_drops_the_checks(factory):
    text = figures.update_source(factory)
    ast.parse(text)                                            # still valid Python
    assert text.startswith(f"def {factory.__name__}(")
    assert factory.__doc__.strip().splitlines()[0] in text     # the docstring, with its equations
    assert "θ_t = θ_{t-1}" in text
    assert "    def update(theta, g, state, lr):" in text
    assert "_check_lr" not in text and "_nonnegative_number" not in text and "def init" not in text
    assert ("def _adam_update(" in text) == (factory in (optim.adam, optim.adamw))


def test_update_source_is_much_shorter_than_the_whole_factory_for_adam():
    import inspect
    full = inspect.getsource(optim.adam)
    assert len(figures.update_source(optim.adam).splitlines()) < len(full.splitlines()) + 20
    assert "_check_adam" in full and "_check_adam" not in figures.update_source(optim.adam)


@pytest.mark.parametrize("bad", [functools.partial(optim.sgd, momentum=0.9), np.sum, "adam"])
def test_update_source_rejects_what_is_not_a_core_optimizer(bad):
    with pytest.raises(ValueError, match="Invalid factory"):
        figures.update_source(bad)


# ------------------------------------------------------------------ stability map

def test_stability_map_clips_rates_and_draws_the_predicted_edge():
    betas, products = np.array([0.0, 0.5, 0.9]), np.array([0.5, 2.5, 4.0])
    rates = np.array([[0.5, 0.7, 0.95], [1.5, 0.7, 0.95], [np.inf, np.nan, 1.2]])
    fig = figures.stability_map(betas, products, rates)
    heat = fig.data[0]
    np.testing.assert_array_equal(np.asarray(heat.z), [[0.5, 0.7, 0.95], [1.0, 0.7, 0.95], [1.0, 1.0, 1.0]])
    edge = fig.data[1]
    np.testing.assert_allclose(edge.y, 2 * (1 + np.asarray(edge.x)))
    assert fig.layout.title.text


def test_stability_map_rejects_rates_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"Invalid rates: shape \(3, 2\)"):
        figures.stability_map([0.0, 0.5, 0.9], [1.0, 2.0], np.zeros((3, 2)))


def test_the_measured_momentum_edge_is_where_the_map_says():
    lam, beta = 10.0, 0.9
    line = objectives.quadratic((lam,))
    lrs = np.array([0.99, 1.01]) * 2 * (1 + beta) / lam
    runs = descent.run(line, [1.0], lrs, steps=2000, optimizer=functools.partial(optim.sgd, momentum=beta))
    size = np.abs(runs.path[:, :, 0])
    assert size[-1, 0] < size[1000, 0]                       # below 2(1+β)/λ: shrinks
    assert runs.diverged[1] or size[-1, 1] > size[1000, 1]   # above: grows


# ------------------------------------------------------------------ paths explorer

def test_each_static_step_draws_each_optimizer_s_own_run():
    bowl = objectives.quadratic((1.0, 100.0), angle=np.pi / 6)
    w0 = np.array([-2.0, 1.5])
    lrs = np.geomspace(1e-3, 10.0, 41)
    makers = {"GD": optim.sgd, "Adam": optim.adam}
    explorer = figures.paths_explorer(bowl, w0, lrs, makers, steps=30, value=0.0178)
    data, layout = figure_json(explorer.to_html())
    steps = layout["sliders"][0]["steps"]
    assert len(steps) == 41
    assert steps[0]["args"][2] == [2, 3]                       # contours and minimum stay; two paths follow
    for i in (0, 20, 40):
        for k, make in enumerate(makers.values()):
            path = descent.run(bowl, w0, [lrs[i]], 30, make).path[:, 0]
            drawn = np.array(steps[i]["args"][0]["x"][k], dtype=float)
            np.testing.assert_allclose(drawn, path[:, 0], rtol=1e-4, atol=1e-9)
    assert "GD: diverges at step" in steps[40]["args"][1]["title.text"]
    assert "Adam: loss" in steps[40]["args"][1]["title.text"]
    assert lrs[layout["sliders"][0]["active"]] == pytest.approx(0.0178, rel=0.15)


def test_paths_explorer_needs_a_2d_objective_and_an_optimizer():
    with pytest.raises(ValueError, match="dimension 1"):
        figures.paths_explorer(objectives.quadratic((1.0,)), [1.0], [0.1, 0.2], {"GD": optim.sgd})
    with pytest.raises(ValueError, match="Invalid optimizers"):
        figures.paths_explorer(objectives.quadratic(), [1.0, 1.0], [0.1, 0.2], {})


# ------------------------------------------------------------------ good range

def _history(final, lr, seed):
    metric = np.array([final], dtype=float)
    return History(loss=np.array([1.0]), lrs=np.array([lr]), metric=metric, metric_steps=np.array([1]),
                   metric_epochs=np.array([1.0]), diverged=not math.isfinite(final), diverged_at=None,
                   diverged_loss=None, seconds=0.0, config={"lr": lr, "seed": seed})


def _sweep(lrs, finals, maximize=True):
    finals = np.asarray(finals, dtype=float).reshape(len(lrs), -1)
    seeds = tuple(range(finals.shape[1]))
    histories = {(float(lr), s): _history(finals[i, j], float(lr), s)
                 for i, lr in enumerate(lrs) for j, s in enumerate(seeds)}
    return Sweep(lrs=np.asarray(lrs, dtype=float), seeds=seeds, histories=histories, seconds=0.0, batched=True,
                 metric_name="test accuracy" if maximize else "validation perplexity", maximize=maximize)


def test_good_range_counts_the_unbroken_run_around_the_best():
    lrs = [1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]
    sweep = _sweep(lrs, [0.97, 0.5, 0.975, 0.98, 0.972, 0.1])   # 1e-3 is good but cut off by 1e-2
    r = analysis.good_range(sweep, 0.01)
    assert (r.best, r.best_metric, r.lo, r.hi, r.count) == (1.0, 0.98, 0.1, 10.0, 3)
    assert r.decades == pytest.approx(2.0)
    tight = analysis.good_range(sweep, 0.001)
    assert (tight.lo, tight.hi, tight.count, tight.decades) == (1.0, 1.0, 1, 0.0)


def test_good_range_of_a_metric_to_minimise_and_unsorted_lrs():
    sweep = _sweep([10.0, 0.1, 1.0, 100.0], [9.0, 30.0, 8.6, np.inf], maximize=False)
    r = analysis.good_range(sweep, 0.05)
    assert (r.best, r.lo, r.hi, r.count) == (1.0, 1.0, 10.0, 2)


def test_good_range_uses_the_mean_over_seeds():
    sweep = _sweep([0.1, 1.0, 10.0], [[0.96, 0.98], [0.97, 0.99], [0.5, 0.99]])
    r = analysis.good_range(sweep, 0.02)                  # means 0.97, 0.98, 0.745
    assert (r.best, r.lo, r.hi) == (1.0, 0.1, 1.0)


def test_good_range_rejects_a_sweep_without_finite_results_and_a_negative_tolerance():
    with pytest.raises(ValueError, match="no α has a finite"):
        analysis.good_range(_sweep([0.1, 1.0], [np.nan, np.inf]), 0.01)
    with pytest.raises(ValueError, match="tolerance"):
        analysis.good_range(_sweep([0.1, 1.0], [0.5, 0.6]), -0.1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12), st.floats(0.0, 0.5))
def test_good_range_is_good_inside_and_bad_just_outside(means, tolerance):
    lrs = np.geomspace(1e-4, 1.0, len(means))
    r = analysis.good_range(_sweep(lrs, means), tolerance)
    means = np.asarray(means)
    threshold = (1 - tolerance) * means.max()
    inside = (lrs >= r.lo) & (lrs <= r.hi)
    assert inside.sum() == r.count and means[inside].min() >= threshold
    assert means[np.isclose(lrs, r.best)][0] == means.max()
    lo, hi = np.flatnonzero(inside)[[0, -1]]
    assert lo == 0 or means[lo - 1] < threshold
    assert hi == len(lrs) - 1 or means[hi + 1] < threshold
    assert r.decades == pytest.approx(np.log10(r.hi / r.lo))


def test_sensitivity_figure_draws_one_curve_and_one_shaded_range_per_sweep():
    lrs = [1e-3, 1e-2, 1e-1, 1.0]
    sweeps = {"SGD": _sweep(lrs, [0.1, 0.5, 0.97, 0.98]), "Adam": _sweep(lrs, [0.97, 0.5, 0.2, 0.1])}
    fig = figures.sensitivity_figure(sweeps, tolerance=0.02, title="sensitivity")
    curves = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in curves] == ["SGD", "Adam"]
    np.testing.assert_allclose(curves[1].y, [0.97, 0.5, 0.2, 0.1])
    bands = fig.layout.shapes
    assert (bands[0].x0, bands[0].x1) == (0.1, 1.0)
    assert bands[1].x0 == pytest.approx(1e-3 / 1.12) and bands[1].x1 == pytest.approx(1e-3 * 1.12)   # one value
    names = [t.name for t in fig.data if t.mode == "lines"]
    assert names == ["SGD: within 2% of its best, 1 decades", "Adam: within 2% of its best, 0 decades"]
    assert fig.layout.title.text == "sensitivity" and fig.layout.xaxis.type == "log"


# ------------------------------------------------------------------ layers

def test_layer_spread_and_table_report_median_and_the_10_90_range():
    values = {"conv.weight": np.arange(1, 101, dtype=float), "fc.bias": np.array([2.0, 4.0])}
    spread = analysis.layer_spread(values)
    assert spread["conv.weight"] == (100, pytest.approx(10.9), pytest.approx(50.5), pytest.approx(90.1))
    table = tables.layer_table({"Adam": values, "SGD": {k: 2 * v for k, v in values.items()}})
    lines = table.splitlines()
    assert lines[0].split()[:2] == ["layer", "params"] and "Adam" in lines[0] and "SGD" in lines[0]
    assert lines[1].split()[:3] == ["conv.weight", "100", "50"] and "[11, 90]" in lines[1] and "[22, 1.8e+02]" in lines[1]
    assert lines[2].split()[:3] == ["fc.bias", "2", "3"]


def test_layer_table_rejects_columns_with_different_layers_and_empty_layers():
    with pytest.raises(ValueError, match="Invalid columns"):
        tables.layer_table({"a": {"x": np.ones(3)}, "b": {"y": np.ones(3)}})
    with pytest.raises(ValueError, match="layer 'x' is empty"):
        analysis.layer_spread({"x": np.array([])})


def test_layer_figure_draws_medians_with_asymmetric_bars_on_a_log_axis():
    values = {"a": np.array([1.0, 10.0, 100.0]), "b": np.array([5.0])}
    fig = figures.layer_figure({"Adam": values}, title="layers", y_title="rate", lines={"SGD": 1.0})
    trace = fig.data[0]
    np.testing.assert_allclose(trace.y, [10.0, 5.0])
    spread = analysis.layer_spread(values)["a"]
    assert trace.error_y.array[0] == pytest.approx(spread.p90 - spread.median)
    assert trace.error_y.arrayminus[0] == pytest.approx(spread.median - spread.p10)
    assert fig.layout.yaxis.type == "log" and list(fig.layout.xaxis.ticktext) == ["a", "b"]
    line = fig.data[-1]
    assert line.name == "SGD" and list(line.y) == [1.0, 1.0]   # SGD's single α as a line


# ------------------------------------------------------------------ heat maps

def test_heatmaps_share_a_colour_scale_and_outline_each_best_cell():
    a = np.array([[0.9, 0.95], [0.1, 0.2]])
    b = np.array([[0.9, 0.91], [0.97, np.nan]])
    fig = figures.heatmaps({"Adam": a, "AdamW": b}, x=[1e-3, 1e-2], y=[0.0, 1.0], x_title="α",
                                  y_title="λ", title="grid", z_title="accuracy")
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert [h.zmin for h in heat] == [0.1, 0.1] and [h.zmax for h in heat] == [0.97, 0.97]
    assert list(heat[1].text[1]) == ["0.970", "–"]
    assert list(heat[0].x) == ["0.001", "0.01"] and list(heat[0].y) == ["0", "1"]
    best = [(s.x0 + 0.5, s.y0 + 0.5) for s in fig.layout.shapes]
    assert best == [(1, 0), (0, 1)]                            # column, row of each map's maximum


def test_heatmaps_reject_a_grid_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"'b' has shape \(1, 2\)"):
        figures.heatmaps({"a": np.zeros((2, 2)), "b": np.zeros((1, 2))}, x=[1, 2], y=[1, 2],
                                x_title="x", y_title="y", title="t", z_title="z")


# ------------------------------------------------------------------ defaults

def test_defaults_table_matches_torch_except_sgd_s_learning_rate():
    table = interview.defaults_table({
        "SGD": (torch.optim.SGD, optim.sgd), "Adagrad": (torch.optim.Adagrad, optim.adagrad),
        "RMSprop": (torch.optim.RMSprop, optim.rmsprop), "Adam": (torch.optim.Adam, optim.adam),
        "AdamW": (torch.optim.AdamW, optim.adamw)})
    flagged = [line for line in table.splitlines() if line.endswith("≠")]
    assert len(flagged) == 1 and flagged[0].split()[:2] == ["SGD", "lr"] and "required" in flagged[0]
    assert not any(word in table for word in ("foreach", "fused", "capturable", "differentiable", "maximize"))
    assert re.search(r"AdamW\s+lr\s+0\.001\s+0\.001", table)
    assert re.search(r"weight_decay\s+0\.01\s+0\.01", table)


def test_defaults_table_flags_differences_and_arguments_only_one_side_has():
    class Theirs:
        def __init__(self, params, lr=0.1, beta=0.9, fused=None):
            pass

    def ours(lr=0.1, beta=0.5, extra=1):
        pass

    lines = interview.defaults_table({"Toy": (Theirs, ours)}).splitlines()
    assert lines[1].split() == ["Toy", "lr", "0.1", "0.1"]
    assert lines[2].split() == ["beta", "0.9", "0.5", "≠"]
    assert lines[3].split() == ["extra", "–", "1", "≠"]
    assert len(lines) == 4


# ------------------------------------------------------------------ Adam's step over training

def _linear_problem(seed):
    """A linear regression the engine can train: 3 weights and a bias, one fixed batch."""
    from lrcourse.engine import Problem
    generator = torch.Generator().manual_seed(seed)
    x, y = torch.randn(16, 3, generator=generator), torch.randn(16, generator=generator)
    model = torch.nn.Linear(3, 1)

    def batches():
        while True:
            yield x, y

    return Problem(model=model, loss=lambda forward, batch: ((forward(batch[0])[:, 0] - batch[1]) ** 2).mean(),
                   batches=batches(), steps=12)


def test_step_recorder_sees_every_step_and_does_not_change_the_run():
    from lrcourse import engine
    recorder = recording.StepRecorder(_linear_problem)
    recorded = engine.train(recorder, 0.05, seed=3)
    plain = engine.train(_linear_problem, 0.05, seed=3)
    np.testing.assert_array_equal(recorded.loss, plain.loss)
    ratios = recorder.finish(recorded.model).ratios(0.05)
    gradients = np.array(recorder.gradients)
    assert ratios.shape == gradients.shape == (12, 4)
    np.testing.assert_allclose(ratios, np.abs(gradients), rtol=1e-5, atol=1e-7)   # SGD: |Δθ|/α = |g|
    final = np.concatenate([p.detach().reshape(-1).numpy() for p in recorded.model.parameters()])
    np.testing.assert_array_equal(recorder.weights[-1], final)


def test_step_recorder_of_adam_measures_the_first_step_alpha_and_matches_the_recomputed_factors():
    from lrcourse import engine
    recorder = recording.StepRecorder(_linear_problem)
    history = engine.train(recorder, 0.01, seed=0, optimizer="adam")
    ratios = recorder.finish(history.model).ratios(0.01)
    np.testing.assert_allclose(ratios[0], 1.0, rtol=1e-4)                      # α·sign(g) at t = 1
    factors = analysis.adam_step_factors(recorder.gradients)
    np.testing.assert_allclose(ratios, factors.step, rtol=1e-3, atol=1e-6)


def test_step_recorder_rejects_misuse():
    with pytest.raises(ValueError, match="Invalid make_problem"):
        recording.StepRecorder(42)
    recorder = recording.StepRecorder(_linear_problem)
    with pytest.raises(ValueError, match="nothing recorded"):
        recorder.finish(torch.nn.Linear(3, 1))
    from lrcourse import engine
    history = engine.train(recorder, 0.05)
    with pytest.raises(ValueError, match="finish"):
        recorder.ratios(0.05)
    recorder.finish(history.model)
    with pytest.raises(ValueError, match="already"):
        recorder.finish(history.model)
    with pytest.raises(ValueError, match="lr"):
        recorder.ratios(0.0)


def test_adam_step_factors_match_the_core_adam_and_multiply_to_the_step():
    rng = np.random.default_rng(0)
    gradients = rng.normal(0.3, 1.0, size=(50, 4)) * np.array([1e-3, 1.0, 1e3, 1.0])
    adam = optim.adam(lr=0.1)
    theta, state, steps = np.zeros(4), adam.init(np.zeros(4)), []
    for g in gradients:
        new, state = adam.step(theta, g, state)
        steps.append(np.abs(new - theta) / 0.1)
        theta = new
    factors = analysis.adam_step_factors(gradients)
    np.testing.assert_allclose(factors.step, np.array(steps), rtol=1e-9)
    np.testing.assert_allclose(factors.snr * factors.scale, factors.step, rtol=1e-4)   # equal up to ε
    assert np.all(factors.snr <= 1.0) and np.all(factors.snr > 0)


def test_adam_step_factors_of_a_constant_gradient_are_one_and_of_a_zero_gradient_nan():
    gradients = np.column_stack([np.full(30, 2.5), np.zeros(30)])
    factors = analysis.adam_step_factors(gradients)
    np.testing.assert_allclose(factors.step[:, 0], 1.0)
    np.testing.assert_allclose(factors.snr[:, 0], 1.0)
    np.testing.assert_allclose(factors.scale[:, 0], 1.0)
    assert np.all(factors.step[:, 1] == 0) and np.all(np.isnan(factors.snr[:, 1]))


def test_adam_step_factors_of_a_shrinking_noisy_gradient_fall_below_one():
    rng = np.random.default_rng(1)
    signs = rng.choice([-1.0, 1.0], size=(400, 200))
    gradients = signs * np.geomspace(1.0, 0.01, 400)[:, None]          # pure noise, shrinking
    factors = analysis.adam_step_factors(gradients)
    late = slice(300, 400)
    assert np.median(factors.step[late]) < 0.1
    assert np.median(factors.snr[late]) < 0.5 and np.median(factors.scale[late]) < 0.2


@pytest.mark.parametrize("gradients, kwargs, match", [
    (np.zeros(5), {}, "Invalid gradients"),
    (np.zeros((0, 3)), {}, "Invalid gradients"),
    (np.ones((5, 2)), {"betas": (1.0, 0.999)}, "Invalid beta1"),
    (np.ones((5, 2)), {"betas": (0.9, -0.1)}, "Invalid beta2"),
    (np.ones((5, 2)), {"eps": -1.0}, "eps"),
])
def test_adam_step_factors_reject_bad_input(gradients, kwargs, match):
    with pytest.raises(ValueError, match=match):
        analysis.adam_step_factors(gradients, **kwargs)


def test_step_ratio_table_gives_the_first_step_and_each_epoch_s_medians():
    gradients = np.column_stack([np.full(20, 1.0), np.full(20, -3.0)])
    factors = analysis.adam_step_factors(gradients)
    ratios = np.vstack([np.ones((1, 2)), np.full((9, 2), 0.5), np.full((10, 2), 0.01)])
    text = tables.step_ratio_table(ratios, factors, steps_per_epoch=10, epochs=(1, 2))
    lines = text.splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["step", "epoch", "epoch"]
    assert lines[1].split()[2] == "1" and lines[2].split()[2] == "0.5" and lines[3].split()[2] == "0.01"
    with pytest.raises(ValueError, match="Invalid epochs"):
        tables.step_ratio_table(ratios, factors, steps_per_epoch=10, epochs=(3,))
    with pytest.raises(ValueError, match="Invalid factors"):
        tables.step_ratio_table(ratios[:5], factors, steps_per_epoch=5)


def test_step_ratio_figure_draws_the_band_the_median_the_picks_and_the_line_at_one():
    rng = np.random.default_rng(2)
    ratios = rng.uniform(0.001, 1.0, size=(40, 30))
    ratios[:, 5] = 0.0                                          # a weight that never moves
    fig = figures.step_ratio_figure(ratios, steps_per_epoch=10, picks={"w0": 0, "dead": 5}, title="steps")
    assert fig.layout.title.text == "steps" and fig.layout.yaxis.type == "log"
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    names = [trace.name for trace in fig.data]
    assert names[:2] == ["10–90 % of all weights", "median over all weights"] and names[2:4] == ["w0", "dead"]
    np.testing.assert_allclose(fig.data[1].y, np.maximum(np.median(ratios, axis=1), 1e-6))
    assert np.all(np.asarray(fig.data[3].y) > 0)                # the floor keeps it on the log axis
    assert list(fig.data[-1].y) == [1, 1] and fig.data[0].x[-1] == pytest.approx(0.1)
    with pytest.raises(ValueError, match="Invalid picks"):
        figures.step_ratio_figure(ratios, steps_per_epoch=10, picks={"x": 30}, title="t")
    with pytest.raises(ValueError, match="Invalid ratios"):
        figures.step_ratio_figure(ratios[0], steps_per_epoch=10, picks={}, title="t")


# ------------------------------------------------------------------ decay table

def test_decay_table_finds_the_best_and_the_largest_harmless_decay_with_their_products():
    lrs, wds = (0.001, 0.01), (0.0, 0.1, 1.0, 10.0)
    grid = np.array([[0.90, 0.90],
                     [0.91, 0.85],       # at α = 0.01, λ = 0.1 already hurts ...
                     [0.89, 0.95],       # ... so λ = 1 does not count as harmless, though it is fine
                     [0.50, 0.10]])
    text = tables.decay_table(lrs, wds, grid, reference=grid[0], tolerance=0.02, steps=100)
    first, second = (line.split() for line in text.splitlines()[1:])
    assert first == ["0.001", "0.1", "0.0001", "1", "0.001", "0.1"]
    assert second == ["0.01", "1", "0.01", "0", "0", "0"]
    assert len(tables.decay_table(lrs, wds, grid, reference=grid[0]).splitlines()[1].split()) == 5
    with pytest.raises(ValueError, match="Invalid grid"):
        tables.decay_table(lrs, wds, grid[:3], reference=grid[0])
    with pytest.raises(ValueError, match="tolerance"):
        tables.decay_table(lrs, wds, grid, reference=grid[0], tolerance=-1)


# ------------------------------------------------------------------ the chapter's tables

def test_momentum_edges_straddle_the_predicted_edge():
    text = tables.momentum_edges(10.0, (0.0, 0.9), steps=3000, width=0.02, points=400)
    for line in text.splitlines()[2:]:
        beta, predicted, shrinks, grows = map(float, line.split())
        assert predicted == pytest.approx(2 * (1 + beta) / 10)
        assert shrinks < predicted < grows and grows - shrinks < 1e-3 * predicted


def test_momentum_rates_are_sqrt_beta_in_the_complex_band_and_inf_past_the_edge():
    betas, products = np.array([0.0, 0.81]), np.array([0.5, 1.5, 3.0, 4.0])
    rates = analysis.momentum_rates(10.0, betas, products, steps=300)
    assert rates.shape == (4, 2)
    np.testing.assert_allclose(rates[1:3, 1], 0.9, atol=0.01)         # √β, whatever αλ in the band
    assert np.isinf(rates[2, 0]) and rates[3, 1] >= 1                  # past 2 for GD, past 3.62 for β = 0.81
    summary = tables.momentum_rate_summary(betas, products, rates, show=(0.81,), at=(1.5,))
    assert "converges up to αλ = 3.00 (predicted 3.62)" in summary and "0.900  (√β = 0.900)" in summary


def test_heavy_ball_table_beats_gradient_descent_at_the_predicted_rates():
    text = tables.heavy_ball_table(1.0, 100.0, [-2.0, 1.5])
    gd, hb = (line.split() for line in text.splitlines()[3:])     # under κ and the two header lines
    assert max(map(len, text.splitlines())) <= 72
    assert float(gd[-3]) == pytest.approx(0.980, abs=1e-3) and float(hb[-3]) == pytest.approx(0.818, abs=1e-3)
    assert int(hb[-1]) < int(gd[-1]) / 5
    with pytest.raises(ValueError, match="mu"):
        tables.heavy_ball_table(0.0, 100.0, [1.0, 1.0])


def test_constant_gradient_steps_and_table():
    steps = analysis.constant_gradient_steps(
        {"Adagrad": optim.adagrad(lr=0.1), "Adam": optim.adam(lr=0.1)}, [1e-3, 1.0, 1e3], lr=0.1, steps=100)
    assert steps["Adam"].shape == (100, 3)
    np.testing.assert_allclose(steps["Adam"], 1.0, rtol=1e-4)               # ε = 1e-8 against g = 1e-3
    np.testing.assert_allclose(steps["Adagrad"][:, 1], 1 / np.sqrt(np.arange(1, 101)), rtol=1e-6)
    text = tables.constant_gradient_table(steps, at=(1, 100))
    assert text.startswith("|Δθ|/α is the same for the 3 gradient sizes, to 0.1 %: True")
    assert text.splitlines()[-1].split() == ["100", "0.1", "1"]
    with pytest.raises(ValueError, match="lr"):
        analysis.constant_gradient_steps({"Adam": optim.adam()}, [1.0], lr=0.0, steps=3)


def test_bowl_table_and_adam_effective_rates():
    bowl = objectives.quadratic((1.0, 100.0))
    text = tables.bowl_table({"aligned": bowl}, [-2.0, 1.5], np.geomspace(1e-3, 1.0, 7),
                                     {"gradient descent": optim.sgd}, steps=100, tol=1e-3)
    row = text.splitlines()[2].split()
    assert row[:2] == ["gradient", "descent"] and float(row[2]) < 0.02 and row[-1] == "0"
    rates = analysis.adam_effective_rates(bowl, [-2.0, 1.5], lr=0.1, steps=100)
    assert rates[0] / rates[1] > 10                                     # the flat axis gets the larger rate


def test_sweeps_finals_and_range_tables():
    sweep = _sweep([0.1, 1.0], [[0.5, 0.7], [0.9, 0.9]])
    text = tables.sweeps_table({"SGD": sweep})
    assert text.splitlines()[1].split() == ["0.1", "0.600", "±", "0.141", "0✕"]   # sample std (ddof = 1)
    assert tables.finals_table({"SGD": sweep}, seed=1).splitlines()[1].split() == ["0.1", "0.7"]
    assert tables.range_table({"SGD": sweep}, 0.01).endswith("α from 1 to 1, 1 grid values, 0.00 decades")
    assert tables.range_table({"SGD": sweep}, 0.01).splitlines()[1].startswith(" " * 7 + "within 1%")


def test_layer_median_ratio_and_median_abs_weight():
    assert analysis.layer_median_ratio({"a": np.array([1.0, 2.0, 3.0]), "b": np.array([20.0])}) == 10
    with pytest.raises(ValueError, match="median is 0"):
        analysis.layer_median_ratio({"a": np.zeros(3), "b": np.ones(3)})
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-3.0, 1.0]]))
        model.bias.fill_(2.0)
    assert recording.median_abs_weight(model) == 2.0


def test_decay_rows_grid_table_and_summary():
    calls = []

    def fake_sweep(optimizer, weight_decay):
        calls.append((optimizer, weight_decay))
        return _sweep([0.01, 0.1], [[0.9 - weight_decay], [0.8 - weight_decay]])

    rows = analysis.decay_rows(fake_sweep, "adamw", [0.0, 0.1])
    np.testing.assert_allclose(rows, [[0.9, 0.8], [0.8, 0.7]])
    assert calls == [("adamw", 0.0), ("adamw", 0.1)]
    text = tables.grid_table({"AdamW": rows}, rows=[0.0, 0.1], columns=[0.01, 0.1])
    assert text.splitlines()[2].split() == ["AdamW", "λ", "=", "0.1", "0.800", "0.700"]
    summary = tables.decay_summary({"AdamW": rows}, [0.0, 0.1], rows[0], tolerance=0.02)
    assert "best λ at each α: 0, 0" in summary and "against λ = 0: 0\n" in summary
    with pytest.raises(ValueError, match="Invalid grids"):
        tables.grid_table({"AdamW": rows}, rows=[0.0], columns=[0.01, 0.1])
    with pytest.raises(ValueError, match="Invalid sweep"):
        analysis.decay_rows(3, "adam", [0.0])
