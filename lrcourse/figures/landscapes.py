"""Figures and explorers of optimizers on loss landscapes (the core's objectives):
trajectories, where runs end, rates on a quadratic, paths of several optimizers, noise floors.
"""

from __future__ import annotations

import functools
import re
from typing import Callable, Mapping

import numpy as np
import plotly.graph_objects as go

from lrcourse import _checks
from lrcourse.core import optim, theory
from lrcourse.core.descent import describe, final_positions, landing, landing_labels, noisy_descent, run
from lrcourse.core.objectives import Objective
from lrcourse.core.theory import predicted_noise_floor
from lrcourse.figures.explorer import Explorer
from lrcourse.figures.style import (
    CURVE_COLORS,
    LEGEND_BOTTOM_RIGHT,
    LEGEND_TOP_RIGHT,
    PATH_COLOR,
    SURFACE_COLOR,
    styled,
)
from lrcourse.results.analysis import ROLES, Selection


def trajectory_explorer(objective: Objective, w0, lrs, *, steps: int = 30,
                        optimizer: Callable[..., optim.Optimizer] = optim.sgd,
                        value: float | None = None, bounds=None, tol: float = 1e-3,
                        loss_range=None, name_minimum: bool = False) -> Explorer:
    """An α slider over gradient-descent trajectories on a 1-D or 2-D ``objective``.

    1-D: the loss curve with the iterates on it. 2-D: contour lines with the path.
    The title says what the run did (``descent.describe``), and with ``name_minimum``
    which minimum it settled in (for objectives with several). ``bounds`` is the plotted
    box: ((x_lo, x_hi),) in 1-D or ((x_lo, x_hi), (y_lo, y_hi)) in 2-D.
    """
    if objective.dim not in (1, 2):
        raise ValueError(f"Invalid objective: {objective.name} has dimension {objective.dim}; "
                         "a trajectory explorer draws 1-D or 2-D objectives")
    w0 = np.asarray(w0, dtype=float).reshape(-1)
    if bounds is None:
        reach = 1.6 * max(np.abs(w0).max(), np.abs(objective.minimizers).max(), 1.0)
        bounds = [(-reach, reach)] * objective.dim

    def one_run(lr):
        return run(objective, w0, [lr], steps, optimizer)

    labels = landing_labels(objective)

    def title(lr):
        runs = one_run(lr)
        text = f"α = {lr:.3g}:<br>{describe(runs, 0, objective.minimizers, tol)}"  # two lines fit a phone
        site = landing(runs.final(), objective.minimizers, tol)[0]
        if name_minimum and site < len(objective.minimizers):
            text += f"<br>ends in the {labels[site].split(' (')[0]}"
        return text

    if objective.dim == 1:
        (lo, hi), = bounds
        xs = np.linspace(lo, hi, 400)
        fs = objective.value(xs[:, None])
        fig = go.Figure(go.Scatter(x=xs, y=fs, mode="lines", name="loss L(w)",
                                   line=dict(color=SURFACE_COLOR), hoverinfo="skip"))
        fig.update_layout(xaxis=dict(title="w", range=[lo, hi]),
                          yaxis=dict(title="L(w)", range=loss_range or [fs.min() - 0.05 * np.ptp(fs), fs.max()]))

        def traces(lr):
            r = one_run(lr)
            x = r.path[:, 0, 0]
            return [dict(x=x, y=r.loss[:, 0], mode="lines+markers", name="steps",
                         line=dict(color=PATH_COLOR, width=1), marker=dict(size=7),
                         text=[f"step {t}" for t in range(len(x))])]
    else:
        (x_lo, x_hi), (y_lo, y_hi) = bounds
        gx, gy = np.linspace(x_lo, x_hi, 120), np.linspace(y_lo, y_hi, 120)
        grid = np.stack(np.meshgrid(gx, gy), axis=-1)
        z = objective.value(grid)
        fig = go.Figure(go.Contour(x=gx, y=gy, z=np.log10(z - objective.min_value + 1e-3),
                                   colorscale="Blues", reversescale=True, showscale=False,
                                   contours=dict(coloring="lines"), hoverinfo="skip",
                                   name="log loss contours"))
        fig.add_trace(go.Scatter(x=objective.minimizers[:, 0], y=objective.minimizers[:, 1], mode="markers",
                                 marker=dict(symbol="star", size=14, color="black"), name="minimum"))
        fig.update_layout(xaxis=dict(title="w₁", range=[x_lo, x_hi]),
                          yaxis=dict(title="w₂", range=[y_lo, y_hi], scaleanchor="x"))

        def traces(lr):
            r = one_run(lr)
            return [dict(x=r.path[:, 0, 0], y=r.path[:, 0, 1], mode="lines+markers", name="path",
                         line=dict(color=PATH_COLOR, width=1.5), marker=dict(size=5),
                         text=[f"step {t}" for t in range(len(r.path))])]

    fig.update_layout(margin=dict(l=50, r=20, t=105 if name_minimum else 85, b=40), showlegend=False,
                      title_font_size=15, template="plotly_white")  # name_minimum adds a third title line
    return Explorer(fig, traces, lrs, value=value, title=title)


