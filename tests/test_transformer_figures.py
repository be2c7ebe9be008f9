"""The transformer chapter's tables, analysis and figures, on small hand-made runs (no training)."""

import math

import numpy as np
import pytest

from lrcourse import figures
from lrcourse.results import analysis, tables
from lrcourse.results.history import History, Sweep


def run(final, loss=(3.0, 2.0, 1.0), lr=1e-3, seed=0, **config):
    loss = np.asarray(loss, dtype=float)
    return History(loss=loss, lrs=np.full(len(loss), lr), metric=np.array([final]),
                   metric_steps=np.array([len(loss)]), metric_epochs=np.array([1.0]), diverged=False,
                   diverged_at=None, diverged_loss=None, seconds=0.0, config={"lr": lr, "seed": seed, **config})


def one_lr_sweep(finals, lr=1e-2):
    return Sweep(lrs=np.array([lr]), seeds=tuple(range(len(finals))),
                 histories={(lr, s): run(f, lr=lr, seed=s) for s, f in enumerate(finals)},
                 seconds=0.0, batched=True, metric_name="bits", maximize=False)


def test_unigram_bits_is_the_entropy_of_the_frequencies():
    train = np.array([0, 0, 1, 1])                         # smoothed: p = 3/6 each
    assert analysis.unigram_bits(train, [0, 1, 1]) == pytest.approx(1.0)
    skewed = np.array([0] * 98)                            # p(0) = 99/100, p(1) = 1/100
    assert analysis.unigram_bits(skewed, [1]) == pytest.approx(-math.log2(1 / 100))
    with pytest.raises(ValueError, match="Invalid ids"):
        analysis.unigram_bits([], [1])


def test_same_until_finds_the_first_different_step():
    a, b = run(1, loss=(3, 2, 1, 0.5)), run(1, loss=(3, 2, 1.5, 0.5))
    assert analysis.same_until(a, b) == 2
    assert analysis.same_until(a, run(1, loss=(3, 2))) == 2          # never differ: the shorter length
    assert analysis.same_until(a, run(1, loss=(4, 2, 1, 0.5))) == 0


def test_finetune_summary_and_table():
    runs = [run(3.0, old_before=4.0, old_after=4.2), run(3.2, old_before=4.0, old_after=4.4)]
    s = analysis.finetune_summary(runs)
    assert s["new"] == pytest.approx((3.1, math.sqrt(0.02)))
    assert s["forgetting"][0] == pytest.approx(0.3)
    text = tables.finetune_table({"α = 0.001": runs})
    assert "α = 0.001" in text and "3.10 ± 0.14" in text and "+0.300" in text
    with pytest.raises(ValueError, match="Invalid runs"):
        analysis.finetune_summary([run(3.0)])


def test_decay_product_table_sorts_by_the_product():
    lrs, wds = [1e-3, 1e-2], [1.0, 10.0]
    grid = np.array([[4.0, 4.5], [5.0, 6.0]])
    text = tables.decay_product_table(lrs, wds, grid, [3.9, 4.4], steps=100)
    lines = text.splitlines()
    assert lines[0].split() == ["α", "λ", "α·λ", "α·λ·T", "final", "vs", "λ", "=", "0"]
    products = [float(line.split()[2]) for line in lines[1:]]
    assert products == sorted(products) == [0.001, 0.01, 0.01, 0.1]
    assert lines[-1].split()[-1] == "+1.60" and lines[-1].split()[3] == "10"
    with pytest.raises(ValueError, match="Invalid grid"):
        tables.decay_product_table(lrs, wds, grid[:1], [3.9, 4.4], steps=100)


def test_budget_table_compares_and_counts_the_steps():
    cosine = {50: one_lr_sweep([5.0, 5.2]), 100: one_lr_sweep([4.0, 4.2])}
    wsd = {50: one_lr_sweep([4.9, 5.1]), 100: one_lr_sweep([4.1, 4.3])}
    text = tables.budget_table(cosine, wsd, decay_steps={50: 10, 100: 20})
    assert "-0.100" in text and "+0.100" in text
    assert text.splitlines()[-1] == "steps for all 2 budgets: cosine 150, WSD 110"
    with pytest.raises(ValueError, match="Invalid budgets"):
        tables.budget_table(cosine, {50: wsd[50]}, decay_steps={50: 10})


def test_curves_explorer_slides_over_measured_runs():
    curves = {0: {"loss": [3, 2, 1]}, 10: {"loss": [3, 2.5, 1.5]}, 5: {"loss": [3, 2.2, 1.2]}}
    explorer = figures.curves_explorer(curves, label="warmup W", title="Loss", x_title="step",
                                       y_title="loss", notes={10: "final 1.5"})
    assert list(explorer.values) == [0, 5, 10] and explorer.grid_only
    fig = explorer.static_figure()
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == ["0", "5", "10"]
    assert steps[2].args[0]["y"] == [[3, 2.5, 1.5]] and "final 1.5" in steps[2].args[1]["title.text"]
    assert fig.data[0].line.dash == "dash" and list(fig.data[0].y) == [3, 2, 1]   # the reference stays
    assert fig.layout.xaxis.title.text == "step" and fig.layout.yaxis.title.text == "loss"
    with pytest.raises(ValueError, match="same named curves"):
        figures.curves_explorer({0: {"a": [1]}, 1: {"b": [1]}}, label="W", title="t", x_title="x", y_title="y")
    with pytest.raises(ValueError, match="Invalid title"):
        figures.curves_explorer(curves, label="W", title="", x_title="x", y_title="y")


def test_tradeoff_figure_places_each_setting():
    fig = figures.tradeoff_figure({"a": ((3.0, 0.1), (4.2, 0.0)), "b": (3.5, 4.0)}, title="Trade-off",
                                  x_title="new", y_title="old")
    assert [t.name for t in fig.data] == ["a", "b"] and fig.data[0].x == (3.0,) and fig.data[1].y == (4.0,)
    assert fig.data[0].error_x.visible and not fig.data[1].error_x.visible
    assert fig.layout.title.text == "Trade-off" and fig.layout.xaxis.title.text == "new"
    with pytest.raises(ValueError, match="Invalid points"):
        figures.tradeoff_figure({}, title="t", x_title="x", y_title="y")


def test_heatmaps_outline_the_lowest_cell_for_a_loss():
    grid = np.array([[1.0, 2.0], [3.0, 0.5]])
    high = figures.heatmaps({"g": grid}, x=[1, 2], y=[1, 2], x_title="α", y_title="λ", title="t", z_title="z")
    low = figures.heatmaps({"g": grid}, x=[1, 2], y=[1, 2], x_title="α", y_title="λ", title="t", z_title="z",
                           lower_is_better=True)
    assert (high.layout.shapes[0].x0, high.layout.shapes[0].y0) == (-0.5, 0.5)      # 3.0 at row 1, column 0
    assert (low.layout.shapes[0].x0, low.layout.shapes[0].y0) == (0.5, 0.5)         # 0.5 at row 1, column 1


def test_recipes_table_cites_each_source_and_fits_a_phone():
    text = tables.recipes_table()
    lines = text.splitlines()
    assert len(lines) == len(tables.PUBLISHED_RECIPES) + 1 and max(map(len, lines)) <= 72
    assert "BERT fine-tuning (Devlin 2019)" in text and "2e-5" in text and "cosine to 10 %" in text
    assert tables.recipes_table([("a", "b")]).splitlines()[1].split() == ["a", "b"]
