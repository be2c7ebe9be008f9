"""The torch training engine: loop, divergence, schedules, seeding, batched sweeps."""

import dataclasses
import math
import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from lrcourse import engine
from lrcourse.engine import History, Problem, Sweep

STEPS = 30


def toy(seed, steps=STEPS, batchable=True, loss_floor=math.log(3), eval_every=10):
    """A two-layer net on 3-class synthetic data; batches from its own generator."""
    data = torch.Generator().manual_seed(1234)                # the same data for every seed
    x = torch.randn(96, 5, generator=data)
    y = (x[:, 0] + x[:, 1] > 0).long() + (x[:, 2] > 1).long()
    model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3))
    order = torch.Generator().manual_seed(seed)

    def batches():
        while True:
            index = torch.randint(0, len(y), (16,), generator=order)
            yield x[index], y[index]

    def loss(forward, batch):
        xb, yb = batch
        return F.cross_entropy(forward(xb), yb)

    def evaluate(forward):
        return (forward(x).argmax(-1) == y).float().mean()

    return Problem(model=model, loss=loss, batches=batches(), steps=steps, evaluate=evaluate,
                  eval_every=eval_every, steps_per_epoch=6, loss_floor=loss_floor,
                  metric_name="accuracy", batchable=batchable, config={"case": "toy"})


class Ramp:
    """θ starts at 0 and the loss is Σθ + 1, so ∇ = 1 and each step moves θ by exactly −α_k."""

    def __init__(self, n=3, steps=5):
        self.n, self.steps, self.models = n, steps, []

    def __call__(self, seed):
        model = nn.Linear(self.n, 1, bias=False)
        nn.init.zeros_(model.weight)
        self.models.append(model)
        return Problem(model=model, loss=lambda forward, batch: forward.weight.sum() + 1.0,
                       batches=iter(lambda: None, 0), steps=self.steps, batchable=False)


# --------------------------------------------------------------------------- one run

def test_history_fields():
    h = engine.train(toy, 0.1, seed=0)
    assert isinstance(h, History)
    assert h.loss.shape == (STEPS,) and h.lrs.shape == (STEPS,)
    assert np.all(h.lrs == 0.1)
    assert list(h.metric_steps) == [10, 20, 30]
    assert np.allclose(h.metric_epochs, [10 / 6, 20 / 6, 5])
    assert h.final == h.metric[-1] and 0 <= h.final <= 1
    assert not h.diverged and h.diverged_at is None and h.diverged_loss is None
    assert h.seconds > 0
    assert h.config["optimizer"] == "sgd" and h.config["seed"] == 0 and h.config["case"] == "toy"
    assert "final accuracy" in repr(h)


def test_the_history_keeps_the_trained_model_and_optimizer():
    problems = Ramp(n=3, steps=5)
    h = engine.train(problems, 0.1, seed=0, optimizer="sgd", momentum=0.9)
    assert h.model is problems.models[0]
    buffers = [sum(0.9 ** j for j in range(k)) for k in range(1, 6)]     # b_k = 0.9 b_{k-1} + 1
    expected = torch.full((1, 3), -0.1 * sum(buffers))                     # θ = −α Σ b_k, from 0
    assert torch.allclose(h.model.weight.detach(), expected)
    assert isinstance(h.optimizer, torch.optim.SGD) and h.optimizer.param_groups[0]["momentum"] == 0.9
    buffer = h.optimizer.state[h.model.weight]["momentum_buffer"]
    assert torch.allclose(buffer, torch.full((1, 3), buffers[-1]))
    batched = engine.sweep(toy, [0.1, 0.2], seeds=(0,))
    assert all(run.model is None and run.optimizer is None for run in batched)


def test_training_reduces_the_loss():
    h = engine.train(lambda s: toy(s, steps=150), 0.5, seed=0)
    assert h.loss[-20:].mean() < 0.6 * h.loss[:5].mean()


def test_divergence_detected_and_reported():
    h = engine.train(toy, 1e4, seed=0)
    assert h.diverged
    k = h.diverged_at
    assert isinstance(k, int) and 1 <= k < STEPS
    assert len(h.loss) == k + 1 and len(h.lrs) == k
    assert h.diverged_loss == h.loss[-1]
    threshold = engine.DIVERGENCE_FACTOR * max(h.loss[0], math.log(3))
    assert not math.isfinite(h.diverged_loss) or h.diverged_loss > threshold
    assert np.all(h.loss[:-1] <= threshold)
    # the model was evaluated where training stopped, so `final` is the accuracy there
    assert h.metric_steps[-1] == k and math.isfinite(h.final)
    assert f"diverged at step {k}" in repr(h)


