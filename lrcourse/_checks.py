"""Input validation shared by the whole package, in torch.optim's style.

Every failure is a ``ValueError`` whose message names the argument and the value,
for example ``Invalid learning rate: -0.1`` or ``Invalid total_steps value: 0``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def nonnegative(value, what: str):
    """A finite real ``>= 0`` (scalar or array); ``what`` is the start of the message."""
    arr = np.asarray(value, dtype=float) if not _is_real(value) else None
    if arr is not None:
        if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"Invalid {what}: {value!r}")
        return value
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"Invalid {what}: {value}")
    return value


def positive(value, what: str):
    """A finite real ``> 0``."""
    if not _is_real(value) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"Invalid {what}: {value!r}")
    return value


def positive_int(value, name: str) -> int:
    """An integer ``>= 1`` (numpy integers accepted)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"Invalid {name} value: {value!r} (expected a positive integer)")
    return int(value)


def in_range(value, name: str, low: float, high: float, *, high_open: bool = False):
    """A finite real in ``[low, high]`` (``[low, high)`` when ``high_open``)."""
    ok = _is_real(value) and math.isfinite(value) and low <= value and (
        value < high if high_open else value <= high
    )
    if not ok:
        bracket = ")" if high_open else "]"
        raise ValueError(f"Invalid {name} value: {value!r} (expected a number in [{low}, {high}{bracket})")
    return value


def steps(step):
    """A step count: a non-negative int or an integer numpy array of them. Returns an ndarray or int."""
    if isinstance(step, bool):
        raise ValueError(f"Invalid step: {step!r} (expected a non-negative integer)")
    if isinstance(step, numbers.Integral):
        if step < 0:
            raise ValueError(f"Invalid step: {step} (expected a non-negative integer)")
        return int(step)
    arr = np.asarray(step)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ValueError(f"Invalid step: {step!r} (expected non-negative integers)")
    if np.any(arr < 0):
        raise ValueError(f"Invalid step: {int(arr.min())} (expected non-negative integers)")
    return arr


def one_of(value, name: str, options):
    """``value`` if it is one of ``options`` (any container of names)."""
    if value not in options:
        raise ValueError(f"Invalid {name}: {value!r} (expected one of {', '.join(map(repr, options))})")
    return value


def seed(value) -> int:
    """A seed for ``random``, numpy and torch: an integer in [0, 2**32)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < 2**32:
        raise ValueError(f"Invalid seed: {value!r} (expected an integer in [0, 2**32))")
    return int(value)


def seeds(values) -> tuple:
    """One seed or several, each once."""
    values = (values,) if np.ndim(values) == 0 else tuple(values)
    if not values:
        raise ValueError(f"Invalid seeds: {values!r} (expected at least one seed)")
    values = tuple(seed(s) for s in values)
    if len(set(values)) != len(values):
        raise ValueError(f"Invalid seeds: {values!r} (a seed appears twice)")
    return values


def learning_rate(lr) -> float:
    """A learning rate for a run: a finite real > 0."""
    if lr is None:
        raise ValueError("Invalid learning rate: None (give lr, or a schedule)")
    return float(positive(lr, "learning rate"))


def learning_rates(lrs) -> np.ndarray:
    """A non-empty list of learning rates, each once."""
    values = np.atleast_1d(np.asarray(lrs, dtype=object))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"Invalid lrs: {lrs!r} (expected a non-empty list of learning rates)")
    out = np.array([learning_rate(v) for v in values])
    if len(np.unique(out)) != len(out):
        raise ValueError(f"Invalid lrs: {list(out)} (a learning rate appears twice)")
    return out


def clip_norm(value):
    """None (no clipping) or the largest global gradient norm, a finite real > 0."""
    return None if value is None else float(positive(value, "clip_norm value"))


def lr_or_schedule(lr, schedule) -> None:
    """Exactly one of a learning rate ``lr`` and a ``schedule`` (a callable step -> lr)."""
    if schedule is None:
        learning_rate(lr)
    elif lr is not None:
        raise ValueError(f"Invalid learning rate: {lr!r} together with a schedule "
                         "(the schedule sets α at every step: pass lr=None)")
    elif not callable(schedule):
        raise ValueError(f"Invalid schedule: {schedule!r} (expected a callable step -> lr)")


def files(directory, names, what: str, layout: str):
    """``directory`` (a ``pathlib.Path``) if it holds every file in ``names``, else a
    ``FileNotFoundError`` naming ``what`` is missing; ``layout`` says what is expected where."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{what} folder {directory} does not exist; " + layout)
    missing = [name for name in names if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{what} files missing in {directory}: {', '.join(missing)}; " + layout)
    return directory
