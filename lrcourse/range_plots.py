"""Figures and tables for the chapter on finding a learning rate (plotly).

* :func:`range_test_figure` — one LR range test: the smoothed and the raw loss against α
  (log scale), with each rule's suggestion marked by a vertical line;
* :func:`range_tests_figure` — several range tests on one plot (other seeds, other ranges),
  the suggestions of one rule as markers on each curve;
* :func:`suggestions_table` — several range tests side by side: where each stopped, its
  lowest point and every rule's suggestion;
* :class:`Validation`, :func:`validation_table`, :func:`validation_figure` — each rule's
  suggestion checked against a grid search: the final metric of runs trained at it next to
  the grid's best α.

This layer draws; it never imports torch. A range test is read through its attributes
(``lrs``, ``losses``, ``raw_losses``, ``suggestions``, ``stopped_at``, ``config``), as
:func:`lrcourse.engine.lr_range_test` returns it; sweeps likewise.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrcourse.figures import CURVE_COLORS, DIVERGED_MARKER_COLOR, plain, styled

__all__ = ["RULE_STYLES", "range_test_figure", "range_tests_figure", "suggestions_table", "Validation",
           "validation_table", "validation_figure"]

# One colour and marker per rule, the same in every figure of the chapter.
RULE_STYLES = {
    "steepest": dict(color="#d62728", symbol="triangle-down"),
    "valley": dict(color="#2ca02c", symbol="circle"),
    "minimum/10": dict(color="#9467bd", symbol="square"),
}
RAW_COLOR = "#9e9e9e"
LOG_TICKS = [m * 10.0**e for e in range(-3, 7) for m in (1, 2, 5)]      # 1, 2, 5 per decade on a log axis


def _check_title(title) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ValueError(f"Invalid title: {title!r} (every figure says what it shows)")
    return title


def _curve(result, name: str = "result"):
    """The arrays of a range test, checked: α increasing and positive, the three curves of one length."""
    try:
        lrs, losses, raw = (np.asarray(getattr(result, a), dtype=float) for a in ("lrs", "losses", "raw_losses"))
        suggestions = dict(result.suggestions)
    except (AttributeError, TypeError, ValueError):
        raise ValueError(f"Invalid {name}: {type(result).__name__} (expected a range test, "
                         "as lrcourse.engine.lr_range_test returns it)") from None
    if lrs.ndim != 1 or len(lrs) < 2 or losses.shape != lrs.shape or raw.shape != lrs.shape:
        raise ValueError(f"Invalid {name}: lrs, losses and raw_losses have shapes {lrs.shape}, {losses.shape}, "
                         f"{raw.shape} (expected one length, at least 2)")
    if not np.all(np.isfinite(lrs)) or np.any(lrs <= 0) or np.any(np.diff(lrs) <= 0):
        raise ValueError(f"Invalid {name}: its learning rates are not positive and increasing")
    return lrs, losses, raw, suggestions


def _rules(rules, suggestions: dict) -> list[str]:
    rules = list(suggestions) if rules is None else list(rules)
    unknown = [r for r in rules if r not in suggestions]
    if unknown:
        raise ValueError(f"Invalid rules value: {unknown!r} (the test has suggestions for {list(suggestions)!r})")
    return rules


def _style(rule: str, i: int) -> dict:
    return RULE_STYLES.get(rule, dict(color=CURVE_COLORS[i % len(CURVE_COLORS)], symbol="diamond"))


def _default_y_range(losses: np.ndarray) -> list[float]:
    """The smoothed curve's fall fills the plot: from one fall below its lowest point to one
    and a half falls above its start. The raw noise and the blow-up run off the edges."""
    start, low = float(losses[0]), float(losses.min())
    fall = max(start - low, 1e-3 * abs(start), 1e-12)
    return [low - fall, start + 1.5 * fall]


def _log_x(lrs) -> dict:
    """A log axis over exactly the range of ``lrs``, one tick per decade."""
    lo, hi = np.log10(np.min(lrs)), np.log10(np.max(lrs))
    pad = 0.02 * (hi - lo)
    return dict(type="log", range=[lo - pad, hi + pad], dtick=1, exponentformat="power")


def range_test_figure(result, *, title: str, rules=None, raw: bool = True, y_range=None) -> go.Figure:
    """The loss of one range test against α (log scale), each rule's suggestion a vertical line.

    The smoothed loss (what the rules read) is the solid curve, the raw loss of every
    step a faint one. Each line is labelled with its rule and α. A ✕ marks the step at
    which the test stopped because the loss blew up. ``rules`` picks the rules to mark
    (default: all of ``result.suggestions``); ``y_range`` overrides the default, which
    lets the blow-up run off the top.
    """
    lrs, losses, raw_losses, suggestions = _curve(result)
    rules = _rules(rules, suggestions)
    title = _check_title(title)
    lo, hi = y_range if y_range is not None else _default_y_range(losses)
    fig = go.Figure()
    if raw:
        fig.add_trace(go.Scatter(x=lrs, y=raw_losses, mode="lines", name="loss of each step",
                                 line=dict(color=RAW_COLOR, width=1), opacity=0.6))
    fig.add_trace(go.Scatter(x=lrs, y=losses, mode="lines", name="smoothed loss",
                             line=dict(color=CURVE_COLORS[0], width=2.5)))
    for i, rule in enumerate(rules):
        alpha, style = float(suggestions[rule]), _style(rule, i)
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
                   xaxis=dict(title="learning rate α of the step (log scale)", **_log_x(lrs)),
                   yaxis=dict(title="training loss", range=[lo, hi]),
                   height=460, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def range_tests_figure(results: Mapping[str, object], *, title: str, rule: str = "valley",
                       y_range=None) -> go.Figure:
    """Several range tests' smoothed losses against α on one plot, one colour each, with
    ``rule``'s suggestion as a marker on each curve (at the smoothed loss of that α)."""
    if not results:
        raise ValueError("Invalid results value: {} (expected at least one name -> range test)")
    title = _check_title(title)
    curves = {name: _curve(r, f"results[{name!r}]") for name, r in results.items()}
    for name, (*_, suggestions) in curves.items():
        _rules([rule], suggestions)
    if y_range is None:
        ranges = np.array([_default_y_range(losses) for _, losses, _, _ in curves.values()])
        y_range = [ranges[:, 0].min(), ranges[:, 1].max()]
    fig = go.Figure()
    style = _style(rule, 0)
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
                   xaxis=dict(title="learning rate α of the step (log scale)", **_log_x(every)),
                   yaxis=dict(title="smoothed training loss", range=list(y_range)),
                   height=460, legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def suggestions_table(results: Mapping[str, object], *, label: str = "range test") -> str:
    """One line per range test: the α at which it stopped ("–" if the loss never blew up),
    the α of its lowest smoothed loss, and each rule's suggestion (3 significant digits)."""
    if not results:
        raise ValueError("Invalid results value: {} (expected at least one name -> range test)")
    curves = {name: _curve(r, f"results[{name!r}]") for name, r in results.items()}
    rules = list(next(iter(curves.values()))[3])
    for name, (*_, suggestions) in curves.items():
        _rules(rules, suggestions)
    width = max(len(label), *(len(name) for name in curves)) + 2
    columns = ["stopped at", "lowest at", *rules]
    lines = [f"{label:<{width}}" + "".join(f"{c:>{max(len(c), 8) + 2}}" for c in columns)]
    for name, (lrs, losses, _, suggestions) in curves.items():
        stopped = f"{lrs[-1]:.3g}" if getattr(results[name], "stopped_at", None) is not None else "–"
        cells = [stopped, f"{lrs[np.argmin(losses)]:.3g}", *(f"{float(suggestions[r]):.3g}" for r in rules)]
        lines.append(f"{name:<{width}}" + "".join(f"{v:>{max(len(c), 8) + 2}}" for v, c in zip(cells, columns)))
    return "\n".join(lines)


