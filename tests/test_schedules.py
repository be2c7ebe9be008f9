"""lrcourse.core.schedules against torch.optim.lr_scheduler, plus properties and bad input."""

import ast
import math
import pathlib
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler

from lrcourse.core import schedules

RTOL = 1e-7
N = 400  # steps compared with torch (at least 300 everywhere the twin allows it)


def torch_lrs(make_scheduler, n, lr=0.1, optimizer=torch.optim.SGD):
    """The lr of each of ``n`` optimizer steps under a torch scheduler: read before each step.

    ``optimizer`` (SGD by default) on one float64 parameter, ``optimizer.step()`` then ``scheduler.step()``, the order
    torch asks for. The scheduler is not stepped after the last step (OneCycleLR refuses to
    go past ``total_steps``).
    """
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = optimizer([param], lr=lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for k in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        param.grad = torch.ones_like(param)
        opt.step()
        if k < n - 1:
            scheduler.step()
    return np.array(lrs)


def assert_matches(schedule, expected):
    """``schedule`` equals ``expected`` on steps 0..n-1, called with an array and with each int."""
    expected = np.asarray(expected, dtype=float)
    t = np.arange(len(expected))
    np.testing.assert_allclose(schedule(t), expected, rtol=RTOL, atol=0)
    np.testing.assert_allclose([schedule(int(k)) for k in t], expected, rtol=RTOL, atol=0)


# ------------------------------------------------------------------- torch twins


@pytest.mark.parametrize("lr", [0.1, 1.0, 0.0])
def test_constant_matches_torch(lr):
    assert_matches(schedules.constant(lr), torch_lrs(lambda o: lr_scheduler.LambdaLR(o, lambda t: 1.0), N, lr))


@pytest.mark.parametrize("lr0, decay_rate", [(0.1, 0.01), (1.0, 0.0), (0.5, 0.05), (2.0, 0.3)])
def test_exponential_matches_exponential_lr(lr0, decay_rate):
    expected = torch_lrs(lambda o: lr_scheduler.ExponentialLR(o, gamma=math.exp(-decay_rate)), N, lr0)
    assert_matches(schedules.exponential(lr0, decay_rate), expected)


@pytest.mark.parametrize("lr0, step_size, gamma", [(0.1, 30, 0.1), (1.0, 7, 0.5), (0.3, 1, 0.99), (0.1, 50, 2.0)])
def test_step_decay_matches_step_lr(lr0, step_size, gamma):
    expected = torch_lrs(lambda o: lr_scheduler.StepLR(o, step_size, gamma), N, lr0)
    assert_matches(schedules.step_decay(lr0, step_size, gamma), expected)


@pytest.mark.parametrize(
    "lr0, milestones, gamma", [(0.1, [30, 80], 0.1), (1.0, [0, 5, 100, 250], 0.5), (0.2, [], 0.1), (0.1, [399], 0.3)]
)
def test_multistep_matches_multistep_lr(lr0, milestones, gamma):
    expected = torch_lrs(lambda o: lr_scheduler.MultiStepLR(o, milestones, gamma), N, lr0)
    assert_matches(schedules.multistep(lr0, milestones, gamma), expected)


@pytest.mark.parametrize("lr0, total_steps, power", [(0.1, 100, 1.0), (0.1, 250, 2.0), (1.0, 37, 0.5), (0.2, 300, 0.0)])
def test_polynomial_matches_polynomial_lr_and_stays_at_zero(lr0, total_steps, power):
    expected = torch_lrs(lambda o: lr_scheduler.PolynomialLR(o, total_iters=total_steps, power=power), N, lr0)
    assert_matches(schedules.polynomial(lr0, total_steps, power), expected)
    if power > 0:
        assert schedules.polynomial(lr0, total_steps, power)(N) == 0.0


@pytest.mark.parametrize("lr0, total_steps, lr_min", [(0.1, 300, 0.0), (0.1, 500, 0.001), (1.0, 7, 0.5), (0.3, 1, 0.0)])
def test_cosine_matches_cosine_annealing_lr_up_to_total_steps(lr0, total_steps, lr_min):
    n = total_steps + 1
    expected = torch_lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=total_steps, eta_min=lr_min), n, lr0)
    assert_matches(schedules.cosine(lr0, total_steps, lr_min), expected)


def test_cosine_holds_lr_min_where_torch_climbs_back():
    # The documented difference: torch keeps following the cosine after T_max.
    lr0, total_steps, lr_min = 0.1, 100, 0.001
    schedule = schedules.cosine(lr0, total_steps, lr_min)
    after = np.arange(total_steps, 3 * total_steps)
    assert np.all(schedule(after) == lr_min)
    torch_after = torch_lrs(
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=total_steps, eta_min=lr_min), 3 * total_steps, lr0
    )
    assert torch_after[2 * total_steps] == pytest.approx(lr0)


