"""Learning-rate schedules: pure functions of the step.

Each function below checks its arguments and returns a :class:`Schedule`, a small
callable object::

    >>> import numpy as np
    >>> from lrcourse import schedules
    >>> schedule = schedules.cosine(lr0=0.1, total_steps=100)
    >>> schedule
    cosine(lr0=0.1, total_steps=100, lr_min=0.0)
    >>> schedule(50)                                # an int step gives a float
    0.05
    >>> schedule(np.arange(0, 101, 25))             # an array of steps gives an array
    array([0.1       , 0.08535534, 0.05      , 0.01464466, 0.        ])

The step ``t`` counts optimizer steps from 0: ``schedule(t)`` is the learning rate
used by the ``t``-th update. That is the value torch's scheduler puts in
``optimizer.param_groups[0]["lr"]`` after ``t`` calls of ``scheduler.step()``, and
the tests check every schedule against its ``torch.optim.lr_scheduler`` twin.
Nothing is read back from an optimizer: the same step always gives the same rate.
:func:`lrcourse.engine.to_torch` drives a torch optimizer with any of these schedules.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lrcourse import _checks
from lrcourse._checks import in_range, nonnegative, positive, positive_int, steps

__all__ = [
    "Schedule",
    "constant",
    "exponential",
    "step_decay",
    "multistep",
    "polynomial",
    "cosine",
    "cosine_restarts",
    "warmup_cosine",
    "one_cycle",
    "cyclic",
    "wsd",
]


@dataclass(frozen=True)
class Schedule:
    """A learning-rate schedule ``step -> lr``, printed as the call that made it.

    ``formula`` receives an integer ndarray of steps (already checked to be
    ``>= 0``) and returns the learning rates. The arguments are readable as
    attributes: ``schedules.cosine(0.1, 100).total_steps == 100``.
    """

    name: str
    params: tuple[tuple[str, object], ...]
    formula: Callable[[np.ndarray], np.ndarray] = field(compare=False, repr=False)

    def __call__(self, step):
        """The learning rate at ``step``: a float for an int, a float ndarray for an array."""
        t = steps(step)
        lr = np.asarray(self.formula(np.asarray(t)), dtype=float)
        if isinstance(step, np.ndarray) or not np.isscalar(step):
            return np.broadcast_to(lr, np.shape(t)).copy()
        return float(lr)

    def __getattr__(self, key):
        if key.startswith("_") or key in ("name", "params", "formula"):
            raise AttributeError(key)
        for name, value in self.params:
            if name == key:
                return value
        raise AttributeError(f"{self.name} schedule has no attribute {key!r}")

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={value!r}" for name, value in self.params)
        return f"{self.name}({args})"


def _schedule(name: str, formula, **params) -> Schedule:
    return Schedule(name, tuple(params.items()), formula)


# ----------------------------------------------------------------------------- checks


def _learning_rate(value, name: str) -> float:
    """A finite real ``>= 0``; the message names the argument (torch's own words for ``lr``)."""
    what = "learning rate" if name == "lr" else f"{name} value"
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"Invalid {what}: {value!r} (expected a real number)")
    return float(nonnegative(value, what))


def _lr_min(lr_min, lr_max: float, max_name: str) -> float:
    lr_min = _learning_rate(lr_min, "lr_min")
    if lr_min > lr_max:
        raise ValueError(f"Invalid lr_min value: {lr_min} (expected lr_min <= {max_name}={lr_max})")
    return lr_min


def _real(value, name: str) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueError(f"Invalid {name} value: {value!r} (expected a real number)")
    return float(value)


def _nonnegative_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Invalid {name} value: {value!r} (expected a non-negative integer)")
    return int(value)


