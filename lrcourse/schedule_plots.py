"""Figures, explorers and tables for the chapter on learning-rate schedules (plotly).

* :func:`schedule_explorer` — a slider over one parameter of a schedule, drawing α(t);
* :func:`schedules_figure` — many schedules side by side, one small panel each;
* :func:`noisy_descent`, :func:`predicted_noise_floor`, :func:`noise_floor_explorer` —
  SGD with noisy gradients on a quadratic, and the loss level where a constant α stalls;
* :func:`lines_figure` — a few named curves on one plot;
* :func:`comparison_table`, :func:`peak_table`, :func:`peak_figure` — training sweeps
  over the peak α, one sweep per schedule (``cases.cnn.sweep(..., schedule=...)``).

This layer draws; it never imports torch (sweeps are read through their attributes).
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrcourse import _checks
from lrcourse.core import optim
from lrcourse.figures.explorer import Explorer
from lrcourse.figures.landscapes import CURVE_COLORS, styled
from lrcourse.core.objectives import Objective

REFERENCE_COLOR = "#9e9e9e"
COLORS = CURVE_COLORS + ("#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
# Explorers keep their legend inside the plot: below it, it would collide with the slider.
INSIDE_LEGEND = dict(x=0.99, y=0.99, xanchor="right", yanchor="top", bgcolor="rgba(255,255,255,0.8)")


# -- one schedule, one parameter on a slider ----------------------------------------------

def schedule_summary(schedule, steps: int) -> str:
    """Where α(t) starts, peaks and ends over ``steps`` steps, and Σα (two lines for a title)."""
    lrs = schedule(np.arange(steps))
    peak = int(np.argmax(lrs))
    return (f"Σα = {lrs.sum():.3g} over {steps} steps<br>start {lrs[0]:.3g} · peak {lrs[peak]:.3g} "
            f"(step {peak}) · end {lrs[-1]:.3g}")


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
            legend=INSIDE_LEGEND)

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
                                 line=dict(color=COLORS[i % len(COLORS)], width=2)),
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
                                 line=dict(color=COLORS[i % len(COLORS)], width=2,
                                           dash=(dash or {}).get(name, "solid"))))
    return styled(fig, title_text=title, xaxis=dict(title=x_title),
                   yaxis=dict(title=y_title, type="log" if log_y else "linear", exponentformat="power"), height=440,
                   legend=dict(orientation="h", y=-0.2))


# -- noisy gradients: the floor a constant α stalls at --------------------------------------

def noisy_descent(objective: Objective, w0, lr, steps: int, *, noise: float, seeds: int = 200,
                  seed: int = 0, optimizer: Callable[..., optim.Optimizer] = optim.sgd) -> np.ndarray:
    """The loss of ``seeds`` independent runs of SGD with noisy gradients: shape (steps + 1, seeds).

    Each step sees the true gradient plus Gaussian noise of standard deviation ``noise``
    in every coordinate, like a mini-batch gradient::

        g_t = ∇f(w_t) + noise · ξ_t,   ξ_t ~ N(0, I)
        w_{t+1} = w_t − α_t g_t        (α_t = lr, or lr(t) for a schedule)

    The noise comes from ``numpy.random.default_rng(seed)``: the same ``seed`` gives the
    same noise to every schedule, so they are compared on the same draws. ``lr`` may also
    be an array of n constant rates shaped (n, 1, 1), to run them all at once: the
    losses then have shape (steps + 1, n, seeds).
    """
    steps = _checks.positive_int(steps, "steps")
    seeds = _checks.positive_int(seeds, "seeds")
    _checks.nonnegative(noise, "noise value")
    rng = np.random.default_rng(seed)
    w = np.tile(np.asarray(w0, dtype=float).reshape(-1), (seeds, 1))    # one row per run
    if np.ndim(lr) == 3:                                                 # one block of runs per rate
        w = np.broadcast_to(w, (np.shape(lr)[0],) + w.shape).copy()
    opt = optimizer(lr)
    state = opt.init(w)
    losses = [objective.value(w)]
    for _ in range(steps):
        g = objective.grad(w) + noise * rng.standard_normal(w.shape)
        w, state = opt.step(w, g, state)
        losses.append(objective.value(w))
    return np.array(losses)


def predicted_noise_floor(objective: Objective, lr, noise: float):
    """Expected loss of SGD at a constant ``lr`` once it has settled, on a quadratic.

    Along an eigenvector of curvature λ the coordinate follows c ← (1 − αλ) c − α σ ξ,
    whose variance settles at α σ² / (λ (2 − αλ)); its share of the loss is ½ λ c², so::

        floor(α) = Σ_λ α σ² / (2 (2 − αλ))  ≈  d α σ² / 4   for small α (d = dimension)

    proportional to α and to the noise variance σ², and almost independent of the curvature.
    """
    if objective.curvature is None:
        raise ValueError(f"Invalid objective: {objective.name} is not a quadratic (no constant curvature)")
    lams = np.linalg.eigvalsh(objective.grad(np.eye(objective.dim)))     # the Hessian's eigenvalues
    lr = np.asarray(lr, dtype=float)[..., None]
    return np.sum(lr * noise**2 / (2 * (2 - lr * lams)), axis=-1)


def noise_floor_explorer(objective: Objective, w0, lrs, *, steps: int, noise: float, seeds: int = 200,
                         value: float | None = None, stride: int = 5) -> Explorer:
    """A slider over a constant α: the mean loss of noisy SGD (log scale) and its predicted floor."""
    steps = _checks.positive_int(steps, "steps")
    lrs = np.asarray(lrs, dtype=float)
    t = np.unique(np.r_[np.arange(0, steps + 1, stride), steps])

    # the whole grid in one batched run; the live slider computes other values as it goes
    grid = noisy_descent(objective, w0, lrs[:, None, None], steps, noise=noise, seeds=seeds).mean(axis=-1)
    cache = {float(lr): grid[:, i] for i, lr in enumerate(lrs)}

    def mean_loss(lr):
        lr = float(lr)
        if lr not in cache:  # the traces and the title both need it
            cache[lr] = noisy_descent(objective, w0, lr, steps, noise=noise, seeds=seeds).mean(axis=1)
        return cache[lr]

    start_loss = float(objective.value(np.asarray(w0, dtype=float)))
    low = float(predicted_noise_floor(objective, lrs.min(), noise))
    fig = go.Figure()
    styled(fig, xaxis=dict(title="step t", range=[0, steps]),
            yaxis=dict(title=f"loss, mean of {seeds} runs", type="log",
                       range=[np.log10(low) - 0.5, np.log10(start_loss) + 0.2], exponentformat="power"),
            legend=INSIDE_LEGEND)

    def traces(lr):
        floor = float(predicted_noise_floor(objective, lr, noise))
        return [dict(x=t, y=mean_loss(lr)[t], mode="lines", name="mean loss",
                     line=dict(color=CURVE_COLORS[0], width=2)),
                dict(x=[0, steps], y=[floor, floor], mode="lines", name="predicted floor",
                     line=dict(color=CURVE_COLORS[2], dash="dash", width=1.5))]

    def title(lr):
        measured = mean_loss(lr)[steps // 2:].mean()
        floor = float(predicted_noise_floor(objective, lr, noise))
        return (f"constant α = {lr:.3g}: loss over the last {steps - steps // 2} steps {measured:.3g}"
                f"<br>predicted floor {floor:.3g}")

    return Explorer(fig, traces, lrs, value=value, title=title, height=430)


# -- training sweeps, one per schedule -----------------------------------------------------

def train_loss(history, last: int) -> float:
    """Mean training loss over the run's last ``last`` steps (``nan`` for a run that diverged)."""
    if history.diverged or len(history.loss) == 0:
        return float("nan")
    return float(np.mean(history.loss[-last:]))


