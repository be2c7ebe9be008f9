"""The analysis of runs (numpy only): good ranges of α, cliffs, landmarks, spreads.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping, NamedTuple

import numpy as np

from lrcourse import _checks
from lrcourse.core import optim, theory
from lrcourse.core.descent import final_positions, landing, run
from lrcourse.core.descent import noisy_final_positions
from lrcourse.core.objectives import Objective, curvature, quadratic


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


def adam_effective_rates(objective: Objective, w0, *, lr: float, steps: int = 100) -> np.ndarray:
    """Adam's effective learning rate α/(√v̂ + ε) per coordinate after ``steps`` steps from ``w0``."""
    adam = optim.adam(lr=lr)
    w, state = np.asarray(w0, dtype=float), adam.init(np.asarray(w0, dtype=float))
    for _ in range(_checks.positive_int(steps, "steps")):
        w, state = adam.step(w, objective.grad(w), state)
    v_hat = state.exp_avg_sq / (1 - 0.999**state.count)
    return lr / (np.sqrt(v_hat) + 1e-8)


def layer_median_ratio(values: Mapping[str, np.ndarray]) -> float:
    """The largest layer median over the smallest: how unevenly a quantity spreads over layers."""
    medians = [spread.median for spread in layer_spread(values).values()]
    if min(medians) <= 0:
        raise ValueError("Invalid values: a layer's median is 0, the ratio is undefined")
    return max(medians) / min(medians)


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


def decay_rows(sweep: Callable, optimizer: str, wds) -> np.ndarray:
    """Mean final metric per α (columns) for each weight decay in ``wds`` (rows):
    ``sweep(optimizer=optimizer, weight_decay=λ).summary()["mean"]``, e.g. with
    ``sweep = functools.partial(cnn.sweep, lrs, seeds=(0, 1))``."""
    if not callable(sweep):
        raise ValueError(f"Invalid sweep: {sweep!r} (expected a function returning a Sweep)")
    return np.array([np.asarray(sweep(optimizer=optimizer, weight_decay=wd).summary()["mean"], dtype=float)
                     for wd in wds])


def range_test_curve(result, name: str = "result"):
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


def checked_rules(rules, suggestions: dict) -> list[str]:
    rules = list(suggestions) if rules is None else list(rules)
    unknown = [r for r in rules if r not in suggestions]
    if unknown:
        raise ValueError(f"Invalid rules value: {unknown!r} (the test has suggestions for {list(suggestions)!r})")
    return rules


class Validation(NamedTuple):
    """One case study's check of the range test.

    ``suggestions`` maps a rule to its α; ``trained`` is a sweep with runs at (at least)
    every suggested α; ``grid`` is the grid search the suggestions are judged against.
    """

    suggestions: Mapping[str, float]
    trained: object
    grid: object


def row_of(sweep, lr: float) -> int:
    lrs = np.asarray(sweep.lrs, dtype=float)
    hits = np.flatnonzero(np.isclose(lrs, lr, rtol=1e-6, atol=0))
    if hits.size == 0:
        raise ValueError(f"Invalid trained value: no runs at α = {lr:g} (it has α = {[float(x) for x in lrs]})")
    return int(hits[0])


def check_validations(cases: Mapping[str, Validation]) -> None:
    if not cases:
        raise ValueError("Invalid cases value: {} (expected at least one name -> Validation)")
    for name, case in cases.items():
        if not isinstance(case, Validation):
            raise ValueError(f"Invalid cases value: {name!r} is a {type(case).__name__} (expected a Validation)")
        if not case.suggestions:
            raise ValueError(f"Invalid cases value: {name!r} has no suggestions")
        for lr in case.suggestions.values():
            row_of(case.trained, float(lr))


def train_loss(history, last: int) -> float:
    """Mean training loss over the run's last ``last`` steps (``nan`` for a run that diverged)."""
    if history.diverged or len(history.loss) == 0:
        return float("nan")
    return float(np.mean(history.loss[-last:]))


def check_same_lrs(sweeps: Mapping[str, object]) -> list[float]:
    if not sweeps:
        raise ValueError("Invalid sweeps value: {} (expected at least one sweep)")
    peaks = [list(np.asarray(s.lrs, dtype=float)) for s in sweeps.values()]
    if any(p != peaks[0] for p in peaks):
        raise ValueError(f"Invalid sweeps value: their peak α grids differ ({peaks})")
    return peaks[0]