def test_non_finite_loss_stops_the_run():
    def problem(seed):
        p = toy(seed)
        base_loss = p.loss
        calls = iter(range(10**6))
        p.loss = lambda forward, batch: base_loss(forward, batch) * (math.nan if next(calls) == 7 else 1.0)
        return p

    h = engine.train(problem, 0.1, seed=0)
    assert h.diverged and h.diverged_at == 7 and math.isnan(h.diverged_loss)
    assert len(h.lrs) == 7


def test_non_finite_gradient_stops_the_run():
    def problem(seed):
        p = toy(seed)
        base_loss = p.loss
        calls = iter(range(10**6))

        def loss(forward, batch):
            value = base_loss(forward, batch)
            if next(calls) == 4:    # finite value, infinite gradient
                value = value + 0.0 * torch.sqrt(forward[0].weight.abs().min() * 0)
            return value
        p.loss = loss
        return p

    h = engine.train(problem, 0.1, seed=0)
    assert h.diverged and h.diverged_at == 4 and math.isfinite(h.diverged_loss)


def test_same_seed_is_bit_identical_and_seeds_differ():
    a = engine.train(toy, 0.3, seed=1)
    b = engine.train(toy, 0.3, seed=1)
    c = engine.train(toy, 0.3, seed=2)
    assert a.final == b.final
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.metric, b.metric)
    assert not np.array_equal(a.loss, c.loss)


def test_repeatable_restores_global_state():
    threads = torch.get_num_threads()
    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    expected = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(5), np.random.seed(5), torch.manual_seed(5)
    with engine.repeatable(0, threads=1):
        assert torch.get_num_threads() == 1
        torch.rand(10), np.random.rand(10), random.random()
    assert torch.get_num_threads() == threads
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_schedule_sets_the_lr_of_every_step():
    def schedule(k):
        return 0.1 / (1 + k)

    ramp = Ramp(steps=6)
    h = engine.train(ramp, schedule=schedule, seed=0)
    expected = [schedule(k) for k in range(6)]
    assert np.array_equal(h.lrs, expected)
    # the lrs were really applied: θ moved by −Σ α_k
    assert torch.allclose(ramp.models[-1].weight, torch.full((1, 3), -sum(expected)))


def test_constant_lr_is_applied():
    ramp = Ramp(steps=4)
    engine.train(ramp, 0.25, seed=0)
    assert torch.allclose(ramp.models[-1].weight, torch.full((1, 3), -1.0))


def test_schedule_from_the_core_works():
    schedules = pytest.importorskip("lrcourse.core.schedules")
    schedule = schedules.cosine(0.2, STEPS)
    h = engine.train(toy, schedule=schedule, seed=0)
    assert np.allclose(h.lrs, [schedule(k) for k in range(STEPS)])


def test_clip_norm_limits_the_step():
    ramp = Ramp(n=4, steps=1)            # ‖∇‖ = 2
    engine.train(ramp, 1.0, seed=0, clip_norm=0.5)
    step = ramp.models[-1].weight.detach()
    assert torch.linalg.vector_norm(step).item() == pytest.approx(0.5, rel=1e-5)


def test_optimizer_kwargs_pass_through():
    plain = engine.train(toy, 0.05, seed=0)
    heavy = engine.train(toy, 0.05, seed=0, momentum=0.9)
    assert heavy.config["optimizer_kwargs"] == {"momentum": 0.9}
    assert not np.array_equal(plain.loss, heavy.loss)
    adam = engine.train(toy, 0.01, seed=0, optimizer="Adam", betas=(0.8, 0.99))
    assert adam.config["optimizer"] == "adam" and not adam.diverged


def test_the_loop_takes_a_stop_rule_and_can_restore_the_weights():
    """``loop.run`` is the loop of ``train`` and of the range test: a stop rule sees every loss
    before its step, and ``restore=True`` puts the weights back, after an exception too."""
    from lrcourse.engine import loop

    problem = toy(0)
    start = {k: v.clone() for k, v in problem.model.state_dict().items()}
    seen = []

    def stop(k, value):
        seen.append(value)
        return k == 3

    h = loop.run(problem, torch.optim.SGD, np.full(problem.steps, 0.5), {}, stop=stop, restore=True)
    assert h.diverged and h.diverged_at == 3 and list(h.loss) == seen and h.steps == 3
    assert all(torch.equal(start[k], v) for k, v in problem.model.state_dict().items())

    def explode(k, value):
        if k == 2:
            raise RuntimeError("interrupted")
        return False

    with pytest.raises(RuntimeError, match="interrupted"):
        loop.run(problem, torch.optim.SGD, np.full(problem.steps, 0.5), {}, stop=explode, restore=True)
    assert all(torch.equal(start[k], v) for k, v in problem.model.state_dict().items())
    trained = loop.run(problem, torch.optim.SGD, np.full(problem.steps, 0.5), {})
    assert not trained.diverged and not torch.equal(start["0.weight"], problem.model.state_dict()["0.weight"])


