"""The command line shared by the case studies: ``python -m lrcourse.cases CASE [options]``.

Every case's ``main(argv, prog)`` starts from :func:`parser` (the options all cases
share: ``--lrs``, ``--seeds``, ``--threads``, ``--device`` and, where the optimizer is a choice,
``--optimizer`` and ``--opt NAME=VALUE``), adds its own, and reports bad input
with :func:`fail` (exit status 2).
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from typing import Callable

from lrcourse import _checks, engine

ERRORS = (ValueError, FileNotFoundError, TypeError)
"""What a bad argument raises once parsed: reported on one line, exit status 2."""


def numbers(text: str, kind=float) -> list:
    """'1e-3,0.01,0.1' -> [0.001, 0.01, 0.1]."""
    try:
        return [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def integers(text: str) -> list:
    """'0,1,2' -> [0, 1, 2]."""
    return numbers(text, int)


def keyword(text: str) -> tuple:
    """'momentum=0.9' -> ('momentum', 0.9): an optimizer argument, read as a Python literal."""
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError(f"cannot read the value of {text!r}") from None


def parser(prog: str, description: str, lrs: list, *, optimizer: str | None = "sgd",
           threads: str = "torch CPU threads (default 1: repeatable, and fastest for the small models)"
           ) -> argparse.ArgumentParser:
    """The options every case shares. ``lrs`` is the default grid; ``optimizer`` the default
    torch.optim name (None: the case has no choice of optimizer, e.g. plain gradient descent)."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--lrs", type=numbers, default=lrs,
                   help=f"comma-separated learning rates (default {','.join(f'{v:g}' for v in lrs)})")
    p.add_argument("--seeds", type=integers, default=[0], help="comma-separated seeds")
    if optimizer is not None:
        p.add_argument("--optimizer", default=optimizer,
                       help=f"a torch.optim name (default {optimizer}): sgd, adam, adamw, rmsprop, …")
        p.add_argument("--opt", type=keyword, action="append", default=[], metavar="NAME=VALUE",
                       help="optimizer argument, e.g. --opt momentum=0.9 (repeatable)")
    p.add_argument("--threads", type=int, default=1, help=threads)
    p.add_argument("--device", default="auto",
                   help="auto (default: a CUDA or MPS GPU when there is one, else the CPU), cpu, cuda or mps")
    return p


def optimizer_kwargs(args) -> dict:
    return dict(args.opt)


def optimizer_label(args) -> str:
    """'sgd', or 'sgd {'momentum': 0.9}'."""
    return f"{args.optimizer} {optimizer_kwargs(args) or ''}".rstrip()


def fail(err: Exception) -> int:
    print(f"error: {err}", file=sys.stderr)
    return 2


def one_by_one(train: Callable, lrs, seeds, *, metric_name: str, maximize: bool,
               each: Callable | None = None, **options) -> engine.Sweep:
    """``train(lr, seed=seed, progress=True, **options)`` for every seed and α, one after the
    other with a progress bar per run (full-scale runs are long); ``each(h)`` after each run."""
    lrs, seeds = _checks.learning_rates(lrs), _checks.seeds(seeds)
    start = time.perf_counter()
    histories = {}
    for seed in seeds:
        for lr in lrs:
            h = histories[(float(lr), seed)] = train(float(lr), seed=seed, progress=True, **options)
            if each is not None:
                each(h)
    return engine.Sweep(lrs=lrs, seeds=seeds, histories=histories, seconds=time.perf_counter() - start,
                        batched=False, metric_name=metric_name, maximize=maximize)


def report(result: engine.Sweep, header: str, note: str = "") -> int:
    """Print ``header``, the sweep's table and its best α (then ``note`` and the time it took);
    return exit status 0."""
    print(f"\n{header}\n{result.table()}")
    print(f"best α: {result.best():g}    {note + '    ' if note else ''}({result.seconds:.1f} s)")
    return 0
