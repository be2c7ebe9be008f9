"""Sweeps over the learning rate: many runs, batched across α when the model allows it.

Runs with different α (and seeds) of the same small model differ only in their
numbers, so instead of training them one after the other we stack their
weights along a new leading axis and train the stack at once:

    params[n]  has shape (runs, *shape of parameter n)
    losses     = vmap(loss)(params, batch)              # one loss per run
    grads      = ∇ Σ losses                             # = each run's own gradient
    params[n] ← torch.optim update with α = lr[run]      # see engine.optimizers

``torch.func.functional_call`` runs the case's own model on each slice of the
stack, so the case writes its model and loss once. A run that diverges is
evaluated, recorded and dropped from the stack at that step; the others go on.
Where batching is not possible (an optimizer without a batched update, a
problem that is not ``batchable``) the runs go one by one through
:func:`lrcourse.engine.train`, with the same results; ``workers=2`` trains two
of them at a time, in forked processes (one CPU core each), again with the
same results.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import pickle
import time
from typing import Callable

import numpy as np
import torch
from torch.func import functional_call, vmap

from lrcourse import _checks
from lrcourse.engine import devices
from lrcourse.results.history import History, Sweep
from lrcourse.engine.loop import (Problem, divergence_threshold, lr_plan, next_batch, progress_bar, repeatable,
                                  train)
from lrcourse.engine.optimizers import batched_update, hyperparameters, optimizer_class


def schedule_for(schedule, lr: float):
    """``schedule(lr)``: a sweep takes a *family* of schedules, one per α."""
    if schedule is None:
        return None
    if not callable(schedule):
        raise ValueError(f"Invalid schedule: {schedule!r} (expected a function lr -> schedule)")
    made = schedule(lr)
    if not callable(made):
        raise ValueError(f"Invalid schedule: schedule({lr}) returned {made!r}, not a schedule; a sweep "
                         "expects a function lr -> schedule, e.g. lambda lr: schedules.cosine(lr, total_steps)")
    return made


def sweep(make_problem: Callable[[int], Problem], lrs, seeds=(0,), *, optimizer: str = "sgd",
          schedule=None, clip_norm=None, progress: bool = False, desc: str | None = None,
          threads: int | None = 1, batched: bool = True, workers: int = 1, device="cpu",
          **optimizer_kwargs) -> Sweep:
    """Train ``make_problem(seed)`` for every α in ``lrs`` and every seed in ``seeds``.

    Same options as :func:`lrcourse.engine.train`, except ``schedule``: here a
    function ``lr -> schedule`` (e.g. ``lambda lr: schedules.cosine(lr, 500)``),
    since α is what the sweep varies. ``batched=False`` forces one-by-one runs;
    ``workers`` > 1 trains that many of those at a time in forked processes
    (where the platform can fork; each run is seeded, so the results do not change;
    on a GPU the runs go one at a time). ``device``: see :func:`lrcourse.engine.train`.
    Returns a :class:`Sweep` with ``sweep[lr, seed]`` the run's :class:`History`.
    """
    lrs = _checks.learning_rates(lrs)
    seeds = _checks.seeds(seeds)
    workers = _checks.positive_int(workers, "workers")
    device = devices.resolve(device)
    if device.type != "cpu":
        workers = 1                                # forked processes cannot share a GPU context
    optimizer_class(optimizer)
    clip_norm = _checks.clip_norm(clip_norm)
    schedules = {float(lr): schedule_for(schedule, float(lr)) for lr in lrs}
    hp = hyperparameters(optimizer, float(lrs[0]), **optimizer_kwargs)
    hp.pop("lr")                                   # each run has its own
    update = batched_update(optimizer, hp) if batched else None

    start = time.perf_counter()
    members = [(float(lr), seed) for seed in seeds for lr in lrs]
    histories = None
    if update is not None:
        problems = {}
        for seed in seeds:
            with repeatable(seed, threads):
                problems[seed] = make_problem(seed)
        if _can_batch(problems):
            with repeatable(seeds[0], threads):
                histories = _sweep_batched(problems, members, schedules, update, hp, clip_norm,
                                           progress, desc, optimizer, dict(optimizer_kwargs), device)
    if histories is None:
        histories = _sweep_one_by_one(make_problem, members, schedules, clip_norm, progress, desc,
                                      threads, optimizer, dict(optimizer_kwargs), workers, device)
    some = next(iter(histories.values()))
    return Sweep(lrs=lrs, seeds=seeds, histories={m: histories[m] for m in members},
                 seconds=time.perf_counter() - start, batched=some.config["batched"],
                 metric_name=some.config.get("metric_name", "metric"),
                 maximize=some.config.get("maximize", True))


def _sweep_one_by_one(make_problem, members, schedules, clip_norm, progress, desc, threads,
                      optimizer, optimizer_kwargs, workers: int = 1, device=None) -> dict:
    global _JOB
    histories = {}
    bar = progress_bar(len(members), desc or f"{len(members)} runs", progress, unit="run")
    _JOB = (make_problem, members, schedules, clip_norm, threads, optimizer, optimizer_kwargs,
            device or torch.device("cpu"))
    try:
        if workers > 1 and len(members) > 1 and "fork" in multiprocessing.get_all_start_methods():
            # Forked workers inherit the job (make_problem is often a closure, which cannot be
            # pickled); only run numbers go out, and Histories without their schedule come back.
            with multiprocessing.get_context("fork").Pool(min(workers, len(members))) as pool:
                for (lr, seed), data in zip(members, pool.imap(_train_member_pickled, range(len(members)))):
                    h = pickle.loads(data)
                    histories[(lr, seed)] = dataclasses.replace(h, config={**h.config, "schedule": schedules[lr]})
                    bar.update()
        else:
            for i, member in enumerate(members):
                histories[member] = _train_member(i, keep_schedule=True)
                bar.update()
    finally:
        _JOB = None
        bar.close()
    return histories


_JOB = None          # the runs of the sweep in progress, for _train_member (in this process or a fork)


def _train_member(i: int, keep_schedule: bool = False) -> History:
    make_problem, members, schedules, clip_norm, threads, optimizer, optimizer_kwargs, device = _JOB
    lr, seed = members[i]
    sched = schedules[lr]
    h = train(make_problem, None if sched else lr, seed=seed, optimizer=optimizer, schedule=sched,
              clip_norm=clip_norm, threads=threads, device=device, **optimizer_kwargs)
    return dataclasses.replace(h, config={**h.config, "lr": lr, "schedule": sched if keep_schedule else None})


def _train_member_pickled(i: int) -> bytes:
    """:func:`_train_member` in a worker, its History (model and optimizer included) as plain
    pickle bytes. A pool would otherwise send every tensor through torch's shared-memory
    reductions, one file descriptor each, and hundreds of those hung the kernel."""
    return pickle.dumps(_train_member(i))


def _can_batch(problems: dict) -> bool:
    """All problems batchable, with the same parameter shapes, steps and evaluation points."""
    first = next(iter(problems.values()))
    shapes = [{n: p.shape for n, p in pr.model.named_parameters()} for pr in problems.values()]
    return (all(pr.batchable for pr in problems.values())
            and all(p.requires_grad for p in first.model.parameters())
            and all(s == shapes[0] for s in shapes)
            and all((pr.steps, pr.eval_every) == (first.steps, first.eval_every) for pr in problems.values()))


def _stack_for_runs(batches: list, seed_index: torch.Tensor):
    """Stack the seeds' batches and pick, for each run, the batch of its seed."""
    first = batches[0]
    if isinstance(first, torch.Tensor):
        return torch.stack(batches)[seed_index]
    if isinstance(first, (tuple, list)):
        return type(first)(_stack_for_runs(list(parts), seed_index) for parts in zip(*batches))
    if isinstance(first, dict):
        return {key: _stack_for_runs([b[key] for b in batches], seed_index) for key in first}
    raise TypeError(f"a batchable problem's batches must hold tensors, got {type(first).__name__}")


