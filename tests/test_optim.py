"""lrcourse.core.optim against torch.optim, plus purity, broadcasting, NaN and validation tests."""

from __future__ import annotations

import inspect
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lrcourse.core import optim

TORCH_TWIN = {
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}

TINY = 1e-9  # gradient scale where eps is comparable to √v

# (optimizer, keyword arguments, gradient scale); every optimizer gets a tiny-gradient case
# except SGD, which has no eps.
CONFIGS = [
    ("sgd", dict(lr=0.05), 1.0),
    ("sgd", dict(lr=0.05, momentum=0.9), 1.0),
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.5), 1.0),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True), 1.0),
    ("sgd", dict(lr=0.05, weight_decay=0.1), 1.0),
    ("sgd", dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.01), 1.0),
    ("rmsprop", dict(lr=0.01), 1.0),
    ("rmsprop", dict(lr=0.01, alpha=0.9), 1.0),
    ("rmsprop", dict(lr=0.01, centered=True), 1.0),
    ("rmsprop", dict(lr=0.005, momentum=0.9), 1.0),
    ("rmsprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1), 1.0),
    ("rmsprop", dict(lr=0.01), TINY),
    ("rmsprop", dict(lr=0.01, centered=True, momentum=0.5), TINY),
    ("adagrad", dict(lr=0.1), 1.0),
    ("adagrad", dict(lr=0.1, lr_decay=0.01), 1.0),
    ("adagrad", dict(lr=0.1, initial_accumulator_value=0.5), 1.0),
    ("adagrad", dict(lr=0.1, lr_decay=0.001, weight_decay=0.1, initial_accumulator_value=0.1), 1.0),
    ("adagrad", dict(lr=0.1), TINY),
    ("adagrad", dict(lr=0.1, eps=1e-8), TINY),
    ("adam", dict(lr=0.01), 1.0),
    ("adam", dict(lr=0.01, amsgrad=True), 1.0),
    ("adam", dict(lr=0.01, weight_decay=0.1), 1.0),
    ("adam", dict(lr=0.02, betas=(0.8, 0.99), amsgrad=True, weight_decay=0.1), 1.0),
    ("adam", dict(lr=0.01), TINY),
    ("adam", dict(lr=0.01, amsgrad=True), TINY),
    ("adamw", dict(lr=0.01), 1.0),
    ("adamw", dict(lr=0.01, weight_decay=0.1), 1.0),
    ("adamw", dict(lr=0.01, amsgrad=True), 1.0),
    ("adamw", dict(lr=0.02, betas=(0.5, 0.9), amsgrad=True, weight_decay=0.5), 1.0),
    ("adamw", dict(lr=0.01, weight_decay=0.1), TINY),
]


def _config_id(name, kwargs, scale):
    args = ",".join(f"{k}={v}" for k, v in kwargs.items())
    return f"{name}({args})" + ("-tiny" if scale != 1.0 else "")


CONFIG_PARAMS = [pytest.param(*c, id=_config_id(*c)) for c in CONFIGS]
OPTIMIZERS = list(TORCH_TWIN)


# ------------------------------------------------------------------- gradient field

SHAPE = (2, 3)
D = math.prod(SHAPE)
N_STEPS = 300
_rng = np.random.default_rng(20240601)
_Q = np.linalg.qr(_rng.normal(size=(D, D)))[0]
A = _Q @ np.diag(np.linspace(0.5, 3.0, D)) @ _Q.T  # fixed SPD Hessian
B = _rng.normal(size=D)
NOISE = 0.3 * _rng.normal(size=(N_STEPS, D))  # fixed noise, one draw per step
THETA0 = _rng.normal(size=SHAPE)


def gradient(theta, k, scale=1.0):
    """∇ of ½ xᵀAx − bᵀx on each row x of length D of θ, plus the fixed noise of step k, times scale."""
    x = theta.reshape(-1, D)
    return scale * (x @ A.T - B + NOISE[k]).reshape(theta.shape)


def run_ours(opt, theta0, n_steps, scale=1.0, field=gradient):
    theta, state = np.array(theta0), opt.init(theta0)
    trajectory = []
    for k in range(n_steps):
        theta, state = opt.step(theta, field(theta, k, scale), state)
        trajectory.append(theta)
    return np.array(trajectory), state


def run_torch(name, kwargs, theta0, n_steps, scale=1.0, lr_lambda=None):
    p = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt = TORCH_TWIN[name]([p], **kwargs)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda) if lr_lambda else None
    trajectory = []
    for k in range(n_steps):
        p.grad = torch.from_numpy(gradient(p.detach().numpy(), k, scale))
        opt.step()
        if scheduler:
            scheduler.step()
        trajectory.append(p.detach().numpy().copy())
    return np.array(trajectory)


