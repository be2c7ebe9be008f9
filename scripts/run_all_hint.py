"""Add (or refresh) each chapter's "run all cells" hint: a one-line markdown cell right after
the Colab set-up, tagged ``remove-cell`` so that only the live notebook shows it.

A freshly opened notebook has no live explorers, and the time to run a chapter is not
obvious: the hint says what to do and about how long it takes, from the last ``make bench``
(``benchmarks/results.json``, ``notebook_seconds``). Only markdown changes: no re-execution
is needed, and nbval still finds the same outputs.

Usage (from the repository root; edits the chapters in place, then review with ``git diff``):

    .venv/bin/python scripts/run_all_hint.py            # every chapter in book/
    .venv/bin/python scripts/run_all_hint.py --check    # exit 1 if a hint is missing or stale
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import nbformat

ROOT = pathlib.Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results.json"
HINT_ID = "run-all-hint"
COLAB_ID = "colab-setup"
HINT_TAG = "remove-cell"


def about(seconds: float) -> str:
    """A reader's estimate: 'a few seconds', 'about 45 s' (5 s steps), 'about 2 minutes'."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 90:
        return f"about {max(10, 5 * round(seconds / 5))} s"
    minutes = round(seconds / 60)
    return f"about {minutes} minutes"


def hint_text(seconds: float | None) -> str:
    """The hint's one line (``seconds``: the chapter's measured run time, if known)."""
    took = f", in {about(seconds)} on two CPU cores" if seconds is not None else ""
    return (f"**Running this notebook?** Run all cells first (JupyterLab: *Run › Run All Cells*; "
            f"Colab: *Runtime › Run all*): the figures and the live sliders appear as the cells run{took}.")


def notebook_seconds(results: pathlib.Path = RESULTS) -> dict[str, float]:
    """Measured seconds per chapter, keyed by file name (``update-rule.ipynb``)."""
    if not results.exists():
        return {}
    measured = json.loads(results.read_text()).get("notebook_seconds", {}).get("value", {})
    return {pathlib.Path(path).name: float(seconds) for path, seconds in measured.items()}


def with_hint(nb, text: str) -> bool:
    """Put the hint right after the Colab set-up cell of ``nb``; True if ``nb`` changed."""
    cells = nb.cells
    colab = next((i for i, c in enumerate(cells) if c.get("id") == COLAB_ID
                  or (c.cell_type == "code" and "google.colab" in c.source)), None)
    if colab is None:
        raise ValueError(f"Invalid notebook: no Colab set-up cell (id {COLAB_ID!r}) to put the hint after")
    current = next((i for i, c in enumerate(cells) if c.get("id") == HINT_ID), None)
    hint = nbformat.v4.new_markdown_cell(text, id=HINT_ID, metadata={"tags": [HINT_TAG]})
    if current is not None:
        if current == colab + 1 and cells[current].source == text and \
                cells[current].metadata.get("tags") == [HINT_TAG]:
            return False
        del cells[current]
        colab = colab if current > colab else colab - 1
    cells.insert(colab + 1, hint)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="chapters to update (default: every book/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if any hint is missing or stale")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    seconds = notebook_seconds()
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if with_hint(nb, hint_text(seconds.get(path.name))):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
    verb = "stale or missing" if args.check else "updated"
    print(f"{len(stale)} of {len(paths)} chapters {verb}" + "".join(f"\n  {p}" for p in stale))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
