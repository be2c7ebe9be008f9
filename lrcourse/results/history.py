"""What a training run returns (:class:`History`) and what a sweep over α returns (:class:`Sweep`)."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lrcourse.results.tables import format_table


@dataclass(frozen=True, repr=False, eq=False)
class History:
    """The record of one training run.

    ``loss[k]`` is the training loss at optimizer step ``k`` (k from 0); when the
    run diverged, the last entry is the loss that stopped it. ``lrs[k]`` is the
    learning rate that step ``k`` applied (one per step actually taken).
    ``metric[i]`` was evaluated after ``metric_steps[i]`` optimizer steps, that is
    at epoch ``metric_epochs[i]``; a diverged run is evaluated once more where it
    stopped. ``final`` is the last evaluation (``nan`` when it was not finite or
    there was none). ``seconds`` is the wall time (for a batched sweep: the
    sweep's time divided by its number of runs). ``logs`` holds what the case
    recorded at each step besides the loss (see :attr:`Problem.logs`), as arrays
    aligned with ``loss``; empty when there was nothing, and in batched sweeps.
    ``model`` and ``optimizer`` are the trained torch module and the ``torch.optim``
    optimizer with its state (``optimizer.state``), to look inside or train on;
    ``None`` for the runs of a batched sweep.
    """

    loss: np.ndarray
    lrs: np.ndarray
    metric: np.ndarray
    metric_steps: np.ndarray
    metric_epochs: np.ndarray
    diverged: bool
    diverged_at: int | None
    diverged_loss: float | None
    seconds: float
    config: dict = field(default_factory=dict)
    logs: dict = field(default_factory=dict)
    model: Any = None
    optimizer: Any = None

    @property
    def final(self) -> float:
        """The metric at the end of training; ``nan`` if that is not a finite number."""
        if len(self.metric) == 0 or not math.isfinite(self.metric[-1]):
            return math.nan
        return float(self.metric[-1])

    @property
    def steps(self) -> int:
        """Optimizer steps taken."""
        return len(self.lrs)

    @property
    def metric_name(self) -> str:
        return self.config.get("metric_name", "metric")

    def __repr__(self) -> str:
        head = ", ".join(f"{key}={self.config[key]!r}" for key in ("lr", "seed") if key in self.config)
        if self.diverged:
            end = f"diverged at step {self.diverged_at} (loss {self.diverged_loss:.3g})"
        else:
            end = f"{self.steps} steps"
        # no wall time here: notebooks print reprs, and nbval compares them; ≤ 72 characters a line (phones)
        return textwrap.fill(f"History({head}: {end}, final {self.metric_name} {self.final:.4g})", width=72,
                             subsequent_indent=" " * 8, break_long_words=False, break_on_hyphens=False)


def _nan_stat(values: np.ndarray, stat) -> np.ndarray:
    out = np.full(values.shape[0], np.nan)
    for i, row in enumerate(values):
        finite = row[np.isfinite(row)]
        if finite.size:
            out[i] = stat(finite)
    return out


@dataclass(frozen=True, repr=False, eq=False)
class Sweep:
    """Runs over a grid of learning rates × seeds.

    ``sweep[lr, seed]`` (or ``sweep.histories[(lr, seed)]``) is one run's
    :class:`History`; ``lr`` may be given approximately (it is matched with
    ``np.isclose``); iterating over a sweep gives its Histories, seed by seed
    and α by α. ``finals`` is the (len(lrs), len(seeds)) array of final
    metrics; :meth:`summary` and :meth:`table` give the mean and standard
    deviation over seeds for each α.
    """

    lrs: np.ndarray
    seeds: tuple
    histories: dict
    seconds: float
    batched: bool
    metric_name: str = "metric"
    maximize: bool = True

    def __getitem__(self, key) -> History:
        lr, seed = key
        matches = [x for x in self.lrs if np.isclose(x, lr, rtol=1e-9, atol=0)]
        if not matches or seed not in self.seeds:
            raise KeyError(f"no run with lr={lr!r} and seed={seed!r} (lrs {list(self.lrs)}, seeds {list(self.seeds)})")
        return self.histories[(float(matches[0]), seed)]

    def __iter__(self):
        return iter(self.histories.values())

    def __len__(self) -> int:
        return len(self.histories)

    @property
    def grid(self) -> np.ndarray:
        """Histories as an object array of shape (len(lrs), len(seeds))."""
        out = np.empty((len(self.lrs), len(self.seeds)), dtype=object)
        for i, lr in enumerate(self.lrs):
            for j, seed in enumerate(self.seeds):
                out[i, j] = self.histories[(float(lr), seed)]
        return out

    @property
    def finals(self) -> np.ndarray:
        """Final metric of each run, shape (len(lrs), len(seeds))."""
        return np.vectorize(lambda h: h.final, otypes=[float])(self.grid)

    @property
    def diverged(self) -> np.ndarray:
        """Whether each run diverged, shape (len(lrs), len(seeds))."""
        return np.vectorize(lambda h: h.diverged, otypes=[bool])(self.grid)

    def summary(self) -> dict:
        """Per α: ``lr``, ``mean`` and ``std`` of the final metric over seeds (std with
        ``ddof=1``, 0 for a single seed; non-finite values left out) and the number
        of runs that ``diverged``."""
        finals = self.finals
        ddof = 1 if finals.shape[1] > 1 else 0
        std = _nan_stat(finals, lambda v: v.std(ddof=ddof) if v.size > ddof else 0.0)
        return {"lr": np.asarray(self.lrs, dtype=float),
                "mean": _nan_stat(finals, np.mean),
                "std": std,
                "diverged": self.diverged.sum(axis=1)}

    def best(self) -> float:
        """The α with the best mean final metric (highest, or lowest when ``maximize`` is False)."""
        mean = self.summary()["mean"]
        if not np.any(np.isfinite(mean)):
            return math.nan
        pick = np.nanargmax if self.maximize else np.nanargmin
        return float(self.lrs[pick(mean)])

    def table(self, digits: int = 3) -> str:
        """A text table: α, mean ± std of the final metric over seeds, runs diverged."""
        s = self.summary()
        n = len(self.seeds)
        rows = [[f"{lr:.3g}",
                 # every seed diverged: no metric to average, so say so instead of "nan ± nan"
                 "diverged" if not np.isfinite(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}",
                 f"{div}/{n}"]
                for lr, mean, std, div in zip(s["lr"], s["mean"], s["std"], s["diverged"])]
        return format_table(["lr", f"{self.metric_name} (mean ± std)", "diverged"], rows)

    def __repr__(self) -> str:
        how = "batched" if self.batched else "one by one"
        return f"Sweep({len(self.lrs)} lrs × {len(self.seeds)} seeds, {how})\n" + self.table()
