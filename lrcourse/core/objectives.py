"""Loss surfaces with analytic gradients, for watching gradient descent move.

Each objective works on a batch of points: ``value(w)`` and ``grad(w)`` take an array of
shape ``(..., dim)`` and return shapes ``(...)`` and ``(..., dim)``. That lets one call
evaluate many trajectories at once, one per learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lrcourse import _checks


@dataclass(frozen=True)
class Objective:
    """A differentiable function with its known minimizers.

    ``curvature`` is (μ, L), the smallest and largest Hessian eigenvalue, where they are
    constant (quadratics); ``None`` otherwise.
    """

    name: str
    dim: int
    value: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    grad: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    minimizers: np.ndarray = field(repr=False)
    min_value: float = 0.0
    curvature: tuple[float, float] | None = None

    def __call__(self, w):
        return self.value(np.asarray(w, dtype=float))


def quadratic(eigenvalues=(1.0, 10.0), angle: float = 0.0) -> Objective:
    """f(w) = ½ wᵀAw with A = R diag(λ) Rᵀ, R a rotation by ``angle`` radians (2-D only).

    ∇f(w) = A w. The minimum is f(0) = 0; the curvatures are μ = min λ and L = max λ.
    """
    lam = np.asarray(eigenvalues, dtype=float)
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"Invalid eigenvalues value: {eigenvalues!r} (expected positive finite numbers)")
    A = np.diag(lam)
    if angle:
        if lam.size != 2:
            raise ValueError(f"Invalid angle value: {angle!r} (a rotation needs exactly 2 eigenvalues)")
        c, s = np.cos(angle), np.sin(angle)
        R = np.array([[c, -s], [s, c]])
        A = R @ A @ R.T

    def value(w):
        return 0.5 * np.einsum("...i,ij,...j->...", w, A, w)

    def grad(w):
        return w @ A  # A is symmetric

    label = ", ".join(f"{v:g}" for v in lam)
    return Objective(f"quadratic(λ = {label})", lam.size, value, grad,
                     np.zeros((1, lam.size)), 0.0, (float(lam.min()), float(lam.max())))


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Objective:
    """f(x, y) = (a − x)² + b (y − x²)², minimum 0 at (a, a²): a curved, narrow valley."""
    _checks.positive(b, "b value")

    def value(w):
        x, y = w[..., 0], w[..., 1]
        return (a - x) ** 2 + b * (y - x**2) ** 2

    def grad(w):
        x, y = w[..., 0], w[..., 1]
        return np.stack([-2 * (a - x) - 4 * b * x * (y - x**2), 2 * b * (y - x**2)], axis=-1)

    return Objective(f"rosenbrock(a={a:g}, b={b:g})", 2, value, grad, np.array([[a, a * a]]))


def double_well(tilt: float = 0.3) -> Objective:
    """f(x) = (x² − 1)² + tilt·x: two valleys near x = ±1; with tilt > 0 the left one is deeper.

    ``minimizers`` lists the global minimizer first, then the local one.
    """
    if not np.isfinite(tilt) or abs(tilt) >= 8 / np.sqrt(27):  # beyond this one valley vanishes
        raise ValueError(f"Invalid tilt value: {tilt!r} (expected |tilt| < {8 / np.sqrt(27):.3f})")

    def value(w):
        x = w[..., 0]
        return (x**2 - 1) ** 2 + tilt * x

    def grad(w):
        x = w[..., 0]
        return (4 * x * x * x - 4 * x + tilt)[..., None]  # x*x*x: numpy's x**3 is ~10x slower

    roots = np.roots([4.0, 0.0, -4.0, tilt]).real  # critical points: two minima and the barrier
    minima = np.array([r for r in roots if 12 * r * r - 4 > 0])
    minima = minima[np.argsort(value(minima[:, None]))]
    return Objective(f"double_well(tilt={tilt:g})", 1, value, grad, minima[:, None],
                     float(value(minima[:1, None])[0]))
