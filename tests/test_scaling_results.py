"""Analysis, tables and the figure of the chapter on scaling the learning rate (width, batch, noise)."""

import math

import numpy as np
import pytest

from lrcourse import figures
from lrcourse.core import objectives, scaling
from lrcourse.results import analysis, tables
from lrcourse.results.history import History, Sweep


def _run(loss, *, lr, metric=0.9, diverged_at=None, logs=None, weight_decay=None):
    loss = np.asarray(loss, dtype=float)
    kwargs = {} if weight_decay is None else {"weight_decay": weight_decay}
    return History(loss=loss, lrs=np.full(len(loss), lr), metric=np.array([metric]), metric_steps=np.array([len(loss)]),
                   metric_epochs=np.array([1.0]), diverged=diverged_at is not None, diverged_at=diverged_at,
                   diverged_loss=None, seconds=0.0, config={"lr": lr, "optimizer_kwargs": kwargs},
                   logs=logs or {})


def _sweep(lrs, losses, metrics=None, diverged=()):
    """One seed; ``losses[i]`` the constant loss of the run at lrs[i]."""
    metrics = metrics or [0.9] * len(lrs)
    histories = {(float(lr), 0): _run([9.0] * 5 + [loss] * 10, lr=lr, metric=m,
                                      diverged_at=3 if lr in diverged else None)
                 for lr, loss, m in zip(lrs, losses, metrics)}
    return Sweep(lrs=np.asarray(lrs, dtype=float), seeds=(0,), histories=histories, seconds=0.0, batched=False)


@pytest.fixture
def panels():
    lrs = [0.001, 0.002, 0.004, 0.008]
    sp = {64: _sweep(lrs, [0.5, 0.3, 0.1, 0.2]), 128: _sweep(lrs, [0.3, 0.2, 0.25, 0.4], diverged=(0.008,))}
    mup = {64: _sweep(lrs, [0.5, 0.3, 0.1, 0.2]), 128: _sweep(lrs, [0.4, 0.2, 0.08, 0.3])}
    return {"SP": sp, "μP": mup}


def test_final_losses_and_best_lr(panels):
    losses = analysis.final_losses(panels["SP"][128], last=10)
    assert np.allclose(losses[:3], [0.3, 0.2, 0.25]) and math.isnan(losses[3])       # diverged: NaN
    assert analysis.best_lr_by_loss(panels["SP"][128]) == (0.002, pytest.approx(0.2))
    assert analysis.final_losses(panels["SP"][64], last=15)[0] == pytest.approx((5 * 9 + 10 * 0.5) / 15)
    with pytest.raises(ValueError, match="last"):
        analysis.final_losses(panels["SP"][64], last=0)


def test_width_table_reports_the_drift(panels):
    text = tables.width_table(panels)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["width", "SP", "best", "α"]
    assert lines[1].split() == ["64", "0.004", "0.100", "×1", "0.004", "0.100", "×1"]
    assert lines[2].split() == ["128", "0.002", "0.200", "×1/2", "0.004", "0.080", "×1"]
    with pytest.raises(ValueError, match="panels"):
        tables.width_table({"SP": panels["SP"], "μP": {64: panels["μP"][64]}})


def test_width_figure_has_a_panel_per_parametrization(panels):
    fig = figures.width_figure(panels, title="widths")
    assert fig.layout.title.text == "widths"
    assert fig.layout.xaxis.title.text.startswith("learning rate") and fig.layout.yaxis.title.text
    curves = [t for t in fig.data if t.mode == "lines+markers"]
    assert len(curves) == 4 and {t.xaxis for t in curves} == {"x", "x2"}
    stars = [t for t in fig.data if t.mode == "markers"]
    assert [s.x[0] for s in stars] == [0.004, 0.002, 0.004, 0.004]
    with pytest.raises(ValueError, match="panels"):
        figures.width_figure({}, title="none")


def _batch_sweeps():
    # α = r·B on the grid; accuracy flat up to B = 64, then drops at B = 128
    grid = [0.125, 0.25, 0.5, 1.0]
    acc = {32: [0.97, 0.98, 0.9, 0.8], 64: [0.9, 0.975, 0.97, 0.5], 128: [0.8, 0.9, 0.9, 0.5]}
    return {b: _sweep(grid, [0.1] * 4, metrics=acc[b]) for b in acc}


