"""The training loop: one run of a case study at one learning rate.

A case study describes its training as a :class:`Problem` (model, loss, batches,
metric); :func:`train` does everything else once for all of them: the optimizer
from ``torch.optim`` by name, the schedule, gradient clipping, divergence
detection, evaluation, progress bar, timing and seeding. :func:`run` is the loop
itself, the only one for runs trained one by one: the range test
(:mod:`lrcourse.engine.lr_range`) is this loop with an exponential schedule, its
own stop rule and the weights restored at the end; batched sweeps have their own
(:mod:`lrcourse.engine.batched`).

Each optimizer step ``k`` (k = 0, 1, …) does

    loss_k = problem.loss(model, next(batches))        # stop if stop(k, loss_k): it diverged
    g = ∇ loss_k                                       # stop if not finite
    g ← g · min(1, clip_norm / (‖g‖ + 1e-6))           # when clip_norm is set
    θ ← optimizer step with α_k = schedule(k)          # or the constant lr
"""

from __future__ import annotations

import contextlib
import copy
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np
import torch

from lrcourse import _checks
from lrcourse.results.history import History
from lrcourse.engine import checkpoints, devices
from lrcourse.engine.optimizers import hyperparameters, optimizer_class

DIVERGENCE_FACTOR = 10.0
"""A run diverges when its loss is not finite or exceeds
``DIVERGENCE_FACTOR × max(|initial loss|, problem.loss_floor)``."""


@dataclass
class Problem:
    """What a case study hands to the engine for one seed.

    ``loss(forward, batch)`` returns the scalar training loss of one batch,
    where ``forward`` is the model (called like the model). ``batches`` yields
    one batch per optimizer step, at least ``steps`` of them.
    ``evaluate(forward)`` returns the metric as a 0-d tensor; it runs
    after every ``eval_every`` steps (default: each epoch, or only at the end),
    always at the end, and where a run diverged.

    ``loss_floor`` sets the divergence threshold for losses that start near 0;
    use ln(number of classes) for cross-entropy (the loss of a uniform guess).

    ``batchable`` promises that ``loss`` and ``evaluate`` are pure functions of
    ``forward`` and the batch (no ``.item()``, no state kept between calls, no
    randomness): a sweep may then run many learning rates at once under
    ``torch.func.vmap``, with ``forward`` calling the model on stacked weights.
    Every source of randomness in ``batches`` must be a generator created by the
    case for this seed, not the global one. Cases that carry state across
    batches (an LSTM's hidden state) or act in an environment (RL) set it False.

    The shape fits the other case studies too: an LSTM's ``loss`` keeps the
    hidden state in a closure (detached after each batch: truncated BPTT) and
    trains with ``clip_norm``; an RL ``loss`` plays a rollout with ``forward`` as
    the policy and returns the policy-gradient loss, its ``batches`` being just
    ``itertools.count()``, and ``evaluate`` the mean return.

    ``logs`` maps names to lists that ``loss`` appends one number to at each
    call (an RL case records the policy's entropy); the History keeps them as
    arrays in ``History.logs``. Only runs trained one by one keep logs.

    ``lr_scales`` maps parameter names (``model.named_parameters()``) to a factor of
    the learning rate for that parameter (μP's per-layer learning rates); the others
    get α. Only runs trained one by one use it: such a problem is not ``batchable``.

    ``state`` and ``load_state`` let a checkpointed run resume exactly (see
    :mod:`lrcourse.engine.checkpoints`): ``state()`` returns what the case carries
    from one step to the next besides the model, the optimizer and the global
    random generators (its position in the data, an LSTM's hidden state, the
    environments and their generators), as anything ``torch.save`` can write;
    ``load_state(saved)`` puts a freshly built problem (same seed and config, no
    step taken) back there. Give both or neither. Without them the engine
    fast-forwards ``batches`` through the batches already used, which is exact
    when ``loss`` keeps no state between calls and ``batches`` draws only from
    generators the case created for this seed (the CNN's, the MLP's).
    """

    model: torch.nn.Module
    loss: Callable[[Callable, Any], torch.Tensor]
    batches: Iterable
    steps: int
    evaluate: Callable[[Callable], Any] | None = None
    eval_every: int | None = None
    steps_per_epoch: int | None = None
    loss_floor: float = 0.0
    metric_name: str = "metric"
    maximize: bool = True
    batchable: bool = True
    config: dict = field(default_factory=dict)
    logs: dict = field(default_factory=dict)
    lr_scales: dict | None = None
    state: Callable[[], Any] | None = None
    load_state: Callable[[Any], None] | None = None

    def __post_init__(self):
        if (self.state is None) != (self.load_state is None):
            raise ValueError("Invalid state value: a problem gives both state and load_state, or neither")
        if self.lr_scales is not None:
            names = {name for name, _ in self.model.named_parameters()}
            unknown = sorted(set(self.lr_scales) - names)
            if unknown or any(not math.isfinite(v) or v <= 0 for v in self.lr_scales.values()):
                raise ValueError(f"Invalid lr_scales: {self.lr_scales!r} (expected positive factors for "
                                 f"parameters of the model; unknown: {unknown})")
            self.batchable = False
        self.steps = _checks.positive_int(self.steps, "steps")
        if self.steps_per_epoch is not None:
            self.steps_per_epoch = _checks.positive_int(self.steps_per_epoch, "steps_per_epoch")
        if self.eval_every is None:
            self.eval_every = self.steps_per_epoch or self.steps
        self.eval_every = _checks.positive_int(self.eval_every, "eval_every")

    def evaluates_after(self, steps_taken: int) -> bool:
        return steps_taken % self.eval_every == 0 or steps_taken == self.steps

    def epoch(self, steps_taken: int) -> float:
        return steps_taken / self.steps_per_epoch if self.steps_per_epoch else math.nan


