"""The learning-rate range test (Smith, 2017; popularised by fastai's ``lr_find``, Howard & Gugger, 2020).

Train for a short run while α grows exponentially from ``start_lr`` to ``end_lr``,

    α_k = start_lr · (end_lr / start_lr) ** (k / (steps − 1)),      k = 0 … steps − 1,

and record the loss of every step, smoothed by a debiased exponential moving average,

    m_k = β m_{k−1} + (1 − β) loss_k,      smoothed_k = m_k / (1 − β^(k+1)).

The test stops once the smoothed loss exceeds ``stop_factor`` × its best value so
far (or a loss or gradient is not finite): past that point α is plainly too high.
(For a loss that can be negative the margin is ``(stop_factor − 1) × |best|``.)
The weights are put back as they were at the start, in memory. The steps are those of
every run: :func:`lrcourse.engine.loop.run`, given this schedule and this stop rule.

A suggestion rule reads α off the curve. Three are in use, each a pure function of
``(lrs, losses)``:

* :func:`steepest` — where the loss falls fastest per unit of log α;
* :func:`valley` — fastai's default: about half-way down the longest
  stretch over which the loss keeps falling;
* :func:`minimum_over_ten` — fastai's ``minimum``: a tenth of the α of the lowest loss.

Smith (2017) read the curve by eye instead: the bounds of a cyclical schedule where
the accuracy starts to rise and where it falls. The three rules are fastai's
(Howard & Gugger, 2020, ``fastai/callback/schedule.py``).

Like fastai's ``lr_find``, :func:`suggest` leaves out the first tenth of the
*planned* steps (``num_it // 10``: where the average has not settled), however
early the test stopped, and the last 5 recorded points (the blow-up) before
applying a rule.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable, NamedTuple

import numpy as np

from lrcourse import _checks
from lrcourse.engine.loop import Problem, repeatable, run
from lrcourse.engine.optimizers import hyperparameters, optimizer_class


def _curve(lrs, losses) -> tuple[np.ndarray, np.ndarray]:
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if lrs.ndim != 1 or lrs.shape != losses.shape:
        raise ValueError(f"Invalid curve: lrs has shape {lrs.shape} and losses {losses.shape} "
                         "(expected two 1-d arrays of the same length)")
    if len(lrs) < 2:
        raise ValueError(f"Invalid curve: {len(lrs)} point(s) (a rule needs at least 2)")
    if not np.all(np.isfinite(lrs)) or np.any(lrs <= 0) or np.any(np.diff(lrs) <= 0):
        raise ValueError("Invalid lrs: expected positive, finite and increasing learning rates")
    if not np.all(np.isfinite(losses)):
        raise ValueError("Invalid losses: not all finite (cut the curve where the loss blew up)")
    return lrs, losses


def steepest(lrs, losses) -> float:
    """The α where the loss falls fastest per unit of log α: the start of the
    steepest slope d loss / d log α between neighbouring points."""
    lrs, losses = _curve(lrs, losses)
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    return float(lrs[np.argmin(slopes)])


def valley(lrs, losses) -> float:
    """fastai's valley rule: find the longest decreasing subsequence of the losses
    (the longest valley), then take the point about half-way along it —
    deep enough to be fast, well before the bottom where the loss turns up.

    As fastai computes it: with the valley ending at index e after n points and
    s = e − n, the point s + ⌊(e − s)/3⌋ + ⌊(e − s)/6⌋.

    One deliberate difference: when the longest valley is 2 points from index 0
    (e = 1, s = −1, e.g. losses [2, 1, 3, 4, 5]), that formula gives index −1, which
    fastai's Python indexing turns into the *last*, largest α; here it is clamped to
    index 0, the valley's first point.
    """
    lrs, losses = _curve(lrs, losses)
    n = len(losses)
    longest = np.ones(n, dtype=int)             # length of the longest decreasing run ending at i
    for i in range(1, n):
        earlier = np.flatnonzero(losses[:i] > losses[i])
        if earlier.size:
            longest[i] = longest[earlier].max() + 1
    end = int(np.argmax(longest))
    start = end - int(longest[end])           # fastai's bookkeeping: one before the valley's first point
    third = (end - start) / 3
    return float(lrs[max(start + int(third) + int(third / 2), 0)])


def minimum_over_ten(lrs, losses) -> float:
    """A tenth of the α at which the loss is lowest: fastai's ``minimum`` rule (Howard & Gugger,
    2020), not Smith's (2017), who read the bounds off where the accuracy rises and falls."""
    lrs, losses = _curve(lrs, losses)
    return float(lrs[np.argmin(losses)] / 10)


RULES: dict[str, Callable] = {"steepest": steepest, "valley": valley, "minimum/10": minimum_over_ten}
"""The suggestion rules by name."""


def check_rule(rule: str) -> str:
    return _checks.one_of(rule, "rule", RULES)


def suggest(lrs, losses, rule: str = "valley", planned_steps: int | None = None) -> float:
    """Apply ``rule`` to the part of the curve fastai's ``lr_find`` uses,
    ``[planned_steps // 10 : −5]``: without the first tenth of the steps the test
    planned (of the curve itself when ``planned_steps`` is None) and the last 5
    points; all of it when that would leave fewer than 2 points.

    A test that stopped early has fewer points than it planned, and the first tenth
    is counted on the plan, as fastai counts it (``num_it // 10``).
    """
    rule = check_rule(rule)
    lrs, losses = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if planned_steps is None:
        planned_steps = len(lrs)
    planned_steps = _checks.positive_int(planned_steps, "planned_steps")
    if planned_steps < len(lrs):
        raise ValueError(f"Invalid planned_steps value: {planned_steps} (the curve has {len(lrs)} points)")
    start, stop = planned_steps // 10, len(lrs) - 5
    if stop - start >= 2:
        lrs, losses = lrs[start:stop], losses[start:stop]
    return RULES[rule](lrs, losses)


