"""The look every figure shares: colours, the book layout, legends, and how a figure is shown.

:func:`show` wraps a plotly figure so that the static book draws it too.
"""

from __future__ import annotations

import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

PATH_COLOR = "#d62728"

SURFACE_COLOR = "#1f77b4"

CURVE_COLORS = ("#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b")


class StaticFigure:
    """A plotly figure shown two ways: ``text/html`` with a fixed div id for the book, and
    plotly's own mime type for live frontends.

    The HTML calls ``Plotly.newPlot`` and needs plotly.js on the page: the book adds it, a
    JupyterLab or Notebook 7 tab does not (the figure would stay blank, and blank again after
    a reload). Those frontends prefer ``application/vnd.plotly.v1+json``, which the
    jupyterlab-plotly renderer shipped in the ``plotly`` package draws itself, even in an
    untrusted notebook; the book's ``_config.yml`` prefers the HTML. Neither holds a random
    id, so stored outputs stay deterministic for nbval.
    """

    MIME_TYPE = "application/vnd.plotly.v1+json"
    CONFIG = {"responsive": True, "displaylogo": False}

    def __init__(self, figure: go.Figure, div_id: str):
        self.figure, self.div_id = figure, div_id

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """plotly's mime bundle (``data``, ``layout``, ``config``); IPython adds
        ``text/html`` from :meth:`_repr_html_` and ``text/plain`` from ``__repr__``."""
        spec = json.loads(pio.to_json(self.figure, validate=False))
        return {self.MIME_TYPE: {"data": spec.get("data", []), "layout": spec.get("layout", {}),
                                 "config": dict(self.CONFIG)}}

    def _repr_html_(self) -> str:
        return self.figure.to_html(full_html=False, include_plotlyjs=False, div_id=self.div_id,
                                   config={"responsive": True, "displaylogo": False})

    def __repr__(self) -> str:
        title = self.figure.layout.title.text or self.div_id
        return f"Figure: {title}"


def show(figure: go.Figure, div_id: str) -> StaticFigure:
    """Display ``figure`` in a notebook so that the static book draws it too (``div_id`` unique per page)."""
    return StaticFigure(figure, div_id)

DIVERGED_MARKER_COLOR = "#d62728"  # the ✕ where a training run diverged

BOOK_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=85, b=40), title_font_size=15)

"""The layout every chapter figure starts from: white background, room above for a two-line title."""


def styled(fig: go.Figure, **layout) -> go.Figure:
    """``fig`` with :data:`BOOK_LAYOUT`, then ``layout`` on top of it (``fig.update_layout``)."""
    fig.update_layout(**{**BOOK_LAYOUT, **layout})
    return fig

LEGEND_BOTTOM_RIGHT = dict(x=0.99, y=0.01, xanchor="right", yanchor="bottom", bgcolor="rgba(255,255,255,0.8)")

LOG_TICKS = [m * 10.0**e for e in range(-3, 7) for m in (1, 2, 5)]      # 1, 2, 5 per decade on a log axis


def log_axis(lrs) -> dict:
    """A log axis over exactly the range of ``lrs``, one tick per decade."""
    lo, hi = np.log10(np.min(lrs)), np.log10(np.max(lrs))
    pad = 0.02 * (hi - lo)
    return dict(type="log", range=[lo - pad, hi + pad], dtick=1, exponentformat="power")

REFERENCE_COLOR = "#9e9e9e"

LONG_PALETTE = CURVE_COLORS + ("#e377c2", "#17becf", "#bcbd22", "#7f7f7f")


# Explorers keep their legend inside the plot: below it, it would collide with the slider.
LEGEND_TOP_RIGHT = dict(x=0.99, y=0.99, xanchor="right", yanchor="top", bgcolor="rgba(255,255,255,0.8)")


# Above the curves (the y axis runs on past 1 to make room): below the plot sits the slider.
LEGEND_TOP_LEFT = dict(orientation="h", x=0.01, y=0.99, xanchor="left", yanchor="top", bgcolor="rgba(255,255,255,0.8)",
                  font=dict(size=11))
