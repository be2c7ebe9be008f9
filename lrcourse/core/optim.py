"""Optimizers as small pure functions, the numpy twins of ``torch.optim``.

Each factory (``sgd``, ``rmsprop``, ``adagrad``, ``adam``, ``adamw``) takes
torch.optim's arguments with torch.optim's defaults and returns an
:class:`Optimizer` with two functions::

    state = opt.init(params)                       # buffers of zeros and count = 0
    params, state = opt.step(params, grad, state)  # one update, new arrays out

Nothing is updated in place: ``step`` returns new parameters and a new state,
and its inputs are left untouched. The state is a NamedTuple that holds the
step count and the buffers under the names torch keeps in ``optimizer.state``
(``momentum_buffer``, ``exp_avg``, ``exp_avg_sq``, ...); a buffer the chosen
configuration does not use is ``None``.

The learning rate ``lr`` (γ in the formulas) may be

* a number;
* a numpy array that broadcasts to the parameters, to run many learning rates
  at once: parameters of shape ``(n_lr, d)`` with ``lr`` of shape ``(n_lr, 1)``
  are ``n_lr`` independent runs;
* a schedule, any callable ``schedule(k) -> lr``: step ``k`` (counting from 0)
  uses ``schedule(k)``, as torch does when the scheduler steps after each
  optimizer step.

Example::

    >>> import numpy as np
    >>> from lrcourse import optim
    >>> opt = optim.sgd(lr=0.1, momentum=0.9)
    >>> theta = np.array([1.0, -2.0])
    >>> state = opt.init(theta)
    >>> theta, state = opt.step(theta, 2 * theta, state)   # gradient of |θ|²
    >>> theta
    array([ 0.8, -1.6])
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Callable, Mapping, NamedTuple, Union

import numpy as np

from lrcourse import _checks

__all__ = [
    "Optimizer",
    "SGDState",
    "RMSpropState",
    "AdagradState",
    "AdamState",
    "sgd",
    "rmsprop",
    "adagrad",
    "adam",
    "adamw",
]

LearningRate = Union[float, np.ndarray, Callable[[int], Any]]


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Optimizer:
    """An optimizer as a pair of pure functions.

    ``init(params) -> state`` and ``step(params, grad, state) -> (params, state)``.
    ``name`` is the factory's name and ``hyperparams`` its (read-only) arguments.
    """

    name: str
    hyperparams: Mapping[str, Any]
    init: Callable[[Any], NamedTuple]
    step: Callable[[Any, Any, NamedTuple], tuple[np.ndarray, NamedTuple]]

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={_short_repr(value)}" for key, value in self.hyperparams.items())
        return f"{self.name}({args})"


# --------------------------------------------------------------------------- states


class SGDState(NamedTuple):
    count: int  # steps taken so far
    momentum_buffer: np.ndarray | None  # b_t; None without momentum


class RMSpropState(NamedTuple):
    count: int
    square_avg: np.ndarray  # v_t
    grad_avg: np.ndarray | None  # g^ave_t; None unless centered
    momentum_buffer: np.ndarray | None  # b_t; None without momentum


class AdagradState(NamedTuple):
    count: int
    sum: np.ndarray  # state_sum_t, the running sum of squared gradients


class AdamState(NamedTuple):
    count: int
    exp_avg: np.ndarray  # m_t
    exp_avg_sq: np.ndarray  # v_t
    max_exp_avg_sq: np.ndarray | None  # v_t^max; None unless amsgrad


# ----------------------------------------------------------------------- optimizers


def sgd(lr: LearningRate, momentum=0, dampening=0, nesterov=False, weight_decay=0) -> Optimizer:
    """Stochastic gradient descent, optionally with (Nesterov) momentum; ``torch.optim.SGD``.

    With learning rate γ, momentum μ, dampening τ and weight decay λ::

        for t = 1, 2, ...
            g_t = ∇f(θ_{t-1})
            if λ ≠ 0:    g_t = g_t + λ θ_{t-1}
            if μ ≠ 0:
                b_t = g_t                          if t = 1
                b_t = μ b_{t-1} + (1 − τ) g_t      if t > 1
                g_t = g_t + μ b_t   if nesterov   else   b_t
            θ_t = θ_{t-1} − γ g_t
    """
    _check_lr(lr)
    _nonnegative_number(momentum, "momentum value")
    _finite_number(dampening, "dampening value")
    _flag(nesterov, "nesterov")
    _nonnegative_number(weight_decay, "weight_decay value")
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def init(theta):
        return SGDState(count=0, momentum_buffer=np.zeros_like(theta) if momentum != 0 else None)

    def update(theta, g, state, lr):
        if weight_decay != 0:
            g = g + weight_decay * theta
        b = state.momentum_buffer
        if momentum != 0:
            if state.count == 0:
                b = g.copy()  # torch starts the buffer at the first gradient, not at 0
            else:
                b = momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
        return theta, SGDState(state.count + 1, b)

    hyperparams = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
    return _optimizer("sgd", hyperparams, init, update)


def rmsprop(
    lr: LearningRate = 1e-2, alpha=0.99, eps=1e-8, momentum=0, centered=False, weight_decay=0
) -> Optimizer:
    """RMSprop, optionally centered and with momentum; ``torch.optim.RMSprop``.

    With learning rate γ, smoothing constant α, momentum μ and weight decay λ::

        v_0 = 0,  g^ave_0 = 0,  b_0 = 0
        for t = 1, 2, ...
            g_t = ∇f(θ_{t-1})
            if λ ≠ 0:    g_t = g_t + λ θ_{t-1}
            v_t = α v_{t-1} + (1 − α) g_t²
            ṽ_t = v_t
            if centered:
                g^ave_t = α g^ave_{t-1} + (1 − α) g_t
                ṽ_t = ṽ_t − (g^ave_t)²
            if μ > 0:
                b_t = μ b_{t-1} + g_t / (√ṽ_t + ε)
                θ_t = θ_{t-1} − γ b_t
            else:
                θ_t = θ_{t-1} − γ g_t / (√ṽ_t + ε)

    ε is added after the square root, as in torch (TensorFlow adds it inside).
    """
    _check_lr(lr)
    _checks.in_range(alpha, "alpha", 0, 1)
    _nonnegative_number(eps, "epsilon value")
    _nonnegative_number(momentum, "momentum value")
    _flag(centered, "centered")
    _nonnegative_number(weight_decay, "weight_decay value")

    def init(theta):
        return RMSpropState(
            count=0,
            square_avg=np.zeros_like(theta),
            grad_avg=np.zeros_like(theta) if centered else None,
            momentum_buffer=np.zeros_like(theta) if momentum > 0 else None,
        )

    def update(theta, g, state, lr):
        if weight_decay != 0:
            g = g + weight_decay * theta
        v = alpha * state.square_avg + (1 - alpha) * g**2
        v_tilde = v
        g_ave = state.grad_avg
        if centered:
            g_ave = alpha * g_ave + (1 - alpha) * g
            v_tilde = v_tilde - g_ave**2
        b = state.momentum_buffer
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
        return theta, RMSpropState(state.count + 1, v, g_ave, b)

    hyperparams = dict(
        lr=lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered, weight_decay=weight_decay
    )
    return _optimizer("rmsprop", hyperparams, init, update)


def adagrad(
    lr: LearningRate = 1e-2, lr_decay=0, eps=1e-10, weight_decay=0, initial_accumulator_value=0
) -> Optimizer:
    """Adagrad; ``torch.optim.Adagrad``.

    With learning rate γ, learning-rate decay η, weight decay λ and initial
    accumulator value τ::

        state_sum_0 = τ
        for t = 1, 2, ...
            g_t = ∇f(θ_{t-1})
            γ̃_t = γ / (1 + (t − 1) η)
            if λ ≠ 0:    g_t = g_t + λ θ_{t-1}
            state_sum_t = state_sum_{t-1} + g_t²
            θ_t = θ_{t-1} − γ̃_t g_t / (√state_sum_t + ε)

    With a schedule, γ is the scheduled value and the decay η applies on top of it.
    """
    _check_lr(lr)
    _nonnegative_number(lr_decay, "lr_decay value")
    _nonnegative_number(eps, "epsilon value")
    _nonnegative_number(weight_decay, "weight_decay value")
    _nonnegative_number(initial_accumulator_value, "initial_accumulator_value value")

    def init(theta):
        return AdagradState(count=0, sum=np.full_like(theta, initial_accumulator_value))

    def update(theta, g, state, lr):
        t = state.count + 1
        lr_t = lr / (1 + (t - 1) * lr_decay)
        if weight_decay != 0:
            g = g + weight_decay * theta
        state_sum = state.sum + g**2
        theta = theta - lr_t * g / (np.sqrt(state_sum) + eps)
        return theta, AdagradState(t, state_sum)

    hyperparams = dict(
        lr=lr,
        lr_decay=lr_decay,
        eps=eps,
        weight_decay=weight_decay,
        initial_accumulator_value=initial_accumulator_value,
    )
    return _optimizer("adagrad", hyperparams, init, update)


def _check_adam(lr, betas, eps, weight_decay, amsgrad) -> tuple[float, float]:
    """Adam's and AdamW's argument checks (torch's messages); returns (β1, β2)."""
    _check_lr(lr)
    beta1, beta2 = _check_betas(betas)
    _nonnegative_number(eps, "epsilon value")
    _nonnegative_number(weight_decay, "weight_decay value")
    _flag(amsgrad, "amsgrad")
    return beta1, beta2


def adam(lr: LearningRate = 1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False) -> Optimizer:
    """Adam, optionally AMSGrad, with L2 weight decay; ``torch.optim.Adam``.

    With learning rate γ, betas (β1, β2) and weight decay λ::

        m_0 = 0,  v_0 = 0,  v^max_0 = 0
        for t = 1, 2, ...
            g_t = ∇f(θ_{t-1})
            if λ ≠ 0:    g_t = g_t + λ θ_{t-1}      (L2: the decay goes through m and v)
            m_t = β1 m_{t-1} + (1 − β1) g_t
            v_t = β2 v_{t-1} + (1 − β2) g_t²
            m̂_t = m_t / (1 − β1^t)
            if amsgrad:
                v^max_t = max(v^max_{t-1}, v_t)
                v̂_t = v^max_t / (1 − β2^t)
            else:
                v̂_t = v_t / (1 − β2^t)
            θ_t = θ_{t-1} − γ m̂_t / (√v̂_t + ε)
    """
    beta1, beta2 = _check_adam(lr, betas, eps, weight_decay, amsgrad)

    def update(theta, g, state, lr):
        if weight_decay != 0:
            g = g + weight_decay * theta
        return _adam_update(theta, g, state, lr, beta1, beta2, eps, amsgrad)

    hyperparams = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    return _optimizer("adam", hyperparams, _adam_init(amsgrad), update)


def adamw(lr: LearningRate = 1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False) -> Optimizer:
    """AdamW: Adam with decoupled weight decay; ``torch.optim.AdamW``.

    The same as :func:`adam` except for the weight decay, which shrinks the
    parameters directly instead of being added to the gradient, so it does not
    pass through m and v::

        for t = 1, 2, ...
            g_t = ∇f(θ_{t-1})
            θ_{t-1} = θ_{t-1} − γ λ θ_{t-1}
            m_t = β1 m_{t-1} + (1 − β1) g_t
            v_t = β2 v_{t-1} + (1 − β2) g_t²
            m̂_t = m_t / (1 − β1^t)
            v̂_t = v_t / (1 − β2^t)
                (amsgrad: v^max_t = max(v^max_{t-1}, v_t),  v̂_t = v^max_t / (1 − β2^t))
            θ_t = θ_{t-1} − γ m̂_t / (√v̂_t + ε)

    Note the default ``weight_decay=1e-2``, as in torch.
    """
    beta1, beta2 = _check_adam(lr, betas, eps, weight_decay, amsgrad)

    def update(theta, g, state, lr):
        theta = theta * (1 - lr * weight_decay)
        return _adam_update(theta, g, state, lr, beta1, beta2, eps, amsgrad)

    hyperparams = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
    return _optimizer("adamw", hyperparams, _adam_init(amsgrad), update)


def _adam_init(amsgrad):
    def init(theta):
        return AdamState(
            count=0,
            exp_avg=np.zeros_like(theta),
            exp_avg_sq=np.zeros_like(theta),
            max_exp_avg_sq=np.zeros_like(theta) if amsgrad else None,
        )

    return init


def _adam_update(theta, g, state, lr, beta1, beta2, eps, amsgrad):
    """The moment estimates and the step shared by Adam and AdamW."""
    t = state.count + 1
    m = beta1 * state.exp_avg + (1 - beta1) * g
    v = beta2 * state.exp_avg_sq + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_max = state.max_exp_avg_sq
    if amsgrad:
        v_max = np.maximum(v_max, v)  # np.maximum (unlike np.fmax) keeps a NaN
        v_hat = v_max / (1 - beta2**t)
    else:
        v_hat = v / (1 - beta2**t)
    theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta, AdamState(t, m, v, v_max)


# ------------------------------------------------------------------------- plumbing
#
# Everything below turns the update rules above into the public init/step:
# inputs become float arrays, shapes and learning rates are checked, and the
# learning rate of step k is looked up when lr is a schedule.


def _optimizer(name, hyperparams, init_state, update) -> Optimizer:
    lr = hyperparams["lr"]
    if not callable(lr):
        lr = np.array(lr, dtype=float)  # a private copy: mutating the caller's array changes nothing
        lr.setflags(write=False)
        lr = float(lr) if lr.ndim == 0 else lr
        hyperparams["lr"] = lr

    def init(params):
        return _as_arrays(init_state(_as_float_array(params, "params")))

    def step(params, grad, state):
        params = _as_float_array(params, "params")
        grad = _as_float_array(grad, "grad")
        if grad.shape != params.shape:
            raise ValueError(f"Invalid grad: shape {grad.shape} does not match params of shape {params.shape}")
        _check_state(state, params.shape)
        lr_k = _lr_at_step(lr, state.count, params.shape)
        new_params, new_state = update(params, grad, state, lr_k)
        return np.asarray(new_params), _as_arrays(new_state)

    init.__doc__ = f"The {name} state for ``params``: count 0 and buffers of their shape."
    step.__doc__ = f"One {name} step: ``(params, grad, state) -> (new_params, new_state)``."
    return Optimizer(name=name, hyperparams=types.MappingProxyType(hyperparams), init=init, step=step)


def _lr_at_step(lr, k, params_shape):
    """The learning rate of step ``k`` (from 0): ``lr(k)`` for a schedule, else ``lr``."""
    if callable(lr):
        value = lr(k)
        try:
            _checks.nonnegative(value, "learning rate")
        except ValueError as error:
            raise ValueError(f"{error} (returned by the schedule at step {k})") from None
    else:
        value = lr
    shape = np.shape(value)
    try:
        fits = np.broadcast_shapes(shape, params_shape) == params_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"Invalid learning rate: shape {shape} does not broadcast to params of shape {params_shape}"
        )
    return value


