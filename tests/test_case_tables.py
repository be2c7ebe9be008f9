"""The analysis, tables and figure that the CNN and LSTM case studies print (results.analysis,
results.tables, figures.loss_panels), on small hand-made runs whose answers are known."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from lrcourse import figures
from lrcourse.results import analysis, tables
from lrcourse.results.history import History, Sweep


def _run(loss, metric, *, lr=0.1, diverged_at=None, metric_name="test accuracy"):
    loss, metric = np.asarray(loss, dtype=float), np.asarray(metric, dtype=float)
    per = max(1, len(loss) // len(metric))
    steps = np.minimum(np.arange(1, len(metric) + 1) * per, len(loss))
    return History(loss=loss, lrs=np.full(len(loss) - (diverged_at is not None), lr), metric=metric,
                   metric_steps=steps, metric_epochs=np.arange(1, len(metric) + 1, dtype=float),
                   diverged=diverged_at is not None, diverged_at=diverged_at,
                   diverged_loss=None if diverged_at is None else float(loss[-1]), seconds=0.0,
                   config={"lr": lr, "metric_name": metric_name})


def _sweep(runs, lrs, seeds=(0, 1), maximize=True, metric_name="test accuracy"):
    """``runs[i][j]`` is the History at lrs[i], seeds[j]."""
    histories = {(float(lr), seed): runs[i][j] for i, lr in enumerate(lrs) for j, seed in enumerate(seeds)}
    return Sweep(lrs=np.asarray(lrs, dtype=float), seeds=tuple(seeds), histories=histories, seconds=0.0,
                 batched=False, metric_name=metric_name, maximize=maximize)


@pytest.fixture
def accuracy_sweep():
    """α = 0.1 slow (never 0.95), 1 good (0.95 after epochs 2 and 3), 10 diverged in one seed."""
    flat = np.linspace(2.3, 2.2, 40)
    falling = np.linspace(2.3, 0.1, 40)
    runs = [[_run(flat, [0.2, 0.3, 0.4, 0.5]), _run(flat, [0.2, 0.3, 0.4, 0.6])],
            [_run(falling, [0.5, 0.95, 0.96, 0.97]), _run(falling, [0.5, 0.9, 0.95, 0.99])],
            [_run([2.3, 2.0, 60.0], [0.6, 0.1], lr=10, diverged_at=2), _run(flat, [0.3, 0.2, 0.1, 0.1], lr=10)]]
    return _sweep(runs, [0.1, 1.0, 10.0])


# ------------------------------------------------------------------ analysis

def test_epochs_to_reach():
    h = _run(np.ones(40), [0.5, 0.96, 0.97, 0.9])
    assert analysis.epochs_to_reach(h, 0.95) == 2
    assert analysis.epochs_to_reach(h, 0.99) is None
    assert analysis.epochs_to_reach(h, 0.6, maximize=False) == 1
    with pytest.raises(ValueError, match="Invalid target: -1"):
        analysis.epochs_to_reach(h, -1)


def test_lrs_reaching_keeps_every_value_that_reaches(accuracy_sweep):
    assert analysis.lrs_reaching(accuracy_sweep, 0.9).tolist() == [1.0]
    assert analysis.lrs_reaching(accuracy_sweep, 0.5).tolist() == [0.1, 1.0]
    assert analysis.lrs_reaching(accuracy_sweep, 0.999).size == 0


def test_loss_before_is_the_mean_over_the_window_and_the_seeds():
    a, b = _run(np.arange(10.0), [0.5]), _run(np.arange(10.0) + 2, [0.5])
    sweep = _sweep([[a, b]], [0.1])
    assert analysis.loss_before(sweep, 0.1, step=4, window=2) == pytest.approx(np.mean([2, 3, 4, 5]))
    with pytest.raises(ValueError, match="Invalid step: 1"):
        analysis.loss_before(sweep, 0.1, step=1, window=2)
    with pytest.raises(ValueError, match="Invalid step: 11"):
        analysis.loss_before(sweep, 0.1, step=11, window=2)


def test_steps_to_match_counts_the_whole_window():
    slow = _run(np.full(20, 1.0), [0.5])
    fast = _run(np.r_[np.full(5, 3.0), np.full(15, 0.5)], [0.5])
    sweep = _sweep([[slow], [fast]], [0.1, 1.0], seeds=(0,))
    # windows of 4 steps: any 3.0 in the window keeps its mean above 1, so the first one starts at step 5
    assert analysis.steps_to_match(sweep, 1.0, 0.1, seed=0, window=4) == 5 + 4
    assert analysis.steps_to_match(sweep, 0.1, 1.0, seed=0, window=4) is None


def test_words_and_real_word_share():
    known = analysis.words("The method attribute, the method again; a b cd")
    assert known == {"method", "attribute", "again"}
    assert analysis.real_word_share("method xqzv method attribute", known) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Invalid text"):
        analysis.real_word_share("a b c", known)
    with pytest.raises(ValueError, match="Invalid min_letters value: 0"):
        analysis.words("text", min_letters=0)


def test_context_gains_subtract_the_loss_with_all_real():
    gains = analysis.context_gains([[3.0, 2.5, 2.0], [4.0, 3.0, 3.0]])
    np.testing.assert_allclose(gains, [[1.0, 0.5], [1.0, 0.0]])
    with pytest.raises(ValueError, match="Invalid losses"):
        analysis.context_gains([1.0, 2.0])


# ------------------------------------------------------------------ tables

def test_runs_table_gives_epochs_and_divergence_steps(accuracy_sweep):
    lines = tables.runs_table(accuracy_sweep, target=0.95).splitlines()
    assert lines[0].split() == ["α", "test", "accuracy", "epochs", "to", "0.95", "diverged"]
    assert lines[2].split() == ["1", "0.980", "±", "0.014", "2", "3", "0/2"]
    assert lines[3].split()[-2:] == ["1/2:", "2"]
    assert "–" in lines[1] and all(len(line) <= 72 for line in lines)
    perplexity = _sweep([[_run([4.6, 50.0], [math.inf], diverged_at=1)] * 2], [100.0], maximize=False)
    assert tables.runs_table(perplexity, mean_format=".4g").splitlines()[1].split() == ["100", "–", "2/2:", "1,", "1"]
    with pytest.raises(ValueError, match="Invalid lrs: 3"):
        tables.runs_table(accuracy_sweep, lrs=[3])


def test_outcome_table_marks_diverged_runs(accuracy_sweep):
    lines = tables.outcome_table(accuracy_sweep).splitlines()
    assert lines[0].split() == ["α", "seed", "0", "seed", "1"]
    assert lines[3].split() == ["10", "✕", "2", "(had", "0.600)", "0.100"]
    assert tables.outcome_table(accuracy_sweep, lrs=[10], had=False).splitlines()[1].split() == ["10", "✕", "2", "0.100"]


def test_step_trade_table(accuracy_sweep):
    lines = tables.step_trade_table(accuracy_sweep, [0.1], steps=40, factor=10, window=4).splitlines()
    assert lines[0].split()[:4] == ["α", "loss", "after", "40"]
    falling = np.linspace(2.3, 0.1, 40)
    assert lines[1].split() == ["0.1", "2.20", f"{np.mean(falling[:4]):.2f}"]
    with pytest.raises(ValueError, match="Invalid factor: 3"):
        tables.step_trade_table(accuracy_sweep, [0.1], steps=40, factor=3)


def test_target_range_and_cliff_tables(accuracy_sweep):
    lines = tables.target_range_table({"SGD": accuracy_sweep}, target=0.5).splitlines()
    assert "mean ≥ 0.5" in lines[0]
    assert lines[1].split() == ["SGD", "0.1", "to", "1", "2", "(×10)", "1", "(0.980)"]
    cliff = tables.cliff_table({"SGD": accuracy_sweep}).splitlines()
    assert cliff[1].split() == ["SGD", "1", "(0.980)", "10", "(0.100)"]
    with pytest.raises(ValueError, match="Invalid sweeps"):
        tables.cliff_table({})


def test_run_report_firing_and_input_tables(accuracy_sweep):
    report = tables.run_report({"α = 10, seed 1": accuracy_sweep[10, 1]}, last=4).splitlines()
    assert report[0] == "α = 10, seed 1: never diverged, final test accuracy 0.100"
    assert report[2] == "    by epoch: 0.30 0.20 0.10 0.10"
    firing = tables.firing_table({"dead": (0.096, 1, [9, 0])}, channels=(16, 32)).splitlines()
    assert firing[1].split() == ["dead", "0.096", "1", "9/16", "0/32"]
    with pytest.raises(ValueError, match="Invalid runs"):
        tables.firing_table({"dead": (0.096, 1, [9])}, channels=(16, 32))
    data = SimpleNamespace(name="pixels", x_train=np.array([0.0, 2.0]), scale=lambda x: 10 * x)
    assert tables.input_table([data]).splitlines()[1].split() == ["pixels", "0.00", "20.00", "10.00", "10.00"]


def test_early_losses_and_match_tables(accuracy_sweep):
    lines = tables.early_losses_table(accuracy_sweep, [10], steps=4).splitlines()
    assert lines[0] == "training loss at steps 0–3"
    assert lines[2].split() == ["10", "0", "2.3", "2.0", "60.0", "✕", "at", "step", "2"]
    assert lines[3].split()[-4:] == ["peak", "2.3,", "final", "0.1"]
    match = tables.match_table(accuracy_sweep, [(1, 0.1)], window=4).splitlines()
    assert match[0].endswith("at step (seeds 0, 1)") and match[1].split()[:2] == ["1", "0.1"]


def test_samples_report_and_context_table():
    report = tables.samples_report({"α = 1": "method xqzv\nmethod attribute"}, {"method", "attribute"},
                                   prompt="The ", chars=11, reference=("real", "method")).splitlines()
    assert report == ["── α = 1: 75% of the words of 4+ letters are real", "The method xqzv", "",
                      "for comparison, real: 100%"]
    gains = {"a": np.array([[0.1, -0.0001], [0.2, 0.0]]), "b": np.zeros((2, 2))}
    lines = tables.context_table(gains, (1, 2), per_seed_at=2).splitlines()
    assert lines[2].split() == ["a", "0.150", "0.000"]
    assert lines[-2:] == ["  a: -0.000, 0.000", "  b: 0.000, 0.000"]
    with pytest.raises(ValueError, match="Invalid per_seed_at: 4"):
        tables.context_table(gains, (1, 2), per_seed_at=4)


def test_paired_runs_and_epoch_tables(accuracy_sweep):
    runs = [accuracy_sweep[1, 0], accuracy_sweep[1, 1]]
    lines = tables.paired_runs_table({"α = 1": runs}, seeds=(0, 1), fmt=".2f").splitlines()
    assert lines[1].split() == ["0", "0.97", "at", "step", "40"]
    with pytest.raises(ValueError, match="Invalid columns"):
        tables.paired_runs_table({"α = 1": runs[:1]}, seeds=(0, 1))
    epochs = tables.epoch_table({"α = 1": accuracy_sweep[1, 0]}).splitlines()
    assert epochs[0].strip() == "α = 1"
    assert epochs[2].split() == ["1", f"{np.mean(np.linspace(2.3, 0.1, 40)[:10]):.3f}", "0.500"]
    with pytest.raises(ValueError, match="different steps"):
        tables.epoch_table({"a": accuracy_sweep[1, 0], "b": accuracy_sweep[10, 0]})


# ------------------------------------------------------------------ figure

def test_loss_panels_draws_one_panel_per_lr(accuracy_sweep):
    fig = figures.loss_panels({"a": accuracy_sweep, "b": accuracy_sweep}, [0.1, 1.0],
                              title="Loss, with and without", y_range=(1, 100))
    assert fig.layout.title.text == "Loss, with and without"
    assert len(fig.data) == 4 and [t.showlegend for t in fig.data] == [True, True, False, False]
    assert fig.layout.xaxis.title.text == "step" and fig.layout.yaxis.title.text == "training loss"
    assert list(fig.layout.yaxis.range) == [0.0, 2.0]
    with pytest.raises(ValueError, match="Invalid title"):
        figures.loss_panels({"a": accuracy_sweep}, [0.1], title="")
    with pytest.raises(ValueError, match="Invalid lrs"):
        figures.loss_panels({"a": accuracy_sweep}, [], title="t")


def test_a_history_repr_fits_a_phone():
    """A long repr wraps at 72 characters (a phone's width), keeping every number; a short one stays one line."""
    short = _run([1.0, 0.5], [0.9], lr=1.0)
    assert repr(short) == "History(lr=1.0: 2 steps, final test accuracy 0.9)"
    long = _run([1.0, 32.0], [0.1], lr=6.1359072734131725, diverged_at=1)
    lines = repr(long).splitlines()
    assert len(lines) == 2 and max(map(len, lines)) <= 72 and lines[1].startswith(" " * 8)
    assert " ".join(line.strip() for line in lines) == \
        "History(lr=6.1359072734131725: diverged at step 1 (loss 32), final test accuracy 0.1)"
