"""How the learning rate should scale with the width of a network and with the batch size.

* μP, the maximal-update parametrization (Yang et al., 2022, "Tensor Programs V", Table 3):
  per-layer initialisation and learning-rate multipliers that make the best α of a network
  independent of its width, so that α tuned on a narrow model transfers to a wide one.
  :func:`mup_multipliers` gives them for one layer, relative to the standard parametrization
  (SP) and to a base shape where μP and SP coincide.
* The gradient noise scale B_simple = tr(Σ)/|G|² (McCandlish et al., 2018), estimated from the
  squared norms of mini-batch gradients at two batch sizes (their appendix A):
  :func:`noise_scale`.
* The equilibrium of a scale-invariant weight (one followed by a normalization layer) under SGD
  with weight decay: :func:`equilibrium_angle`.

numpy only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from lrcourse import _checks

LAYER_KINDS = ("input", "hidden", "output", "bias")
"""The kinds of parameter of Table 3: input weights (finite fan_in, width-sized fan_out), hidden
weights (both width-sized), output weights (width-sized fan_in, finite fan_out) and biases
(fan_in 1, fan_out their size)."""

MUP_OPTIMIZERS = ("sgd", "adam", "adamw")


class LayerScaling(NamedTuple):
    """Multipliers for one parameter tensor, relative to the standard parametrization:
    its initial weights are multiplied by ``init_std`` and its learning rate by ``lr``."""

    init_std: float
    lr: float


def mup_multipliers(kind: str, fan_in: int, fan_out: int, base_fan_in: int, base_fan_out: int,
                    optimizer: str = "sgd") -> LayerScaling:
    """μP's multipliers for one parameter, relative to SP (Yang et al., 2022, Table 3).

    Table 3, μP (SP in parentheses), up to constants set at the base shape::

                       input weights, biases   output weights       hidden weights
        init. var.     1/fan_in                1/fan_in² (1/fan_in)  1/fan_in
        SGD LR         fan_out (1)             1/fan_in (1)          1
        Adam LR        1                       1/fan_in (1)          1/fan_in (1)

    With the width ratios m_in = fan_in/base_fan_in and m_out = fan_out/base_fan_out, the
    multipliers are: the output weights' initial std × 1/√m_in; SGD: α × m_out for input weights
    and biases, × 1/m_in for output weights; Adam (and AdamW): α × 1/m_in for hidden and output
    weights. At the base shape every multiplier is 1, so μP equals SP there.
    """
    kind = _checks.one_of(kind, "kind", LAYER_KINDS)
    optimizer = _checks.one_of(optimizer.lower() if isinstance(optimizer, str) else optimizer,
                               "optimizer", MUP_OPTIMIZERS)
    fan_in, fan_out = _checks.positive_int(fan_in, "fan_in"), _checks.positive_int(fan_out, "fan_out")
    base_fan_in = _checks.positive_int(base_fan_in, "base_fan_in")
    base_fan_out = _checks.positive_int(base_fan_out, "base_fan_out")
    m_in, m_out = fan_in / base_fan_in, fan_out / base_fan_out
    init_std = 1 / math.sqrt(m_in) if kind == "output" else 1.0
    if optimizer == "sgd":
        lr = {"input": m_out, "bias": m_out, "hidden": 1.0, "output": 1 / m_in}[kind]
    else:
        lr = {"input": 1.0, "bias": 1.0, "hidden": 1 / m_in, "output": 1 / m_in}[kind]
    return LayerScaling(init_std, lr)


class NoiseScale(NamedTuple):
    """The estimates of McCandlish et al. (2018), appendix A: |G|², tr(Σ) and B_simple = tr(Σ)/|G|²."""

    grad_sq: float
    trace: float
    b_simple: float


def noise_scale(small_sq_norms, big_sq_norms, b_small: int, b_big: int) -> NoiseScale:
    """B_simple = tr(Σ)/|G|² from squared norms of mini-batch gradients at two batch sizes.

    A mini-batch gradient G_B (B examples drawn independently) has E|G_B|² = |G|² + tr(Σ)/B,
    with G the full gradient and Σ the covariance of one example's gradient. Two batch sizes
    b_small < b_big give two equations, hence the unbiased estimates

        |G|²  ≈ (b_big·|G_big|² − b_small·|G_small|²) / (b_big − b_small)
        tr(Σ) ≈ (|G_small|² − |G_big|²) / (1/b_small − 1/b_big)

    each averaged over the draws before the ratio is taken (the ratio of means, as in the paper).
    """
    b_small, b_big = _checks.positive_int(b_small, "b_small"), _checks.positive_int(b_big, "b_big")
    if b_big <= b_small:
        raise ValueError(f"Invalid b_big value: {b_big} (expected more than b_small = {b_small})")
    small, big = (np.asarray(v, dtype=float).reshape(-1) for v in (small_sq_norms, big_sq_norms))
    for name, values in (("small_sq_norms", small), ("big_sq_norms", big)):
        if values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"Invalid {name}: expected squared norms, finite and ≥ 0 (got {values.size} values)")
    small_mean, big_mean = small.mean(), big.mean()
    grad_sq = (b_big * big_mean - b_small * small_mean) / (b_big - b_small)
    trace = (small_mean - big_mean) / (1 / b_small - 1 / b_big)
    return NoiseScale(float(grad_sq), float(trace), float(trace / grad_sq) if grad_sq > 0 else math.inf)


def equilibrium_angle(lr, weight_decay):
    """The angle a scale-invariant weight turns per SGD step once its norm has settled: √(2αλ).

    For a weight w whose loss does not depend on |w| (a layer followed by a normalization), the
    gradient is orthogonal to w and scales as 1/|w|, so one step of SGD with weight decay λ gives
    |w'|² = (1 − αλ)²|w|² + α²|g|². The norm settles where the decay and the gradient's push
    balance, 2αλ|w|² ≈ α²|g|², and there the angle α|g|/|w| per step is √(2αλ) (van Laarhoven,
    2017; Li & Arora, 2020; Wan et al., 2021): α and λ act only through their product.
    """
    lr = np.asarray(_checks.nonnegative(lr, "lr"), dtype=float)
    weight_decay = np.asarray(_checks.nonnegative(weight_decay, "weight_decay"), dtype=float)
    return np.sqrt(2 * lr * weight_decay)
