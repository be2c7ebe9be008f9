"""lrcourse.cases.cnn with carry_over=True: every batch size sees the same number of example gradients."""

import itertools
import math

import pytest
import torch

from lrcourse.data import images as data
from lrcourse.cases import cnn


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest.py


def _batches(batch_size, epochs, carry_over):
    digits = data.digits()
    problem = cnn.problem(0, cnn.Config(digits, epochs, batch_size, (4, 8), carry_over))
    return problem, list(itertools.islice(problem.batches, problem.steps)), len(digits.y_train)


@pytest.mark.parametrize("batch_size", [16, 64, 512])
def test_carry_over_takes_full_batches_and_drops_no_image(batch_size):
    problem, batches, n = _batches(batch_size, 10, carry_over=True)
    assert problem.steps == round(10 * n / batch_size)
    assert all(len(y) == batch_size for _, y in batches)
    assert abs(problem.steps * batch_size - 10 * n) <= batch_size / 2
    # Every image is seen 10 times, except that the run may stop up to B/2 examples short
    # of the tenth pass (or go up to B/2 into an eleventh): none is skipped, as dropping the
    # last batch of every epoch would.
    digits = data.digits()
    x_train = ((torch.tensor(digits.x_train).float() - torch.tensor(digits.mean).view(-1, 1, 1))
               / torch.tensor(digits.std).view(-1, 1, 1)).flatten(1)
    seen = torch.cat([x.flatten(1) for x, _ in batches])
    counts = torch.bincount(torch.cdist(seen, x_train).argmin(1), minlength=n)
    short = 10 * n - problem.steps * batch_size
    assert int((counts == 9).sum()) == max(short, 0)
    assert int((counts == 11).sum()) == max(-short, 0)
    assert int((counts == 10).sum()) == n - abs(short)


def test_the_default_still_drops_the_last_incomplete_batch():
    problem, _, n = _batches(512, 10, carry_over=False)
    assert problem.steps == 10 * (n // 512) == 20
    assert problem.config.get("carry_over") is None
    carried, _, _ = _batches(512, 10, carry_over=True)
    assert carried.steps == 26 and carried.config["carry_over"] is True
    # dropped: 20 × 512 = 10,240 example gradients of the 13,470 of ten epochs, 24 % fewer
    assert math.isclose(1 - problem.steps * 512 / (10 * n), 0.24, abs_tol=0.005)


def test_train_and_sweep_accept_carry_over():
    h = cnn.train(0.1, seed=0, epochs=1, batch_size=512, carry_over=True, channels=(4, 8))
    assert len(h.loss) == round(1347 / 512) == 3 and h.config["carry_over"] is True
    s = cnn.sweep([0.1, 0.2], seeds=(0,), epochs=1, batch_size=512, carry_over=True, channels=(4, 8))
    assert all(len(h.loss) == 3 for h in s)
