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


def gaussian_wells(weights=(0.85, 0.15), centers=(-1.0, 1.0), widths=(0.5, 0.2)) -> Objective:
    """f(w) = −log Σᵢ pᵢ N(w; cᵢ, sᵢ²): one valley per Gaussian, of depth and width set apart.

    The negative log-likelihood of a mixture of Gaussians, in 1-D. Near cᵢ the valley's
    curvature is about 1/sᵢ² (a narrow Gaussian makes a sharp minimum) and its depth about
    log sᵢ − log pᵢ (a heavy weight makes a deep one), so depth and sharpness can be chosen
    separately. Far out the loss grows like a parabola, so no run escapes to infinity unless
    α is too large for that parabola. With
    rᵢ(w) = pᵢN(w; cᵢ, sᵢ²) / Σⱼ pⱼN(w; cⱼ, sⱼ²), the gradient is f'(w) = Σᵢ rᵢ(w)(w − cᵢ)/sᵢ².
    ``minimizers`` lists the global minimizer first (found by bisection on f').
    """
    p, c, s = (np.asarray(v, dtype=float).reshape(-1) for v in (weights, centers, widths))
    for name, values, given in (("weights", p, weights), ("widths", s, widths)):
        if values.size != c.size or not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(f"Invalid {name} value: {given!r} (expected {c.size} positive numbers, one per center)")
    if c.size < 1 or not np.all(np.isfinite(c)):
        raise ValueError(f"Invalid centers value: {centers!r} (expected finite numbers)")
    log_scale = np.log(p) - np.log(s) - 0.5 * np.log(2 * np.pi)

    def log_components(x):  # log pᵢN(x; cᵢ, sᵢ²), shape (..., k)
        return log_scale - 0.5 * ((x[..., None] - c) / s) ** 2

    def value(w):
        a = log_components(w[..., 0])
        top = a.max(axis=-1)
        return -(top + np.log(np.exp(a - top[..., None]).sum(axis=-1)))  # log-sum-exp: no underflow

    def grad(w):
        x = w[..., 0]
        a = log_components(x)
        r = np.exp(a - a.max(axis=-1, keepdims=True))
        r /= r.sum(axis=-1, keepdims=True)
        return (r * (x[..., None] - c) / s**2).sum(axis=-1)[..., None]

    minima = _minima_1d(grad, c.min() - 4 * s.max(), c.max() + 4 * s.max())
    minima = minima[np.argsort(value(minima[:, None]))]
    label = ", ".join(f"{pi:g}·N({ci:g}, {si:g}²)" for pi, ci, si in zip(p, c, s))
    return Objective(f"gaussian_wells({label})", 1, value, grad, minima[:, None],
                     float(value(minima[:1, None])[0]))


def _minima_1d(grad, lo: float, hi: float, points: int = 20001) -> np.ndarray:
    """Every point in [lo, hi] where f' crosses from negative to positive, refined by bisection."""
    xs = np.linspace(lo, hi, points)
    g = grad(xs[:, None])[:, 0]
    crossing = np.nonzero((g[:-1] < 0) & (g[1:] >= 0))[0]
    left, right = xs[crossing], xs[crossing + 1]
    for _ in range(60):  # the bracket halves each time: 60 halvings reach machine precision
        middle = 0.5 * (left + right)
        negative = grad(middle[:, None])[:, 0] < 0
        left, right = np.where(negative, middle, left), np.where(negative, right, middle)
    return 0.5 * (left + right)


def curvature(objective: Objective, w, h: float = 1e-5) -> np.ndarray:
    """f''(w) of a 1-D ``objective`` at each point of ``w``: (f'(w + h) − f'(w − h)) / 2h.

    At a minimum this is its sharpness, the Hessian's largest (here only) eigenvalue λ;
    gradient descent can settle there only if α < 2/λ.
    """
    if objective.dim != 1:
        raise ValueError(f"Invalid objective: {objective.name} has dimension {objective.dim} (expected 1)")
    w = np.asarray(w, dtype=float).reshape(-1)
    return (objective.grad((w + h)[:, None]) - objective.grad((w - h)[:, None]))[:, 0] / (2 * h)
