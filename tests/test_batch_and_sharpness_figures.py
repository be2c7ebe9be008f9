"""Batch size and sharpness: tables, the batch-size explorer, the sharpness figure."""

import math

import numpy as np
import pytest


from lrcourse.engine import History, Sweep
from lrcourse import figures
from lrcourse.core import schedules
from lrcourse.results import analysis
from lrcourse.results import tables
from conftest import figure_json

LRS = 2.0 ** np.arange(-3, 3)          # 0.125 … 4


def _history(final, diverged_at=None, steps=100, lr=0.1, sharpness=None):
    n = steps if diverged_at is None else diverged_at + 1
    loss = np.linspace(2.3, 0.1, n)
    logs = {} if sharpness is None else {"sharpness": np.asarray(sharpness, dtype=float)}
    return History(loss=loss, lrs=np.full(n - (diverged_at is not None), lr), metric=np.array([final]),
                   metric_steps=np.array([n]), metric_epochs=np.array([10.0]),
                   diverged=diverged_at is not None, diverged_at=diverged_at,
                   diverged_loss=None if diverged_at is None else 50.0, seconds=0.0,
                   config={"metric_name": "test accuracy", "steps": steps, "lr": lr}, logs=logs)


def _sweep(means, steps=100, diverged=()):
    """Two seeds at ±0.01 around each mean; `diverged` lists grid indices where seed 1 diverged."""
    histories = {}
    for i, (lr, m) in enumerate(zip(LRS, means)):
        histories[(float(lr), 0)] = _history(m - 0.01, steps=steps)
        histories[(float(lr), 1)] = _history(m + 0.01, diverged_at=5 if i in diverged else None, steps=steps)
    return Sweep(lrs=LRS.copy(), seeds=(0, 1), histories=histories, seconds=0.0, batched=True,
                 metric_name="test accuracy")


@pytest.fixture
def sweeps():
    # The linear rule holds from 16 to 32 (the curve moves one grid step), the cliff stays at α = 2.
    return {16: _sweep([0.90, 0.96, 0.97, 0.97, 0.10, 0.10], steps=200, diverged=(4, 5)),
            32: _sweep([0.80, 0.90, 0.96, 0.97, 0.10, 0.10], steps=100, diverged=(4, 5)),
            64: _sweep([0.60, 0.80, 0.90, 0.93, 0.20, 0.10], steps=50, diverged=(4, 5))}


# ------------------------------------------------------------------ one sweep

def test_lowest_lr_reaching_and_cliff(sweeps):
    assert analysis.lowest_lr_reaching(sweeps[16], 0.95) == 0.25
    assert analysis.lowest_lr_reaching(sweeps[32], 0.95) == 0.5
    assert math.isnan(analysis.lowest_lr_reaching(sweeps[64], 0.95))
    assert analysis.cliff(sweeps[16]) == 2.0 and analysis.cliff(sweeps[64]) == 2.0
    assert math.isnan(analysis.cliff(_sweep([0.5, 0.6, 0.7, 0.8, 0.9, 0.95])))
    with pytest.raises(ValueError, match="Invalid target: -1"):
        analysis.lowest_lr_reaching(sweeps[16], -1)
    with pytest.raises(ValueError, match="Invalid below: 0"):
        analysis.cliff(sweeps[16], below=0)


# ------------------------------------------------------------------ tables

def test_batch_size_table(sweeps):
    lines = tables.batch_size_table(sweeps, target=0.95).splitlines()
    assert len(lines) == 4 and "cliff" in lines[0] and max(map(len, lines)) <= 72  # fits a phone
    assert lines[1].split() == ["16", "200", "0.5", "(0.970)", "0.5–1", "0.25", "2"]
    assert lines[3].split() == ["64", "50", "1", "(0.930)", "1", "–", "2"]


def test_scaling_table_rows_are_constant_when_the_rule_holds(sweeps):
    lines = tables.scaling_table(sweeps, [1 / 128, 1 / 64, 1 / 32]).splitlines()
    assert lines[0].split() == ["α/B", "B", "=", "16", "B", "=", "32", "B", "=", "64"]
    # α/B = 1/128: α = 0.125, 0.25, 0.5
    assert lines[1].split() == ["1/128", "0.900", "0.900", "0.900"]
    # α/B = 1/32: α = 0.5, 1, 2 — the last one is past the cliff, with a run diverged
    assert lines[3].split() == ["1/32", "0.970", "0.970", "0.200✕1"]