def test_progress_bar_prints(capsys):
    engine.train(toy, 0.1, seed=0, progress=True, desc="toy run")
    assert "toy run" in capsys.readouterr().err


@pytest.mark.parametrize("lr, message", [
    (-0.1, "Invalid learning rate: -0.1"),
    (0, "Invalid learning rate: 0"),
    (math.nan, "Invalid learning rate: nan"),
    (math.inf, "Invalid learning rate: inf"),
    (None, "Invalid learning rate: None"),
    ("0.1", "Invalid learning rate: '0.1'"),
])
def test_bad_lr(lr, message):
    with pytest.raises(ValueError, match=message):
        engine.train(toy, lr)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Invalid optimizer: 'sgdd'.*sgd"):
        engine.train(toy, 0.1, optimizer="sgdd")
    with pytest.raises(ValueError, match="Invalid optimizer: 'lbfgs'.*closure"):
        engine.train(toy, 0.1, optimizer="lbfgs")
    with pytest.raises(ValueError, match="Invalid momentum value: -1"):
        engine.train(toy, 0.1, momentum=-1)
    with pytest.raises(ValueError, match="Invalid clip_norm value: 0"):
        engine.train(toy, 0.1, clip_norm=0)
    with pytest.raises(ValueError, match="Invalid seed: -1"):
        engine.train(toy, 0.1, seed=-1)
    with pytest.raises(ValueError, match="together with a schedule"):
        engine.train(toy, 0.1, schedule=lambda k: 0.1)
    with pytest.raises(ValueError, match="schedule at step 3: -0.1"):
        engine.train(toy, schedule=lambda k: 0.1 if k < 3 else -0.1)
    with pytest.raises(ValueError, match="schedule at step 0: 'fast'"):
        engine.train(toy, schedule=lambda k: "fast")
    with pytest.raises(ValueError, match="Invalid schedule: 0.1"):
        engine.train(toy, schedule=0.1)
    with pytest.raises(ValueError, match="Invalid steps value: 0"):
        toy(0, steps=0)


def test_batches_that_run_out():
    def short(seed):
        p = toy(seed)
        p.batches = iter([next(p.batches)] * 3)
        return p

    with pytest.raises(ValueError, match="ran out after 3 batches"):
        engine.train(short, 0.1)


def test_optimizer_names():
    assert {"sgd", "adam", "adamw", "rmsprop", "adagrad"} <= set(engine.OPTIMIZERS)
    assert engine.optimizer_class("AdamW") is torch.optim.AdamW
    assert "lbfgs" not in engine.OPTIMIZERS


# --------------------------------------------------------------------------- sweeps

LRS = (0.03, 0.3, 3e3)        # the last one diverges after a few steps


def assert_same_runs(batched: Sweep, one_by_one: Sweep, rtol=1e-5):
    assert batched.batched and not one_by_one.batched
    for key, a in batched.histories.items():
        b = one_by_one.histories[key]
        assert a.diverged_at == b.diverged_at, key
        assert a.loss.shape == b.loss.shape, key
        np.testing.assert_allclose(a.loss, b.loss, rtol=rtol, atol=1e-7, err_msg=str(key))
        np.testing.assert_array_equal(a.lrs, b.lrs)
        np.testing.assert_array_equal(a.metric_steps, b.metric_steps)
        np.testing.assert_allclose(a.metric, b.metric, atol=1e-6, err_msg=str(key))


