"""Seconds to execute each chapter from a fresh kernel (goal: at most 90 s each on 2 cores)."""

import pathlib
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def notebook_seconds():
    seconds = {}
    for path in sorted((ROOT / "book").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
        seconds[path.relative_to(ROOT).as_posix()] = round(time.perf_counter() - start, 1)
    return seconds


def measure():
    return {"notebook_seconds": {"value": notebook_seconds(), "unit": "s", "goal": "<= 90 each"}}


if __name__ == "__main__":
    print(measure())