def test_scaling_table_sqrt_keeps_only_batch_sizes_on_the_grid(sweeps):
    text = tables.scaling_table(sweeps, [1 / 32, 1 / 16], rule="sqrt")
    lines = text.splitlines()
    assert "B = 32" not in text and lines[0].split()[0] == "α/√B"
    assert lines[1].split() == ["1/32", "0.900", "0.800"]      # α = 0.125 at 16, 0.25 at 64
    assert lines[2].split() == ["1/16", "0.960", "0.900"]


def test_scaling_table_marks_alpha_off_the_grid(sweeps):
    lines = tables.scaling_table(sweeps, [1 / 512, 1 / 128]).splitlines()
    assert lines[1].split() == ["1/512", "·", "·", "0.600"]        # α = 1/32 and 1/16 are not on the grid
    only = tables.scaling_table(sweeps, [1 / 512]).splitlines()
    assert only[0].split() == ["α/B", "B", "=", "64"]             # columns without a value are left out


def test_bad_sweeps(sweeps):
    with pytest.raises(ValueError, match="Invalid sweeps"):
        tables.batch_size_table({16: sweeps[16]})
    with pytest.raises(ValueError, match="increasing order"):
        tables.batch_size_table({32: sweeps[32], 16: sweeps[16]})
    other = Sweep(lrs=LRS[:3].copy(), seeds=(0,), histories={(float(lr), 0): _history(0.5) for lr in LRS[:3]},
                  seconds=0.0, batched=True)
    with pytest.raises(ValueError, match="another grid"):
        tables.batch_size_table({16: sweeps[16], 32: other})
    with pytest.raises(ValueError, match="Invalid rule: 'cubic'"):
        tables.scaling_table(sweeps, [1 / 64], rule="cubic")
    with pytest.raises(ValueError, match="Invalid ratios"):
        tables.scaling_table(sweeps, [-1.0])
    with pytest.raises(ValueError, match="Invalid ratios"):
        tables.scaling_table(sweeps, [1e-9], rule="sqrt")


# ------------------------------------------------------------------ explorer

def test_explorer_static_steps_draw_each_batch_size(sweeps):
    explorer = figures.batch_size_explorer(sweeps, value=32)
    data, layout = figure_json(explorer.to_html())
    steps = layout["sliders"][0]["steps"]
    assert [s["label"] for s in steps] == ["16", "32", "64"]
    assert layout["sliders"][0]["active"] == 1
    for step, b in zip(steps, (16, 32, 64)):
        x, y = step["args"][0]["x"], step["args"][0]["y"]       # traces: linear, √B, measured, diverged
        np.testing.assert_allclose(x[0], LRS * b / 16, rtol=1e-4)                 # B = 16 moved ×B/16
        np.testing.assert_allclose(x[1], LRS * math.sqrt(b / 16), rtol=1e-4)      # and ×√(B/16)
        np.testing.assert_allclose(y[0], sweeps[16].summary()["mean"], rtol=1e-4)
        np.testing.assert_allclose(y[2], sweeps[b].summary()["mean"], rtol=1e-4)
        assert len(x[3]) == int(np.sum(sweeps[b].summary()["diverged"] > 0))
        assert f"B = {b}: {sweeps[b].grid[0, 0].config['steps']} steps" in step["args"][1]["title.text"]
    # the linear rule's prediction from B = 16 (best α 0.5) at B = 64: 2; the √B rule's: 1
    assert "linear rule 2, √B rule 1" in steps[2]["args"][1]["title.text"]
    assert explorer.label == "batch size B" and explorer.grid_only
    with pytest.raises(ValueError, match="Invalid reference: 8"):
        figures.batch_size_explorer(sweeps, reference=8)


# ------------------------------------------------------------------ sharpness figure

def test_sharpness_figure_draws_the_runs_and_their_edges_and_leaves_out_diverged_ones():
    ok = _history(0.9, steps=100, lr=0.1, sharpness=np.where(np.arange(100) % 10 == 0, 15.0, np.nan))
    blown = _history(0.1, diverged_at=7, lr=0.5, sharpness=np.r_[11.0, np.full(7, np.nan)])
    fig = figures.sharpness_figure([ok, blown], title="EoS")
    names = [t.name for t in fig.data]
    assert names == ["λ_max at α = 0.1", "2/α = 20", "loss at α = 0.1"]
    assert list(fig.data[0].x) == list(range(0, 100, 10)) and set(fig.data[0].y) == {15.0}
    assert list(fig.data[1].y) == [20.0, 20.0]
    assert "not drawn: α = 0.5 diverged at step 7" in fig.layout.title.text
    assert fig.layout.yaxis2.type == "log"


