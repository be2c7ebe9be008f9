"""Recording what an optimizer did at every step of a training run (weights and gradients).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from lrcourse import _checks


def median_abs_weight(model) -> float:
    """The median |θ| over all of a model's parameters (read through ``model.parameters()``)."""
    return float(np.median(np.abs(_flat(model.parameters()))))


def _flat(tensors) -> np.ndarray:
    return np.concatenate([np.asarray(t.detach().reshape(-1).numpy(), dtype=float) for t in tensors])


class StepRecorder:
    """Wraps a problem factory for ``engine.train`` and keeps the weights and gradients of every step.

    ``engine.train`` calls the problem's ``loss`` once per step, before the step; at that
    moment the model holds θ_{k} and each ``p.grad`` the gradient g_{k} of the previous step
    (the engine clears it only after the loss). So::

        recorder = StepRecorder(make_problem)
        history = engine.train(recorder, lr, optimizer="adam")
        recorder.finish(history.model)        # the last step's θ and g
        recorder.ratios(lr)                   # |θ_t − θ_{t−1}| / α, shape (steps, weights)

    Recording does not change the run: the same seed gives the same history.
    """

    def __init__(self, make_problem: Callable):
        if not callable(make_problem):
            raise ValueError(f"Invalid make_problem: {make_problem!r} (expected a function seed -> Problem)")
        self.make_problem = make_problem
        self.weights: list[np.ndarray] = []
        self.gradients: list[np.ndarray] = []
        self.finished = False

    def __call__(self, seed):
        problem = self.make_problem(seed)
        loss = problem.loss

        def recording_loss(forward, batch):
            self._record(forward)
            return loss(forward, batch)

        problem.loss = recording_loss
        problem.batchable = False
        return problem

    def _record(self, model):
        params = list(model.parameters())
        self.weights.append(_flat(params))
        if all(p.grad is not None for p in params):
            self.gradients.append(_flat(p.grad for p in params))

    def finish(self, model) -> "StepRecorder":
        """Record the trained ``model``: the weights after the last step and its gradient."""
        if self.finished:
            raise ValueError("Invalid call: finish() was already called on this recorder")
        if not self.weights:
            raise ValueError("Invalid call: nothing recorded yet (train with engine.train(recorder, ...) first)")
        self._record(model)
        self.finished = True
        return self

    def ratios(self, lr: float) -> np.ndarray:
        """|θ_t − θ_{t−1}| / α for every step t and weight: shape (steps, weights)."""
        _checks.positive(lr, "lr")
        if not self.finished:
            raise ValueError("Invalid call: call finish(history.model) before ratios()")
        return np.abs(np.diff(np.array(self.weights), axis=0)) / lr
