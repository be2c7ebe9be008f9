"""Figures of training sweeps (:class:`~lrcourse.results.Sweep`): curves per α with a slider,
the final metric against α, sensitivity, grids over two hyperparameters, batch sizes.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrcourse.figures.explorer import Explorer
from lrcourse.figures.style import (
    CURVE_COLORS,
    DIVERGED_MARKER_COLOR,
    LEGEND_TOP_LEFT,
    LONG_PALETTE,
    StaticFigure,
    show,
    styled,
)
from lrcourse.results.analysis import (
    check_batch_sweeps,
    check_same_lrs,
    good_range,
    mean_by_lr,
    scaling_factor,
    steps_of,
)
from lrcourse.results.tables import plain


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` points (shorter at the start), so curves keep their length."""
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumsum[1:] - cumsum[np.maximum(np.arange(1, len(values) + 1) - window, 0)]) / counts


def _history_curve(history, quantity: str, smooth: int):
    if quantity == "loss":
        y = np.asarray(history.loss, dtype=float)
        return np.arange(len(y)), _moving_average(y, smooth)
    y = np.asarray(history.metric, dtype=float)
    return (_epochs(history) if _has_epochs(history) else np.asarray(history.metric_steps, dtype=float)), y


def _epochs(history) -> np.ndarray:
    return np.asarray(history.metric_epochs, dtype=float)


def _has_epochs(history) -> bool:
    """Cases without epochs (an RL agent) record NaN epochs: plot those against steps."""
    epochs = _epochs(history)
    return len(epochs) > 0 and bool(np.all(np.isfinite(epochs)))


def _summary_line(sweep, i: int, lr: float) -> str:
    s = sweep.summary()
    n = len(sweep.seeds)
    text = f"α = {lr:.3g}: final {sweep.metric_name} {plain(s['mean'][i], 3)} ± {plain(s['std'][i], 2)} ({n} seeds)"
    if s["diverged"][i]:
        steps = sorted(h.diverged_at for h in sweep.grid[i] if h.diverged)
        text += f"<br>diverged in {s['diverged'][i]}/{n} runs, at step {', '.join(map(str, steps))}"
    return text


def sweep_explorer(sweep, *, quantity: str = "loss", smooth: int = 1, log_y: bool = False,
                   value: float | None = None) -> Explorer:
    """A slider over the α values of a sweep: one curve per seed, diverged runs cut and marked.

    ``quantity`` is ``"loss"`` (training loss per step, averaged over ``smooth`` steps) or
    ``"metric"`` (the evaluations). A run that diverged ends at the step where it did, with
    a red ✕ there (drawn at the top of the plot when its value is off the chart).
    """
    if quantity not in ("loss", "metric"):
        raise ValueError(f"Invalid quantity: {quantity!r} (expected 'loss' or 'metric')")
    if smooth < 1:
        raise ValueError(f"Invalid smooth value: {smooth!r} (expected a window of at least 1 step)")
    lrs = np.asarray(sweep.lrs, dtype=float)
    order = np.argsort(lrs)
    grid = sweep.grid
    curves = {float(lrs[i]): [_history_curve(h, quantity, smooth) for h in grid[i]] for i in order}
    # a fixed y-range from the runs that did not diverge, so the slider compares like with like
    finite = np.concatenate([y[np.isfinite(y)] for i in order for (h, (_, y)) in zip(grid[i], curves[float(lrs[i])])
                             if not h.diverged] or [np.array([0.0, 1.0])])
    if log_y:
        finite = finite[finite > 0]
        lo, hi = np.log10(finite.min()), np.log10(finite.max())
        y_range = [lo - 0.05 * (hi - lo), hi + 0.1 * (hi - lo)]
        top = 10 ** y_range[1]
    else:
        lo, hi = min(finite.min(), 0.0), finite.max()
        y_range = [lo, hi + 0.1 * (hi - lo)]
        top = y_range[1]
    x_max = max(x[-1] for c in curves.values() for x, _ in c if len(x))
    label = "training loss" if quantity == "loss" else sweep.metric_name
    fig = go.Figure()
    by_epoch = quantity == "metric" and all(_has_epochs(h) for h in grid.ravel())
    fig.update_layout(xaxis=dict(title="epoch" if by_epoch else "step", range=[0, x_max]),
                      yaxis=dict(title=label + (f" (mean of {smooth} steps)" if smooth > 1 else ""),
                                 range=y_range, type="log" if log_y else "linear"),
                      template="plotly_white", margin=dict(l=60, r=20, t=85, b=40), title_font_size=15,
                      # inside the plot: below it sits the slider and its "α = …" label
                      legend=dict(x=0.99, xanchor="right", y=0.99, yanchor="top", bgcolor="rgba(255,255,255,0.7)"))
    index = {float(lrs[i]): i for i in order}

    def traces(lr):
        i = index[float(lr)]
        out, cross_x, cross_y = [], [], []
        for j, (h, (x, y)) in enumerate(zip(grid[i], curves[float(lr)])):
            y = np.where(np.isfinite(y), y, np.nan)
            out.append(dict(x=x, y=y, mode="lines+markers" if quantity == "metric" else "lines",
                            name=f"seed {sweep.seeds[j]}", line=dict(color=CURVE_COLORS[j % len(CURVE_COLORS)])))
            if h.diverged and len(x):
                last = y[-1] if np.isfinite(y[-1]) else np.inf
                cross_x.append(x[-1])
                cross_y.append(min(last, top))
        out.append(dict(x=np.asarray(cross_x, dtype=float), y=np.asarray(cross_y, dtype=float), mode="markers",
                        name="diverged", marker=dict(symbol="x", size=13, color=DIVERGED_MARKER_COLOR)))
        return out

    return Explorer(fig, traces, lrs[order], value=value if value is not None else float(sweep.best()),
                    title=lambda lr: _summary_line(sweep, index[float(lr)], lr), grid_only=True)