def _choice(value, name: str, options: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in options:
        expected = " or ".join(repr(option) for option in options)
        raise ValueError(f"Invalid {name} value: {value!r} (expected {expected})")
    return value


# -------------------------------------------------------------------------- schedules


def constant(lr) -> Schedule:
    """The same rate at every step: ``α(t) = lr``."""
    lr = _learning_rate(lr, "lr")

    def formula(t):
        return np.full(t.shape, lr)

    return _schedule("constant", formula, lr=lr)


def exponential(lr0, decay_rate) -> Schedule:
    """Exponential decay: ``α(t) = α0 · exp(−λ t)`` with ``λ = decay_rate``.

    torch twin: ``ExponentialLR(optimizer, gamma=exp(−λ))``, which multiplies the
    rate by ``gamma`` at every step. ``decay_rate = 0`` is a constant rate.
    """
    lr0 = _learning_rate(lr0, "lr0")
    decay_rate = float(nonnegative(_real(decay_rate, "decay_rate"), "decay_rate value"))

    def formula(t):
        return lr0 * np.exp(-decay_rate * t)

    return _schedule("exponential", formula, lr0=lr0, decay_rate=decay_rate)


def step_decay(lr0, step_size, gamma=0.1) -> Schedule:
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``α(t) = α0 · γ^⌊t / step_size⌋``.

    torch twin: ``StepLR(optimizer, step_size, gamma)``. Non-increasing when ``gamma <= 1``.
    """
    lr0 = _learning_rate(lr0, "lr0")
    step_size = positive_int(step_size, "step_size")
    gamma = float(positive(_real(gamma, "gamma"), "gamma value"))

    def formula(t):
        return lr0 * gamma ** (t // step_size)

    return _schedule("step_decay", formula, lr0=lr0, step_size=step_size, gamma=gamma)


def multistep(lr0, milestones, gamma=0.1) -> Schedule:
    """Multiply the rate by ``gamma`` at each milestone: ``α(t) = α0 · γ^(number of milestones ≤ t)``.

    torch twin: ``MultiStepLR(optimizer, milestones, gamma)``. ``milestones`` are
    increasing non-negative integers. Non-increasing when ``gamma <= 1``.
    """
    lr0 = _learning_rate(lr0, "lr0")
    try:
        as_ints = tuple(_nonnegative_int(m, "milestones") for m in milestones)
        increasing = all(a < b for a, b in zip(as_ints, as_ints[1:]))
    except (TypeError, ValueError):
        increasing = False
    if not increasing:
        raise ValueError(f"Invalid milestones value: {milestones!r} (expected increasing non-negative integers)")
    milestones = as_ints
    gamma = float(positive(_real(gamma, "gamma"), "gamma value"))

    def formula(t):
        passed = np.searchsorted(milestones, t, side="right")  # how many milestones are <= t
        return lr0 * gamma**passed

    return _schedule("multistep", formula, lr0=lr0, milestones=milestones, gamma=gamma)


def polynomial(lr0, total_steps, power=1.0) -> Schedule:
    """Polynomial decay to 0: ``α(t) = α0 · (1 − min(t, T) / T)^power`` with ``T = total_steps``.

    ``power = 1`` is a straight line; the rate stays at 0 after ``T`` steps.
    torch twin: ``PolynomialLR(optimizer, total_iters=total_steps, power=power)``.
    """
    lr0 = _learning_rate(lr0, "lr0")
    total_steps = positive_int(total_steps, "total_steps")
    power = float(nonnegative(_real(power, "power"), "power value"))

    def formula(t):
        return lr0 * (1.0 - np.minimum(t, total_steps) / total_steps) ** power

    return _schedule("polynomial", formula, lr0=lr0, total_steps=total_steps, power=power)


def cosine(lr0, total_steps, lr_min=0.0) -> Schedule:
    """Cosine annealing from ``α0`` to ``lr_min`` over ``T = total_steps`` steps, then ``lr_min``.

    ``α(t) = lr_min + ½ (α0 − lr_min) (1 + cos(π · min(t, T) / T))``

    torch twin: ``CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=lr_min)``
    for ``t <= T``. After ``T`` torch keeps following the cosine, so its rate climbs
    back to ``α0`` at ``2T``; here it stays at ``lr_min``, which is what annealing to
    the end of a training budget means (nanoGPT does the same).
    """
    lr0 = _learning_rate(lr0, "lr0")
    total_steps = positive_int(total_steps, "total_steps")
    lr_min = _lr_min(lr_min, lr0, "lr0")

    def formula(t):
        progress = np.minimum(t, total_steps) / total_steps
        return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * progress))

    return _schedule("cosine", formula, lr0=lr0, total_steps=total_steps, lr_min=lr_min)


def cosine_restarts(lr0, T_0, T_mult=1, lr_min=0.0) -> Schedule:
    """Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    ``α(t) = lr_min + ½ (α0 − lr_min) (1 + cos(π · T_cur / T_i))``

    where ``T_cur`` counts the steps since the last restart and ``T_i`` is the
    length of the current cycle: ``T_0`` for the first, ``T_mult`` times longer for
    each next one. At a restart the rate jumps back to ``α0``.
    torch twin: ``CosineAnnealingWarmRestarts(optimizer, T_0, T_mult, eta_min=lr_min)``.
    """
    lr0 = _learning_rate(lr0, "lr0")
    T_0 = positive_int(T_0, "T_0")
    T_mult = positive_int(T_mult, "T_mult")
    lr_min = _lr_min(lr_min, lr0, "lr0")

    def formula(t):
        if T_mult == 1:
            T_cur, T_i = t % T_0, T_0
        else:
            # Walk the cycles, exact in integers: about log(t) / log(T_mult) rounds.
            T_cur, T_i = t, np.full_like(t, T_0)
            while np.any(T_cur >= T_i):
                restarted = T_cur >= T_i
                T_cur = np.where(restarted, T_cur - T_i, T_cur)
                T_i = np.where(restarted, T_i * T_mult, T_i)
        return lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(np.pi * T_cur / T_i))

    return _schedule("cosine_restarts", formula, lr0=lr0, T_0=T_0, T_mult=T_mult, lr_min=lr_min)


def warmup_cosine(peak_lr, warmup_steps, total_steps, lr_min=0.0) -> Schedule:
    """Linear warmup to ``peak_lr``, then cosine decay to ``lr_min``: nanoGPT's ``get_lr``.

    With ``W = warmup_steps`` and ``T = total_steps`` (``T`` counts the warmup; nanoGPT's
    ``warmup_iters`` and ``lr_decay_iters``)::

        α(t) = peak_lr · (t + 1) / (W + 1)                                t < W
        α(t) = lr_min + ½ (peak_lr − lr_min) (1 + cos(π (t − W) / (T − W)))   W ≤ t < T
        α(t) = lr_min                                                     t ≥ T

    The warmup never uses a zero rate and rises strictly through step ``W``, the first
    step at ``peak_lr``; ``W = 0`` is a plain cosine. ``W = T`` (which nanoGPT would divide
    by zero on) is a warmup to step ``T − 1``, then ``lr_min``.
    torch equivalent: ``SequentialLR`` of ``LinearLR(start_factor=1/(W+1), total_iters=W)``
    and ``CosineAnnealingLR(T_max=T−W, eta_min=lr_min)`` with ``milestones=[W]``.
    """
    peak_lr = _learning_rate(peak_lr, "peak_lr")
    total_steps = positive_int(total_steps, "total_steps")
    warmup_steps = _nonnegative_int(warmup_steps, "warmup_steps")
    if warmup_steps > total_steps:
        raise ValueError(
            f"Invalid warmup_steps value: {warmup_steps} (expected warmup_steps <= total_steps={total_steps})"
        )
    lr_min = _lr_min(lr_min, peak_lr, "peak_lr")

    def formula(t):
        warmup = peak_lr * (t + 1) / (warmup_steps + 1)
        # max(·, 1) only guards a division in a branch that np.select then discards (W = T).
        progress = (t - warmup_steps) / max(total_steps - warmup_steps, 1)
        decay = lr_min + 0.5 * (peak_lr - lr_min) * (1.0 + np.cos(np.pi * progress))
        return np.select([t < warmup_steps, t < total_steps], [warmup, decay], default=lr_min)

    return _schedule(
        "warmup_cosine", formula, peak_lr=peak_lr, warmup_steps=warmup_steps, total_steps=total_steps, lr_min=lr_min
    )


def one_cycle(
    max_lr, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4, anneal="cos", three_phase=False
) -> Schedule:
    """The 1cycle policy (Smith 2018), as torch's ``OneCycleLR`` computes it.

    The rate rises from ``initial = max_lr / div_factor`` to ``max_lr`` during the
    first ``pct_start · T`` steps, then anneals down to ``min = initial / final_div_factor``
    at step ``T − 1`` (``T = total_steps``) and stays there. Each phase goes from
    ``a`` to ``b`` as ``p`` goes from 0 to 1 (``p`` = fraction of the phase done)::

        anneal="cos":     α = b + ½ (a − b) (1 + cos(π p))
        anneal="linear":  α = a + (b − a) p

    Phases end at steps ``pct_start·T − 1`` (initial → max) and ``T − 1`` (max → min).
    With ``three_phase=True`` (the original paper): ``pct_start·T − 1`` (initial → max),
    ``2·pct_start·T − 2`` (max → initial), ``T − 1`` (initial → min).
    torch twin: ``OneCycleLR(optimizer, max_lr, total_steps, pct_start, anneal_strategy=anneal,
    div_factor=div_factor, final_div_factor=final_div_factor, three_phase=three_phase,
    cycle_momentum=False)``; torch refuses to step past ``total_steps``.
    """
    max_lr = _learning_rate(max_lr, "max_lr")
    total_steps = positive_int(total_steps, "total_steps")
    pct_start = float(in_range(pct_start, "pct_start", 0.0, 1.0))
    div_factor = float(positive(_real(div_factor, "div_factor"), "div_factor value"))
    final_div_factor = float(positive(_real(final_div_factor, "final_div_factor"), "final_div_factor value"))
    anneal = _choice(anneal, "anneal", ("cos", "linear"))
    three_phase = bool(three_phase)

    initial_lr = max_lr / div_factor
    min_lr = initial_lr / final_div_factor
    # (last step, rate at its start, rate at its end) of each phase, with torch's numbers
    rise = (pct_start * total_steps - 1, initial_lr, max_lr)
    if three_phase:
        phases = [rise, (2 * pct_start * total_steps - 2, max_lr, initial_lr), (total_steps - 1, initial_lr, min_lr)]
    else:
        phases = [rise, (total_steps - 1, max_lr, min_lr)]

    def interpolate(a, b, p):
        return b + 0.5 * (a - b) * (1.0 + np.cos(np.pi * p)) if anneal == "cos" else a + (b - a) * p

    def formula(t):
        t = np.minimum(t, total_steps - 1)  # hold the final rate after the cycle
        rates, start = [], 0.0
        for end, a, b in phases:
            # A phase of length 0 is over as soon as it starts: its end rate.
            p = (t - start) / (end - start) if end != start else np.ones(t.shape)
            rates.append(interpolate(a, b, p))
            start = end
        # torch's rule: a step belongs to the first phase whose end it has not passed.
        ongoing = [t <= end for end, _, _ in phases[:-1]]
        return np.select(ongoing, rates[:-1], default=rates[-1])

    return _schedule(
        "one_cycle",
        formula,
        max_lr=max_lr,
        total_steps=total_steps,
        pct_start=pct_start,
        div_factor=div_factor,
        final_div_factor=final_div_factor,
        anneal=anneal,
        three_phase=three_phase,
    )


def cyclic(base_lr, max_lr, step_size_up, mode="triangular", gamma=1.0) -> Schedule:
    """Cyclical learning rates (Smith 2017): a triangle wave between ``base_lr`` and ``max_lr``.

    Each cycle lasts ``2 · step_size_up`` steps (up, then down)::

        cycle = ⌊1 + t / (2 · step_size_up)⌋
        x     = |t / step_size_up − 2 · cycle + 1|
        α(t)  = base_lr + (max_lr − base_lr) · max(0, 1 − x) · scale

    ``scale`` is 1 for ``mode="triangular"``, ``1 / 2^(cycle − 1)`` for ``"triangular2"``
    (the height halves every cycle) and ``gamma^t`` for ``"exp_range"``.
    torch twin: ``CyclicLR(optimizer, base_lr, max_lr, step_size_up, mode=mode, gamma=gamma,
    cycle_momentum=False)``. ``gamma`` must be in (0, 1] so the rate never passes ``max_lr``.
    """
    base_lr = _learning_rate(base_lr, "base_lr")
    max_lr = _learning_rate(max_lr, "max_lr")
    if max_lr < base_lr:
        raise ValueError(f"Invalid max_lr value: {max_lr} (expected max_lr >= base_lr={base_lr})")
    step_size_up = positive_int(step_size_up, "step_size_up")
    mode = _choice(mode, "mode", ("triangular", "triangular2", "exp_range"))
    gamma = _real(gamma, "gamma")
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"Invalid gamma value: {gamma} (expected a number in (0, 1])")

    def formula(t):
        cycle = np.floor(1 + t / (2 * step_size_up))
        x = np.abs(t / step_size_up - 2 * cycle + 1)
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = 0.5 ** (cycle - 1)
        else:
            scale = gamma**t
        return base_lr + (max_lr - base_lr) * np.maximum(0.0, 1.0 - x) * scale

    return _schedule(
        "cyclic", formula, base_lr=base_lr, max_lr=max_lr, step_size_up=step_size_up, mode=mode, gamma=gamma
    )


def wsd(peak_lr, warmup_steps, total_steps, decay_steps, lr_min=0.0, shape="linear") -> Schedule:
    """Warmup-stable-decay (Hägele et al. 2024): a linear warmup, a constant phase, a short decay.

    With ``W = warmup_steps``, ``T = total_steps``, ``D = decay_steps`` and the decay starting
    at ``S = T − D`` (``p = (t − S) / D``, the fraction of the decay done)::

        α(t) = peak_lr · (t + 1) / (W + 1)                  t < W          (as warmup_cosine)
        α(t) = peak_lr                                      W ≤ t < S
        α(t) = lr_min + (peak_lr − lr_min) · (1 − p)        S ≤ t < T      shape="linear"
        α(t) = lr_min + (peak_lr − lr_min) · (1 − √p)       S ≤ t < T      shape="sqrt"
        α(t) = lr_min                                       t ≥ T

    Up to step S the schedule does not depend on T: one run at the constant rate serves
    every budget, and a budget T costs only its D decay steps branched off it. The paper
    uses D ≈ 20 % of T and finds the 1 − √p shape slightly better than linear.
    torch twin (linear): ``SequentialLR`` of ``LinearLR(start_factor=1/(W+1), total_iters=W)``,
    ``ConstantLR(factor=1, total_iters=0)`` and ``LinearLR(1, lr_min/peak_lr, total_iters=D)``
    with ``milestones=[W, S]``; ``LambdaLR`` for either shape.
    """
    peak_lr = _learning_rate(peak_lr, "peak_lr")
    total_steps = positive_int(total_steps, "total_steps")
    warmup_steps = _nonnegative_int(warmup_steps, "warmup_steps")
    decay_steps = _nonnegative_int(decay_steps, "decay_steps")
    if warmup_steps + decay_steps > total_steps:
        raise ValueError(
            f"Invalid decay_steps value: {decay_steps} (expected warmup_steps + decay_steps <= "
            f"total_steps={total_steps}, with warmup_steps={warmup_steps})"
        )
    lr_min = _lr_min(lr_min, peak_lr, "peak_lr")
    shape = _choice(shape, "shape", ("linear", "sqrt"))
    decay_start = total_steps - decay_steps

    def formula(t):
        warmup = peak_lr * (t + 1) / (warmup_steps + 1)
        # max(·, 1) and the clip only guard branches that np.select then discards (D = 0, t outside the decay).
        progress = np.clip((t - decay_start) / max(decay_steps, 1), 0.0, 1.0)
        left = 1.0 - (progress if shape == "linear" else np.sqrt(progress))
        decay = lr_min + (peak_lr - lr_min) * left
        return np.select(
            [t < warmup_steps, t < decay_start, t < total_steps], [warmup, peak_lr, decay], default=lr_min
        )

    return _schedule(
        "wsd", formula, peak_lr=peak_lr, warmup_steps=warmup_steps, total_steps=total_steps,
        decay_steps=decay_steps, lr_min=lr_min, shape=shape,
    )


def warmup_constant(warmup_steps: int, total_steps: int):
    """``lr -> schedule``: linear warmup over ``warmup_steps``, then constant at ``lr`` until
    ``total_steps`` (:func:`lrcourse.warmup_cosine` with ``lr_min`` = the peak),
    as ``cnn.sweep(..., schedule=...)`` takes it. ``warmup_steps = 0``: a constant α."""
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)) or warmup_steps < 0:
        raise ValueError(f"Invalid warmup_steps value: {warmup_steps!r} (expected an integer ≥ 0)")
    total_steps = _checks.positive_int(total_steps, "total_steps")
    if warmup_steps > total_steps:
        raise ValueError(f"Invalid warmup_steps value: {warmup_steps} (more than total_steps = {total_steps})")
    return lambda lr: warmup_cosine(lr, warmup_steps, total_steps, lr_min=lr)
