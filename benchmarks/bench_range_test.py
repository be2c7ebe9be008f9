"""Cost of the LR range test: its seconds against one training run of the same case study.

Each case at its book-scale defaults (CNN and LSTM with SGD, RL with Adam) and its own default
range (CNN 0.01 to 10, LSTM 0.1 to 1000, RL fastai's 1e-7 to 10), seed 0, one torch thread. A test
that stops at the blow-up takes fewer than its 100 steps. A grid search costs (number of α) × (seeds) runs; the range test should cost a small
fraction of one of them.
"""

import time

from lrcourse.cases import cnn, lstm, rl

CASES = {
    "cnn": (lambda: cnn.lr_range_test(seed=0), lambda: cnn.train(0.1, seed=0)),
    "lstm": (lambda: lstm.lr_range_test(seed=0, clip_norm=1.0), lambda: lstm.train(10.0, seed=0, clip_norm=1.0)),
    "rl": (lambda: rl.lr_range_test(seed=0), lambda: rl.train(3e-3, seed=0)),
}


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure() -> dict:
    fractions, seconds = {}, {}
    for name, (range_test, one_run) in CASES.items():
        range_test()                                   # load the data, warm up torch
        test_seconds, run_seconds = _seconds(range_test), _seconds(one_run)
        seconds[name] = round(test_seconds, 2)
        fractions[name] = round(test_seconds / run_seconds, 2)
    return {
        "range_test_seconds": {"value": seconds, "unit": "s", "goal": "a few"},
        "range_test_fraction_of_one_run": {"value": fractions, "unit": "×", "goal": "<= 0.5"},
    }


if __name__ == "__main__":
    for name, result in measure().items():
        print(f"{name:<32} {result['value']!s} {result['unit']} (goal {result['goal']})")
