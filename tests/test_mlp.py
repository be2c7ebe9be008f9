"""The tanh-MLP case: full-batch gradient descent with the sharpness tracked (the edge of stability)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrcourse.data import images as data
from lrcourse import engine
from lrcourse.cases import mlp
from lrcourse.results import analysis
from lrcourse.engine.sharpness import top_hessian_eigenvalue

FAST = dict(steps=30, n_train=64, hidden=16, sharpness_every=10)


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest.py


def test_history_of_a_short_run():
    h = mlp.train(0.05, seed=0, **FAST)
    assert not h.diverged and h.steps == 30 and h.loss.shape == (30,)
    lam = h.logs["sharpness"]
    assert lam.shape == (30,)
    assert list(np.flatnonzero(np.isfinite(lam))) == [0, 10, 20]    # before steps 0, 10, 20
    assert set(h.logs["converged"][[0, 10, 20]]) <= {0.0, 1.0}
    steps, values = analysis.sharpness_curve(h)
    assert list(steps) == [0, 10, 20] and np.all(values > 0)
    assert h.config["case"] == "mlp" and h.config["full_batch"] and h.config["loss"] == "mse"
    assert h.metric_name == "test accuracy" and 0 <= h.final <= 1
    assert np.all(np.diff(h.loss) < 0)          # a small α on the full batch: a descent method


def test_the_first_measurement_is_the_sharpness_of_the_initial_weights():
    h = mlp.train(0.05, seed=3, **FAST)
    x, y, _, _ = mlp.subset(64)
    with engine.repeatable(3):
        model = mlp.TanhMLP(64, 16, 10)            # what problem() builds first for seed 3
    loss = mlp.criterion("mse")(model(x), y)
    exact = top_hessian_eigenvalue(loss, model.parameters(), iters=2000, tol=1e-6)
    assert h.logs["sharpness"][0] == pytest.approx(exact, rel=1e-3)


def test_mse_is_half_the_squared_distance_to_one_hot():
    out = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    y = torch.tensor([0, 2])
    assert mlp.criterion("mse")(out, y).item() == pytest.approx(0.5 * (0 + 0.5) / 2)
    assert mlp.criterion("cross_entropy") is F.cross_entropy


def test_sharpness_settles_at_two_over_alpha():
    """The chapter's claim, short: at α = 0.16 the sharpness climbs from 11.4 and hovers at 2/α = 12.5
    (a few % above it; the chapter's 1500 steps measure 3.6 %)."""
    h = mlp.train(0.16, seed=0, steps=400, sharpness_every=20)
    steps, lam = analysis.sharpness_curve(h)
    edge = 2 / 0.16
    assert not h.diverged and lam[0] < 0.95 * edge
    assert 0.98 * edge < analysis.plateau(h) < 1.1 * edge
    assert lam[steps >= 200].max() < 1.3 * edge               # it does not keep sharpening
    assert np.all(np.diff(h.loss[:40]) < 0)                   # a descent method below the edge...
    assert np.mean(np.diff(h.loss[200:]) > 0) > 0.1          # ...and no longer monotone at it


def test_far_above_the_edge_the_run_diverges_and_is_reported():
    h = mlp.train(1.0, seed=0, **FAST)
    assert h.diverged and 0 < h.diverged_at < 30
    assert len(h.logs["sharpness"]) == len(h.loss)           # one entry per loss call, the last one too
    assert not math.isfinite(h.diverged_loss) or h.diverged_loss > 10 * max(h.loss[0], 0.5)


def test_same_seed_same_run_other_seed_differs():
    a, b, c = (mlp.train(0.1, seed=s, **FAST) for s in (1, 1, 2))
    assert np.array_equal(a.loss, b.loss)
    assert np.array_equal(a.logs["sharpness"], b.logs["sharpness"], equal_nan=True)
    assert not np.array_equal(a.loss, c.loss)


def test_sweep_and_cross_entropy():
    s = mlp.sweep([0.05, 0.1], seeds=(0,), loss="cross_entropy", **FAST)
    assert len(s) == 2 and not s.batched
    assert all(h.config["loss"] == "cross_entropy" and "sharpness" in h.logs for h in s)
    assert s[0.1, 0].loss[-1] < s[0.05, 0].loss[-1]


def test_plateau_is_the_median_of_the_late_measurements():
    h = engine.History(loss=np.zeros(8), lrs=np.ones(8), metric=np.array([]), metric_steps=np.array([], int),
                       metric_epochs=np.array([]), diverged=False, diverged_at=None, diverged_loss=None,
                       seconds=0.0, logs={"sharpness": np.array([1.0, np.nan, 100.0, np.nan, 5.0, 6.0, 7.0, 50.0])})
    assert analysis.plateau(h) == pytest.approx(7.0)                  # the last 3 of 6 measurements: 6, 7, 50
    assert analysis.plateau(h, start=0.0) == pytest.approx(6.5)      # all six: 1, 100, 5, 6, 7, 50
    empty = engine.History(**{**h.__dict__, "logs": {}})
    assert math.isnan(analysis.plateau(empty))
    with pytest.raises(ValueError, match="Invalid start value: 1.0"):
        analysis.plateau(h, start=1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        mlp.train(-0.1, **FAST)
    with pytest.raises(ValueError, match="Invalid n_train value: 0"):
        mlp.train(0.1, n_train=0)
    with pytest.raises(ValueError, match="Invalid n_train value: 5000"):
        mlp.train(0.1, n_train=5000)
    with pytest.raises(ValueError, match="Invalid hidden value: 0"):
        mlp.train(0.1, hidden=0)
    with pytest.raises(ValueError, match="Invalid sharpness_every value: 0"):
        mlp.train(0.1, sharpness_every=0)
    with pytest.raises(ValueError, match="Invalid steps value: 0"):
        mlp.train(0.1, steps=0)
    with pytest.raises(ValueError, match="Invalid loss: 'l1'"):
        mlp.train(0.1, loss="l1")
    with pytest.raises(ValueError, match="Invalid lrs"):
        mlp.sweep([])


def test_other_data_sets_work():
    small = data.digits().take(40, 20)
    h = mlp.train(0.1, n_train=40, data=small, steps=5, sharpness_every=5, hidden=8)
    assert h.config["data"] == small.name and len(h.metric) == 1


def test_command_line(capsys):
    assert mlp.main(["--lrs", "0.05,2", "--steps", "20", "--n-train", "64", "--hidden", "16",
                     "--sharpness-every", "10"]) == 0
    out = capsys.readouterr().out
    assert "plateau" in out and "diverged at step" in out and "test accuracy" in out
    assert mlp.main(["--lrs", "-1"]) == 2


def test_lanczos_measurements_converge_and_unconverged_ones_are_left_out():
    h = mlp.train(0.12, seed=0, steps=60, sharpness_every=20)
    measured = np.isfinite(h.logs["sharpness"])
    assert list(np.flatnonzero(measured)) == [0, 20, 40]
    assert np.all(h.logs["converged"][measured] == 1)
    assert np.all(h.logs["products"][measured] <= mlp.EIGEN_MAX_PRODUCTS)
    h.logs["converged"][20] = 0.0                 # as if the solve at step 20 had hit its cap
    steps, _ = analysis.sharpness_curve(h)
    assert list(steps) == [0, 40]
    assert list(analysis.sharpness_curve(h, converged_only=False)[0]) == [0, 20, 40]