@pytest.mark.parametrize(
    "lr0, T_0, T_mult, lr_min",
    [(0.1, 10, 1, 0.0), (0.1, 10, 2, 0.001), (1.0, 3, 3, 0.0), (0.5, 1, 2, 0.1), (0.1, 1, 1, 0.0)],
)
def test_cosine_restarts_matches_cosine_annealing_warm_restarts(lr0, T_0, T_mult, lr_min):
    expected = torch_lrs(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0, T_mult, lr_min), N, lr0)
    assert_matches(schedules.cosine_restarts(lr0, T_0, T_mult, lr_min), expected)


def test_cosine_restarts_restarts_exactly_at_cycle_boundaries():
    # Cycles of 5, 10, 20, 40 ... start at 0, 5, 15, 35, 75, ... 5·(2^i − 1) for i up to 40.
    schedule = schedules.cosine_restarts(0.1, 5, 2, 0.001)
    starts = 5 * (2 ** np.arange(41, dtype=np.int64) - 1)
    np.testing.assert_array_equal(schedule(starts), 0.1)
    assert schedule(int(starts[-1]) - 1) < 0.1 * 1e-3 + 0.001


def nanogpt_get_lr(it, learning_rate, warmup_iters, lr_decay_iters, min_lr):
    """nanoGPT's ``get_lr`` (karpathy/nanoGPT train.py), transcribed line for line as the reference."""
    # 1) linear warmup for warmup_iters steps
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    # 2) if it > lr_decay_iters, return min learning rate
    if it > lr_decay_iters:
        return min_lr
    # 3) in between, use cosine decay down to min learning rate
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    assert 0 <= decay_ratio <= 1
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # coeff ranges 0..1
    return min_lr + coeff * (learning_rate - min_lr)


WARMUP_COSINE_CASES = [  # (peak_lr, warmup_steps, total_steps, lr_min), all with warmup_steps < total_steps
    (0.1, 10, 300, 0.0),
    (0.5, 50, 300, 0.01),
    (1.0, 0, 300, 0.0),
    (0.3, 0, 1, 0.0),
    (0.1, 1, 300, 0.001),
    (0.1, 1, 2, 0.0),
    (0.1, 2, 7, 0.001),
    (6e-4, 20, 60, 6e-5),
    (0.1, 299, 300, 0.0),
]


@pytest.mark.parametrize("peak_lr, warmup_steps, total_steps, lr_min", WARMUP_COSINE_CASES)
def test_warmup_cosine_is_nanogpt_get_lr(peak_lr, warmup_steps, total_steps, lr_min):
    expected = [nanogpt_get_lr(t, peak_lr, warmup_steps, total_steps, lr_min) for t in range(N)]
    assert_matches(schedules.warmup_cosine(peak_lr, warmup_steps, total_steps, lr_min), expected)


@pytest.mark.parametrize("peak_lr, warmup_steps, total_steps, lr_min", WARMUP_COSINE_CASES)
def test_warmup_cosine_matches_lambda_lr_of_nanogpt_get_lr(peak_lr, warmup_steps, total_steps, lr_min):
    def factor(t):
        return nanogpt_get_lr(t, peak_lr, warmup_steps, total_steps, lr_min) / peak_lr

    expected = torch_lrs(lambda o: lr_scheduler.LambdaLR(o, factor), N, peak_lr)
    assert_matches(schedules.warmup_cosine(peak_lr, warmup_steps, total_steps, lr_min), expected)


@pytest.mark.parametrize(
    "peak_lr, warmup_steps, total_steps, lr_min", [case for case in WARMUP_COSINE_CASES if case[1] >= 1]
)
def test_warmup_cosine_matches_sequential_linear_then_cosine(peak_lr, warmup_steps, total_steps, lr_min):
    # The docstring's torch equivalent: LinearLR gives (t + 1) / (W + 1) up to factor 1 at t = W.
    def make(optimizer):
        warmup = lr_scheduler.LinearLR(optimizer, start_factor=1 / (warmup_steps + 1), total_iters=warmup_steps)
        decay = lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps - warmup_steps, eta_min=lr_min)
        return lr_scheduler.SequentialLR(optimizer, [warmup, decay], milestones=[warmup_steps])

    expected = torch_lrs(make, total_steps + 1, peak_lr)
    assert_matches(schedules.warmup_cosine(peak_lr, warmup_steps, total_steps, lr_min), expected)


