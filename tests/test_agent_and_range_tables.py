"""Tables, analysis and the figure that the RL case study and the range-test chapter print
and draw, on small hand-made runs (no training)."""

from types import SimpleNamespace

import numpy as np
import pytest

from lrcourse import figures
from lrcourse.results import analysis, tables
from lrcourse.results.history import History, Sweep

STEPS = np.array([2, 4, 6])


def _run(metric, *, entropy=None, loss=None, collapsed_at=None, diverged_at=None):
    loss = np.arange(6, 0, -1, dtype=float) if loss is None else np.asarray(loss, dtype=float)
    logs = {} if entropy is None else {"entropy": np.asarray(entropy, dtype=float)}
    return History(loss=loss, lrs=np.full(len(loss), 0.1), metric=np.asarray(metric, dtype=float),
                   metric_steps=STEPS, metric_epochs=np.full(3, np.nan), diverged=diverged_at is not None,
                   diverged_at=diverged_at, diverged_loss=None, seconds=1.5,
                   config={"metric_name": "mean return", "collapsed_at": collapsed_at}, logs=logs)


def _sweep(runs, lrs, seeds=(0, 1), maximize=True):
    """runs[i][j]: the History of α = lrs[i], seed j."""
    histories = {(float(lr), seed): runs[i][j] for i, lr in enumerate(lrs) for j, seed in enumerate(seeds)}
    return Sweep(lrs=np.array(lrs, dtype=float), seeds=tuple(seeds), histories=histories, seconds=7.25,
                 batched=False, metric_name="mean return", maximize=maximize)


