"""Figures and tables for the chapter on batch size, sharpness and other nuances (plotly).

* Batch size: one sweep over α per batch size, as a dict ``{B: Sweep}`` (for instance
  ``{B: cnn.sweep(lrs, batch_size=B) for B in (16, 32, …)}``, all on the same grid of α):
  :func:`batch_size_table`, :func:`scaling_table`, :func:`batch_size_explorer`, with the
  landmarks :func:`lowest_lr_reaching` and :func:`cliff` of one sweep.
  The protocol: :func:`examples_table`. Where training stops working: :func:`trained_table`
  and :func:`stability_limit` (on a fine grid of α near the edge), :func:`end_sharpness_table`.
  Warmup: :func:`warmup_constant` and :func:`warmup_table`; any α × B grid: :func:`metric_table`.
* The edge of stability: :func:`sharpness_figure` draws λ_max against the step for runs
  that recorded ``History.logs["sharpness"]`` (``lrcourse.cases.mlp``), with 2/α dashed;
  :func:`edge_table`, :func:`loss_rise_table`, :func:`equal_budget_table` and
  :func:`final_table` print what the chapter quotes. Only converged eigenvalues are used.

This layer draws; it never imports torch (sweeps and histories are read through their attributes).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterable, Mapping

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lrcourse import _checks, schedules
from lrcourse.adaptive_plots import good_range
from lrcourse.explorer import Explorer
from lrcourse.figures import CURVE_COLORS, DIVERGED_MARKER_COLOR, styled

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


def examples_table(sweeps: Mapping[int, object], n_train: int) -> str:
    """Per batch size: optimizer steps per run and the example gradients they use, steps × B,
    against epochs × ``n_train`` (every image once per epoch)."""
    sizes = _check_sweeps(sweeps)
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


def _trained(sweep, below: float) -> tuple[np.ndarray, np.ndarray]:
    """α increasing, and per α the number of runs that trained: finite final metric on the
    good side of ``below``, not diverged."""
    lrs = np.asarray(sweep.lrs, dtype=float)
    order = np.argsort(lrs)
    finals = np.asarray(sweep.finals, dtype=float)
    with np.errstate(invalid="ignore"):
        good = np.isfinite(finals) & (finals >= below if sweep.maximize else finals <= below)
    good &= ~np.asarray(sweep.diverged, dtype=bool)
    return lrs[order], good.sum(axis=1)[order]


def stability_limit(sweep, below: float = 0.5) -> float:
    """The largest α of the grid up to which every seed trained (final metric ≥ ``below``, or
    ≤ it for a metric to minimise, and not diverged), going up from the best α: the top of the
    usable range. ``nan`` if no α trained in every seed."""
    _checks.positive(below, "below")
    lrs, trained = _trained(sweep, below)
    everyone = trained == len(sweep.seeds)
    best = sweep.best()
    if not math.isfinite(best) or not everyone.any():
        return math.nan
    i = int(np.argmin(np.abs(lrs - best)))
    if not everyone[i]:
        i = int(np.flatnonzero(everyone)[-1])
    while i + 1 < len(lrs) and everyone[i + 1]:
        i += 1
    return float(lrs[i])


def trained_table(sweeps: Mapping[int, object], *, below: float = 0.5) -> str:
    """One row per batch size: at each α, the runs that trained (final metric ≥ ``below`` and
    not diverged) out of the seeds, then :func:`stability_limit`, the largest α where all did."""
    sizes = _check_sweeps(sweeps)
    lrs = np.sort(np.asarray(next(iter(sweeps.values())).lrs, dtype=float))
    rows = [f"{'B':>5}  " + "".join(f"{'α = ' + format(lr, '.3g'):>11}" for lr in lrs) + f"  {'all trained up to':>18}"]
    for b in sizes:
        _, trained = _trained(sweeps[b], below)
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


def warmup_constant(warmup_steps: int, total_steps: int):
    """``lr -> schedule``: linear warmup over ``warmup_steps``, then constant at ``lr`` until
    ``total_steps`` (:func:`lrcourse.schedules.warmup_cosine` with ``lr_min`` = the peak),
    as ``cnn.sweep(..., schedule=...)`` takes it. ``warmup_steps = 0``: a constant α."""
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)) or warmup_steps < 0:
        raise ValueError(f"Invalid warmup_steps value: {warmup_steps!r} (expected an integer ≥ 0)")
    total_steps = _checks.positive_int(total_steps, "total_steps")
    if warmup_steps > total_steps:
        raise ValueError(f"Invalid warmup_steps value: {warmup_steps} (more than total_steps = {total_steps})")
    return lambda lr: schedules.warmup_cosine(lr, warmup_steps, total_steps, lr_min=lr)


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
        lrs, trained = _trained(sweep, 0.5)
        for lr, k in zip(lrs, trained):
            hs = [sweep[lr, seed] for seed in sweep.seeds]
            finals = "".join(f"{f'✕ at {h.diverged_at}' if h.diverged else f'{h.final:.3f}':>11}" for h in hs)
            at = ", ".join(f"{h.lrs[-1]:.2f}" for h in hs if h.diverged and len(h.lrs))
            rows.append(f"{b:>4} {str(warmup) + ' ep':>7} {lr:>5g}   {finals:<{11 * seeds}} {f'{k}/{len(hs)}':>7}   {at}")
    return "\n".join(rows)


def metric_table(sweeps: Mapping[int, object]) -> str:
    """The mean final metric at each α (rows) and batch size (columns); ✕n marks n runs that diverged."""
    sizes = _check_sweeps(sweeps)
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


# -- the edge of stability ------------------------------------------------------------------

def _sharpness(history) -> tuple[np.ndarray, np.ndarray]:
    """(steps, λ_max) where the run measured the sharpness and the eigen-solve converged
    (``logs["converged"]``, when the run recorded it)."""
    values = np.asarray(history.logs.get("sharpness", ()), dtype=float)
    ok = np.isfinite(values)
    if "converged" in history.logs:
        ok &= np.asarray(history.logs["converged"], dtype=float) == 1
    steps = np.flatnonzero(ok)
    return steps, values[steps]


def _measured(history) -> tuple[int, int]:
    """(eigen-solves that converged, eigen-solves made)."""
    values = np.asarray(history.logs.get("sharpness", ()), dtype=float)
    made = int(np.isfinite(values).sum())
    return len(_sharpness(history)[0]), made


def first_reach(history, fraction: float = 0.95) -> int | None:
    """The first step at which the measured λ_max reached ``fraction`` × 2/α, or None."""
    _checks.positive(fraction, "fraction")
    steps, lam = _sharpness(history)
    hit = np.flatnonzero(lam >= fraction * 2 / history.config["lr"])
    return int(steps[hit[0]]) if hit.size else None


def plateau(history, start: float = 0.5) -> float:
    """The median converged λ_max over the last ``1 − start`` of the measurements (nan if none)."""
    _checks.in_range(start, "start", 0.0, 1.0, high_open=True)
    _, lam = _sharpness(history)
    tail = lam[int(math.floor(start * len(lam))):]
    return float(np.median(tail)) if tail.size else math.nan


def _check_runs(histories) -> list:
    histories = list(histories)
    if not histories:
        raise ValueError("Invalid histories: [] (expected at least one run)")
    for h in histories:
        if h.config.get("lr") is None or "sharpness" not in h.logs:
            raise ValueError("Invalid histories: each run needs a constant lr and logs['sharpness'] "
                             "(train it with lrcourse.cases.mlp)")
    return sorted(histories, key=lambda h: h.config["lr"])


def edge_table(histories: Iterable, *, fraction: float = 0.95) -> str:
    """One row per run: α, 2/α, λ_max at step 0, the first step where λ_max ≥ ``fraction``·2/α,
    the plateau (median of the late λ_max), plateau·α/2, final training loss, final metric, and
    how many eigen-solves converged (only those are used). A diverged run gets its step and loss."""
    rows = [f"{'α':>5} {'2/α':>6} {'λ_max at 0':>11} {f'≥ {fraction:g}·2/α at':>14} {'plateau':>8} "
            f"{'plateau·α/2':>12} {'final loss':>11} {'test acc':>9} {'converged':>10}"]
    for h in _check_runs(histories):
        lr = h.config["lr"]
        _, lam = _sharpness(h)
        ok, made = _measured(h)
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
    for h in _check_runs(histories):
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
    histories = _check_runs(histories)
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
    for h in _check_runs(histories):
        lr = h.config["lr"]
        if h.diverged:
            rows.append(f"{lr:>6g}   diverged at step {h.diverged_at}")
            continue
        steps, lam = _sharpness(h)
        last = (f"{lam[-1]:11.1f} {steps[-1]:8d}" if lam.size else f"{'–':>11} {'–':>8}")
        rows.append(f"{lr:>6g} {h.loss[-1]:11.4f} {last} {2 / lr:6.3g} {h.final:9.3f}")
    return "\n".join(rows)


def sharpness_figure(histories: Iterable, *, title: str, loss_stride: int = 5) -> go.Figure:
    """Top: the sharpness λ_max against the step for each run, with its 2/α dashed in the same
    colour. Bottom: the training loss (log scale, every ``loss_stride``-th step).

    Runs that diverged are not drawn (their numbers mean nothing); the title lists them.
    Each run must have a constant α (``History.config["lr"]``) and ``logs["sharpness"]``.
    """
    loss_stride = _checks.positive_int(loss_stride, "loss_stride")
    histories = _check_runs(histories)
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
