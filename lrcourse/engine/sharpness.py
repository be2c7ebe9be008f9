"""The sharpness of a loss: the largest eigenvalue of its Hessian, by power iteration or Lanczos.

On a quadratic, gradient descent at learning rate α is stable exactly when
α < 2/λ_max, with λ_max the largest eigenvalue of the Hessian H (chapter 2).
Near the current weights a network's loss is close to a quadratic, so λ_max of
the Hessian there, the *sharpness*, plays the same part.

H has n² entries for n weights, too many to form. Power iteration needs only
products H·v, and a Hessian-vector product costs about two backward passes
(differentiate the directional derivative ∇L·v once more, "double backward")::

    g  = ∇L(θ)                         (built once, with create_graph=True)
    Hv = ∇(g · v)                      (one more backward per product)

    v ← v / ‖v‖;   repeat:   w = Hv,   λ = vᵀw,   stop when ‖w − λv‖ ≤ tol·|λ|,   v ← w / ‖w‖

This finds the eigenvalue of largest *magnitude*. If that one is negative (a
saddle, not a bowl, dominates), the top eigenvalue is found by a second power
iteration on the shifted matrix H + ρI, with ρ ≈ max |λ|, whose eigenvalues are
all ≥ 0 and whose largest is λ_max + ρ.

Power iteration converges at the rate |λ₂/λ₁| per product: slowly when the top eigenvalues
are close (17.5 and 17.2 need hundreds of products). The Lanczos method (``method="lanczos"``,
ARPACK through scipy's ``eigsh`` on a ``LinearOperator`` of the same products) builds a Krylov
basis of the products and converges at a rate set by the gap relative to the whole spectrum;
it finds the algebraically largest eigenvalue directly, with no shift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from lrcourse import _checks

Vector = tuple  # of tensors, one per parameter, shaped like the parameters
SHIFT_BELOW = 0.9  # an unconverged vᵀHv below 0.9‖Hv‖ means negative eigenvalues weigh in: shift
METHODS = ("power", "lanczos")
LANCZOS_BASIS = 12  # Lanczos vectors kept between restarts (ARPACK's ncv); enough for one eigenvalue


@dataclass(frozen=True, repr=False)
class Eigenpair:
    """An eigenvalue estimate, its unit eigenvector (one tensor per parameter), the number
    of Hessian-vector products spent, and whether the residual ‖Hv − λv‖ ≤ tol·|λ| was reached
    (``residual``: that relative residual ‖Hv − λv‖/|λ|, when it was measured, else nan)."""

    value: float
    vector: Vector
    products: int
    converged: bool
    residual: float = math.nan

    def __repr__(self) -> str:
        state = "converged" if self.converged else "not converged"
        return f"Eigenpair(value={self.value:.6g}, {self.products} Hessian-vector products, {state})"


def _check_params(params) -> list:
    if isinstance(params, torch.Tensor):
        params = [params]
    params = list(params)
    if not params:
        raise ValueError("Invalid params: [] (expected at least one tensor)")
    for i, p in enumerate(params):
        if not isinstance(p, torch.Tensor) or not p.requires_grad:
            raise ValueError(f"Invalid params: entry {i} is not a tensor that requires grad")
    return params


def _check_loss(loss) -> torch.Tensor:
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ValueError(f"Invalid loss: {shape} (expected a scalar tensor)")
    if not loss.requires_grad:
        raise ValueError("Invalid loss: it does not require grad (compute it from the params, with grad enabled)")
    if not math.isfinite(loss.item()):
        raise ValueError(f"Invalid loss: {loss.item()} (not finite)")
    return loss.reshape(())


def hessian_vector_product(loss: torch.Tensor, params) -> Callable[[Vector], Vector]:
    """The function v ↦ Hv for the Hessian H of ``loss`` with respect to ``params``.

    ``v`` and the result are tuples of tensors shaped like ``params``. The gradient is
    built once (``create_graph=True``); each product is one more backward pass through it.
    Parameters the loss does not depend on get zero rows and columns.
    """
    loss = _check_loss(loss)
    params = _check_params(params)
    grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    # Only gradients that still depend on the weights have a second derivative to take.
    used = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]

    def product(v: Vector) -> Vector:
        out = [torch.zeros_like(p) for p in params]
        if used:
            hv = torch.autograd.grad([grads[i] for i in used], [params[i] for i in used],
                                     grad_outputs=[v[i] for i in used], retain_graph=True, allow_unused=True)
            for i, h in zip(used, hv):
                if h is not None:
                    out[i] = h.detach()
        return tuple(out)

    return product


def _dot(a: Vector, b: Vector) -> float:
    return float(sum((x.double() * y.double()).sum() for x, y in zip(a, b)))


def _norm(a: Vector) -> float:
    return math.sqrt(_dot(a, a))


def power_iteration(matvec: Callable[[Vector], Vector], v0: Vector, *, iters: int = 100,
                    tol: float = 1e-3) -> Eigenpair:
    """The eigenvalue of largest magnitude of a symmetric operator ``matvec``, from start ``v0``.

    Each iteration: w = Av, λ = vᵀw (the Rayleigh quotient, v a unit vector), stop when the
    residual ‖w − λv‖ ≤ tol·|λ|, else v ← w/‖w‖. Converges at the rate |λ₂/λ₁| per
    iteration; ``converged`` is False when ``iters`` products were not enough.

    The residual test certifies that λ is within tol·|λ| of *an* eigenvalue, not that it is the
    dominant one: when the top two are close and ``v0`` has little of the top eigenvector, a
    loose ``tol`` can stop near the second. Keep ``tol`` small against the relative gap.
    """
    iters, tol = _checks.positive_int(iters, "iters"), float(_checks.positive(tol, "tol value"))
    norm = _norm(v0)
    if not math.isfinite(norm) or norm == 0:
        raise ValueError(f"Invalid init: a vector of norm {norm} (expected a finite, non-zero vector)")
    v = tuple(x / norm for x in v0)
    value = 0.0
    for k in range(1, iters + 1):
        w = matvec(v)
        value = _dot(v, w)
        residual = _norm(tuple(wi - value * vi for wi, vi in zip(w, v)))
        if not math.isfinite(residual):
            raise ValueError("Invalid operator: a product was not finite")
        if residual <= tol * abs(value):
            return Eigenpair(value, v, k, True)
        size = _norm(w)
        if size == 0:                       # v is in the null space: 0 is an eigenvalue
            return Eigenpair(0.0, v, k, True)
        v = tuple(wi / size for wi in w)
    return Eigenpair(value, v, iters, False)


def _flatten(v: Vector) -> np.ndarray:
    return np.concatenate([x.detach().double().reshape(-1).numpy() for x in v])


def _unflatten(flat: np.ndarray, like: Vector) -> Vector:
    out, start = [], 0
    for x in like:
        out.append(torch.from_numpy(flat[start:start + x.numel()].copy()).view(x.shape).to(x.dtype))
        start += x.numel()
    return tuple(out)


def lanczos(matvec: Callable[[Vector], Vector], v0: Vector, *, tol: float = 1e-4,
            max_products: int = 1000) -> Eigenpair:
    """The algebraically largest eigenvalue of a symmetric operator ``matvec``, by the implicitly
    restarted Lanczos method (``scipy.sparse.linalg.eigsh(op, k=1, which="LA")``), from ``v0``.

    ARPACK stops when the Ritz value's residual ‖Av − λv‖ ≤ ``tol``·|λ|; the residual is then
    measured once more here (one extra product) and ``converged`` is that test. When
    ``max_products`` are spent first, ``converged`` is False and the value is the best Rayleigh
    quotient seen, a lower bound on λ_max.
    """
    max_products = _checks.positive_int(max_products, "max_products")
    tol = float(_checks.positive(tol, "tol value"))
    start = _flatten(v0)
    norm = float(np.linalg.norm(start))
    if not math.isfinite(norm) or norm == 0:
        raise ValueError(f"Invalid init: a vector of norm {norm} (expected a finite, non-zero vector)")
    n = start.size
    count = [0]

    def apply(flat):
        count[0] += 1
        out = _flatten(matvec(_unflatten(np.asarray(flat, dtype=float).reshape(-1), v0)))
        if not np.all(np.isfinite(out)):
            raise ValueError("Invalid operator: a product was not finite")
        return out

    def residual_of(vector: np.ndarray) -> tuple[float, float]:
        w = apply(vector)
        value = float(vector @ w)
        return value, float(np.linalg.norm(w - value * vector)) / max(abs(value), 1e-300)

    if n <= 2:                     # ARPACK needs n > k + 1: two weights are one explicit 2 × 2 problem
        basis = np.eye(n)
        matrix = np.column_stack([apply(e) for e in basis])
        _, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
        vector = vectors[:, -1]
    else:
        basis = min(LANCZOS_BASIS, n - 1)
        # ARPACK counts restarts, not products: each restart costs at most `basis` − 1 products.
        restarts = max(1, (max_products - basis) // max(basis - 1, 1) + 1)
        op = LinearOperator((n, n), matvec=apply, dtype=np.float64)
        try:
            _, vectors = eigsh(op, k=1, which="LA", v0=start / norm, ncv=basis, tol=tol, maxiter=restarts)
            vector = vectors[:, 0]
        except ArpackNoConvergence as err:
            vector = err.eigenvectors[:, 0] if err.eigenvectors.size else start / norm
    vector = vector / np.linalg.norm(vector)
    value, residual = residual_of(vector)
    return Eigenpair(value, _unflatten(vector, v0), count[0], residual <= tol, residual)


def _start(params: Sequence[torch.Tensor], init, seed: int) -> Vector:
    if init is None:
        generator = torch.Generator().manual_seed(seed)
        return tuple(torch.randn(p.shape, generator=generator, dtype=p.dtype) for p in params)
    init = tuple(init) if not isinstance(init, torch.Tensor) else (init,)
    if len(init) != len(params) or any(tuple(a.shape) != tuple(p.shape) for a, p in zip(init, params)):
        got = [tuple(a.shape) for a in init]
        raise ValueError(f"Invalid init: shapes {got} (expected the shapes of params, "
                         f"{[tuple(p.shape) for p in params]})")
    return tuple(a.detach().to(p.dtype) for a, p in zip(init, params))


def top_hessian_eigenpair(loss: torch.Tensor, params, *, iters: int = 100, tol: float = 1e-3,
                          init=None, seed: int = 0, method: str = "power") -> Eigenpair:
    """The largest eigenvalue of the Hessian of ``loss`` (a scalar tensor) with respect to
    ``params``, and its eigenvector, by power iteration on Hessian-vector products.

    ``init`` (tensors shaped like ``params``, e.g. the previous eigenvector while tracking
    training) is the starting vector, else a random one from ``seed`` (the global generator
    is not touched). ``iters`` caps the products of each power iteration; ``tol`` is the
    relative residual at which it stops. When the eigenvalue of largest magnitude is
    negative, a second power iteration on H + ρI (ρ ≈ max |λ|) finds the top one.
    ``converged`` False: the value is a lower bound (a Rayleigh quotient), not the answer.

    ``method="lanczos"`` uses :func:`lanczos` instead, with ``iters`` as its cap on products:
    far fewer products when the top eigenvalues are close, and no shift needed.
    """
    iters, tol = _checks.positive_int(iters, "iters"), float(_checks.positive(tol, "tol value"))
    if method not in METHODS:
        raise ValueError(f"Invalid method: {method!r} (expected one of {', '.join(map(repr, METHODS))})")
    params = _check_params(params)
    start = _start(params, init, seed)
    product = hessian_vector_product(loss, params)
    if method == "lanczos":
        return lanczos(product, start, tol=tol, max_products=iters)
    first = power_iteration(product, start, iters=iters, tol=tol)
    if first.converged and first.value >= 0:
        return first
    rho = _norm(product(first.vector))          # ‖Hv‖ ≤ max |λ|, and close to it after the iteration
    if first.value >= SHIFT_BELOW * rho:
        # Positive and still moving (the top eigenvalues are close): a lower bound on λ_max,
        # flagged as not converged. The shift below would only converge more slowly.
        return Eigenpair(first.value, first.vector, first.products + 1, False)
    # The dominant eigenvalue is negative, or λ and −λ are both dominant (v flips between them
    # and vᵀHv stays well below ‖Hv‖): shift the spectrum so that it is ≥ 0, then repeat.
    shifted = power_iteration(lambda v: tuple(h + rho * x for h, x in zip(product(v), v)),
                              start, iters=iters, tol=tol)
    products = first.products + 1 + shifted.products
    if not shifted.converged and first.value > shifted.value - rho:
        # Every Rayleigh quotient is a lower bound on λ_max: keep the better one.
        return Eigenpair(first.value, first.vector, products, False)
    return Eigenpair(shifted.value - rho, shifted.vector, products, shifted.converged)


def top_hessian_eigenvalue(loss: torch.Tensor, params, *, iters: int = 100, tol: float = 1e-3,
                           init=None, seed: int = 0, method: str = "power") -> float:
    """The sharpness: the largest eigenvalue λ_max of the Hessian of ``loss`` with respect to
    ``params``, by power iteration on Hessian-vector products (see :func:`top_hessian_eigenpair`)::

        loss = F.mse_loss(model(x), y)
        top_hessian_eigenvalue(loss, model.parameters())    # gradient descent needs α < 2/λ_max
    """
    return top_hessian_eigenpair(loss, params, iters=iters, tol=tol, init=init, seed=seed, method=method).value
