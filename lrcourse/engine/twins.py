"""The core's numpy optimizers against their ``torch.optim`` twins, in miniature.

:func:`torch_gap` runs both on the same quadratic and reports the largest difference in
the weights; :func:`twins_table` does it for several pairs. The full check, over many
configurations, is ``tests/test_optim.py``.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np
import torch

from lrcourse import _checks

__all__ = ["torch_gap", "twins_table"]


def torch_gap(make_torch: Callable, make_core: Callable, steps: int = 100, seed: int = 0) -> float:
    """The largest |θ_core − θ_torch| over ``steps`` steps on 𝓛(θ) = ½ θᵀAθ in six dimensions.

    A has eigenvalues from 0.1 to 10 in random directions and θ₀ is random (both from
    ``seed``). ``make_torch(params)`` builds the torch optimizer, ``make_core()`` the core's.
    """
    steps = _checks.positive_int(steps, "steps")
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    A, theta0 = q @ np.diag(np.geomspace(0.1, 10, 6)) @ q.T, rng.normal(size=6)
    theta = torch.tensor(theta0, requires_grad=True)
    opt_torch, opt_core = make_torch([theta]), make_core()
    ours, state = theta0, opt_core.init(theta0)
    gap = 0.0
    for _ in range(steps):
        opt_torch.zero_grad()
        (0.5 * theta @ torch.from_numpy(A) @ theta).backward()
        opt_torch.step()
        ours, state = opt_core.step(ours, A @ ours, state)
        gap = max(gap, float(np.abs(ours - theta.detach().numpy()).max()))
    return gap


def twins_table(pairs: Mapping[str, tuple], steps: int = 100, tol: float = 1e-12) -> str:
    """One line per ``name: (make_torch, make_core)``: whether :func:`torch_gap` stays below ``tol``."""
    _checks.positive(tol, "tol")
    return "\n".join(f"{name:<18} {steps} steps, max |θ_lrcourse − θ_torch| < {tol:g}: "
                     f"{torch_gap(make_torch, make_core, steps) < tol}"
                     for name, (make_torch, make_core) in pairs.items())