@pytest.fixture
def agent():
    """Three α, two seeds: slow and steady, fast then forgetting (seed 1 collapses), collapsed."""
    flat = [0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    return _sweep([[_run([10, 20, 30], entropy=flat), _run([12, 22, 40], entropy=flat)],
                   [_run([50, 90, 70], entropy=flat), _run([60, 100, 80], entropy=[0.6, 0.3, 0.1, 0, 0, 0],
                                                           collapsed_at=3)],
                   [_run([9, 9, 9], entropy=[0.69, 0.02, 0, 0, 0, 0], collapsed_at=1),
                    _run([9, 9, 9], entropy=[0.69, 0.2, 0.01, 0, 0, 0], collapsed_at=2)]],
                  [1e-3, 1e-2, 1e-1])


# ------------------------------------------------------------------ analysis

def test_mean_curve_and_the_step_it_reaches_a_target(agent):
    steps, mean = analysis.mean_curve(agent, 1e-2)
    assert steps.tolist() == [2, 4, 6] and mean.tolist() == [55, 95, 75]
    assert analysis.step_reaching(agent, 1e-2, 35) == 2
    assert analysis.step_reaching(agent, 1e-2, 60) == 4
    assert analysis.step_reaching(agent, 1e-2, 96) is None
    assert analysis.mean_final(agent, 1e-3) == 35 and analysis.mean_final(agent, 1e-2) == 75
    assert analysis.flagged(agent, "collapsed_at").tolist() == [0, 1, 2]


def test_seeds_apart_needs_every_seed_on_one_side(agent):
    assert analysis.seeds_apart(agent, 1e-3, 1e-2)          # 30, 40 against 70, 80
    assert not analysis.seeds_apart(agent, 1e-2, 1e-1)
    lower_is_better = _sweep([[_run([0, 0, 5]), _run([0, 0, 6])], [_run([0, 0, 3]), _run([0, 0, np.nan])]],
                             [1.0, 2.0], maximize=False)
    assert not analysis.seeds_apart(lower_is_better, 1.0, 2.0)      # a run without a final metric


def test_the_centred_average_has_no_lag():
    lrs = np.geomspace(1e-3, 1, 11)
    values = np.r_[np.zeros(5), 9.0, np.zeros(5)]            # one spike
    inner, centred = analysis.centred_average(lrs, values, window=3)
    np.testing.assert_array_equal(inner, lrs[1:-1])
    np.testing.assert_allclose(centred, [0, 0, 0, 3, 3, 3, 0, 0, 0])   # centred on the spike
    with pytest.raises(ValueError, match="Invalid window: 4"):
        analysis.centred_average(lrs, values, window=4)


def _range_test(losses, raw=None, stopped_at=None):
    lrs = np.geomspace(1e-4, 1, len(losses))
    raw = np.asarray(losses if raw is None else raw, dtype=float)
    return SimpleNamespace(lrs=lrs, losses=np.asarray(losses, dtype=float), raw_losses=raw, stopped_at=stopped_at,
                           suggestions={"steepest": 0.5, "valley": 0.01, "minimum/10": 0.02})


def test_the_flat_part_skips_the_first_tenth_of_the_smoothed_loss():
    losses = [9.0] + [8.0, 8.2] * 9 + [7.0]                   # 20 points: the first one is left out
    part = analysis.flat_part(_range_test(losses, raw=np.r_[losses[:-1], 99.0]), below=0.9)
    assert part == (8.0, 8.2, 8.0, 9.0)                        # the raw loss keeps its first point
    with pytest.raises(ValueError, match="Invalid below value"):
        analysis.flat_part(_range_test(losses), below=1e-4)


# ------------------------------------------------------------------ the RL tables

def test_the_agent_budget_from_settings_or_a_preset():
    s = SimpleNamespace(steps=150, num_envs=64, rollout_steps=8, eval_every=15, eval_episodes=16,
                        gamma=0.99, gae_lambda=0.95, entropy_coef=0.01)
    lines = tables.agent_budget(s, random_return=20.123).splitlines()
    assert lines == ["150 updates × 64 games × 8 steps", "= 76,800 environment steps per run",
                     "512 transitions per update; γ = 0.99, λ = 0.95, β = 0.01",
                     "evaluation: 16 episodes every 15 updates", "random play, same episodes: mean return 20.1"]
    preset = dict(steps=20_000, num_envs=16, rollout_steps=8, eval_every=1_000, eval_episodes=8)
    text = tables.agent_budget(preset, frame_skip=4)
    assert "transitions" not in text and text.splitlines()[-1].startswith("2,560,000 agent steps = 10,240,000 frames")
    with pytest.raises(ValueError, match="Invalid config"):
        tables.agent_budget({"steps": 3})


def test_the_evaluations_of_one_run_with_the_update_before_each():
    h = _run([10, 20, 30], entropy=[0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    lines = tables.evaluations_table(h).splitlines()
    assert lines[0].split() == ["update", "2", "4", "6"]
    assert lines[1].split() == ["return", "10", "20", "30"]
    assert lines[2].split() == ["entropy", "0.20", "0.40", "0.60"]      # steps 1, 3, 5
    assert lines[3].split() == ["loss", "5.00", "3.00", "1.00"]
    with pytest.raises(ValueError, match="Invalid logs value: 'kl'"):
        tables.evaluations_table(h, logs=("kl",))


def test_the_seeds_table_counts_the_flagged_runs(agent):
    lines = tables.seed_finals_table(agent, flag="collapsed_at").splitlines()
    assert lines[0].split()[-1] == "collapsed"
    assert lines[2].split() == ["0.01", "70", "80", "75", "±", "7", "1/2"]
    assert lines[3].split()[-1] == "2/2" and len({len(line) for line in lines}) == 1
    worst_first = tables.seed_finals_table(agent, lrs=[1e-2], digits=1, sort=True).splitlines()
    assert "(sorted)" in worst_first[0] and worst_first[1].split()[1:3] == ["70.0", "80.0"]
    assert len(worst_first) == 2


def test_mean_curves_best_and_final_and_the_first_updates(agent):
    curves = tables.mean_curves_table(agent, [1e-3, 1e-2]).splitlines()
    assert curves[0].split() == ["update", "2", "4", "6"] and curves[2].split() == ["α", "=", "0.01", "55", "95", "75"]
    peaks = tables.best_and_final_table(agent, [1e-2], log="entropy", flag="collapsed_at").splitlines()
    assert peaks[0].split()[-2:] == ["entropy", "collapsed"]
    assert peaks[1].split() == ["0.01", "0", "90", "(4)", "70", "0.600", "–"]
    assert peaks[2].split() == ["0.01", "1", "100", "(4)", "80", "0.000", "3"]
    first = tables.log_start_table(agent, 0.1, "entropy", steps=3).splitlines()
    assert first[0].split()[-2:] == ["update", "2"] and first[2].split() == ["seed", "1", "0.6900", "0.2000", "0.0100"]


def test_how_soon_the_best_alpha_gets_where_a_smaller_one_ends(agent):
    lines = tables.catch_up_table(agent).splitlines()
    assert "α = 0.01" in lines[0]
    assert lines[1].split() == ["0.001", "35", "2"] and len(lines) == 2


def test_neighbouring_alphas_apart_or_not(agent):
    lines = tables.apart_table(agent).splitlines()
    assert [line.split()[-1] for line in lines[1:]] == ["yes", "no"]


def test_entropy_curves_one_colour_per_alpha_one_legend_entry_each(agent):
    fig = figures.log_curves_figure(agent, "entropy", [1e-2, 1e-1], title="entropy", y_title="nats")
    assert len(fig.data) == 4 and [t.showlegend for t in fig.data] == [True, False, True, False]
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    np.testing.assert_allclose(fig.data[1].y, [0.6, 0.3, 0.1, 0, 0, 0])
    assert fig.layout.title.text == "entropy" and fig.layout.xaxis.title.text == "update"
    assert fig.layout.yaxis.title.text == "nats"
    with pytest.raises(ValueError, match="Invalid log value: 'kl'"):
        figures.log_curves_figure(agent, "kl", [1e-2], title="t", y_title="y")
    with pytest.raises(ValueError, match="Invalid title"):
        figures.log_curves_figure(agent, "entropy", [1e-2], title="", y_title="y")


# ------------------------------------------------------------------ the range-test tables

def test_the_ramp_and_a_range_test_in_a_few_lines():
    lines = tables.ramp_text(np.geomspace(1e-7, 10, 100), below=0.01).splitlines()
    assert lines == ["100 steps from α = 1e-07 to 10", "α grows × 1.205 per step: 12.4 steps per decade",
                     "62 of the 100 steps use an α below 0.01"]
    with pytest.raises(ValueError, match="Invalid lrs"):
        tables.ramp_text([1.0, 0.5])
    losses = np.r_[np.linspace(2, 1, 15), [1.5, 3, 9, 20, 40]]
    ran, stopped = _range_test(losses), _range_test(losses, stopped_at=19)
    assert tables.range_test_summary(ran).splitlines()[0] == "20 steps, ran all 20 steps to α = 1"
    assert "stopped at step 19 (α = 1)" in tables.range_test_summary(stopped)
    second, third = tables.range_test_summary(ran).splitlines()[1:]
    assert second == f"smoothed loss 2.000 at the start, lowest 1.000 at α = {ran.lrs[14]:.3g}"
    assert third == "suggestions: steepest 0.5, valley 0.01, minimum/10 0.02"


def test_the_blow_up_and_the_last_steps():
    raw = np.r_[np.full(15, 2.0), [3, 5, 2.5, 2.2, 2.1]]
    text = tables.blow_up_table(_range_test(np.linspace(2, 3, 20), raw=raw), factor=2, last=3)
    lines = text.splitlines()
    assert lines[0] == f"first raw loss above 2 × the start: 5.00 at α = {np.geomspace(1e-4, 1, 20)[16]:.3g}"
    assert lines[1] == "the last 3 steps:" and len(lines) == 6
    assert lines[-1].split() == ["1", "2.10", "3.000"]
    assert "never" in tables.blow_up_table(_range_test(np.ones(20)), factor=2)


def test_the_flat_part_of_several_tests():
    losses = [9.0] + [8.0, 8.2] * 9 + [7.0]
    text = tables.flat_part_table({"seed 0": _range_test(losses, stopped_at=19), "seed 1": _range_test(losses)},
                                  below=0.9)
    lines = text.splitlines()
    assert lines[1].split() == ["seed", "0", "8.00", "to", "8.20", "8.00", "to", "9.00", "1"]
    assert lines[2].split()[-1] == "–"
    with pytest.raises(ValueError, match="Invalid results value"):
        tables.flat_part_table({}, below=0.9)


def test_the_loss_against_the_metric(agent):
    lines = tables.loss_and_metric_table(agent, 1e-2, window=2).splitlines()
    assert lines[0].split()[-5:] == ["after", "2", "at", "the", "end"]
    assert lines[1].split() == ["seed", "0", "5.50", "1.50", "50", "70"]


def test_what_the_range_test_costs_against_the_grid(agent):
    tests = [_range_test(np.ones(20)), _range_test(np.ones(10))]
    cases = {"toy": (tests, agent)}
    row = tables.cost_table(cases).splitlines()[1].split()
    assert row == ["toy", "30", "6", "5.00", "36", "1"]      # 3 α × 2 seeds × 6 steps = 36
    assert tables.wall_times({"toy": ([SimpleNamespace(seconds=0.25)], agent)}) == \
        "toy   range test 0.2 s, grid search 7.2 s wall time"
    with pytest.raises(ValueError, match="Invalid cases value"):
        tables.cost_table({"toy": (tests,)})


def test_the_best_alpha_against_the_decade_below_the_lowest_point(agent):
    test = _range_test(np.ones(20))                            # minimum/10 = 0.02: lowest point 0.2
    row = tables.bracket_table({"toy": (test, agent)}).splitlines()[1].split()
    assert row == ["toy", "0.02", "0.2", "0.01", "no", "20.0"]
    inside = SimpleNamespace(**{**vars(test), "suggestions": {"minimum/10": 0.001}})
    assert tables.bracket_table({"toy": (inside, agent)}).splitlines()[1].split()[4] == "yes"
    runs = _sweep([[_run([0, 0, 1]), _run([0, 0, 3])], [_run([0, 0, 5]), _run([0, 0, 7])]], [0.001, 0.003])
    row = tables.two_runs_table({"toy": (inside, runs, agent)}).splitlines()[1].split()
    assert row == ["toy", "0.001", "2", "0.003", "6", "0.01", "75"]


def test_the_agent_budget_of_atari_scores_training_games():
    from lrcourse.cases import rl
    text = tables.agent_budget(rl.config(rl.ALE_BREAKOUT, frames=1_000_000), random_return=1.234).splitlines()
    assert text[0] == "3,125 updates × 16 games × 5 steps"
    assert "score: mean of the last 100 games, every 100 updates" in text
    assert "random play: mean score 1.2" in text
    assert text[-1] == "250,000 agent steps = 1,000,000 frames (an action lasts 4 frames)"