def _curvature_1d(objective: Objective, w: float, h: float = 1e-5) -> float:
    """f''(w) by a central difference of the analytic gradient."""
    g = objective.grad(np.array([[w + h], [w - h]]))[:, 0]
    return float((g[0] - g[1]) / (2 * h))

LANDING_COLORS = ("#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")  # the minima, in order

NOT_SETTLED_COLOR, DIVERGED_COLOR = "#d9d9d9", "#404040"


def basin_map(objective: Objective, starts, lrs, *, steps: int = 300, tol: float = 1e-3,
              optimizer: Callable[..., optim.Optimizer] = optim.sgd) -> go.Figure:
    """Which minimum gradient descent ends in, for every start w₀ (vertical) and α (horizontal).

    A 1-D ``objective``. Dashed lines mark the minima and the barriers between them;
    dotted vertical lines mark α = 2 / f''(w*), above which a run cannot settle in w*.
    """
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    starts = np.asarray(starts, dtype=float).reshape(-1)
    for name, values in (("lrs", lrs), ("starts", starts)):
        if values.size < 2 or not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
            raise ValueError(f"Invalid {name} value: {values.tolist()!r} (expected at least two increasing numbers)")
    if lrs[0] <= 0:
        raise ValueError(f"Invalid learning rate: {lrs[0]} (the map has a log axis: α must be > 0)")
    codes = landing(final_positions(objective, starts, lrs, steps, optimizer), objective.minimizers, tol)
    labels = landing_labels(objective)
    k = len(objective.minimizers)
    colors = [LANDING_COLORS[i % len(LANDING_COLORS)] for i in range(k)] + [NOT_SETTLED_COLOR, DIVERGED_COLOR]
    n = len(colors)
    scale = []
    for i, color in enumerate(colors):  # one flat band of colour per code
        scale += [[i / n, color], [(i + 1) / n, color]]
    fig = go.Figure(go.Heatmap(x=np.log10(lrs), y=starts, z=codes, zmin=-0.5, zmax=n - 0.5,
                               colorscale=scale, showscale=False, name="outcome",
                               hovertemplate="start w₀ = %{y:.2f}<extra></extra>"))
    for label, color in zip(labels, colors):  # legend entries for the colours
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=label,
                                 marker=dict(symbol="square", size=12, color=color)))
    minima = np.sort(objective.minimizers[:, 0])
    limits = sorted((theory.critical_lr(_curvature_1d(objective, w)), w) for w in objective.minimizers[:, 0])
    for i, (limit, w) in enumerate(limits):
        fig.add_hline(y=w, line=dict(color="black", dash="dash", width=1))
        fig.add_vline(x=np.log10(limit), line=dict(color="black", dash="dot", width=1))
        fig.add_annotation(x=np.log10(limit), y=1.0, yref="paper", yanchor="bottom", showarrow=False,
                           xanchor="right", yshift=15 * (len(limits) - 1 - i), font=dict(size=11),
                           text=f"2/f''({w:.2f})".replace("-", "−"))  # one row per line: no overlap
    for left, right in zip(minima[:-1], minima[1:]):
        between = np.linspace(left, right, 2001)
        barrier = between[np.argmax(objective.value(between[:, None]))]
        fig.add_hline(y=barrier, line=dict(color="gray", dash="dash", width=1),
                      annotation_text="barrier", annotation_position="bottom left")
    ticks = [t for t in (1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.5, 1.0, 2.0)
             if lrs.min() <= t <= lrs.max()]
    x, y = np.log10(lrs), starts
    fig.update_layout(
        title_text=f"Where gradient descent ends ({steps} steps)",
        xaxis=dict(title="learning rate α (log scale)", tickvals=np.log10(ticks), ticktext=[f"{t:g}" for t in ticks],
                   range=[x[0] - (x[1] - x[0]) / 2, x[-1] + (x[-1] - x[-2]) / 2]),
        yaxis=dict(title="start w₀", range=[y[0] - (y[1] - y[0]) / 2, y[-1] + (y[-1] - y[-2]) / 2]),
        template="plotly_white", height=500, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0),
        margin=dict(l=50, r=20, t=80, b=40))
    return fig