def _check_sweeps(sweeps: Mapping[str, object]) -> list[float]:
    if not sweeps:
        raise ValueError("Invalid sweeps value: {} (expected at least one sweep)")
    peaks = [list(np.asarray(s.lrs, dtype=float)) for s in sweeps.values()]
    if any(p != peaks[0] for p in peaks):
        raise ValueError(f"Invalid sweeps value: their peak α grids differ ({peaks})")
    return peaks[0]


def comparison_table(sweeps: Mapping[str, object], *, last: int, peak: float | None = None) -> str:
    """One row per schedule: peak α, final metric mean ± std over seeds, training loss, runs diverged.

    ``peak=None``: each schedule at the peak α where its mean final metric is best;
    otherwise all at that ``peak``. The training loss is the mean over the last ``last``
    steps, averaged over the seeds that did not diverge.
    """
    peaks = _check_sweeps(sweeps)
    name_width = max(len(n) for n in sweeps) + 2
    some = next(iter(sweeps.values()))
    rows = [f"{'schedule':<{name_width}}{'peak α':>7}  {some.metric_name + ' (mean ± std)':>26}"
            f"  {'train loss':>10}  diverged"]
    for name, sweep in sweeps.items():
        lr = sweep.best() if peak is None else peak
        i = int(np.argmin(np.abs(np.log(peaks) - np.log(lr))))
        s = sweep.summary()
        histories = sweep.grid[i]
        losses = [train_loss(h, last) for h in histories]
        loss = np.mean([v for v in losses if np.isfinite(v)]) if any(np.isfinite(losses)) else float("nan")
        rows.append(f"{name:<{name_width}}{peaks[i]:>7.3g}  {s['mean'][i]:>17.3f} ± {s['std'][i]:<6.3f}"
                    f"  {loss:>10.4f}  {s['diverged'][i]:>4d}/{len(sweep.seeds)}")
    return "\n".join(rows)


def peak_table(sweeps: Mapping[str, object]) -> str:
    """Mean final metric of each schedule (rows) at each peak α (columns); ✕n marks n diverged runs."""
    peaks = _check_sweeps(sweeps)
    name_width = max(len(n) for n in sweeps) + 2
    rows = [f"{'peak α':<{name_width}}" + "".join(f"{p:>9.3g}" for p in peaks)]
    for name, sweep in sweeps.items():
        s = sweep.summary()
        cells = [f"{m:.3f}" + (f"✕{d}" if d else "") for m, d in zip(s["mean"], s["diverged"])]
        rows.append(f"{name:<{name_width}}" + "".join(f"{c:>9}" for c in cells))
    return "\n".join(rows)


def peak_figure(sweeps: Mapping[str, object], *, title: str, error: bool = True) -> go.Figure:
    """Final metric against the peak α (log x): per schedule, the mean over seeds as a line
    and every seed as a faint dot.

    ``error=True`` plots 1 − metric on a log axis (for an accuracy: the test error), so that
    both a 2 % error and a collapse to chance are readable on one plot.
    """
    peaks = np.asarray(_check_sweeps(sweeps))
    some = next(iter(sweeps.values()))
    fig = go.Figure()
    for i, (name, sweep) in enumerate(sweeps.items()):
        color = COLORS[i % len(COLORS)]
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