@pytest.mark.parametrize("optimizer, kwargs", [
    ("sgd", {}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("sgd", {"momentum": 0.5, "dampening": 0.1}),
    ("adam", {}),
    ("adamw", {"amsgrad": True, "weight_decay": 0.1}),
    ("rmsprop", {"momentum": 0.5, "centered": True, "weight_decay": 1e-3}),
    ("adagrad", {"lr_decay": 0.01, "initial_accumulator_value": 0.1}),
])
def test_batched_sweep_equals_runs_one_by_one(optimizer, kwargs):
    lrs = LRS if optimizer == "sgd" else (1e-3, 1e-2, 1e4)
    batched = engine.sweep(toy, lrs, seeds=(0, 1), optimizer=optimizer, **kwargs)
    one_by_one = engine.sweep(toy, lrs, seeds=(0, 1), optimizer=optimizer, batched=False, **kwargs)
    assert_same_runs(batched, one_by_one)
    assert batched[lrs[-1], 0].diverged and not batched[lrs[0], 0].diverged


def test_batched_sweep_with_one_seed_clipping_and_schedules():
    def family(lr):
        return lambda k: lr * 0.9 ** k

    kwargs = dict(seeds=(3,), clip_norm=0.5, schedule=family, momentum=0.9)
    batched = engine.sweep(toy, LRS, **kwargs)
    one_by_one = engine.sweep(toy, LRS, batched=False, **kwargs)
    assert_same_runs(batched, one_by_one)
    h = batched[0.3, 3]
    assert np.allclose(h.lrs, [0.3 * 0.9 ** k for k in range(STEPS)])
    assert h.config["lr"] == 0.3 and one_by_one[0.3, 3].config["lr"] == 0.3


def test_diverged_members_stop_and_the_others_go_on():
    s = engine.sweep(toy, (0.1, 1e4), seeds=(0,))
    bad, good = s[1e4, 0], s[0.1, 0]
    assert bad.diverged and len(bad.loss) == bad.diverged_at + 1 < STEPS
    assert not good.diverged and len(good.loss) == STEPS and good.metric_steps[-1] == STEPS
    assert np.array_equal(good.loss, engine.train(toy, 0.1, seed=0).loss) or \
        np.allclose(good.loss, engine.train(toy, 0.1, seed=0).loss, rtol=1e-5)


def test_sweep_falls_back_to_one_by_one():
    unbatchable = engine.sweep(lambda s: toy(s, batchable=False), (0.1, 0.2), seeds=(0,))
    assert not unbatchable.batched
    no_batched_update = engine.sweep(toy, (0.01, 0.02), seeds=(0,), optimizer="adamax")
    assert not no_batched_update.batched
    h = engine.train(toy, 0.02, seed=0, optimizer="adamax")
    assert np.array_equal(no_batched_update[0.02, 0].loss, h.loss)


def test_sweep_helpers():
    s = engine.sweep(toy, (0.1, 0.5, 1e4), seeds=(0, 1, 2))
    assert isinstance(s, Sweep) and len(s) == 9
    assert list(s.lrs) == [0.1, 0.5, 1e4] and s.seeds == (0, 1, 2)
    assert s.finals.shape == (3, 3) and s.grid.shape == (3, 3)
    assert s.diverged[2].all() and not s.diverged[:2].any()
    summary = s.summary()
    assert np.allclose(summary["mean"], s.finals.mean(axis=1))
    assert np.allclose(summary["std"], s.finals.std(axis=1, ddof=1))
    assert list(summary["diverged"]) == [0, 0, 3]
    assert s.best() in (0.1, 0.5)
    assert s[0.1 + 1e-12, 1] is s.histories[(0.1, 1)]
    with pytest.raises(KeyError):
        s[0.2, 0]
    table = s.table()
    assert "0.1" in table and "3/3" in table and "accuracy" in table
    assert "3 lrs × 3 seeds, batched" in repr(s)


def test_sweep_table_says_diverged_where_no_seed_has_a_metric():
    s = engine.sweep(toy, (0.1, 1e4), seeds=(0, 1))
    no_metric = {key: dataclasses.replace(h, metric=np.array([np.nan])) if key[0] == 1e4 else h
                 for key, h in s.histories.items()}
    rows = dataclasses.replace(s, histories=no_metric).table().splitlines()
    assert "±" in rows[1] and "nan" not in rows[1]
    assert rows[2].split() == ["1e+04", "diverged", "2/2"]


def test_format_table_aligns_columns_and_checks_its_rows():
    from lrcourse.results.tables import format_table

    assert format_table(["case", "α"], [["CNN", "0.5"], ["LSTM", "10"]]).splitlines() == [
        "case    α", "CNN   0.5", "LSTM   10"]
    assert format_table(["a", "b"], [["x", "y"]], align="rl").splitlines() == ["a  b", "x  y"]
    with pytest.raises(ValueError, match="Invalid rows"):
        format_table(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="Invalid align value: 'lx'"):
        format_table(["a", "b"], [["x", "y"]], align="lx")


def test_sweep_bad_arguments():
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        engine.sweep(toy, [0.1, -1])
    with pytest.raises(ValueError, match="Invalid lrs"):
        engine.sweep(toy, [])
    with pytest.raises(ValueError, match="Invalid lrs.*twice"):
        engine.sweep(toy, [0.1, 0.1])
    with pytest.raises(ValueError, match="Invalid seeds.*twice"):
        engine.sweep(toy, [0.1], seeds=(1, 1))
    with pytest.raises(ValueError, match="Invalid schedule.*lr -> schedule"):
        engine.sweep(toy, [0.1], schedule=lambda k: 0.1)
    with pytest.raises(ValueError, match="Invalid optimizer"):
        engine.sweep(toy, [0.1], optimizer="nope")
