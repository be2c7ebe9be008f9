"""Figures of curves against the step or against α: schedules, range tests, sharpness,
per-layer quantities.
"""

from __future__ import annotations

from typing import Callable, Iterable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrcourse import _checks
from lrcourse.figures.explorer import Explorer
from lrcourse.figures.style import (
    CURVE_COLORS,
    DIVERGED_MARKER_COLOR,
    LEGEND_TOP_RIGHT,
    LOG_TICKS,
    LONG_PALETTE,
    REFERENCE_COLOR,
    log_axis,
    styled,
)
from lrcourse.results.analysis import (
    Validation,
    check_histories,
    check_validations,
    checked_rules,
    layer_spread,
    range_test_curve,
    row_of,
    sharpness_curve,
)
from lrcourse.results.tables import plain, schedule_summary


def loss_curves(curves, *, title: str, log_y: bool = True) -> go.Figure:
    """One line per named loss curve (``{label: losses per step}``) against the step; a run that
    diverged simply ends where its losses turn NaN."""
    if not curves:
        raise ValueError(f"Invalid curves value: {curves!r} (expected a dict {{label: losses}})")
    fig = go.Figure()
    for (label, losses), color in zip(curves.items(), CURVE_COLORS * (len(curves) // len(CURVE_COLORS) + 1)):
        fig.add_trace(go.Scatter(y=np.asarray(losses, dtype=float), mode="lines", name=label, line=dict(color=color)))
    return styled(fig, title_text=title, xaxis_title="step", height=420,
                  yaxis=dict(title="training loss 𝓛(w)", type="log" if log_y else "linear", exponentformat="power"),
                  margin=dict(l=60, r=20, t=60, b=40))


def layer_figure(series: Mapping[str, Mapping[str, np.ndarray]], *, title: str, y_title: str,
                 lines: Mapping[str, float] | None = None) -> go.Figure:
    """Per layer (x), each series' median as a marker and its 10–90 % range as a bar; log y.

    ``series`` maps a name to ``{layer name: per-parameter values}``; ``lines`` maps a label
    to a value drawn as a horizontal dashed line (e.g. SGD's single α).
    """
    fig = go.Figure()
    n = len(series)
    for k, (name, values) in enumerate(series.items()):
        spread = layer_spread(values)
        layers = list(spread)
        offset = (k - (n - 1) / 2) * 0.22
        x = np.arange(len(layers)) + offset
        median = np.array([s.median for s in spread.values()])
        fig.add_trace(go.Scatter(
            x=x, y=median, mode="markers", name=f"{name} (median, 10–90 %)",
            marker=dict(size=10, color=CURVE_COLORS[(0, 4, 2, 3)[k % 4]], symbol=("circle", "diamond", "square")[k % 3]),
            error_y=dict(type="data", symmetric=False, array=[s.p90 - s.median for s in spread.values()],
                         arrayminus=[s.median - s.p10 for s in spread.values()], thickness=2, width=6),
            text=layers, hovertemplate="%{text}: median %{y:.3g}<extra></extra>"))
    layers = list(layer_spread(next(iter(series.values()))))
    for k, (label, level) in enumerate((lines or {}).items()):
        fig.add_trace(go.Scatter(x=[-0.5, len(layers) - 0.5], y=[level, level], mode="lines", name=label,
                                 line=dict(color=("gray", "black")[k % 2], dash="dash", width=1.5)))
    return styled(fig, title_text=title,
                   xaxis=dict(tickvals=np.arange(len(layers)), ticktext=layers, tickangle=-20, zeroline=False,
                              range=[-0.5, len(layers) - 0.5]),
                   yaxis=dict(title=y_title, type="log", exponentformat="power"),
                   height=480, legend=dict(orientation="h", yanchor="top", y=-0.25, x=0),
                   margin=dict(l=70, r=20, t=60, b=40))


def step_ratio_figure(ratios, *, steps_per_epoch: int, picks: Mapping[str, int], title: str) -> go.Figure:
    """|Δθ|/α over the steps: the median over all weights, its 10–90 % band, and a few weights.

    ``picks`` maps a label to a column of ``ratios``. A dashed line marks 1, the first step
    α·sign(g) and roughly Adam's bound (Kingma and Ba, 2015, §2.1); log y.
    """
    ratios = np.asarray(ratios, dtype=float)
    if ratios.ndim != 2:
        raise ValueError(f"Invalid ratios: shape {ratios.shape} (expected (steps, weights))")
    steps_per_epoch = _checks.positive_int(steps_per_epoch, "steps_per_epoch")
    for label, column in picks.items():
        if not 0 <= column < ratios.shape[1]:
            raise ValueError(f"Invalid picks: {label!r} -> {column} (expected a column below {ratios.shape[1]})")
    epoch = np.arange(1, len(ratios) + 1) / steps_per_epoch
    floor = 1e-6                                          # log axis: a weight that did not move sits at the floor
    p10, median, p90 = np.maximum(np.percentile(ratios, [10, 50, 90], axis=1), floor)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=np.concatenate([epoch, epoch[::-1]]), y=np.concatenate([p90, p10[::-1]]),
                             fill="toself", fillcolor="rgba(31,119,180,0.18)", line=dict(width=0),
                             name="10–90 % of all weights", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=epoch, y=median, mode="lines", name="median over all weights",
                             line=dict(color=CURVE_COLORS[0], width=2.5)))
    for k, (label, column) in enumerate(picks.items()):
        fig.add_trace(go.Scatter(x=epoch, y=np.maximum(ratios[:, column], floor), mode="lines", name=label,
                                 line=dict(color=CURVE_COLORS[(1, 3, 4, 5)[k % 4]], width=1), opacity=0.8))
    fig.add_trace(go.Scatter(x=[0, epoch[-1]], y=[1, 1], mode="lines", name="|Δθ| = α (the first step)",
                             line=dict(color="black", dash="dash", width=1.5)))
    return styled(fig, title_text=title,
                   xaxis=dict(title="epoch", range=[0, epoch[-1]]),
                   yaxis=dict(title="|Δθ| / α per step", type="log", exponentformat="power", range=[-4, 0.5]),
                   height=480, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


# One colour and marker per rule, the same in every figure of the chapter.
RULE_STYLES = {
    "steepest": dict(color="#d62728", symbol="triangle-down"),
    "valley": dict(color="#2ca02c", symbol="circle"),
    "minimum/10": dict(color="#9467bd", symbol="square"),
}


def _check_title(title) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"Invalid title: {title!r} (every figure says what it shows)")
    return title


