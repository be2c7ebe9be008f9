"""Run one optimizer on one objective for many learning rates at once.

The trick is numpy broadcasting: the parameters get a leading α axis, shape (n_α, dim),
and the learning rate is an array of shape (n_α, 1), so one ``optimizer.step`` call
moves every trajectory. A per-α Python loop does the same work one α at a time.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from lrcourse import _checks
from lrcourse.core import optim
from lrcourse.core.objectives import Objective

BLOWUP = 1e6  # a trajectory has diverged once ‖w‖ > BLOWUP · max(‖w₀‖, 1)


class Runs(NamedTuple):
    """Trajectories of one optimizer on one objective, one per learning rate.

    path[t, i] is w after t steps at lrs[i]; loss[t, i] = f(path[t, i]). Once run i has
    diverged (non-finite, or ‖w‖ beyond BLOWUP times the start) it is frozen: its later
    entries are NaN and diverged_at[i] is the step where it happened (None if never, as
    in a ``History`` of the torch engine).
    """

    lrs: np.ndarray
    path: np.ndarray
    loss: np.ndarray
    diverged: np.ndarray
    diverged_at: tuple            # of int | None, one per run

    def steps_to(self, tol: float, min_value: float = 0.0) -> np.ndarray:
        """First step where f(w) − min_value ≤ tol, per α (−1 where it never gets there)."""
        below = (self.loss - min_value) <= tol
        return np.where(below.any(axis=0), below.argmax(axis=0), -1)

    def final(self) -> np.ndarray:
        """The last parameters of each run (NaN rows for diverged runs)."""
        return self.path[-1]


def run(objective: Objective, w0, lrs, steps: int,
        optimizer: Callable[..., optim.Optimizer] = optim.sgd) -> Runs:
    """Apply ``optimizer(lr)`` to ``objective`` from ``w0`` for ``steps`` steps, for every lr in ``lrs``.

    ``optimizer`` is a factory called once with the column of learning rates, e.g.
    ``optim.sgd`` or ``functools.partial(optim.adam, betas=(0.9, 0.99))``.
    """
    steps = _checks.positive_int(steps, "steps")
    lrs = np.atleast_1d(np.asarray(lrs, dtype=float))
    if lrs.ndim != 1:
        raise ValueError(f"Invalid lrs value: shape {lrs.shape} (expected a 1-D sequence)")
    _checks.nonnegative(lrs, "learning rate")
    w0 = np.asarray(w0, dtype=float).reshape(-1)
    if w0.size != objective.dim:
        raise ValueError(f"Invalid w0 value: {w0.tolist()} (expected {objective.dim} coordinates)")

    n = lrs.size
    opt = optimizer(lrs[:, None])
    w = np.broadcast_to(w0, (n, w0.size)).copy()
    state = opt.init(w)
    limit = BLOWUP * max(np.linalg.norm(w0), 1.0)

    path = np.full((steps + 1, n, w0.size), np.nan)
    loss = np.full((steps + 1, n), np.nan)
    path[0], loss[0] = w, objective.value(w)
    alive = np.ones(n, dtype=bool)
    diverged_at = np.full(n, -1)
    with np.errstate(all="ignore"):  # frozen runs may overflow; they are masked below
        for t in range(1, steps + 1):
            w_new, state = opt.step(w, objective.grad(w), state)
            blew_up = alive & ~(np.isfinite(w_new).all(axis=1) & (np.linalg.norm(w_new, axis=1) <= limit))
            diverged_at[blew_up] = t
            alive &= ~blew_up
            w = np.where(alive[:, None], w_new, w)
            path[t, alive], loss[t, alive] = w[alive], objective.value(w[alive])
            if not alive.any():
                break
    diverged = diverged_at >= 0
    return Runs(lrs, path, loss, diverged, tuple(int(t) if d else None for t, d in zip(diverged_at, diverged)))


def measured_rate(distances) -> float | np.ndarray:
    """The per-step contraction factor, (d_T / d_0)^(1/T), from distances to the minimizer.

    ``distances`` has shape (T + 1,) or (T + 1, n_α).
    """
    d = np.asarray(distances, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(np.log(d[-1] / d[0]) / (len(d) - 1))


def describe(runs: Runs, i: int, minimizers, tol: float = 1e-3) -> str:
    """One line saying what run ``i`` did: diverged, crawled, oscillated or converged.

    Diverged means it blew up (see :class:`Runs`) or ended farther from the nearest
    minimizer than it started. A run oscillates (zig-zags, in several dimensions) when
    consecutive steps point against each other: Δw_t · Δw_(t+1) < 0.
    """
    if runs.diverged[i]:
        return f"diverges (blows up at step {runs.diverged_at[i]})"
    path = runs.path[:, i]
    minimizers = np.atleast_2d(np.asarray(minimizers, dtype=float))
    nearest = minimizers[np.argmin(np.linalg.norm(minimizers - path[-1], axis=1))]
    distance = np.linalg.norm(path - nearest, axis=1)
    steps = len(path) - 1
    moves = np.diff(path, axis=0)
    reversals = np.einsum("ij,ij->i", moves[:-1], moves[1:]) < 0
    if distance[-1] > tol:
        if distance[-1] > distance[0]:  # moving away, just not yet past the blow-up limit
            return f"diverges (distance grew from {distance[0]:.2g} to {distance[-1]:.2g} in {steps} steps)"
        if reversals.sum() > steps // 4:
            return f"oscillates: still {distance[-1]:.2g} away after {steps} steps"
        return f"crawls: still {distance[-1]:.2g} away after {steps} steps"
    arrived = int(np.argmax(distance <= tol))
    manner = "oscillating" if reversals[:max(arrived - 1, 0)].any() else "smoothly"
    return f"converges {manner} (within {tol:g} at step {arrived})"


_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def table(runs: Runs, minimizers, curvature: float | None = None, tol: float = 1e-3) -> str:
    """One row per α: α, the factor 1 − αL (when the ``curvature`` L is given), the final loss
    (— if the run diverged) and :func:`describe`'s verdict."""
    steps = len(runs.loss) - 1
    factor = "   1−αL" if curvature is not None else ""
    rows = [f"{'α':>6}{factor}  {'𝓛(w' + str(steps).translate(_SUBSCRIPTS) + ')':>8}  what happened"]
    for i, lr in enumerate(runs.lrs):
        loss = "—" if runs.diverged[i] else f"{runs.loss[-1, i]:.2g}"
        column = f"  {1 - lr * curvature:5.2f}" if curvature is not None else ""
        rows.append(f"{lr:>6g}{column}  {loss:>8}  {describe(runs, i, minimizers, tol)}")
    return "\n".join(rows)


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