def final_metric_figure(sweep, *, div_id: str, log_y: bool = False, title: str | None = None) -> StaticFigure:
    """The final metric against α (log scale): every seed a dot, the mean ± std a line; diverged runs ✕."""
    lrs = np.asarray(sweep.lrs, dtype=float)
    s = sweep.summary()
    finals, diverged = sweep.finals, sweep.diverged
    ok = np.isfinite(finals)
    y_fill = (np.nanmin(finals[ok]) if sweep.maximize else np.nanmax(finals[ok])) if ok.any() else 0.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=lrs, y=s["mean"], error_y=dict(type="data", array=s["std"], visible=True),
                             mode="lines+markers", name="mean ± std over seeds", line=dict(color=CURVE_COLORS[0])))
    for j, seed in enumerate(sweep.seeds):
        keep = ~diverged[:, j]
        fig.add_trace(go.Scatter(x=lrs[keep], y=finals[keep, j], mode="markers", name=f"seed {seed}",
                                 marker=dict(size=7, opacity=0.6, color=CURVE_COLORS[(j + 1) % len(CURVE_COLORS)])))
    rows, cols = np.nonzero(diverged)
    fig.add_trace(go.Scatter(x=lrs[rows], y=np.where(ok[rows, cols], finals[rows, cols], y_fill), mode="markers",
                             name="diverged (value at the stop)",
                             marker=dict(symbol="x", size=11, color=DIVERGED_MARKER_COLOR)))
    fig.update_layout(title_text=title or f"Final {sweep.metric_name} against the learning rate",
                      xaxis=dict(title="learning rate α (log scale)", type="log"),
                      yaxis=dict(title=f"final {sweep.metric_name}", type="log" if log_y else "linear"),
                      template="plotly_white", margin=dict(l=60, r=20, t=60, b=40),
                      legend=dict(orientation="h", y=-0.25))
    return show(fig, div_id)


