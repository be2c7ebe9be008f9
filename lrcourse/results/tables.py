"""Text tables of results (numpy only), short enough for a phone (lines ≤ 72 characters where possible).

Every table is laid out by :func:`format_table`: one printer for the whole book.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction
from typing import Callable, Iterable, Mapping

import numpy as np

from lrcourse import _checks
from lrcourse.core import descent, logistic, objectives, optim, theory
from lrcourse.core.descent import final_positions, landing, measured_rate, run
from lrcourse.core.objectives import Objective, quadratic
from lrcourse.results.analysis import (
    StepFactors,
    Validation,
    check_batch_sweeps,
    check_histories,
    check_same_lrs,
    check_validations,
    checked_rules,
    cliff,
    first_reach,
    flagged,
    flat_part,
    good_range,
    layer_spread,
    lowest_lr_reaching,
    mean_curve,
    mean_final,
    plateau,
    range_test_curve,
    row_of,
    runs_trained,
    scaling_factor,
    seeds_apart,
    sharpness_curve,
    sharpness_solves,
    stability_limit,
    step_reaching,
    steps_of,
    train_loss,
    two_minima_curvatures,
)


def format_table(header, rows, *, align: str | None = None) -> str:
    """Columns as wide as their widest cell, two spaces apart; ``align`` has one letter per
    column, ``"l"`` or ``"r"`` (default: the first column left, the others right).

    Cells are strings already formatted by the caller (numbers to the digits that are stable)."""
    table = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    n = len(table[0])
    if any(len(row) != n for row in table):
        raise ValueError(f"Invalid rows: {[len(r) for r in table[1:]]} cells (expected {n}, as the header)")
    align = align or "l" + "r" * (n - 1)
    if len(align) != n or set(align) - {"l", "r"}:
        raise ValueError(f"Invalid align value: {align!r} (expected {n} letters 'l' or 'r')")
    widths = [max(len(row[j]) for row in table) for j in range(n)]
    lines = ["  ".join(cell.ljust(w) if a == "l" else cell.rjust(w) for cell, w, a in zip(row, widths, align))
             for row in table]
    return "\n".join(line.rstrip() for line in lines)


def plain(x: float, digits: int = 3) -> str:
    """``digits`` significant digits without an exponent where one is not needed: 170, not 1.7e+02."""
    return f"{float(f'{x:.{digits}g}'):g}" if np.isfinite(x) else str(x)


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


def suggestions_table(results: Mapping[str, object], *, label: str = "range test") -> str:
    """One line per range test: the α at which it stopped ("–" if the loss never blew up),
    the α of its lowest smoothed loss, and each rule's suggestion (3 significant digits)."""
    if not results:
        raise ValueError("Invalid results value: {} (expected at least one name -> range test)")
    curves = {name: range_test_curve(r, f"results[{name!r}]") for name, r in results.items()}
    rules = list(next(iter(curves.values()))[3])
    for name, (*_, suggestions) in curves.items():
        checked_rules(rules, suggestions)
    width = max(len(label), *(len(name) for name in curves)) + 2
    columns = ["stopped at", "lowest at", *rules]
    lines = [f"{label:<{width}}" + "".join(f"{c:>{max(len(c), 8) + 2}}" for c in columns)]
    for name, (lrs, losses, _, suggestions) in curves.items():
        stopped = f"{lrs[-1]:.3g}" if getattr(results[name], "stopped_at", None) is not None else "–"
        cells = [stopped, f"{lrs[np.argmin(losses)]:.3g}", *(f"{float(suggestions[r]):.3g}" for r in rules)]
        lines.append(f"{name:<{width}}" + "".join(f"{v:>{max(len(c), 8) + 2}}" for v, c in zip(cells, columns)))
    return "\n".join(lines)


def mean_std(mean: float, std: float, digits: int = 3) -> str:
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
    text = mean_std(s["mean"][i], s["std"][i])
    if s["diverged"][i]:
        text += f" ({s['diverged'][i]}/{len(sweep.seeds)} diverged)"
    return text


def validation_table(cases: Mapping[str, Validation]) -> str:
    """For each case: the grid's best α and its metric, then one line per rule with the
    suggested α, the final metric of the runs trained at it (mean ± std over seeds), and
    how far the suggestion is from the grid's best α ("8.7× lower", "1.1× higher")."""
    check_validations(cases)
    rows = []                                   # (case name, rule, α, metric cell, distance) per line
    for name, case in cases.items():
        grid, trained = case.grid, case.trained
        best = grid.best()
        at_best = _cell(grid, row_of(grid, best)) if math.isfinite(best) else "–"
        rows.append((name, "grid best", best, at_best, ""))
        for rule, lr in case.suggestions.items():
            lr = float(lr)
            rows.append((name, rule, lr, _cell(trained, row_of(trained, lr)),
                         _distance(best, lr) if math.isfinite(best) else ""))
    rule_width = max(len(r[1]) for r in rows) + 2
    cell_width = max(len(r[3]) for r in rows) + 3
    lines = []
    for name, rule, lr, cell, where in rows:
        if rule == "grid best":
            lines.append(f"{name}: final {cases[name].grid.metric_name}, {len(cases[name].trained.seeds)} seeds")
        lines.append(f"  {rule:<{rule_width}}α = {plain(lr):<9} {cell:<{cell_width}}{where}".rstrip())
    return "\n".join(lines)


