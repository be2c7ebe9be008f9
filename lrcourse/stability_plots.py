"""Figures and tables for the chapter on batch size, sharpness and other nuances (plotly).

* Batch size: one sweep over α per batch size, as a dict ``{B: Sweep}`` (for instance
  ``{B: cnn.sweep(lrs, batch_size=B) for B in (16, 32, …)}``, all on the same grid of α):
  :func:`batch_size_table`, :func:`scaling_table`, :func:`batch_size_explorer`, with the
  landmarks :func:`lowest_lr_reaching` and :func:`cliff` of one sweep.
* The edge of stability: :func:`sharpness_figure` draws λ_max against the step for runs
  that recorded ``History.logs["sharpness"]`` (``lrcourse.cases.mlp``), with 2/α dashed.

This layer draws; it never imports torch (sweeps and histories are read through their attributes).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrcourse import _checks
from lrcourse.adaptive_plots import good_range
from lrcourse.figures.explorer import Explorer
from lrcourse.figures.landscapes import CURVE_COLORS, DIVERGED_MARKER_COLOR, styled

RULES = ("linear", "sqrt")
# Above the curves (the y axis runs on past 1 to make room): below the plot sits the slider.
TOP_LEGEND = dict(orientation="h", x=0.01, y=0.99, xanchor="left", yanchor="top", bgcolor="rgba(255,255,255,0.8)",
                  font=dict(size=11))


# -- one sweep: where the good range starts and where it ends ------------------------------

def _mean(sweep) -> tuple[np.ndarray, np.ndarray]:
    """The sweep's α in increasing order and the mean final metric at each."""
    lrs = np.asarray(sweep.lrs, dtype=float)
    order = np.argsort(lrs)
    return lrs[order], np.asarray(sweep.summary()["mean"], dtype=float)[order]


def lowest_lr_reaching(sweep, target: float) -> float:
    """The smallest α of the grid whose mean final metric reaches ``target`` (≥ it, or ≤ it
    for a metric to minimise); ``nan`` when none does."""
    _checks.positive(target, "target")
    lrs, mean = _mean(sweep)
    with np.errstate(invalid="ignore"):
        ok = mean >= target if sweep.maximize else mean <= target
    return float(lrs[np.argmax(ok)]) if ok.any() else math.nan


def cliff(sweep, below: float = 0.5) -> float:
    """The first α of the grid above the best one whose mean final metric is below ``below``
    (above it, for a metric to minimise): where the good range collapses. ``nan`` if it never does."""
    _checks.positive(below, "below")
    lrs, mean = _mean(sweep)
    best = sweep.best()
    if not math.isfinite(best):
        return math.nan
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(mean) | (mean < below if sweep.maximize else mean > below)
    past = (lrs > best) & bad
    return float(lrs[np.argmax(past)]) if past.any() else math.nan


# -- many sweeps, one per batch size -------------------------------------------------------

def _check_sweeps(sweeps: Mapping[int, object]) -> np.ndarray:
    """The batch sizes, increasing; every sweep must be on the same grid of α."""
    if not isinstance(sweeps, Mapping) or len(sweeps) < 2:
        raise ValueError(f"Invalid sweeps: {sweeps!r} (expected a dict {{batch size: Sweep}} with at least two)")
    sizes = [_checks.positive_int(b, "batch size") for b in sweeps]
    if sizes != sorted(set(sizes)):
        raise ValueError(f"Invalid sweeps: batch sizes {sizes} (expected them in increasing order)")
    grid = np.sort(np.asarray(next(iter(sweeps.values())).lrs, dtype=float))
    for b, sweep in sweeps.items():
        lrs = np.sort(np.asarray(sweep.lrs, dtype=float))
        if lrs.shape != grid.shape or not np.allclose(lrs, grid, rtol=1e-9, atol=0):
            raise ValueError(f"Invalid sweeps: batch size {b} has another grid of α (every sweep needs the same)")
    return np.asarray(sizes)