def rate_curve(L: float, mu: float, lrs=None, measured=None) -> go.Figure:
    """The predicted rate max(|1 − αμ|, |1 − αL|) over α, with measured rates as points.

    Thin lines show each direction's factor |1 − αλ|; dotted verticals mark the optimal
    α = 2/(L + μ) and the critical α = 2/L.
    """
    best, critical = theory.optimal_lr(L, mu), theory.critical_lr(L)
    alpha = np.linspace(0.0, 1.2 * critical, 481)
    fig = go.Figure()
    for lam, name, color in ((mu, "μ", CURVE_COLORS[1]), (L, "L", CURVE_COLORS[4])):
        fig.add_trace(go.Scatter(x=alpha, y=np.abs(1 - alpha * lam), mode="lines", name=f"|1 − α{name}|",
                                 line=dict(color=color, width=1, dash="dash")))
    fig.add_trace(go.Scatter(x=alpha, y=theory.rate(alpha, L, mu), mode="lines", name="predicted rate",
                             line=dict(color=CURVE_COLORS[0], width=3)))
    if measured is not None:
        fig.add_trace(go.Scatter(x=np.asarray(lrs, dtype=float), y=np.asarray(measured, dtype=float),
                                 mode="markers", name="measured rate",
                                 marker=dict(color=PATH_COLOR, size=8, symbol="circle-open", line=dict(width=2))))
    fig.add_hline(y=1, line=dict(color="gray", width=1))
    for row, (x, text) in enumerate(((best, "2/(L+μ)"), (critical, "2/L"))):
        fig.add_vline(x=x, line=dict(color="black", dash="dot", width=1))
        fig.add_annotation(x=x, y=1.0, yref="paper", yanchor="bottom", xanchor="right", showarrow=False,
                           yshift=15 * (1 - row), text=text, font=dict(size=11))  # one row each: no overlap
    fig.update_layout(title_text=f"Rate per step: μ = {mu:g}, L = {L:g}",
                      xaxis=dict(title="learning rate α"), yaxis=dict(title="error factor per step", range=[0, 1.5]),
                      template="plotly_white", height=440, legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
                      margin=dict(l=50, r=20, t=80, b=40))
    return fig


def eigen_explorer(objective: Objective, w0, lrs, *, steps: int = 40, value: float | None = None) -> Explorer:
    """An α slider over the coordinates of the iterates along the Hessian's eigenvectors.

    For a quadratic, ``objective.grad(w) = A w``: each coordinate c_λ is multiplied by
    (1 − αλ) per step, independently of the others. The title gives those factors.
    """
    if objective.curvature is None:
        raise ValueError(f"Invalid objective: {objective.name} is not a quadratic (no constant curvature)")
    w0 = np.asarray(w0, dtype=float).reshape(-1)
    hessian = objective.grad(np.eye(objective.dim))  # rows of A, since grad(w) = w A
    lams, vectors = np.linalg.eigh(hessian)
    vectors = vectors * np.where(w0 @ vectors < 0, -1.0, 1.0)  # start every coordinate ≥ 0
    reach = 1.15 * max(np.abs(w0 @ vectors).max(), 1e-12)
    fig = go.Figure()
    fig.add_hline(y=0, line=dict(color="gray", width=1))
    fig.update_layout(xaxis=dict(title="step t", range=[-0.5, steps + 0.5]),
                      yaxis=dict(title="c_λ(t), along each eigenvector", range=[-reach, reach]),
                      template="plotly_white", margin=dict(l=50, r=20, t=70, b=40),
                      legend=dict(yanchor="top", y=0.98, xanchor="right", x=0.98, bgcolor="rgba(255,255,255,0.8)"))
    ts = np.arange(steps + 1)

    def traces(lr):
        coords = run(objective, w0, [lr], steps).path[:, 0] @ vectors
        return [dict(x=ts, y=coords[:, j], mode="lines+markers", name=f"λ = {lam:g}",
                     line=dict(color=CURVE_COLORS[(1, 4, 0, 3)[j % 4]], width=1.5), marker=dict(size=5))
                for j, lam in enumerate(lams)]

    def title(lr):
        factors = ", ".join(f"{1 - lr * lam:+.2f} for λ = {lam:g}" for lam in lams)
        return f"α = {lr:.3g}: each c_λ × (1 − αλ) per step<br>{factors}"  # two lines: fits a phone

    return Explorer(fig, traces, lrs, value=value, title=title)