def test_warmup_cosine_shape():
    schedule = schedules.warmup_cosine(1.0, 4, 10, 0.1)
    after_peak = 0.1 + 0.45 * (1 + math.cos(math.pi / 6))                # one step into the 6-step cosine
    np.testing.assert_allclose(schedule(np.arange(6)), [0.2, 0.4, 0.6, 0.8, 1.0, after_peak])
    assert schedule(10) == schedule(10**6) == 0.1


@pytest.mark.parametrize("warmup_steps", [1, 2, 5, 42, 199])
def test_warmup_cosine_rises_strictly_through_step_w_where_it_first_reaches_the_peak(warmup_steps):
    schedule = schedules.warmup_cosine(0.1, warmup_steps, 200, 0.001)
    rising = schedule(np.arange(warmup_steps + 1))
    assert np.all(np.diff(rising) > 0)
    assert rising[-1] == pytest.approx(0.1, rel=1e-14) and np.all(rising[:-1] < 0.1)  # the peak once, at step W
    assert schedule(warmup_steps + 1) < 0.1
    assert schedule(0) == pytest.approx(0.1 / (warmup_steps + 1), rel=1e-15)


def test_warmup_cosine_without_warmup_is_the_cosine_and_warmup_to_the_end_then_lr_min():
    assert_matches(schedules.warmup_cosine(0.1, 0, 300, 0.001), schedules.cosine(0.1, 300, 0.001)(np.arange(N)))
    schedule = schedules.warmup_cosine(0.1, 10, 10, 0.001)  # nanoGPT divides by zero here
    np.testing.assert_allclose(schedule(np.arange(12)), [0.1 * (t + 1) / 11 for t in range(10)] + [0.001, 0.001])


ONE_CYCLE_CASES = [
    dict(max_lr=0.1, total_steps=300),
    dict(max_lr=0.1, total_steps=300, anneal="linear"),
    dict(max_lr=0.1, total_steps=300, three_phase=True),
    dict(max_lr=0.1, total_steps=300, anneal="linear", three_phase=True),
    dict(max_lr=1.0, total_steps=400, pct_start=0.25, div_factor=10.0, final_div_factor=100.0),
    dict(max_lr=1.0, total_steps=333, pct_start=0.45, div_factor=5.0, three_phase=True),
    dict(max_lr=0.5, total_steps=300, pct_start=0.0),
    dict(max_lr=0.5, total_steps=300, pct_start=1.0),
    dict(max_lr=0.5, total_steps=300, pct_start=0.7, three_phase=True),
    dict(max_lr=0.5, total_steps=7, pct_start=0.3, three_phase=True),
]


@pytest.mark.parametrize("kwargs", ONE_CYCLE_CASES)
def test_one_cycle_matches_one_cycle_lr(kwargs):
    kwargs = {"pct_start": 0.3, "anneal": "cos", "three_phase": False, **kwargs}
    torch_kwargs = {**kwargs, "anneal_strategy": kwargs["anneal"]}
    del torch_kwargs["anneal"]
    expected = torch_lrs(
        lambda o: lr_scheduler.OneCycleLR(o, cycle_momentum=False, **torch_kwargs), kwargs["total_steps"], lr=123.0
    )
    schedule = schedules.one_cycle(**kwargs)
    assert_matches(schedule, expected)
    last = kwargs["total_steps"] - 1
    assert schedule(last + 1) == schedule(last + 1000) == schedule(last)  # holds the final rate


def test_one_cycle_with_adam_momentum_cycling_gives_the_same_lr():
    def make(optimizer):
        return lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=300)

    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([param])
    scheduler = make(optimizer)
    lrs = []
    for _ in range(300):
        lrs.append(optimizer.param_groups[0]["lr"])
        param.grad = torch.ones_like(param)
        optimizer.step()
        scheduler.step()
    assert_matches(schedules.one_cycle(0.01, 300), lrs)


def test_one_cycle_reaches_its_landmarks():
    schedule = schedules.one_cycle(1.0, 100, pct_start=0.5, div_factor=4.0, final_div_factor=10.0)
    assert schedule(0) == pytest.approx(0.25)
    assert schedule(49) == pytest.approx(1.0)
    assert schedule(99) == pytest.approx(0.025)


def test_one_cycle_zero_length_warmup_starts_at_max_lr():
    # pct_start · total_steps = 1: torch divides 0 by 0 here; the phase is over, so its end rate.
    schedule = schedules.one_cycle(1.0, 10, pct_start=0.1)
    assert schedule(0) == 1.0
    assert np.all(np.diff(schedule(np.arange(10))) <= 0)


