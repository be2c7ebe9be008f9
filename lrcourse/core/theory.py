"""What the theory of gradient descent on a quadratic predicts.

For f(w) = ½ wᵀAw with the eigenvalues of A in [μ, L], one gradient step is
w ← (I − αA) w, so each eigen-direction is multiplied by (1 − αλ) per step:

* it shrinks when |1 − αλ| < 1, i.e. when 0 < α < 2/λ;
* the slowest direction sets the rate: max over λ of |1 − αλ|, reached at λ = μ or λ = L;
* the rate is smallest when 1 − αμ = −(1 − αL), at α = 2/(L + μ),
  where it equals (L − μ)/(L + μ) = (κ − 1)/(κ + 1) with κ = L/μ.
"""

from __future__ import annotations

import numpy as np

from lrcourse import _checks
from lrcourse.core.objectives import Objective


def _check_curvatures(L, mu=None):
    _checks.positive(L, "L (largest curvature, must be > 0)")
    if mu is not None:
        _checks.nonnegative(mu, "mu (smallest curvature, must be >= 0)")
        if mu > L:
            raise ValueError(f"Invalid mu value: {mu} (must not exceed L = {L})")


def critical_lr(L):
    """2 / L: above it gradient descent on a quadratic with top curvature L diverges."""
    _check_curvatures(L)
    return 2.0 / L


def optimal_lr(L, mu):
    """2 / (L + μ): the constant α with the fastest worst-case rate on a quadratic."""
    _check_curvatures(L, mu)
    return 2.0 / (L + mu)


def rate(lr, L, mu):
    """max over λ ∈ {μ, L} of |1 − α·λ|: the factor by which the error shrinks per step.

    Below 1 the iterates converge; at 1 they stall or oscillate forever; above 1 they diverge.
    ``lr`` may be an array, to get the rate over a grid of α.
    """
    _check_curvatures(L, mu)
    _checks.nonnegative(lr, "learning rate")
    lr = np.asarray(lr, dtype=float)
    result = np.maximum(np.abs(1.0 - lr * L), np.abs(1.0 - lr * mu))
    return float(result) if result.ndim == 0 else result


def condition_number(L, mu):
    """κ = L / μ."""
    _check_curvatures(L, mu)
    _checks.positive(mu, "mu (smallest curvature, must be > 0)")
    return L / mu


def steps_to_tolerance(lr, L, mu, tol):
    """Steps until the slowest direction has shrunk by ``tol``: ⌈log(tol) / log(rate)⌉ (inf if rate ≥ 1)."""
    r = rate(lr, L, mu)
    if not 0 < tol < 1:
        raise ValueError(f"Invalid tol value: {tol} (expected a number in (0, 1))")
    if r >= 1:
        return float("inf")
    if r == 0:
        return 1
    return int(np.ceil(np.log(tol) / np.log(r)))


def predicted_noise_floor(objective: Objective, lr, noise: float):
    """Expected loss of SGD at a constant ``lr`` once it has settled, on a quadratic.

    Along an eigenvector of curvature λ the coordinate follows c ← (1 − αλ) c − α σ ξ,
    whose variance settles at α σ² / (λ (2 − αλ)); its share of the loss is ½ λ c², so::

        floor(α) = Σ_λ α σ² / (2 (2 − αλ))  ≈  d α σ² / 4   for small α (d = dimension)

    proportional to α and to the noise variance σ², and almost independent of the curvature.
    """
    if objective.curvature is None:
        raise ValueError(f"Invalid objective: {objective.name} is not a quadratic (no constant curvature)")
    lams = np.linalg.eigvalsh(objective.grad(np.eye(objective.dim)))     # the Hessian's eigenvalues
    lr = np.asarray(lr, dtype=float)[..., None]
    return np.sum(lr * noise**2 / (2 * (2 - lr * lams)), axis=-1)