# -- suggestions against a grid search ---------------------------------------------------

class Validation(NamedTuple):
    """One case study's check of the range test.

    ``suggestions`` maps a rule to its α; ``trained`` is a sweep with runs at (at least)
    every suggested α; ``grid`` is the grid search the suggestions are judged against.
    """

    suggestions: Mapping[str, float]
    trained: object
    grid: object


def _row(sweep, lr: float) -> int:
    lrs = np.asarray(sweep.lrs, dtype=float)
    hits = np.flatnonzero(np.isclose(lrs, lr, rtol=1e-6, atol=0))
    if hits.size == 0:
        raise ValueError(f"Invalid trained value: no runs at α = {lr:g} (it has α = {[float(x) for x in lrs]})")
    return int(hits[0])


def _check_cases(cases: Mapping[str, Validation]) -> None:
    if not cases:
        raise ValueError("Invalid cases value: {} (expected at least one name -> Validation)")
    for name, case in cases.items():
        if not isinstance(case, Validation):
            raise ValueError(f"Invalid cases value: {name!r} is a {type(case).__name__} (expected a Validation)")
        if not case.suggestions:
            raise ValueError(f"Invalid cases value: {name!r} has no suggestions")
        for lr in case.suggestions.values():
            _row(case.trained, float(lr))


