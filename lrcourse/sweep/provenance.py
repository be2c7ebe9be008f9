"""Where a results file comes from, and a check that it still follows from the code.

:func:`collect` describes the session that runs a sweep (package version and git
commit, library versions, device, machine without its name, date);
:func:`check_prefix` re-runs the start of one recorded run with the same seed and
settings and compares it with the file, so that a committed
results file cannot silently drift from the code that claims to produce it.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import pathlib
import platform
import subprocess

import numpy as np

import lrcourse
from lrcourse import _checks
from lrcourse.results import files
from lrcourse.sweep.trials import Spec, run_trial

LIBRARIES = ("torch", "numpy", "gymnasium", "ale-py", "ray")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def git_state() -> dict:
    """The commit of the working tree the package is imported from and whether it had
    uncommitted changes to tracked files (None when it is not a git checkout)."""
    root = pathlib.Path(lrcourse.__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=30, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def versions() -> dict:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine() -> dict:
    """The machine without its name: OS, architecture, processor, CPU count."""
    return {"platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor() or None, "cpu_count": os.cpu_count()}


def collect(device: str) -> dict:
    return {"lrcourse": lrcourse.__version__, "git": git_state(), "versions": versions(), "device": device,
            "machine": machine(), "started": now(), "finished": None}


def check_prefix(path, run: int = 0, evaluations: int = 2, *, steps: int | None = None,
                 rtol: float = 1e-5, atol: float = 1e-6) -> dict:
    """Re-run the start of run number ``run`` of the results file at ``path`` (same case,
    settings, α and seed, on the CPU) up to its ``evaluations``-th evaluation, or for
    ``steps`` steps when given, and compare its training losses and the evaluations it
    reached with the file's. ``steps`` suits runs whose evaluations are far apart (Breakout's
    every 100 updates): the first few dozen losses already depend on the environment, the
    network's initialisation, the optimizer and the seed. Returns what was compared; raises
    ``AssertionError`` naming the first difference. The tolerance covers another CPU's
    rounding; the same machine matches exactly."""
    document = files.read(path)
    record = document["runs"][run]
    sweep = document["sweep"]
    spec = Spec(case=sweep["case"], lrs=(files.number(record["lr"]),), seeds=(int(record["seed"]),),
                options=sweep["options"], optimizer_kwargs=sweep["optimizer_kwargs"], device="cpu")
    if steps is None:
        evaluated = record["metric_steps"][:evaluations]
        if not evaluated:
            raise ValueError(f"Invalid run value: {run} (run {run} of {str(path)!r} has no evaluation)")
        until = int(evaluated[-1])
    else:
        until = _checks.positive_int(steps, "steps")
        if until > int(record["steps"]):
            raise ValueError(f"Invalid steps value: {steps} (run {run} of {str(path)!r} took {record['steps']})")
        evaluated = [s for s in record["metric_steps"] if s <= until]
    h = run_trial(spec, spec.lrs[0], spec.seeds[0], device="cpu", until=until, checkpoint=False)
    expected_metric = files.numbers(record["metric"][:len(evaluated)])
    assert list(h.metric_steps[:len(evaluated)]) == list(evaluated), (h.metric_steps, evaluated)
    np.testing.assert_allclose(h.metric[:len(evaluated)], expected_metric, rtol=rtol, atol=atol,
                               err_msg=f"{path}: run {run}'s metric")
    every = int(record["loss_every"])
    kept = files.numbers(record["loss"])
    recomputed = h.loss[::every]
    n = min(len(recomputed), len(kept))
    np.testing.assert_allclose(recomputed[:n], kept[:n], rtol=rtol, atol=atol,
                               err_msg=f"{path}: run {run}'s training loss")
    return {"lr": spec.lrs[0], "seed": spec.seeds[0], "steps": until, "metric_steps": list(evaluated),
            "metric": h.metric[:len(evaluated)].tolist(), "losses_compared": n}
