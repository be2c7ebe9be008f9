"""The LR range test: its suggestion rules on known curves, the test itself on problems whose
answer is known, weights restored exactly, and clear errors on bad input."""

import itertools
import math

import numpy as np
import pytest
import torch

from lrcourse import engine
from lrcourse.engine import lr_range as rt


# --------------------------------------------------------------------------- suggestion rules

LRS = np.geomspace(1e-4, 1e1, 11)                 # 1e-4, 1e-3.5, …, 10


def test_steepest_is_where_the_loss_falls_fastest_per_log_alpha():
    losses = np.array([2.0, 2.0, 1.9, 1.8, 1.0, 0.9, 0.8, 0.7, 0.9, 3.0, 9.0])
    assert rt.steepest(LRS, losses) == pytest.approx(LRS[3])          # the drop from 1.8 to 1.0


def test_steepest_uses_log_alpha_not_alpha():
    lrs = np.array([1e-3, 1e-2, 1.1e-2, 1e-1])
    losses = np.array([3.0, 2.0, 1.99, 1.0])     # per unit of α the middle drop is steepest; per log α it is not
    assert rt.steepest(lrs, losses) in (1e-3, pytest.approx(1.1e-2))
    assert rt.steepest(lrs, losses) != pytest.approx(1e-2)


def test_minimum_over_ten():
    losses = np.array([2.0, 1.5, 1.2, 1.0, 0.9, 0.5, 0.7, 3.0, 9.0, 20.0, 50.0])
    assert rt.minimum_over_ten(LRS, losses) == pytest.approx(LRS[5] / 10)


def test_valley_is_half_way_down_the_longest_decreasing_stretch():
    # A short dip first (indices 0–1), then the longest valley from index 2 to 8 (7 points).
    losses = np.array([3.0, 2.9, 5.0, 4.0, 3.5, 3.0, 2.5, 2.0, 1.0, 4.0, 9.0])
    # fastai: end 8, start 8 − 7 = 1, sections = 7/3 → index 1 + 2 + 1 = 4
    assert rt.valley(LRS, losses) == pytest.approx(LRS[4])


def test_valley_stays_on_the_curve_when_it_is_short():
    assert rt.valley(LRS[:2], [1.0, 2.0]) == LRS[0]


def test_valley_clamps_a_two_point_valley_at_the_start_where_fastai_wraps_around():
    # Longest valley: indices 0–1 (2 → 1). fastai's formula gives index −1, which Python reads
    # as the last, largest α (10× the range's end here); lrcourse clamps it to index 0.
    lrs, losses = LRS[:5], [2.0, 1.0, 3.0, 4.0, 5.0]
    assert rt.valley(lrs, losses) == lrs[0]
    assert rt.valley(lrs, losses) != lrs[-1]


def test_valley_follows_a_decreasing_subsequence_across_a_bump():
    # A noisy descent: the bump at index 4 does not end the valley (the subsequence skips it).
    losses = np.array([5.0, 4.0, 3.5, 3.0, 3.2, 2.5, 2.0, 1.5, 1.0, 6.0, 9.0])
    assert rt.valley(LRS, losses) == pytest.approx(LRS[0 + 2 + 1])    # 8 points ending at 8: start 0, sections 8/3


def test_suggest_leaves_out_the_first_tenth_and_the_last_five_points():
    lrs = np.geomspace(1e-6, 1, 40)
    losses = np.linspace(2.0, 1.0, 40)
    losses[1] = -100.0                                          # in the first tenth: ignored
    losses[-1] = -100.0                                         # among the last five: ignored
    assert rt.suggest(lrs, losses, "minimum/10") == pytest.approx(lrs[34] / 10)
    assert rt.minimum_over_ten(lrs, losses) == pytest.approx(lrs[1] / 10)


