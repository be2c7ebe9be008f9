"""torch.optim by name, and the same updates for a stack of runs with one α each.

``optimizer_class("adamw")`` is ``torch.optim.AdamW``; hyperparameters keep
torch's names (``momentum=0.9``, ``betas=(0.9, 0.99)``, …).

For a batched sweep every parameter tensor gets a leading axis of runs, and
``lr`` is a vector with one learning rate per run. The functions below are
torch.optim's single-tensor updates written for that stack, step for step, so
that a batched sweep reproduces the runs one by one (up to float rounding:
torch fuses some of these operations).
"""

from __future__ import annotations

import numbers

import torch

# Optimizers that need something the training loop does not give them.
_UNSUPPORTED = {
    "lbfgs": "it needs a closure that re-evaluates the loss",
    "sparseadam": "it needs sparse gradients",
    "muon": "it only handles 2-D parameters",
}


def _torch_optimizers() -> dict:
    found = {}
    for name in dir(torch.optim):
        obj = getattr(torch.optim, name)
        if isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer) and obj is not torch.optim.Optimizer:
            if name.lower() not in _UNSUPPORTED:
                found[name.lower()] = obj
    return dict(sorted(found.items()))


OPTIMIZERS: dict = _torch_optimizers()
"""Lower-case name -> torch.optim class, e.g. ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``."""


def optimizer_class(name) -> type:
    """The torch.optim class called ``name`` (case does not matter)."""
    key = name.lower() if isinstance(name, str) else None
    if key in _UNSUPPORTED:
        raise ValueError(f"Invalid optimizer: {name!r} ({_UNSUPPORTED[key]})")
    if key not in OPTIMIZERS:
        raise ValueError(f"Invalid optimizer: {name!r} (expected one of {', '.join(OPTIMIZERS)})")
    return OPTIMIZERS[key]


def hyperparameters(name, lr: float, **optimizer_kwargs) -> dict:
    """All hyperparameters of optimizer ``name`` with torch's defaults filled in.

    Builds the torch optimizer once on a dummy parameter, so invalid values get
    torch's own ``ValueError`` (``Invalid momentum value: -1``) before any training.
    """
    cls = optimizer_class(name)
    dummy = torch.zeros(1, requires_grad=True)
    return dict(cls([dummy], lr=lr, **optimizer_kwargs).defaults)


# --------------------------------------------------------------------------- batched updates
#
# Each function updates one stacked parameter ``param`` (runs × shape) given its
# stacked gradient, its state (a dict it may fill), the per-run learning rates
# ``lr`` (float64, shaped runs × 1 × … to broadcast) and the step count ``t``
# (1 at the first step). It returns the new parameter.


def sgd(param, grad, state, lr, t, *, momentum, dampening, weight_decay, nesterov, maximize, **_):
    """torch.optim.SGD:  g ← ∇ + λθ;  b ← μ b + (1 − τ) g  (b ← g at t = 1);
    g ← g + μ b (Nesterov) or g ← b;  θ ← θ − α g."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    if momentum != 0:
        if "momentum_buffer" not in state:
            buf = grad.clone()
        else:
            buf = state["momentum_buffer"].mul(momentum).add(grad, alpha=1 - dampening)
        state["momentum_buffer"] = buf
        grad = grad.add(buf, alpha=momentum) if nesterov else buf
    return param.addcmul(grad, (-lr).to(param.dtype))


def adam(param, grad, state, lr, t, *, betas, eps, weight_decay, amsgrad, maximize,
         decoupled_weight_decay=False, **_):
    """torch.optim.Adam (and AdamW when ``decoupled_weight_decay``):
    m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²;
    θ ← θ − α/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)."""
    beta1, beta2 = betas
    grad = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param = param * (1 - lr * weight_decay).to(param.dtype)          # θ ← θ (1 − α λ)
        else:
            grad = grad.add(param, alpha=weight_decay)
    exp_avg = state.get("exp_avg", torch.zeros_like(param)).lerp(grad, 1 - beta1)
    exp_avg_sq = state.get("exp_avg_sq", torch.zeros_like(param)).mul(beta2).addcmul(grad, grad, value=1 - beta2)
    state["exp_avg"], state["exp_avg_sq"] = exp_avg, exp_avg_sq
    bias_correction1 = 1 - beta1 ** t
    bias_correction2_sqrt = (1 - beta2 ** t) ** 0.5
    step_size = (lr / bias_correction1).to(param.dtype)
    if amsgrad:
        state["max_exp_avg_sq"] = torch.maximum(state.get("max_exp_avg_sq", torch.zeros_like(param)), exp_avg_sq)
        denom = (state["max_exp_avg_sq"].sqrt() / bias_correction2_sqrt).add(eps)
    else:
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add(eps)
    return param - step_size * exp_avg / denom


def rmsprop(param, grad, state, lr, t, *, alpha, eps, weight_decay, momentum, centered, maximize, **_):
    """torch.optim.RMSprop:  v ← a v + (1 − a) g²;  (centered: v − ḡ² with ḡ ← a ḡ + (1 − a) g);
    θ ← θ − α g / (√v + ε)  (with momentum: b ← μ b + g / (√v + ε); θ ← θ − α b)."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    square_avg = state.get("square_avg", torch.zeros_like(param)).mul(alpha).addcmul(grad, grad, value=1 - alpha)
    state["square_avg"] = square_avg
    if centered:
        grad_avg = state.get("grad_avg", torch.zeros_like(param)).lerp(grad, 1 - alpha)
        state["grad_avg"] = grad_avg
        avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt()
    else:
        avg = square_avg.sqrt()
    avg = avg.add(eps)
    neg_lr = (-lr).to(param.dtype)
    if momentum > 0:
        buf = state.get("momentum_buffer", torch.zeros_like(param)).mul(momentum).addcdiv(grad, avg)
        state["momentum_buffer"] = buf
        return param.addcmul(buf, neg_lr)
    return param + neg_lr * grad / avg


def adagrad(param, grad, state, lr, t, *, lr_decay, eps, weight_decay, initial_accumulator_value, maximize, **_):
    """torch.optim.Adagrad:  s ← s + g²;  θ ← θ − α / (1 + (t − 1) η) · g / (√s + ε)."""
    grad = -grad if maximize else grad
    if weight_decay != 0:
        grad = grad.add(param, alpha=weight_decay)
    state_sum = state.get("sum", torch.full_like(param, initial_accumulator_value)).addcmul(grad, grad, value=1)
    state["sum"] = state_sum
    clr = (lr / (1 + (t - 1) * lr_decay)).to(param.dtype)
    std = state_sum.sqrt().add(eps)
    return param - clr * grad / std


BATCHED_UPDATES = {"sgd": sgd, "adam": adam, "adamw": adam, "rmsprop": rmsprop, "adagrad": adagrad}


def batched_update(name, hp: dict):
    """The batched update for optimizer ``name`` with hyperparameters ``hp``, or ``None``
    when there is none (the sweep then runs one by one)."""
    update = BATCHED_UPDATES.get(name.lower())
    if update is None:
        return None
    if hp.get("differentiable") or hp.get("fused") or hp.get("capturable"):
        return None
    numbers_only = all(not isinstance(v, torch.Tensor) for v in hp.values())
    if not numbers_only:
        return None
    for key in ("betas",):
        if key in hp and not all(isinstance(b, numbers.Real) for b in hp[key]):
            return None
    return update
