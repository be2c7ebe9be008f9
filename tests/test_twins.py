"""lrcourse.engine.twins: the core's optimizers against torch's, in miniature."""

import pytest
import torch

from lrcourse.core import optim
from lrcourse.engine import twins


def test_the_core_adam_and_torch_s_adam_agree_to_round_off():
    gap = twins.torch_gap(lambda p: torch.optim.Adam(p, lr=0.05), lambda: optim.adam(0.05))
    assert gap < 1e-12


def test_a_different_hyperparameter_shows_up_as_a_gap():
    gap = twins.torch_gap(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), lambda: optim.sgd(0.05, momentum=0.5))
    assert gap > 1e-3


def test_twins_table_says_true_or_false_per_pair():
    text = twins.twins_table({
        "same": (lambda p: torch.optim.SGD(p, lr=0.1), lambda: optim.sgd(0.1)),
        "different": (lambda p: torch.optim.SGD(p, lr=0.1), lambda: optim.sgd(0.2)),
    }, steps=20)
    same, different = text.splitlines()
    assert same.startswith("same") and same.endswith("< 1e-12: True") and len(same) <= 72
    assert different.endswith(": False") and "20 steps" in different
    with pytest.raises(ValueError, match="steps"):
        twins.torch_gap(lambda p: torch.optim.SGD(p, lr=0.1), lambda: optim.sgd(0.1), steps=0)
