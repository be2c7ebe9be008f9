"""Deep or flat: where gradient descent ends on two wells, and the 2/λ limit of each minimum."""

import numpy as np
import pytest


from lrcourse.core import objectives, theory
from lrcourse import figures
from lrcourse.results import analysis
from lrcourse.results import tables

WELLS = {"deep is flat": objectives.gaussian_wells((0.85, 0.15)),
         "deep is sharp": objectives.gaussian_wells((0.5, 0.5))}
STARTS = np.linspace(-3, 3, 60)


@pytest.fixture(scope="module")
def result():
    return analysis.selection(WELLS, STARTS, [0.01, 0.07, 0.2, 0.4, 0.6], steps=600)


def test_large_steps_end_in_the_flat_minimum_whether_deep_or_shallow(result):
    for name in WELLS:
        shares = result.shares(name)
        assert shares["flat"][0] + shares["sharp"][0] == 100  # small α: every start settles somewhere
        assert 20 < shares["sharp"][0] < 80                    # ...and the sharp valley keeps its starts
        # 2/λ_sharp ≈ 0.08 < α < 2/λ_flat = 0.5: every start ends in the flat minimum
        np.testing.assert_array_equal(shares["flat"][2:4], 100)
        assert shares["flat"][-1] == 0 and shares["sharp"][-1] == 0  # above both limits nothing settles


def test_sharpness_and_roles_follow_the_curvature_not_the_depth(result):
    for name, well in WELLS.items():
        flat, sharp = result.sharpness[name]
        assert flat == pytest.approx(4.0, rel=0.01) and sharp == pytest.approx(25.0, rel=0.01)
    assert result.roles["deep is flat"].shape == (len(STARTS), 5)
    # the deep (global) minimum at −1 is the flat one in the first well, the sharp one at +1 in the second
    assert np.all(result.roles["deep is flat"][STARTS < -1.2, 0] == 0)
    assert np.all(result.roles["deep is sharp"][STARTS > 1.1, 0] == 1)


def test_the_last_alpha_that_settles_brackets_two_over_lambda():
    fine = analysis.selection(WELLS, STARTS, np.geomspace(0.06, 0.7, 80), steps=800)
    for name in WELLS:
        for role, lam in zip(("flat", "sharp"), fine.sharpness[name]):
            last = fine.last_settled(name, role)
            next_lr = fine.lrs[fine.lrs > last].min()
            assert last < theory.critical_lr(lam) < next_lr * 1.2
    assert "settled up to α" in fine.limits() and "2/λ = 0.5000" in fine.limits()


def test_table_summary_and_figure(result):
    table = result.table().splitlines()
    assert "deep is flat" in table[0] and "neither" in table[1]
    assert table[2].split() == ["0.01"] + table[2].split()[1:] and "100%" in table[4]
    summary = analysis.minima_summary(WELLS)
    assert "deep    minimum at w = −1.00" in summary and "(sharp), 2/λ = 0.0800" in summary
    fig = figures.selection_figure(result)
    assert fig.layout.title.text.startswith("Where gradient descent ends")
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    curves = [trace for trace in fig.data if trace.showlegend is not False]
    assert len(curves) == 6  # flat, sharp, neither for each well
    np.testing.assert_array_equal(curves[0].y, result.shares("deep is flat")["flat"])
    limits = sorted(trace.x[0] for trace in fig.data if trace.name.startswith("2/λ"))
    np.testing.assert_allclose(limits, [2 / 24.99, 2 / 24.94, 0.5, 0.5], rtol=1e-3)  # 2/λ of each minimum of each well


def test_home_table_counts_starts_that_stay_or_hop():
    well = objectives.double_well(0.3)
    lines = tables.home_table(well, np.linspace(-2, 2, 100), [0.01, 0.3], steps=500).splitlines()
    assert lines[2].split()[:2] == ["0.01", "100%"]   # small α: every start stays in its own valley
    assert lines[3].split()[-1] == "0%"               # α = 0.3 > 2/f''(global) = 0.226: never the global one
    assert "barrier at w = 0.075" in lines[-1]


def test_landing_groups_group_consecutive_alphas_that_end_alike():
    well = objectives.double_well(0.3)
    lines = tables.landing_groups(well, 1.8, np.geomspace(0.01, 0.35, 60), steps=500).splitlines()
    assert lines[0].startswith("α from")
    assert lines[1].split()[0] == "0.010" and lines[1].endswith("local minimum (w = 0.96)")  # small α stays home
    assert lines[-1].endswith("diverged") and lines[-1].split()[1] == "0.350"
    assert sum(int(line.split()[2]) for line in lines[1:]) == 60  # every α in exactly one row


@pytest.mark.parametrize("call, message", [
    (lambda: analysis.selection({}, STARTS, [0.1]), "Invalid wells value"),
    (lambda: analysis.selection({"bowl": objectives.quadratic((1.0,))}, STARTS, [0.1]), "exactly two minima"),
    (lambda: analysis.selection(WELLS, [np.nan], [0.1]), "Invalid starts value"),
    (lambda: analysis.selection(WELLS, STARTS, [-0.1]), "Invalid learning rate"),
    (lambda: analysis.selection(WELLS, STARTS, [0.1], steps=0), "Invalid steps value: 0"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_bad_queries(result):
    with pytest.raises(ValueError, match="Invalid well name: 'nope'"):
        result.shares("nope")
    with pytest.raises(ValueError, match="Invalid role: 'deep'"):
        result.last_settled("deep is flat", "deep")