def test_suggest_trims_the_first_tenth_of_the_planned_steps_as_fastai_does():
    # A test planned for 100 steps that stopped after 40: fastai's lr_find drops num_it // 10 = 10
    # points, not 40 // 10 = 4, so a low point at index 6 is left out.
    lrs = np.geomspace(1e-6, 1e-2, 40)
    losses = np.linspace(2.0, 1.0, 40)
    losses[6] = -100.0
    assert rt.suggest(lrs, losses, "minimum/10", planned_steps=100) == pytest.approx(lrs[34] / 10)
    assert rt.suggest(lrs, losses, "minimum/10") == pytest.approx(lrs[6] / 10)      # a curve that ran in full
    assert rt.suggest(lrs, losses, "minimum/10", planned_steps=40) == rt.suggest(lrs, losses, "minimum/10")


def test_a_test_stopped_so_early_that_nothing_is_left_is_read_whole():
    lrs, losses = LRS[:8], np.array([3.0, 2.5, 2.0, 1.0, 1.5, 4.0, 9.0, 20.0])
    # planned 100: [10:3] is empty, so the rule reads all 8 points
    assert rt.suggest(lrs, losses, "minimum/10", planned_steps=100) == pytest.approx(lrs[3] / 10)


@pytest.mark.parametrize("planned_steps, match", [
    (0, "Invalid planned_steps value: 0"),
    (2.5, "Invalid planned_steps value: 2.5"),
    (5, "Invalid planned_steps value: 5 \\(the curve has 11 points\\)"),
])
def test_bad_planned_steps_are_named(planned_steps, match):
    with pytest.raises(ValueError, match=match):
        rt.suggest(LRS, np.arange(11.0), "valley", planned_steps=planned_steps)


def test_suggest_uses_a_short_curve_whole():
    assert rt.suggest(LRS[:3], [3.0, 2.0, 1.0], "minimum/10") == pytest.approx(LRS[2] / 10)


@pytest.mark.parametrize("rule", sorted(rt.RULES))
def test_every_rule_returns_one_of_the_curves_points_or_a_tenth_of_one(rule):
    rng = np.random.default_rng(0)
    losses = np.cumsum(rng.normal(size=11))
    alpha = rt.RULES[rule](LRS, losses)
    assert alpha in LRS or alpha * 10 in LRS


@pytest.mark.parametrize("lrs, losses, match", [
    ([1e-3], [1.0], "Invalid curve: 1 point"),
    ([1e-3, 1e-2], [1.0], "Invalid curve"),
    ([1e-2, 1e-3], [1.0, 2.0], "Invalid lrs"),
    ([0.0, 1e-3], [1.0, 2.0], "Invalid lrs"),
    ([1e-3, 1e-2], [1.0, float("nan")], "Invalid losses"),
])
def test_rules_reject_bad_curves(lrs, losses, match):
    for rule in rt.RULES.values():
        with pytest.raises(ValueError, match=match):
            rule(lrs, losses)


def test_an_unknown_rule_is_named():
    with pytest.raises(ValueError, match="Invalid rule: 'fastest'"):
        rt.suggest(LRS, np.arange(11.0), "fastest")


# --------------------------------------------------------------------------- the test itself

def quadratic_problem(curvature=4.0, w0=1.0):
    """𝓛(w) = ½ λ w² on one weight: gradient descent diverges for α > 2/λ."""
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(w0)
    return engine.Problem(model=model, loss=lambda forward, _: 0.5 * curvature * forward.weight.pow(2).sum(),
                          batches=itertools.count(), steps=1)


def test_the_learning_rates_grow_exponentially_from_start_to_end():
    lrs = rt.exponential_lrs(1e-6, 1.0, 7)
    np.testing.assert_allclose(lrs, np.logspace(-6, 0, 7))


def test_the_loss_is_smoothed_by_a_debiased_moving_average():
    r = rt.range_test(quadratic_problem(), start_lr=1e-3, end_lr=0.3, steps=30, smoothing=0.9)
    average, expected = 0.0, []
    for k, loss in enumerate(r.raw_losses):
        average = 0.9 * average + 0.1 * loss
        expected.append(average / (1 - 0.9 ** (k + 1)))
    np.testing.assert_allclose(r.losses, expected)
    assert r.losses[0] == r.raw_losses[0] == pytest.approx(2.0)      # ½ · 4 · 1², the debiased start
    assert r.stopped_at is None and len(r.lrs) == 30


