"""μP's per-layer multipliers against Yang et al. (2022), Table 3; the gradient noise scale of
McCandlish et al. (2018) on problems where tr(Σ) and |G|² are known; the scale-invariant equilibrium."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrcourse.core import descent, objectives, scaling
from lrcourse.engine import noise

# Table 3 of Tensor Programs V, written as exponents (a, b) of fan_in^a · fan_out^b, μP then SP.
# Rows: initial variance, SGD learning rate, Adam learning rate; columns: the kinds of parameter.
TABLE_3 = {
    "init_var": {"input": ((-1, 0), (-1, 0)), "bias": ((-1, 0), (-1, 0)),
                 "output": ((-2, 0), (-1, 0)), "hidden": ((-1, 0), (-1, 0))},
    "sgd": {"input": ((0, 1), (0, 0)), "bias": ((0, 1), (0, 0)),
            "output": ((-1, 0), (0, 0)), "hidden": ((0, 0), (0, 0))},
    "adam": {"input": ((0, 0), (0, 0)), "bias": ((0, 0), (0, 0)),
             "output": ((-1, 0), (0, 0)), "hidden": ((-1, 0), (0, 0))},
}
# (kind, fan_in, fan_out, base_fan_in, base_fan_out) for a 64 → n → n → 10 MLP at n = 256, base 64
SHAPES = [("input", 64, 256, 64, 64), ("hidden", 256, 256, 64, 64), ("output", 256, 10, 64, 10),
          ("bias", 1, 256, 1, 64), ("bias", 1, 10, 1, 10)]


def ratio(exponents, fan_in, fan_out, base_in, base_out):
    """μP over SP, each relative to the base shape: (fan_in/base)^(a_μP − a_SP) · (fan_out/base)^(…)."""
    (a_mup, b_mup), (a_sp, b_sp) = exponents
    return (fan_in / base_in) ** (a_mup - a_sp) * (fan_out / base_out) ** (b_mup - b_sp)


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}-{s[1]}x{s[2]}")
def test_mup_multipliers_follow_table_3(optimizer, shape):
    kind = shape[0]
    got = scaling.mup_multipliers(*shape, optimizer=optimizer)
    expected_var = ratio(TABLE_3["init_var"][kind], *shape[1:])
    expected_lr = ratio(TABLE_3["sgd" if optimizer == "sgd" else "adam"][kind], *shape[1:])
    assert got.init_std ** 2 == pytest.approx(expected_var)
    assert got.lr == pytest.approx(expected_lr)


def test_mup_multipliers_by_hand_and_at_the_base_shape():
    # width 4× the base: SGD gives input weights 4α and output weights α/4; Adam hidden α/4
    assert scaling.mup_multipliers("input", 64, 256, 64, 64, "sgd") == (1.0, 4.0)
    assert scaling.mup_multipliers("output", 256, 10, 64, 10, "sgd") == (0.5, 0.25)
    assert scaling.mup_multipliers("hidden", 256, 256, 64, 64, "adam") == (1.0, 0.25)
    for kind in scaling.LAYER_KINDS:
        for opt in scaling.MUP_OPTIMIZERS:
            assert scaling.mup_multipliers(kind, 64, 64, 64, 64, opt) == (1.0, 1.0)


@pytest.mark.parametrize("args, name", [
    (("conv", 4, 4, 4, 4), "kind"), (("input", 0, 4, 4, 4), "fan_in"), (("input", 4, -1, 4, 4), "fan_out"),
    (("input", 4, 4, 2.5, 4), "base_fan_in"), (("input", 4, 4, 4, 0), "base_fan_out")])
def test_mup_multipliers_bad_input(args, name):
    with pytest.raises(ValueError, match=name):
        scaling.mup_multipliers(*args)
    with pytest.raises(ValueError, match="optimizer"):
        scaling.mup_multipliers("input", 4, 4, 4, 4, optimizer="rmsprop")


def test_noise_scale_recovers_exact_expectations():
    """Fed the exact E|G_B|² = |G|² + tr(Σ)/B, the estimator returns |G|² and tr(Σ) exactly."""
    grad_sq, trace = 2.0, 50.0
    est = scaling.noise_scale([grad_sq + trace / 8], [grad_sq + trace / 64], 8, 64)
    assert est.grad_sq == pytest.approx(grad_sq) and est.trace == pytest.approx(trace)
    assert est.b_simple == pytest.approx(25.0)


def test_noise_scale_on_gaussian_per_example_gradients():
    """Per-example gradients g = G + Σ^½ξ with known G and Σ: mini-batch means at B = 4 and 64."""
    rng = np.random.default_rng(0)
    dim = 20
    G = rng.normal(size=dim) * 0.5
    scales = np.linspace(0.5, 3.0, dim)                  # Σ = diag(scales²)
    exact_trace, exact_grad_sq = float((scales ** 2).sum()), float(G @ G)

    def sq_norms(b, draws):
        g = G + scales * rng.normal(size=(draws, b, dim))
        return (g.mean(axis=1) ** 2).sum(axis=1)

    est = scaling.noise_scale(sq_norms(4, 20000), sq_norms(64, 20000), 4, 64)
    assert est.trace == pytest.approx(exact_trace, rel=0.03)
    assert est.grad_sq == pytest.approx(exact_grad_sq, rel=0.05)
    assert est.b_simple == pytest.approx(exact_trace / exact_grad_sq, rel=0.08)


@pytest.mark.parametrize("kwargs, match", [
    (dict(b_small=8, b_big=8), "b_big"), (dict(b_small=0, b_big=8), "b_small"),
    (dict(b_small=2, b_big=8, small=[-1.0]), "small_sq_norms"), (dict(b_small=2, b_big=8, big=[]), "big_sq_norms")])
def test_noise_scale_bad_input(kwargs, match):
    small, big = kwargs.pop("small", [1.0]), kwargs.pop("big", [0.5])
    with pytest.raises(ValueError, match=match):
        scaling.noise_scale(small, big, **kwargs)


def test_engine_noise_scale_on_linear_regression():
    """Least squares ½(xᵀw − y)²: per-example gradients x(xᵀw − y), known exactly; the two-batch
    estimate from torch mini-batches agrees with the exact per-example tr(Σ) and |G|²."""
    torch.manual_seed(0)
    n, d = 400, 5
    x, w_true = torch.randn(n, d, dtype=torch.float64), torch.randn(d, dtype=torch.float64)
    y = x @ w_true + 0.5 * torch.randn(n, dtype=torch.float64)
    model = torch.nn.Linear(d, 1, bias=False).double()

    def loss(m, xb, yb):
        return 0.5 * (m(xb)[:, 0] - yb).pow(2).mean()

    residual = (x @ model.weight.detach()[0] - y)
    per_example = x * residual[:, None]
    G = per_example.mean(0)
    exact = noise.exact_noise_scale(model, loss, x, y)
    assert exact.grad_sq == pytest.approx(G.pow(2).sum().item())
    assert exact.trace == pytest.approx((per_example - G).pow(2).sum(1).mean().item())
    est = noise.measure_noise_scale(model, loss, x, y, b_small=2, b_big=64, draws=3000, seed=1)
    assert est.trace == pytest.approx(exact.trace, rel=0.1)
    assert est.b_simple == pytest.approx(exact.b_simple, rel=0.15)


def test_batch_gradient_sq_norms_bad_input_and_model_unchanged():
    model = torch.nn.Linear(3, 2)
    before = [p.clone() for p in model.parameters()]
    x, y = torch.randn(10, 3), torch.randint(2, (10,))
    norms = noise.batch_gradient_sq_norms(model, lambda m, a, b: F.cross_entropy(m(a), b), x, y, 4, 3)
    assert norms.shape == (3,) and np.all(norms > 0)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    with pytest.raises(ValueError, match="batch_size"):
        noise.batch_gradient_sq_norms(model, lambda m, a, b: F.cross_entropy(m(a), b), x, y, 0, 3)


def test_equilibrium_angle():
    assert scaling.equilibrium_angle(0.5, 0.01) == pytest.approx(0.1)
    assert np.allclose(scaling.equilibrium_angle(np.array([0.1, 1.0]), 0.005), np.sqrt([0.001, 0.01]))
    with pytest.raises(ValueError, match="weight_decay"):
        scaling.equilibrium_angle(0.1, -1.0)


def test_noisy_final_positions():
    wells = objectives.gaussian_wells(weights=(0.5, 0.5))
    starts = np.linspace(0.7, 1.3, 5)                         # all in the sharp valley at +1
    ends = descent.noisy_final_positions(wells, starts, [0.02, 0.02], [0.0, 0.0], 300)
    assert ends.shape == (2, 5) and np.allclose(ends, 1.0, atol=1e-3)       # no noise: gradient descent
    noisy = descent.noisy_final_positions(wells, starts, [0.05], [30.0], 2000, seed=0)
    assert np.mean(noisy < 0) > 0.5                            # strong noise: most escape to the flat one
    with pytest.raises(ValueError, match="noises"):
        descent.noisy_final_positions(wells, starts, [0.1, 0.2], [1.0], 10)
    with pytest.raises(ValueError, match="steps"):
        descent.noisy_final_positions(wells, starts, [0.1], [1.0], 0)
