"""Speed of the numpy core and the explorers (goals from the foundation issue)."""

import statistics
import time

import numpy as np

from lrcourse.core import descent, objectives, theory

QUAD = objectives.quadratic((1.0, 10.0), angle=0.3)


def _seconds(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def sweep_vectorized_speedup(n_lrs=1000, steps=1000):
    """1000 α × 1000 steps of gradient descent on a 2-D quadratic: all α at once vs one α at a time."""
    lrs = np.linspace(0.001, 1.05 * theory.critical_lr(10.0), n_lrs)
    vectorized = _seconds(lambda: descent.run(QUAD, [1.0, 1.0], lrs, steps))
    looped = _seconds(lambda: [descent.run(QUAD, [1.0, 1.0], [lr], steps) for lr in lrs], repeat=1)
    return looped / vectorized


def explorer_update_ms_p50():
    """Median time of one live move of an analytic explorer: recompute the path and redraw the FigureWidget."""
    from lrcourse.figures import trajectory_explorer

    explorer = trajectory_explorer(QUAD, [1.0, 1.0], np.geomspace(0.01, 0.25, 49), steps=40)
    slider, fig = explorer.widget().children
    times = []
    for lr in np.geomspace(0.01, 0.25, 60):
        start = time.perf_counter()
        explorer.redraw(fig, lr)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def measure():
    return {
        "sweep_vectorized_speedup": {"value": round(sweep_vectorized_speedup(), 1), "unit": "×", "goal": ">= 50"},
        "explorer_update_ms_p50": {"value": round(explorer_update_ms_p50(), 2), "unit": "ms", "goal": "<= 100"},
    }


if __name__ == "__main__":
    print(measure())
