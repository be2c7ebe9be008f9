"""Checkpoints of a run in progress, so that a long run stopped anywhere resumes exactly.

A checkpoint holds everything the next step depends on: the model's weights, the
optimizer's state (momenta, step counts), the schedule's position (the step number:
the α of every step comes from the run's plan), the random generators of
``random``, numpy and torch (the CPU's and the GPUs'), the curve so far (losses,
evaluations, logs) and the case's own state (:attr:`Problem.state`, or the number
of batches drawn, which a fresh problem fast-forwards through). Resuming from it
gives the same numbers as a run never stopped.

A checkpoint names its run by a fingerprint of the run's settings (α plan, seed,
optimizer and its arguments, clipping, steps and the case's config): loading one
written by another run, or a file that cannot be read, raises a ``ValueError``
that names the file, never a silent fresh start. Files are written atomically (a
temporary file, then a rename), so a run killed while writing leaves the last good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import random

import numpy as np
import torch

FORMAT = "lrcourse-checkpoint/1"


def _plain(value):
    """A JSON-safe stand-in for a config value (tuples as lists, anything else by repr)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (np.integer, np.floating)):
        return _plain(value.item())
    return repr(value)


def run_settings(config: dict) -> dict:
    """The settings that make a run what it is (its History config without what is not a
    setting: the schedule object, which the plan of α stands for, and batched)."""
    return _plain({k: v for k, v in config.items() if k not in ("schedule", "batched", "corpus")})


def fingerprint(config: dict, lrs) -> str:
    """sha256 of the run's settings and its plan of α (one per step)."""
    text = json.dumps(run_settings(config), sort_keys=True)
    digest = hashlib.sha256(text.encode())
    digest.update(np.ascontiguousarray(np.asarray(lrs, dtype=np.float64)).tobytes())
    return digest.hexdigest()


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path, state: dict) -> None:
    """Write ``state`` to ``path`` atomically (the directory is created)."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    os.replace(tmp, path)


def load(path, expected_fingerprint: str, settings: dict, device=None) -> dict | None:
    """The checkpoint at ``path`` (None when there is none), checked against the run about to
    start: ``ValueError`` if it cannot be read or belongs to another run."""
    path = pathlib.Path(path)
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:                    # torch raises many kinds for a damaged file
        raise ValueError(f"Invalid checkpoint {str(path)!r}: cannot read it ({type(err).__name__}: {err}); "
                         "delete it to start that run again") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"Invalid checkpoint {str(path)!r}: not an lrcourse checkpoint ({FORMAT}); "
                         "delete it to start that run again")
    if state.get("fingerprint") != expected_fingerprint:
        theirs = state.get("settings", {})
        differ = sorted(k for k in set(theirs) | set(settings) if theirs.get(k) != settings.get(k))
        what = ", ".join(f"{k}: {theirs.get(k)!r} there, {settings.get(k)!r} here" for k in differ[:4])
        raise ValueError(f"Invalid checkpoint {str(path)!r}: it was written by another run "
                         f"({what or 'a different plan of learning rates'}); point the run at another "
                         "checkpoint, or delete this one to start again")
    return state
