"""The tanh MLP at several widths, under the standard parametrization and μP; LayerNorm variant."""

import math

import numpy as np
import pytest
import torch

from lrcourse import engine
from lrcourse.cases import mlp
from lrcourse.core import scaling

FAST = dict(steps=20, n_train=64, sharpness=False, loss="cross_entropy")

pytestmark = pytest.mark.usefixtures("one_thread")   # conftest.py

# the runs the edge-of-stability chapter printed, at its defaults and seed 0 (first 3 losses)
SP_REFERENCE = dict(steps=30, n_train=64, hidden=16, sharpness_every=10)


def test_sp_is_the_default_and_mup_at_the_base_width_is_sp():
    sp = mlp.train(0.05, seed=0, **SP_REFERENCE)
    default = mlp.train(0.05, seed=0, parametrization="sp", optimizer="sgd", **SP_REFERENCE)
    mup = mlp.train(0.05, seed=0, parametrization="mup", base_width=16, **SP_REFERENCE)
    assert np.array_equal(sp.loss, default.loss) and np.array_equal(sp.loss, mup.loss)
    assert np.array_equal(sp.logs["sharpness"], mup.logs["sharpness"], equal_nan=True)
    assert "parametrization" not in sp.config and mup.config["parametrization"] == "mup"


def test_sp_run_unchanged_by_the_new_options():
    """The default run, as chapter 9's table printed it, with its own three losses at seed 0."""
    h = mlp.train(0.05, seed=0, **SP_REFERENCE)
    again = mlp.train(0.05, seed=0, batch_size=None, norm=False, base_width=None, **SP_REFERENCE)
    assert np.array_equal(h.loss, again.loss) and h.config["full_batch"]


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_mup_sets_each_layers_lr_and_output_init(optimizer):
    h = mlp.train(1e-3, seed=0, hidden=256, base_width=64, parametrization="mup", optimizer=optimizer,
                  **{**FAST, "steps": 1})
    expected = mlp.layer_scalings(256, 64, optimizer)
    groups = {id(g["params"][0]): g for g in h.optimizer.param_groups}
    for name, p in h.model.named_parameters():
        assert groups[id(p)]["lr"] == pytest.approx(1e-3 * expected[name].lr)
    # the table: SGD input weights ×4 and output weights ×1/4; Adam hidden and output ×1/4
    want = {"sgd": {"net.0.weight": 4.0, "net.2.weight": 1.0, "net.4.weight": 0.25, "net.2.bias": 4.0},
            "adam": {"net.0.weight": 1.0, "net.2.weight": 0.25, "net.4.weight": 0.25, "net.2.bias": 1.0}}
    for name, factor in want[optimizer].items():
        assert expected[name].lr == factor
    assert expected["net.4.weight"].init_std == 0.5


def test_mup_output_init_is_rescaled_from_the_default():
    with engine.repeatable(0):
        default = mlp.TanhMLP(64, 256, 10)
    h = mlp.train(1e-9, seed=0, hidden=256, base_width=64, parametrization="mup", **{**FAST, "steps": 1})
    out = dict(h.model.named_parameters())
    torch.testing.assert_close(out["net.4.weight"], default.net[4].weight * 0.5, rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(out["net.2.weight"], default.net[2].weight, rtol=1e-5, atol=1e-9)


def test_width_sweep_and_minibatches():
    s = mlp.width_sweep([0.01, 0.1], widths=(16, 32), parametrization="mup", base_width=16, optimizer="adam",
                        batch_size=16, **FAST)
    assert set(s) == {16, 32} and all(len(v) == 2 for v in s.values())
    h = s[32][0.01, 0]
    assert h.config["hidden"] == 32 and h.config["batch_size"] == 16 and not h.config["full_batch"]
    assert np.isnan(h.logs["sharpness"]).all() and h.loss.shape == (20,)


def test_norm_logs_weight_norm_and_angle_and_is_scale_invariant():
    h = mlp.train(0.5, seed=0, hidden=16, norm=True, batch_size=16, weight_decay=0.01, **FAST)
    norms, angles = h.logs["hidden_norm"], h.logs["hidden_angle"]
    assert norms.shape == (20,) and math.isnan(angles[0]) and np.all(angles[1:] > 0)
    model = mlp.TanhMLP(64, 16, 10, norm=True)
    x = torch.randn(5, 64)
    before = model(x)
    with torch.no_grad():
        model.net[3].weight.mul_(7.0)
        model.net[0].weight.mul_(0.3)
    torch.testing.assert_close(model(x), before, rtol=0, atol=1e-3)    # up to LayerNorm's ε


@pytest.mark.parametrize("kwargs, match", [
    (dict(parametrization="ntk"), "parametrization"), (dict(parametrization="mup", optimizer="rmsprop"), "optimizer"),
    (dict(base_width=0), "base_width"), (dict(batch_size=1000), "batch_size"), (dict(batch_size=0), "batch_size"),
    (dict(sharpness_every=-1), "sharpness_every"), (dict(norm="yes"), "norm"), (dict(sharpness=1), "sharpness")])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        mlp.train(0.1, **{**FAST, **kwargs})


def test_width_sweep_bad_input():
    with pytest.raises(ValueError, match="widths"):
        mlp.width_sweep([0.1], widths=(16, 16), **FAST)
    with pytest.raises(ValueError, match="widths"):
        mlp.width_sweep([0.1], widths=(0,), **FAST)


def test_engine_rejects_unknown_lr_scales():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="lr_scales"):
        engine.Problem(model=model, loss=lambda f, b: f(b).sum(), batches=[], steps=1, lr_scales={"nope": 2.0})
    with pytest.raises(ValueError, match="lr_scales"):
        engine.Problem(model=model, loss=lambda f, b: f(b).sum(), batches=[], steps=1, lr_scales={"weight": 0.0})
    assert scaling.MUP_OPTIMIZERS == ("sgd", "adam", "adamw")