def schedule_summary(schedule, steps: int) -> str:
    """Where α(t) starts, peaks and ends over ``steps`` steps, and Σα (two lines for a title)."""
    lrs = schedule(np.arange(steps))
    peak = int(np.argmax(lrs))
    return (f"Σα = {lrs.sum():.3g} over {steps} steps<br>start {lrs[0]:.3g} · peak {lrs[peak]:.3g} "
            f"(step {peak}) · end {lrs[-1]:.3g}")


def comparison_table(sweeps: Mapping[str, object], *, last: int, peak: float | None = None) -> str:
    """One row per schedule: peak α, final metric mean ± std over seeds, training loss, runs diverged.

    ``peak=None``: each schedule at the peak α where its mean final metric is best;
    otherwise all at that ``peak``. The training loss is the mean over the last ``last``
    steps, averaged over the seeds that did not diverge.
    """
    peaks = check_same_lrs(sweeps)
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
    peaks = check_same_lrs(sweeps)
    name_width = max(len(n) for n in sweeps) + 2
    rows = [f"{'peak α':<{name_width}}" + "".join(f"{p:>9.3g}" for p in peaks)]
    for name, sweep in sweeps.items():
        s = sweep.summary()
        cells = [f"{m:.3f}" + (f"✕{d}" if d else "") for m, d in zip(s["mean"], s["diverged"])]
        rows.append(f"{name:<{name_width}}" + "".join(f"{c:>9}" for c in cells))
    return "\n".join(rows)


def batch_size_table(sweeps: Mapping[int, object], *, target: float = 0.95, tolerance: float = 0.01,
                     below: float = 0.5) -> str:
    """One row per batch size: optimizer steps per run, the best α and its mean metric, the
    α within ``tolerance`` (relative) of the best, the first α reaching ``target`` and the cliff."""
    sizes = check_batch_sweeps(sweeps)
    name = next(iter(sweeps.values())).metric_name
    rows = [f"{'B':>5} {'steps':>6}  {'best α (' + name + ')':>26}  {f'within {tolerance:.0%}':>13}"
            f"  {f'first ≥ {target:g}':>12}  {'cliff':>6}"]
    for b in sizes:
        sweep = sweeps[b]
        r = good_range(sweep, tolerance)
        lo = lowest_lr_reaching(sweep, target)
        edge = cliff(sweep, below)
        span = f"{r.lo:.3g}–{r.hi:.3g}" if r.count > 1 else f"{r.best:.3g}"
        rows.append(f"{b:>5} {steps_of(sweep):>6}  {r.best:>15.3g} ({r.best_metric:.3f})  {span:>13}"
                    f"  {'–' if math.isnan(lo) else f'{lo:.3g}':>12}  {'–' if math.isnan(edge) else f'{edge:.3g}':>6}")
    return "\n".join(rows)


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
    sizes = check_batch_sweeps(sweeps)
    ratios = np.atleast_1d(np.asarray(ratios, dtype=float))
    if ratios.size == 0 or not np.all(np.isfinite(ratios)) or np.any(ratios <= 0):
        raise ValueError(f"Invalid ratios: {ratios.tolist()!r} (expected positive numbers)")
    unit = "B" if rule == "linear" else "√B"
    scales = {b: scaling_factor(b, rule) for b in sizes}
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


def examples_table(sweeps: Mapping[int, object], n_train: int) -> str:
    """Per batch size: optimizer steps per run and the example gradients they use, steps × B,
    against epochs × ``n_train`` (every image once per epoch)."""
    sizes = check_batch_sweeps(sweeps)
    n_train = _checks.positive_int(n_train, "n_train")
    epochs = {int(next(iter(sweeps[b])).config["epochs"]) for b in sizes}
    if len(epochs) != 1:
        raise ValueError(f"Invalid sweeps: epochs {sorted(epochs)} (expected the same number for every batch size)")
    epochs = epochs.pop()
    rows = [f"{epochs} epochs × {n_train:,} images = {epochs * n_train:,} example gradients per run",
            f"{'B':>5} {'steps':>6} {'examples = steps × B':>21}  {'vs epochs × n':>14}"]
    for b in sizes:
        steps = int(next(iter(sweeps[b])).config["steps"])
        seen = steps * int(b)
        rows.append(f"{b:>5} {steps:>6} {seen:>21,}  {seen / (epochs * n_train) - 1:>+14.1%}")
    return "\n".join(rows)


def trained_table(sweeps: Mapping[int, object], *, below: float = 0.5) -> str:
    """One row per batch size: at each α, the runs that trained (final metric ≥ ``below`` and
    not diverged) out of the seeds, then :func:`stability_limit`, the largest α where all did."""
    sizes = check_batch_sweeps(sweeps)
    lrs = np.sort(np.asarray(next(iter(sweeps.values())).lrs, dtype=float))
    rows = [f"{'B':>5}  " + "".join(f"{'α = ' + format(lr, '.3g'):>11}" for lr in lrs) + f"  {'all trained up to':>18}"]
    for b in sizes:
        _, trained = runs_trained(sweeps[b], below)
        n = len(sweeps[b].seeds)
        limit = stability_limit(sweeps[b], below)
        rows.append(f"{b:>5}  " + "".join(f"{f'{k}/{n}':>11}" for k in trained)
                    + f"  {'–' if math.isnan(limit) else format(limit, '.3g'):>18}")
    return "\n".join(rows)


