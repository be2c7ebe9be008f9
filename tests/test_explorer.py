"""The explorer renders live (widget) and static (precomputed plotly slider) from one object."""

import json

import numpy as np
import pytest

from lrcourse.core import objectives
from lrcourse.figures.explorer import Explorer
from lrcourse.figures import trajectory_explorer
from conftest import figure_json

GRID = np.geomspace(0.01, 0.3, 41)


@pytest.fixture(scope="module")
def explorer():
    return trajectory_explorer(objectives.quadratic((1.0, 10.0)), [1.0, 1.0], GRID, steps=25, value=0.1)


def test_static_html_holds_one_precomputed_step_per_grid_value(explorer):
    data, layout = figure_json(explorer.to_html())
    steps = layout["sliders"][0]["steps"]
    assert len(steps) == len(GRID) >= 40
    dynamic = steps[0]["args"][2]
    assert dynamic == [len(data) - 1]  # the path is the last trace; contours and minimum stay
    # each step carries that α's real path: compare two of them with fresh runs
    for i in (0, 30):
        fresh = explorer.traces(GRID[i])[0]
        np.testing.assert_allclose(np.array(steps[i]["args"][0]["x"][0], dtype=float), fresh["x"], rtol=1e-4)
        assert steps[i]["args"][1]["title.text"] == explorer.title(GRID[i])
    xs = [json.dumps(s["args"][0]["x"]) for s in steps]
    assert len(set(xs)) == len(steps), "two slider positions draw the same data"


def test_static_view_starts_at_the_chosen_value(explorer):
    _, layout = figure_json(explorer.to_html())
    active = layout["sliders"][0]["active"]
    assert GRID[active] == pytest.approx(0.1, rel=0.05)


def test_html_is_deterministic_and_needs_no_cdn(explorer):
    again = trajectory_explorer(objectives.quadratic((1.0, 10.0)), [1.0, 1.0], GRID, steps=25, value=0.1)
    html = explorer.to_html()
    assert html == again.to_html()
    assert "<script src" not in html and "https://" not in html


def test_mimebundle_has_widget_html_and_a_stable_text(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/html"] == explorer.to_html()
    assert bundle["text/plain"] == "Explorer(α from 0.01 to 0.3, 41 precomputed values)"


def test_live_slider_recomputes_and_redraws(explorer):
    box = explorer.widget()
    slider, fig = box.children
    before = np.array(fig.data[-1].x)
    slider.value = 0.25
    after = np.array(fig.data[-1].x)
    assert not np.array_equal(before, after)
    np.testing.assert_allclose(after, explorer.traces(0.25)[0]["x"])
    assert fig.layout.title.text == explorer.title(0.25)


def test_grid_only_explorer_uses_a_selection_slider():
    import plotly.graph_objects as go
    curves = {v: np.arange(5) * v for v in (0.1, 0.2, 0.4)}
    exp = Explorer(go.Figure(), lambda v: [dict(x=np.arange(5), y=curves[v])], sorted(curves), grid_only=True)
    slider, fig = exp.widget().children
    assert slider.options == (("0.1", 0.1), ("0.2", 0.2), ("0.4", 0.4))
    slider.value = 0.4
    np.testing.assert_array_equal(fig.data[-1].y, curves[0.4])


@pytest.mark.parametrize("values, message", [
    ([0.1], "at least two"),
    ([0.2, 0.1], "strictly increasing"),
    ([0.0, 0.1], "<= 0 on a log slider"),
    ([0.1, np.inf], "at least two finite"),
])
def test_bad_grids(values, message):
    import plotly.graph_objects as go
    with pytest.raises(ValueError, match=message):
        Explorer(go.Figure(), lambda v: [], values)


def test_trajectory_explorer_rejects_high_dimensions():
    with pytest.raises(ValueError, match="dimension 3"):
        trajectory_explorer(objectives.quadratic((1.0, 2.0, 3.0)), [1, 1, 1], GRID)