PATH_COLORS = (PATH_COLOR, "#2ca02c", "#9467bd", "#ff7f0e")


def stability_map(betas, products, rates, *, title: str = "Heavy-ball momentum on a 1-D quadratic") -> go.Figure:
    """A heat map of measured per-step rates over β (x) and αλ (y), with the edge αλ = 2(1 + β).

    ``rates[i, j]`` is the rate measured at ``products[i]`` and ``betas[j]``; ``inf`` or NaN
    marks a run that diverged. Rates ≥ 1 are drawn in one colour: the run does not converge.
    """
    betas = np.asarray(betas, dtype=float).reshape(-1)
    products = np.asarray(products, dtype=float).reshape(-1)
    rates = np.asarray(rates, dtype=float)
    if rates.shape != (products.size, betas.size):
        raise ValueError(f"Invalid rates: shape {rates.shape} (expected {(products.size, betas.size)}: "
                         "one row per αλ, one column per β)")
    shown = np.where(np.isfinite(rates), np.minimum(rates, 1.0), 1.0)
    fig = go.Figure(go.Heatmap(
        x=betas, y=products, z=shown, zmin=0.0, zmax=1.0, colorscale="Viridis",
        colorbar=dict(title=dict(text="rate per step"), len=0.8),
        hovertemplate="β = %{x:.2f}, αλ = %{y:.2f}: rate %{z:.3f}<extra></extra>", name="measured rate"))
    edge = np.linspace(betas.min(), betas.max(), 200)
    fig.add_trace(go.Scatter(x=edge, y=2 * (1 + edge), mode="lines", name="predicted edge αλ = 2(1 + β)",
                             line=dict(color="black", width=2.5, dash="dash")))
    fig.add_trace(go.Scatter(x=edge, y=np.full_like(edge, 2.0), mode="lines", name="plain gradient descent: αλ = 2",
                             line=dict(color="black", width=1.5, dash="dot")))
    return styled(fig, title_text=title,
                   xaxis=dict(title="momentum β", range=[betas.min(), betas.max()]),
                   yaxis=dict(title="α · λ", range=[products.min(), products.max()]),
                   height=480, legend=dict(orientation="h", yanchor="top", y=-0.15, x=0))


def _verdict(runs, objective: Objective, tol: float) -> str:
    """Short: "diverges at step 7", or "loss 0.013, crawls: still 0.16 away" (no step count)."""
    if runs.diverged[0]:
        return f"diverges at step {runs.diverged_at[0]}"
    loss = runs.loss[-1, 0] - objective.min_value
    text = re.sub(r" after \d+ steps$", "", describe(runs, 0, objective.minimizers, tol))
    return f"loss {loss:.2g}, {text}"