SCALING_RULES = ("linear", "sqrt")


def mean_by_lr(sweep) -> tuple[np.ndarray, np.ndarray]:
    """The sweep's α in increasing order and the mean final metric at each."""
    lrs = np.asarray(sweep.lrs, dtype=float)
    order = np.argsort(lrs)
    return lrs[order], np.asarray(sweep.summary()["mean"], dtype=float)[order]


def lowest_lr_reaching(sweep, target: float) -> float:
    """The smallest α of the grid whose mean final metric reaches ``target`` (≥ it, or ≤ it
    for a metric to minimise); ``nan`` when none does."""
    _checks.positive(target, "target")
    lrs, mean = mean_by_lr(sweep)
    with np.errstate(invalid="ignore"):
        ok = mean >= target if sweep.maximize else mean <= target
    return float(lrs[np.argmax(ok)]) if ok.any() else math.nan


def cliff(sweep, below: float = 0.5) -> float:
    """The first α of the grid above the best one whose mean final metric is below ``below``
    (above it, for a metric to minimise): where the good range collapses. ``nan`` if it never does."""
    _checks.positive(below, "below")
    lrs, mean = mean_by_lr(sweep)
    best = sweep.best()
    if not math.isfinite(best):
        return math.nan
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(mean) | (mean < below if sweep.maximize else mean > below)
    past = (lrs > best) & bad
    return float(lrs[np.argmax(past)]) if past.any() else math.nan


def check_batch_sweeps(sweeps: Mapping[int, object]) -> np.ndarray:
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


def steps_of(sweep) -> int:
    return int(next(iter(sweep)).config["steps"])


def scaling_factor(b: float, rule: str) -> float:
    if rule not in SCALING_RULES:
        raise ValueError(f"Invalid rule: {rule!r} (expected one of {', '.join(map(repr, SCALING_RULES))})")
    return float(b) if rule == "linear" else math.sqrt(b)


def runs_trained(sweep, below: float) -> tuple[np.ndarray, np.ndarray]:
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
    lrs, trained = runs_trained(sweep, below)
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