def test_it_stops_where_theory_says_descent_diverges():
    """On ½ λ w² the step multiplies w by (1 − αλ): |w| grows once α > 2/λ = 0.5."""
    r = rt.range_test(quadratic_problem(curvature=4.0), start_lr=1e-3, end_lr=100.0, steps=200)
    assert r.stopped_at is not None and r.stopped_at == len(r.lrs) - 1
    assert r.losses[-1] > 4 * r.losses.min()
    assert 0.5 < r.lrs[-1] < 5.0               # the blow-up follows 2/λ within a few steps of the ramp
    assert r.suggestion < 0.5                  # and the suggestion is below the threshold


def test_a_test_that_stops_early_trims_by_the_steps_it_planned():
    r = rt.range_test(quadratic_problem(curvature=4.0), start_lr=1e-3, end_lr=1e4, steps=300)
    assert r.planned_steps == 300 and r.config["steps"] == 300
    assert len(r.lrs) < 300 and len(r.lrs) // 10 != 300 // 10        # the two trims differ here
    for rule, alpha in r.suggestions.items():
        assert alpha == rt.suggest(r.lrs, r.losses, rule, planned_steps=300)
    assert r.suggestions["minimum/10"] == pytest.approx(r.lrs[30:-5][np.argmin(r.losses[30:-5])] / 10)


def test_it_stops_without_recording_a_loss_that_is_not_finite():
    def loss(forward, step):
        return forward.weight.pow(2).sum() * (math.inf if step == 5 else 1.0)
    model = torch.nn.Linear(1, 1, bias=False)
    r = rt.range_test(engine.Problem(model=model, loss=loss, batches=itertools.count(), steps=1),
                      start_lr=1e-4, end_lr=1e-2, steps=20)
    assert r.stopped_at == 5 and len(r.lrs) == len(r.losses) == len(r.raw_losses) == 5
    assert np.all(np.isfinite(r.losses))


def test_the_weights_are_restored_exactly():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    model.eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(64, 5), torch.randn(64, 1)
    problem = engine.Problem(model=model, loss=lambda forward, _: ((forward(x) - y) ** 2).mean(),
                             batches=itertools.count(), steps=1)
    r = rt.range_test(problem, start_lr=1e-3, end_lr=10.0, steps=60, optimizer="sgd", momentum=0.9)
    assert r.raw_losses[-1] != r.raw_losses[0]                         # it did train
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert not model.training                                          # and its mode is back too


def test_the_weights_are_restored_when_the_test_fails_midway():
    model = torch.nn.Linear(2, 1)
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def loss(forward, step):
        if step == 3:
            raise RuntimeError("the data loader broke")
        return forward(torch.ones(1, 2)).pow(2).sum()

    with pytest.raises(RuntimeError, match="loader"):
        rt.range_test(engine.Problem(model=model, loss=loss, batches=itertools.count(), steps=1),
                      start_lr=0.1, end_lr=1.0, steps=10)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name])


def test_the_gradient_is_clipped_when_asked():
    quad = rt.range_test(quadratic_problem(curvature=4.0, w0=100.0), start_lr=1e-2, end_lr=0.1, steps=10)
    clipped = rt.range_test(quadratic_problem(curvature=4.0, w0=100.0), start_lr=1e-2, end_lr=0.1, steps=10,
                            clip_norm=1e-3)
    assert quad.raw_losses[-1] < 0.9 * quad.raw_losses[0]
    assert clipped.raw_losses[-1] == pytest.approx(clipped.raw_losses[0], rel=1e-4)   # steps of at most 1e-4


@pytest.mark.parametrize("kwargs, match", [
    ({"start_lr": 1.0, "end_lr": 1.0}, "Invalid start_lr value: 1 "),
    ({"start_lr": 10.0, "end_lr": 1.0}, "Invalid start_lr value: 10 "),
    ({"start_lr": -1e-3}, "Invalid start_lr value: -0.001"),
    ({"end_lr": float("inf")}, "Invalid end_lr value: inf"),
    ({"steps": 0}, "Invalid steps value: 0"),
    ({"steps": -5}, "Invalid steps value: -5"),
    ({"steps": 1}, "Invalid steps value: 1"),
    ({"steps": 2.5}, "Invalid steps value: 2.5"),
    ({"smoothing": 1.0}, "Invalid smoothing value: 1.0"),
    ({"stop_factor": 1.0}, "Invalid stop_factor value: 1.0"),
    ({"rule": "lowest"}, "Invalid rule: 'lowest'"),
    ({"optimizer": "sgdd"}, "sgdd"),
    ({"clip_norm": 0}, "Invalid clip_norm value: 0"),
    ({"momentum": -0.5}, "momentum"),
])
def test_bad_input_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        rt.range_test(quadratic_problem(), **kwargs)