def _check_lr(lr):
    if not callable(lr):
        _checks.nonnegative(lr, "learning rate")


def _check_betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas!r} (expected a pair (beta1, beta2))")
    for index, beta in enumerate(betas):
        if not (_checks._is_real(beta) and 0.0 <= beta < 1.0):
            raise ValueError(f"Invalid beta parameter at index {index}: {beta}")
    return float(betas[0]), float(betas[1])


def _nonnegative_number(value, what):
    if not _checks._is_real(value):
        raise ValueError(f"Invalid {what}: {value!r}")
    return _checks.nonnegative(value, what)


def _finite_number(value, what):
    if not _checks._is_real(value) or not np.isfinite(value):
        raise ValueError(f"Invalid {what}: {value!r}")
    return value


def _flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid {name} value: {value!r} (expected True or False)")
    return value


def _as_float_array(value, what) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind in "biu":
        return array.astype(float)
    if array.dtype.kind != "f":
        raise ValueError(f"Invalid {what}: expected real numbers, got an array of dtype {array.dtype}")
    return array


def _as_arrays(state):
    """numpy turns 0-d results into scalars; give the state's buffers back as arrays."""
    return state._replace(**{k: np.asarray(v) for k, v in state._asdict().items() if isinstance(v, np.generic)})


def _check_state(state, params_shape):
    for field, buffer in state._asdict().items():
        if isinstance(buffer, np.ndarray) and buffer.shape != params_shape:
            raise ValueError(
                f"Invalid state: {field} has shape {buffer.shape} but params have shape {params_shape} "
                "(make the state with init(params) for these params)"
            )


def _short_repr(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape})"
    text = repr(value)
    if " at 0x" in text:  # a plain function or lambda: its name, without the memory address
        return getattr(value, "__qualname__", type(value).__name__)
    return text
