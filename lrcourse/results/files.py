"""Results files: a full-scale sweep's runs and their provenance, as JSON.

``python -m lrcourse.sweep`` writes one; chapters read it with :func:`load_results`.
The file is rewritten atomically after every finished run, so a grid still running
can be read at any time (its missing runs are listed). Layout (``format``
``lrcourse-results/1``)::

    {"format": "lrcourse-results/1",
     "command": "python -m lrcourse.sweep --case cnn ...",   # exactly as typed
     "argv": [...],
     "sweep": {"case", "options" (the case's keywords), "optimizer_kwargs", "lrs", "seeds",
               "backend", "device" (as asked), "checkpoint_every"},
     "provenance": {"lrcourse" (version), "git": {"commit", "dirty"}, "versions": {python, torch,
                    numpy, gymnasium, ale-py, ray}, "device" (where it ran), "machine": {platform,
                    machine, processor, cpu_count}, "started", "finished" (UTC, ISO 8601),
                    "sessions": [...] (each start, with its commit, when a stopped sweep was resumed)},
     "runs": [{"lr", "seed", "metric_name", "maximize", "metric", "metric_steps", "metric_epochs",
               "loss", "loss_every", "steps", "diverged", "diverged_at", "diverged_loss", "final",
               "seconds", "device", "config", "logs"}, ...]}

``loss`` keeps every ``loss_every``-th training loss (all of them up to
:data:`MAX_POINTS`), ``logs`` likewise. Numbers that are not finite are written
``null`` (nan), ``"inf"`` or ``"-inf"``, so that the file is standard JSON.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
from dataclasses import dataclass, field

import numpy as np

from lrcourse.results.history import History, Sweep

FORMAT = "lrcourse-results/1"
MAX_POINTS = 20_000
"""At most this many training losses per run are kept (every k-th beyond that)."""


def plain(value):
    """``value`` as standard JSON: numpy to Python, tuples to lists, nan to None,
    ±inf to ``"inf"``/``"-inf"``, anything else unknown by its repr."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if value is None or isinstance(value, str):
        return value
    return repr(value)


def number(value) -> float:
    """The inverse of :func:`plain` for one number."""
    if value is None:
        return math.nan
    if value == "inf":
        return math.inf
    if value == "-inf":
        return -math.inf
    return float(value)


def numbers(values) -> np.ndarray:
    return np.asarray([number(v) for v in values], dtype=float)


def run_record(h: History, device: str | None = None, max_points: int = MAX_POINTS) -> dict:
    """One run of a sweep as it is written in a results file."""
    every = max(1, math.ceil(len(h.loss) / max_points))
    config = {k: v for k, v in h.config.items() if k not in ("schedule", "corpus")}
    return plain({
        "lr": h.config.get("lr"), "seed": h.config.get("seed"), "metric_name": h.metric_name,
        "maximize": h.config.get("maximize", True),
        "metric": h.metric, "metric_steps": h.metric_steps, "metric_epochs": h.metric_epochs,
        "loss": h.loss[::every], "loss_every": every, "steps": h.steps,
        "diverged": h.diverged, "diverged_at": h.diverged_at, "diverged_loss": h.diverged_loss,
        "final": h.final, "seconds": round(float(h.seconds), 3), "device": device,
        "config": config, "logs": {name: values[::every] for name, values in h.logs.items()},
    })


def history(record: dict) -> History:
    """The :class:`History` of a run read from a results file (``loss`` and ``logs`` as kept:
    every ``config["loss_every"]``-th; no model)."""
    diverged_loss = record.get("diverged_loss")
    return History(
        loss=numbers(record["loss"]), lrs=np.full(int(record["steps"]), number(record["lr"])),
        metric=numbers(record["metric"]), metric_steps=np.asarray(record["metric_steps"], dtype=int),
        metric_epochs=numbers(record.get("metric_epochs", [None] * len(record["metric"]))),
        diverged=bool(record["diverged"]), diverged_at=record["diverged_at"],
        diverged_loss=None if diverged_loss is None and not record["diverged"] else number(diverged_loss),
        seconds=float(record["seconds"]),
        config={**record["config"], "lr": number(record["lr"]), "seed": int(record["seed"]),
                "metric_name": record["metric_name"], "maximize": record["maximize"],
                "loss_every": record["loss_every"], "device": record.get("device")},
        logs={name: numbers(values) for name, values in record.get("logs", {}).items()},
    )