def sensitivity_figure(sweeps: Mapping[str, object], *, tolerance: float, title: str,
                       log_y: bool = False, y_range=None) -> go.Figure:
    """Mean final metric (± std over seeds) against α for several sweeps on one plot.

    The good range of each (see :func:`good_range`) is shaded in its colour; a range of a
    single grid value gets a thin band around it. Diverged runs are left out of the mean
    (see ``Sweep.summary``).
    """
    if not sweeps:
        raise ValueError("Invalid sweeps: {} (expected at least one label -> Sweep)")
    fig = go.Figure()
    metric = next(iter(sweeps.values())).metric_name
    for k, (name, sweep) in enumerate(sweeps.items()):
        color = CURVE_COLORS[(0, 2, 4, 3)[k % 4]]
        s = sweep.summary()
        lrs = np.asarray(s["lr"], dtype=float)
        mean = np.where(np.isfinite(s["mean"]), s["mean"], np.nan)
        fig.add_trace(go.Scatter(x=lrs, y=mean, error_y=dict(type="data", array=s["std"], visible=True),
                                 mode="lines+markers", name=name, line=dict(color=color, width=2)))
        r = good_range(sweep, tolerance)
        lo, hi = (r.lo, r.hi) if r.hi > r.lo else (r.lo / 1.12, r.hi * 1.12)
        fig.add_vrect(x0=lo, x1=hi, fillcolor=color, opacity=0.15, line_width=0, layer="below")
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=dict(color=color, width=10),
                                 opacity=0.3, name=f"{name}: within {tolerance:.0%} of its best, {r.decades:.2g} decades"))
    return styled(fig, title_text=title,
                   xaxis=dict(title="learning rate α (log scale)", type="log", dtick=1, exponentformat="power"),
                   yaxis=dict(title=f"final {metric}", type="log" if log_y else "linear", range=y_range),
                   height=480, legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))


def heatmaps(grids: Mapping[str, np.ndarray], *, x, y, x_title: str, y_title: str, title: str,
             z_title: str, fmt: str = "{:.3f}", zmin=None, zmax=None, lower_is_better: bool = False) -> go.Figure:
    """Heat maps side by side, one per entry of ``grids``, on a shared colour scale.

    ``grids[name][i, j]`` is the value at ``y[i]`` and ``x[j]``; every cell is labelled
    with its value (``fmt``) and the best cell of each map (the highest, or the lowest
    with ``lower_is_better``, e.g. for a loss) is outlined.
    """
    if not grids:
        raise ValueError("Invalid grids: {} (expected at least one name -> 2-D array)")
    x_labels, y_labels = [f"{v:g}" for v in x], [f"{v:g}" for v in y]
    arrays = {name: np.asarray(g, dtype=float) for name, g in grids.items()}
    for name, g in arrays.items():
        if g.shape != (len(y_labels), len(x_labels)):
            raise ValueError(f"Invalid grids: {name!r} has shape {g.shape}, expected {(len(y_labels), len(x_labels))}")
    values = np.concatenate([g[np.isfinite(g)] for g in arrays.values()] or [np.zeros(1)])
    zmin = float(values.min()) if zmin is None else zmin
    zmax = float(values.max()) if zmax is None else zmax
    fig = make_subplots(rows=1, cols=len(arrays), subplot_titles=list(arrays), shared_yaxes=True,
                        horizontal_spacing=0.06)
    for k, (name, g) in enumerate(arrays.items(), start=1):
        text = [[fmt.format(v) if np.isfinite(v) else "–" for v in row] for row in g]
        fig.add_trace(go.Heatmap(x=x_labels, y=y_labels, z=g, zmin=zmin, zmax=zmax, colorscale="Viridis",
                                 text=text, texttemplate="%{text}", showscale=k == len(arrays), name=name,
                                 colorbar=dict(title=dict(text=z_title, side="top"), orientation="h", y=-0.32,
                                               yanchor="top", thickness=12, len=0.9),
                                 hovertemplate=f"{y_title} = %{{y}}, {x_title} = %{{x}}: %{{text}}<extra>{name}</extra>"),
                      row=1, col=k)
        if np.any(np.isfinite(g)):
            i, j = np.unravel_index((np.nanargmin if lower_is_better else np.nanargmax)(g), g.shape)
            fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                          line=dict(color="white", width=3), row=1, col=k)
        fig.update_xaxes(title_text=x_title, type="category", row=1, col=k)
    fig.update_yaxes(title_text=y_title, type="category", row=1, col=1)
    return styled(fig, title_text=title, height=520, margin=dict(l=70, r=20, t=90, b=130))


