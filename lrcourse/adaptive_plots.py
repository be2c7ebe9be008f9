"""Figures, explorers and tables for the chapter on adaptive methods (plotly).

* :func:`update_source` — an optimizer of :mod:`lrcourse.optim` as a learner should read it:
  its signature, its docstring with the update equations, and its update rule;
* :func:`momentum_edges`, :func:`momentum_rates`, :func:`momentum_rate_summary`,
  :func:`heavy_ball_table`, :func:`constant_gradient_steps`, :func:`constant_gradient_table`,
  :func:`bowl_table`, :func:`adam_effective_rates` — the chapter's measurements on quadratics;
* :func:`sweeps_table`, :func:`finals_table`, :func:`range_table`, :func:`layer_median_ratio`, :func:`median_abs_weight`,
  :func:`decay_rows`, :func:`grid_table`, :func:`decay_summary` — its tables of sweeps;
* :func:`stability_map` — the measured convergence rate of heavy-ball momentum on a 1-D
  quadratic, over (β, αλ), with the predicted edge αλ = 2(1 + β);
* :func:`paths_explorer` — an α slider over the paths of several optimizers on one 2-D objective;
* :func:`good_range`, :func:`sensitivity_figure` — how wide the range of good α is in a sweep;
* :func:`layer_spread`, :func:`layer_table`, :func:`layer_figure` — per-parameter quantities
  (effective learning rates, step sizes) summarised layer by layer;
* :class:`StepRecorder`, :func:`adam_step_factors`, :func:`step_ratio_table`,
  :func:`step_ratio_figure` — Adam's measured step |Δθ|/α over training, and its two factors;
* :func:`heatmaps` — grids of a metric over two hyperparameters, side by side;
* :func:`decay_table` — per α, the best weight decay λ, the largest harmless one, and α·λ;
* :func:`defaults_table` — the defaults of torch's optimizers next to the core's.

This layer draws; it never imports torch (sweeps are read through their attributes, torch
classes through ``inspect.signature``, a model's parameters through ``.parameters()``).
"""

from __future__ import annotations

import ast
import functools
import inspect
import re
import textwrap
from typing import Callable, Mapping, NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrcourse import _checks, optim, theory
from lrcourse.descent import describe, measured_rate, run
from lrcourse.explorer import Explorer
from lrcourse.figures import CURVE_COLORS, PATH_COLOR, styled
from lrcourse.objectives import Objective, quadratic

__all__ = ["update_source", "stability_map", "paths_explorer", "GoodRange", "good_range", "sensitivity_figure",
           "Spread", "layer_spread", "layer_table", "layer_figure", "StepRecorder", "StepFactors",
           "adam_step_factors", "step_ratio_table", "step_ratio_figure", "heatmaps", "decay_table",
           "defaults_table", "TORCH_ONLY", "momentum_edges", "momentum_rates", "momentum_rate_summary",
           "heavy_ball_table", "constant_gradient_steps", "constant_gradient_table", "bowl_table",
           "adam_effective_rates", "sweeps_table", "finals_table", "range_table", "layer_median_ratio", "median_abs_weight",
           "decay_rows", "grid_table", "decay_summary"]

PATH_COLORS = (PATH_COLOR, "#2ca02c", "#9467bd", "#ff7f0e")
INSIDE_LEGEND = dict(x=0.99, y=0.01, xanchor="right", yanchor="bottom", bgcolor="rgba(255,255,255,0.8)")


# -- reading an optimizer's source -------------------------------------------------------