def write(path, document: dict) -> None:
    """Write ``document`` to ``path`` atomically: a reader sees the old file or the new, whole."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    document = plain(document)
    head = json.dumps({k: v for k, v in document.items() if k != "runs"}, indent=1, allow_nan=False)
    runs = ",\n".join("  " + json.dumps(run, allow_nan=False) for run in document.get("runs", []))
    text = head[:-2] + ',\n "runs": [\n' + runs + "\n ]\n}\n"        # one line per run: short diffs
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read(path) -> dict:
    """The document in a results file; ``ValueError`` naming the file if it is not one."""
    path = pathlib.Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"Invalid results file {str(path)!r}: not JSON ({err})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"Invalid results file {str(path)!r}: not an lrcourse results file ({FORMAT})")
    return document


@dataclass(frozen=True, repr=False, eq=False)
class Results(Sweep):
    """A :class:`Sweep` read from a results file, with what the file says about it:
    ``command``, ``provenance``, ``spec`` (the sweep's settings), ``path``, and
    ``missing``, the (lr, seed) runs not finished yet (a grid still running).
    ``table()``, ``finals`` and the other grid views need every run."""

    command: str = ""
    provenance: dict = field(default_factory=dict)
    spec: dict = field(default_factory=dict)
    path: str = ""
    missing: tuple = ()

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def grid(self) -> np.ndarray:
        if self.missing:
            raise ValueError(f"Invalid results file {self.path!r}: {len(self.missing)} of "
                             f"{len(self.lrs) * len(self.seeds)} runs are not finished yet")
        return super().grid

    def __repr__(self) -> str:
        done = len(self.histories)
        head = (f"Results({self.spec.get('case', '?')}: {len(self.lrs)} lrs × {len(self.seeds)} seeds, "
                f"{done} runs done, on {self.provenance.get('device', '?')})")
        return head + ("\n" + self.table() if self.complete else "")


def load_results(path) -> Results:
    """The runs of a results file as a :class:`Results` (a :class:`Sweep`: ``r[lr, seed]`` is a
    :class:`History`, ``r.table()``, ``r.best()``), with its command and provenance."""
    document = read(path)
    spec = document["sweep"]
    histories = {}
    for record in document["runs"]:
        h = history(record)
        histories[(h.config["lr"], h.config["seed"])] = h
    lrs = np.asarray([number(v) for v in spec["lrs"]], dtype=float)
    seeds = tuple(int(s) for s in spec["seeds"])
    missing = tuple((float(lr), seed) for seed in seeds for lr in lrs if (float(lr), seed) not in histories)
    some = next(iter(histories.values()), None)
    return Results(lrs=lrs, seeds=seeds, histories=histories,
                   seconds=sum(h.seconds for h in histories.values()), batched=False,
                   metric_name=some.metric_name if some else "metric",
                   maximize=some.config["maximize"] if some else True,
                   command=document.get("command", ""), provenance=document.get("provenance", {}),
                   spec=spec, path=str(path), missing=missing)


RUNS = pathlib.Path(__file__).parent / "runs"
"""The full-scale results files the chapters show; they ship with the package (Colab has them too)."""


def committed(name: str) -> pathlib.Path:
    """The path of the committed results file ``name`` (``"breakout"``: ``RUNS / "breakout.json"``)."""
    path = RUNS / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in RUNS.glob("*.json"))) or "none"
        raise ValueError(f"Invalid name: {name!r} (committed results files: {known})")
    return path