def peak_figure(sweeps: Mapping[str, object], *, title: str, error: bool = True) -> go.Figure:
    """Final metric against the peak α (log x): per schedule, the mean over seeds as a line
    and every seed as a faint dot.

    ``error=True`` plots 1 − metric on a log axis (for an accuracy: the test error), so that
    both a 2 % error and a collapse to chance are readable on one plot.
    """
    peaks = np.asarray(check_same_lrs(sweeps))
    some = next(iter(sweeps.values()))
    fig = go.Figure()
    for i, (name, sweep) in enumerate(sweeps.items()):
        color = LONG_PALETTE[i % len(LONG_PALETTE)]
        s = sweep.summary()                        # mean over seeds, runs diverged, per peak α
        finals = sweep.finals
        fig.add_trace(go.Scatter(
            x=peaks, y=1 - s["mean"] if error else s["mean"], mode="lines+markers", name=name,
            line=dict(color=color, width=2), legendgroup=name,
            text=[f"{d} of {len(sweep.seeds)} runs diverged" for d in s["diverged"]],
            hovertemplate="peak α %{x:.3g}: %{y:.3g}<br>%{text}<extra>" + name + "</extra>"))
        x = np.repeat(peaks, finals.shape[1])
        fig.add_trace(go.Scatter(x=x, y=(1 - finals if error else finals).ravel(), mode="markers",
                                 name=f"{name}, each seed", legendgroup=name, showlegend=False,
                                 marker=dict(color=color, size=5, opacity=0.35), hoverinfo="skip"))
    label = f"1 − {some.metric_name}" if error else some.metric_name
    ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    return styled(fig, title_text=title,
                   xaxis=dict(title="peak learning rate α (log scale)", type="log",
                              tickvals=peaks, ticktext=[f"{p:.3g}" for p in peaks]),
                   yaxis=dict(title=f"final {label}" + (" (log scale)" if error else ""),
                              type="log" if error else "linear",
                              **(dict(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks]) if error else {})),
                   height=460, legend=dict(orientation="h", y=-0.22))


def batch_size_explorer(sweeps: Mapping[int, object], *, reference: int | None = None,
                        value: int | None = None) -> Explorer:
    """A slider over the batch size B: the mean final metric against α at that B (measured),
    and the ``reference`` batch size's curve moved right by B/B₀ (the linear rule's prediction)
    and by √(B/B₀) (the square-root rule's). A red ✕ marks an α where a run diverged.
    """
    sizes = check_batch_sweeps(sweeps)
    reference = int(sizes[0] if reference is None else reference)
    if reference not in sweeps:
        raise ValueError(f"Invalid reference: {reference!r} (not one of the batch sizes {sizes.tolist()})")
    ref_lrs, ref_mean = mean_by_lr(sweeps[reference])
    lrs_all = np.concatenate([np.asarray(s.lrs, dtype=float) for s in sweeps.values()])
    lo, hi = np.log10(lrs_all.min()), np.log10(lrs_all.max())
    name = next(iter(sweeps.values())).metric_name
    maximize = next(iter(sweeps.values())).maximize
    fig = go.Figure()
    styled(fig, xaxis=dict(title="learning rate α (log scale)", type="log", range=[lo - 0.1, hi + 0.1]),
            yaxis=dict(title=f"final {name} (mean over seeds)", range=[0, 1.3] if maximize else None,
                       tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0] if maximize else None),
            legend=LEGEND_TOP_LEFT)

    def predicted(b: int, rule: str) -> float:
        """The reference's best α, moved by the rule."""
        return sweeps[reference].best() * scaling_factor(b / reference, rule)

    def traces(b):
        b = int(round(b))
        lrs, mean = mean_by_lr(sweeps[b])
        diverged = np.asarray(sweeps[b].summary()["diverged"])[np.argsort(np.asarray(sweeps[b].lrs, dtype=float))]
        crosses = diverged > 0
        return [
            dict(x=ref_lrs * b / reference, y=ref_mean, mode="lines", name="linear rule",
                 line=dict(color=CURVE_COLORS[1], dash="dash", width=2)),
            dict(x=ref_lrs * math.sqrt(b / reference), y=ref_mean, mode="lines",
                 name="√B rule",
                 line=dict(color=CURVE_COLORS[3], dash="dot", width=2)),
            dict(x=lrs, y=mean, mode="lines+markers", name="measured",
                 line=dict(color=CURVE_COLORS[0], width=3), marker=dict(size=8)),
            dict(x=lrs[crosses], y=np.where(np.isfinite(mean[crosses]), mean[crosses], 0.0), mode="markers",
                 name="diverged", marker=dict(symbol="x", size=13, color=DIVERGED_MARKER_COLOR)),
        ]

    def title(b):
        b = int(round(b))
        sweep = sweeps[b]
        best = sweep.best()
        i = int(np.argmin(np.abs(np.asarray(sweep.lrs, dtype=float) - best)))
        return (f"B = {b}: {steps_of(sweep)} steps · best α {best:.3g} ({sweep.summary()['mean'][i]:.3f})<br>"
                f"from B = {reference}'s best: linear rule {predicted(b, 'linear'):.3g}, "
                f"√B rule {predicted(b, 'sqrt'):.3g}")

    return Explorer(fig, traces, sizes.astype(float), value=float(sizes[-1] if value is None else value),
                    label="batch size B", title=title, log=True, grid_only=True, fmt="{:.0f}", height=500)


