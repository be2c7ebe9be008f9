"""Figures and explorers built from the core (plotly). Notebooks call these in one line."""

from __future__ import annotations

from typing import Callable

import numpy as np
import plotly.graph_objects as go

from lrcourse import _checks, logistic, optim, theory
from lrcourse.descent import BLOWUP, describe, run
from lrcourse.explorer import Explorer
from lrcourse.objectives import Objective

PATH_COLOR = "#d62728"
SURFACE_COLOR = "#1f77b4"
CURVE_COLORS = ("#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#8c564b")


class StaticFigure:
    """A plotly figure shown as ``text/html`` with a fixed div id.

    plotly 7 emits only its own mime type, which the static book cannot render, and a
    random div id, which nbval would flag; this wrapper fixes both.
    """

    def __init__(self, figure: go.Figure, div_id: str):
        self.figure, self.div_id = figure, div_id

    def _repr_html_(self) -> str:
        return self.figure.to_html(full_html=False, include_plotlyjs=False, div_id=self.div_id,
                                   config={"responsive": True, "displaylogo": False})

    def __repr__(self) -> str:
        title = self.figure.layout.title.text or self.div_id
        return f"Figure: {title}"


def show(figure: go.Figure, div_id: str) -> StaticFigure:
    """Display ``figure`` in a notebook so that the static book draws it too (``div_id`` unique per page)."""
    return StaticFigure(figure, div_id)


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


# -- where runs end: which minimum, or none ----------------------------------------------

def landing(final, minimizers, tol: float = 1e-3) -> np.ndarray:
    """Where each run ended, as a code per run.

    ``final`` holds last points, shape (..., dim) (NaN rows for diverged runs, as
    ``Runs.final()`` gives them). The code is i when the point is within ``tol`` of
    ``minimizers[i]``, k = len(minimizers) when it is near none of them (still moving,
    or bouncing), and k + 1 when the run diverged.
    """
    final = np.asarray(final, dtype=float)
    minimizers = np.atleast_2d(np.asarray(minimizers, dtype=float))
    k = len(minimizers)
    distance = np.linalg.norm(final[..., None, :] - minimizers, axis=-1)  # (..., k)
    with np.errstate(invalid="ignore"):
        nearest = np.argmin(np.nan_to_num(distance, nan=np.inf), axis=-1)
        codes = np.where(np.min(distance, axis=-1) <= tol, nearest, k)
    return np.where(np.isnan(final).any(axis=-1), k + 1, codes)


def landing_labels(objective: Objective) -> list[str]:
    """Names for the codes of :func:`landing`: the minima (global = lowest value), then the rest."""
    values = objective.value(objective.minimizers)
    names = []
    for w, v in zip(objective.minimizers, values):
        kind = "global" if np.isclose(v, values.min()) else "local"
        where = f"{w[0]:.2f}" if w.size == 1 else "(" + ", ".join(f"{x:.2f}" for x in w) + ")"
        names.append(f"{kind} minimum (w = {where})".replace("-", "−"))
    return names + ["not settled", "diverged"]


def _curvature_1d(objective: Objective, w: float, h: float = 1e-5) -> float:
    """f''(w) by a central difference of the analytic gradient."""
    g = objective.grad(np.array([[w + h], [w - h]]))[:, 0]
    return float((g[0] - g[1]) / (2 * h))


def final_positions(objective: Objective, starts, lrs, steps: int,
                    optimizer: Callable[..., optim.Optimizer] = optim.sgd) -> np.ndarray:
    """The last point of every run from every start, for every α: shape (n_starts, n_α, 1).

    A 1-D ``objective`` only. The same broadcasting trick as ``descent.run``, one axis
    more: w has shape (n_starts, n_α, 1) and α shape (1, n_α, 1). A run whose |w| passes
    ``BLOWUP`` times its start becomes NaN, as in ``descent.run``.
    """
    if objective.dim != 1:
        raise ValueError(f"Invalid objective: {objective.name} has dimension {objective.dim} (expected 1)")
    steps = _checks.positive_int(steps, "steps")
    starts = np.asarray(starts, dtype=float).reshape(-1)
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    _checks.nonnegative(lrs, "learning rate")
    w = np.repeat(starts[:, None, None], lrs.size, axis=1)
    opt = optimizer(lrs[None, :, None])
    state = opt.init(w)
    limit = BLOWUP * np.maximum(np.abs(w), 1.0)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            w, state = opt.step(w, objective.grad(w), state)
            w = np.where(np.abs(w) <= limit, w, np.nan)  # NaN stays NaN: the run is frozen
    return w


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