def test_sharpness_figure_bad_input():
    with pytest.raises(ValueError, match="Invalid histories"):
        figures.sharpness_figure([], title="x")
    with pytest.raises(ValueError, match="logs\\['sharpness'\\]"):
        figures.sharpness_figure([_history(0.9)], title="x")
    with pytest.raises(ValueError, match="Invalid loss_stride value: 0"):
        figures.sharpness_figure([_history(0.9, sharpness=[1.0])], title="x", loss_stride=0)


# ------------------------------------------------------------------ protocol, limits, warmup

def _seeds(lr_finals, steps=100, epochs=10):
    """A sweep over the grid of `lr_finals` ({α: [final per seed, None for a divergence]})."""
    lrs = np.asarray(sorted(lr_finals), dtype=float)
    seeds = tuple(range(len(next(iter(lr_finals.values())))))
    histories = {}
    for lr in lrs:
        for seed, final in enumerate(lr_finals[lr]):
            h = _history(math.nan if final is None else final, diverged_at=5 if final is None else None,
                         steps=steps, lr=float(lr))
            h.config["epochs"] = epochs
            histories[(float(lr), seed)] = h
    return Sweep(lrs=lrs, seeds=seeds, histories=histories, seconds=0.0, batched=True,
                 metric_name="test accuracy")


def test_examples_table_counts_steps_times_batch():
    sweeps = {16: _seeds({1.0: [0.9]}, steps=842), 512: _seeds({1.0: [0.9]}, steps=20)}
    table = tables.examples_table(sweeps, n_train=1347)
    assert table.splitlines()[0] == "10 epochs × 1,347 images = 13,470 example gradients per run"
    assert "13,472" in table and "+0.0%" in table          # 842 × 16 against 10 × 1,347
    assert "10,240" in table and "-24.0%" in table         # 20 × 512: the last batches dropped
    with pytest.raises(ValueError, match="Invalid n_train value: 0"):
        tables.examples_table(sweeps, n_train=0)
    mixed = {16: _seeds({1.0: [0.9]}, steps=842), 512: _seeds({1.0: [0.9]}, steps=80, epochs=40)}
    with pytest.raises(ValueError, match="Invalid sweeps: epochs"):
        tables.examples_table(mixed, n_train=1347)


def test_stability_limit_and_trained_table():
    small = _seeds({0.5: [0.98, 0.97], 1.0: [0.96, None], 2.0: [None, None]})
    large = _seeds({0.5: [0.95, 0.96], 1.0: [0.97, 0.96], 2.0: [0.40, 0.9]})
    assert analysis.stability_limit(small) == 0.5
    assert analysis.stability_limit(large) == 1.0
    assert analysis.stability_limit(large, below=0.3) == 2.0
    assert math.isnan(analysis.stability_limit(_seeds({1.0: [None, None], 2.0: [None, None]})))
    table = tables.trained_table({16: small, 64: large})
    rows = table.splitlines()
    assert rows[1].split() == ["16", "2/2", "1/2", "0/2", "0.5"]
    assert rows[2].split() == ["64", "2/2", "2/2", "1/2", "1"]


def test_end_sharpness_table():
    hs = {16: _history(0.98, lr=1.0), 512: _history(0.88, lr=1.0)}
    table = tables.end_sharpness_table(hs, {16: 0.064, 512: 3.33})
    assert table.splitlines()[1].split() == ["16", "1", "0.980", "0.064", "31.2"]
    assert table.splitlines()[2].split() == ["512", "1", "0.880", "3.33", "0.601"]
    with pytest.raises(ValueError, match="Invalid histories"):
        tables.end_sharpness_table(hs, {16: 1.0})


def test_warmup_constant_rises_then_holds():
    schedule = schedules.warmup_constant(4, 10)(2.0)
    alphas = schedule(np.arange(10))
    assert np.all(np.diff(alphas[:5]) > 0) and alphas[0] < 2.0
    np.testing.assert_allclose(alphas[4:], 2.0)
    np.testing.assert_allclose(schedules.warmup_constant(0, 10)(2.0)(np.arange(10)), 2.0)
    with pytest.raises(ValueError, match="Invalid warmup_steps value: -1"):
        schedules.warmup_constant(-1, 10)
    with pytest.raises(ValueError, match="Invalid warmup_steps value: 11"):
        schedules.warmup_constant(11, 10)