def log_curves_figure(sweep, log: str, lrs, *, title: str, y_title: str, x_title: str = "update",
                      y_range=None) -> go.Figure:
    """``logs[log]`` of every run at each α of ``lrs`` against the step: one colour per α, one
    line per seed, one legend entry per α (e.g. the policy's entropy in each rollout of an agent)."""
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"Invalid title: {title!r} (every figure says what it shows)")
    lrs = list(lrs)
    if not lrs:
        raise ValueError("Invalid lrs value: [] (expected at least one α of the sweep)")
    fig = go.Figure()
    for i, lr in enumerate(lrs):
        color = CURVE_COLORS[i % len(CURVE_COLORS)]
        for j, seed in enumerate(sweep.seeds):
            h = sweep[lr, seed]
            if log not in h.logs:
                raise ValueError(f"Invalid log value: {log!r} (the runs logged {sorted(h.logs)})")
            fig.add_trace(go.Scatter(y=np.asarray(h.logs[log], dtype=float), mode="lines",
                                     line=dict(color=color, width=1.5), name=f"α = {lr:.3g}",
                                     legendgroup=str(lr), showlegend=j == 0))
    return styled(fig, title_text=title, xaxis_title=x_title, yaxis=dict(title=y_title, range=y_range),
                  legend=dict(orientation="h", y=-0.2), margin=dict(l=60, r=20, t=60, b=40))


def tradeoff_figure(points: Mapping[str, object], *, title: str, x_title: str, y_title: str) -> go.Figure:
    """One labelled marker per setting at (x, y) = ``points[name]``, each a pair of
    (mean, std) pairs or of numbers: e.g. a fine-tuned model's loss on the new text (x) and
    on the old one (y), so that the best trade-offs sit at the bottom left. Error bars show
    the std when given."""
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"Invalid title: {title!r} (every figure says what it shows)")
    if not isinstance(points, Mapping) or not points:
        raise ValueError(f"Invalid points: {points!r} (expected a dict {{name: (x, y)}})")
    fig = go.Figure()
    for i, (name, (x, y)) in enumerate(points.items()):
        (x, dx), (y, dy) = ((float(v[0]), float(v[1])) if isinstance(v, (tuple, list)) else (float(v), 0.0)
                            for v in (x, y))
        fig.add_trace(go.Scatter(x=[x], y=[y], mode="markers+text", name=name, text=[name],
                                 textposition="top center", textfont=dict(size=11),
                                 error_x=dict(type="data", array=[dx], visible=dx > 0),
                                 error_y=dict(type="data", array=[dy], visible=dy > 0),
                                 marker=dict(color=LONG_PALETTE[i % len(LONG_PALETTE)], size=10)))
    return styled(fig, title_text=title, xaxis=dict(title=x_title), yaxis=dict(title=y_title), height=480,
                  showlegend=False)


