"""Text tables of gradient descent on a quadratic bowl, checked against the theory (chapter 2).

numpy only. Each function runs what it reports (``descent.run``) and returns the table as a
string, so a notebook cell is one ``print`` call:

* :func:`one_step_table`: the loss after one step against the first-order guess;
* :func:`threshold_table`: runs on both sides of 2/L, with the predicted rate and a verdict;
* :func:`rate_table`: predicted against measured rates per step;
* :func:`coordinates_table`: the iterates' coordinates along the Hessian's eigenvectors;
* :func:`conditioning_table`: steps to a tolerance against the condition number κ.
"""

from __future__ import annotations

import numpy as np

from lrcourse import descent, objectives, theory
from lrcourse.objectives import Objective


def _quadratic(objective: Objective) -> tuple[float, float]:
    if objective.curvature is None:
        raise ValueError(f"Invalid objective: {objective.name} is not a quadratic (no constant curvature)")
    return objective.curvature


def _hessian(objective: Objective) -> np.ndarray:
    return objective.grad(np.eye(objective.dim))  # grad(w) = w A, so the rows of I give A


def one_step_table(objective: Objective, w, lrs) -> str:
    """Per α: 𝓛(w − α∇𝓛(w)) against the first-order guess 𝓛(w) − α‖∇𝓛(w)‖²."""
    _quadratic(objective)
    w = np.asarray(w, dtype=float)
    g = objective.grad(w)
    rows = []
    for lr in lrs:
        exact, guess = objective(w - lr * g), objective(w) - lr * g @ g
        rows.append(f"α = {lr:<5} 𝓛(w − α∇𝓛) = {exact:7.4f}   first-order guess = {guess:8.4f}")
    return "\n".join(rows)


def threshold_table(objective: Objective, w0, ratios, *, steps: int, tol: float = 1e-6) -> str:
    """Runs at α = ratio · 2/L: the predicted rate, the first step with 𝓛 ≤ ``tol``, and the verdict."""
    mu, L = _quadratic(objective)
    ratios = np.asarray(ratios, dtype=float)
    runs = descent.run(objective, w0, ratios * theory.critical_lr(L), steps=steps)
    reached = runs.steps_to(tol)
    tol_text = f"{tol:g}".replace("e-0", "e-")  # 1e-6, not 1e-06
    rows = [f"α/(2/L)     α   rate  steps to 𝓛≤{tol_text}  what happened"]
    for i, ratio in enumerate(ratios):
        lr, when = runs.lrs[i], reached[i] if reached[i] >= 0 else "never"
        verdict = descent.describe(runs, i, objective.minimizers)
        rows.append(f"{ratio:7.2f} {lr:5.3f} {theory.rate(lr, L, mu):5.2f} {when:>16}  {verdict}")
    return "\n".join(rows)


def rate_table(objective: Objective, w0, lrs, *, steps: int, reference: float) -> str:
    """Per α: the predicted rate max|1 − αλ| and the one measured over the second half of ``steps``
    steps (``descent.measured_rate``); α is also given as a multiple of ``reference``."""
    mu, L = _quadratic(objective)
    lrs = np.asarray(lrs, dtype=float)
    runs = descent.run(objective, w0, lrs, steps=steps)
    distance = np.linalg.norm(runs.path - objective.minimizers[0], axis=-1)
    measured = descent.measured_rate(distance[steps // 2:])
    rows = ["  α/α*       α   predicted rate   measured rate"]
    for lr, predicted, got in zip(lrs, theory.rate(lrs, L, mu), measured):
        rows.append(f"{lr / reference:6.2f} {lr:7.4f} {predicted:14.4f} {got:15.4f}")
    return "\n".join(rows)


def coordinates_table(objective: Objective, w0, lr: float, *, steps: int) -> str:
    """The iterates' coordinates c_λ along each eigenvector of the Hessian, step by step, then
    each coordinate's measured ratio c(t+1)/c(t) against the predicted factor 1 − αλ."""
    _quadratic(objective)
    lams, vectors = np.linalg.eigh(_hessian(objective))
    coords = descent.run(objective, w0, [lr], steps=steps).path[:, 0] @ vectors
    names = ["μ", "L"] if len(lams) == 2 else [f"{j + 1}" for j in range(len(lams))]
    rows = [" t " + "".join(f"{f'c_{name} (λ={lam:g})':>13}" for name, lam in zip(names, lams))]
    rows += [f"{t:2d} " + "".join(f"{c:13.4f}" for c in row) for t, row in enumerate(coords)]
    for j, lam in enumerate(lams):
        ratio = coords[1:, j] / coords[:-1, j]
        rows.append(f"λ = {lam:2g}: c(t+1)/c(t) from {ratio.min():+.4f} to {ratio.max():+.4f}, "
                    f"predicted {1 - lr * lam:+.4f}")
    return "\n".join(rows)


def conditioning_table(kappas, w0, *, angle: float = np.pi / 6, steps: int = 1500, tol: float = 1e-6) -> str:
    """For bowls with μ = 1 and L = κ: the steps until ‖w − w*‖ has shrunk by ``tol``, predicted
    (``theory.steps_to_tolerance``) and measured, at α* = 2/(L + μ) and at α = 1/L."""
    rows = ["        α* = 2/(L+μ)                α = 1/L",
            "    κ   predicted measured steps/κ  predicted measured"]
    for kappa in kappas:
        bowl = objectives.quadratic((1.0, float(kappa)), angle=angle)
        lrs = np.array([theory.optimal_lr(kappa, 1.0), 1.0 / kappa])
        distance = np.linalg.norm(descent.run(bowl, w0, lrs, steps=steps).path, axis=-1)
        below = distance <= tol * distance[0]
        got = np.where(below.any(axis=0), below.argmax(axis=0), -1)  # the first step below; −1: never
        want = [theory.steps_to_tolerance(lr, kappa, 1.0, tol) for lr in lrs]
        rows.append(f"{kappa:5d} {want[0]:11d} {got[0]:8d} {got[0] / kappa:7.1f} {want[1]:10d} {got[1]:8d}")
    return "\n".join(rows)