def end_sharpness_table(histories: Mapping[int, object], sharpness: Mapping[int, float]) -> str:
    """One row per batch size: the run's α, its final metric, the sharpness λ_max of the full
    training loss at its final weights (``sharpness[B]``), and 2/λ_max against α."""
    if not isinstance(histories, Mapping) or not histories or set(histories) != set(sharpness):
        raise ValueError("Invalid histories: expected a non-empty dict {batch size: History} "
                         "with the same keys as sharpness")
    rows = [f"{'B':>5} {'α':>6} {'final ' + 'metric':>13} {'λ_max at the end':>17} {'2/λ_max':>9}"]
    for b in sorted(histories):
        h, lam = histories[b], float(sharpness[b])
        final = "diverged" if h.diverged else f"{h.final:.3f}"
        rows.append(f"{b:>5} {h.config['lr']:>6.3g} {final:>13} {lam:>17.3g} {2 / lam:>9.3g}")
    return "\n".join(rows)


def warmup_table(runs: Mapping[tuple, object]) -> str:
    """One row per (batch size, warmup epochs, α) of ``runs``, a dict ``{(B, warmup epochs): Sweep}``:
    each seed's final metric or ✕ and the step at which it diverged, the runs that trained
    (final metric ≥ 0.5), and α(t) at the last step before each divergence."""
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"Invalid runs: {runs!r} (expected a dict {{(batch size, warmup epochs): Sweep}})")
    seeds = len(next(iter(runs.values())).seeds)
    rows = [f"{'B':>4} {'warmup':>7} {'α':>5}   {'final ' + 'metric per seed (✕ at: diverged at step)':<{11 * seeds}}"
            f" {'trained':>7}   α(t) where runs diverged"]
    for (b, warmup), sweep in runs.items():
        lrs, trained = runs_trained(sweep, 0.5)
        for lr, k in zip(lrs, trained):
            hs = [sweep[lr, seed] for seed in sweep.seeds]
            finals = "".join(f"{f'✕ at {h.diverged_at}' if h.diverged else f'{h.final:.3f}':>11}" for h in hs)
            at = ", ".join(f"{h.lrs[-1]:.2f}" for h in hs if h.diverged and len(h.lrs))
            rows.append(f"{b:>4} {str(warmup) + ' ep':>7} {lr:>5g}   {finals:<{11 * seeds}} {f'{k}/{len(hs)}':>7}   {at}")
    return "\n".join(rows)


def metric_table(sweeps: Mapping[int, object]) -> str:
    """The mean final metric at each α (rows) and batch size (columns); ✕n marks n runs that diverged."""
    sizes = check_batch_sweeps(sweeps)
    summaries = {b: sweeps[b].summary() for b in sizes}
    lrs = np.asarray(next(iter(sweeps.values())).lrs, dtype=float)
    rows = [f"{'α':>9} " + "".join(f"{'B = ' + str(b):>11}" for b in sizes)]
    for lr in np.sort(lrs):
        cells = []
        for b in sizes:
            s = summaries[b]
            i = int(np.flatnonzero(np.isclose(s["lr"], lr, rtol=1e-9, atol=0))[0])
            mean = "diverged" if not np.isfinite(s["mean"][i]) else f"{s['mean'][i]:.3f}"
            cells.append(mean + (f"✕{s['diverged'][i]}" if s["diverged"][i] and np.isfinite(s["mean"][i]) else ""))
        rows.append(f"{lr:>9.3g} " + "".join(f"{c:>11}" for c in cells))
    return "\n".join(rows)


def edge_table(histories: Iterable, *, fraction: float = 0.95) -> str:
    """One row per run: α, 2/α, λ_max at step 0, the first step where λ_max ≥ ``fraction``·2/α,
    the plateau (median of the late λ_max), plateau·α/2, final training loss, final metric, and
    how many eigen-solves converged (only those are used). A diverged run gets its step and loss."""
    rows = [f"{'α':>5} {'2/α':>6} {'λ_max at 0':>11} {f'≥ {fraction:g}·2/α at':>14} {'plateau':>8} "
            f"{'plateau·α/2':>12} {'final loss':>11} {'test acc':>9} {'converged':>10}"]
    for h in check_histories(histories):
        lr = h.config["lr"]
        _, lam = sharpness_curve(h)
        ok, made = sharpness_solves(h)
        start = f"{lam[0]:11.2f}" if lam.size else f"{'–':>11}"
        if h.diverged:
            rows.append(f"{lr:>5g} {2 / lr:6.2f} {start}   diverged at step {h.diverged_at} "
                        f"(loss {h.loss[0]:.3f} → {h.diverged_loss:.3g}): not plotted")
            continue
        reach = first_reach(h, fraction)
        rows.append(f"{lr:>5g} {2 / lr:6.2f} {start} {'never' if reach is None else reach:>14} "
                    f"{plateau(h):8.2f} {plateau(h) * lr / 2:12.3f} {h.loss[-1]:11.4f} {h.final:9.3f} "
                    f"{f'{ok}/{made}':>10}")
    return "\n".join(rows)