def _sweep_batched(problems: dict, members, schedules, update, hp, clip_norm, progress, desc,
                   optimizer, optimizer_kwargs, device=None) -> dict:
    start = time.perf_counter()
    device = device or torch.device("cpu")
    on_cpu = device.type == "cpu"
    seeds = list(problems)
    base = problems[seeds[0]]
    model, steps = base.model.to(device), base.steps
    names = [n for n, _ in model.named_parameters()]
    buffers = dict(model.named_buffers())
    runs = len(members)
    run_seed = np.array([seeds.index(seed) for _, seed in members])

    lr_table = np.stack([np.full(steps, lr) if schedules[lr] is None else lr_plan(None, schedules[lr], steps)
                         for lr, _ in members])                                  # (runs, steps)
    seed_params = {s: dict(problems[s].model.named_parameters()) for s in seeds}
    params = {n: torch.stack([seed_params[s][n].detach().to(device) for _, s in members]).requires_grad_()
              for n in names}
    state = {n: {} for n in names}

    def on_device(index: np.ndarray) -> torch.Tensor:
        index = torch.from_numpy(index)
        return index if on_cpu else index.to(device)

    def forward(p):
        if on_cpu:
            return lambda *args, **kwargs: functional_call(model, (p, buffers), args, kwargs)

        def moved(*args, **kwargs):               # as devices.OnDevice: outputs back where the inputs were
            home = devices.first_device(list(args) + list(kwargs.values()))
            out = functional_call(model, (p, buffers), devices.to_device(args, device),
                                  devices.to_device(kwargs, device))
            return out if home is None or home == device else devices.to_device(out, home)
        return moved

    def run_loss(p, batch):
        return base.loss(forward(p), batch)

    loss_shared_batch = vmap(run_loss, in_dims=(0, None))
    loss_own_batch = vmap(run_loss, in_dims=(0, 0))
    evaluators = {s: vmap(lambda p, s=s: problems[s].evaluate(forward(p))) for s in seeds}

    active = np.arange(runs)                   # runs still training, in stack order
    loss_table = np.full((runs, steps), np.nan)
    metric = [[] for _ in range(runs)]
    metric_steps = [[] for _ in range(runs)]
    diverged_at = [None] * runs
    diverged_loss = [None] * runs
    thresholds = np.full(runs, math.inf)

    def evaluate(positions: np.ndarray, steps_taken: int):
        """Evaluate the stacked runs at ``positions`` (indices into ``active``)."""
        if base.evaluate is None or positions.size == 0:
            return
        model.eval()
        with torch.no_grad():
            for j, s in enumerate(seeds):
                here = positions[run_seed[active[positions]] == j]
                if here.size == 0:
                    continue
                index = on_device(here)
                values = evaluators[s]({n: p.detach()[index] for n, p in params.items()})
                for run, value in zip(active[here], np.atleast_1d(values.cpu().double().numpy())):
                    if not metric_steps[run] or metric_steps[run][-1] != steps_taken:
                        metric[run].append(float(value))
                        metric_steps[run].append(steps_taken)
        model.train()

    iterators = [iter(problems[s].batches) for s in seeds]
    bar = progress_bar(steps, desc or f"{runs} runs at once", progress)
    model.train()
    try:
        for k in range(steps):
            batches = [devices.batch_to(next_batch(it, k), device) for it in iterators]
            if len(seeds) == 1:
                losses = loss_shared_batch(params, batches[0])
            else:
                losses = loss_own_batch(params, _stack_for_runs(batches, on_device(run_seed[active])))
            values = losses.detach().cpu().double().numpy()
            loss_table[active, k] = values
            if k == 0:
                thresholds = np.array([divergence_threshold(v, base.loss_floor) for v in values])
            grads = torch.autograd.grad(losses.sum(), [params[n] for n in names])
            norms = torch.linalg.vector_norm(
                torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads]), dim=0)
            bad = ~np.isfinite(values) | (values > thresholds[active]) | ~np.isfinite(norms.cpu().double().numpy())
            if bad.any():
                stopped = np.flatnonzero(bad)
                evaluate(stopped, k)
                for position in stopped:
                    run = active[position]
                    diverged_at[run], diverged_loss[run] = k, float(values[position])
                keep = on_device(np.flatnonzero(~bad))
                params = {n: p.detach()[keep].requires_grad_() for n, p in params.items()}
                grads = [g[keep] for g in grads]
                norms = norms[keep]
                state = {n: {key: v[keep] for key, v in st.items()} for n, st in state.items()}
                active = active[~bad]
                if active.size == 0:
                    break
            if clip_norm is not None:
                coef = torch.clamp(clip_norm / (norms + 1e-6), max=1.0)
                grads = [g * coef.view(-1, *[1] * (g.dim() - 1)) for g in grads]
            lr = torch.from_numpy(lr_table[active, k])
            if not on_cpu:                             # MPS has no float64
                lr = lr.to(device, torch.float32 if device.type == "mps" else lr.dtype)
            with torch.no_grad():
                new = {n: update(params[n], g, state[n], lr.view(-1, *[1] * (g.dim() - 1)), k + 1, **hp)
                       for n, g in zip(names, grads)}
            params = {n: p.detach().requires_grad_() for n, p in new.items()}
            bar.update()
            if base.evaluates_after(k + 1):
                evaluate(np.arange(active.size), k + 1)
                bar.set_postfix_str(f"{active.size}/{runs} runs going")
    finally:
        bar.close()

    seconds = (time.perf_counter() - start) / runs
    histories = {}
    for run, (lr, seed) in enumerate(members):
        taken = steps if diverged_at[run] is None else diverged_at[run]
        n_losses = taken + (diverged_at[run] is not None)
        problem = problems[seed]
        histories[(lr, seed)] = History(
            loss=loss_table[run, :n_losses].copy(),
            lrs=lr_table[run, :taken].copy(),
            metric=np.asarray(metric[run], dtype=float),
            metric_steps=np.asarray(metric_steps[run], dtype=int),
            metric_epochs=np.asarray([problem.epoch(s) for s in metric_steps[run]], dtype=float),
            diverged=diverged_at[run] is not None,
            diverged_at=diverged_at[run],
            diverged_loss=diverged_loss[run],
            seconds=seconds,
            config={"lr": lr, "seed": seed, "optimizer": optimizer.lower(), "optimizer_kwargs": optimizer_kwargs,
                    "schedule": schedules[lr], "clip_norm": clip_norm, "steps": steps, "batched": True,
                    "metric_name": problem.metric_name, "maximize": problem.maximize, **problem.config},
        )
    return histories
