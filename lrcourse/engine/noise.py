"""The gradient noise of a model's training loss: how far a mini-batch gradient is from the full one.

* :func:`batch_gradient_sq_norms` — |G_B|² for mini-batches of B examples drawn with replacement;
* :func:`measure_noise_scale` — McCandlish et al.'s (2018) B_simple = tr(Σ)/|G|² from two batch
  sizes (:func:`lrcourse.core.scaling.noise_scale`);
* :func:`exact_noise_scale` — the same quantities from every per-example gradient
  (``torch.func``), feasible on a small data set and the reference the estimate is checked against.

``loss(model, x, y)`` is the mean loss of a batch (e.g. ``lambda m, x, y: F.cross_entropy(m(x), y)``).
"""

from __future__ import annotations

import numpy as np
import torch

from lrcourse import _checks
from lrcourse.core import scaling


def _flat_grad(model, loss, x, y) -> torch.Tensor:
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss(model, x, y), params)
    return torch.cat([g.reshape(-1) for g in grads])


def batch_gradient_sq_norms(model, loss, x, y, batch_size: int, draws: int, *, seed: int = 0) -> np.ndarray:
    """|G_B|² for ``draws`` mini-batches of ``batch_size`` examples drawn with replacement from (x, y).

    Drawing with replacement makes E|G_B|² = |G|² + tr(Σ)/B exact for the empirical distribution
    (Σ the covariance of one example's gradient, normalised by n). The model is not changed.
    """
    batch_size = _checks.positive_int(batch_size, "batch_size")
    draws = _checks.positive_int(draws, "draws")
    generator = torch.Generator().manual_seed(_checks.seed(seed))
    norms = np.empty(draws)
    for i in range(draws):
        index = torch.randint(len(y), (batch_size,), generator=generator)
        norms[i] = _flat_grad(model, loss, x[index], y[index]).pow(2).sum().item()
    return norms


def measure_noise_scale(model, loss, x, y, *, b_small: int, b_big: int, draws: int = 20,
                        seed: int = 0) -> scaling.NoiseScale:
    """B_simple = tr(Σ)/|G|² from ``draws`` mini-batch gradients at each of two batch sizes."""
    small = batch_gradient_sq_norms(model, loss, x, y, b_small, draws, seed=seed)
    big = batch_gradient_sq_norms(model, loss, x, y, b_big, draws, seed=seed + 1)
    return scaling.noise_scale(small, big, b_small, b_big)


def exact_noise_scale(model, loss, x, y) -> scaling.NoiseScale:
    """|G|², tr(Σ) and their ratio from all n per-example gradients g_i:
    G = mean g_i, tr(Σ) = mean |g_i − G|²."""
    params = {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}

    def one(p, xi, yi):
        return loss(lambda inputs: torch.func.functional_call(model, p, (inputs,)), xi[None], yi[None])

    per_example = torch.func.vmap(torch.func.grad(one), in_dims=(None, 0, 0))(params, x, y)
    g = torch.cat([v.reshape(len(y), -1) for v in per_example.values()], dim=1).double()
    mean = g.mean(0)
    grad_sq = mean.pow(2).sum().item()
    trace = (g - mean).pow(2).sum(1).mean().item()
    return scaling.NoiseScale(grad_sq, trace, trace / grad_sq)


def cross_entropy(model, x, y) -> torch.Tensor:
    """The mean cross-entropy of ``model`` on a batch: the loss these functions take by default."""
    return torch.nn.functional.cross_entropy(model(x), y)