def _steps(sweep) -> int:
    return int(next(iter(sweep)).config["steps"])


def batch_size_table(sweeps: Mapping[int, object], *, target: float = 0.95, tolerance: float = 0.01,
                     below: float = 0.5) -> str:
    """One row per batch size: optimizer steps per run, the best α and its mean metric, the
    α within ``tolerance`` (relative) of the best, the first α reaching ``target`` and the cliff."""
    sizes = _check_sweeps(sweeps)
    name = next(iter(sweeps.values())).metric_name
    rows = [f"{'B':>5} {'steps':>6}  {'best α (' + name + ')':>26}  {f'within {tolerance:.0%}':>13}"
            f"  {f'first ≥ {target:g}':>12}  {'cliff':>6}"]
    for b in sizes:
        sweep = sweeps[b]
        r = good_range(sweep, tolerance)
        lo = lowest_lr_reaching(sweep, target)
        edge = cliff(sweep, below)
        span = f"{r.lo:.3g}–{r.hi:.3g}" if r.count > 1 else f"{r.best:.3g}"
        rows.append(f"{b:>5} {_steps(sweep):>6}  {r.best:>15.3g} ({r.best_metric:.3f})  {span:>13}"
                    f"  {'–' if math.isnan(lo) else f'{lo:.3g}':>12}  {'–' if math.isnan(edge) else f'{edge:.3g}':>6}")
    return "\n".join(rows)


def _scale(b: float, rule: str) -> float:
    if rule not in RULES:
        raise ValueError(f"Invalid rule: {rule!r} (expected one of {', '.join(map(repr, RULES))})")
    return float(b) if rule == "linear" else math.sqrt(b)


def _ratio_label(r: float) -> str:
    """1/512 for 2⁻⁹, else the number."""
    inverse = 1 / r
    if abs(inverse - round(inverse)) < 1e-9 * inverse and round(inverse) > 1:
        return f"1/{round(inverse)}"
    return f"{Fraction(r).limit_denominator(1000)}" if r < 1 else f"{r:g}"


def scaling_table(sweeps: Mapping[int, object], ratios, *, rule: str = "linear") -> str:
    """The mean final metric at α = r·B (``rule="linear"``) or α = r·√B (``"sqrt"``), one row per
    ratio r and one column per batch size; ✕n marks n runs that diverged, · an α not on the grid.

    If the rule holds, each row is constant: the same ratio gives the same result at every B.
    """
    sizes = _check_sweeps(sweeps)
    ratios = np.atleast_1d(np.asarray(ratios, dtype=float))
    if ratios.size == 0 or not np.all(np.isfinite(ratios)) or np.any(ratios <= 0):
        raise ValueError(f"Invalid ratios: {ratios.tolist()!r} (expected positive numbers)")
    unit = "B" if rule == "linear" else "√B"
    scales = {b: _scale(b, rule) for b in sizes}
    # only the batch sizes where some ratio lands on the grid of α (√B is often irrational)
    sizes = [b for b in sizes if any(np.isclose(np.asarray(sweeps[b].lrs, dtype=float), r * scales[b],
                                                rtol=1e-6, atol=0).any() for r in ratios)]
    if not sizes:
        raise ValueError(f"Invalid ratios: {ratios.tolist()!r} (no α = r·{unit} is on the grid of α)")
    head = f"{'α/' + unit:>8} " + "".join(f"{'B = ' + str(b):>11}" for b in sizes)
    rows = [head]
    for r in ratios:
        cells = []
        for b in sizes:
            sweep, alpha = sweeps[b], r * scales[b]
            lrs = np.asarray(sweep.lrs, dtype=float)
            match = np.flatnonzero(np.isclose(lrs, alpha, rtol=1e-6, atol=0))
            if match.size == 0:
                cells.append("·")
                continue
            i = int(match[0])
            s = sweep.summary()
            cells.append(f"{s['mean'][i]:.3f}" + (f"✕{s['diverged'][i]}" if s["diverged"][i] else ""))
        rows.append(f"{_ratio_label(r):>8} " + "".join(f"{c:>11}" for c in cells))
    return "\n".join(rows)