@pytest.mark.parametrize(
    "base_lr, max_lr, step_size_up, mode, gamma",
    [
        (0.001, 0.1, 20, "triangular", 1.0),
        (0.0, 1.0, 7, "triangular", 1.0),
        (0.0, 1.0, 7, "triangular2", 1.0),
        (0.01, 0.1, 25, "triangular2", 1.0),
        (0.01, 0.1, 25, "exp_range", 0.99),
        (0.001, 0.01, 1, "exp_range", 0.9),
        (0.1, 0.1, 5, "triangular", 1.0),
    ],
)
def test_cyclic_matches_cyclic_lr(base_lr, max_lr, step_size_up, mode, gamma):
    def make(optimizer):
        return lr_scheduler.CyclicLR(
            optimizer, base_lr, max_lr, step_size_up, mode=mode, gamma=gamma, cycle_momentum=False
        )

    expected = torch_lrs(make, N, lr=123.0)  # CyclicLR overwrites the optimizer's lr with base_lr
    assert_matches(schedules.cyclic(base_lr, max_lr, step_size_up, mode, gamma), expected)


# -------------------------------------------------------------- calling conventions

ALL = [
    schedules.constant(0.1),
    schedules.exponential(0.1, 0.01),
    schedules.step_decay(0.1, 30),
    schedules.multistep(0.1, [30, 80]),
    schedules.polynomial(0.1, 100, 2.0),
    schedules.cosine(0.1, 100, 0.001),
    schedules.cosine_restarts(0.1, 10, 2),
    schedules.warmup_cosine(0.1, 10, 100),
    schedules.one_cycle(0.1, 100, three_phase=True),
    schedules.cyclic(0.001, 0.1, 20, "triangular2"),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
def test_int_gives_float_and_array_gives_array_of_the_same_shape(schedule):
    t = np.arange(12).reshape(3, 4)
    original = t.copy()
    lrs = schedule(t)
    assert isinstance(lrs, np.ndarray) and lrs.shape == (3, 4) and lrs.dtype == np.float64
    np.testing.assert_array_equal(t, original)
    for k in (0, 5, 11):
        assert type(schedule(k)) is float
        assert type(schedule(np.int64(k))) is float
        assert schedule(k) == pytest.approx(lrs.flat[k], rel=1e-14)
    assert schedule(np.array(3)).shape == ()
    assert schedule(np.array([], dtype=int)).shape == (0,)
    np.testing.assert_allclose(schedule([1, 2]), lrs.flat[1:3], rtol=1e-14)


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
def test_repr_is_the_call_that_rebuilds_it(schedule):
    text = repr(schedule)
    assert text.startswith(schedule.name + "(")
    rebuilt = eval(text, vars(schedules))
    assert rebuilt == schedule
    np.testing.assert_array_equal(rebuilt(np.arange(300)), schedule(np.arange(300)))


def test_repr_and_attributes():
    schedule = schedules.exponential(lr0=0.1, decay_rate=0.01)
    assert repr(schedule) == "exponential(lr0=0.1, decay_rate=0.01)"
    assert schedule.lr0 == 0.1 and schedule.decay_rate == 0.01
    assert repr(schedules.multistep(0.1, [30, 80])) == "multistep(lr0=0.1, milestones=(30, 80), gamma=0.1)"
    with pytest.raises(AttributeError, match="total_steps"):
        schedule.total_steps


def test_core_module_imports_numpy_only():
    """At module level; to_torch imports torch inside the function (tests/test_to_torch.py)."""
    tree = ast.parse(pathlib.Path(schedules.__file__).read_text())
    imported = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported <= {"__future__", "dataclasses", "numbers", "typing", "numpy", "lrcourse"}, imported


# ---------------------------------------------------------------------- properties

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)
rates = st.floats(1e-6, 10.0)
fractions = st.floats(0.0, 1.0)
sizes = st.integers(1, 500)
step_arrays = st.lists(st.integers(0, 5000), min_size=1, max_size=30).map(np.array)


def is_non_increasing(values):
    return np.all(np.diff(values) <= 1e-12 * np.max(np.abs(values)))


def check_common(schedule, t):
    """Finite, non-negative, and an int gives the same as the array."""
    lrs = schedule(t)
    assert lrs.shape == t.shape and np.all(np.isfinite(lrs)) and np.all(lrs >= 0)
    np.testing.assert_allclose([schedule(int(k)) for k in t], lrs, rtol=1e-13, atol=0)
    return lrs


