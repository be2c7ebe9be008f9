"""Text tables of results (numpy only), short enough for a phone (lines ≤ 72 characters where possible).

Every table is laid out by :func:`format_table`: one printer for the whole book.
"""

from __future__ import annotations

import functools
import math
import textwrap
from itertools import groupby
from fractions import Fraction
from typing import Callable, Iterable, Mapping

import numpy as np

from lrcourse import _checks
from lrcourse.core import descent, logistic, objectives, optim, theory
from lrcourse.core.descent import final_positions, landing, landing_labels, measured_rate, run
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
    epochs_to_reach,
    finetune_summary,
    first_reach,
    flagged,
    flat_part,
    good_range,
    layer_spread,
    loss_before,
    lowest_lr_reaching,
    lrs_reaching,
    mean_curve,
    mean_final,
    plateau,
    range_test_curve,
    real_word_share,
    row_of,
    runs_trained,
    scaling_factor,
    seeds_apart,
    sharpness_curve,
    sharpness_solves,
    stability_limit,
    step_reaching,
    steps_of,
    steps_to_match,
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
    rows = []
    for name, run_ in trained.items():
        lr = lrs[name]
        if run_.diverged:
            rows.append([name, f"{lr:g}", "diverged", f"at step {run_.diverged_at}",
                         f"loss {run_.losses[run_.diverged_at]:.1e}"])
            continue
        train_acc = logistic.accuracy(run_.weights, data.X_train, data.y_train)
        test_acc = logistic.accuracy(run_.weights, data.X_test, data.y_test)
        rows.append([name, f"{lr:g}", f"{run_.losses[-1]:.3g}", f"{train_acc:.3f}", f"{test_acc:.3f}"])
    return format_table(["", "α", "train loss", "train acc", "test acc"], rows)


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
    cells = {title: [f"{s.median:.{digits}g} [{s.p10:.{digits}g}, {s.p90:.{digits}g}]" for s in spread.values()]
             for title, spread in spreads.items()}
    count = next(iter(spreads.values()))
    rows = [[name, count[name].count, *(cells[t][i] for t in cells)] for i, name in enumerate(layers)]
    return format_table(["layer", "params", *cells], rows)


