"""A figure with a slider over one parameter (the learning rate α by default).

One object renders two ways (see CONTRIBUTING.md, "Sliders that work in the static book too"):

* in a live kernel, an ipywidgets slider above a plotly ``FigureWidget``; every move
  recomputes the traces for the new value and redraws them;
* as ``text/html`` (what the built book shows), the same traces precomputed over a grid of
  values and stored in a plotly slider, so moving it in a static page shows the real result
  for that value, with no kernel.

Jupyter front-ends prefer the widget; the book's ``_config.yml`` tells myst-nb to prefer
``text/html``. The page loads plotly.js once, from the book's own static files.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Callable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

# Trace properties that may change with the slider; styling (mode, colour, ...) is fixed
# by the first call.
DATA_KEYS = ("x", "y", "z", "text", "name", "customdata", "hovertext")
SIGNIFICANT_DIGITS = 5  # static data is rounded: smaller pages, and stable across machines


def _compact(value):
    """Plain lists of rounded floats (NaN -> None, which plotly draws as a gap)."""
    if isinstance(value, (str, type(None))):
        return value
    arr = np.asarray(value)
    if arr.dtype.kind in "fc":
        flat = [None if not math.isfinite(v) else float(f"{v:.{SIGNIFICANT_DIGITS}g}")
                for v in arr.astype(float).ravel()]
        return np.array(flat, dtype=object).reshape(arr.shape).tolist()
    return arr.tolist()


class Explorer:
    """A plotly figure whose dynamic traces follow a slider.

    figure:  the fixed part: layout (fix the axis ranges) and traces that never change.
    traces:  value -> list of trace dicts (``go.Scatter`` properties); same length each call.
    values:  the grid the static HTML is precomputed on (at least 40 for a threshold to show).
    value:   the starting value (snapped to the grid for the static view).
    title:   value -> the figure title, e.g. a verdict such as "diverged at step 12".
    grid_only: True when ``traces`` is known only on the grid (measured runs): the live
             slider then steps through the grid instead of moving continuously.
    """

    def __init__(self, figure: go.Figure, traces: Callable[[float], Sequence[Mapping]],
                 values: Sequence[float], *, value: float | None = None, label: str = "α",
                 title: Callable[[float], str] | None = None, log: bool = True,
                 grid_only: bool = False, fmt: str = "{:.3g}", height: int = 460):
        values = np.asarray(values, dtype=float)
        if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
            raise ValueError(f"Invalid values: {values!r} (expected at least two finite numbers)")
        if np.any(np.diff(values) <= 0):
            raise ValueError("Invalid values: they must be strictly increasing")
        if log and np.any(values <= 0):
            raise ValueError(f"Invalid values: {values.min()} <= 0 on a log slider")
        self.figure = go.Figure(figure)
        self.figure.update_layout(height=height)
        self.traces = traces
        self.values = values
        self.value = float(values[len(values) // 2] if value is None else value)
        self.label, self.title, self.log, self.grid_only, self.fmt = label, title, log, grid_only, fmt
        self._n_fixed = len(self.figure.data)

    # -- the figure at one value ---------------------------------------------------------
    def _start_index(self) -> int:
        axis = np.log(self.values) if self.log else self.values
        target = math.log(self.value) if self.log else self.value
        return int(np.argmin(np.abs(axis - target)))

    def figure_at(self, value: float) -> go.Figure:
        """The fixed figure plus the dynamic traces at ``value``."""
        fig = go.Figure(self.figure)
        for trace in self.traces(value):
            fig.add_trace(go.Scatter(**trace) if "type" not in trace else trace)
        if self.title:
            fig.update_layout(title_text=self.title(value))
        return fig

    # -- static view ---------------------------------------------------------------------
    def static_figure(self) -> go.Figure:
        """The figure with a plotly slider over ``values``, every step precomputed."""
        start = self._start_index()
        fig = self.figure_at(self.values[start])
        dynamic = list(range(self._n_fixed, len(fig.data)))
        steps = []
        for v in self.values:
            traces = list(self.traces(v))
            keys = [k for k in DATA_KEYS if any(k in t for t in traces)]
            data = {k: [_compact(t.get(k)) for t in traces] for k in keys}
            layout = {"title.text": self.title(v)} if self.title else {}
            steps.append({"method": "update", "label": self.fmt.format(v),
                          "args": [data, layout, dynamic]})
        fig.update_layout(sliders=[{
            "active": start, "steps": steps, "pad": {"t": 50},
            "currentvalue": {"prefix": f"{self.label} = "},
        }])
        for i in dynamic:  # the initial traces, rounded like the steps
            for k in DATA_KEYS:
                if k in fig.data[i] and fig.data[i][k] is not None and k not in ("name",):
                    fig.data[i][k] = _compact(fig.data[i][k])
        return fig

    def div_id(self) -> str:
        """A stable id (from the content), so stored notebook outputs are deterministic."""
        key = json.dumps([self.figure.to_plotly_json(), _compact(self.values), self.label],
                         sort_keys=True, default=str)
        return "lrx-" + hashlib.sha1(key.encode()).hexdigest()[:12]

    def to_html(self) -> str:
        """An HTML fragment for the static book; needs plotly.js on the page (the book adds it)."""
        return self.static_figure().to_html(
            full_html=False, include_plotlyjs=False, div_id=self.div_id(),
            config={"responsive": True, "displaylogo": False})

    # -- live view -----------------------------------------------------------------------
    def widget(self):
        """An ipywidgets slider above a FigureWidget; each move recomputes and redraws."""
        import ipywidgets as widgets

        fig = go.FigureWidget(self.figure_at(self.value))
        if self.grid_only:
            options = [(self.fmt.format(v), float(v)) for v in self.values]
            slider = widgets.SelectionSlider(options=options, value=float(self.values[self._start_index()]),
                                             description=self.label, continuous_update=True)
        elif self.log:
            lo, hi = np.log10(self.values[[0, -1]])
            slider = widgets.FloatLogSlider(value=self.value, base=10, min=lo, max=hi, step=(hi - lo) / 400,
                                            description=self.label, readout_format=".3g")
        else:
            lo, hi = self.values[[0, -1]]
            slider = widgets.FloatSlider(value=self.value, min=lo, max=hi, step=(hi - lo) / 400,
                                         description=self.label, readout_format=".3g")
        slider.layout.width = "95%"
        slider.observe(lambda change: self.redraw(fig, change["new"]), names="value")
        return widgets.VBox([slider, fig])

    def redraw(self, fig, value: float) -> None:
        """Recompute the traces at ``value`` and update ``fig`` (a FigureWidget) in one batch."""
        traces = self.traces(value)
        with fig.batch_update():
            for i, trace in enumerate(traces):
                fig.data[self._n_fixed + i].update({k: v for k, v in trace.items() if k in DATA_KEYS})
            if self.title:
                fig.layout.title.text = self.title(value)

    # -- display -------------------------------------------------------------------------
    def __repr__(self) -> str:
        lo, hi = self.values[[0, -1]]
        return (f"Explorer({self.label} from {self.fmt.format(lo)} to {self.fmt.format(hi)}, "
                f"{self.values.size} precomputed values)")

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget()._repr_mimebundle_()
        bundle = dict(bundle[0]) if isinstance(bundle, tuple) else dict(bundle)
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = repr(self)
        return bundle