@contextlib.contextmanager
def repeatable(seed: int, threads: int | None = 1):
    """Seed ``random``, ``numpy`` and ``torch`` with ``seed`` and run torch on ``threads``
    CPU threads (``None``: leave as is); on exit, restore the generators and the
    thread count. The same seed then gives bit-identical runs on one machine."""
    seed = _checks.seed(seed)
    py_state, np_state = random.getstate(), np.random.get_state()
    old_threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[]):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        if threads is not None:
            torch.set_num_threads(_checks.positive_int(threads, "threads"))
        try:
            yield
        finally:
            torch.set_num_threads(old_threads)
            random.setstate(py_state)
            np.random.set_state(np_state)


def lr_plan(lr, schedule, steps: int) -> np.ndarray:
    """α_k for k = 0 … steps−1: ``schedule(k)`` when a schedule is given, else ``lr``.

    Every α_k must be a finite number ≥ 0.
    """
    _checks.lr_or_schedule(lr, schedule)
    if schedule is None:
        return np.full(steps, float(lr))
    plan = np.empty(steps)
    for k in range(steps):
        value = schedule(k)
        if isinstance(value, torch.Tensor) and value.ndim == 0:
            value = value.item()
        array = np.asarray(value, dtype=object if value is None else None)
        if isinstance(value, bool) or array.ndim != 0 or array.dtype.kind not in "iuf":
            raise ValueError(f"Invalid learning rate from the schedule at step {k}: {value!r}")
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"Invalid learning rate from the schedule at step {k}: {value}")
        plan[k] = value
    return plan


def divergence_threshold(initial_loss: float, loss_floor: float) -> float:
    return DIVERGENCE_FACTOR * max(abs(initial_loss), loss_floor)


