"""Figures, tables' pictures and explorers that draw the course's results (plotly, ipywidgets).

``from lrcourse import figures`` gives every figure function the chapters call; they live in
modules by the kind of data they draw:

* :mod:`~lrcourse.figures.style`: colours, the book's layout, :func:`show`;
* :mod:`~lrcourse.figures.explorer`: a figure with a slider, live in a kernel and static in the book;
* :mod:`~lrcourse.figures.landscapes`: optimizers on the core's loss landscapes;
* :mod:`~lrcourse.figures.sweeps`: training sweeps over α (and batch sizes, hyperparameter grids);
* :mod:`~lrcourse.figures.curves`: curves against the step or α (schedules, range tests, sharpness);
* :mod:`~lrcourse.figures.source`: the package's own source, as a learner should read it.

This layer reads results through their attributes; it never imports torch, the engine or the cases.
"""

from lrcourse.figures.curves import (
    RULE_STYLES,
    curves_explorer,
    layer_figure,
    lines_figure,
    loss_curves,
    loss_panels,
    range_test_figure,
    range_tests_figure,
    schedule_explorer,
    schedules_figure,
    sharpness_figure,
    step_ratio_figure,
    validation_figure,
)
from lrcourse.figures.explorer import Explorer
from lrcourse.figures.images import digit_mosaic
from lrcourse.figures.landscapes import (
    LANDING_COLORS,
    PATH_COLORS,
    ROLE_COLORS,
    WELL_DASHES,
    basin_map,
    eigen_explorer,
    noise_floor_explorer,
    paths_explorer,
    rate_curve,
    selection_figure,
    stability_map,
    trajectory_explorer,
)
from lrcourse.figures.source import update_source
from lrcourse.figures.style import (
    BOOK_LAYOUT,
    CURVE_COLORS,
    DIVERGED_MARKER_COLOR,
    LEGEND_BOTTOM_RIGHT,
    LEGEND_TOP_LEFT,
    LEGEND_TOP_RIGHT,
    LOG_TICKS,
    LONG_PALETTE,
    PATH_COLOR,
    REFERENCE_COLOR,
    SURFACE_COLOR,
    StaticFigure,
    log_axis,
    show,
    styled,
)
from lrcourse.figures.sweeps import (
    batch_size_explorer,
    final_metric_figure,
    heatmaps,
    log_curves_figure,
    peak_figure,
    seed_band_figure,
    sensitivity_figure,
    sweep_explorer,
    tradeoff_figure,
    width_figure,
)

__all__ = ['Explorer', 'BOOK_LAYOUT', 'CURVE_COLORS', 'DIVERGED_MARKER_COLOR', 'LEGEND_BOTTOM_RIGHT', 'LEGEND_TOP_LEFT', 'LEGEND_TOP_RIGHT', 'LOG_TICKS', 'LONG_PALETTE', 'PATH_COLOR', 'REFERENCE_COLOR', 'SURFACE_COLOR', 'StaticFigure', 'log_axis', 'show', 'styled', 'LANDING_COLORS', 'PATH_COLORS', 'ROLE_COLORS', 'WELL_DASHES', 'basin_map', 'eigen_explorer', 'noise_floor_explorer', 'paths_explorer', 'rate_curve', 'selection_figure', 'stability_map', 'trajectory_explorer', 'batch_size_explorer', 'final_metric_figure', 'heatmaps', 'log_curves_figure', 'peak_figure', 'seed_band_figure', 'sensitivity_figure', 'sweep_explorer', 'width_figure', 'tradeoff_figure', 'RULE_STYLES', 'layer_figure', 'lines_figure', 'loss_curves', 'loss_panels', 'range_test_figure', 'range_tests_figure', 'schedule_explorer', 'curves_explorer', 'schedules_figure', 'sharpness_figure', 'step_ratio_figure', 'validation_figure', 'update_source', 'digit_mosaic']