def test_scaling_holds_up_to():
    sweeps = _batch_sweeps()
    assert analysis.scaling_holds_up_to(sweeps, 1 / 256) == 64
    assert analysis.scaling_holds_up_to(sweeps, 1 / 128) == 32            # 0.98 → 0.97 → 0.5
    assert analysis.scaling_holds_up_to(sweeps, 1 / 128, tolerance=0.02) == 64
    assert analysis.scaling_holds_up_to(sweeps, 1 / 1000) is None
    with pytest.raises(ValueError, match="ratio"):
        analysis.scaling_holds_up_to(sweeps, -1.0)


def test_rule_table():
    sweeps = _batch_sweeps()
    lines = tables.rule_table(sweeps, base=32, base_lr=0.125).splitlines()
    assert lines[1].split() == ["32", "0.125", "0.970", "0.125", "0.970", "0.25", "0.980"]
    assert lines[2].split()[:5] == ["64", "0.25", "0.975", "0.177", "·"]  # √2: not on the grid
    assert lines[3].split() == ["128", "0.5", "0.900", "0.25", "0.900", "0.25", "0.900"]
    with pytest.raises(ValueError, match="base"):
        tables.rule_table(sweeps, base=16, base_lr=0.1)


def test_noise_scale_table():
    rows = {"initial": (scaling.NoiseScale(0.5, 50.0, 100.0), scaling.NoiseScale(0.5, 45.0, 90.0))}
    lines = tables.noise_scale_table(rows).splitlines()
    assert lines[1].split() == ["initial", "0.5", "50", "100", "90"]
    with pytest.raises(ValueError, match="rows"):
        tables.noise_scale_table({})


def test_basin_index_and_noisy_ends():
    wells = objectives.gaussian_wells(weights=(0.5, 0.5))          # sharp deep minimum at +1, flat at −1
    sharp, flat = (int(np.argmin(np.abs(wells.minimizers[:, 0] - c))) for c in (1.0, -1.0))
    where = analysis.basin_index(wells, [-1.2, -0.1, 0.9, 1.5, np.nan])
    assert list(where) == [flat, flat, sharp, sharp, -1]
    rows = analysis.noisy_ends(wells, np.full(50, 1.0), [(0.02, 0), (0.04, 1)], sigma=10.0, horizon=40.0)
    label, lr, b, in_flat, in_sharp, curv = rows[0]
    assert (label, lr, b, in_flat, in_sharp) == ("GD", 0.02, 0, 0.0, 1.0) and curv == pytest.approx(25, rel=0.01)
    assert rows[1][0] == "SGD" and rows[1][3] > 0.3                 # strong noise: many reach the flat one
    text = tables.escape_table(rows).splitlines()
    assert text[1].split() == ["GD", "0.02", "–", "0%", "100%", "25.0"]
    with pytest.raises(ValueError, match="batch size"):
        analysis.noisy_ends(wells, [1.0], [(0.1, -2)], sigma=1.0, horizon=1.0)


def test_normalized_weight_and_equilibrium_tables():
    norms = np.linspace(4.0, 2.0, 11)
    angles = np.r_[np.nan, np.full(10, 0.1)]
    h = _run(np.ones(11), lr=0.5, logs={"hidden_norm": norms, "hidden_angle": angles}, weight_decay=0.01)
    lines = tables.normalized_weight_table({"a": h}, steps=(0, 10)).splitlines()
    assert lines[1].split() == ["a", "|w|", "4.00", "2.00"]
    assert lines[2].split() == ["α/|w|²", "0.031", "0.125"]
    assert analysis.mean_angle(h, last=5) == pytest.approx(0.1)
    eq = tables.equilibrium_table({"a": h}, last=5).splitlines()
    assert eq[1].split() == ["a", "0.005", "0.100", "0.100"]
    with pytest.raises(ValueError, match="steps"):
        tables.normalized_weight_table({"a": h}, steps=(11,))


def test_multiplier_table():
    scalings = {opt: {"w": scaling.mup_multipliers("output", 256, 10, 64, 10, opt)} for opt in ("sgd", "adam")}
    lines = tables.multiplier_table(scalings).splitlines()
    assert lines[0].split() == ["parameter", "init", "std", "×", "sgd", "α", "×", "adam", "α", "×"]
    assert lines[1].split() == ["w", "0.5", "0.25", "0.25"]