def loss_rise_table(histories: Iterable, *, fraction: float = 0.95) -> str:
    """For each run that did not diverge: the share of steps that raised the training loss
    before and after λ_max first reached ``fraction``·2/α."""
    rows = [f"{'α':>5}   share of steps where the loss went up",
            f"{'':>5}   {f'before λ_max reached {fraction:g}·2/α':>31}   {'after':>6}"]
    for h in check_histories(histories):
        if h.diverged:
            continue
        k, rises = first_reach(h, fraction), np.diff(h.loss) > 0
        k = len(rises) if k is None else k
        after = f"{rises[k:].mean():6.1%}" if k < len(rises) else f"{'–':>6}"
        rows.append(f"{h.config['lr']:>5g}   {rises[:k].mean():31.1%}   {after}")
    return "\n".join(rows)


def equal_budget_table(histories: Iterable, budgets=(20, 60, 100)) -> str:
    """The training loss of each run when α × steps reaches each of ``budgets``, and at its last
    step: runs at different α compared at equal distance travelled, α × steps."""
    budgets = np.atleast_1d(np.asarray(budgets, dtype=float))
    if budgets.size == 0 or not np.all(np.isfinite(budgets)) or np.any(budgets <= 0):
        raise ValueError(f"Invalid budgets: {budgets.tolist()!r} (expected positive numbers)")
    histories = check_histories(histories)
    for h in histories:
        if round(budgets.max() / h.config["lr"]) >= len(h.loss):
            raise ValueError(f"Invalid budgets: α × steps = {budgets.max():g} is past the end of the run "
                             f"at α = {h.config['lr']:g} ({len(h.loss)} steps)")
    rows = [f"{'training loss when α × steps =':<30}" + "".join(f"{b:>9g}" for b in budgets) + f"{'last step':>12}"]
    for h in histories:
        lr = h.config["lr"]
        losses = "".join(f"{h.loss[round(b / lr)]:9.4f}" for b in budgets)
        rows.append(f"{f'α = {lr:g} ({len(h.loss)} steps)':<30}{losses}{h.loss[-1]:12.4f}")
    return "\n".join(rows)


def final_table(histories: Iterable) -> str:
    """One row per run, by α: final training loss, last converged λ_max and the step it was
    measured at, 2/α, and the final metric; or the step at which the run diverged."""
    rows = [f"{'α':>6} {'final loss':>11} {'last λ_max':>11} {'at step':>8} {'2/α':>6} {'test acc':>9}"]
    for h in check_histories(histories):
        lr = h.config["lr"]
        if h.diverged:
            rows.append(f"{lr:>6g}   diverged at step {h.diverged_at}")
            continue
        steps, lam = sharpness_curve(h)
        last = (f"{lam[-1]:11.1f} {steps[-1]:8d}" if lam.size else f"{'–':>11} {'–':>8}")
        rows.append(f"{lr:>6g} {h.loss[-1]:11.4f} {last} {2 / lr:6.3g} {h.final:9.3f}")
    return "\n".join(rows)


def home_table(objective: Objective, starts, lrs, *, steps: int = 1000, tol: float = 1e-3) -> str:
    """On a 1-D loss with two minima, per α: % of starts ending in their own valley's minimum ("home"),
    hopping to the other minimum (each way), not settled, diverged, and ending in the global minimum.

    A start's valley is the side of the barrier (the highest point between the minima) it starts on.
    """
    two_minima_curvatures(objective)
    starts = np.asarray(starts, dtype=float).reshape(-1)
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    minima = objective.minimizers[:, 0]
    between = np.linspace(minima.min(), minima.max(), 20001)
    barrier = between[np.argmax(objective.value(between[:, None]))]
    ends = landing(final_positions(objective, starts, lrs, steps), objective.minimizers, tol)
    on_global_side = (starts < barrier) == (minima[0] < barrier)
    home = np.where(on_global_side, 0, 1)[:, None]  # 0 global, 1 local

    def share(mask):
        return np.mean(mask, axis=0) * 100

    columns = [share(ends == home), share((home == 1) & (ends == 0)), share((home == 0) & (ends == 1)),
               share(ends == 2), share(ends == 3), share(ends == 0)]
    rows = ["    α  home  local→  global→  not settled  diverged | ends in",
            "               global   local                       |  global"]
    rows += ["{:5.2f} {:4.0f}% {:6.0f}% {:7.0f}% {:11.0f}% {:8.0f}% |{:7.0f}%".format(lr, *values)
             for lr, *values in zip(lrs, *columns)]
    rows.append(f"(barrier at w = {barrier:.3f}; {len(starts)} starts, {steps} steps)".replace("-", "−"))
    return "\n".join(rows)