# ------------------------------------------------------------------- torch twins


@pytest.mark.parametrize("name, kwargs, scale", CONFIG_PARAMS)
def test_matches_torch(name, kwargs, scale):
    ours, state = run_ours(getattr(optim, name)(**kwargs), THETA0, N_STEPS, scale)
    theirs = run_torch(name, kwargs, THETA0, N_STEPS, scale)
    assert state.count == N_STEPS
    assert np.abs(ours[-1] - THETA0).max() > 1e-3, "the trajectory should move: nothing is compared otherwise"
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-12)


def test_tiny_gradients_feel_eps():
    """In the tiny-gradient runs eps is comparable to √v, so changing it changes the trajectory."""
    a, _ = run_ours(optim.adam(lr=0.01), THETA0, 50, TINY)
    b, _ = run_ours(optim.adam(lr=0.01, eps=1e-10), THETA0, 50, TINY)
    assert np.abs(a - b).max() > 1e-3


LR0 = 0.05


def wavy_decay(k):
    """A schedule that changes at every step: step decay times a ripple."""
    return LR0 * 0.5 ** (k // 100) * (1 + 0.5 * math.cos(k / 7))


SCHEDULE_CONFIGS = [
    ("sgd", dict(momentum=0.9)),
    ("rmsprop", dict(centered=True)),
    ("adagrad", dict()),
    ("adagrad", dict(lr_decay=0.01)),
    ("adam", dict(amsgrad=True)),
    ("adamw", dict(weight_decay=0.1)),
]


@pytest.mark.parametrize("name, kwargs", SCHEDULE_CONFIGS)
def test_schedule_matches_torch_lambdalr(name, kwargs):
    ours, _ = run_ours(getattr(optim, name)(lr=wavy_decay, **kwargs), THETA0, N_STEPS)
    theirs = run_torch(name, dict(lr=LR0, **kwargs), THETA0, N_STEPS, lr_lambda=lambda k: wavy_decay(k) / LR0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-12)


def test_schedule_is_called_with_the_step_index():
    calls = []
    opt = optim.sgd(lr=lambda k: calls.append(k) or 0.1)
    run_ours(opt, THETA0, 4)
    assert calls == [0, 1, 2, 3]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_defaults_match_torch(name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = inspect.signature(TORCH_TWIN[name]).parameters
    for arg, parameter in ours.items():
        if name == "sgd" and arg == "lr":  # required here, as in the course's contract
            assert parameter.default is inspect.Parameter.empty
            continue
        assert parameter.default == theirs[arg].default, arg


# ------------------------------------------------------------------- broadcasting

LRS = np.array([1e-3, 1e-2, 0.05, 0.2])
BROADCAST_CONFIGS = [
    ("sgd", dict(momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("rmsprop", dict(centered=True, momentum=0.5)),
    ("adagrad", dict(lr_decay=0.01, initial_accumulator_value=0.1)),
    ("adam", dict(amsgrad=True, weight_decay=0.1)),
    ("adamw", dict(amsgrad=True, weight_decay=0.1)),
]


@pytest.mark.parametrize("schedule", [False, True], ids=["array", "schedule-of-arrays"])
@pytest.mark.parametrize("name, kwargs", BROADCAST_CONFIGS)
def test_lr_array_equals_separate_runs(name, kwargs, schedule):
    factory = getattr(optim, name)
    theta0 = np.tile(THETA0.reshape(-1), (len(LRS), 1))  # (n_alpha, d)

    def lr_of(alpha):
        return (lambda k: alpha * 0.99**k) if schedule else alpha

    together, state = run_ours(factory(lr=lr_of(LRS[:, None]), **kwargs), theta0, 50)
    assert together.shape == (50, len(LRS), D)
    for i, alpha in enumerate(LRS):
        alone, _ = run_ours(factory(lr=lr_of(float(alpha)), **kwargs), THETA0.reshape(-1), 50)
        np.testing.assert_allclose(together[:, i], alone, rtol=1e-12, atol=1e-15)
    assert not np.allclose(together[-1, 0], together[-1, -1]), "different α should give different runs"


def test_lr_that_does_not_broadcast_is_rejected():
    opt = optim.adam(lr=np.full((3, 1), 0.1))
    with pytest.raises(ValueError, match=re.escape("shape (3, 1) does not broadcast to params of shape (2, 3)")):
        opt.step(THETA0, THETA0, opt.init(THETA0))
    # broadcasting must not grow the parameters either
    opt = optim.sgd(lr=np.full((4, 1), 0.1))
    with pytest.raises(ValueError, match="does not broadcast"):
        opt.step(np.ones(3), np.ones(3), opt.init(np.ones(3)))


def test_lr_array_is_copied():
    lrs = np.array([[0.1], [0.2]])
    opt = optim.sgd(lr=lrs)
    lrs[:] = -1.0
    theta, _ = opt.step(np.ones((2, 1)), np.ones((2, 1)), opt.init(np.ones((2, 1))))
    np.testing.assert_allclose(theta, [[0.9], [0.8]])


# ------------------------------------------------------------------- purity (hypothesis)

PURITY_CONFIGS = [(name, kwargs) for name, kwargs, _ in CONFIGS] + [
    ("sgd", dict(lr=lambda k: 0.1 / (k + 1), momentum=0.9)),
    ("adagrad", dict(lr=lambda k: 0.1, lr_decay=0.1)),
]
_finite = st.floats(-10, 10, allow_nan=False, allow_subnormal=False)


def _frozen(x):
    """A read-only copy: any in-place write by `step` would raise."""
    x = np.array(x)
    x.setflags(write=False)
    return x


def _buffers(state):
    return [v for v in state if isinstance(v, np.ndarray)]


@settings(max_examples=60, deadline=None, database=None)
@given(
    config=st.sampled_from(PURITY_CONFIGS),
    shape=hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4),
    n_steps=st.integers(1, 4),
    data=st.data(),
)
def test_step_is_pure_and_counts(config, shape, n_steps, data):
    name, kwargs = config
    opt = getattr(optim, name)(**kwargs)
    params = _frozen(data.draw(hnp.arrays(np.float64, shape, elements=_finite)))
    state = opt.init(params)
    assert state.count == 0
    for k in range(n_steps):
        grad = _frozen(data.draw(hnp.arrays(np.float64, shape, elements=_finite)))
        state = state._replace(**{f: _frozen(v) for f, v in state._asdict().items() if isinstance(v, np.ndarray)})
        before = [params.copy(), grad.copy()] + [b.copy() for b in _buffers(state)]

        new_params, new_state = opt.step(params, grad, state)

        after = [params, grad] + _buffers(state)
        for old, now in zip(before, after, strict=True):
            np.testing.assert_array_equal(old, now)
        assert new_state.count == state.count + 1 == k + 1
        assert type(new_state) is type(state)
        outputs = [new_params] + _buffers(new_state)
        assert all(isinstance(x, np.ndarray) and x.shape == shape for x in outputs)
        assert not any(np.shares_memory(out, x) for out in outputs for x in after), "new arrays out"
        params = _frozen(new_params)
        state = new_state


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_python_floats_give_arrays(name):
    opt = getattr(optim, name)(lr=0.1)
    state = opt.init(1.0)
    theta, state = opt.step(1.0, 0.5, state)
    assert isinstance(theta, np.ndarray) and theta.shape == ()
    assert all(isinstance(b, np.ndarray) and b.shape == () for b in _buffers(state))
    assert theta < 1.0


def test_repr_and_hyperparams():
    assert repr(optim.adam()) == "adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False)"
    assert repr(optim.sgd(0.1, momentum=0.9)) == (
        "sgd(lr=0.1, momentum=0.9, dampening=0, nesterov=False, weight_decay=0)"
    )
    assert repr(optim.sgd(lr=wavy_decay)).startswith("sgd(lr=wavy_decay,")
    assert "array(shape=(4, 1))" in repr(optim.rmsprop(lr=LRS[:, None]))
    opt = optim.adamw()
    assert opt.name == "adamw" and opt.hyperparams["weight_decay"] == 1e-2
    with pytest.raises(TypeError):
        opt.hyperparams["lr"] = 1.0


# ------------------------------------------------------------------- NaN and inf


@pytest.mark.parametrize("name, kwargs, scale", CONFIG_PARAMS)
def test_nan_gradient_gives_nan_params(name, kwargs, scale):
    opt = getattr(optim, name)(**kwargs)
    theta, state = THETA0, opt.init(THETA0)
    for k in range(8):
        grad = gradient(THETA0, k, scale)  # finite except at step 3, so only the state can carry the NaN on
        if k == 3:
            grad[0, 1] = np.nan
        theta, state = opt.step(theta, grad, state)
        if k >= 3:  # no buffer (max, sqrt, ...) swallows the NaN, and it never leaves
            assert np.isnan(theta[0, 1]), f"step {k}"
            assert all(np.isnan(b[0, 1]) for b in _buffers(state)), f"step {k}: {state}"
        else:
            assert np.isfinite(theta).all()
        assert np.isfinite(np.delete(theta, 1)).all(), "the NaN stays in its own coordinate"


@pytest.mark.parametrize("lr", [0.0, 0.1])
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_non_finite_gradient_never_gives_finite_params(name, lr):
    for flags in [{}, {"amsgrad": True}, {"centered": True, "momentum": 0.9}, {"momentum": 0.9}]:
        if not set(flags) <= set(inspect.signature(getattr(optim, name)).parameters):
            continue
        for bad in (np.nan, np.inf, -np.inf):
            opt = getattr(optim, name)(lr=lr, **flags)
            theta, _ = opt.step(np.ones(3), np.array([0.5, bad, 0.5]), opt.init(np.ones(3)))
            assert not np.isfinite(theta[1]), (flags, bad)
            assert np.isfinite(theta[[0, 2]]).all()


# ------------------------------------------------------------------- bad input

ALL_WITH_EPS = ["rmsprop", "adagrad", "adam", "adamw"]
BAD_INPUTS = (
    [(name, dict(lr=-0.1), "Invalid learning rate: -0.1") for name in OPTIMIZERS]
    + [(name, dict(lr=math.nan), "Invalid learning rate: nan") for name in OPTIMIZERS]
    + [(name, dict(lr=math.inf), "Invalid learning rate: inf") for name in OPTIMIZERS]
    + [(name, dict(lr=np.array([[0.1], [-0.1]])), "Invalid learning rate: array") for name in OPTIMIZERS]
    + [(name, dict(lr=np.array([0.1, np.nan])), "Invalid learning rate: array") for name in OPTIMIZERS]
    + [(name, dict(lr=0.1, weight_decay=-0.01), "Invalid weight_decay value: -0.01") for name in OPTIMIZERS]
    + [(name, dict(lr=0.1, weight_decay=math.inf), "Invalid weight_decay value: inf") for name in OPTIMIZERS]
    + [(name, dict(eps=-1e-8), "Invalid epsilon value: -1e-08") for name in ALL_WITH_EPS]
    + [(name, dict(eps=math.nan), "Invalid epsilon value: nan") for name in ALL_WITH_EPS]
    + [
        ("sgd", dict(lr=0.1, momentum=-0.9), "Invalid momentum value: -0.9"),
        ("rmsprop", dict(momentum=-0.9), "Invalid momentum value: -0.9"),
        ("sgd", dict(lr=0.1, dampening=math.nan), "Invalid dampening value: nan"),
        ("sgd", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
        ("sgd", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
        ("sgd", dict(lr=0.1, momentum=0.9, nesterov="yes"), "Invalid nesterov value: 'yes'"),
        ("rmsprop", dict(alpha=-0.1), "Invalid alpha value: -0.1"),
        ("rmsprop", dict(alpha=1.5), "Invalid alpha value: 1.5"),
        ("adagrad", dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
        ("adagrad", dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
        ("adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        ("adam", dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
        ("adamw", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        ("adamw", dict(betas=(0.9, math.nan)), "Invalid beta parameter at index 1: nan"),
        ("adam", dict(betas=(0.9,)), "Invalid betas"),
        ("adam", dict(amsgrad=None), "Invalid amsgrad value: None"),
    ]
)


@pytest.mark.parametrize(
    "name, kwargs, message", [pytest.param(*b, id=f"{b[0]}-{b[2]}") for b in BAD_INPUTS]
)
def test_bad_hyperparameter(name, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(optim, name)(**kwargs)


@pytest.mark.parametrize("bad_lr", [-0.1, math.nan])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_bad_lr_from_schedule(name, bad_lr):
    opt = getattr(optim, name)(lr=lambda k: 0.1 if k < 2 else bad_lr)
    theta, state = THETA0, opt.init(THETA0)
    for k in range(2):
        theta, state = opt.step(theta, gradient(theta, k), state)
    with pytest.raises(ValueError, match=re.escape(f"Invalid learning rate: {bad_lr}") + ".*step 2"):
        opt.step(theta, gradient(theta, 2), state)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_grad_shape_must_match_params(name):
    opt = getattr(optim, name)(lr=0.1)
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        opt.step(np.ones(2), np.ones(3), opt.init(np.ones(2)))
    with pytest.raises(ValueError, match=r"shape \(2, 1\).*shape \(2,\)"):
        opt.step(np.ones(2), np.ones((2, 1)), opt.init(np.ones(2)))


def test_state_must_fit_params():
    opt = optim.adam()
    with pytest.raises(ValueError, match=r"Invalid state: exp_avg has shape \(\)"):
        opt.step(np.ones(3), np.ones(3), opt.init(1.0))


def test_non_numeric_params_rejected():
    opt = optim.sgd(lr=0.1)
    with pytest.raises(ValueError, match="Invalid params"):
        opt.init(np.array(["a", "b"]))