def test_an_empty_model_is_named():
    problem = engine.Problem(model=torch.nn.Identity(), loss=lambda forward, _: torch.tensor(1.0),
                             batches=itertools.count(), steps=1)
    with pytest.raises(ValueError, match="Invalid model: Identity has no trainable parameters"):
        rt.range_test(problem)


def test_a_start_already_too_high_is_named():
    with pytest.raises(ValueError, match="Invalid start_lr value: 100 .*start lower"):
        rt.range_test(quadratic_problem(curvature=1e30), start_lr=100.0, end_lr=1e4, steps=10)   # inf at step 1


def test_lr_range_test_is_repeatable_for_a_seed():
    def make(seed):
        model = torch.nn.Linear(3, 1)
        x = torch.randn(32, 3)
        return engine.Problem(model=model, loss=lambda forward, _: forward(x).pow(2).mean(),
                              batches=itertools.count(), steps=1)
    a, b, c = (engine.lr_range_test(make, seed=s, steps=30, end_lr=1.0) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.losses, b.losses)
    assert not np.array_equal(a.losses, c.losses)
    assert a.config["seed"] == 0
    with pytest.raises(ValueError, match="Invalid seed: -1"):
        engine.lr_range_test(make, seed=-1)


# --------------------------------------------------------------------------- the case studies

# The best α of the grid searches of chapter 8 (finding-a-learning-rate.ipynb), as its tables print
# them: CNN with SGD 1 (test accuracy 0.977), LSTM with SGD 10 (perplexity 8.98), CartPole agent
# with Adam 0.00316 (return 335).
GRID_BEST = {"cnn": 1.0, "lstm": 10.0, "rl": 0.00316}


@pytest.mark.parametrize("case", sorted(GRID_BEST))
def test_the_default_range_suggests_an_alpha_within_ten_times_the_grids_best(case):
    import importlib
    r = importlib.import_module(f"lrcourse.cases.{case}").lr_range_test()
    assert r.rule == "valley" and np.argmin(r.losses) < len(r.losses) - 5    # the curve turns up before the end
    assert GRID_BEST[case] / 10 <= r.suggestion <= GRID_BEST[case] * 10, (case, r.suggestion)


def test_cnn_range_test_suggests_an_alpha_below_its_cliff():
    from lrcourse.cases import cnn
    r = cnn.lr_range_test(seed=0)
    assert len(r.lrs) == len(r.losses) and len(r.lrs) >= 80
    assert r.lrs[0] == pytest.approx(1e-2)
    assert set(r.suggestions) == set(rt.RULES) and r.suggestion == r.suggestions["valley"]
    assert 1e-3 < r.suggestion < 1.26          # the CNN chapter measures divergence from α ≈ 1.26 up
    again = cnn.lr_range_test(seed=0)
    np.testing.assert_array_equal(r.losses, again.losses)
    with pytest.raises(ValueError, match="Invalid steps value: 0"):
        cnn.lr_range_test(steps=0)


def test_lstm_and_rl_range_tests_have_the_same_shape():
    from lrcourse.cases import lstm, rl
    for case, kwargs in ((lstm, {"clip_norm": 1.0}), (rl, {"num_envs": 4})):
        r = case.lr_range_test(seed=0, steps=12, end_lr=1.0, rule="minimum/10", **kwargs)
        assert len(r.lrs) == 12 and np.all(np.isfinite(r.losses))
        assert r.suggestion == r.suggestions["minimum/10"]
        assert r.config["case"] == case.__name__.rsplit(".", 1)[1]
        with pytest.raises(ValueError, match="Invalid start_lr value"):
            case.lr_range_test(start_lr=1.0, end_lr=0.1)
