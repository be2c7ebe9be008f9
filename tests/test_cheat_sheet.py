"""The interview guide's cheat-sheet tables (lrcourse.interview)."""

import pytest

from lrcourse import interview
from lrcourse.core import optim


def test_step_table_shows_sgd_proportional_and_adam_capped():
    lines = interview.step_table({"sgd": optim.sgd(lr=0.01), "adam": optim.adam(lr=0.01)},
                                 [0.1, 100.0]).splitlines()
    assert lines[0].split() == ["g", "0.1", "100"]
    assert lines[1].split() == ["sgd", "0.001", "1"]
    assert lines[2].split() == ["adam", "0.01", "0.01"]
    with pytest.raises(ValueError, match="optimizers"):
        interview.step_table({}, [1.0])


def test_later_steps_table_leaves_unlisted_steps_blank():
    lines = interview.later_steps_table({
        "momentum": (optim.sgd(lr=0.01, momentum=0.9), 1.0, 0.0, (1, 100)),
        "adagrad": (optim.adagrad(lr=0.01), 1.0, 0.0, (1,)),
    }).splitlines()
    assert lines[0].split() == ["g", "θ₀", "step", "1", "step", "100"]
    assert lines[1].split() == ["momentum", "1", "0", "0.01", "0.1"]
    assert lines[2].split() == ["adagrad", "1", "0", "0.01"]


def test_defaults_text_wraps_each_signature():
    def example(lr=0.1, betas=(0.9, 0.999), name="a very long default value " * 3):
        pass

    text = interview.defaults_text([example], width=40)
    assert text.startswith("example: lr=0.1, betas=(0.9, 0.999),")
    assert all(len(line) <= 40 for line in text.splitlines())
    assert text.splitlines()[1].startswith("    ")


def test_defaults_differences_names_the_arguments_that_differ():
    def ours(lr, momentum=0.0):
        pass

    class Theirs:
        def __init__(self, params, lr=0.001, momentum=0.0):
            pass

    lines = interview.defaults_differences({"sgd": (ours, Theirs)}).splitlines()
    assert lines[1].split() == ["sgd", "Theirs", "lr"]


def test_topics_table_counts_listed_and_tagged_questions():
    guide = interview.load()
    lines = interview.topics_table(guide).splitlines()
    assert len(lines) == len(guide.topics) + 1
    first = guide.topics[0]
    assert lines[1].split()[-2:] == [str(len(guide.on(first.id))), str(len(guide.tagged(first.id)))]
