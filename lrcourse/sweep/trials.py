"""What a full-scale sweep runs: its settings (:class:`Spec`) and one trial (:func:`run_trial`).

A trial is one run of a case study, ``lrcourse.cases.<case>.train(lr, seed, **options)``,
the same call for every backend, so a sweep on Ray gives the runs a local sweep gives.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
from dataclasses import dataclass, field

from lrcourse import _checks

CASES = ("cnn", "lstm", "rl", "mlp", "gpt")
ENVS = {"breakout": "ALE/Breakout-v5", "cartpole": "CartPole-v1", "minatar-breakout": "MinAtar/Breakout-v1"}
"""Short names of the environments of the RL case (``--env``); any gymnasium id works too."""

ENGINE_OPTIONS = ("device", "on_eval", "checkpoint", "checkpoint_every", "until", "progress", "threads")


def case_module(case: str):
    _checks.one_of(case, "case", CASES)
    return importlib.import_module(f"lrcourse.cases.{case}")


@dataclass(frozen=True)
class Spec:
    """A sweep's settings. ``options`` are keywords of the case's ``train`` (``env``, ``frames``,
    ``steps``, ``epochs``, ``data``, ``optimizer``, …) and ``optimizer_kwargs`` go to its optimizer."""

    case: str
    lrs: tuple
    seeds: tuple
    options: dict = field(default_factory=dict)
    optimizer_kwargs: dict = field(default_factory=dict)
    device: str = "auto"
    checkpoint_dir: str | None = None
    checkpoint_every: int | None = None

    def __post_init__(self):
        module = case_module(self.case)
        object.__setattr__(self, "lrs", tuple(float(v) for v in _checks.learning_rates(self.lrs)))
        object.__setattr__(self, "seeds", _checks.seeds(self.seeds))
        if self.checkpoint_every is not None:
            _checks.positive_int(self.checkpoint_every, "checkpoint_every")
        accepted = {name for name, p in inspect.signature(module.train).parameters.items()
                    if p.kind is not inspect.Parameter.VAR_KEYWORD and name not in ("lr", "seed")}
        for name in self.options:
            if name not in accepted or name in ENGINE_OPTIONS or name in ("lr", "seed", "schedule"):
                raise ValueError(f"Invalid {name} value: {self.options[name]!r} (lrcourse.cases.{self.case}"
                                 f".train takes no {name}= here; it takes {', '.join(sorted(accepted - set(ENGINE_OPTIONS)))})")
        takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD
                           for p in inspect.signature(module.train).parameters.values())
        if self.optimizer_kwargs and not takes_kwargs:
            raise ValueError(f"Invalid optimizer_kwargs value: {self.optimizer_kwargs!r} "
                             f"(lrcourse.cases.{self.case}.train takes no optimizer arguments)")

    @property
    def members(self) -> list:
        """The (lr, seed) of every trial, seed by seed and α by α (a Sweep's order)."""
        return [(lr, seed) for seed in self.seeds for lr in self.lrs]

    def settings(self) -> dict:
        """What identifies the sweep in its results file (a rerun must match it to resume)."""
        return {"case": self.case, "options": dict(self.options), "optimizer_kwargs": dict(self.optimizer_kwargs),
                "lrs": list(self.lrs), "seeds": list(self.seeds)}

    def checkpoint_path(self, lr: float, seed: int) -> pathlib.Path | None:
        if self.checkpoint_dir is None:
            return None
        return pathlib.Path(self.checkpoint_dir) / f"{self.case}-lr{lr:.6g}-seed{seed}.pt"


def run_trial(spec: Spec, lr: float, seed: int, *, device=None, on_eval=None, until=None,
              progress: bool = False, checkpoint: bool = True):
    """``lrcourse.cases.<case>.train(lr, seed, **options)`` on ``device`` (default: the spec's),
    checkpointed in the spec's directory (when it has one and ``checkpoint``); returns its History."""
    module = case_module(spec.case)
    engine_options = {"device": spec.device if device is None else device, "on_eval": on_eval, "until": until}
    path = spec.checkpoint_path(lr, seed) if checkpoint else None
    if path is not None:
        engine_options.update(checkpoint=path, checkpoint_every=spec.checkpoint_every)
    parameters = inspect.signature(module.train).parameters
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    for name, value in list(engine_options.items()):
        if name not in parameters and not takes_kwargs:
            if value is not None:
                raise ValueError(f"Invalid {name} value: {value!r} (lrcourse.cases.{spec.case}.train "
                                 f"does not pass {name}= to the engine)")
            del engine_options[name]
    return module.train(float(lr), seed=int(seed), progress=progress, **spec.options, **spec.optimizer_kwargs,
                        **engine_options)