# -- the quadratic, direction by direction -----------------------------------------------

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


# -- figures of training sweeps (case studies) ------------------------------------------

DIVERGED_MARKER_COLOR = "#d62728"  # the ✕ where a training run diverged
BOOK_LAYOUT = dict(template="plotly_white", margin=dict(l=60, r=20, t=85, b=40), title_font_size=15)
"""The layout every chapter figure starts from: white background, room above for a two-line title."""


def styled(fig: go.Figure, **layout) -> go.Figure:
    """``fig`` with :data:`BOOK_LAYOUT`, then ``layout`` on top of it (``fig.update_layout``)."""
    fig.update_layout(**{**BOOK_LAYOUT, **layout})
    return fig


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` points (shorter at the start), so curves keep their length."""
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumsum[1:] - cumsum[np.maximum(np.arange(1, len(values) + 1) - window, 0)]) / counts


def _curve(history, quantity: str, smooth: int):
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


def plain(x: float, digits: int = 3) -> str:
    """``digits`` significant digits without an exponent where one is not needed: 170, not 1.7e+02."""
    return f"{float(f'{x:.{digits}g}'):g}" if np.isfinite(x) else str(x)


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
    curves = {float(lrs[i]): [_curve(h, quantity, smooth) for h in grid[i]] for i in order}
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


# -- chapter 1: a classifier trained at a few learning rates -------------------------------

def training_table(trained, lrs, data) -> str:
    """One row per named run of ``logistic.train``: α, final training loss, train and test accuracy,
    or where the run diverged. ``trained`` and ``lrs`` are dicts keyed by the same names; ``data``
    is the ``logistic.TwoDigits`` split the runs were trained on."""
    if set(trained) != set(lrs):
        raise ValueError(f"Invalid lrs value: names {sorted(lrs)} (expected the names of trained, {sorted(trained)})")
    width = max(len(name) for name in trained)
    rows = [f"{'':>{width}}  {'α':>5}  train loss  train acc  test acc"]
    for name, run_ in trained.items():
        lr = lrs[name]
        if run_.diverged:
            rows.append(f"{name:>{width}}  {lr:>5g}  diverged at step {run_.diverged_at} "
                        f"(loss {run_.losses[run_.diverged_at]:.1e})")
            continue
        train_acc = logistic.accuracy(run_.weights, data.X_train, data.y_train)
        test_acc = logistic.accuracy(run_.weights, data.X_test, data.y_test)
        rows.append(f"{name:>{width}}  {lr:>5g}  {run_.losses[-1]:>10.3g}  {train_acc:>9.3f}  {test_acc:>8.3f}")
    return "\n".join(rows)


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


def digit_mosaic(images_by_label, *, title: str, per_row: int = 8) -> go.Figure:
    """The first ``per_row`` images of each label side by side, one row per label, as one grey image.

    ``images_by_label`` maps a label (the row's tick) to an array of images, shape (n, h, w);
    a one-pixel blank gap separates the images.
    """
    if not images_by_label:
        raise ValueError(f"Invalid images_by_label value: {images_by_label!r} (expected a dict {{label: images}})")
    per_row = _checks.positive_int(per_row, "per_row")
    rows = []
    for label, images in images_by_label.items():
        images = np.asarray(images, dtype=float)
        if images.ndim != 3 or len(images) < per_row:
            raise ValueError(f"Invalid images for {label!r}: shape {images.shape} (expected at least {per_row} images)")
        h, w = images.shape[1:]
        row = np.full((h + 1, per_row * (w + 1)), np.nan)  # NaN: the blank gap
        for k, image in enumerate(images[:per_row]):
            row[:h, k * (w + 1):k * (w + 1) + w] = image
        rows.append(row)
    mosaic = np.vstack(rows)
    h = rows[0].shape[0]
    fig = go.Figure(go.Heatmap(z=mosaic, colorscale="Greys", showscale=False, hoverinfo="skip", name="pixels"))
    return styled(fig, title_text=title, height=120 + 60 * len(rows),
                  xaxis=dict(title=f"{per_row} training images per row", showticklabels=False, showgrid=False,
                             zeroline=False, constrain="domain"),
                  yaxis=dict(title="digit", autorange="reversed", scaleanchor="x", showgrid=False, zeroline=False,
                             tickvals=[(h - 1) / 2 + i * h for i in range(len(rows))],
                             ticktext=[str(label) for label in images_by_label]),
                  margin=dict(l=60, r=20, t=60, b=40))