def width_figure(panels: Mapping[str, Mapping[int, object]], *, title: str, last: int = 10) -> go.Figure:
    """Side by side, one panel per parametrization (``panels``: name → width → Sweep): the training
    loss (mean of the last ``last`` steps, log scale) against α, one curve per width, its lowest
    point marked. Diverged runs leave a gap. Under μP the minima line up; under SP they drift."""
    from lrcourse.results.analysis import final_losses
    if not panels or any(not sweeps for sweeps in panels.values()):
        raise ValueError(f"Invalid panels: {list(panels)!r} (expected names mapped to width → Sweep)")
    names = list(panels)
    fig = make_subplots(rows=1, cols=len(names), shared_yaxes=True, subplot_titles=names,
                        horizontal_spacing=0.04)
    for col, name in enumerate(names, start=1):
        for i, (width, sweep) in enumerate(sorted(panels[name].items())):
            lrs, losses = np.asarray(sweep.lrs, dtype=float), final_losses(sweep, last)
            color = LONG_PALETTE[i % len(LONG_PALETTE)]
            fig.add_trace(go.Scatter(x=lrs, y=losses, mode="lines+markers", name=f"width {width}",
                                     legendgroup=str(width), showlegend=col == 1,
                                     line=dict(color=color, width=2), marker=dict(size=5)), row=1, col=col)
            if np.any(np.isfinite(losses)):
                j = int(np.nanargmin(losses))
                fig.add_trace(go.Scatter(x=[lrs[j]], y=[losses[j]], mode="markers", showlegend=False,
                                         legendgroup=str(width), hoverinfo="skip",
                                         marker=dict(color=color, size=12, symbol="star")), row=1, col=col)
        fig.update_xaxes(type="log", exponentformat="power", title_text="learning rate α (log scale)",
                         row=1, col=col)
    fig.update_yaxes(type="log", exponentformat="power", title_text=f"training loss (last {last} steps)",
                     row=1, col=1)
    return styled(fig, title_text=title, height=460, legend=dict(orientation="h", y=-0.25))


def seed_band_figure(sweep, *, title: str, x_title: str, x_per_step: float = 1.0, baseline: float | None = None,
                     baseline_label: str = "random play", lrs=None) -> go.Figure:
    """The metric against training time, one line per α (the mean over seeds) in a band from the
    worst seed to the best; ``x_per_step`` converts steps to the x axis (e.g. frames per update),
    ``baseline`` draws a dashed reference line. ``lrs``: the α to draw (default: all)."""
    lrs = np.asarray(sweep.lrs if lrs is None else lrs, dtype=float)
    if x_per_step <= 0 or not math.isfinite(x_per_step):
        raise ValueError(f"Invalid x_per_step value: {x_per_step!r} (expected a positive number)")
    fig = go.Figure()
    for i, lr in enumerate(np.sort(lrs)):
        runs = [sweep[float(lr), seed] for seed in sweep.seeds]
        n = min(len(h.metric) for h in runs)
        x = np.asarray(runs[0].metric_steps[:n], dtype=float) * x_per_step
        values = np.array([np.asarray(h.metric[:n], dtype=float) for h in runs])
        color = LONG_PALETTE[i % len(LONG_PALETTE)]
        name = f"α = {lr:g}"
        with np.errstate(all="ignore"):
            low, high, mean = np.nanmin(values, 0), np.nanmax(values, 0), np.nanmean(values, 0)
        fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[high, low[::-1]], fill="toself", opacity=0.2,
                                 line=dict(width=0), fillcolor=color, legendgroup=name, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=mean, mode="lines", name=name, legendgroup=name,
                                 line=dict(color=color, width=2)))
    if baseline is not None:
        fig.add_hline(y=baseline, line=dict(color="gray", dash="dash", width=1.5),
                      annotation_text=baseline_label, annotation_position="top left")
    return styled(fig, title_text=title, xaxis=dict(title=x_title),
                  yaxis=dict(title=f"{sweep.metric_name} (mean of {len(sweep.seeds)} seeds; band: worst to best)"),
                  height=440, legend=dict(orientation="h", y=-0.2))