def sharpness_curve(history, converged_only: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(steps, λ_max) where the run measured the sharpness; by default only the values whose
    eigen-solve converged (``logs["converged"]``, when the run recorded it): an unconverged
    one is a lower bound. At the edge of stability :func:`plateau` summarises them."""
    values = np.asarray(history.logs.get("sharpness", ()), dtype=float)
    ok = np.isfinite(values)
    if converged_only and "converged" in history.logs:
        ok &= np.asarray(history.logs["converged"], dtype=float) == 1
    steps = np.flatnonzero(ok)
    return steps, values[steps]


def sharpness_solves(history) -> tuple[int, int]:
    """(eigen-solves that converged, eigen-solves made)."""
    values = np.asarray(history.logs.get("sharpness", ()), dtype=float)
    made = int(np.isfinite(values).sum())
    return len(sharpness_curve(history)[0]), made


def first_reach(history, fraction: float = 0.95) -> int | None:
    """The first step at which the measured λ_max reached ``fraction`` × 2/α, or None."""
    _checks.positive(fraction, "fraction")
    steps, lam = sharpness_curve(history)
    hit = np.flatnonzero(lam >= fraction * 2 / history.config["lr"])
    return int(steps[hit[0]]) if hit.size else None


def plateau(history, start: float = 0.5) -> float:
    """The median converged λ_max over the last ``1 − start`` of the measurements (nan if none):
    at the edge of stability λ_max oscillates around 2/α, and the median is robust to its spikes."""
    _checks.in_range(start, "start", 0.0, 1.0, high_open=True)
    _, lam = sharpness_curve(history)
    tail = lam[int(math.floor(start * len(lam))):]
    return float(np.median(tail)) if tail.size else math.nan


def check_histories(histories) -> list:
    histories = list(histories)
    if not histories:
        raise ValueError("Invalid histories: [] (expected at least one run)")
    for h in histories:
        if h.config.get("lr") is None or "sharpness" not in h.logs:
            raise ValueError("Invalid histories: each run needs a constant lr and logs['sharpness'] "
                             "(train it with lrcourse.cases.mlp)")
    return sorted(histories, key=lambda h: h.config["lr"])

ROLES = ("flat", "sharp", "not settled", "diverged")


def two_minima_curvatures(objective: Objective) -> np.ndarray:
    if objective.dim != 1 or len(objective.minimizers) != 2:
        raise ValueError(f"Invalid objective: {objective.name} (expected a 1-D loss with exactly two minima)")
    return curvature(objective, objective.minimizers[:, 0])


def _check_wells(wells: Mapping[str, Objective]) -> dict[str, np.ndarray]:
    if not isinstance(wells, Mapping) or not wells:
        raise ValueError(f"Invalid wells value: {wells!r} (expected a dict {{name: objective}})")
    return {name: two_minima_curvatures(objective) for name, objective in wells.items()}


def minima_summary(wells: Mapping[str, Objective]) -> str:
    """One line per minimum of each well: deep or shallow, f(w*), λ = f''(w*), flat or sharp, 2/λ."""
    lams = _check_wells(wells)
    lines = []
    for name, objective in wells.items():
        lines.append(f"{name}:")
        values = objective.value(objective.minimizers)
        for i, (w, f, lam) in enumerate(zip(objective.minimizers[:, 0], values, lams[name])):
            depth = "deep   " if i == 0 else "shallow"  # minimizers list the global one first
            kind = "flat " if lam == lams[name].min() else "sharp"
            lines.append(f"  {depth} minimum at w = {w:+.2f}: f = {f:.3f}, "
                         f"λ = {lam:5.2f} ({kind}), 2/λ = {theory.critical_lr(lam):#.3g}".replace("-", "−"))
    return "\n".join(lines)


@dataclass(frozen=True)
class Selection:
    """Where gradient descent ended on each well, from every start, at every α.

    ``roles[name]`` has shape (n_starts, n_α) and holds indices into :data:`ROLES`:
    0 the flat minimum, 1 the sharp one, 2 not settled (within ``tol`` of neither after
    ``steps`` steps), 3 diverged. ``sharpness[name]`` is λ of (flat, sharp).
    """

    wells: Mapping[str, Objective] = field(repr=False)
    starts: np.ndarray = field(repr=False)
    lrs: np.ndarray
    steps: int
    roles: dict = field(repr=False)
    sharpness: dict

    def shares(self, name: str) -> dict[str, np.ndarray]:
        """Per α, the percentage of starts that ended in each role (flat, sharp, not settled, diverged)."""
        if name not in self.roles:
            raise ValueError(f"Invalid well name: {name!r} (expected one of {list(self.roles)})")
        return {role: 100 * np.mean(self.roles[name] == k, axis=0) for k, role in enumerate(ROLES)}

    def last_settled(self, name: str, role: str) -> float:
        """The largest α at which at least one start settled in the ``role`` ("flat"/"sharp") minimum."""
        if role not in ROLES[:2]:
            raise ValueError(f"Invalid role: {role!r} (expected 'flat' or 'sharp')")
        settled = self.shares(name)[role] > 0
        return float(self.lrs[settled].max()) if settled.any() else float("nan")

    def table(self) -> str:
        """Per α, each well's share of starts ending in its flat minimum, its sharp one, or neither."""
        names = list(self.roles)
        head = "".join(f" | {name[:23]:^23}" for name in names)
        sub = f" | {'flat':>6} {'sharp':>7} {'neither':>8}" * len(names)
        rows = [f"{'α':>7}{head}", f"{'':>7}{sub}"]
        shares = [self.shares(name) for name in names]
        for j, lr in enumerate(self.lrs):
            cells = "".join(f" | {s['flat'][j]:5.0f}% {s['sharp'][j]:6.0f}% {s['not settled'][j] + s['diverged'][j]:7.0f}%"
                            for s in shares)
            rows.append(f"{lr:7.3g}{cells}")
        rows.append(f"({len(self.starts)} starts from {self.starts.min():g} to {self.starts.max():g}, "
                    f"{self.steps} steps; 'neither' = still bouncing or diverged)".replace("-", "−"))
        return "\n".join(rows)

    def limits(self) -> str:
        """For each well and minimum: the largest α of the grid that settled there, the next α of
        the grid (where none did), and 2/λ."""
        lines = []
        for name in self.roles:
            for k, role in enumerate(ROLES[:2]):
                last = self.last_settled(name, role)
                above = self.lrs[self.lrs > last]
                after = f", none at {above.min():.4f}" if above.size else ""
                lines.append(f"{name}, {role} minimum: settled up to α = {last:.4f}{after}; "
                             f"2/λ = {theory.critical_lr(self.sharpness[name][k]):.4f}")
        return "\n".join(lines)


def selection(wells: Mapping[str, Objective], starts, lrs, *, steps: int = 1000, tol: float = 1e-3) -> Selection:
    """Run gradient descent on each well from every start at every α and record where it ends.

    ``wells`` maps a name to a 1-D objective with two minima (for example two
    ``objectives.gaussian_wells``). Returns a :class:`Selection`.
    """
    lams = _check_wells(wells)
    starts = np.asarray(starts, dtype=float).reshape(-1)
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    if starts.size == 0 or not np.all(np.isfinite(starts)):
        raise ValueError(f"Invalid starts value: {starts.tolist()!r} (expected finite numbers)")
    if lrs.size == 0:
        raise ValueError("Invalid lrs value: [] (expected at least one learning rate)")
    _checks.positive_int(steps, "steps")
    roles, sharpness = {}, {}
    for name, objective in wells.items():
        codes = landing(final_positions(objective, starts, lrs, steps), objective.minimizers, tol)
        flat = int(np.argmin(lams[name]))
        role_of_code = np.array([0 if i == flat else 1 for i in range(2)])  # minimizer index -> 0 flat, 1 sharp
        roles[name] = np.where(codes < 2, role_of_code[np.minimum(codes, 1)], codes)
        sharpness[name] = (float(lams[name][flat]), float(lams[name][1 - flat]))
    return Selection(dict(wells), starts, lrs, int(steps), roles, sharpness)


def descent_distances(objective: Objective, w0, lr, steps: int) -> np.ndarray:
    """‖w_t − w*‖ for t = 0 … ``steps`` under gradient descent with exact gradients::

        w_{t+1} = w_t − α_t ∇𝓛(w_t)      (α_t = lr, or lr(t) for a schedule)

    ``w*`` is the objective's first minimizer."""
    steps = _checks.positive_int(steps, "steps")
    opt = optim.sgd(lr=lr)
    w = np.asarray(w0, dtype=float)
    state, target = opt.init(w), objective.minimizers[0]
    out = [np.linalg.norm(w - target)]
    for _ in range(steps):
        w, state = opt.step(w, objective.grad(w), state)
        out.append(np.linalg.norm(w - target))
    return np.array(out)


# ------------------------------------------------------------------ case studies: the RL agent and the range test

def mean_curve(sweep, lr: float) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation steps of the runs at α = ``lr`` and their metric averaged over the seeds,
    evaluation by evaluation: ``mean_i = (1/n) Σ_seeds metric_i``."""
    runs = [sweep[lr, seed] for seed in sweep.seeds]
    steps = np.asarray(runs[0].metric_steps)
    if any(len(h.metric) != len(steps) for h in runs):
        raise ValueError(f"Invalid sweep: the runs at α = {lr:g} were not evaluated at the same steps")
    return steps, np.mean([np.asarray(h.metric, dtype=float) for h in runs], axis=0)


def step_reaching(sweep, lr: float, target: float) -> int | None:
    """The first evaluation step at which the mean curve of α = ``lr`` (:func:`mean_curve`)
    reached ``target`` (≥ it, or ≤ it for a metric to minimise); ``None`` if it never did."""
    steps, mean = mean_curve(sweep, lr)
    with np.errstate(invalid="ignore"):
        hit = np.flatnonzero(mean >= target if sweep.maximize else mean <= target)
    return int(steps[hit[0]]) if hit.size else None


def mean_final(sweep, lr: float) -> float:
    """The final metric of the runs at α = ``lr``, mean over the seeds whose final metric is finite."""
    return float(sweep.summary()["mean"][row_of(sweep, lr)])


def flagged(sweep, key: str) -> np.ndarray:
    """Per α of the grid, how many runs have a value for ``config[key]`` (not None), e.g. the
    update at which an RL policy collapsed."""
    return np.array([sum(h.config.get(key) is not None for h in row) for row in sweep.grid])


def seeds_apart(sweep, low: float, high: float) -> bool:
    """Whether every seed at α = ``high`` ended better than every seed at α = ``low`` (higher
    final metric, or lower for a metric to minimise); runs without a finite final metric never do."""
    worse, better = (np.array([sweep[lr, s].final for s in sweep.seeds], dtype=float) for lr in (low, high))
    if not (np.all(np.isfinite(worse)) and np.all(np.isfinite(better))):
        return False
    return bool(better.min() > worse.max() if sweep.maximize else better.max() < worse.min())


def centred_average(lrs, values, window: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """A moving average centred on each step, where the whole window fits (no lag, but it needs
    the later values too): ``(lrs[h:-h], (1/window) Σ_{j=-h}^{h} values[k+j])`` with h = window // 2."""
    window = _checks.positive_int(window, "window")
    lrs, values = np.asarray(lrs, dtype=float), np.asarray(values, dtype=float)
    if window % 2 == 0 or window > len(values) or lrs.shape != values.shape:
        raise ValueError(f"Invalid window: {window} (expected an odd number up to {len(values)}, "
                         "and lrs and values of one length)")
    half = window // 2
    return lrs[half:len(lrs) - half], np.convolve(values, np.ones(window) / window, mode="valid")


class FlatPart(NamedTuple):
    """The range of a range test's losses where α < ``below``: the smoothed losses past the
    first tenth of the points (where the average has settled), and the raw losses."""

    smoothed_low: float
    smoothed_high: float
    raw_low: float
    raw_high: float


def flat_part(result, below: float) -> FlatPart:
    """How far the losses of a range test wander below α = ``below`` (see :class:`FlatPart`)."""
    _checks.positive(below, "below")
    lrs, losses, raw, _ = range_test_curve(result)
    flat = lrs < below
    settled = losses[flat][len(lrs) // 10:]
    if settled.size == 0:
        raise ValueError(f"Invalid below value: {below:g} (no settled point of the test lies below it)")
    return FlatPart(float(settled.min()), float(settled.max()), float(raw[flat].min()), float(raw[flat].max()))


# ------------------------------------------------------------------ case studies: the CNN and the LSTM

def epochs_to_reach(history, target: float, *, maximize: bool = True) -> int | None:
    """The first epoch after which the run's metric reached ``target`` (≥ it, or ≤ it when
    ``maximize`` is False); ``None`` if it never did."""
    _checks.positive(target, "target")
    metric = np.asarray(history.metric, dtype=float)
    with np.errstate(invalid="ignore"):
        reached = np.flatnonzero(metric >= target if maximize else metric <= target)
    return None if reached.size == 0 else int(history.metric_epochs[reached[0]])


def lrs_reaching(sweep, target: float) -> np.ndarray:
    """Every α of the grid (increasing) whose mean final metric reaches ``target`` (≥ it, or ≤ it
    for a metric to minimise), gaps included."""
    _checks.positive(target, "target")
    lrs, mean = mean_by_lr(sweep)
    with np.errstate(invalid="ignore"):
        ok = mean >= target if sweep.maximize else mean <= target
    return lrs[ok]


def loss_before(sweep, lr: float, step: int, window: int = 10) -> float:
    """The training loss over the ``window`` steps before ``step``, mean over the sweep's seeds::

        mean over seeds of  (1/window) Σ_{k = step − window}^{step − 1} 𝓛_k
    """
    window = _checks.positive_int(window, "window")
    step = _checks.positive_int(step, "step")
    if step < window:
        raise ValueError(f"Invalid step: {step} (expected at least window = {window})")
    runs = [sweep[lr, seed] for seed in sweep.seeds]
    if any(len(h.loss) < step for h in runs):
        raise ValueError(f"Invalid step: {step} (a run at α = {lr:g} has fewer losses)")
    return float(np.mean([np.mean(h.loss[step - window:step]) for h in runs]))


def steps_to_match(sweep, fast: float, slow: float, seed: int, window: int = 20) -> int | None:
    """The first step at which the run at α = ``fast``, its loss averaged over ``window`` steps,
    reached the final training loss of the run at α = ``slow`` (the mean of its last ``window``
    steps), same seed; ``None`` if it never did. The step counts the whole window: k + window
    for the window of steps k … k + window − 1."""
    window = _checks.positive_int(window, "window")
    target = float(np.mean(sweep[slow, seed].loss[-window:]))
    loss = np.asarray(sweep[fast, seed].loss, dtype=float)
    if len(loss) < window:
        raise ValueError(f"Invalid window: {window} (the run at α = {fast:g} has {len(loss)} steps)")
    smoothed = np.convolve(loss, np.ones(window) / window, mode="valid")
    hit = np.flatnonzero(smoothed <= target)
    return None if hit.size == 0 else int(hit[0]) + window


WORD = r"[A-Za-z]{%d,}"


def words(text: str, min_letters: int = 4) -> set[str]:
    """The distinct words of ``text`` with at least ``min_letters`` letters (ASCII letters only)."""
    return set(re.findall(WORD % _checks.positive_int(min_letters, "min_letters"), text))


def real_word_share(text: str, known: set[str], min_letters: int = 4) -> float:
    """The share of the words of ``text`` with at least ``min_letters`` letters that are in
    ``known`` (e.g. :func:`words` of the training text); every occurrence counts."""
    found = re.findall(WORD % _checks.positive_int(min_letters, "min_letters"), text)
    if not found:
        raise ValueError(f"Invalid text: no word of {min_letters} or more letters in {text[:40]!r}")
    return sum(w in known for w in found) / len(found)


def context_gains(losses) -> np.ndarray:
    """What the text beyond d tokens was worth, per model and distance::

        gain[m, j] = loss_m(only the last d_j tokens real) − loss_m(all real)

    from ``losses[m] = [loss(d) for d in distances] + [loss(all real)]`` (``lstm.context_loss``)."""
    losses = np.asarray(losses, dtype=float)
    if losses.ndim != 2 or losses.shape[1] < 2:
        raise ValueError(f"Invalid losses: shape {losses.shape} (expected (models, distances + 1))")
    return losses[:, :-1] - losses[:, -1:]


def unigram_bits(train_ids, targets) -> float:
    """The cross-entropy in bits per character of the best guess that ignores the context:
    the characters' frequencies in ``train_ids`` (add-one smoothed), scored on ``targets``::

        −mean log₂ p(c),  p(c) = (count(c) + 1) / (N + V),  V = max id + 1 of both

    A language model whose loss sits here has learned only which characters are common."""
    train_ids, targets = np.asarray(train_ids).ravel(), np.asarray(targets).ravel()
    if train_ids.size == 0 or targets.size == 0:
        raise ValueError(f"Invalid ids: {train_ids.size} training and {targets.size} target tokens "
                         "(expected at least one of each)")
    vocab = int(max(train_ids.max(), targets.max())) + 1
    counts = np.bincount(train_ids, minlength=vocab) + 1.0
    return float(-np.log2(counts[targets] / counts.sum()).mean())


def same_until(a, b) -> int:
    """How many leading steps two runs share: the first step at which their training losses
    differ (the shorter length if they never do). Two warmup-stable-decay runs of one seed
    share every step before the earlier decay starts."""
    a, b = np.asarray(a.loss, dtype=float), np.asarray(b.loss, dtype=float)
    n = min(a.size, b.size)
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if differ.size else n


def finetune_summary(runs) -> dict:
    """Mean and std (ddof=1, 0 for one run) over seeds of a list of fine-tuning runs
    (:func:`lrcourse.cases.gpt.finetune`): ``new`` (the new text's final metric), ``old``
    (the old text's after), ``forgetting`` (old after − old before)."""
    runs = list(runs)
    if not runs or any("old_after" not in h.config for h in runs):
        raise ValueError(f"Invalid runs: {runs!r} (expected fine-tuning Histories, with old_before and old_after)")
    values = {"new": [h.final for h in runs], "old": [h.config["old_after"] for h in runs],
              "forgetting": [h.config["old_after"] - h.config["old_before"] for h in runs]}
    ddof = 1 if len(runs) > 1 else 0
    return {name: (float(np.mean(v)), float(np.std(v, ddof=ddof))) for name, v in values.items()}


# --------------------------------------------------------------------------- scaling the learning rate

def final_losses(sweep, last: int = 10) -> np.ndarray:
    """Per α of ``sweep``: the training loss of its last ``last`` steps (their mean; mini-batch
    losses are noisy), averaged over seeds; NaN where any seed diverged."""
    last = _checks.positive_int(last, "last")
    out = np.full(len(sweep.lrs), np.nan)
    for i, row in enumerate(sweep.grid):
        if not any(h.diverged for h in row):
            out[i] = float(np.mean([np.mean(h.loss[-last:]) for h in row]))
    return out


def best_lr_by_loss(sweep, last: int = 10) -> tuple[float, float]:
    """(α, loss): the α of ``sweep`` with the lowest :func:`final_losses`, and that loss."""
    losses = final_losses(sweep, last)
    if not np.any(np.isfinite(losses)):
        return math.nan, math.nan
    i = int(np.nanargmin(losses))
    return float(sweep.lrs[i]), float(losses[i])


def basin_index(objective: Objective, final) -> np.ndarray:
    """For each final position of a 1-D ``objective``: the index (into ``objective.minimizers``) of
    the minimum whose basin holds it, the basins being cut at the highest point between
    neighbouring minima; −1 for a run that diverged (NaN)."""
    if objective.dim != 1:
        raise ValueError(f"Invalid objective: {objective.name} has dimension {objective.dim} (expected 1)")
    final = np.asarray(final, dtype=float)
    minima = objective.minimizers[:, 0]
    order = np.argsort(minima)
    cuts = []
    for a, b in zip(minima[order][:-1], minima[order][1:]):
        xs = np.linspace(a, b, 2001)
        cuts.append(xs[np.argmax(objective.value(xs[:, None]))])
    index = order[np.searchsorted(np.asarray(cuts), np.nan_to_num(final))]
    return np.where(np.isfinite(final), index, -1)


def mean_angle(history, last: int) -> float:
    """The mean angle (radians) the logged weight turned per step over the last ``last`` steps
    (``history.logs["hidden_angle"]`` of a ``norm=True`` MLP run)."""
    last = _checks.positive_int(last, "last")
    angles = np.asarray(history.logs["hidden_angle"], dtype=float)[-last:]
    return float(np.nanmean(angles))


def scaling_holds_up_to(sweeps: Mapping[int, object], ratio: float, *, tolerance: float = 0.01,
                        rule: str = "linear") -> int | None:
    """The largest batch size B up to which α = ratio·B (``rule="linear"``) or ratio·√B keeps the
    mean final metric within ``tolerance`` of the smallest batch size's, with no run diverged;
    None when the rule's α is not on the grid of the smallest batch size."""
    sizes = check_batch_sweeps(sweeps)
    _checks.positive(ratio, "ratio")
    _checks.positive(tolerance, "tolerance")

    def metric(b):
        sweep = sweeps[b]
        lrs = np.asarray(sweep.lrs, dtype=float)
        match = np.flatnonzero(np.isclose(lrs, ratio * scaling_factor(b, rule), rtol=1e-6, atol=0))
        if match.size == 0:
            return None
        s = sweep.summary()
        return math.nan if s["diverged"][match[0]] else float(s["mean"][match[0]])

    reference = metric(sizes[0])
    if reference is None or not math.isfinite(reference):
        return None
    holds = int(sizes[0])
    for b in sizes[1:]:
        value = metric(b)
        if value is None or not math.isfinite(value) or abs(value - reference) > tolerance:
            break
        holds = int(b)
    return holds


def noisy_ends(objective: Objective, starts, runs, *, sigma: float, horizon: float, seed: int = 0) -> list:
    """Where SGD with Gaussian gradient noise ends on a 1-D ``objective`` with a flat and a sharp
    minimum. ``runs`` holds (α, B) pairs: the noise of a batch of B is σ/√B (B = 0: none, gradient
    descent), and each run takes horizon/α steps, so runs at different α cover the same α × steps.

    Returns one row per run: (label, α, B, share in the flatter minimum, share in the sharper one,
    median f'' at the final positions)."""
    _checks.positive(horizon, "horizon")
    _checks.nonnegative(sigma, "sigma")
    lam = curvature(objective, objective.minimizers[:, 0])
    flat, sharp = int(np.argmin(lam)), int(np.argmax(lam))
    rows = []
    for lr, b in runs:
        _checks.positive(lr, "lr")
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 0:
            raise ValueError(f"Invalid batch size: {b!r} (expected 0 for none, or a positive integer)")
        noise = sigma / math.sqrt(b) if b else 0.0
        ends = noisy_final_positions(objective, starts, [lr], [noise], max(1, round(horizon / lr)), seed=seed)[0]
        where = basin_index(objective, ends)
        finite = ends[np.isfinite(ends)]
        rows.append(("SGD" if b else "GD", float(lr), int(b), float(np.mean(where == flat)),
                     float(np.mean(where == sharp)),
                     float(np.median(curvature(objective, finite))) if finite.size else math.nan))
    return rows