@PROPERTY_SETTINGS
@given(lr0=rates, decay_rate=st.floats(0.0, 1.0), t=step_arrays)
def test_exponential_properties(lr0, decay_rate, t):
    schedule = schedules.exponential(lr0, decay_rate)
    lrs = check_common(schedule, t)
    assert np.all(lrs <= lr0)
    assert is_non_increasing(schedule(np.sort(t)))


@PROPERTY_SETTINGS
@given(lr0=rates, step_size=sizes, gamma=st.floats(0.01, 1.0), t=step_arrays)
def test_step_decay_properties(lr0, step_size, gamma, t):
    schedule = schedules.step_decay(lr0, step_size, gamma)
    lrs = check_common(schedule, t)
    assert np.all(lrs <= lr0)
    assert is_non_increasing(schedule(np.sort(t)))
    assert schedule(step_size - 1) == lr0 and schedule(step_size) == pytest.approx(lr0 * gamma)


@PROPERTY_SETTINGS
@given(lr0=rates, marks=st.sets(st.integers(0, 2000), max_size=6), gamma=st.floats(0.01, 1.0), t=step_arrays)
def test_multistep_properties(lr0, marks, gamma, t):
    milestones = sorted(marks)
    schedule = schedules.multistep(lr0, milestones, gamma)
    lrs = check_common(schedule, t)
    assert np.all(lrs <= lr0)
    assert is_non_increasing(schedule(np.sort(t)))
    for i, milestone in enumerate(milestones):
        assert schedule(milestone) == pytest.approx(lr0 * gamma ** (i + 1))


@PROPERTY_SETTINGS
@given(lr0=rates, total_steps=sizes, power=st.floats(0.0, 5.0), t=step_arrays)
def test_polynomial_properties(lr0, total_steps, power, t):
    schedule = schedules.polynomial(lr0, total_steps, power)
    lrs = check_common(schedule, t)
    assert np.all(lrs <= lr0)
    assert is_non_increasing(schedule(np.sort(t)))
    assert schedule(0) == lr0


@PROPERTY_SETTINGS
@given(lr0=rates, total_steps=sizes, fraction=fractions, t=step_arrays)
def test_cosine_properties(lr0, total_steps, fraction, t):
    lr_min = fraction * lr0
    schedule = schedules.cosine(lr0, total_steps, lr_min)
    lrs = check_common(schedule, t)
    assert np.all(lrs >= lr_min * (1 - 1e-12)) and np.all(lrs <= lr0)
    assert is_non_increasing(schedule(np.sort(t)))
    assert schedule(0) == pytest.approx(lr0, rel=1e-14) and schedule(total_steps) == pytest.approx(lr_min)


@PROPERTY_SETTINGS
@given(lr0=rates, T_0=st.integers(1, 100), T_mult=st.integers(1, 4), fraction=fractions, t=step_arrays)
def test_cosine_restarts_properties(lr0, T_0, T_mult, fraction, t):
    lr_min = fraction * lr0
    schedule = schedules.cosine_restarts(lr0, T_0, T_mult, lr_min)
    lrs = check_common(schedule, t)
    assert np.all(lrs >= lr_min * (1 - 1e-12)) and np.all(lrs <= lr0 * (1 + 1e-12))
    assert is_non_increasing(schedule(np.arange(T_0)))
    assert schedule(0) == schedule(T_0) == pytest.approx(lr0, rel=1e-14)  # a warm restart


@PROPERTY_SETTINGS
@given(peak_lr=rates, warmup=st.integers(0, 200), extra=st.integers(0, 300), fraction=fractions, t=step_arrays)
def test_warmup_cosine_properties(peak_lr, warmup, extra, fraction, t):
    total_steps, lr_min = max(warmup + extra, 1), fraction * peak_lr
    schedule = schedules.warmup_cosine(peak_lr, warmup, total_steps, lr_min)
    lrs = check_common(schedule, t)
    assert np.all(lrs <= peak_lr * (1 + 1e-12))
    # Strictly up through step W (the peak, when W < T), then never up again.
    rising = schedule(np.arange(min(warmup + 1, total_steps)))
    falling = schedule(np.arange(min(warmup, total_steps), total_steps + 10))
    assert np.all(np.diff(rising) > 0) and np.all(rising > 0)
    if warmup < total_steps:
        assert schedule(warmup) == pytest.approx(peak_lr, rel=1e-14)
    assert is_non_increasing(falling) and np.all(falling >= lr_min * (1 - 1e-12))
    assert schedule(total_steps) == lr_min


