"""Logistic regression on two digits: the smallest real classifier to watch α at work.

Everything is numpy. Only :func:`load_two_digits` touches scikit-learn, to read the 8×8
digit images it ships with (no download). Labels are y ∈ {0, 1}; the model is

    p(y = 1 | x) = σ(x·w),   σ(z) = 1 / (1 + e^(−z)),

with a constant 1 as the first feature of x, so w[0] is the bias.
"""

from __future__ import annotations

import numbers
from typing import Callable, NamedTuple

import numpy as np

from lrcourse import _checks
from lrcourse.core import optim
from lrcourse.core.descent import BLOWUP  # a run has diverged once ‖w‖ > BLOWUP (or the loss is not finite)


class TwoDigits(NamedTuple):
    """A fixed train/test split of two digit classes; y = 1 for the second digit."""

    X_train: np.ndarray  # (n_train, 65): a column of ones, then 64 standardised pixels
    y_train: np.ndarray  # (n_train,) of 0.0 and 1.0
    X_test: np.ndarray
    y_test: np.ndarray


class Training(NamedTuple):
    """What :func:`train` did.

    losses[t] is the training loss after t steps (losses[0] at w = 0). A run that diverged
    stopped at step ``diverged_at``: ``weights`` and ``losses[diverged_at]`` are the blown-up
    values it reached there, and the later losses are NaN. Otherwise ``diverged_at`` is None.
    """

    losses: np.ndarray
    weights: np.ndarray
    diverged: bool
    diverged_at: int | None


def load_two_digits(a: int, b: int, seed: int = 0, test_fraction: float = 0.3) -> TwoDigits:
    """The images of digits ``a`` (y = 0) and ``b`` (y = 1) from scikit-learn's bundled set.

    The split is random but fixed by ``seed``. Each pixel is standardised with the mean and
    standard deviation of the *training* images (pixels that never change are only centred),
    so the test set plays no part in the preprocessing.
    """
    for digit in (a, b):
        if isinstance(digit, bool) or not isinstance(digit, numbers.Integral) or not 0 <= digit <= 9:
            raise ValueError(f"Invalid digit value: {digit!r} (expected an integer from 0 to 9)")
    if a == b:
        raise ValueError(f"Invalid digits: {a} and {b} (expected two different digits)")
    if not (_checks._is_real(test_fraction) and 0 < test_fraction < 1):
        raise ValueError(f"Invalid test_fraction value: {test_fraction!r} (expected a number in (0, 1))")
    from sklearn.datasets import load_digits  # the only non-numpy import, and only here

    digits = load_digits()
    keep = np.isin(digits.target, (a, b))
    images, y = digits.data[keep], (digits.target[keep] == b).astype(float)

    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    test, train = order[:n_test], order[n_test:]

    mean = images[train].mean(axis=0)
    std = images[train].std(axis=0)
    std[std == 0] = 1.0

    def features(pixels):
        return np.hstack([np.ones((len(pixels), 1)), (pixels - mean) / std])

    return TwoDigits(features(images[train]), y[train], features(images[test]), y[test])


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), computed as exp(−log(1 + e^(−z))) so no e^(...) overflows."""
    return np.exp(-np.logaddexp(0.0, -z))


def loss_and_grad(w, X, y, l2: float = 0.0):
    """The mean cross-entropy plus an L2 penalty, and its gradient.

    With z = X w and p = σ(z)::

        L(w)  = (1/n) Σᵢ [log(1 + e^(zᵢ)) − yᵢ zᵢ]  +  (λ/2) ‖w‖²
        ∇L(w) = (1/n) Xᵀ (p − y)  +  λ w

    The bracket is −[yᵢ log pᵢ + (1 − yᵢ) log(1 − pᵢ)], rewritten so
    that log(1 + e^z) is np.logaddexp(0, z): exact for every z, where
    the textbook form takes log(0) once the model is confidently wrong.
    λ is ``l2``; for simplicity the bias w[0] is penalised too.
    """
    w, X, y = _check_problem(w, X, y)
    _checks.nonnegative(l2, "l2 value")
    z = X @ w
    loss = np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * (w @ w)
    grad = X.T @ (sigmoid(z) - y) / len(y) + l2 * w
    return loss, grad


def train(X, y, lr, steps: int, optimizer: Callable[..., optim.Optimizer] = optim.sgd,
          l2: float = 0.0) -> Training:
    """Full-batch training from w = 0: ``steps`` updates of ``optimizer(lr)`` on :func:`loss_and_grad`.

    With the default ``optim.sgd`` each step is plain gradient descent, w ← w − α ∇L(w).
    A run that diverges (‖w‖ above ``BLOWUP``, or a loss that is not finite) stops there and
    says so, instead of carrying NaNs to the end.
    """
    if not callable(lr):
        _checks.nonnegative(lr, "learning rate")
    steps = _checks.positive_int(steps, "steps")
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1] if X.ndim == 2 else 0)
    opt = optimizer(lr)
    state = opt.init(w)

    losses = np.full(steps + 1, np.nan)
    losses[0], grad = loss_and_grad(w, X, y, l2)
    with np.errstate(all="ignore"):  # an exploding run overflows; it is caught just below
        for t in range(1, steps + 1):
            w, state = opt.step(w, grad, state)
            losses[t], grad = loss_and_grad(w, X, y, l2)
            if not np.isfinite(losses[t]) or np.linalg.norm(w) > BLOWUP:
                return Training(losses, w, True, t)
    return Training(losses, w, False, None)


def accuracy(w, X, y) -> float:
    """The fraction of examples on the right side of the boundary: predict 1 when x·w > 0."""
    w, X, y = _check_problem(w, X, y)
    return float(np.mean((X @ w > 0) == (y == 1)))


def _check_problem(w, X, y):
    w, X, y = (np.asarray(v, dtype=float) for v in (w, X, y))
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"Invalid X: shape {X.shape} (expected a 2-D array (n_examples, n_features))")
    if y.shape != (X.shape[0],):
        raise ValueError(f"Invalid y: shape {y.shape} (expected ({X.shape[0]},), one label per row of X)")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(f"Invalid y: labels {np.unique(y)[:5].tolist()} (expected only 0 and 1)")
    if w.shape != (X.shape[1],):
        raise ValueError(f"Invalid w: shape {w.shape} (expected ({X.shape[1]},), one weight per column of X)")
    return w, X, y
