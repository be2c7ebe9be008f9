"""Checkpoints: a run stopped anywhere resumes with the numbers of a run never stopped."""

import itertools

import numpy as np
import pytest
import torch

from lrcourse import engine
from lrcourse.cases import cnn
from lrcourse.data import images as data

SMALL = data.digits().take(256, 100)       # 8 steps per epoch
FAST = dict(data=SMALL, epochs=3)


def same_run(a, b):
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.lrs, b.lrs)
    assert np.array_equal(a.metric, b.metric) and np.array_equal(a.metric_steps, b.metric_steps)
    assert (a.diverged, a.diverged_at) == (b.diverged, b.diverged_at)
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(p, q), name


@pytest.mark.parametrize("every", [None, 5])
def test_a_resumed_run_equals_one_never_stopped(tmp_path, every):
    path = tmp_path / "run.pt"
    whole = cnn.train(0.1, seed=3, momentum=0.9, **FAST)
    first = cnn.train(0.1, seed=3, momentum=0.9, checkpoint=path, checkpoint_every=every, until=13, **FAST)
    assert first.steps == 13 and path.exists()
    resumed = cnn.train(0.1, seed=3, momentum=0.9, checkpoint=path, checkpoint_every=every, **FAST)
    same_run(resumed, whole)


def test_a_resumed_run_still_detects_divergence(tmp_path):
    """The stop rule's threshold comes from loss_0, which the resumed part never computes."""
    path = tmp_path / "run.pt"
    whole = cnn.train(3.0, seed=0, **FAST)
    assert whole.diverged and whole.diverged_at > 8
    cnn.train(3.0, seed=0, checkpoint=path, until=8, **FAST)
    same_run(cnn.train(3.0, seed=0, checkpoint=path, **FAST), whole)


def test_on_eval_reports_every_evaluation():
    seen = []
    h = cnn.train(0.1, seed=0, on_eval=lambda step, value: seen.append((step, value)), **FAST)
    assert seen == list(zip(h.metric_steps.tolist(), h.metric.tolist()))
    with pytest.raises(ValueError, match="Invalid on_eval"):
        cnn.train(0.1, on_eval=3, **FAST)


def test_a_checkpoint_of_another_run_is_a_clear_error(tmp_path):
    path = tmp_path / "run.pt"
    cnn.train(0.1, seed=0, checkpoint=path, until=8, **FAST)
    for other in (dict(lr=0.2, seed=0), dict(lr=0.1, seed=1)):
        with pytest.raises(ValueError, match="written by another run"):
            cnn.train(other["lr"], seed=other["seed"], checkpoint=path, **FAST)
    with pytest.raises(ValueError, match="epochs: 3 there, 4 here"):
        cnn.train(0.1, seed=0, checkpoint=path, data=SMALL, epochs=4)


def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "run.pt"
    cnn.train(0.1, seed=0, checkpoint=path, until=8, **FAST)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="cannot read it"):
        cnn.train(0.1, seed=0, checkpoint=path, **FAST)
    torch.save({"something": "else"}, path)
    with pytest.raises(ValueError, match="not an lrcourse checkpoint"):
        cnn.train(0.1, seed=0, checkpoint=path, **FAST)


def counting_problem(seed, calls):
    """A problem whose loss carries state from call to call (like an LSTM's hidden state)."""
    torch.manual_seed(seed)
    model = torch.nn.Linear(1, 1)
    carried = {"x": 1.0}

    def loss(forward, _step):
        carried["x"] = 0.5 * carried["x"] + 1.0
        return (forward(torch.tensor([[carried["x"]]])) ** 2).mean()

    def load_state(saved):
        calls.append(saved)
        carried.update(saved)

    return engine.Problem(model=model, loss=loss, batches=itertools.count(), steps=12, eval_every=4,
                          evaluate=lambda forward: forward(torch.ones(1, 1)).sum(), batchable=False,
                          state=lambda: dict(carried), load_state=load_state)


def test_the_problems_own_state_is_saved_and_loaded(tmp_path):
    path, calls = tmp_path / "run.pt", []
    whole = engine.train(lambda seed: counting_problem(seed, []), 0.01, seed=0)
    engine.train(lambda seed: counting_problem(seed, calls), 0.01, seed=0, checkpoint=path, until=6)
    assert calls == []
    resumed = engine.train(lambda seed: counting_problem(seed, calls), 0.01, seed=0, checkpoint=path)
    assert len(calls) == 1 and calls[0]["x"] == pytest.approx(2 - 2 ** -4)     # saved after 4 steps
    assert np.array_equal(resumed.loss, whole.loss) and np.array_equal(resumed.metric, whole.metric)


def test_state_and_load_state_come_together():
    with pytest.raises(ValueError, match="both state and load_state"):
        engine.Problem(model=torch.nn.Linear(1, 1), loss=None, batches=[], steps=1, state=lambda: 0)


@pytest.mark.parametrize("name,value", [("checkpoint_every", 0), ("until", -1)])
def test_bad_checkpoint_settings_name_the_argument(name, value):
    with pytest.raises(ValueError, match=f"Invalid {name} value"):
        cnn.train(0.1, **{name: value}, **FAST)


def test_an_lstm_resumes_with_its_hidden_state_and_place_in_the_text(tmp_path):
    """The LSTM carries its state from window to window: the case saves it (Problem.state)."""
    from lrcourse.cases import lstm
    path = tmp_path / "lstm.pt"
    whole = lstm.train(10.0, seed=0, steps=40)
    lstm.train(10.0, seed=0, steps=40, checkpoint=path, checkpoint_every=7, until=30)
    same_run(lstm.train(10.0, seed=0, steps=40, checkpoint=path, checkpoint_every=7), whole)