def _quadratic(objective: Objective) -> tuple[float, float]:
    if objective.curvature is None:
        raise ValueError(f"Invalid objective: {objective.name} is not a quadratic (no constant curvature)")
    return objective.curvature


def _hessian(objective: Objective) -> np.ndarray:
    return objective.grad(np.eye(objective.dim))  # grad(w) = w A, so the rows of I give A


def one_step_table(objective: Objective, w, lrs) -> str:
    """Per α: 𝓛(w − α∇𝓛(w)) against the first-order guess 𝓛(w) − α‖∇𝓛(w)‖²."""
    _quadratic(objective)
    w = np.asarray(w, dtype=float)
    g = objective.grad(w)
    rows = []
    for lr in lrs:
        exact, guess = objective(w - lr * g), objective(w) - lr * g @ g
        rows.append(f"α = {lr:<5} 𝓛(w − α∇𝓛) = {exact:7.4f}   first-order guess = {guess:8.4f}")
    return "\n".join(rows)


def threshold_table(objective: Objective, w0, ratios, *, steps: int, tol: float = 1e-6) -> str:
    """Runs at α = ratio · 2/L: the predicted rate, the first step with 𝓛 ≤ ``tol``, and the verdict."""
    mu, L = _quadratic(objective)
    ratios = np.asarray(ratios, dtype=float)
    runs = descent.run(objective, w0, ratios * theory.critical_lr(L), steps=steps)
    reached = runs.steps_to(tol)
    tol_text = f"{tol:g}".replace("e-0", "e-")  # 1e-6, not 1e-06
    rows = [f"α/(2/L)     α   rate  steps to 𝓛≤{tol_text}  what happened"]
    for i, ratio in enumerate(ratios):
        lr, when = runs.lrs[i], reached[i] if reached[i] >= 0 else "never"
        verdict = descent.describe(runs, i, objective.minimizers)
        rows.append(f"{ratio:7.2f} {lr:5.3f} {theory.rate(lr, L, mu):5.2f} {when:>16}  {verdict}")
    return "\n".join(rows)