@PROPERTY_SETTINGS
@given(
    max_lr=rates,
    total_steps=st.integers(2, 2000),
    pct_start=st.floats(0.0, 1.0),
    div_factor=st.floats(1.0, 1e3),
    final_div_factor=st.floats(1.0, 1e5),
    anneal=st.sampled_from(["cos", "linear"]),
    three_phase=st.booleans(),
    t=step_arrays,
)
def test_one_cycle_properties(max_lr, total_steps, pct_start, div_factor, final_div_factor, anneal, three_phase, t):
    schedule = schedules.one_cycle(max_lr, total_steps, pct_start, div_factor, final_div_factor, anneal, three_phase)
    lrs = check_common(schedule, t)
    min_lr = max_lr / div_factor / final_div_factor
    assert np.all(lrs >= min_lr - 1e-12 * max_lr) and np.all(lrs <= max_lr * (1 + 1e-12))
    if not three_phase and pct_start * total_steps < total_steps - 1:
        assert schedule(total_steps - 1) == pytest.approx(min_lr)


@PROPERTY_SETTINGS
@given(
    base_lr=rates,
    height=st.floats(0.0, 10.0),
    step_size_up=sizes,
    mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
    gamma=st.floats(0.9, 1.0),
    t=step_arrays,
)
def test_cyclic_properties(base_lr, height, step_size_up, mode, gamma, t):
    max_lr = base_lr + height
    schedule = schedules.cyclic(base_lr, max_lr, step_size_up, mode, gamma)
    lrs = check_common(schedule, t)
    assert np.all(lrs >= base_lr) and np.all(lrs <= max_lr * (1 + 1e-12))
    peak = base_lr + height * (gamma**step_size_up if mode == "exp_range" else 1.0)
    assert schedule(0) == base_lr and schedule(step_size_up) == pytest.approx(peak)
    if mode == "triangular":
        np.testing.assert_allclose(schedule(t + 2 * step_size_up), lrs, rtol=1e-9)


# ---------------------------------------------------------------------- bad input