def batch_size_explorer(sweeps: Mapping[int, object], *, reference: int | None = None,
                        value: int | None = None) -> Explorer:
    """A slider over the batch size B: the mean final metric against α at that B (measured),
    and the ``reference`` batch size's curve moved right by B/B₀ (the linear rule's prediction)
    and by √(B/B₀) (the square-root rule's). A red ✕ marks an α where a run diverged.
    """
    sizes = _check_sweeps(sweeps)
    reference = int(sizes[0] if reference is None else reference)
    if reference not in sweeps:
        raise ValueError(f"Invalid reference: {reference!r} (not one of the batch sizes {sizes.tolist()})")
    ref_lrs, ref_mean = _mean(sweeps[reference])
    lrs_all = np.concatenate([np.asarray(s.lrs, dtype=float) for s in sweeps.values()])
    lo, hi = np.log10(lrs_all.min()), np.log10(lrs_all.max())
    name = next(iter(sweeps.values())).metric_name
    maximize = next(iter(sweeps.values())).maximize
    fig = go.Figure()
    styled(fig, xaxis=dict(title="learning rate α (log scale)", type="log", range=[lo - 0.1, hi + 0.1]),
            yaxis=dict(title=f"final {name} (mean over seeds)", range=[0, 1.3] if maximize else None,
                       tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0] if maximize else None),
            legend=TOP_LEGEND)

    def predicted(b: int, rule: str) -> float:
        """The reference's best α, moved by the rule."""
        return sweeps[reference].best() * _scale(b / reference, rule)

    def traces(b):
        b = int(round(b))
        lrs, mean = _mean(sweeps[b])
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
        return (f"B = {b}: {_steps(sweep)} steps · best α {best:.3g} ({sweep.summary()['mean'][i]:.3f})<br>"
                f"from B = {reference}'s best: linear rule {predicted(b, 'linear'):.3g}, "
                f"√B rule {predicted(b, 'sqrt'):.3g}")

    return Explorer(fig, traces, sizes.astype(float), value=float(sizes[-1] if value is None else value),
                    label="batch size B", title=title, log=True, grid_only=True, fmt="{:.0f}", height=500)


# -- the edge of stability ------------------------------------------------------------------

def _sharpness(history) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(history.logs.get("sharpness", ()), dtype=float)
    steps = np.flatnonzero(np.isfinite(values))
    return steps, values[steps]


def sharpness_figure(histories: Iterable, *, title: str, loss_stride: int = 5) -> go.Figure:
    """Top: the sharpness λ_max against the step for each run, with its 2/α dashed in the same
    colour. Bottom: the training loss (log scale, every ``loss_stride``-th step).

    Runs that diverged are not drawn (their numbers mean nothing); the title lists them.
    Each run must have a constant α (``History.config["lr"]``) and ``logs["sharpness"]``.
    """
    loss_stride = _checks.positive_int(loss_stride, "loss_stride")
    histories = list(histories)
    if not histories:
        raise ValueError("Invalid histories: [] (expected at least one run)")
    for h in histories:
        if h.config.get("lr") is None or "sharpness" not in h.logs:
            raise ValueError("Invalid histories: each run needs a constant lr and logs['sharpness'] "
                             "(train it with lrcourse.cases.mlp)")
    drawn = [h for h in histories if not h.diverged]
    left_out = [h for h in histories if h.diverged]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.62, 0.38])
    top = 0.0
    for i, h in enumerate(sorted(drawn, key=lambda h: h.config["lr"])):
        lr, color = h.config["lr"], CURVE_COLORS[i % len(CURVE_COLORS)]
        steps, lam = _sharpness(h)
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
