"""Input validation shared by the core, in torch.optim's style.

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