BAD = [
    (lambda: schedules.constant(-0.1), "Invalid learning rate: -0.1"),
    (lambda: schedules.constant(float("nan")), "Invalid learning rate: nan"),
    (lambda: schedules.constant("0.1"), "Invalid learning rate: '0.1'"),
    (lambda: schedules.exponential(-1.0, 0.1), "Invalid lr0 value: -1.0"),
    (lambda: schedules.exponential(float("inf"), 0.1), "Invalid lr0 value: inf"),
    (lambda: schedules.exponential(0.1, -0.01), "Invalid decay_rate value: -0.01"),
    (lambda: schedules.exponential(0.1, float("nan")), "Invalid decay_rate value: nan"),
    (lambda: schedules.step_decay(-0.1, 10), "Invalid lr0 value: -0.1"),
    (lambda: schedules.step_decay(0.1, 0), "Invalid step_size value: 0"),
    (lambda: schedules.step_decay(0.1, 2.5), "Invalid step_size value: 2.5"),
    (lambda: schedules.step_decay(0.1, 10, gamma=0.0), "Invalid gamma value: 0.0"),
    (lambda: schedules.step_decay(0.1, 10, gamma=-0.5), "Invalid gamma value: -0.5"),
    (lambda: schedules.multistep(0.1, [30, 10]), "Invalid milestones value: [30, 10]"),
    (lambda: schedules.multistep(0.1, [5, 5]), "Invalid milestones value: [5, 5]"),
    (lambda: schedules.multistep(0.1, [-1, 3]), "Invalid milestones value: [-1, 3]"),
    (lambda: schedules.multistep(0.1, [1.5]), "Invalid milestones value: [1.5]"),
    (lambda: schedules.multistep(0.1, 30), "Invalid milestones value: 30"),
    (lambda: schedules.multistep(0.1, [30], gamma=0), "Invalid gamma value: 0"),
    (lambda: schedules.multistep(float("nan"), [30]), "Invalid lr0 value: nan"),
    (lambda: schedules.polynomial(0.1, 0), "Invalid total_steps value: 0"),
    (lambda: schedules.polynomial(0.1, 100, power=-1.0), "Invalid power value: -1.0"),
    (lambda: schedules.polynomial(-0.1, 100), "Invalid lr0 value: -0.1"),
    (lambda: schedules.cosine(0.1, 100, lr_min=0.2), "Invalid lr_min value: 0.2 (expected lr_min <= lr0=0.1)"),
    (lambda: schedules.cosine(0.1, 100, lr_min=-0.1), "Invalid lr_min value: -0.1"),
    (lambda: schedules.cosine(0.1, -5), "Invalid total_steps value: -5"),
    (lambda: schedules.cosine(0.1, 10.0), "Invalid total_steps value: 10.0"),
    (lambda: schedules.cosine(-0.1, 10), "Invalid lr0 value: -0.1"),
    (lambda: schedules.cosine_restarts(0.1, 0), "Invalid T_0 value: 0"),
    (lambda: schedules.cosine_restarts(0.1, 10, T_mult=0), "Invalid T_mult value: 0"),
    (lambda: schedules.cosine_restarts(0.1, 10, T_mult=1.5), "Invalid T_mult value: 1.5"),
    (lambda: schedules.cosine_restarts(0.1, 10, lr_min=0.5), "Invalid lr_min value: 0.5"),
    (lambda: schedules.cosine_restarts(float("inf"), 10), "Invalid lr0 value: inf"),
    (lambda: schedules.warmup_cosine(-1.0, 10, 100), "Invalid peak_lr value: -1.0"),
    (lambda: schedules.warmup_cosine(0.1, -1, 100), "Invalid warmup_steps value: -1"),
    (
        lambda: schedules.warmup_cosine(0.1, 200, 100),
        "Invalid warmup_steps value: 200 (expected warmup_steps <= total_steps=100)",
    ),
    (lambda: schedules.warmup_cosine(0.1, 2.5, 100), "Invalid warmup_steps value: 2.5"),
    (lambda: schedules.warmup_cosine(0.1, True, 100), "Invalid warmup_steps value: True"),
    (lambda: schedules.warmup_cosine(0.1, 10, 100, lr_min=-0.01), "Invalid lr_min value: -0.01"),
    (lambda: schedules.warmup_cosine(float("nan"), 10, 100), "Invalid peak_lr value: nan"),
    (lambda: schedules.warmup_cosine(0.1, 10, 0), "Invalid total_steps value: 0"),
    (
        lambda: schedules.warmup_cosine(0.1, 10, 100, lr_min=1.0),
        "Invalid lr_min value: 1.0 (expected lr_min <= peak_lr=0.1)",
    ),
    (lambda: schedules.one_cycle(-0.1, 100), "Invalid max_lr value: -0.1"),
    (lambda: schedules.one_cycle(0.1, 0), "Invalid total_steps value: 0"),
    (lambda: schedules.one_cycle(0.1, 100, pct_start=1.5), "Invalid pct_start value: 1.5"),
    (lambda: schedules.one_cycle(0.1, 100, pct_start=-0.1), "Invalid pct_start value: -0.1"),
    (lambda: schedules.one_cycle(0.1, 100, div_factor=0.0), "Invalid div_factor value: 0.0"),
    (lambda: schedules.one_cycle(0.1, 100, final_div_factor=-1.0), "Invalid final_div_factor value: -1.0"),
    (
        lambda: schedules.one_cycle(0.1, 100, anneal="cosine"),
        "Invalid anneal value: 'cosine' (expected 'cos' or 'linear')",
    ),
    (lambda: schedules.cyclic(-0.001, 0.1, 10), "Invalid base_lr value: -0.001"),
    (lambda: schedules.cyclic(0.001, float("nan"), 10), "Invalid max_lr value: nan"),
    (lambda: schedules.cyclic(0.1, 0.01, 10), "Invalid max_lr value: 0.01 (expected max_lr >= base_lr=0.1)"),
    (lambda: schedules.cyclic(0.001, 0.1, 0), "Invalid step_size_up value: 0"),
    (lambda: schedules.cyclic(0.001, 0.1, 10, mode="exp"), "Invalid mode value: 'exp'"),
    (lambda: schedules.cyclic(0.001, 0.1, 10, "exp_range", gamma=0.0), "Invalid gamma value: 0.0"),
    (lambda: schedules.cyclic(0.001, 0.1, 10, "exp_range", gamma=1.5), "Invalid gamma value: 1.5"),
]


