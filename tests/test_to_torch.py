"""engine.to_torch: a core schedule drives a torch optimizer with the same rates as its torch twin."""

import ast
import io
import math
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler

from lrcourse import engine
from lrcourse.core import schedules
from test_schedules import torch_lrs

N = 300  # optimizer steps compared


def lrs_seen(make_scheduler, n=N, lr=0.1, optimizer=torch.optim.SGD):
    """``param_groups[0]["lr"]`` before each of ``n`` optimizer steps (see test_schedules.torch_lrs)."""
    return torch_lrs(make_scheduler, n, lr=lr, optimizer=optimizer)


def warmup_then_cosine(o, warmup_steps=20, total_steps=N, lr_min=0.001):
    warmup = lr_scheduler.LinearLR(o, start_factor=1 / (warmup_steps + 1), total_iters=warmup_steps)
    decay = lr_scheduler.CosineAnnealingLR(o, T_max=total_steps - warmup_steps, eta_min=lr_min)
    return lr_scheduler.SequentialLR(o, [warmup, decay], milestones=[warmup_steps])


# Every schedule of the contract with its torch twin, built for an optimizer whose lr is TWIN_LR.
TWIN_LR = 0.1
TWINS = [
    (schedules.constant(0.1), lambda o: lr_scheduler.ConstantLR(o, factor=1.0, total_iters=0)),
    (schedules.exponential(0.1, 0.02), lambda o: lr_scheduler.ExponentialLR(o, gamma=math.exp(-0.02))),
    (schedules.step_decay(0.1, 40, 0.5), lambda o: lr_scheduler.StepLR(o, step_size=40, gamma=0.5)),
    (schedules.multistep(0.1, [100, 200], 0.1), lambda o: lr_scheduler.MultiStepLR(o, [100, 200], 0.1)),
    (schedules.polynomial(0.1, 250, 2.0), lambda o: lr_scheduler.PolynomialLR(o, total_iters=250, power=2.0)),
    (schedules.cosine(0.1, N - 1, 0.001), lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=N - 1, eta_min=0.001)),
    (schedules.cosine_restarts(0.1, 10, 2, 0.001),
     lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2, eta_min=0.001)),
    (schedules.warmup_cosine(0.1, 20, N, 0.001), warmup_then_cosine),
    (schedules.one_cycle(0.1, N, pct_start=0.25, three_phase=True),
     lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=N, pct_start=0.25, three_phase=True,
                                       cycle_momentum=False)),
    (schedules.cyclic(0.0, 0.1, 25, "triangular2"),
     lambda o: lr_scheduler.CyclicLR(o, 0.0, 0.1, 25, mode="triangular2", cycle_momentum=False)),
    (schedules.wsd(0.1, 20, N, 60, 0.001),
     lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, 1 / 21, total_iters=20),
                                             lr_scheduler.ConstantLR(o, factor=1.0, total_iters=0),
                                             lr_scheduler.LinearLR(o, 1.0, 0.01, total_iters=60)],
                                         milestones=[20, N - 60])),
]


def test_every_schedule_of_the_contract_has_a_twin_here():
    names = {schedule.name for schedule, _ in TWINS}
    assert names == set(schedules.__all__) - {"Schedule"}


@pytest.mark.parametrize("schedule, twin", TWINS, ids=[s.name for s, _ in TWINS])
def test_to_torch_gives_the_rates_of_the_torch_twin(schedule, twin):
    expected = lrs_seen(twin, lr=TWIN_LR)
    got = lrs_seen(lambda o: engine.to_torch(schedule, o), lr=123.0)  # the optimizer's own lr is ignored
    np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-15)
    np.testing.assert_array_equal(got, [schedule(k) for k in range(N)])  # and exactly the core's numbers


@pytest.mark.parametrize("schedule", [schedules.cyclic(0.0, 0.2, 5), schedules.warmup_cosine(0.1, 10, 50),
                                      schedules.polynomial(0.1, 20)], ids=lambda s: s.name)
def test_the_rates_drive_the_updates_even_from_or_to_zero(schedule):
    # SGD on θ with gradient 1: after n steps θ = −Σ_k schedule(k).
    n = 40
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.5)
    scheduler = engine.to_torch(schedule, opt)
    for _ in range(n):
        param.grad = torch.ones_like(param)
        opt.step()
        scheduler.step()
    assert param.item() == pytest.approx(-schedule(np.arange(n)).sum(), rel=1e-12)
    assert scheduler.get_last_lr() == [schedule(n)]


def test_every_param_group_and_other_optimizers_follow_the_schedule():
    schedule = schedules.one_cycle(0.01, 100)
    a, b = torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)
    opt = torch.optim.Adam([{"params": [a], "lr": 0.5}, {"params": [b], "lr": 1e-5}])
    scheduler = engine.to_torch(schedule, opt)
    for k in range(100):
        assert [g["lr"] for g in opt.param_groups] == [schedule(k)] * 2
        a.grad, b.grad = torch.ones_like(a), torch.ones_like(b)
        opt.step()
        if k < 99:
            scheduler.step()


def test_a_plain_callable_works_and_the_scheduler_state_can_be_saved():
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.1)
    scheduler = engine.to_torch(lambda k: 0.1 / (1 + k), opt)
    for _ in range(3):
        opt.step()
        scheduler.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 / 4)
    buffer = io.BytesIO()
    torch.save(scheduler.state_dict(), buffer)  # checkpoints work: nothing unpicklable inside
    assert scheduler.state_dict()["last_epoch"] == 3


BAD = [
    (lambda o: engine.to_torch(0.1, o), "Invalid schedule: 0.1"),
    (lambda o: engine.to_torch("cosine", o), "Invalid schedule: 'cosine'"),
    (lambda o: engine.to_torch(schedules.cosine(0.1, 10), "sgd"), "Invalid optimizer: 'sgd'"),
    (lambda o: engine.to_torch(schedules.cosine(0.1, 10), o.param_groups), "Invalid optimizer: [{"),
    (lambda o: engine.to_torch(lambda k: -0.1, o),
     "Invalid learning rate: -0.1 (returned by the schedule at step 0)"),
    (lambda o: engine.to_torch(lambda k: float("nan"), o), "Invalid learning rate: nan"),
    (lambda o: engine.to_torch(lambda k: [0.1, 0.2], o), "Invalid learning rate: [0.1, 0.2]"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_bad_input_raises_value_error_naming_the_argument(call, message):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=re.escape(message)):
        call(opt)


def test_a_schedule_that_goes_bad_later_is_caught_at_that_step():
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=0.1)
    scheduler = engine.to_torch(lambda k: 0.1 if k < 2 else -1.0, opt)
    opt.step()
    scheduler.step()
    opt.step()
    with pytest.raises(ValueError, match=re.escape("Invalid learning rate: -1.0 (returned by the schedule at step 2)")):
        scheduler.step()


def test_importing_the_schedules_does_not_import_torch():
    code = "import sys, lrcourse.core.schedules; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_core_module_never_imports_torch():
    """engine.to_torch hands over to the engine layer, which owns torch."""
    tree = ast.parse(pathlib.Path(schedules.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses", "numbers", "typing", "numpy", "lrcourse"}, imported
