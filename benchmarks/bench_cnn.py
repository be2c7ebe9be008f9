"""Speed of the CNN case study: the batched sweep over α against the same runs one by one.

The grid is the chapter's: 13 learning rates from 1e-4 to 10 (log-spaced) × 3 seeds,
10 epochs of plain SGD on the digits, one torch thread (as in the book).
"""

import time

import numpy as np

from lrcourse.cases import cnn

CHAPTER_LRS = np.logspace(-4, 1, 13)
SEEDS = (0, 1, 2)


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def measure(lrs=CHAPTER_LRS, seeds=SEEDS) -> dict:
    cnn.sweep(lrs[:2], seeds=seeds[:1], epochs=1)                      # load the data, warm up torch
    single, single_seconds = _timed(lambda: cnn.train(0.1, seed=0))
    batched, batched_seconds = _timed(lambda: cnn.sweep(lrs, seeds=seeds))
    one_by_one, one_by_one_seconds = _timed(lambda: cnn.sweep(lrs, seeds=seeds, batched=False))
    # Same results: every run agrees on where it stopped and on its final accuracy, except near the
    # edge of stability (α ≈ 1.5), where float rounding differences grow chaotically.
    same = sum(a.diverged_at == b.diverged_at and abs(a.final - b.final) < 1e-6
               for a, b in zip(batched, one_by_one))
    return {
        "cnn_batched_sweep_speedup": {"value": round(one_by_one_seconds / batched_seconds, 2), "unit": "×",
                                      "goal": ">= 2"},
        "cnn_batched_sweep_seconds": {"value": round(batched_seconds, 2), "unit": "s",
                                      "goal": f"<= 60 ({len(lrs)} α × {len(seeds)} seeds)"},
        "cnn_sequential_sweep_seconds": {"value": round(one_by_one_seconds, 2), "unit": "s", "goal": ""},
        "cnn_single_run_seconds": {"value": round(single_seconds, 2), "unit": "s", "goal": "a few"},
        "cnn_sweep_runs_identical": {"value": f"{same}/{len(batched)}", "unit": "", "goal": "all but α≈1.5"},
    }


if __name__ == "__main__":
    for name, result in measure().items():
        print(f"{name:<32} {result['value']!s:>8} {result['unit']:<2} (goal {result['goal']})")