def rate_table(objective: Objective, w0, lrs, *, steps: int, reference: float) -> str:
    """Per α: the predicted rate max|1 − αλ| and the one measured over the second half of ``steps``
    steps (``descent.measured_rate``); α is also given as a multiple of ``reference``."""
    mu, L = _quadratic(objective)
    lrs = np.asarray(lrs, dtype=float)
    runs = descent.run(objective, w0, lrs, steps=steps)
    distance = np.linalg.norm(runs.path - objective.minimizers[0], axis=-1)
    measured = descent.measured_rate(distance[steps // 2:])
    rows = ["  α/α*       α   predicted rate   measured rate"]
    for lr, predicted, got in zip(lrs, theory.rate(lrs, L, mu), measured):
        rows.append(f"{lr / reference:6.2f} {lr:7.4f} {predicted:14.4f} {got:15.4f}")
    return "\n".join(rows)


def coordinates_table(objective: Objective, w0, lr: float, *, steps: int) -> str:
    """The iterates' coordinates c_λ along each eigenvector of the Hessian, step by step, then
    each coordinate's measured ratio c(t+1)/c(t) against the predicted factor 1 − αλ."""
    _quadratic(objective)
    lams, vectors = np.linalg.eigh(_hessian(objective))
    coords = descent.run(objective, w0, [lr], steps=steps).path[:, 0] @ vectors
    names = ["μ", "L"] if len(lams) == 2 else [f"{j + 1}" for j in range(len(lams))]
    rows = [" t " + "".join(f"{f'c_{name} (λ={lam:g})':>13}" for name, lam in zip(names, lams))]
    rows += [f"{t:2d} " + "".join(f"{c:13.4f}" for c in row) for t, row in enumerate(coords)]
    for j, lam in enumerate(lams):
        ratio = coords[1:, j] / coords[:-1, j]
        rows.append(f"λ = {lam:2g}: c(t+1)/c(t) from {ratio.min():+.4f} to {ratio.max():+.4f}, "
                    f"predicted {1 - lr * lam:+.4f}")
    return "\n".join(rows)


def conditioning_table(kappas, w0, *, angle: float = np.pi / 6, steps: int = 1500, tol: float = 1e-6) -> str:
    """For bowls with μ = 1 and L = κ: the steps until ‖w − w*‖ has shrunk by ``tol``, predicted
    (``theory.steps_to_tolerance``) and measured, at α* = 2/(L + μ) and at α = 1/L."""
    rows = ["        α* = 2/(L+μ)                α = 1/L",
            "    κ   predicted measured steps/κ  predicted measured"]
    for kappa in kappas:
        bowl = objectives.quadratic((1.0, float(kappa)), angle=angle)
        lrs = np.array([theory.optimal_lr(kappa, 1.0), 1.0 / kappa])
        distance = np.linalg.norm(descent.run(bowl, w0, lrs, steps=steps).path, axis=-1)
        below = distance <= tol * distance[0]
        got = np.where(below.any(axis=0), below.argmax(axis=0), -1)  # the first step below; −1: never
        want = [theory.steps_to_tolerance(lr, kappa, 1.0, tol) for lr in lrs]
        rows.append(f"{kappa:5d} {want[0]:11d} {got[0]:8d} {got[0] / kappa:7.1f} {want[1]:10d} {got[1]:8d}")
    return "\n".join(rows)


# ------------------------------------------------- case studies: the RL agent and the range test


def agent_budget(config, *, random_return: float | None = None, digits: int = 1,
                 frame_skip: int | None = None) -> str:
    """An agent's budget from its configuration (``rl.config(...)``, or one of ``rl.PRESETS``)::

        environment steps per run = updates × games × steps per rollout

    then, when the configuration has them, the transitions per update and γ, λ, β; the evaluation;
    the mean return of random play (``digits`` decimals); the frames (× ``frame_skip``)."""
    def get(key):
        return config.get(key) if isinstance(config, Mapping) else getattr(config, key, None)

    keys = ("steps", "num_envs", "rollout_steps", "eval_episodes", "eval_every")
    if any(not isinstance(get(k), int) for k in keys):
        raise ValueError(f"Invalid config: {config!r} (expected rl.config(...) or one of rl.PRESETS)")
    steps, games, rollout, episodes, every = (_checks.positive_int(get(k), k) for k in keys)
    env_steps = steps * games * rollout
    lines = [f"{steps:,} updates × {games} games × {rollout} steps", f"= {env_steps:,} environment steps per run"]
    if get("gamma") is not None:
        lines.append(f"{games * rollout} transitions per update; γ = {get('gamma')}, "
                     f"λ = {get('gae_lambda')}, β = {get('entropy_coef')}")
    lines.append(f"evaluation: {episodes} episodes every {every:,} updates")
    if random_return is not None:
        lines.append(f"random play, same episodes: mean return {random_return:.{digits}f}")
    if frame_skip is not None:
        frame_skip = _checks.positive_int(frame_skip, "frame_skip")
        lines.append(f"{env_steps:,} agent steps = {env_steps * frame_skip:,} frames "
                     f"(an action lasts {frame_skip} frames)")
    return "\n".join(lines)


def evaluations_table(history, *, metric: str = "return", logs=("entropy",), digits: int = 0) -> str:
    """One column per evaluation of a run: the step it followed, the metric, and, for the step just
    before it, each of ``logs`` and the training loss (2 decimals)."""
    steps = np.asarray(history.metric_steps, dtype=int)
    if steps.size == 0:
        raise ValueError("Invalid history: it has no evaluation")
    at = steps - 1
    rows = [[metric, *(f"{m:.{digits}f}" for m in history.metric)]]
    for name in logs:
        if name not in history.logs:
            raise ValueError(f"Invalid logs value: {name!r} (the run logged {sorted(history.logs)})")
        rows.append([name, *(f"{v:.2f}" for v in np.asarray(history.logs[name])[at])])
    rows.append(["loss", *(f"{v:.2f}" for v in np.asarray(history.loss)[at])])
    return format_table(["update", *map(str, steps)], rows)


def _flag_title(flag: str) -> str:
    return flag.removesuffix("_at").replace("_", " ")


def seed_finals_table(sweep, *, lrs=None, digits: int = 0, sort: bool = False, flag: str | None = None) -> str:
    """One row per α (``lrs``, default all of the sweep's): the final metric of each seed (in seed
    order, or worst to best with ``sort``), their mean ± std, and with ``flag`` how many runs have
    ``config[flag]`` set (e.g. ``"collapsed_at"``)."""
    lrs = list(sweep.lrs) if lrs is None else list(lrs)
    counts = flagged(sweep, flag) if flag else None
    n, s = len(sweep.seeds), sweep.summary()
    finals = {}
    for lr in lrs:
        values = np.array([sweep[lr, seed].final for seed in sweep.seeds], dtype=float)
        if sort:
            values = np.sort(values) if sweep.maximize else np.sort(values)[::-1]
        finals[lr] = [f"{f:.{digits}f}" for f in values]
    width = max(len(f) for cells in finals.values() for f in cells)
    rows = []
    for lr in lrs:
        i = row_of(sweep, lr)
        row = [f"{lr:.3g}", "  ".join(f.rjust(width) for f in finals[lr]),
               f"{s['mean'][i]:.{digits}f} ± {s['std'][i]:.{digits}f}"]
        rows.append(row + ([f"{counts[i]}/{n}"] if flag else []))
    per_seed = f"final {sweep.metric_name} per seed" + (" (sorted)" if sort else "")
    return format_table(["α", per_seed, "mean ± std", *([_flag_title(flag)] if flag else [])], rows)


def mean_curves_table(sweep, lrs, *, digits: int = 0) -> str:
    """One row per α of ``lrs``: the metric at each evaluation, mean over the seeds (:func:`mean_curve`)."""
    curves = [mean_curve(sweep, lr) for lr in lrs]
    if not curves:
        raise ValueError("Invalid lrs value: [] (expected at least one α of the sweep)")
    rows = [[f"α = {lr:.3g}", *(f"{m:.{digits}f}" for m in mean)] for lr, (_, mean) in zip(lrs, curves)]
    return format_table(["update", *map(str, curves[0][0])], rows)


def best_and_final_table(sweep, lrs, *, log: str | None = None, flag: str | None = None, digits: int = 0) -> str:
    """One row per run at each α of ``lrs``: its best evaluation and the step it followed, its
    final one, with ``log`` the last value of ``logs[log]``, with ``flag`` ``config[flag]`` ("–": none)."""
    rows = []
    for lr in lrs:
        for seed in sweep.seeds:
            h = sweep[lr, seed]
            best = int(np.nanargmax(h.metric) if sweep.maximize else np.nanargmin(h.metric))
            row = [f"{lr:.3g}", str(seed), f"{h.metric[best]:.{digits}f} ({h.metric_steps[best]})",
                   f"{h.final:.{digits}f}"]
            if log:
                row.append(f"{np.asarray(h.logs[log])[-1]:.3f}")
            if flag:
                row.append("–" if h.config.get(flag) is None else str(h.config[flag]))
            rows.append(row)
    header = ["α", "seed", "best (update)", "final", *([log] if log else []), *([_flag_title(flag)] if flag else [])]
    return format_table(header, rows)


def log_start_table(sweep, lr: float, log: str, *, steps: int = 5, digits: int = 4) -> str:
    """``logs[log]`` of each seed's run at α = ``lr`` over its first ``steps`` updates."""
    steps = _checks.positive_int(steps, "steps")
    rows = [[f"seed {seed}", *(f"{v:.{digits}f}" for v in np.asarray(sweep[lr, seed].logs[log])[:steps])]
            for seed in sweep.seeds]
    return format_table([f"{log}, α = {lr:g}", *(f"update {k}" for k in range(steps))], rows)


def catch_up_table(sweep) -> str:
    """For each α below the sweep's best: its mean final metric, and the first evaluation at which
    the best α's mean curve (:func:`mean_curve`) got there: how many steps a larger α saves."""
    best = sweep.best()
    lrs = [lr for lr in np.sort(np.asarray(sweep.lrs, dtype=float)) if lr < best]
    rows = []
    for lr in lrs:
        target = mean_final(sweep, lr)
        step = step_reaching(sweep, best, target)
        rows.append([f"{lr:.3g}", f"{target:.0f}", "never" if step is None else str(step)])
    return format_table(["α", f"final {sweep.metric_name}", f"α = {best:.3g} got there by update"], rows)


def apart_table(sweep) -> str:
    """For each pair of neighbouring α of the grid: whether every seed at the larger α ended better
    than every seed at the smaller one (:func:`seeds_apart`)."""
    lrs = np.sort(np.asarray(sweep.lrs, dtype=float))
    rows = [[f"{low:g}", f"{high:g}", "yes" if seeds_apart(sweep, low, high) else "no"]
            for low, high in zip(lrs[:-1], lrs[1:])]
    return format_table(["lower α", "higher α", "every seed better at the higher"], rows)


def ramp_text(lrs, *, below: float = 0.01) -> str:
    """The learning rates of a range test: how many, from where to where, the factor per step
    α_{k+1}/α_k and the steps per decade ln 10 / ln(factor), and how many lie below ``below``."""
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim != 1 or len(lrs) < 2 or np.any(lrs <= 0) or np.any(np.diff(lrs) <= 0):
        raise ValueError("Invalid lrs: expected at least 2 positive, increasing learning rates")
    factor = lrs[1] / lrs[0]
    return "\n".join([f"{len(lrs)} steps from α = {lrs[0]:g} to {lrs[-1]:g}",
                      f"α grows × {factor:.3f} per step: {math.log(10) / math.log(factor):.1f} steps per decade",
                      f"{np.sum(lrs < below)} of the {len(lrs)} steps use an α below {below:g}"])


def range_test_summary(result) -> str:
    """What a range test did, in three lines: how far it ran, its smoothed loss at the start and
    at its lowest point, and each rule's suggestion."""
    lrs, losses, _, suggestions = range_test_curve(result)
    low = int(np.argmin(losses))
    stopped = getattr(result, "stopped_at", None)
    end = (f"ran all {len(lrs)} steps to α = {lrs[-1]:.3g}" if stopped is None
           else f"stopped at step {stopped} (α = {lrs[-1]:.3g}): the loss blew up")
    return "\n".join([f"{len(lrs)} steps, {end}",
                      f"smoothed loss {losses[0]:.3f} at the start, lowest {losses[low]:.3f} at α = {lrs[low]:.3g}",
                      "suggestions: " + ", ".join(f"{rule} {lr:.3g}" for rule, lr in suggestions.items())])


def blow_up_table(result, *, factor: float = 2.0, last: int = 5) -> str:
    """Where the raw loss of a range test first passed ``factor`` × its start, then its last
    ``last`` steps: α, the raw loss and the smoothed one."""
    _checks.positive(factor, "factor")
    last = _checks.positive_int(last, "last")
    lrs, losses, raw, _ = range_test_curve(result)
    above = np.flatnonzero(raw > factor * raw[0])
    first = (f"{raw[above[0]]:.2f} at α = {lrs[above[0]]:.3g}" if above.size else "never")
    rows = [[f"{lrs[k]:.3g}", f"{raw[k]:.2f}", f"{losses[k]:.3f}"] for k in range(max(len(lrs) - last, 0), len(lrs))]
    return (f"first raw loss above {factor:g} × the start: {first}\nthe last {last} steps:\n"
            + format_table(["α", "raw loss", "smoothed"], rows))


def flat_part_table(results: Mapping[str, object], below: float) -> str:
    """One row per range test: the range of its smoothed and raw losses below α = ``below``
    (:func:`flat_part`), and the α at which it stopped ("–": it ran to its end)."""
    if not results:
        raise ValueError("Invalid results value: {} (expected at least one name -> range test)")
    rows = []
    for name, r in results.items():
        part = flat_part(r, below)
        stopped = f"{r.lrs[-1]:.3g}" if getattr(r, "stopped_at", None) is not None else "–"
        rows.append([name, f"{part.smoothed_low:.2f} to {part.smoothed_high:.2f}",
                     f"{part.raw_low:.2f} to {part.raw_high:.2f}", stopped])
    return format_table(["test", f"smoothed, α < {below:g}", f"raw, α < {below:g}", "stopped at α"], rows)


def loss_and_metric_table(sweep, lr: float, *, window: int = 10, digits: int = 0) -> str:
    """One row per seed at α = ``lr``: the training loss over the first and the last ``window``
    steps (mean), the metric at the first evaluation and at the end."""
    window = _checks.positive_int(window, "window")
    rows, first = [], None
    for seed in sweep.seeds:
        h = sweep[lr, seed]
        first = int(h.metric_steps[0])
        rows.append([f"seed {seed}", f"{np.mean(h.loss[:window]):.2f}", f"{np.mean(h.loss[-window:]):.2f}",
                     f"{h.metric[0]:.{digits}f}", f"{h.final:.{digits}f}"])
    return format_table([f"α = {lr:.3g}", f"loss, first {window}", f"last {window}",
                         f"{sweep.metric_name} after {first}", "at the end"], rows)


def _check_cases(cases: Mapping[str, tuple], size: int, what: str) -> None:
    if not isinstance(cases, Mapping) or not cases or any(len(c) != size for c in cases.values()):
        raise ValueError(f"Invalid cases value: {cases!r} (expected a dict {{name: ({what})}})")


def cost_table(cases: Mapping[str, tuple]) -> str:
    """In optimizer steps, per case ``{name: (range tests, grid)}``: the range tests' steps, one
    training run's, their ratio, the grid search's (α × seeds × run) and how many times the tests'."""
    _check_cases(cases, 2, "range tests, grid Sweep")
    rows = []
    for name, (tests, grid) in cases.items():
        test_steps = sum(len(t.lrs) for t in tests)
        run_steps = max(h.steps for h in grid)
        grid_steps = len(grid.lrs) * len(grid.seeds) * run_steps
        rows.append([name, str(test_steps), str(run_steps), f"{test_steps / run_steps:.2f}", f"{grid_steps:,}",
                     f"{grid_steps / test_steps:.0f}"])
    return format_table(["case", "range test", "one run", "share of a run", "grid search", "grid ÷ test"], rows)


def wall_times(cases: Mapping[str, tuple]) -> str:
    """Per case ``{name: (range tests, grid)}``: the seconds the range tests and the grid search took."""
    _check_cases(cases, 2, "range tests, grid Sweep")
    return "\n".join(f"{name:<5} range test {sum(t.seconds for t in tests):.1f} s, "
                     f"grid search {grid.seconds:.1f} s wall time" for name, (tests, grid) in cases.items())


def bracket_table(cases: Mapping[str, tuple]) -> str:
    """Per case ``{name: (range test, grid)}``: the tenth of the curve's lowest point, the lowest
    point, the grid's best α, whether it lies between the two, and lowest point ÷ best α."""
    _check_cases(cases, 2, "range test, grid Sweep")
    rows = []
    for name, (test, grid) in cases.items():
        tenth, best = float(test.suggestions["minimum/10"]), grid.best()
        rows.append([name, f"{tenth:.3g}", f"{10 * tenth:.3g}", f"{best:.3g}",
                     "yes" if tenth <= best <= 10 * tenth else "no", f"{10 * tenth / best:.1f}"])
    return format_table(["case", "lowest ÷ 10", "lowest point", "grid's best α", "inside?", "lowest ÷ best"], rows)


def two_runs_table(cases: Mapping[str, tuple]) -> str:
    """Per case ``{name: (range test, runs, grid)}``: the mean final metric at a tenth of the
    curve's lowest point and at 3 × that (from ``runs``), and at the grid's best α."""
    _check_cases(cases, 3, "range test, runs Sweep, grid Sweep")
    rows = []
    for name, (test, runs, grid) in cases.items():
        tenth, best = float(test.suggestions["minimum/10"]), grid.best()
        rows.append([name, f"{tenth:.3g}", f"{mean_final(runs, tenth):.3g}", f"{3 * tenth:.3g}",
                     f"{mean_final(runs, 3 * tenth):.3g}", f"{best:.3g}", f"{mean_final(grid, best):.3g}"])
    return format_table(["case", "min/10", "final", "3 × min/10", "final", "grid best", "final"], rows)