def progress_bar(total: int, desc: str | None, enabled: bool, unit: str = "step"):
    """A ``tqdm.auto`` bar (a widget in Jupyter, text in a terminal), or a silent stand-in."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit=unit, mininterval=0.25)


class _NoBar:
    def update(self, n=1):
        pass

    def set_postfix_str(self, s, refresh=True):
        pass

    def close(self):
        pass


def next_batch(batches, step: int):
    try:
        return next(batches)
    except StopIteration:
        raise ValueError(f"Invalid batches: they ran out after {step} batches "
                         "(a problem's batches must yield one batch per step)") from None


def _as_float(value) -> float:
    value = value.item() if isinstance(value, torch.Tensor) else value
    return float(value)


def diverges(loss_floor: float) -> Callable[[int, float], bool]:
    """The stop rule of :func:`train`: loss_k is not finite, or exceeds
    ``DIVERGENCE_FACTOR × max(|loss_0|, loss_floor)``."""
    threshold = math.inf

    def stop(k: int, value: float) -> bool:
        nonlocal threshold
        if k == 0:
            threshold = divergence_threshold(value, loss_floor)
        return not math.isfinite(value) or value > threshold

    return stop


def train(make_problem: Callable[[int], Problem], lr=None, *, seed: int = 0, optimizer: str = "sgd",
          schedule=None, clip_norm=None, progress: bool = False, desc: str | None = None,
          threads: int | None = 1, device="cpu", on_eval: Callable[[int, float], Any] | None = None,
          checkpoint=None, checkpoint_every: int | None = None, until: int | None = None,
          **optimizer_kwargs) -> History:
    """Train ``make_problem(seed)`` with ``torch.optim.<optimizer>`` at learning rate ``lr``.

    ``optimizer`` is a torch.optim name in any case (``"sgd"``, ``"adam"``,
    ``"adamw"``, ``"rmsprop"``, ``"adagrad"``, …) and ``optimizer_kwargs`` go to it
    unchanged (``momentum=0.9``, ``betas=(0.9, 0.99)``, ``weight_decay=…``).
    ``schedule(k) -> α`` sets the learning rate of the k-th step (k from 0) instead
    of a constant ``lr``. ``clip_norm`` clips the global gradient norm as
    ``torch.nn.utils.clip_grad_norm_`` does.

    Divergence: the run stops at step k when loss_k is not finite, or when
    ``loss_k > 10 × max(|loss_0|, problem.loss_floor)``, or when the gradient is
    not finite; ``diverged_at = k`` and ``diverged_loss = loss_k`` are recorded
    and the model is evaluated as it is (the diverging step is not applied).

    The problem is built and trained inside :func:`repeatable` (``seed``,
    ``threads``), so the same seed gives a bit-identical history. The history
    keeps the trained model and the optimizer (``h.model``, ``h.optimizer``).

    ``device`` is ``"cpu"`` (default), ``"cuda"``, ``"mps"`` or ``"auto"`` (a GPU when there
    is one; see :mod:`lrcourse.engine.devices`). ``on_eval(step, value)`` is called after
    every evaluation (a sweep reports the curve as it goes). ``checkpoint`` is a file: the
    run saves itself there every ``checkpoint_every`` steps (default: at every evaluation)
    and, when the file exists, resumes from it with results identical to a run never
    stopped (:mod:`lrcourse.engine.checkpoints`). ``until`` stops after that many steps: the
    first part of the same run (same plan of α), e.g. to check a recorded run's start.
    """
    seed = _checks.seed(seed)
    _checks.lr_or_schedule(lr, schedule)
    cls = optimizer_class(optimizer)
    clip_norm = _checks.clip_norm(clip_norm)
    device = devices.resolve(device)
    if on_eval is not None and not callable(on_eval):
        raise ValueError(f"Invalid on_eval value: {on_eval!r} (expected a function (step, value) -> None)")
    if checkpoint_every is not None:
        checkpoint_every = _checks.positive_int(checkpoint_every, "checkpoint_every")
    if until is not None:
        until = _checks.positive_int(until, "until")
    with repeatable(seed, threads):
        problem = make_problem(seed)
        lrs = lr_plan(lr, schedule, problem.steps)
        opt_kwargs = dict(optimizer_kwargs)
        hyperparameters(optimizer, float(lrs[0]), **opt_kwargs)        # torch's checks, before any work
        config = {"lr": None if lr is None else float(lr), "seed": seed, "optimizer": optimizer.lower(),
                  "optimizer_kwargs": opt_kwargs, "schedule": schedule, "clip_norm": clip_norm,
                  "steps": problem.steps, "batched": False, "metric_name": problem.metric_name,
                  "maximize": problem.maximize, **problem.config}
        return run(problem, cls, lrs, opt_kwargs, clip_norm, config=config, progress=progress, desc=desc,
                   device=device, on_eval=on_eval, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                   until=until)


def run(problem: Problem, cls, lrs, opt_kwargs: dict, clip_norm=None, *, stop=None, restore: bool = False,
        config: dict | None = None, progress: bool = False, desc: str | None = None, device="cpu",
        on_eval: Callable[[int, float], Any] | None = None, checkpoint=None, checkpoint_every: int | None = None,
        until: int | None = None) -> History:
    """The loop itself: ``problem.steps`` steps of ``cls(params, **opt_kwargs)`` with α_k = ``lrs[k]``.

    ``stop(k, loss_k) -> bool`` is called with every loss before its step is taken (default:
    :func:`diverges`); when it says True, or the gradient is not finite, the run stops there
    and ``History.diverged_at = k``. ``restore=True`` puts the model's weights and its
    train/eval mode back as they were at the start, even after an exception.
    ``device``, ``on_eval``, ``checkpoint``, ``checkpoint_every`` and ``until``: see :func:`train`.
    No seeding here: :func:`train` (and the range test) call it inside :func:`repeatable`.
    """
    start = time.perf_counter()
    device = devices.resolve(device)
    model = problem.model.to(device)
    forward = devices.wrap(model, device)
    params = [p for p in model.parameters() if p.requires_grad]
    stop = diverges(problem.loss_floor) if stop is None else stop
    if restore:
        saved, was_training = copy.deepcopy(model.state_dict()), model.training
    losses, metric, metric_steps = [], [], []
    diverged_at = diverged_loss = None
    last_step = problem.steps if until is None else min(until, problem.steps)
    if checkpoint is not None:
        settings = checkpoints.run_settings(config or {})
        identity = checkpoints.fingerprint(config or {}, lrs)
    earlier_seconds = 0.0

    def evaluate(steps_taken):
        if problem.evaluate is None or (metric_steps and metric_steps[-1] == steps_taken):
            return
        model.eval()
        with torch.no_grad():
            metric.append(_as_float(problem.evaluate(forward)))
        model.train()
        metric_steps.append(steps_taken)
        bar.set_postfix_str(f"loss {losses[-1]:.3g}, {problem.metric_name} {metric[-1]:.4g}")
        if on_eval is not None:
            on_eval(steps_taken, metric[-1])

    def save(steps_taken):
        checkpoints.save(checkpoint, {
            "fingerprint": identity, "settings": settings, "steps_taken": steps_taken,
            "model": model.state_dict(), "optimizer": opt.state_dict(), "rng": checkpoints.rng_state(),
            "problem": problem.state() if problem.state is not None else None,
            "losses": list(losses), "metric": list(metric), "metric_steps": list(metric_steps),
            "logs": {name: list(values) for name, values in problem.logs.items()},
            "seconds": earlier_seconds + time.perf_counter() - start})

    def resume(batches) -> int:
        """Put the run where the checkpoint left it; the number of steps it had taken."""
        nonlocal earlier_seconds
        saved = None if checkpoint is None else checkpoints.load(checkpoint, identity, settings, device)
        if saved is None:
            return 0
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        if problem.load_state is not None:
            problem.load_state(saved["problem"])
        else:
            for k in range(saved["steps_taken"]):
                next_batch(batches, k)
        for name, values in saved["logs"].items():
            problem.logs[name][:] = values              # in place: the case's loss appends to these lists
        losses[:], metric[:], metric_steps[:] = saved["losses"], saved["metric"], saved["metric_steps"]
        for k, value in enumerate(losses):
            stop(k, value)                              # the stop rule's own state (diverges: loss_0)
        checkpoints.set_rng_state(saved["rng"])
        earlier_seconds = saved["seconds"]
        bar.update(min(saved["steps_taken"], last_step))
        return saved["steps_taken"]

    bar = progress_bar(last_step, desc, progress)
    try:
        if problem.lr_scales is None:
            opt = cls(params, lr=float(lrs[0]), **opt_kwargs)
        else:                                          # one group per parameter, with its factor of α
            opt = cls([{"params": [p], "lr_scale": float(problem.lr_scales.get(name, 1.0))}
                       for name, p in model.named_parameters() if p.requires_grad],
                      lr=float(lrs[0]), **opt_kwargs)
        batches = iter(problem.batches)
        model.train()
        for k in range(resume(batches), last_step):
            loss = problem.loss(forward, devices.batch_to(next_batch(batches, k), device))
            value = loss.item()
            losses.append(value)
            if stop(k, value):
                diverged_at, diverged_loss = k, value
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if clip_norm is not None:
                grad_norm = torch.nn.utils.clip_grad_norm_(params, clip_norm)
            else:
                grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
            if not math.isfinite(grad_norm.item()):
                diverged_at, diverged_loss = k, value
                break
            for group in opt.param_groups:
                group["lr"] = float(lrs[k]) * group["lr_scale"] if "lr_scale" in group else float(lrs[k])
            opt.step()
            bar.update()
            if problem.evaluates_after(k + 1):
                evaluate(k + 1)
            if checkpoint is not None and (problem.evaluates_after(k + 1) if checkpoint_every is None
                                           else (k + 1) % checkpoint_every == 0):
                save(k + 1)
        if diverged_at is not None:
            evaluate(diverged_at)
            bar.set_postfix_str(f"stopped at step {diverged_at} (loss {diverged_loss:.3g})")
    finally:
        bar.close()
        if restore:
            model.load_state_dict(saved)
            model.train(was_training)
    steps_taken = len(losses) - (diverged_at is not None)
    return History(
        loss=np.asarray(losses, dtype=float),
        lrs=np.asarray(lrs[:steps_taken], dtype=float),
        metric=np.asarray(metric, dtype=float),
        metric_steps=np.asarray(metric_steps, dtype=int),
        metric_epochs=np.asarray([problem.epoch(s) for s in metric_steps], dtype=float),
        diverged=diverged_at is not None,
        diverged_at=diverged_at,
        diverged_loss=diverged_loss,
        seconds=earlier_seconds + time.perf_counter() - start,
        config={} if config is None else config,
        logs={name: np.asarray(values, dtype=float) for name, values in problem.logs.items()},
        model=model,
        optimizer=opt,
    )