def _rule_style(rule: str, i: int) -> dict:
    return RULE_STYLES.get(rule, dict(color=CURVE_COLORS[i % len(CURVE_COLORS)], symbol="diamond"))


def _default_y_range(losses: np.ndarray) -> list[float]:
    """The smoothed curve's fall fills the plot: from one fall below its lowest point to one
    and a half falls above its start. The raw noise and the blow-up run off the edges."""
    start, low = float(losses[0]), float(losses.min())
    fall = max(start - low, 1e-3 * abs(start), 1e-12)
    return [low - fall, start + 1.5 * fall]


def range_test_figure(result, *, title: str, rules=None, raw: bool = True, y_range=None) -> go.Figure:
    """The loss of one range test against α (log scale), each rule's suggestion a vertical line.

    The smoothed loss (what the rules read) is the solid curve, the raw loss of every
    step a faint one. Each line is labelled with its rule and α. A ✕ marks the step at
    which the test stopped because the loss blew up. ``rules`` picks the rules to mark
    (default: all of ``result.suggestions``); ``y_range`` overrides the default, which
    lets the blow-up run off the top.
    """
    lrs, losses, raw_losses, suggestions = range_test_curve(result)
    rules = checked_rules(rules, suggestions)
    title = _check_title(title)
    lo, hi = y_range if y_range is not None else _default_y_range(losses)
    fig = go.Figure()
    if raw:
        fig.add_trace(go.Scatter(x=lrs, y=raw_losses, mode="lines", name="loss of each step",
                                 line=dict(color=REFERENCE_COLOR, width=1), opacity=0.6))
    fig.add_trace(go.Scatter(x=lrs, y=losses, mode="lines", name="smoothed loss",
                             line=dict(color=CURVE_COLORS[0], width=2.5)))
    for i, rule in enumerate(rules):
        alpha, style = float(suggestions[rule]), _rule_style(rule, i)
        # a vertical line as a trace, so that the legend gives its α too
        fig.add_trace(go.Scatter(x=[alpha, alpha], y=[lo, hi], mode="lines", name=f"{rule}: α = {plain(alpha)}",
                                 line=dict(color=style["color"], width=1.5, dash="dash"), hoverinfo="name"))
        # its label near the top, one row per rule so that nearby suggestions do not overlap
        fig.add_annotation(x=np.log10(alpha), y=hi - (hi - lo) * (0.06 + 0.09 * i), text=f"{rule} {plain(alpha)}",
                           showarrow=False, xanchor="left", xshift=3, font=dict(color=style["color"], size=11),
                           bgcolor="rgba(255,255,255,0.85)")
    stopped = getattr(result, "stopped_at", None)
    if stopped is not None:
        factor = (getattr(result, "config", None) or {}).get("stop_factor")
        why = f"smoothed loss > {factor:g} × its best" if factor else "the loss blew up"
        fig.add_trace(go.Scatter(x=[lrs[-1]], y=[min(losses[-1], hi)], mode="markers", cliponaxis=False,
                                 name=f"stopped at α = {plain(lrs[-1])}: {why}",
                                 marker=dict(symbol="x", size=12, color=DIVERGED_MARKER_COLOR)))
    return styled(fig, title_text=title,
                   xaxis=dict(title="learning rate α of the step (log scale)", **log_axis(lrs)),
                   yaxis=dict(title="training loss", range=[lo, hi]),
                   height=460, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def range_tests_figure(results: Mapping[str, object], *, title: str, rule: str = "valley",
                       y_range=None) -> go.Figure:
    """Several range tests' smoothed losses against α on one plot, one colour each, with
    ``rule``'s suggestion as a marker on each curve (at the smoothed loss of that α)."""
    if not results:
        raise ValueError("Invalid results value: {} (expected at least one name -> range test)")
    title = _check_title(title)
    curves = {name: range_test_curve(r, f"results[{name!r}]") for name, r in results.items()}
    for name, (*_, suggestions) in curves.items():
        checked_rules([rule], suggestions)
    if y_range is None:
        ranges = np.array([_default_y_range(losses) for _, losses, _, _ in curves.values()])
        y_range = [ranges[:, 0].min(), ranges[:, 1].max()]
    fig = go.Figure()
    style = _rule_style(rule, 0)
    for i, (name, (lrs, losses, _, suggestions)) in enumerate(curves.items()):
        color = CURVE_COLORS[i % len(CURVE_COLORS)]
        alpha = float(suggestions[rule])
        fig.add_trace(go.Scatter(x=lrs, y=losses, mode="lines", name=name, legendgroup=name,
                                 line=dict(color=color, width=2)))
        at = float(np.interp(np.log(alpha), np.log(lrs), losses))
        fig.add_trace(go.Scatter(x=[alpha], y=[at], mode="markers", legendgroup=name,
                                 name=f"{name}: {rule} α = {plain(alpha)}",
                                 marker=dict(symbol=style["symbol"], size=11, color=color,
                                             line=dict(color="black", width=1))))
    every = np.concatenate([lrs for lrs, *_ in curves.values()])
    return styled(fig, title_text=title,
                   xaxis=dict(title="learning rate α of the step (log scale)", **log_axis(every)),
                   yaxis=dict(title="smoothed training loss", range=list(y_range)),
                   height=460, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def validation_figure(cases: Mapping[str, Validation], *, title: str, log_y=(), y_ranges=None) -> go.Figure:
    """One panel per case: the grid's mean final metric against α (log scale), and the runs
    at each suggestion as a marker of its rule (mean over seeds, ± std). ``log_y`` names the
    cases whose metric is drawn on a log axis (a perplexity that spans decades; without
    the ± std bars, which a log axis cannot draw once they exceed the mean), and
    ``y_ranges`` maps a case to the (low, high) of its metric's axis (default: all of it)."""
    check_validations(cases)
    title = _check_title(title)
    names = list(cases)
    y_ranges = dict(y_ranges or {})
    for arg, given in (("log_y", list(log_y)), ("y_ranges", list(y_ranges))):
        unknown = [n for n in given if n not in cases]
        if unknown:
            raise ValueError(f"Invalid {arg} value: {unknown!r} (the cases are {names!r})")
    fig = make_subplots(rows=len(cases), cols=1, subplot_titles=names, vertical_spacing=0.32 / len(cases))
    shown = set()
    for row, (name, case) in enumerate(cases.items(), start=1):
        s = case.grid.summary()
        # ± std has no meaning on a log axis once it exceeds the mean (an LSTM that exploded in one seed)
        bars = name not in log_y
        fig.add_trace(go.Scatter(x=s["lr"], y=s["mean"], error_y=dict(type="data", array=s["std"], visible=bars),
                                 mode="lines+markers", name="grid search (mean ± std over seeds)",
                                 legendgroup="grid", showlegend=row == 1,
                                 line=dict(color=REFERENCE_COLOR, width=2), marker=dict(size=6)), row=row, col=1)
        t = case.trained.summary()
        for i, (rule, lr) in enumerate(case.suggestions.items()):
            k = row_of(case.trained, float(lr))
            style = _rule_style(rule, i)
            fig.add_trace(go.Scatter(x=[float(lr)], y=[t["mean"][k]],
                                     error_y=dict(type="data", array=[t["std"][k]], visible=bars),
                                     mode="markers", name=rule, legendgroup=rule, showlegend=rule not in shown,
                                     hovertemplate=f"{rule}: α = {plain(float(lr))}<br>%{{y:.3g}}<extra>{name}</extra>",
                                     marker=dict(symbol=style["symbol"], size=12, color=style["color"],
                                                 line=dict(color="black", width=1))), row=row, col=1)
            shown.add(rule)
        fig.update_xaxes(type="log", dtick=1, exponentformat="power", row=row, col=1)
        y_range = y_ranges.get(name)
        if y_range is not None and name in log_y:
            y_range = [float(np.log10(v)) for v in y_range]      # a log axis takes its range in decades
        ticks = dict(tickvals=LOG_TICKS, ticktext=[f"{t:g}" for t in LOG_TICKS]) if name in log_y else {}
        fig.update_yaxes(title_text=case.grid.metric_name, type="log" if name in log_y else "linear",
                         range=y_range, row=row, col=1, **ticks)
    fig.update_xaxes(title_text="learning rate α (log scale)", row=len(cases), col=1)
    fig.update_annotations(font_size=12)
    return styled(fig, title_text=title, height=290 * len(cases) + 130,
                   legend=dict(orientation="h", yanchor="top", y=-0.35 / len(cases), x=0))


def schedule_explorer(make: Callable[[float], Callable], values, *, label: str, steps: int = 200,
                      value: float | None = None, log: bool = False, integer: bool = False,
                      fmt: str | None = None) -> Explorer:
    """A slider over one parameter of a schedule: ``make(value)`` is the schedule, α(t) is drawn.

    The dashed grey curve is the schedule at the starting ``value``, kept for comparison.
    ``integer=True`` for parameters that count steps (the slider then only takes the
    grid's values). The title gives Σα and where α starts, peaks and ends.
    """
    steps = _checks.positive_int(steps, "steps")
    values = np.asarray(values, dtype=float)
    if integer:
        values = np.round(values)
    fmt = fmt or ("{:.0f}" if integer else "{:.3g}")

    def schedule_at(v):
        return make(int(round(v)) if integer else float(v))

    t = np.arange(steps)
    start = float(values[len(values) // 2] if value is None else value)
    top = max(float(np.max(schedule_at(v)(t))) for v in values)
    fig = go.Figure(go.Scatter(x=t, y=schedule_at(start)(t), mode="lines", name=f"{label} = {fmt.format(start)}",
                               line=dict(color=REFERENCE_COLOR, dash="dash", width=1.5), hoverinfo="skip"))
    styled(fig, xaxis=dict(title="step t", range=[0, steps - 1]),
            yaxis=dict(title="learning rate α(t)", range=[0, 1.08 * top if top > 0 else 1.0]),
            legend=LEGEND_TOP_RIGHT)

    def traces(v):
        return [dict(y=schedule_at(v)(t), mode="lines", name="α(t)", line=dict(color=CURVE_COLORS[0], width=2.5))]

    def title(v):
        return f"{label} = {fmt.format(v)}: {schedule_summary(schedule_at(v), steps)}"

    return Explorer(fig, traces, values, value=start, label=label, title=title, log=log, grid_only=integer,
                    fmt=fmt, height=430)


def schedules_figure(named: Mapping[str, Callable], steps: int, *, title: str, cols: int = 2) -> go.Figure:
    """Each schedule α(t) for t = 0 … steps − 1 in its own small panel, with shared axes."""
    steps = _checks.positive_int(steps, "steps")
    if not named:
        raise ValueError("Invalid named value: {} (expected at least one schedule)")
    rows = -(-len(named) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(named), shared_xaxes=True,
                        vertical_spacing=0.3 / rows, horizontal_spacing=0.08)
    t = np.arange(steps)
    for i, (name, schedule) in enumerate(named.items()):
        fig.add_trace(go.Scatter(x=t, y=schedule(t), mode="lines", name=name, showlegend=False,
                                 line=dict(color=LONG_PALETTE[i % len(LONG_PALETTE)], width=2)),
                      row=i // cols + 1, col=i % cols + 1)
    fig.update_xaxes(range=[0, steps - 1])
    fig.update_yaxes(rangemode="tozero")
    for c in range(1, cols + 1):
        fig.update_xaxes(title_text="step t", row=rows, col=c)
    fig.update_annotations(font_size=12)
    return styled(fig, title_text=title, height=170 * rows + 110, margin=dict(l=45, r=15, t=80, b=45))


def lines_figure(curves: Mapping[str, object], *, title: str, x_title: str, y_title: str,
                 log_y: bool = False, stride: int = 1, dash: Mapping[str, str] | None = None) -> go.Figure:
    """Named curves on one plot: each value is ``y`` (against 0, 1, 2, …) or a pair ``(x, y)``.

    ``stride`` keeps every stride-th point (lighter pages); ``dash`` gives some curves a dash style.
    """
    stride = _checks.positive_int(stride, "stride")
    fig = go.Figure()
    for i, (name, curve) in enumerate(curves.items()):
        if isinstance(curve, tuple):
            x, y = (np.asarray(c, dtype=float) for c in curve)
        else:
            y = np.asarray(curve, dtype=float)
            x = np.arange(len(y), dtype=float)
        keep = np.r_[np.arange(0, len(y), stride), len(y) - 1] if len(y) else np.arange(0)
        keep = np.unique(keep)
        fig.add_trace(go.Scatter(x=x[keep], y=y[keep], mode="lines", name=name,
                                 line=dict(color=LONG_PALETTE[i % len(LONG_PALETTE)], width=2,
                                           dash=(dash or {}).get(name, "solid"))))
    return styled(fig, title_text=title, xaxis=dict(title=x_title),
                   yaxis=dict(title=y_title, type="log" if log_y else "linear", exponentformat="power"), height=440,
                   legend=dict(orientation="h", y=-0.2))


def sharpness_figure(histories: Iterable, *, title: str, loss_stride: int = 5) -> go.Figure:
    """Top: the sharpness λ_max against the step for each run, with its 2/α dashed in the same
    colour. Bottom: the training loss (log scale, every ``loss_stride``-th step).

    Runs that diverged are not drawn (their numbers mean nothing); the title lists them.
    Each run must have a constant α (``History.config["lr"]``) and ``logs["sharpness"]``.
    """
    loss_stride = _checks.positive_int(loss_stride, "loss_stride")
    histories = check_histories(histories)
    drawn = [h for h in histories if not h.diverged]
    left_out = [h for h in histories if h.diverged]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.62, 0.38])
    top = 0.0
    for i, h in enumerate(sorted(drawn, key=lambda h: h.config["lr"])):
        lr, color = h.config["lr"], CURVE_COLORS[i % len(CURVE_COLORS)]
        steps, lam = sharpness_curve(h)
        top = max(top, 2 / lr, lam.max() if lam.size else 0.0)
        fig.add_trace(go.Scatter(x=steps, y=lam, mode="lines", name=f"λ_max at α = {lr:g}",
                                 line=dict(color=color, width=2), legendgroup=str(i)), row=1, col=1)
        fig.add_trace(go.Scatter(x=[0, len(h.loss) - 1], y=[2 / lr] * 2, mode="lines", name=f"2/α = {2 / lr:.3g}",
                                 line=dict(color=color, width=1.5, dash="dash"), legendgroup=str(i)), row=1, col=1)
        keep = np.unique(np.r_[np.arange(0, len(h.loss), loss_stride), len(h.loss) - 1])
        fig.add_trace(go.Scatter(x=keep, y=h.loss[keep], mode="lines", name=f"loss at α = {lr:g}",
                                 line=dict(color=color, width=1.5), legendgroup=str(i), showlegend=False),
                      row=2, col=1)
    if left_out:
        title += "<br>not drawn: " + "; ".join(f"α = {h.config['lr']:g} diverged at step {h.diverged_at}"
                                               for h in left_out)
    fig.update_yaxes(title_text="sharpness λ_max", range=[0, 1.1 * top], row=1, col=1)
    fig.update_yaxes(title_text="training loss", type="log", exponentformat="power", row=2, col=1)
    fig.update_xaxes(title_text="step", row=2, col=1)
    lines = title.count("<br>") + 1                  # break long titles with <br>: phones do not wrap them
    return styled(fig, title_text=title, height=600 + 20 * lines, legend=dict(orientation="h", y=-0.14),
                   margin=dict(l=60, r=20, t=40 + 22 * lines, b=40))


def loss_panels(sweeps: Mapping[str, object], lrs, *, title: str, seed: int = 0, log_y: bool = True,
                x_range=None, y_range=None, y_title: str = "training loss") -> go.Figure:
    """One panel per α of ``lrs``: the training loss of run (α, ``seed``) of each named sweep
    against the step, one colour per sweep (e.g. without and with gradient clipping)."""
    _check_title(title)
    if not isinstance(sweeps, Mapping) or not sweeps:
        raise ValueError(f"Invalid sweeps: {sweeps!r} (expected a dict {{name: Sweep}})")
    lrs = [float(lr) for lr in lrs]
    if not lrs:
        raise ValueError("Invalid lrs: [] (expected at least one α)")
    fig = make_subplots(rows=1, cols=len(lrs), shared_yaxes=True, subplot_titles=[f"α = {lr:.3g}" for lr in lrs])
    for col, lr in enumerate(lrs, start=1):
        for i, (name, sweep) in enumerate(sweeps.items()):
            loss = np.asarray(sweep[lr, seed].loss, dtype=float)
            fig.add_trace(go.Scatter(x=np.arange(len(loss)), y=loss, name=name, legendgroup=name,
                                     showlegend=col == 1, mode="lines",
                                     line=dict(color=CURVE_COLORS[i % len(CURVE_COLORS)], width=1.2)),
                          row=1, col=col)
    axis = dict(type="log", exponentformat="power") if log_y else {}
    if y_range is not None:
        axis["range"] = [np.log10(v) for v in y_range] if log_y else list(y_range)
    fig.update_yaxes(**axis)
    fig.update_yaxes(title_text=y_title, col=1)
    fig.update_xaxes(title_text="step", **({} if x_range is None else {"range": list(x_range)}))
    return styled(fig, title_text=title, height=400, legend=dict(orientation="h", y=-0.3))


def curves_explorer(curves: Mapping[float, Mapping[str, object]], *, label: str, title: str, x_title: str,
                    y_title: str, notes: Mapping[float, str] | None = None, value: float | None = None,
                    log_y: bool = False, fmt: str = "{:g}") -> Explorer:
    """A slider over measured runs: ``curves[v]`` are the named curves (``y``, or a pair ``(x, y)``)
    measured at parameter value ``v`` (e.g. the warmup length), drawn against the step.

    The curves at the first value stay on the figure, dashed grey, as the reference; the
    title is ``title`` followed by ``notes[v]`` (e.g. the final metric of that run).
    The slider takes only the measured values (``grid_only``).
    """
    title = _check_title(title)
    if not isinstance(curves, Mapping) or len(curves) < 2:
        raise ValueError(f"Invalid curves: {curves!r} (expected a dict {{value: {{name: curve}}}} with ≥ 2 values)")
    values = sorted(float(v) for v in curves)
    by_value = {float(v): dict(c) for v, c in curves.items()}
    names = list(by_value[values[0]])
    if not names or any(list(c) != names for c in by_value.values()):
        raise ValueError(f"Invalid curves: every value needs the same named curves, {names}")
    notes = {float(v): str(n) for v, n in (notes or {}).items()}

    def xy(curve):
        if isinstance(curve, tuple):
            x, y = (np.asarray(c, dtype=float) for c in curve)
        else:
            y = np.asarray(curve, dtype=float)
            x = np.arange(len(y), dtype=float)
        return x, y

    everything = [xy(c) for cs in by_value.values() for c in cs.values()]
    ys = np.concatenate([y[np.isfinite(y)] for _, y in everything])
    x_max = max(float(x.max()) for x, _ in everything if x.size)
    top, bottom = float(ys.max()), float(ys.min())
    y_range = [np.log10(bottom) - 0.05, np.log10(top) + 0.05] if log_y else [bottom - 0.05 * (top - bottom),
                                                                              top + 0.05 * (top - bottom)]
    fig = go.Figure()
    for name in names:
        x, y = xy(by_value[values[0]][name])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"{name}, {label} = {fmt.format(values[0])}",
                                 line=dict(color=REFERENCE_COLOR, dash="dash", width=1.2), hoverinfo="skip"))
    styled(fig, xaxis=dict(title=x_title, range=[0, x_max]),
           yaxis=dict(title=y_title, type="log" if log_y else "linear", range=y_range),
           legend=dict(orientation="h", y=-0.22))

    def traces(v):
        at = by_value[min(values, key=lambda u: abs(u - v))]
        return [dict(x=xy(at[name])[0], y=xy(at[name])[1], mode="lines", name=name,
                     line=dict(color=CURVE_COLORS[i % len(CURVE_COLORS)], width=2)) for i, name in enumerate(names)]

    def heading(v):
        near = min(values, key=lambda u: abs(u - v))
        note = notes.get(near)
        return f"{title}<br>{label} = {fmt.format(near)}" + (f": {note}" if note else "")

    return Explorer(fig, traces, values, value=values[0] if value is None else value, label=label, title=heading,
                    log=False, grid_only=True, fmt=fmt, height=480)