def update_source(factory: Callable[..., optim.Optimizer]) -> str:
    """The source of an optimizer factory of :mod:`lrcourse.optim`, reduced to what teaches.

    Keeps the ``def`` line, the docstring (with the update equations) and the nested
    ``update`` function; the argument checks, ``init`` and the bookkeeping are replaced by
    a one-line comment. Module-level helpers that ``update`` calls (``_adam_update`` for
    Adam and AdamW) follow in full.
    """
    if not callable(factory) or inspect.getmodule(factory) is not optim:
        raise ValueError(f"Invalid factory: {factory!r} (expected an optimizer of lrcourse.optim, e.g. optim.adam)")
    source = textwrap.dedent(inspect.getsource(factory))
    tree = ast.parse(source)
    function = tree.body[0]
    lines = source.splitlines()
    docstring = function.body[0]
    if not (isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)):
        raise ValueError(f"Invalid factory: {factory.__name__} has no docstring")
    update = next((node for node in function.body
                   if isinstance(node, ast.FunctionDef) and node.name == "update"), None)
    if update is None:
        raise ValueError(f"Invalid factory: {factory.__name__} has no nested update function")
    indent = " " * docstring.col_offset
    kept = lines[:docstring.end_lineno]                  # the def line(s) and the docstring
    kept.append(f"{indent}...  # argument checks and init() left out: see lrcourse/optim.py")
    kept.append("")
    kept += lines[update.lineno - 1:update.end_lineno]
    helpers = []
    for node in ast.walk(update):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            helper = getattr(optim, node.func.id, None)
            if inspect.isfunction(helper) and inspect.getmodule(helper) is optim and node.func.id.startswith("_"):
                helpers.append(helper)
    text = "\n".join(kept)
    for helper in dict.fromkeys(helpers):
        text += "\n\n\n" + textwrap.dedent(inspect.getsource(helper)).rstrip()
    return text


# -- momentum on a 1-D quadratic ---------------------------------------------------------

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


