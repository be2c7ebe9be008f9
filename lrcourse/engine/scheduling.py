"""Driving torch optimizers with the core's schedules: ``engine.to_torch(schedule, optimizer)``."""

from __future__ import annotations

import torch

from lrcourse._checks import nonnegative


def to_torch(schedule, optimizer):
    """A torch scheduler that sets every param group's lr to ``schedule(k)`` at step ``k``.

    It is a ``torch.optim.lr_scheduler.LambdaLR`` whose base learning rate is 1, so
    its multiplier is the rate itself::

        lr_k = base_lr · multiplier(k) = 1 · schedule(k)

    Use it as any torch scheduler, ``scheduler.step()`` after each ``optimizer.step()``:
    the ``k``-th optimizer step (from 0) then uses ``schedule(k)``. The optimizer's
    own ``lr`` is ignored, so a schedule that starts at 0 works too. ``schedule`` is
    any callable ``step -> lr``, usually one of :mod:`lrcourse.core.schedules`.
    """
    if not callable(schedule):
        raise ValueError(f"Invalid schedule: {schedule!r} (expected a callable step -> lr, "
                         "e.g. schedules.cosine(0.1, total_steps=1000))")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"Invalid optimizer: {optimizer!r} (expected a torch.optim.Optimizer)")

    def rate(step):
        lr = schedule(step)
        try:
            return float(nonnegative(lr, "learning rate"))
        except (TypeError, ValueError):
            raise ValueError(f"Invalid learning rate: {lr!r} (returned by the schedule at step {step})") from None

    for group in optimizer.param_groups:
        group["initial_lr"] = 1.0  # LambdaLR's base lr: the multiplier is then the rate itself
    return torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