def _mean_std(mean: float, std: float, digits: int = 3) -> str:
    """``mean ± std``: the mean to ``digits`` significant digits, the std to the same decimals."""
    if not math.isfinite(mean):
        return "–"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(mean)))) if mean != 0 else digits
    return f"{mean:.{decimals}f} ± {std:.{decimals}f}"


def _distance(best: float, lr: float) -> str:
    """How far ``lr`` is from ``best``, as a factor: "8.7× lower", "1.1× higher"."""
    ratio = best / lr
    word = "lower" if ratio >= 1 else "higher"
    ratio = max(ratio, 1 / ratio)
    return f"{ratio:.1f}× {word}" if ratio < 10 else f"{plain(ratio, 2)}× {word}"


def _cell(sweep, i: int) -> str:
    """Mean ± std of the final metric at row ``i``, and how many runs diverged."""
    s = sweep.summary()
    text = _mean_std(s["mean"][i], s["std"][i])
    if s["diverged"][i]:
        text += f" ({s['diverged'][i]}/{len(sweep.seeds)} diverged)"
    return text


def validation_table(cases: Mapping[str, Validation]) -> str:
    """For each case: the grid's best α and its metric, then one line per rule with the
    suggested α, the final metric of the runs trained at it (mean ± std over seeds), and
    how far the suggestion is from the grid's best α ("8.7× lower", "1.1× higher")."""
    _check_cases(cases)
    rows = []                                   # (case name, rule, α, metric cell, distance) per line
    for name, case in cases.items():
        grid, trained = case.grid, case.trained
        best = grid.best()
        at_best = _cell(grid, _row(grid, best)) if math.isfinite(best) else "–"
        rows.append((name, "grid best", best, at_best, ""))
        for rule, lr in case.suggestions.items():
            lr = float(lr)
            rows.append((name, rule, lr, _cell(trained, _row(trained, lr)),
                         _distance(best, lr) if math.isfinite(best) else ""))
    rule_width = max(len(r[1]) for r in rows) + 2
    cell_width = max(len(r[3]) for r in rows) + 3
    lines = []
    for name, rule, lr, cell, where in rows:
        if rule == "grid best":
            lines.append(f"{name}: final {cases[name].grid.metric_name}, {len(cases[name].trained.seeds)} seeds")
        lines.append(f"  {rule:<{rule_width}}α = {plain(lr):<9} {cell:<{cell_width}}{where}".rstrip())
    return "\n".join(lines)


def validation_figure(cases: Mapping[str, Validation], *, title: str, log_y=(), y_ranges=None) -> go.Figure:
    """One panel per case: the grid's mean final metric against α (log scale), and the runs
    at each suggestion as a marker of its rule (mean over seeds, ± std). ``log_y`` names the
    cases whose metric is drawn on a log axis (a perplexity that spans decades; without
    the ± std bars, which a log axis cannot draw once they exceed the mean), and
    ``y_ranges`` maps a case to the (low, high) of its metric's axis (default: all of it)."""
    _check_cases(cases)
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
                                 line=dict(color=RAW_COLOR, width=2), marker=dict(size=6)), row=row, col=1)
        t = case.trained.summary()
        for i, (rule, lr) in enumerate(case.suggestions.items()):
            k = _row(case.trained, float(lr))
            style = _style(rule, i)
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