def noisy_final_positions(objective: Objective, starts, lrs, noises, steps: int, *, seed: int = 0) -> np.ndarray:
    """Where SGD with Gaussian gradient noise ends: shape (len(lrs), len(starts)), for a 1-D objective.

    Run i takes ``steps`` steps w ← w − αᵢ(f'(w) + σᵢ ξ), ξ ~ N(0, 1), from every start, with
    σᵢ = ``noises[i]`` (a mini-batch of B examples whose gradients have spread σ has σ/√B).
    σ = 0 is plain gradient descent. Runs that leave |w| ≤ BLOWUP · max(|w₀|, 1) are NaN.
    The noise comes from ``numpy.random.default_rng(seed)``.
    """
    if objective.dim != 1:
        raise ValueError(f"Invalid objective: {objective.name} has dimension {objective.dim} (expected 1)")
    steps = _checks.positive_int(steps, "steps")
    starts = np.asarray(starts, dtype=float).reshape(-1)
    lrs = np.asarray(_checks.nonnegative(lrs, "lrs"), dtype=float).reshape(-1, 1)
    noises = np.asarray(_checks.nonnegative(noises, "noises"), dtype=float).reshape(-1, 1)
    if lrs.shape != noises.shape:
        raise ValueError(f"Invalid noises: {noises.size} values (expected one per learning rate, {lrs.size})")
    rng = np.random.default_rng(seed)
    w = np.tile(starts, (lrs.shape[0], 1))
    limit = BLOWUP * np.maximum(np.abs(starts), 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            g = objective.grad(w[..., None])[..., 0] + noises * rng.standard_normal(w.shape)
            w = w - lrs * g
            w = np.where(np.abs(w) <= limit, w, np.nan)
    return w