# -- several optimizers on one 2-D objective ---------------------------------------------

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

    ``optimizers`` maps a label to a factory of :mod:`lrcourse.optim` (``{"GD": optim.sgd,
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
            margin=dict(l=50, r=20, t=30 + 22 * (len(names) + 1), b=40), legend=INSIDE_LEGEND)

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


# -- the width of the good range ---------------------------------------------------------

class GoodRange(NamedTuple):
    """The α values of a sweep whose mean final metric is within ``tolerance`` of the best.

    ``lo`` and ``hi`` bound the unbroken run of grid values around the best one,
    ``count`` is how many grid values that is, and ``decades = log10(hi / lo)``
    (0 when only the best value qualifies).
    """

    best: float
    best_metric: float
    lo: float
    hi: float
    count: int
    decades: float


def good_range(sweep, tolerance: float) -> GoodRange:
    """The range of α whose mean final metric is within a relative ``tolerance`` of the best.

    For a metric to maximise (accuracy), "good" means mean ≥ (1 − tolerance) × best; for one
    to minimise (perplexity), mean ≤ (1 + tolerance) × best. Only the grid values next to the
    best one, without a gap, count: a lucky value far away does not widen the range.
    """
    _checks.nonnegative(tolerance, "tolerance")
    lrs = np.asarray(sweep.lrs, dtype=float)
    order = np.argsort(lrs)
    lrs = lrs[order]
    mean = np.asarray(sweep.summary()["mean"], dtype=float)[order]
    if not np.any(np.isfinite(mean)):
        raise ValueError("Invalid sweep: no α has a finite mean final metric")
    if sweep.maximize:
        i = int(np.nanargmax(mean))
        good = mean >= (1 - tolerance) * mean[i]
    else:
        i = int(np.nanargmin(mean))
        good = mean <= (1 + tolerance) * mean[i]
    good &= np.isfinite(mean)
    lo = i
    while lo > 0 and good[lo - 1]:
        lo -= 1
    hi = i
    while hi < len(lrs) - 1 and good[hi + 1]:
        hi += 1
    return GoodRange(float(lrs[i]), float(mean[i]), float(lrs[lo]), float(lrs[hi]), hi - lo + 1,
                     float(np.log10(lrs[hi] / lrs[lo])))


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


# -- per-parameter quantities, layer by layer --------------------------------------------

class Spread(NamedTuple):
    """Percentiles of one layer's per-parameter values."""

    count: int
    p10: float
    median: float
    p90: float


def layer_spread(values: Mapping[str, np.ndarray]) -> dict[str, Spread]:
    """Per layer: how many values, and their 10th, 50th and 90th percentiles."""
    out = {}
    for name, array in values.items():
        array = np.asarray(array, dtype=float).reshape(-1)
        if array.size == 0:
            raise ValueError(f"Invalid values: layer {name!r} is empty")
        p10, median, p90 = np.percentile(array, [10, 50, 90])
        out[name] = Spread(array.size, float(p10), float(median), float(p90))
    return out


def layer_table(columns: Mapping[str, Mapping[str, np.ndarray]], *, digits: int = 2) -> str:
    """A text table: one row per layer, for each column its median and its 10–90 % range.

    ``columns`` maps a column title to ``{layer name: per-parameter values}``; every column
    must have the same layers.
    """
    spreads = {title: layer_spread(values) for title, values in columns.items()}
    layers = list(next(iter(spreads.values())))
    for title, spread in spreads.items():
        if list(spread) != layers:
            raise ValueError(f"Invalid columns: {title!r} has layers {list(spread)}, expected {layers}")
    width = max(len(name) for name in layers)
    cells = {title: [f"{s.median:.{digits}g} [{s.p10:.{digits}g}, {s.p90:.{digits}g}]" for s in spread.values()]
             for title, spread in spreads.items()}
    col_width = {title: max(len(title), *(len(c) for c in cells[title])) for title in cells}
    count = next(iter(spreads.values()))
    lines = [f"{'layer':<{width}}  {'params':>6}  " + "  ".join(f"{t:>{col_width[t]}}" for t in cells)]
    for i, name in enumerate(layers):
        lines.append(f"{name:<{width}}  {count[name].count:>6}  "
                     + "  ".join(f"{cells[t][i]:>{col_width[t]}}" for t in cells))
    return "\n".join(lines)


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


# -- tables of the chapter's measurements ------------------------------------------------

def momentum_edges(lam: float, betas, *, steps: int = 3000, width: float = 0.02, points: int = 400) -> str:
    """Heavy-ball momentum on 𝓛(w) = ½λw²: per β, the measured edge of stability against 2(1+β)/λ.

    For each β, ``points`` values of α within ±``width`` of the prediction run ``steps`` steps
    from w₀ = 1; a run "shrinks" when |w| at the end is below |w| half-way.
    """
    _checks.positive(lam, "lam")
    steps = _checks.positive_int(steps, "steps")
    line = quadratic((lam,))
    lines = [" β    predicted 2(1+β)/λ   largest α that    smallest α that",
             "                             still shrinks     grows"]
    for beta in betas:
        predicted = 2 * (1 + beta) / lam
        grid = predicted * np.linspace(1 - width, 1 + width, points)
        runs = run(line, [1.0], grid, steps=steps, optimizer=functools.partial(optim.sgd, momentum=beta))
        size = np.abs(runs.path[:, :, 0])
        shrinks = size[-1] < size[steps // 2]
        lines.append(f"{beta:4}   {predicted:18.5f}   {grid[shrinks].max():15.5f}   {grid[~shrinks].min():14.5f}")
    return "\n".join(lines)


def momentum_rates(lam: float, betas, products, *, steps: int = 300, window: int = 50) -> np.ndarray:
    """Measured per-step rate of heavy-ball momentum on ½λw², one row per αλ, one column per β.

    The rate is (envelope of |w| over the last ``window`` steps / envelope over the first)
    ** (1/(steps − window)), so oscillations do not fool it; ``inf`` where a run diverged.
    """
    _checks.positive(lam, "lam")
    steps = _checks.positive_int(steps, "steps")
    betas, products = np.asarray(betas, dtype=float), np.asarray(products, dtype=float)
    line = quadratic((lam,))
    rates = np.empty((products.size, betas.size))
    for j, beta in enumerate(betas):
        runs = run(line, [1.0], products / lam, steps=steps, optimizer=functools.partial(optim.sgd, momentum=beta))
        size = np.abs(runs.path[:, :, 0])                 # NaN once a run has blown up
        envelope = np.fmax.reduce(size[steps - window:], axis=0) / np.fmax.reduce(size[:window], axis=0)
        rates[:, j] = np.where(runs.diverged, np.inf, envelope ** (1 / (steps - window)))
    return rates


def momentum_rate_summary(betas, products, rates, *, show=(0.0, 0.5, 0.9), at=(0.5, 1.5, 2.5)) -> str:
    """For the β of the grid nearest each of ``show``: the largest αλ that converges, the
    predicted 2(1+β), and the rates at the αλ nearest each of ``at``, against √β."""
    betas, products, rates = (np.asarray(a, dtype=float) for a in (betas, products, rates))
    lines = []
    for beta in show:
        j = np.argmin(np.abs(betas - beta))
        measured = [rates[np.argmin(np.abs(products - x)), j] for x in at]
        lines.append(f"β = {betas[j]:.2f}: converges up to αλ = {products[rates[:, j] < 1].max():.2f} "
                     f"(predicted {2 * (1 + betas[j]):.2f}); rate at αλ = {', '.join(f'{x:g}' for x in at)}: "
                     + ", ".join(f"{r:.3f}" for r in measured) + f"  (√β = {np.sqrt(betas[j]):.3f})")
    return "\n".join(lines)


def heavy_ball_table(mu: float, L: float, w0, *, steps: int = 2000, tol: float = 1e-8) -> str:
    """Gradient descent at 2/(L+μ) against the tuned heavy ball on the bowl with curvatures μ, L::

        heavy ball: α = (2/(√L + √μ))²,  β = ((√L − √μ)/(√L + √μ))²,  rate (√κ − 1)/(√κ + 1)

    with the measured rate (over steps 100 to 600) and the steps to 𝓛 ≤ ``tol``.
    """
    _checks.positive(mu, "mu")
    _checks.positive(L, "L")
    bowl, kappa = quadratic((mu, L)), L / mu
    root = np.sqrt(kappa)
    contenders = (("gradient descent", theory.optimal_lr(L, mu), 0.0, (kappa - 1) / (kappa + 1)),
                  ("heavy-ball momentum", (2 / (np.sqrt(L) + np.sqrt(mu))) ** 2,
                   ((np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))) ** 2, (root - 1) / (root + 1)))
    lines = [f"κ = {kappa:g}",
             "                          α      β    predicted rate  measured rate  steps to 𝓛 ≤ "
             + f"{tol:g}".replace("e-0", "e-")]
    for name, lr, beta, predicted in contenders:
        runs = run(bowl, w0, [lr], steps=steps, optimizer=functools.partial(optim.sgd, momentum=beta))
        measured = measured_rate(np.linalg.norm(runs.path[100:600, 0], axis=-1))
        lines.append(f"{name:<22} {lr:7.4f}  {beta:5.3f}  {predicted:14.3f}  {measured:13.3f}"
                     f"  {runs.steps_to(tol)[0]:17d}")
    return "\n".join(lines)


def constant_gradient_steps(optimizers: Mapping[str, optim.Optimizer], grad, *, lr: float,
                            steps: int) -> dict[str, np.ndarray]:
    """|Δθ|/α at every step when each optimizer gets the same gradient ``grad`` every time:
    ``{name: array (steps, coordinates)}``. ``lr`` is the α the optimizers were built with."""
    _checks.positive(lr, "lr")
    steps = _checks.positive_int(steps, "steps")
    grad = np.asarray(grad, dtype=float).reshape(-1)
    out = {}
    for name, opt in optimizers.items():
        theta, state, moves = np.zeros_like(grad), opt.init(np.zeros_like(grad)), []
        for _ in range(steps):
            new, state = opt.step(theta, grad, state)
            moves.append(np.abs(new - theta) / lr)
            theta = new
        out[name] = np.array(moves)
    return out


def constant_gradient_table(steps: Mapping[str, np.ndarray], *, at=(1, 2, 10, 100, 1000)) -> str:
    """Whether |Δθ|/α is the same in every coordinate (to 0.1 %), then its value at the steps ``at``."""
    same = all(np.allclose(s, s[:, :1], rtol=1e-3) for s in steps.values())
    lines = [f"|Δθ|/α is the same for the {next(iter(steps.values())).shape[1]} gradient sizes, to 0.1 %: {same}", "",
             "     t" + "".join(f"{name:>10}" for name in steps)]
    for t in at:
        lines.append(f"{t:6d}" + "".join(f"{s[t - 1, 0]:10.3g}" for s in steps.values()))
    return "\n".join(lines)


def bowl_table(objectives: Mapping[str, Objective], w0, lrs, contenders: Mapping[str, Callable], *,
               steps: int = 100, tol: float = 1e-3) -> str:
    """Per optimizer and objective: the best α of the grid ``lrs``, its final loss, and how
    many α bring the loss to ``tol`` within ``steps`` steps (diverged runs count as ∞)."""
    lrs = np.asarray(lrs, dtype=float)
    lines = [f"{'':>18}" + "".join(f"{title:>32}" for title in objectives),
             f"{'':>18}" + f"   best α  its loss  α with 𝓛≤{tol:g}" * len(objectives)]
    for name, make in contenders.items():
        line = f"{name:>18}"
        for f in objectives.values():
            runs = run(f, w0, lrs, steps=steps, optimizer=make)
            final = np.where(runs.diverged, np.inf, runs.loss[-1] - f.min_value)
            line += f"   {lrs[final.argmin()]:6.3g}  {final.min():8.1e}  {np.sum(final <= tol):14d}"
        lines.append(line)
    return "\n".join(lines)


def adam_effective_rates(objective: Objective, w0, *, lr: float, steps: int = 100) -> np.ndarray:
    """Adam's effective learning rate α/(√v̂ + ε) per coordinate after ``steps`` steps from ``w0``."""
    adam = optim.adam(lr=lr)
    w, state = np.asarray(w0, dtype=float), adam.init(np.asarray(w0, dtype=float))
    for _ in range(_checks.positive_int(steps, "steps")):
        w, state = adam.step(w, objective.grad(w), state)
    v_hat = state.exp_avg_sq / (1 - 0.999**state.count)
    return lr / (np.sqrt(v_hat) + 1e-8)


def sweeps_table(sweeps: Mapping[str, object]) -> str:
    """Mean ± std of the final metric per α, one column per sweep, with the number of diverged seeds (✕)."""
    summaries = {name: sweep.summary() for name, sweep in sweeps.items()}
    lrs = next(iter(summaries.values()))["lr"]
    lines = ["       α   " + "   ".join(f"{name:>16}" for name in summaries)]
    for i, lr in enumerate(lrs):
        cells = [f"{s['mean'][i]:.3f} ± {s['std'][i]:.3f} {s['diverged'][i]}✕" for s in summaries.values()]
        lines.append(f"{lr:8.3g}   " + "   ".join(cells))
    return "\n".join(lines)


def finals_table(sweeps: Mapping[str, object], seed: int = 0) -> str:
    """The final metric of one seed per α, one column per sweep (✕: diverged)."""
    lrs = list(next(iter(sweeps.values())).lrs)
    lines = ["       α   " + "".join(f"{name:>10}" for name in sweeps)]
    for lr in lrs:
        cells = ["✕" if s[lr, seed].diverged else f"{s[lr, seed].final:.4g}" for s in sweeps.values()]
        lines.append(f"{lr:8.3g}   " + "".join(f"{c:>10}" for c in cells))
    return "\n".join(lines)


def range_table(sweeps: Mapping[str, object], tolerance: float) -> str:
    """One line per sweep: its best α and the range of α within ``tolerance`` (see :func:`good_range`)."""
    lines = []
    for name, sweep in sweeps.items():
        r = good_range(sweep, tolerance)
        lines.append(f"{name:>5}: best α {r.best:.3g} ({r.best_metric:.3f}); within {tolerance:.0%}: "
                     f"α from {r.lo:.3g} to {r.hi:.3g}, {r.count} grid values, {r.decades:.2f} decades")
    return "\n".join(lines)


def median_abs_weight(model) -> float:
    """The median |θ| over all of a model's parameters (read through ``model.parameters()``)."""
    return float(np.median(np.abs(_flat(model.parameters()))))


def layer_median_ratio(values: Mapping[str, np.ndarray]) -> float:
    """The largest layer median over the smallest: how unevenly a quantity spreads over layers."""
    medians = [spread.median for spread in layer_spread(values).values()]
    if min(medians) <= 0:
        raise ValueError("Invalid values: a layer's median is 0, the ratio is undefined")
    return max(medians) / min(medians)


# -- Adam's step over training -----------------------------------------------------------

def _flat(tensors) -> np.ndarray:
    return np.concatenate([np.asarray(t.detach().reshape(-1).numpy(), dtype=float) for t in tensors])


class StepRecorder:
    """Wraps a problem factory for ``engine.train`` and keeps the weights and gradients of every step.

    ``engine.train`` calls the problem's ``loss`` once per step, before the step; at that
    moment the model holds θ_{k} and each ``p.grad`` the gradient g_{k} of the previous step
    (the engine clears it only after the loss). So::

        recorder = StepRecorder(make_problem)
        history = engine.train(recorder, lr, optimizer="adam")
        recorder.finish(history.model)        # the last step's θ and g
        recorder.ratios(lr)                   # |θ_t − θ_{t−1}| / α, shape (steps, weights)

    Recording does not change the run: the same seed gives the same history.
    """

    def __init__(self, make_problem: Callable):
        if not callable(make_problem):
            raise ValueError(f"Invalid make_problem: {make_problem!r} (expected a function seed -> Problem)")
        self.make_problem = make_problem
        self.weights: list[np.ndarray] = []
        self.gradients: list[np.ndarray] = []
        self.finished = False

    def __call__(self, seed):
        problem = self.make_problem(seed)
        loss = problem.loss

        def recording_loss(forward, batch):
            self._record(forward)
            return loss(forward, batch)

        problem.loss = recording_loss
        problem.batchable = False
        return problem

    def _record(self, model):
        params = list(model.parameters())
        self.weights.append(_flat(params))
        if all(p.grad is not None for p in params):
            self.gradients.append(_flat(p.grad for p in params))

    def finish(self, model) -> "StepRecorder":
        """Record the trained ``model``: the weights after the last step and its gradient."""
        if self.finished:
            raise ValueError("Invalid call: finish() was already called on this recorder")
        if not self.weights:
            raise ValueError("Invalid call: nothing recorded yet (train with engine.train(recorder, ...) first)")
        self._record(model)
        self.finished = True
        return self

    def ratios(self, lr: float) -> np.ndarray:
        """|θ_t − θ_{t−1}| / α for every step t and weight: shape (steps, weights)."""
        _checks.positive(lr, "lr")
        if not self.finished:
            raise ValueError("Invalid call: call finish(history.model) before ratios()")
        return np.abs(np.diff(np.array(self.weights), axis=0)) / lr


class StepFactors(NamedTuple):
    """Adam's step |m̂|/(√v̂ + ε) per step and weight, and its two factors.

    ``step = snr × scale`` (up to ε): ``snr = |m̂|/√û`` with û the β1-average of g²,
    bias-corrected like m̂, so 0 ≤ snr ≤ 1 (Cauchy–Schwarz): the signal-to-noise ratio of
    the gradient over the last ~1/(1 − β1) steps; ``scale = √û/√v̂``, the recent size of
    the gradient against its long-memory (β2) size. NaN where the gradient has been 0.
    """

    step: np.ndarray
    snr: np.ndarray
    scale: np.ndarray


def adam_step_factors(gradients, betas=(0.9, 0.999), eps: float = 1e-8) -> StepFactors:
    """Recompute Adam's step factors from the gradients, one row per step (see :class:`StepFactors`)::

        m̂_t = β1-average of g,   û_t = β1-average of g²,   v̂_t = β2-average of g²
        step = |m̂| / (√v̂ + ε),   snr = |m̂| / √û,   scale = √û / √v̂
    """
    g = np.asarray(gradients, dtype=float)
    if g.ndim != 2 or g.shape[0] == 0:
        raise ValueError(f"Invalid gradients: shape {g.shape} (expected (steps, weights))")
    beta1, beta2 = betas
    for value, name in ((beta1, "beta1"), (beta2, "beta2")):
        if not 0 <= value < 1:
            raise ValueError(f"Invalid {name} value: {value} (expected 0 ≤ β < 1)")
    _checks.nonnegative(eps, "eps")
    m, u, v = np.zeros(g.shape[1]), np.zeros(g.shape[1]), np.zeros(g.shape[1])
    step, snr, scale = np.empty_like(g), np.empty_like(g), np.empty_like(g)
    with np.errstate(invalid="ignore", divide="ignore"):
        for t, row in enumerate(g, start=1):
            m = beta1 * m + (1 - beta1) * row
            u = beta1 * u + (1 - beta1) * row**2
            v = beta2 * v + (1 - beta2) * row**2
            m_hat, u_hat, v_hat = m / (1 - beta1**t), u / (1 - beta1**t), v / (1 - beta2**t)
            step[t - 1] = np.abs(m_hat) / (np.sqrt(v_hat) + eps)
            snr[t - 1] = np.where(u_hat > 0, np.abs(m_hat) / np.sqrt(u_hat), np.nan)
            scale[t - 1] = np.where(v_hat > 0, np.sqrt(u_hat / v_hat), np.nan)
    return StepFactors(step, np.minimum(snr, 1.0), scale)


def step_ratio_table(ratios, factors: StepFactors, *, steps_per_epoch: int, epochs=(1, 5, 10)) -> str:
    """Medians over all weights and the steps of each epoch in ``epochs``: |Δθ|/α and its factors.

    The first row is the first step alone (where |Δθ|/α = 1 for every weight with a gradient).
    """
    ratios = np.asarray(ratios, dtype=float)
    steps_per_epoch = _checks.positive_int(steps_per_epoch, "steps_per_epoch")
    if factors.step.shape != ratios.shape:
        raise ValueError(f"Invalid factors: shape {factors.step.shape}, expected {ratios.shape} like ratios")
    rows = [("step 1", slice(0, 1))]
    for epoch in epochs:
        epoch = _checks.positive_int(epoch, "epochs")
        if epoch * steps_per_epoch > len(ratios):
            raise ValueError(f"Invalid epochs: {epoch} (the run has {len(ratios) / steps_per_epoch:g} epochs)")
        rows.append((f"epoch {epoch}", slice((epoch - 1) * steps_per_epoch, epoch * steps_per_epoch)))
    lines = [f"{'':<9}  {'|Δθ|/α':>8}  {'90th pct':>8}  {'SNR |m̂|/√û':>11}  {'scale √û/√v̂':>12}"]
    for label, rows_ in rows:
        r = ratios[rows_]
        lines.append(f"{label:<9}  {np.median(r):8.3g}  {np.percentile(r, 90):8.3g}  "
                     f"{np.nanmedian(factors.snr[rows_]):11.3g}  {np.nanmedian(factors.scale[rows_]):12.3g}")
    return "\n".join(lines)


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


# -- two hyperparameters at once ---------------------------------------------------------

def heatmaps(grids: Mapping[str, np.ndarray], *, x, y, x_title: str, y_title: str, title: str,
             z_title: str, fmt: str = "{:.3f}", zmin=None, zmax=None) -> go.Figure:
    """Heat maps side by side, one per entry of ``grids``, on a shared colour scale.

    ``grids[name][i, j]`` is the value at ``y[i]`` and ``x[j]``; every cell is labelled
    with its value (``fmt``) and the best cell of each map is outlined.
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
            i, j = np.unravel_index(np.nanargmax(g), g.shape)
            fig.add_shape(type="rect", x0=j - 0.5, x1=j + 0.5, y0=i - 0.5, y1=i + 0.5,
                          line=dict(color="white", width=3), row=1, col=k)
        fig.update_xaxes(title_text=x_title, type="category", row=1, col=k)
    fig.update_yaxes(title_text=y_title, type="category", row=1, col=1)
    return styled(fig, title_text=title, height=520, margin=dict(l=70, r=20, t=90, b=130))


def decay_table(lrs, wds, grid, *, reference, tolerance: float = 0.02, steps: int | None = None) -> str:
    """Per α (one column of ``grid``, rows over ``wds``): the best λ, and the largest λ such
    that it and every smaller λ lose at most ``tolerance`` against ``reference`` (λ = 0), each
    with the product αλ (torch's AdamW decays by αλ per step; 1/(αλ) steps is its timescale).

    With ``steps``, the last column gives αλ × steps at that largest λ: how many timescales
    the run lasted.
    """
    lrs, wds = np.asarray(lrs, dtype=float), np.asarray(wds, dtype=float)
    grid, reference = np.asarray(grid, dtype=float), np.asarray(reference, dtype=float)
    if grid.shape != (wds.size, lrs.size) or reference.shape != (lrs.size,):
        raise ValueError(f"Invalid grid: shape {grid.shape} and reference {reference.shape} "
                         f"(expected {(wds.size, lrs.size)} and {(lrs.size,)})")
    _checks.nonnegative(tolerance, "tolerance")
    head = f"{'α':>7}  {'best λ':>7}  {'α·λ':>7}  {'largest λ losing ≤ ' + format(tolerance, 'g'):>22}  {'α·λ':>7}"
    lines = [head + (f"  {'α·λ·steps':>9}" if steps else "")]
    for j, lr in enumerate(lrs):
        best = wds[np.nanargmax(grid[:, j])]
        harmless = np.cumprod(grid[:, j] >= reference[j] - tolerance).astype(bool)
        largest = wds[harmless].max() if harmless.any() else np.nan
        line = f"{lr:7g}  {best:7g}  {lr * best:7.2g}  {largest:22g}  {lr * largest:7.2g}"
        lines.append(line + (f"  {lr * largest * steps:9.3g}" if steps else ""))
    return "\n".join(lines)


def decay_rows(sweep: Callable, optimizer: str, wds) -> np.ndarray:
    """Mean final metric per α (columns) for each weight decay in ``wds`` (rows):
    ``sweep(optimizer=optimizer, weight_decay=λ).summary()["mean"]``, e.g. with
    ``sweep = functools.partial(cnn.sweep, lrs, seeds=(0, 1))``."""
    if not callable(sweep):
        raise ValueError(f"Invalid sweep: {sweep!r} (expected a function returning a Sweep)")
    return np.array([np.asarray(sweep(optimizer=optimizer, weight_decay=wd).summary()["mean"], dtype=float)
                     for wd in wds])


def grid_table(grids: Mapping[str, np.ndarray], *, rows, columns, row_name: str = "λ") -> str:
    """``grids[title][i, j]`` as text: one line per title and row value, one column per column value."""
    lines = [" " * 23 + "  ".join(f"{c:<6g}" for c in columns)]
    for title, grid in grids.items():
        grid = np.asarray(grid, dtype=float)
        if grid.shape != (len(rows), len(columns)):
            raise ValueError(f"Invalid grids: {title!r} has shape {grid.shape}, expected {(len(rows), len(columns))}")
        for value, row in zip(rows, grid):
            lines.append(f"{title:<10} {row_name} = {value:<6g}  " + "  ".join(f"{x:.3f} " for x in row))
    return "\n".join(lines)


def decay_summary(grids: Mapping[str, np.ndarray], wds, reference, *, tolerance: float = 0.02) -> str:
    """Per grid: the best λ at each α, the best cell, and the largest λ where no α loses more
    than ``tolerance`` against ``reference`` (the row λ = 0)."""
    reference = np.asarray(reference, dtype=float)
    lines = []
    for title, grid in grids.items():
        grid = np.asarray(grid, dtype=float)
        best = ", ".join(f"{wds[i]:g}" for i in grid.argmax(axis=0))
        usable = max(wd for wd, row in zip(wds, grid) if np.all(row >= reference - tolerance))
        lines.append(f"{title:<10} best λ at each α: {best:<22} best cell {grid.max():.3f}")
        lines.append(f"{'':<10} largest λ where no α loses more than {tolerance:g} against λ = 0: {usable:g}")
    lines.append(f"best without decay: {reference.max():.3f}")
    return "\n".join(lines)


# -- defaults ----------------------------------------------------------------------------

TORCH_ONLY = ("params", "foreach", "maximize", "capturable", "differentiable", "fused", "decoupled_weight_decay")


def _default(parameter: inspect.Parameter) -> str:
    return "required" if parameter.default is inspect.Parameter.empty else repr(parameter.default)


def defaults_table(pairs: Mapping[str, tuple]) -> str:
    """torch's defaults next to the core's, one block of rows per optimizer.

    ``pairs`` maps a name to ``(torch class, core factory)``, e.g.
    ``{"Adam": (torch.optim.Adam, optim.adam)}``. Arguments that only torch has (``foreach``,
    ``fused``, ... the implementation switches) are left out; a mismatch is flagged with ``≠``.
    """
    rows = [f"{'optimizer':<9}  {'argument':<25}  {'torch':>12}  {'lrcourse':>12}"]
    for name, (torch_class, factory) in pairs.items():
        theirs = {k: p for k, p in inspect.signature(torch_class).parameters.items() if k not in TORCH_ONLY}
        ours = dict(inspect.signature(factory).parameters)
        for key in list(theirs) + [k for k in ours if k not in theirs]:
            t = _default(theirs[key]) if key in theirs else "–"
            o = _default(ours[key]) if key in ours else "–"
            flag = "" if t == o else "  ≠"
            rows.append(f"{name:<9}  {key:<25}  {t:>12}  {o:>12}{flag}")
            name = ""
    return "\n".join(rows)