def paths_explorer(objective: Objective, w0, lrs, optimizers: Mapping[str, Callable[..., optim.Optimizer]], *,
                   steps: int = 100, value: float | None = None, bounds=None, tol: float = 1e-3) -> Explorer:
    """An α slider over the paths of several optimizers, all at the same α, on a 2-D ``objective``.

    ``optimizers`` maps a label to a factory of :mod:`lrcourse.core.optim` (``{"GD": optim.sgd,
    "Adam": optim.adam}``). The title gives, for each, its loss after ``steps`` steps and
    what the run did, or the step where it diverged.
    """
    if objective.dim != 2:
        raise ValueError(f"Invalid objective: {objective.name} has dimension {objective.dim} (expected 2)")
    if not optimizers:
        raise ValueError("Invalid optimizers: {} (expected at least one label -> optimizer factory)")
    steps = _checks.positive_int(steps, "steps")
    w0 = np.asarray(w0, dtype=float).reshape(-1)
    if bounds is None:
        reach = 1.6 * max(np.abs(w0).max(), np.abs(objective.minimizers).max(), 1.0)
        bounds = [(-reach, reach)] * 2
    (x_lo, x_hi), (y_lo, y_hi) = bounds
    names = list(optimizers)

    @functools.lru_cache(maxsize=None)
    def runs_at(lr: float):
        return {name: run(objective, w0, [lr], steps, optimizers[name]) for name in names}

    gx, gy = np.linspace(x_lo, x_hi, 120), np.linspace(y_lo, y_hi, 120)
    z = objective.value(np.stack(np.meshgrid(gx, gy), axis=-1))
    fig = go.Figure(go.Contour(x=gx, y=gy, z=np.log10(z - objective.min_value + 1e-3), colorscale="Blues",
                               reversescale=True, showscale=False, contours=dict(coloring="lines"),
                               hoverinfo="skip", name="log loss contours"))
    fig.add_trace(go.Scatter(x=objective.minimizers[:, 0], y=objective.minimizers[:, 1], mode="markers",
                             marker=dict(symbol="star", size=14, color="black"), name="minimum", showlegend=False))
    styled(fig, xaxis=dict(title="w₁", range=[x_lo, x_hi], constrain="domain"),
            yaxis=dict(title="w₂", range=[y_lo, y_hi], scaleanchor="x", constrain="domain"),
            margin=dict(l=50, r=20, t=30 + 22 * (len(names) + 1), b=40), legend=LEGEND_BOTTOM_RIGHT)

    def traces(lr):
        out = []
        for k, name in enumerate(names):
            path = runs_at(float(lr))[name].path[:, 0]
            out.append(dict(x=path[:, 0], y=path[:, 1], mode="lines+markers", name=name,
                            line=dict(color=PATH_COLORS[k % len(PATH_COLORS)], width=1.5), marker=dict(size=4),
                            text=[f"{name}, step {t}" for t in range(len(path))]))
        return out

    def title(lr):
        lines = [f"α = {lr:.3g}, {steps} steps:"]
        lines += [f"{name}: {_verdict(runs_at(float(lr))[name], objective, tol)}" for name in names]
        return "<br>".join(lines)

    return Explorer(fig, traces, lrs, value=value, title=title)


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
            legend=LEGEND_TOP_RIGHT)

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

ROLE_COLORS = {"flat": "#2ca02c", "sharp": "#ff7f0e"}

WELL_DASHES = ("solid", "dash", "dot", "dashdot")


def selection_figure(result: Selection) -> go.Figure:
    """% of starts ending in the flat (green) and the sharp (orange) minimum, or neither (grey), against α;
    one dash style per well.

    Dotted verticals mark α = 2/λ of each minimum: above it no run can settle there.
    """
    fig = go.Figure()
    for w, name in enumerate(result.roles):
        shares = result.shares(name)
        dash = WELL_DASHES[w % len(WELL_DASHES)]
        for role in ROLES[:2]:
            fig.add_trace(go.Scatter(x=result.lrs, y=shares[role], mode="lines", name=f"{name}: ends in the {role} minimum",
                                     line=dict(color=ROLE_COLORS[role], dash=dash, width=2.5)))
        fig.add_trace(go.Scatter(x=result.lrs, y=shares["not settled"] + shares["diverged"], mode="lines",
                                 name=f"{name}: neither (bouncing or diverged)", line=dict(color="gray", dash=dash, width=1.5)))
    labels = {}
    for name in result.roles:
        for role, lam in zip(ROLES[:2], result.sharpness[name]):
            labels.setdefault(f"2/λ of the {role} minimum", []).append(theory.critical_lr(lam))
    for text, limits in labels.items():  # traces, not shapes: on a log axis their x is plain α
        for k, limit in enumerate(limits):
            fig.add_trace(go.Scatter(x=[limit, limit], y=[0, 100], mode="lines+text", showlegend=False,
                                     text=["", f"{text} ≈ {np.mean(limits):.3g}" if k == 0 else ""],
                                     textposition="top left", textfont=dict(size=11), hoverinfo="skip",
                                     name=text, line=dict(color="black", dash="dot", width=1)))
    return styled(fig, title_text=f"Where gradient descent ends: flat or sharp, deep or shallow ({result.steps} steps)",
                  xaxis=dict(title="learning rate α (log scale)", type="log"),
                  yaxis=dict(title="% of starts ending there", range=[-3, 110]), height=480,
                  legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
