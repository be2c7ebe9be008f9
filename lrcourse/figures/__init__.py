"""Figures, tables and explorers that draw the course's results (plotly, ipywidgets).

``from lrcourse import figures`` gives the figure functions the chapters call.
"""

from lrcourse.figures.explorer import Explorer
from lrcourse.figures.landscapes import (CURVE_COLORS, StaticFigure, basin_map, eigen_explorer, final_metric_figure,
                                         final_positions, landing, landing_labels, rate_curve, show, styled,
                                         sweep_explorer, trajectory_explorer)

__all__ = ["Explorer", "StaticFigure", "show", "styled", "CURVE_COLORS", "trajectory_explorer", "basin_map",
           "eigen_explorer", "rate_curve", "landing", "landing_labels", "final_positions", "sweep_explorer",
           "final_metric_figure"]