def test_warmup_table_lists_each_seed_and_where_it_diverged():
    sweep = _seeds({2.0: [0.95, None, 0.9], 4.0: [None, None, None]})
    table = tables.warmup_table({(128, 5): sweep})
    rows = table.splitlines()
    assert rows[0].endswith("α(t) at divergence") and max(map(len, rows)) <= 72
    assert rows[1].split()[:7] == ["128", "5", "ep", "2", "0.950", "✕", "at"]
    assert "2/3" in rows[1] and rows[1].rstrip().endswith("2.00")     # α(t): the last lr before the divergence
    assert "0/3" in rows[2]
    with pytest.raises(ValueError, match="Invalid runs"):
        tables.warmup_table({})


def test_metric_table_marks_divergences():
    a = _seeds({0.001: [0.9, 0.92], 0.01: [0.96, None]})
    b = _seeds({0.001: [0.5, 0.6], 0.01: [None, None]})
    rows = tables.metric_table({32: a, 512: b}).splitlines()
    assert rows[1].split() == ["0.001", "0.910", "0.550"]
    assert rows[2].split() == ["0.01", "0.960✕1", "diverged"]


# ------------------------------------------------------------------ edge-of-stability tables

def _eos_run(lr, lam, converged=None, loss=None, diverged_at=None):
    lam = np.asarray(lam, dtype=float)
    h = _history(0.97, steps=len(lam), lr=lr, sharpness=lam, diverged_at=diverged_at)
    if converged is not None:
        h.logs["converged"] = np.asarray(converged, dtype=float)
    if loss is not None:
        object.__setattr__(h, "loss", np.asarray(loss, dtype=float))
    return h


def test_unconverged_sharpness_values_are_left_out():
    lam = [10.0, np.nan, 12.0, np.nan, 19.0, np.nan, 20.5]
    h = _eos_run(0.1, lam, converged=[1, np.nan, 1, np.nan, 0, np.nan, 1])
    assert analysis.first_reach(h) == 6                  # the unconverged 19.0 at step 4 is skipped
    assert analysis.plateau(h) == pytest.approx((12.0 + 20.5) / 2)
    row = tables.edge_table([h]).splitlines()[2]     # under the two header lines
    assert row.split()[-1] == "3/4"
    assert analysis.first_reach(_eos_run(0.1, lam)) == 4   # without the flags, every value counts


def test_edge_table_loss_rises_budget_and_final_tables():
    loss = np.r_[np.linspace(1.0, 0.5, 6), [0.6, 0.4, 0.45, 0.3]]
    lam = [10.0, np.nan, 16.0, np.nan, 19.5, np.nan, 20.1, np.nan, 20.0, np.nan]
    h = _eos_run(0.1, lam, converged=[1, np.nan] * 5, loss=loss)
    blown = _eos_run(0.5, [11.0, np.nan, np.nan], converged=[1, np.nan, np.nan], diverged_at=2)
    edge = tables.edge_table([blown, h]).splitlines()
    assert edge[2].split()[:6] == ["0.1", "20.00", "10.00", "4", "20.00", "1.000"]   # median of 19.5, 20.1, 20.0
    assert "diverged at step 2" in edge[3] and "not plotted" in edge[4]
    assert max(map(len, edge)) <= 72                                                 # fits a phone
    rises = tables.loss_rise_table([h, blown]).splitlines()
    assert rises[2].split() == ["0.1", "0.0%", "40.0%"]          # steps 4→5 … 8→9: 2 rises of 5
    assert len(rises) == 3                                       # the diverged run has no row
    budget = tables.equal_budget_table([h], budgets=[0.2, 0.5]).splitlines()
    assert budget[1].split()[-3:] == [f"{loss[2]:.4f}", f"{loss[5]:.4f}", f"{loss[-1]:.4f}"]
    with pytest.raises(ValueError, match="past the end of the run"):
        tables.equal_budget_table([h], budgets=[5.0])
    final = tables.final_table([h, blown]).splitlines()
    assert final[1].split() == ["0.1", "0.3000", "20.0", "8", "20", "0.970"]
    assert "diverged at step 2" in final[2]