def momentum_edges(lam: float, betas, *, steps: int = 3000, width: float = 0.02, points: int = 400) -> str:
    """Heavy-ball momentum on 𝓛(w) = ½λw²: per β, the measured edge of stability against 2(1+β)/λ.

    For each β, ``points`` values of α within ±``width`` of the prediction run ``steps`` steps
    from w₀ = 1; a run "shrinks" when |w| at the end is below |w| half-way.
    """
    _checks.positive(lam, "lam")
    steps = _checks.positive_int(steps, "steps")
    line = quadratic((lam,))
    rows = [["", "2(1+β)/λ", "still shrinks", "grows"]]     # the header's second line
    for beta in betas:
        predicted = 2 * (1 + beta) / lam
        grid = predicted * np.linspace(1 - width, 1 + width, points)
        runs = run(line, [1.0], grid, steps=steps, optimizer=functools.partial(optim.sgd, momentum=beta))
        size = np.abs(runs.path[:, :, 0])
        shrinks = size[-1] < size[steps // 2]
        rows.append([str(beta), f"{predicted:.5f}", f"{grid[shrinks].max():.5f}", f"{grid[~shrinks].min():.5f}"])
    return format_table(["β", "predicted", "largest α that", "smallest α that"], rows, align="rrrr")


def momentum_rate_summary(betas, products, rates, *, show=(0.0, 0.5, 0.9), at=(0.5, 1.5, 2.5)) -> str:
    """For the β of the grid nearest each of ``show``: the largest αλ that converges, the
    predicted 2(1+β), and the rates at the αλ nearest each of ``at``, against √β."""
    betas, products, rates = (np.asarray(a, dtype=float) for a in (betas, products, rates))
    lines = []
    for beta in show:
        j = np.argmin(np.abs(betas - beta))
        measured = [rates[np.argmin(np.abs(products - x)), j] for x in at]
        lines.append(f"β = {betas[j]:.2f}: converges up to αλ = {products[rates[:, j] < 1].max():.2f} "
                     f"(predicted {2 * (1 + betas[j]):.2f});\n{'':10}rate at αλ = {', '.join(f'{x:g}' for x in at)}: "
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
    rows = []
    for name, lr, beta, predicted in contenders:
        runs = run(bowl, w0, [lr], steps=steps, optimizer=functools.partial(optim.sgd, momentum=beta))
        measured = measured_rate(np.linalg.norm(runs.path[100:600, 0], axis=-1))
        rows.append([name, f"{lr:.4f}", f"{beta:.3f}", f"{predicted:.3f}", f"{measured:.3f}", runs.steps_to(tol)[0]])
    header = ["", "α", "β", "predicted", "measured", "steps to"]
    below = ["", "", "", "rate", "rate", "𝓛 ≤ " + f"{tol:g}".replace("e-0", "e-")]  # the header's second line
    return f"κ = {kappa:g}\n" + format_table(header, [below, *rows])


def constant_gradient_table(steps: Mapping[str, np.ndarray], *, at=(1, 2, 10, 100, 1000)) -> str:
    """Whether |Δθ|/α is the same in every coordinate (to 0.1 %), then its value at the steps ``at``."""
    same = all(np.allclose(s, s[:, :1], rtol=1e-3) for s in steps.values())
    rows = [[t, *(f"{s[t - 1, 0]:.3g}" for s in steps.values())] for t in at]
    return (f"|Δθ|/α is the same for the {next(iter(steps.values())).shape[1]} gradient sizes, to 0.1 %: {same}\n\n"
            + format_table(["t", *steps], rows, align="r" * (1 + len(steps))))


def bowl_table(objectives: Mapping[str, Objective], w0, lrs, contenders: Mapping[str, Callable], *,
               steps: int = 100, tol: float = 1e-3) -> str:
    """Per optimizer and objective: the best α of the grid ``lrs``, its final loss, and how
    many α bring the loss to ``tol`` within ``steps`` steps (diverged runs count as ∞)."""
    lrs = np.asarray(lrs, dtype=float)
    blocks = []
    for title, f in objectives.items():                 # one table per objective, one under the other
        rows = []
        for name, make in contenders.items():
            runs = run(f, w0, lrs, steps=steps, optimizer=make)
            final = np.where(runs.diverged, np.inf, runs.loss[-1] - f.min_value)
            rows.append([name, f"{lrs[final.argmin()]:.3g}", f"{final.min():.1e}", int(np.sum(final <= tol))])
        blocks.append(f"{title}\n" + format_table(["", "best α", "its loss", f"α with 𝓛≤{tol:g}"], rows))
    return "\n\n".join(blocks)


def sweeps_table(sweeps: Mapping[str, object]) -> str:
    """Mean ± std of the final metric per α, one column per sweep, with the number of diverged seeds (✕)."""
    summaries = {name: sweep.summary() for name, sweep in sweeps.items()}
    lrs = next(iter(summaries.values()))["lr"]
    rows = [[f"{lr:.3g}", *(f"{s['mean'][i]:.3f} ± {s['std'][i]:.3f} {s['diverged'][i]}✕" for s in summaries.values())]
            for i, lr in enumerate(lrs)]
    return format_table(["α", *summaries], rows, align="r" * (1 + len(summaries)))


def finals_table(sweeps: Mapping[str, object], seed: int = 0) -> str:
    """The final metric of one seed per α, one column per sweep (✕: diverged)."""
    lrs = list(next(iter(sweeps.values())).lrs)
    rows = [[f"{lr:.3g}", *("✕" if s[lr, seed].diverged else f"{s[lr, seed].final:.4g}" for s in sweeps.values())]
            for lr in lrs]
    return format_table(["α", *sweeps], rows, align="r" * (1 + len(sweeps)))


def range_table(sweeps: Mapping[str, object], tolerance: float) -> str:
    """One line per sweep: its best α and the range of α within ``tolerance`` (see :func:`good_range`)."""
    lines = []
    for name, sweep in sweeps.items():
        r = good_range(sweep, tolerance)
        lines.append(f"{name:>5}: best α {r.best:.3g} ({r.best_metric:.3f})\n{'':7}within {tolerance:.0%}: "
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
    cells = [[label, f"{np.median(ratios[at]):.3g}", f"{np.percentile(ratios[at], 90):.3g}",
              f"{np.nanmedian(factors.snr[at]):.3g}", f"{np.nanmedian(factors.scale[at]):.3g}"] for label, at in rows]
    return format_table(["", "|Δθ|/α", "90th pct", "SNR |m̂|/√û", "scale √û/√v̂"], cells)


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
    header = ["α", "best λ", "α·λ", f"largest λ losing ≤ {tolerance:g}", "α·λ"] + (["α·λ·steps"] if steps else [])
    rows = []
    for j, lr in enumerate(lrs):
        best = wds[np.nanargmax(grid[:, j])]
        harmless = np.cumprod(grid[:, j] >= reference[j] - tolerance).astype(bool)
        largest = wds[harmless].max() if harmless.any() else np.nan
        row = [f"{lr:g}", f"{best:g}", f"{lr * best:.2g}", f"{largest:g}", f"{lr * largest:.2g}"]
        rows.append(row + ([f"{lr * largest * steps:.3g}"] if steps else []))
    return format_table(header, rows, align="r" * len(header))


def grid_table(grids: Mapping[str, np.ndarray], *, rows, columns, row_name: str = "λ") -> str:
    """``grids[title][i, j]`` as text: one line per title and row value, one column per column value."""
    lines = []
    for title, grid in grids.items():
        grid = np.asarray(grid, dtype=float)
        if grid.shape != (len(rows), len(columns)):
            raise ValueError(f"Invalid grids: {title!r} has shape {grid.shape}, expected {(len(rows), len(columns))}")
        lines += [[title, f"{row_name} = {value:g}", *(f"{x:.3f}" for x in row)] for value, row in zip(rows, grid)]
    return format_table(["", "", *(f"{c:g}" for c in columns)], lines, align="ll" + "r" * len(columns))


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
        lines.append(f"{'':<10} largest λ where no α loses over {tolerance:g} against λ = 0: {usable:g}")
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
    some = next(iter(sweeps.values()))
    rows = []
    for name, sweep in sweeps.items():
        lr = sweep.best() if peak is None else peak
        i = int(np.argmin(np.abs(np.log(peaks) - np.log(lr))))
        s = sweep.summary()
        histories = sweep.grid[i]
        losses = [train_loss(h, last) for h in histories]
        loss = np.mean([v for v in losses if np.isfinite(v)]) if any(np.isfinite(losses)) else float("nan")
        rows.append([name, f"{peaks[i]:.3g}", f"{s['mean'][i]:.3f} ± {s['std'][i]:.3f}", f"{loss:.4f}",
                     f"{s['diverged'][i]}/{len(sweep.seeds)}"])
    below = ["", "", "mean ± std", "", ""]  # the header's second line
    return format_table(["schedule", "peak α", some.metric_name, "train loss", "diverged"], [below, *rows])


def peak_table(sweeps: Mapping[str, object]) -> str:
    """Mean final metric of each schedule (rows) at each peak α (columns); ✕n marks n diverged runs."""
    peaks = check_same_lrs(sweeps)
    rows = []
    for name, sweep in sweeps.items():
        s = sweep.summary()
        rows.append([name, *(f"{m:.3f}" + (f"✕{d}" if d else "") for m, d in zip(s["mean"], s["diverged"]))])
    return format_table(["peak α", *(f"{p:.3g}" for p in peaks)], rows)


def batch_size_table(sweeps: Mapping[int, object], *, target: float = 0.95, tolerance: float = 0.01,
                     below: float = 0.5) -> str:
    """One row per batch size: optimizer steps per run, the best α and its mean metric, the
    α within ``tolerance`` (relative) of the best, the first α reaching ``target`` and the cliff."""
    sizes = check_batch_sweeps(sweeps)
    name = next(iter(sweeps.values())).metric_name
    rows = []
    for b in sizes:
        sweep = sweeps[b]
        r = good_range(sweep, tolerance)
        lo = lowest_lr_reaching(sweep, target)
        edge = cliff(sweep, below)
        span = f"{r.lo:.3g}–{r.hi:.3g}" if r.count > 1 else f"{r.best:.3g}"
        rows.append([int(b), steps_of(sweep), f"{r.best:.3g} ({r.best_metric:.3f})", span,
                     "–" if math.isnan(lo) else f"{lo:.3g}", "–" if math.isnan(edge) else f"{edge:.3g}"])
    header = ["B", "steps", f"best α ({name})", f"within {tolerance:.0%}", f"first ≥ {target:g}", "cliff"]
    return format_table(header, rows, align="r" * len(header))


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
    rows = []
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
        rows.append([_ratio_label(r), *cells])
    return format_table([f"α/{unit}", *(f"B = {b}" for b in sizes)], rows, align="r" * (1 + len(sizes)))


def examples_table(sweeps: Mapping[int, object], n_train: int) -> str:
    """Per batch size: optimizer steps per run and the example gradients they use, steps × B,
    against epochs × ``n_train`` (every image once per epoch)."""
    sizes = check_batch_sweeps(sweeps)
    n_train = _checks.positive_int(n_train, "n_train")
    epochs = {int(next(iter(sweeps[b])).config["epochs"]) for b in sizes}
    if len(epochs) != 1:
        raise ValueError(f"Invalid sweeps: epochs {sorted(epochs)} (expected the same number for every batch size)")
    epochs = epochs.pop()
    rows = []
    for b in sizes:
        steps = int(next(iter(sweeps[b])).config["steps"])
        seen = steps * int(b)
        rows.append([int(b), steps, f"{seen:,}", f"{seen / (epochs * n_train) - 1:+.1%}"])
    return (f"{epochs} epochs × {n_train:,} images = {epochs * n_train:,} example gradients per run\n"
            + format_table(["B", "steps", "examples = steps × B", "vs epochs × n"], rows, align="rrrr"))


def trained_table(sweeps: Mapping[int, object], *, below: float = 0.5) -> str:
    """One row per batch size: at each α, the runs that trained (final metric ≥ ``below`` and
    not diverged) out of the seeds, then :func:`stability_limit`, the largest α where all did."""
    sizes = check_batch_sweeps(sweeps)
    lrs = np.sort(np.asarray(next(iter(sweeps.values())).lrs, dtype=float))
    rows = []
    for b in sizes:
        _, trained = runs_trained(sweeps[b], below)
        n = len(sweeps[b].seeds)
        limit = stability_limit(sweeps[b], below)
        rows.append([int(b), *(f"{k}/{n}" for k in trained), "–" if math.isnan(limit) else f"{limit:.3g}"])
    header = ["B", *(f"α = {lr:.3g}" for lr in lrs), "all trained up to"]
    return format_table(header, rows, align="r" * len(header))


def end_sharpness_table(histories: Mapping[int, object], sharpness: Mapping[int, float]) -> str:
    """One row per batch size: the run's α, its final metric, the sharpness λ_max of the full
    training loss at its final weights (``sharpness[B]``), and 2/λ_max against α."""
    if not isinstance(histories, Mapping) or not histories or set(histories) != set(sharpness):
        raise ValueError("Invalid histories: expected a non-empty dict {batch size: History} "
                         "with the same keys as sharpness")
    rows = []
    for b in sorted(histories):
        h, lam = histories[b], float(sharpness[b])
        final = "diverged" if h.diverged else f"{h.final:.3f}"
        rows.append([int(b), f"{h.config['lr']:.3g}", final, f"{lam:.3g}", f"{2 / lam:.3g}"])
    return format_table(["B", "α", "final metric", "λ_max at the end", "2/λ_max"], rows, align="rrrrr")


def warmup_table(runs: Mapping[tuple, object]) -> str:
    """One row per (batch size, warmup epochs, α) of ``runs``, a dict ``{(B, warmup epochs): Sweep}``:
    each seed's final metric or "✕ at n", diverged at step n; the runs that trained
    (final metric ≥ 0.5), and α(t) at the last step before each divergence."""
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"Invalid runs: {runs!r} (expected a dict {{(batch size, warmup epochs): Sweep}})")
    seeds = next(iter(runs.values())).seeds
    rows = []
    for (b, warmup), sweep in runs.items():
        lrs, trained = runs_trained(sweep, 0.5)
        for lr, k in zip(lrs, trained):
            hs = [sweep[lr, seed] for seed in sweep.seeds]
            finals = [f"✕ at {h.diverged_at}" if h.diverged else f"{h.final:.3f}" for h in hs]
            at = ", ".join(f"{h.lrs[-1]:.2f}" for h in hs if h.diverged and len(h.lrs))
            rows.append([int(b), f"{warmup} ep", f"{lr:g}", *finals, f"{k}/{len(hs)}", at])
    header = ["B", "warmup", "α", *(f"seed {s}" for s in seeds), "trained", "α(t) at divergence"]
    return format_table(header, rows, align="r" * (len(header) - 1) + "l")


def metric_table(sweeps: Mapping[int, object]) -> str:
    """The mean final metric at each α (rows) and batch size (columns); ✕n marks n runs that diverged."""
    sizes = check_batch_sweeps(sweeps)
    summaries = {b: sweeps[b].summary() for b in sizes}
    lrs = np.asarray(next(iter(sweeps.values())).lrs, dtype=float)
    rows = []
    for lr in np.sort(lrs):
        cells = []
        for b in sizes:
            s = summaries[b]
            i = int(np.flatnonzero(np.isclose(s["lr"], lr, rtol=1e-9, atol=0))[0])
            mean = "diverged" if not np.isfinite(s["mean"][i]) else f"{s['mean'][i]:.3f}"
            cells.append(mean + (f"✕{s['diverged'][i]}" if s["diverged"][i] and np.isfinite(s["mean"][i]) else ""))
        rows.append([f"{lr:.3g}", *cells])
    return format_table(["α", *(f"B = {b}" for b in sizes)], rows, align="r" * (1 + len(sizes)))


def edge_table(histories: Iterable, *, fraction: float = 0.95) -> str:
    """One row per run: α, 2/α, λ_max at step 0, the first step where λ_max ≥ ``fraction``·2/α,
    the plateau (median of the late λ_max), plateau·α/2, final training loss, final metric, and
    how many eigen-solves converged (only those are used). A diverged run gets its step and loss."""
    rows, notes = [], []
    for h in check_histories(histories):
        lr = h.config["lr"]
        _, lam = sharpness_curve(h)
        ok, made = sharpness_solves(h)
        start = f"{lam[0]:.2f}" if lam.size else "–"
        if h.diverged:
            notes.append(f"α = {lr:g} (2/α = {2 / lr:.2f}, λ_max at 0 = {start}): diverged at step "
                         f"{h.diverged_at}\n  (loss {h.loss[0]:.3f} → {h.diverged_loss:.3g}), not plotted")
            continue
        reach = first_reach(h, fraction)
        rows.append([f"{lr:g}", f"{2 / lr:.2f}", start, "never" if reach is None else reach, f"{plateau(h):.2f}",
                     f"{plateau(h) * lr / 2:.3f}", f"{h.loss[-1]:.4f}", f"{h.final:.3f}", f"{ok}/{made}"])
    header = ["α", "2/α", "λ_max", "first ≥", "plateau", "plateau", "final", "test", "solves"]
    below = ["", "", "at 0", f"{fraction:g}·2/α", "", "·α/2", "loss", "acc", "converged"]  # the header's 2nd line
    return "\n".join([format_table(header, [below, *rows], align="r" * len(header)), *notes])


def loss_rise_table(histories: Iterable, *, fraction: float = 0.95) -> str:
    """For each run that did not diverge: the share of steps that raised the training loss
    before and after λ_max first reached ``fraction``·2/α."""
    rows = [["", f"before λ_max reached {fraction:g}·2/α", "after"]]    # the header's second line
    for h in check_histories(histories):
        if h.diverged:
            continue
        k, rises = first_reach(h, fraction), np.diff(h.loss) > 0
        k = len(rises) if k is None else k
        after = f"{rises[k:].mean():.1%}" if k < len(rises) else "–"
        rows.append([f"{h.config['lr']:g}", f"{rises[:k].mean():.1%}", after])
    return format_table(["α", "share of steps where the loss went up", ""], rows, align="rrr")


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
    rows = []
    for h in histories:
        lr = h.config["lr"]
        rows.append([f"α = {lr:g} ({len(h.loss)} steps)", *(f"{h.loss[round(b / lr)]:.4f}" for b in budgets),
                     f"{h.loss[-1]:.4f}"])
    return format_table(["training loss when α × steps =", *(f"{b:g}" for b in budgets), "last step"], rows)


def final_table(histories: Iterable) -> str:
    """One row per run, by α: final training loss, last converged λ_max and the step it was
    measured at, 2/α, and the final metric; or the step at which the run diverged."""
    rows, notes = [], []
    for h in check_histories(histories):
        lr = h.config["lr"]
        if h.diverged:
            notes.append(f"α = {lr:g}: diverged at step {h.diverged_at}")
            continue
        steps, lam = sharpness_curve(h)
        last = [f"{lam[-1]:.1f}", steps[-1]] if lam.size else ["–", "–"]
        rows.append([f"{lr:g}", f"{h.loss[-1]:.4f}", *last, f"{2 / lr:.3g}", f"{h.final:.3f}"])
    header = ["α", "final loss", "last λ_max", "at step", "2/α", "test acc"]
    return "\n".join([format_table(header, rows, align="r" * len(header)), *notes])


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
    header = (["α", "home", "local→", "global→", "not", "diverged", "ends in"],
              ["", "", "global", "local", "settled", "", "global"])    # a header of two lines
    rows = [[f"{lr:.2f}", *(f"{v:.0f}%" for v in values)] for lr, *values in zip(lrs, *columns)]
    table = format_table(header[0], [header[1], *rows], align="r" * 7)
    return table + f"\n(barrier at w = {barrier:.3f}; {len(starts)} starts, {steps} steps)".replace("-", "−")


def landing_groups(objective: Objective, start: float, lrs, *, steps: int = 1000, tol: float = 1e-3) -> str:
    """From one ``start``, where gradient descent ends at each α, with consecutive α that end
    the same way grouped into one row (first α, last α, how many, where)."""
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    ends = landing(final_positions(objective, [start], lrs, steps)[0], objective.minimizers, tol)
    labels = landing_labels(objective)
    rows = []
    for code, group in groupby(zip(lrs, ends), key=lambda pair: pair[1]):
        group = [lr for lr, _ in group]
        rows.append([f"{group[0]:.3f}", f"{group[-1]:.3f}", len(group), labels[code]])
    return format_table(["α from", "to", "runs", "ends in"], rows, align="rrrl")


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
        rows.append([f"{lr:g}", f"{exact:.4f}", f"{guess:.4f}"])
    return format_table(["α", "𝓛(w − α∇𝓛)", "first-order guess"], rows)


def threshold_table(objective: Objective, w0, ratios, *, steps: int, tol: float = 1e-6) -> str:
    """Runs at α = ratio · 2/L: the predicted rate, the first step with 𝓛 ≤ ``tol``, and the verdict."""
    mu, L = _quadratic(objective)
    ratios = np.asarray(ratios, dtype=float)
    runs = descent.run(objective, w0, ratios * theory.critical_lr(L), steps=steps)
    reached = runs.steps_to(tol)
    tol_text = f"{tol:g}".replace("e-0", "e-")  # 1e-6, not 1e-06
    rows = []
    for i, ratio in enumerate(ratios):
        lr, when = runs.lrs[i], reached[i] if reached[i] >= 0 else "never"
        verdict = descent.describe(runs, i, objective.minimizers)
        rows.append([f"{ratio:.2f}", f"{lr:.3f}", f"{theory.rate(lr, L, mu):.2f}", when, verdict])
    return format_table(["α/(2/L)", "α", "rate", f"steps to 𝓛≤{tol_text}", "what happened"], rows,
                        align="rrrrl")


def rate_table(objective: Objective, w0, lrs, *, steps: int, reference: float) -> str:
    """Per α: the predicted rate max|1 − αλ| and the one measured over the second half of ``steps``
    steps (``descent.measured_rate``); α is also given as a multiple of ``reference``."""
    mu, L = _quadratic(objective)
    lrs = np.asarray(lrs, dtype=float)
    runs = descent.run(objective, w0, lrs, steps=steps)
    distance = np.linalg.norm(runs.path - objective.minimizers[0], axis=-1)
    measured = descent.measured_rate(distance[steps // 2:])
    rows = [[f"{lr / reference:.2f}", f"{lr:.4f}", f"{predicted:.4f}", f"{got:.4f}"]
            for lr, predicted, got in zip(lrs, theory.rate(lrs, L, mu), measured)]
    return format_table(["α/α*", "α", "predicted rate", "measured rate"], rows, align="rrrr")


def coordinates_table(objective: Objective, w0, lr: float, *, steps: int) -> str:
    """The iterates' coordinates c_λ along each eigenvector of the Hessian, step by step, then
    each coordinate's measured ratio c(t+1)/c(t) against the predicted factor 1 − αλ."""
    _quadratic(objective)
    lams, vectors = np.linalg.eigh(_hessian(objective))
    coords = descent.run(objective, w0, [lr], steps=steps).path[:, 0] @ vectors
    names = ["μ", "L"] if len(lams) == 2 else [f"{j + 1}" for j in range(len(lams))]
    rows = [format_table(["t", *(f"c_{name} (λ={lam:g})" for name, lam in zip(names, lams))],
                         [[t, *(f"{c:.4f}" for c in row)] for t, row in enumerate(coords)], align="r" * (1 + len(lams)))]
    for j, lam in enumerate(lams):
        ratio = coords[1:, j] / coords[:-1, j]
        rows.append(f"λ = {lam:2g}: c(t+1)/c(t) from {ratio.min():+.4f} to {ratio.max():+.4f}, "
                    f"predicted {1 - lr * lam:+.4f}")
    return "\n".join(rows)


def conditioning_table(kappas, w0, *, angle: float = np.pi / 6, steps: int = 1500, tol: float = 1e-6) -> str:
    """For bowls with μ = 1 and L = κ: the steps until ‖w − w*‖ has shrunk by ``tol``, predicted
    (``theory.steps_to_tolerance``) and measured, at α* = 2/(L + μ) and at α = 1/L."""
    rows = []
    for kappa in kappas:
        bowl = objectives.quadratic((1.0, float(kappa)), angle=angle)
        lrs = np.array([theory.optimal_lr(kappa, 1.0), 1.0 / kappa])
        distance = np.linalg.norm(descent.run(bowl, w0, lrs, steps=steps).path, axis=-1)
        below = distance <= tol * distance[0]
        got = np.where(below.any(axis=0), below.argmax(axis=0), -1)  # the first step below; −1: never
        want = [theory.steps_to_tolerance(lr, kappa, 1.0, tol) for lr in lrs]
        rows.append([kappa, want[0], got[0], f"{got[0] / kappa:.1f}", want[1], got[1]])
    header = ["κ", "α*: predicted", "measured", "steps/κ", "1/L: predicted", "measured"]
    return format_table(header, rows, align="r" * 6)


# ------------------------------------------------- schedules and single steps, in tables


def series_table(series: Mapping[str, np.ndarray], at, *, index: str = "t", fmt: str = ".12f") -> str:
    """One row per step of ``at``, one column per named series: ``series[name][t]`` in ``fmt``."""
    if not series:
        raise ValueError("Invalid series value: {} (expected at least one name -> values)")
    at = [int(t) for t in at]
    for name, values in series.items():
        if at and max(at) >= len(values):
            raise ValueError(f"Invalid at value: {max(at)} (series {name!r} has {len(values)} values)")
    rows = [[t, *(format(float(values[t]), fmt) for values in series.values())] for t in at]
    return format_table([index, *series], rows, align="r" * (len(series) + 1))


def schedule_table(schedules: Mapping[str, Callable], steps, *, digits: int = 3) -> str:
    """One row per schedule, one column per step of ``steps``: α(t) to ``digits`` significant digits."""
    if not schedules:
        raise ValueError("Invalid schedules value: {} (expected at least one name -> schedule)")
    steps = np.asarray(steps)
    rows = [[name, *(f"{lr:.{digits}g}" for lr in schedule(steps))] for name, schedule in schedules.items()]
    return format_table(["step", *(str(t) for t in steps)], rows)


def schedule_shape_table(shapes: Mapping[str, np.ndarray]) -> str:
    """One row per schedule shape α(t)/peak α: the step of its peak and Σα / peak α (the
    distance it can travel, counted in steps at the peak rate)."""
    rows = []
    for name, shape in shapes.items():
        shape = np.asarray(shape, dtype=float)
        if shape.ndim != 1 or shape.size == 0:
            raise ValueError(f"Invalid shapes: {name!r} has shape {shape.shape} (expected a 1-D curve)")
        rows.append([name, int(np.argmax(shape)), f"{shape.sum() / shape.max():.0f}"])
    return format_table(["schedule", "peak at step", "Σα / peak α"], rows)


def noise_floor_table(objective: Objective, schedules: Mapping[str, Callable],
                      mean_loss: Mapping[str, np.ndarray], *, noise: float, below: float = 0.1) -> str:
    """Per schedule: the first step where the mean loss is under ``below``, the final mean loss,
    and for a constant rate the floor ``theory.predicted_noise_floor`` predicts for it."""
    if set(schedules) != set(mean_loss):
        raise ValueError(f"Invalid mean_loss: names {sorted(mean_loss)} (expected {sorted(schedules)})")
    rows = []
    for name, loss in mean_loss.items():
        s = schedules[name]
        floor = theory.predicted_noise_floor(objective, s.lr, noise=noise) if s.name == "constant" else None
        rows.append([name, int(np.argmax(np.asarray(loss) < below)), f"{loss[-1]:.2g}",
                     "" if floor is None else f"{floor:.2g}"])
    return format_table(["schedule", f"steps to < {below:g}", "final loss", "predicted floor"], rows)


def travel_table(schedules: Mapping[str, Callable], distances: Mapping[str, np.ndarray], *,
                 flat: float, mu: float) -> str:
    """Gradient descent with exact gradients on a quadratic whose flattest curvature is ``mu``,
    started ``flat`` away from the minimum along that direction. Per schedule, over the
    ``len(distances[name]) − 1`` steps run::

        Σα                     the rates of the run added up
        Σα, t→∞                α0/(1 − e^(−λ)) for exponential(α0, λ), else Σα (the run ends)
        left                   the distance to the minimum at the end (measured)
        |c_μ|e^(−μΣα)          the estimate of what is left along the flat direction
        bound                  |c_μ| exp(−μ Σα_{t→∞} / (1 − α0 μ)): it never gets closer
    """
    if set(schedules) != set(distances):
        raise ValueError(f"Invalid distances: names {sorted(distances)} (expected {sorted(schedules)})")
    rows = []
    for name, s in schedules.items():
        steps = len(distances[name]) - 1
        lr0, total = s(0), float(np.sum(s(np.arange(steps))))
        forever = lr0 / (1 - math.exp(-s.decay_rate)) if s.name == "exponential" else total
        bound = flat * math.exp(-mu * forever / (1 - lr0 * mu))
        rows.append([name, f"{total:.2f}", f"{forever:.2f}", f"{distances[name][-1]:.2g}",
                     f"{flat * math.exp(-mu * total):.2g}", f"{bound:.2g}"])
    return format_table(["schedule", "Σα", "Σα, t→∞", "left", "|c_μ|e^(−μΣα)", "bound"], rows)


def divergence_table(sweeps: Mapping[str, object], names, peaks) -> str:
    """For each schedule of ``names`` and peak α of ``peaks``: the step at which each seed's run
    diverged ("–": it did not)."""
    rows = []
    for name in names:
        sweep = sweeps[name]
        for peak in peaks:
            steps = [sweep[peak, seed].diverged_at for seed in sweep.seeds]
            rows.append([name, f"{peak:.3g}", *("–" if at is None else at for at in steps)])
    seeds = next(iter(sweeps.values())).seeds
    return format_table(["schedule", "peak α", *(f"seed {s}" for s in seeds)], rows)


def threshold_search_table(objective: Objective, w0, lrs, *, steps: int, tol: float = 1e-6) -> str:
    """Gradient descent at every α of the fine grid ``lrs`` for ``steps`` steps: where runs stop
    shrinking ‖w − w*‖ (largest α still no farther at the end, smallest α farther), against
    the predicted 2/L; then the largest α reaching 𝓛 ≤ ``tol`` and the smallest that blew up."""
    _, L = _quadratic(objective)
    lrs = np.asarray(lrs, dtype=float)
    runs = descent.run(objective, w0, lrs, steps=steps)
    distance = np.linalg.norm(runs.path - objective.minimizers[0], axis=-1)
    bounded = distance[-1] <= distance[0]
    converged, blew_up = lrs[runs.steps_to(tol) >= 0], lrs[runs.diverged]

    def show(values, pick):
        return f"{pick(values):.5f}" if values.size else "–"

    tol_text = f"{tol:g}".replace("e-0", "e-")
    rows = [["largest α that did not move away", show(lrs[bounded], np.max)],
            ["smallest α that moved away", show(lrs[~bounded], np.min)],
            ["predicted 2/L", f"{theory.critical_lr(L):.5f}"],
            [f"largest α with 𝓛 ≤ {tol_text} in {steps} steps", show(converged, np.max)],
            [f"smallest α that blew up in {steps} steps", show(blew_up, np.min)]]
    return format_table(["", "α"], rows)


# ------------------------------------------------- case studies: the RL agent and the range test


def agent_budget(config, *, random_return: float | None = None, digits: int = 1,
                 frame_skip: int | None = None) -> str:
    """An agent's budget from its configuration (``rl.config(...)``, or one of ``rl.PRESETS``)::

        environment steps per run = updates × games × steps per rollout

    then, when the configuration has them, the transitions per update and γ, λ, β; the evaluation;
    the mean return of random play (``digits`` decimals); the frames (× ``frame_skip``, by default
    the configuration's own). On Atari (``metric="training"``) the score is that of the last games
    played in training, and random play is scored on whole games too."""
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
    if get("metric") == "training":        # Atari: the score of the games played in training
        lines.append(f"score: mean of the last {episodes} games, every {every:,} updates")
        if random_return is not None:
            lines.append(f"random play: mean score {random_return:.{digits}f}")
    else:
        lines.append(f"evaluation: {episodes} episodes every {every:,} updates")
        if random_return is not None:
            lines.append(f"random play, same episodes: mean return {random_return:.{digits}f}")
    if frame_skip is None and get("frame_skip") not in (None, 1):
        frame_skip = get("frame_skip")
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


def best_lr_table(sweeps: Mapping[int, object], *, at: float) -> str:
    """One row per batch size: the best α of its sweep, that α as a multiple of the first batch
    size's best, and the mean final metric at the α of the grid equal to ``at``."""
    sizes = check_batch_sweeps(sweeps)
    first = sweeps[sizes[0]].best()
    rows = []
    for b in sizes:
        s, best = sweeps[b].summary(), sweeps[b].best()
        match = np.isclose(s["lr"], at, rtol=1e-9, atol=0)
        if not match.any():
            raise ValueError(f"Invalid at value: {at!r} (not an α of the sweep at B = {b})")
        rows.append([int(b), f"{best:.3g}", f"×{best / first:g}", f"{s['mean'][match][0]:.3f}"])
    return format_table(["B", "best α", f"vs B = {sizes[0]}", f"metric at α = {at:.3g}"], rows)


def effective_rate_table(rates: Mapping[str, np.ndarray]) -> str:
    """One row per named run on a 2-D problem: the effective rate of each coordinate (e.g. Adam's
    α/(√v̂ + ε)) and their ratio, w₁ over w₂."""
    rows = []
    for name, rate in rates.items():
        rate = np.asarray(rate, dtype=float)
        if rate.shape != (2,):
            raise ValueError(f"Invalid rates: {name!r} has shape {rate.shape} (expected 2 coordinates)")
        rows.append([name, f"{rate[0]:.3g}", f"{rate[1]:.3g}", f"{rate[0] / rate[1]:.0f}"])
    return format_table(["", "w₁", "w₂", "ratio w₁/w₂"], rows)


def weight_size_table(runs: Mapping[str, tuple[float, float]], *, metric: str = "final accuracy") -> str:
    """One row per named run: its final metric and the median |θ| of its weights, ``runs[name] =
    (final metric, median |θ|)``: whether a decay trained the net or shrank it to nothing."""
    rows = [[name, f"{final:.3f}", f"{size:.2g}"] for name, (final, size) in runs.items()]
    return format_table(["", metric, "median |θ|"], rows)


def catapult_table(history, *, early: int = 50) -> str:
    """A run that starts above the edge of stability (λ_max > 2/α): the loss at step 0 and its
    highest value in the first ``early`` steps, λ_max at step 0, at the next measurement, and
    its plateau (:func:`plateau`)."""
    steps, lam = sharpness_curve(history)
    if lam.size < 2:
        raise ValueError(f"Invalid history: {lam.size} converged λ_max measurements (expected at least 2)")
    early = _checks.positive_int(early, "early")
    loss = np.asarray(history.loss[:early], dtype=float)
    rows = [["start", 0, f"{history.loss[0]:.3f}", f"{lam[0]:.2f}"],
            ["highest loss", int(loss.argmax()), f"{loss.max():.3f}", ""],
            ["next λ_max", int(steps[1]), "", f"{lam[1]:.2f}"],
            ["λ_max plateau", "", "", f"{plateau(history):.2f}"]]
    return format_table(["", "step", "loss", "λ_max"], rows)


# ------------------------------------------------------------------ case studies: the CNN and the LSTM

def _check_runs(runs, what: str = "runs") -> dict:
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"Invalid {what}: {runs!r} (expected a non-empty dict {{label: ...}})")
    return dict(runs)


def _lrs_of(sweep, lrs) -> list[float]:
    """The grid's α, or those of ``lrs`` (each must be on the grid)."""
    if lrs is None:
        return [float(lr) for lr in sweep.lrs]
    grid = np.asarray(sweep.lrs, dtype=float)
    for lr in lrs:
        if not np.isclose(grid, lr, rtol=1e-9, atol=0).any():
            raise ValueError(f"Invalid lrs: {lr!r} is not on the sweep's grid {grid.tolist()}")
    return [float(grid[np.isclose(grid, lr, rtol=1e-9, atol=0)][0]) for lr in lrs]


def _stopped_at(histories) -> str:
    steps = [str(h.diverged_at) for h in histories if h.diverged]
    return f"{len(steps)}/{len(histories)}" + (": " + ", ".join(steps) if steps else "")


def epoch_table(runs: Mapping[str, object]) -> str:
    """Epoch by epoch, for each named run: its mean training loss over the epoch's steps and
    its metric after the epoch (the epochs end at ``h.metric_steps``); one pair of columns per run."""
    runs = _check_runs(runs)
    ends = [np.asarray(h.metric_steps, dtype=int) for h in runs.values()]
    if any(e.shape != ends[0].shape or np.any(e != ends[0]) for e in ends):
        raise ValueError("Invalid runs: they were evaluated at different steps (expected the same epochs)")
    starts = np.r_[0, ends[0][:-1]]
    rows = []
    for e, (start, end) in enumerate(zip(starts, ends[0])):
        row = [str(e + 1)]
        for h in runs.values():
            row += [f"{np.mean(h.loss[start:end]):.3f}", f"{h.metric[e]:.3f}"]
        rows.append(row)
    header = ["epoch"]
    for h in runs.values():
        header += ["train loss", h.metric_name]
    table = format_table(header, rows, align="r" * len(header))
    widths = [max(len(str(row[j])) for row in [header, *rows]) for j in range(len(header))]
    labels = widths[0] * " "
    for k, label in enumerate(runs):                  # each label over its pair of columns
        pair = widths[1 + 2 * k] + 2 + widths[2 + 2 * k]
        labels += "  " + label.center(pair)
    return labels.rstrip() + "\n" + table


def runs_table(sweep, *, target: float | None = None, lrs=None, mean_format: str = ".3f",
               std_format: str = ".3f") -> str:
    """:meth:`Sweep.table` with the steps where runs diverged: per α, mean ± std of the final
    metric over seeds ("–" when every run diverged), with ``target`` the epoch at which each
    seed first reached it ("–": never), and "k/n: steps" for the runs that diverged."""
    rows = []
    for lr in _lrs_of(sweep, lrs):
        runs = [sweep[lr, seed] for seed in sweep.seeds]
        finals = np.array([h.final for h in runs], dtype=float)
        finals = finals[np.isfinite(finals)]
        if finals.size:
            std = finals.std(ddof=1) if finals.size > 1 else 0.0
            cell = f"{finals.mean():{mean_format}} ± {std:{std_format}}"
        else:
            cell = "–"
        row = [f"{lr:.3g}", cell]
        if target is not None:
            reached = [epochs_to_reach(h, target, maximize=sweep.maximize) for h in runs]
            row.append("  ".join(f"{'–' if e is None else e:>2}" for e in reached))
        rows.append(row + [_stopped_at(runs)])
    header = ["α", sweep.metric_name] + ([f"epochs to {target:g}"] if target is not None else []) + ["diverged"]
    return format_table(header, rows, align="r" * (len(header) - 1) + "l")


def outcome_table(sweep, *, lrs=None, fmt: str = ".3f", had: bool = True) -> str:
    """Each run on its own, one column per seed: its final metric, or ✕ and the step where it
    diverged, with (``had``) the best metric it had reached before (when it was evaluated)."""
    rows = []
    for lr in _lrs_of(sweep, lrs):
        cells = []
        for seed in sweep.seeds:
            h = sweep[lr, seed]
            if not h.diverged:
                cells.append(format(h.final, fmt))
                continue
            cell = f"✕ {h.diverged_at}"
            if had and len(h.metric) > 1:
                before = np.asarray(h.metric[:-1], dtype=float)
                cell += f" (had {(before.max() if sweep.maximize else before.min()):{fmt}})"
            cells.append(cell)
        rows.append([f"{lr:.3g}", *cells])
    return format_table(["α", *(f"seed {s}" for s in sweep.seeds)], rows, align="r" + "l" * len(sweep.seeds))


def step_trade_table(sweep, lrs, *, steps: int, factor: float = 10, window: int = 10) -> str:
    """Per α of ``lrs``: the training loss after ``steps`` steps against the loss after
    ``steps/factor`` steps at ``factor`` × α (means over seeds of the last ``window`` steps,
    :func:`~lrcourse.results.analysis.loss_before`). Equal while α × steps is all that counts."""
    _checks.positive(factor, "factor")
    short = round(steps / factor)
    if short < window or not math.isclose(short * factor, steps):
        raise ValueError(f"Invalid factor: {factor:g} (steps / factor = {steps / factor:g} must be a "
                         f"whole number of at least window = {window})")
    rows = [[f"{lr:g}", f"{loss_before(sweep, lr, steps, window):.2f}",
             f"{loss_before(sweep, factor * lr, short, window):.2f}"] for lr in lrs]
    return format_table(["α", f"loss after {steps} steps", f"after {short} steps at {factor:g} α"], rows,
                        align="rrr")


def target_range_table(sweeps: Mapping[str, object], target: float) -> str:
    """One row per sweep: the α of the grid whose mean final metric reaches ``target``, how many
    they are and the factor they span, and the best α with its mean metric."""
    rows, name = [], None
    for label, sweep in _check_runs(sweeps, "sweeps").items():
        name = sweep.metric_name
        good = lrs_reaching(sweep, target)
        span = f"{good.min():.3g} to {good.max():.3g}" if good.size else "none"
        count = f"{good.size} (×{good.max() / good.min():.3g})" if good.size else "0"
        mean = np.asarray(sweep.summary()["mean"], dtype=float)
        best = np.nanmax(mean) if sweep.maximize else np.nanmin(mean)
        rows.append([label, span, count, f"{sweep.best():.3g} ({best:.3f})"])
    sign = "≥" if next(iter(sweeps.values())).maximize else "≤"
    return format_table(["", f"mean {sign} {target:g} for α in", "values", f"best α ({name})"], rows,
                        align="llll")


def cliff_table(sweeps: Mapping[str, object], below: float = 0.5) -> str:
    """One row per sweep: its best α and the cliff (:func:`~lrcourse.results.analysis.cliff`,
    the first α above the best whose mean final metric is past ``below``), each with its mean."""
    rows, name = [], None
    for label, sweep in _check_runs(sweeps, "sweeps").items():
        name = sweep.metric_name
        s = sweep.summary()

        def at(lr):
            i = int(np.flatnonzero(np.isclose(s["lr"], lr, rtol=1e-9, atol=0))[0])
            return f"{lr:.3g} ({s['mean'][i]:.3f})"

        edge = cliff(sweep, below)
        rows.append([label, at(sweep.best()), "–" if math.isnan(edge) else at(edge)])
    return format_table(["", f"best α ({name})", f"cliff ({name})"], rows, align="lrr")


def run_report(runs: Mapping[str, object], *, last: int) -> str:
    """Per named run: whether it diverged and its final metric, the mean ± std of its loss over
    the ``last`` steps, and its metric at every evaluation (2 decimals)."""
    last = _checks.positive_int(last, "last")
    lines = []
    for label, h in _check_runs(runs).items():
        state = f"diverged at step {h.diverged_at}" if h.diverged else "never diverged"
        tail = np.asarray(h.loss[-last:], dtype=float)
        lines += [f"{label}: {state}, final {h.metric_name} {h.final:.3f}",
                  f"    loss over its last {last} steps: {tail.mean():.3f} ± {tail.std():.3f}",
                  "    by epoch: " + " ".join(f"{a:.2f}" for a in h.metric)]
    return "\n".join(lines)


def firing_table(runs: Mapping[str, tuple], channels) -> str:
    """One row per named run ``(final metric, classes predicted, channels that fire per layer)``;
    ``channels`` gives each layer's number of channels."""
    channels = [_checks.positive_int(c, "channels") for c in channels]
    rows = []
    for label, (final, classes, fired) in _check_runs(runs).items():
        if len(fired) != len(channels):
            raise ValueError(f"Invalid runs: {label!r} has {len(fired)} layers (expected {len(channels)})")
        rows.append([label, f"{final:.3f}", str(classes), *(f"{k}/{c}" for k, c in zip(fired, channels))])
    header = ["", "final", "classes", *(f"layer {i + 1} fires" for i in range(len(channels)))]
    return format_table(header, rows)


def input_table(datasets) -> str:
    """What the network sees: the range, mean and standard deviation of each dataset's scaled
    training images (``d.scale(d.x_train)``)."""
    rows = []
    for d in datasets:
        x = np.asarray(d.scale(d.x_train), dtype=float)
        rows.append([d.name, *(f"{v:.2f}" for v in (x.min(), x.max(), x.mean(), x.std()))])
    if not rows:
        raise ValueError("Invalid datasets: [] (expected at least one)")
    return format_table(["inputs", "min", "max", "mean", "std"], rows)


def early_losses_table(sweep, lrs=None, *, steps: int = 5, fmt: str = ".1f") -> str:
    """The training loss of each run (α, seed) at steps 0 … ``steps`` − 1, then ✕ and the step
    where it diverged, or its peak loss and final metric."""
    steps = _checks.positive_int(steps, "steps")
    rows = []
    for lr in _lrs_of(sweep, lrs):
        for seed in sweep.seeds:
            h = sweep[lr, seed]
            losses = [format(v, fmt) for v in h.loss[:steps]]
            end = (f"✕ at step {h.diverged_at}" if h.diverged
                   else f"peak {np.max(h.loss):{fmt}}, final {h.final:.3g}")
            rows.append([f"{lr:.3g}", str(seed), *losses, *[""] * (steps - len(losses)), end])
    header = ["α", "seed", *map(str, range(steps)), "then"]
    return (f"training loss at steps 0–{steps - 1}\n"
            + format_table(header, rows, align="r" * (steps + 2) + "l"))


def match_table(sweep, pairs, *, window: int = 20) -> str:
    """Per pair (fast, slow) of α: the step at which the run at the fast α reached the final
    training loss of the slow one, one step per seed (:func:`~lrcourse.results.analysis.steps_to_match`)."""
    rows = []
    for fast, slow in pairs:
        found = [steps_to_match(sweep, fast, slow, seed, window) for seed in sweep.seeds]
        rows.append([f"{fast:g}", f"{slow:g}", ", ".join("never" if k is None else str(k) for k in found)])
    seeds = ", ".join(map(str, sweep.seeds))
    return format_table(["α", "reached the final loss of α", f"at step (seeds {seeds})"], rows, align="rrl")


def samples_report(samples: Mapping[str, str], known: set, *, prompt: str = "", chars: int = 280,
                   width: int = 72, reference: tuple[str, str] | None = None, min_letters: int = 4) -> str:
    """Each named sample: the share of its words of ``min_letters``+ letters that are in
    ``known`` (:func:`~lrcourse.results.analysis.real_word_share`), then ``prompt`` and its first
    ``chars`` characters, each line wrapped at ``width``; ``reference = (label, text)`` adds
    the same share for a real text."""
    lines = []
    for label, text in _check_runs(samples, "samples").items():
        share = real_word_share(text, known, min_letters)
        lines.append(f"── {label}: {share:.0%} of the words of {min_letters}+ letters are real")
        lines += [textwrap.fill(line, width) for line in (prompt + text[:chars]).splitlines()]
        lines.append("")
    if reference is not None:
        label, text = reference
        lines.append(f"for comparison, {label}: {real_word_share(text, known, min_letters):.0%}")
    return "\n".join(lines)


def context_table(gains: Mapping[str, np.ndarray], distances, *, unit: str = "character",
                  per_seed_at: int | None = None) -> str:
    """What the text beyond d tokens was worth (:func:`~lrcourse.results.analysis.context_gains`),
    mean over models, one row per name and one column per d; with ``per_seed_at = d`` also
    each model's value at that d."""
    distances = list(distances)
    rows = []
    for name, gain in _check_runs(gains, "gains").items():
        gain = np.asarray(gain, dtype=float)
        if gain.ndim != 2 or gain.shape[1] != len(distances):
            raise ValueError(f"Invalid gains: {name!r} has shape {gain.shape} "
                             f"(expected (models, {len(distances)}))")
        means = np.round(gain.mean(axis=0), 3) + 0.0      # + 0.0 turns -0.0 into 0.0
        rows.append([name, *(f"{g:.3f}" for g in means)])
    lines = [f"nats per {unit} gained from the text more than d {unit}s back",
             format_table(["d =", *map(str, distances)], rows)]
    if per_seed_at is not None:
        if per_seed_at not in distances:
            raise ValueError(f"Invalid per_seed_at: {per_seed_at!r} (expected one of {distances})")
        j = distances.index(per_seed_at)
        lines.append(f"beyond d = {per_seed_at}, one value per model:")
        lines += [f"  {name}: " + ", ".join(f"{g:.3f}" for g in np.asarray(gain)[:, j])
                  for name, gain in gains.items()]
    return "\n".join(lines)


def paired_runs_table(columns: Mapping[str, list], seeds, *, fmt: str = ".1f") -> str:
    """One row per seed, one column per named list of runs (in seed order): each run's final
    metric and the step it ended at."""
    columns = _check_runs(columns, "columns")
    seeds = list(seeds)
    for name, runs in columns.items():
        if len(runs) != len(seeds):
            raise ValueError(f"Invalid columns: {name!r} has {len(runs)} runs (expected one per seed, {len(seeds)})")
    rows = [[str(seed), *(f"{runs[i].final:{fmt}} at step {runs[i].steps}" for runs in columns.values())]
            for i, seed in enumerate(seeds)]
    return format_table(["seed", *columns], rows)


def decay_product_table(lrs, wds, grid, reference, *, steps: int) -> str:
    """Every cell of a grid of α (columns) × weight decay λ (rows, none of them 0), sorted by
    the product α·λ: the final metric and its excess over ``reference`` (λ = 0 at the same α),
    with α·λ·steps, the number of decay timescales 1/(α·λ) the run lasted (AdamW multiplies
    every weight by 1 − α·λ per step). If the product decides, equal α·λ give equal excess."""
    lrs, wds = np.asarray(lrs, dtype=float), np.asarray(wds, dtype=float)
    grid, reference = np.asarray(grid, dtype=float), np.asarray(reference, dtype=float)
    if grid.shape != (wds.size, lrs.size) or reference.shape != (lrs.size,):
        raise ValueError(f"Invalid grid: shape {grid.shape} and reference {reference.shape} "
                         f"(expected {(wds.size, lrs.size)} and {(lrs.size,)})")
    steps = _checks.positive_int(steps, "steps")
    cells = sorted((lr * wd, lr, wd, grid[i, j], grid[i, j] - reference[j])
                   for i, wd in enumerate(wds) for j, lr in enumerate(lrs))
    rows = [[f"{lr:g}", f"{wd:g}", f"{product:.2g}", f"{product * steps:.2g}", f"{value:.2f}", f"{excess:+.2f}"]
            for product, lr, wd, value, excess in cells]
    return format_table(["α", "λ", "α·λ", "α·λ·T", "final", "vs λ = 0"], rows, align="rrrrrr")


def budget_table(cosine: Mapping[int, object], wsd: Mapping[int, object], *, decay_steps: Mapping[int, int]) -> str:
    """One row per budget T: the final metric (mean ± std over seeds) of a cosine schedule
    and of warmup-stable-decay run to T, then what every budget costs in steps: cosine
    must be re-run from scratch for each T (Σ T), WSD shares its constant phase and
    adds a decay of ``decay_steps[T]`` per budget (longest constant phase + Σ D)."""
    if not cosine or sorted(cosine) != sorted(wsd) or sorted(wsd) != sorted(decay_steps):
        raise ValueError(f"Invalid budgets: cosine {sorted(cosine)}, wsd {sorted(wsd)}, "
                         f"decay_steps {sorted(decay_steps)} (expected the same budgets)")
    budgets = sorted(int(t) for t in cosine)

    def cell(sweep):
        s = sweep.summary()
        return mean_std(float(s["mean"][0]), float(s["std"][0])) + (f" ✕{s['diverged'][0]}" if s["diverged"][0] else "")

    rows = [[str(t), cell(cosine[t]), cell(wsd[t]), f"{np.mean(wsd[t].finals) - np.mean(cosine[t].finals):+.3f}"]
            for t in budgets]
    table = format_table(["T", "cosine", "WSD", "WSD − cosine"], rows)
    longest = max(t - decay_steps[t] for t in budgets)
    return (f"{table}\nsteps for all {len(budgets)} budgets: cosine {sum(budgets)}, "
            f"WSD {longest + sum(decay_steps.values())}")


def finetune_table(runs: Mapping[str, object]) -> str:
    """One row per fine-tuning setting (a list of runs, one per seed): the new text's final
    metric, the old text's after fine-tuning, and the forgetting (after − before), each the
    mean ± std over seeds (:func:`~lrcourse.results.analysis.finetune_summary`)."""
    runs = _check_runs(runs)
    rows = []
    for name, histories in runs.items():
        s = finetune_summary(histories)
        rows.append([name, mean_std(*s["new"]), mean_std(*s["old"]), f"{s['forgetting'][0]:+.3f}"])
    return format_table(["setting", "new text", "old text", "forgetting"], rows)


PUBLISHED_RECIPES = (
    ("Transformer (Vaswani 2017)", "warmup 4000 steps, then α ∝ 1/√t"),
    ("BERT pretraining (Devlin 2019)", "AdamW-like, α 1e-4, warmup 10k, linear"),
    ("BERT fine-tuning (Devlin 2019)", "α 2e-5, 3e-5 or 5e-5, 2 to 4 epochs"),
    ("GPT-3 125M (Brown 2020)", "α 6e-4, warmup, cosine to 10 %"),
    ("GPT-3 175B (Brown 2020)", "α 6e-5; β₂ 0.95, λ 0.1 for all sizes"),
    ("ULMFiT (Howard & Ruder 2018)", "each layer's α = the one above's / 2.6"),
    ("ELECTRA (Clark 2020)", "layer-wise decay 0.8 (Base), 0.9 (Large)"),
    ("WSD (Hägele 2024)", "decay over the last 20 %, as 1 − √p"),
)


def recipes_table(recipes=PUBLISHED_RECIPES) -> str:
    """Published learning-rate recipes for transformers (what the papers used, not measured
    here): one line per source, cited by first author and year."""
    return format_table(["recipe", "what it used"], [list(r) for r in recipes], align="ll")


# --------------------------------------------------------------------------- scaling the learning rate

def width_table(panels: Mapping[str, Mapping[int, object]], *, last: int = 10) -> str:
    """One row per width, per parametrization (``panels``: name → width → Sweep) the α with the
    lowest training loss (mean of the last ``last`` steps) and that loss, and how far that α
    moved from the narrowest width's (×1: it stayed)."""
    from lrcourse.results.analysis import best_lr_by_loss
    if not panels or any(not sweeps for sweeps in panels.values()):
        raise ValueError(f"Invalid panels: {list(panels)!r} (expected names mapped to width → Sweep)")
    widths = sorted(next(iter(panels.values())))
    if any(sorted(sweeps) != widths for sweeps in panels.values()):
        raise ValueError("Invalid panels: every parametrization needs the same widths")
    best = {name: {w: best_lr_by_loss(sweeps[w], last) for w in widths} for name, sweeps in panels.items()}
    header = ["width"]
    for name in panels:
        header += [f"{name} best α", "loss", "vs first"]
    rows = []
    for w in widths:
        row = [str(w)]
        for name in panels:
            lr, loss = best[name][w]
            row += [f"{lr:.3g}", f"{loss:.3f}", f"×{_ratio_label(lr / best[name][widths[0]][0])}"]
        rows.append(row)
    return format_table(header, rows)


def noise_scale_table(rows: Mapping[str, tuple]) -> str:
    """One row per checkpoint: |G|², tr(Σ) and B_noise = tr(Σ)/|G|² from every per-example
    gradient, then B_noise estimated from mini-batch gradients at two batch sizes
    (``rows``: name → (exact NoiseScale, estimated NoiseScale))."""
    if not rows:
        raise ValueError("Invalid rows: expected at least one checkpoint")
    body = [[name, f"{exact.grad_sq:.3g}", f"{exact.trace:.3g}", f"{exact.b_simple:.0f}", f"{est.b_simple:.0f}"]
            for name, (exact, est) in rows.items()]
    return format_table(["weights", "|G|²", "tr(Σ)", "B_noise", "2-batch est."], body)


def rule_table(sweeps: Mapping[int, object], *, base: int, base_lr: float) -> str:
    """From α = ``base_lr`` at batch size ``base``: per batch size B, the mean final metric at the
    linear rule's α·B/base and at the square-root rule's α·√(B/base) (· where that α is not on the
    grid), and the best α of the grid with its metric."""
    sizes = check_batch_sweeps(sweeps)
    if base not in sizes:
        raise ValueError(f"Invalid base value: {base!r} (expected one of the batch sizes {sizes})")
    rows = []
    for b in sizes:
        sweep, s = sweeps[b], sweeps[b].summary()
        lrs = np.asarray(sweep.lrs, dtype=float)
        cells = [str(b)]
        for alpha in (base_lr * b / base, base_lr * math.sqrt(b / base)):
            match = np.flatnonzero(np.isclose(lrs, alpha, rtol=1e-6, atol=0))
            cells += [f"{alpha:.3g}", f"{s['mean'][match[0]]:.3f}" if match.size else "·"]
        best = sweep.best()
        cells += [f"{best:.3g}", f"{s['mean'][np.flatnonzero(lrs == best)[0]]:.3f}"]
        rows.append(cells)
    return format_table(["B", "linear α", "metric", "√B α", "metric", "best α", "metric"], rows)


def escape_table(rows) -> str:
    """Where noisy runs ended on two wells: one row per (label, α, B, shares, curvature) with the
    share of runs in the flat and in the sharp minimum and the median curvature f'' at the end
    (B = 0, shown as –: no noise, gradient descent)."""
    body = [[label, f"{lr:g}", str(b) if b else "–", f"{flat:.0%}", f"{sharp:.0%}", f"{curv:.1f}"]
            for label, lr, b, flat, sharp, curv in rows]
    if not body:
        raise ValueError("Invalid rows: expected at least one run")
    return format_table(["noise", "α", "B", "flat", "sharp", "f'' at end"], body)


def normalized_weight_table(runs: Mapping[str, object], steps) -> str:
    """For runs of a ``norm=True`` MLP (``runs``: label → History): the norm |w| of the logged
    scale-invariant weight at the given ``steps`` and the effective step α/|w|² there."""
    if not runs:
        raise ValueError("Invalid runs: expected at least one History")
    steps = [int(s) for s in steps]
    rows = []
    for label, h in runs.items():
        norms = np.asarray(h.logs["hidden_norm"], dtype=float)
        if any(not 0 <= s < len(norms) for s in steps):
            raise ValueError(f"Invalid steps: {steps!r} (the run {label!r} has {len(norms)})")
        rows.append([label, "|w|", *(f"{norms[s]:.2f}" for s in steps)])
        rows.append(["", "α/|w|²", *(f"{h.config['lr'] / norms[s] ** 2:.3f}" for s in steps)])
    return format_table(["run", "", *(f"step {s}" for s in steps)], rows, align="ll" + "r" * len(steps))


def multiplier_table(scalings: Mapping[str, Mapping[str, object]]) -> str:
    """μP's factors per parameter (``scalings``: optimizer → name → LayerScaling): the initial
    std factor (the same for every optimizer), then the factor of α under each optimizer."""
    if not scalings:
        raise ValueError("Invalid scalings: expected at least one optimizer")
    names = list(next(iter(scalings.values())))
    first = next(iter(scalings.values()))
    rows = [[name, plain(first[name].init_std), *(plain(s[name].lr) for s in scalings.values())] for name in names]
    return format_table(["parameter", "init std ×", *(f"{opt} α ×" for opt in scalings)], rows)


def equilibrium_table(runs: Mapping[str, object], *, last: int) -> str:
    """For runs of a ``norm=True`` MLP with weight decay: αλ, the equilibrium angle per step
    √(2αλ) and the mean angle measured over the last ``last`` steps."""
    from lrcourse.core.scaling import equilibrium_angle
    from lrcourse.results.analysis import mean_angle
    if not runs:
        raise ValueError("Invalid runs: expected at least one History")
    rows = []
    for label, h in runs.items():
        lr, wd = h.config["lr"], h.config["optimizer_kwargs"].get("weight_decay", 0.0)
        rows.append([label, f"{lr * wd:.3g}", f"{float(equilibrium_angle(lr, wd)):.3f}",
                     f"{mean_angle(h, last):.3f}"])
    return format_table(["run", "αλ", "√(2αλ)", f"angle/step, last {last}"], rows)


def provenance_table(results, *, width: int = 72) -> str:
    """Where and how a results file (:func:`lrcourse.results.files.load_results`) was made: the
    command (wrapped to ``width``), the code (version, commit), the libraries, the device and
    machine, the dates, and the runs' total time."""
    p = results.provenance
    git = p.get("git") or {}
    commit = (git.get("commit") or "unknown")[:12] + (" (with uncommitted changes)" if git.get("dirty") else "")
    versions = p.get("versions") or {}
    machine = p.get("machine") or {}
    rows = [["code", f"lrcourse {p.get('lrcourse', '?')}, commit {commit}"],
            ["libraries", ", ".join(f"{name} {v}" for name, v in versions.items() if v)],
            ["device", f"{p.get('device', '?')}, {machine.get('cpu_count', '?')} CPU cores, "
                       f"{machine.get('machine', '?')}"],
            ["started", str(p.get("started"))], ["finished", str(p.get("finished") or "not yet")],
            ["runs", f"{len(results.histories)} of {len(results.lrs) * len(results.seeds)} done, "
                     f"{sum(h.seconds for h in results.histories.values()) / 3600:.1f} hours of training"]]
    label = max(len(r[0]) for r in rows)
    head, *options = results.command.split(" --")
    lines = [head]
    for option in ("--" + o for o in options):         # an option stays on one line with its value
        if len(lines[-1]) + 1 + len(option) > width - 2:
            lines.append("   ")
        lines[-1] += " " + option
    command = " \\\n".join(lines)
    body = "\n".join(textwrap.fill(value, width, initial_indent=f"{name:<{label}}  ",
                                   subsequent_indent=" " * (label + 2)) for name, value in rows)
    return f"{command}\n{body}"