@pytest.mark.parametrize("make, message", BAD, ids=[message for _, message in BAD])
def test_bad_arguments_raise_value_error_naming_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
@pytest.mark.parametrize(
    "step, message",
    [
        (-1, "Invalid step: -1"),
        (np.array([0, 5, -3]), "Invalid step: -3"),
        (2.5, "Invalid step: 2.5"),
        (np.array([0.5, 1.0]), "Invalid step: array([0.5, 1. ])"),
        (True, "Invalid step: True"),
        ("3", "Invalid step: '3'"),
    ],
)
def test_bad_steps_raise_value_error(schedule, step, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        schedule(step)


# ------------------------------------------------------------------- warmup-stable-decay

WSD_CASES = [  # (peak_lr, warmup_steps, total_steps, decay_steps, lr_min)
    (0.1, 20, 300, 60, 0.0),
    (0.5, 1, 300, 100, 0.01),
    (1.0, 50, 300, 1, 0.1),
    (0.3, 10, 200, 190, 0.0),
]


def wsd_factor(t, peak_lr, warmup_steps, total_steps, decay_steps, lr_min, shape):
    """The WSD rate over peak_lr, written step by step as Hägele et al. (2024) describe it."""
    if t < warmup_steps:
        return (t + 1) / (warmup_steps + 1)
    start = total_steps - decay_steps
    if t < start:
        return 1.0
    if t >= total_steps:
        return lr_min / peak_lr
    done = (t - start) / decay_steps
    left = 1 - done if shape == "linear" else 1 - math.sqrt(done)
    return (lr_min + (peak_lr - lr_min) * left) / peak_lr


@pytest.mark.parametrize("shape", ["linear", "sqrt"])
@pytest.mark.parametrize("peak_lr, warmup_steps, total_steps, decay_steps, lr_min", WSD_CASES)
def test_wsd_matches_lambda_lr(peak_lr, warmup_steps, total_steps, decay_steps, lr_min, shape):
    def factor(t):
        return wsd_factor(t, peak_lr, warmup_steps, total_steps, decay_steps, lr_min, shape)

    expected = torch_lrs(lambda o: lr_scheduler.LambdaLR(o, factor), N, peak_lr)
    assert_matches(schedules.wsd(peak_lr, warmup_steps, total_steps, decay_steps, lr_min, shape), expected)


@pytest.mark.parametrize("peak_lr, warmup_steps, total_steps, decay_steps, lr_min", WSD_CASES)
def test_wsd_linear_matches_sequential_warmup_constant_linear_decay(peak_lr, warmup_steps, total_steps,
                                                                     decay_steps, lr_min):
    def make(o):
        warmup = lr_scheduler.LinearLR(o, start_factor=1 / (warmup_steps + 1), total_iters=warmup_steps)
        stable = lr_scheduler.ConstantLR(o, factor=1.0, total_iters=0)
        decay = lr_scheduler.LinearLR(o, 1.0, lr_min / peak_lr, total_iters=decay_steps)
        return lr_scheduler.SequentialLR(o, [warmup, stable, decay],
                                         milestones=[warmup_steps, total_steps - decay_steps])

    expected = torch_lrs(make, total_steps + 1, peak_lr)
    assert_matches(schedules.wsd(peak_lr, warmup_steps, total_steps, decay_steps, lr_min), expected)


def test_wsd_does_not_depend_on_the_budget_before_its_decay():
    """The property WSD is for: every budget shares the constant run up to its own decay."""
    t = np.arange(400)
    short, long_ = schedules.wsd(0.1, 10, 200, 40), schedules.wsd(0.1, 10, 400, 80)
    np.testing.assert_array_equal(short(t[:160]), long_(t[:160]))
    assert short(199) == pytest.approx(0.1 / 40) and short(200) == 0.0 and long_(199) == 0.1
    sqrt = schedules.wsd(1.0, 0, 100, 20, shape="sqrt")
    assert sqrt(85) < schedules.wsd(1.0, 0, 100, 20)(85)           # 1 − √p falls faster at first
    np.testing.assert_array_equal(schedules.wsd(0.1, 5, 50, 0)(np.arange(5, 60)), 0.1 * (np.arange(5, 60) < 50))


@pytest.mark.parametrize("make, message", [
    (lambda: schedules.wsd(-0.1, 0, 10, 2), "Invalid peak_lr value: -0.1"),
    (lambda: schedules.wsd(0.1, -1, 10, 2), "Invalid warmup_steps value: -1"),
    (lambda: schedules.wsd(0.1, 0, 0, 0), "Invalid total_steps value: 0"),
    (lambda: schedules.wsd(0.1, 0, 10, 2.5), "Invalid decay_steps value: 2.5"),
    (lambda: schedules.wsd(0.1, 5, 10, 6), "Invalid decay_steps value: 6 (expected warmup_steps + decay_steps"),
    (lambda: schedules.wsd(0.1, 0, 10, 2, lr_min=0.2), "Invalid lr_min value: 0.2"),
    (lambda: schedules.wsd(0.1, 0, 10, 2, shape="cosine"), "Invalid shape value: 'cosine'"),
])
def test_wsd_bad_arguments_name_them(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


@pytest.mark.parametrize("step, message", [(-1, "Invalid step: -1"), (2.5, "Invalid step: 2.5")])
def test_wsd_bad_steps(step, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        schedules.wsd(0.1, 2, 10, 3)(step)