class RangeTest(NamedTuple):
    """What a range test measured. ``lrs[k]`` is the α of step k and ``losses[k]``
    the smoothed loss after it; ``raw_losses`` are the unsmoothed ones.
    ``planned_steps`` is the number of steps asked for (``len(lrs)`` is fewer if
    the test stopped early); the suggestions trim its first tenth."""

    lrs: np.ndarray
    losses: np.ndarray
    raw_losses: np.ndarray
    suggestion: float             # by ``rule``
    suggestions: dict             # rule name -> α, for every rule
    rule: str
    stopped_at: int | None        # the step at which the loss blew up, or None if it never did
    planned_steps: int            # the steps asked for; len(lrs) <= planned_steps
    seconds: float
    config: dict


def exponential_lrs(start_lr: float, end_lr: float, steps: int) -> np.ndarray:
    """``steps`` learning rates growing by a constant factor from ``start_lr`` to ``end_lr``."""
    return start_lr * (end_lr / start_lr) ** (np.arange(steps) / max(steps - 1, 1))


def check_range(start_lr, end_lr, steps) -> tuple[float, float, int]:
    start_lr = float(_checks.positive(start_lr, "start_lr value"))
    end_lr = float(_checks.positive(end_lr, "end_lr value"))
    if start_lr >= end_lr:
        raise ValueError(f"Invalid start_lr value: {start_lr:g} (must be below end_lr={end_lr:g})")
    steps = _checks.positive_int(steps, "steps")
    if steps < 2:
        raise ValueError(f"Invalid steps value: {steps} (a range test needs at least 2 steps)")
    return start_lr, end_lr, steps


def range_test(problem: Problem, *, start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 100,
               smoothing: float = 0.98, stop_factor: float = 4.0, rule: str = "valley",
               optimizer: str = "sgd", clip_norm=None, progress: bool = False, desc: str | None = None,
               device="cpu", **optimizer_kwargs) -> RangeTest:
    """Run the range test on ``problem``'s model with ``torch.optim.<optimizer>``.

    ``problem.steps`` and its metric are not used: the test takes ``steps``
    steps (fewer if the loss blows up) of the batches. The model's weights are
    restored exactly at the end, even if the test is interrupted; the batches
    are consumed. ``device``: see :func:`lrcourse.engine.train`.
    """
    start_lr, end_lr, steps = check_range(start_lr, end_lr, steps)
    smoothing = _checks.in_range(smoothing, "smoothing", 0.0, 1.0, high_open=True)
    stop_factor = _checks.positive(stop_factor, "stop_factor value")
    if stop_factor <= 1:
        raise ValueError(f"Invalid stop_factor value: {stop_factor} (must be above 1)")
    rule = check_rule(rule)
    clip_norm = _checks.clip_norm(clip_norm)
    cls = optimizer_class(optimizer)
    hyperparameters(optimizer, start_lr, **optimizer_kwargs)
    model = problem.model
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError(f"Invalid model: {type(model).__name__} has no trainable parameters")

    lrs = exponential_lrs(start_lr, end_lr, steps)
    smoothed = []
    average, best = 0.0, math.inf

    def blew_up(k: int, value: float) -> bool:
        """The test's stop rule, fed every loss: not finite, or the smoothed loss past stop_factor × best."""
        nonlocal average, best
        if not math.isfinite(value):
            return True
        average = smoothing * average + (1 - smoothing) * value
        smoothed.append(average / (1 - smoothing ** (k + 1)))
        best = min(best, smoothed[-1])
        return smoothed[-1] > best + (stop_factor - 1) * abs(best)      # stop_factor × best for a positive loss

    start = time.perf_counter()
    short = dataclasses.replace(problem, steps=steps, evaluate=None)     # the test's steps, no metric
    h = run(short, cls, lrs, dict(optimizer_kwargs), clip_norm, stop=blew_up, restore=True,
            progress=progress, desc=desc, device=device)
    stopped_at = h.diverged_at
    raw = h.loss[:len(smoothed)]                 # without a last loss that was not finite
    taken = len(raw)
    if taken < 2:
        raise ValueError(f"Invalid start_lr value: {start_lr:g} (the loss blew up at step {stopped_at}, "
                         "before the test had 2 points; start lower)")
    lrs, losses = lrs[:taken], np.asarray(smoothed)
    suggestions = {name: suggest(lrs, losses, name, planned_steps=steps) for name in RULES}
    config = {"start_lr": start_lr, "end_lr": end_lr, "steps": steps, "smoothing": smoothing,
              "stop_factor": stop_factor, "optimizer": optimizer.lower(), "optimizer_kwargs": dict(optimizer_kwargs),
              "clip_norm": clip_norm, **problem.config}
    return RangeTest(lrs=lrs, losses=losses, raw_losses=np.asarray(raw), suggestion=suggestions[rule],
                     suggestions=suggestions, rule=rule, stopped_at=stopped_at,
                     planned_steps=steps, seconds=time.perf_counter() - start, config=config)


def lr_range_test(make_problem: Callable[[int], Problem], *, seed: int = 0, threads: int | None = 1,
                  **kwargs) -> RangeTest:
    """:func:`range_test` on ``make_problem(seed)``, built and run inside
    :func:`~lrcourse.engine.repeatable` so the same seed gives the same curve."""
    seed = _checks.seed(seed)
    with repeatable(seed, threads):
        result = range_test(make_problem(seed), **kwargs)
    return result._replace(config={**result.config, "seed": seed})
