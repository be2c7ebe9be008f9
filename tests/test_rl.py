"""The RL case study: A2C pieces, repeatability, divergence and collapse, CartPole, MinAtar, ALE, CLI."""

import math
import os

import numpy as np
import pytest
import torch

from lrcourse import engine
from lrcourse.cases import rl

SHORT = dict(steps=6, num_envs=8, rollout_steps=8, eval_every=3, eval_episodes=4)


# --------------------------------------------------------------------------- the pieces

def test_advantages_by_hand():
    """Two environments, three steps: one episode terminates, one is truncated by a time limit."""
    gamma, lam = 0.9, 0.5
    rewards = np.array([[1.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    values = np.array([[0.5, 1.0], [1.0, 2.0], [2.0, 4.0], [3.0, 5.0]])        # V(s_0) … V(s_3)
    terminated = np.array([[False, False], [True, False], [False, False]])
    ended = np.array([[False, False], [True, False], [False, True]])             # env 1 truncated at t = 2
    got = rl.advantages(rewards, values, terminated, ended, gamma, lam)
    # env 0: s_2 is terminal (worth 0) and the advantage does not reach back across the episode's end
    d2, d1, d0 = 0.0 + 0.9 * 3.0 - 2.0, 2.0 + 0 - 1.0, 1.0 + 0.9 * 1.0 - 0.5
    a1 = d1
    np.testing.assert_allclose(got[:, 0], [d0 + gamma * lam * a1, a1, d2])
    # env 1: truncated at t = 2, so s_3 is bootstrapped with its value, 5
    e2, e1, e0 = 3.0 + 0.9 * 5.0 - 4.0, 0.0 + 0.9 * 4.0 - 2.0, 1.0 + 0.9 * 2.0 - 1.0
    np.testing.assert_allclose(got[:, 1], [e0 + gamma * lam * (e1 + gamma * lam * e2), e1 + gamma * lam * e2, e2])


def test_advantages_limits():
    """λ = 1: discounted return (bootstrapped) minus V; λ = 0: the one-step TD error."""
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(5, 3)), rng.normal(size=(6, 3))
    never = np.zeros((5, 3), dtype=bool)
    gamma = 0.95
    ret = values[5].copy()
    returns = np.empty((5, 3))
    for t in reversed(range(5)):
        ret = rewards[t] + gamma * ret
        returns[t] = ret
    np.testing.assert_allclose(rl.advantages(rewards, values, never, never, gamma, 1.0), returns - values[:5])
    td = rewards + gamma * values[1:] - values[:-1]
    np.testing.assert_allclose(rl.advantages(rewards, values, never, never, gamma, 0.0), td)


def test_sample_follows_the_policy_and_is_seeded():
    logits = torch.log(torch.tensor([[0.2, 0.8], [0.7, 0.3], [1.0, 1e-12]])).repeat(4000, 1)
    actions = rl.sample(logits, torch.Generator().manual_seed(0)).view(4000, 3)
    np.testing.assert_allclose(actions.float().mean(0).numpy(), [0.8, 0.3, 0.0], atol=0.025)
    again = rl.sample(logits, torch.Generator().manual_seed(0)).view(4000, 3)
    assert torch.equal(actions, again)
    assert rl.sample(torch.full((5, 3), math.nan), torch.Generator()).tolist() == [0] * 5   # no crash


def test_player_handles_the_autoreset_steps():
    """CartPole pays 1 per step: each finished episode's return is its number of real steps."""
    envs = rl.make_envs("CartPole-v1", 4)
    player = rl.Player(envs, 0, rl.observations("classic"))
    uniform = lambda obs, value=True: (torch.zeros(len(obs), 2), None)   # noqa: E731
    rollout = player.play(uniform, 200)
    assert rollout.obs.shape == (201, 4, 4) and rollout.actions.shape == (200, 4)
    finished = list(player.finished)
    assert len(finished) >= 20
    lengths = []
    for env in range(4):
        ends = np.flatnonzero(rollout.ended[:, env])
        # the step after an episode's end is the reset step: not a transition, no reward
        assert not rollout.valid[ends[ends < 199] + 1, env].any()
        assert rollout.valid[0, env] and rollout.valid[:, env].sum() == 200 - np.sum(ends < 199)
        start = 0
        for end in ends:
            lengths.append((env, end, int(rollout.valid[start:end + 1, env].sum())))
            start = end + 1
    ordered = sorted(lengths, key=lambda x: (x[1], x[0]))         # the order in which they finished
    assert [n for _, _, n in ordered] == finished
    assert np.array_equal(rollout.terminated & ~rollout.ended, np.zeros_like(rollout.terminated))


def test_networks():
    model = rl.actor_critic("mlp", (4,), 2)
    logits, value = model(torch.zeros(5, 4))
    assert logits.shape == (5, 2) and value.shape == (5,)
    assert model(torch.zeros(5, 4), value=False)[1] is None
    conv = rl.actor_critic("minatar", (4, 10, 10), 3)
    assert [t.shape for t in conv(torch.zeros(2, 4, 10, 10))] == [(2, 3), (2,)]
    nature = rl.actor_critic("nature", (4, 84, 84), 4)
    assert [t.shape for t in nature(torch.zeros(1, 4, 84, 84))] == [(1, 4), (1,)]
    with pytest.raises(ValueError, match="Invalid network: 'resnet'"):
        rl.actor_critic("resnet", (3, 8, 8), 2)


def test_evaluation_is_a_function_of_the_policy():
    baseline = rl.random_return()
    assert baseline == rl.random_return() and 10 < baseline < 40       # random play lasts ~20 steps
    envs = rl.make_envs("CartPole-v1", 4)
    broken = lambda obs, value=True: (torch.full((len(obs), 2), math.nan), None)   # noqa: E731
    assert math.isnan(rl.evaluate(broken, envs, rl.observations("classic"), 500).item())


# --------------------------------------------------------------------------- training runs

def test_history_of_a_short_run():
    h = rl.train(3e-3, seed=0, **SHORT)
    assert h.loss.shape == (6,) and h.lrs.shape == (6,)
    assert list(h.metric_steps) == [3, 6] and h.final == h.metric[-1] > 0
    assert h.metric_name == "mean return" and h.config["maximize"]
    assert h.config["case"] == "rl" and h.config["env"] == "CartPole-v1" and h.config["optimizer"] == "adam"
    assert h.config["env_steps"] == 6 * 8 * 8 and h.config["network"] == "mlp"
    assert h.logs["entropy"].shape == (6,) and h.logs["episode_return"].shape == (6,)
    assert np.all((h.logs["entropy"] > 0) & (h.logs["entropy"] <= math.log(2) + 1e-6))
    assert h.config["collapsed_at"] is None and not h.diverged


def test_book_scale_default_beats_random_play():
    """The chapter's claim: with a good α, 76,800 environment steps lift CartPole far above random play."""
    h = rl.train(3e-3, seed=0)
    assert h.steps == 150 and len(h.metric) == 10 and h.config["env_steps"] == 76_800
    assert h.final > 5 * rl.random_return(), h


def test_same_seed_bit_identical_other_seed_differs():
    a = rl.train(1e-2, seed=3, **SHORT)
    b = rl.train(1e-2, seed=3, **SHORT)
    c = rl.train(1e-2, seed=4, **SHORT)
    assert a.final == b.final and np.array_equal(a.loss, b.loss) and np.array_equal(a.metric, b.metric)
    assert np.array_equal(a.logs["entropy"], b.logs["entropy"])
    assert not np.array_equal(a.loss, c.loss)


def test_divergence_is_reported_not_raised():
    h = rl.train(1e3, seed=0, optimizer="sgd", steps=40)
    assert h.diverged and 0 < h.diverged_at < 40
    assert len(h.loss) == h.diverged_at + 1 and h.diverged_loss == h.loss[-1]
    assert not math.isfinite(h.diverged_loss)
    assert h.metric_steps[-1] == h.diverged_at                      # evaluated where it stopped


def test_weights_that_are_not_numbers_diverge_at_once():
    s = rl.config(**SHORT)

    def poisoned(seed):
        problem = rl.problem(seed, s)
        with torch.no_grad():
            for p in problem.model.parameters():
                p.fill_(math.nan)
        return problem

    h = engine.train(poisoned, 1e-3, optimizer="adam")
    assert h.diverged and h.diverged_at == 0 and math.isnan(h.diverged_loss) and math.isnan(h.final)


def test_too_high_lr_collapses_the_policy():
    h = rl.train(1.0, seed=0, steps=20, eval_every=10)
    at = h.config["collapsed_at"]
    assert not h.diverged and at is not None and at < 20
    assert np.all(h.logs["entropy"][at:] < rl.COLLAPSE_ENTROPY * math.log(2))
    assert h.final < 50                                             # stuck with (nearly) one action


def test_collapsed_at_definition():
    def history(entropy, actions=2):
        n = len(entropy)
        return engine.History(loss=np.zeros(n), lrs=np.zeros(n), metric=np.zeros(0), metric_steps=np.zeros(0, int),
                              metric_epochs=np.zeros(0), diverged=False, diverged_at=None, diverged_loss=None,
                              seconds=0.0, config={"num_actions": actions}, logs={"entropy": np.asarray(entropy)})

    low = 0.001
    assert rl.collapsed_at(history([0.6, 0.3, low, low])) == 2
    assert rl.collapsed_at(history([low, 0.6, low])) == 2
    assert rl.collapsed_at(history([low, low])) == 0
    assert rl.collapsed_at(history([0.6, low, 0.5])) is None             # came back: not collapsed
    assert rl.collapsed_at(history([0.6, math.nan])) is None
    assert rl.collapsed_at(history([0.6, 0.02], actions=4)) is None
    assert rl.collapsed_at(history([0.6, 0.02]), fraction=0.05) == 1


def test_schedule_and_optimizer_options():
    h = rl.train(schedule=lambda k: 1e-3 * 0.5 ** k, seed=0, **SHORT)
    np.testing.assert_allclose(h.lrs, [1e-3 * 0.5 ** k for k in range(6)])
    m = rl.train(1e-2, seed=0, optimizer="sgd", momentum=0.9, clip_norm=0.5, **SHORT)
    assert m.config["optimizer_kwargs"] == {"momentum": 0.9} and m.config["clip_norm"] == 0.5


def test_sweep_runs_one_by_one_like_train():
    s = rl.sweep([1e-3, 1.0], seeds=(0, 1), **SHORT)
    assert not s.batched and s.finals.shape == (2, 2) and s.metric_name == "mean return"
    one = rl.train(1.0, seed=1, **SHORT)
    assert np.array_equal(s[1.0, 1].loss, one.loss) and s[1.0, 1].final == one.final
    assert all("collapsed_at" in h.config for h in s)
    assert "mean return" in s.table()


def test_sweep_in_two_processes_gives_the_same_runs():
    one_by_one = rl.sweep([1e-3, 1.0], seeds=(0, 1), **SHORT)
    forked = rl.sweep([1e-3, 1.0], seeds=(0, 1), workers=2, **SHORT)
    assert list(forked.histories) == list(one_by_one.histories)
    for key, a in one_by_one.histories.items():
        b = forked.histories[key]
        assert np.array_equal(a.loss, b.loss) and np.array_equal(a.metric, b.metric), key
        assert np.array_equal(a.logs["entropy"], b.logs["entropy"]) and a.config == b.config, key
    with pytest.raises(ValueError, match="Invalid workers value: 0"):
        rl.sweep([1e-3], workers=0, **SHORT)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_forked_runs_come_back_whole_without_holding_file_descriptors():
    """Histories from worker processes carry the trained model and optimizer as plain copies.
    (Sent through torch's shared-memory reductions they held a file descriptor per tensor,
    and a chapter's sweep hung its kernel.)"""
    before = len(os.listdir("/proc/self/fd"))
    forked = rl.sweep([1e-3, 3e-3], seeds=(0, 1), workers=2, **SHORT)
    assert len(os.listdir("/proc/self/fd")) - before < 8
    for h in forked:
        params = list(h.model.parameters())
        assert h.optimizer.param_groups[0]["params"][0] is params[0]
        assert set(h.optimizer.state) == set(params)
    alone = rl.train(3e-3, seed=1, **SHORT)
    for a, b in zip(alone.model.parameters(), forked[3e-3, 1].model.parameters()):
        assert torch.equal(a, b)


def test_minatar_breakout():
    h = rl.train(1e-2, seed=0, env=rl.MINATAR_BREAKOUT, steps=4, num_envs=4, eval_every=2, eval_episodes=2)
    again = rl.train(1e-2, seed=0, env=rl.MINATAR_BREAKOUT, steps=4, num_envs=4, eval_every=2, eval_episodes=2)
    assert h.config["network"] == "minatar" and h.config["num_actions"] == 3 and h.config["kind"] == "minatar"
    assert h.loss.shape == (4,) and np.all(np.isfinite(h.loss)) and len(h.metric) == 2
    assert np.array_equal(h.loss, again.loss) and h.final == again.final
    envs = rl.make_envs(rl.MINATAR_BREAKOUT, 3)
    obs, _ = envs.reset(seed=0)
    assert rl.observations("minatar")(obs).shape == (3, 4, 10, 10)


# --------------------------------------------------------------------------- Atari Breakout

ATARI = dict(env=rl.ALE_BREAKOUT, steps=6, num_envs=2, rollout_steps=5, eval_every=2, eval_episodes=4)


def test_atari_preset_is_a2c_as_published():
    """Mnih et al. 2016 / Baselines' a2c: 16 environments, 5-step returns (λ = 1), RMSprop
    (0.99, 1e-5), gradients clipped to 0.5, rewards clipped, life loss ends the return; 4 frames a step."""
    s = rl.config(rl.ALE_BREAKOUT)
    assert (s.num_envs, s.rollout_steps, s.gae_lambda, s.frame_skip) == (16, 5, 1.0, 4)
    assert s.clip_rewards and s.life_loss and not s.normalize_advantage and s.network == "nature"
    assert rl._learning_rule(s, None, "preset", {}) == ("rmsprop", 0.5, {"alpha": 0.99, "eps": 1e-5})
    assert rl._learning_rule(s, "adam", None, {"eps": 1e-8}) == ("adam", None, {"eps": 1e-8})
    assert rl.A2C_LR == 7e-4
    assert rl.config(rl.ALE_BREAKOUT, frames=1_000_000).steps == 3125          # 16 × 5 × 4 = 320 frames an update
    assert rl.config(rl.ALE_BREAKOUT, frames=1_000_001).frames == 1_000_320    # at least the frames asked for
    with pytest.raises(ValueError, match="Invalid frames value: 10 .give steps or frames, not both"):
        rl.config(rl.ALE_BREAKOUT, steps=3, frames=10)
    with pytest.raises(ValueError, match="Invalid frames value: 0"):
        rl.config(rl.ALE_BREAKOUT, frames=0)


def test_atari_frames_are_preprocessed_and_stacked():
    env = rl.atari_env(rl.ALE_BREAKOUT)
    obs, info = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8 and env.action_space.n == 4
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == 0.0
    after, *_ = env.step(1)                                  # FIRE: the oldest frame leaves the stack
    assert np.array_equal(after[:3], obs[1:])
    env.close()


def test_a_lost_life_ends_the_return_not_the_game():
    envs = rl.make_envs(rl.ALE_BREAKOUT, 2)
    player = rl.Player(envs, 0, rl.observations("ale"), clip_rewards=True, life_loss=True)

    def fire_then_stay(obs, value=False):      # serve the ball, then never move: lives are lost quickly
        return torch.tensor([[0.0, 50.0, 0.0, 0.0]]).expand(len(obs), 4), None

    with engine.repeatable(0):              # one torch thread, as in training
        rollouts = [player.play(fire_then_stay, 20) for _ in range(8)]
    terminated = np.concatenate([r.terminated for r in rollouts])
    ended = np.concatenate([r.ended for r in rollouts])
    assert np.array_equal(terminated, ended)
    # one return ends per life lost; a game (whose score counts) only after its 5 lives
    assert 0 < len(player.scores) < terminated.sum() == 5 * len(player.scores) + (5 - player.lives).sum()
    rewards = np.concatenate([r.rewards for r in rollouts])
    assert set(np.unique(rewards)) <= {0.0, 1.0}             # clipped to the sign


def test_atari_training_is_repeatable_and_scored_on_games():
    h = rl.train(7e-4, seed=0, **ATARI)
    again = rl.train(7e-4, seed=0, **ATARI)
    assert h.metric_name == "score" and h.config["frames"] == 6 * 2 * 5 * 4
    assert h.loss.shape == (6,) and np.all(np.isfinite(h.loss)) and len(h.metric) == 3
    assert np.array_equal(h.loss, again.loss)
    assert rl.recent_score([1.0, 2.0, 6.0], 2).item() == 4.0 and math.isnan(rl.recent_score([], 5).item())


def test_atari_resumes_exactly_from_a_checkpoint(tmp_path):
    """The checkpoint saves the emulators (with their random numbers), frame stacks and lives."""
    whole = rl.train(7e-4, seed=1, **ATARI)
    path = tmp_path / "breakout.pt"
    first = rl.train(7e-4, seed=1, checkpoint=path, checkpoint_every=2, until=4, **ATARI)
    assert first.steps == 4 and path.exists()
    resumed = rl.train(7e-4, seed=1, checkpoint=path, checkpoint_every=2, **ATARI)
    assert np.array_equal(resumed.loss, whole.loss)
    np.testing.assert_array_equal(resumed.metric, whole.metric)


def test_environment_state_of_another_size_is_refused():
    state = rl.environment_state(rl.make_envs(rl.ALE_BREAKOUT, 2))
    with pytest.raises(ValueError, match="Invalid state: 2 environments saved, 3 to restore"):
        rl.load_environment_state(rl.make_envs(rl.ALE_BREAKOUT, 3), state)


def test_ale_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ale_py", None)
    with pytest.raises(ValueError, match="pip install ale-py"):
        rl.train(1e-3, env=rl.ALE_BREAKOUT)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (dict(lr=0.0), "Invalid learning rate: 0.0"),
    (dict(lr=math.nan), "Invalid learning rate: nan"),
    (dict(), "Invalid learning rate: None"),
    (dict(lr=0.1, schedule=lambda k: 0.1), "Invalid learning rate: 0.1 together with a schedule"),
    (dict(lr=1e-3, env="NoSuchGame-v0"), "Invalid env: 'NoSuchGame-v0'"),
    (dict(lr=1e-3, env=3), "Invalid env: 3"),
    (dict(lr=1e-3, env="Pendulum-v1"), "needs discrete actions"),
    (dict(lr=1e-3, steps=0), "Invalid steps value: 0"),
    (dict(lr=1e-3, num_envs=1.5), "Invalid num_envs value: 1.5"),
    (dict(lr=1e-3, rollout_steps=-2), "Invalid rollout_steps value: -2"),
    (dict(lr=1e-3, gamma=1.5), "Invalid gamma value: 1.5"),
    (dict(lr=1e-3, gae_lambda=-0.1), "Invalid gae_lambda value: -0.1"),
    (dict(lr=1e-3, entropy_coef=-1), "Invalid entropy_coef value: -1"),
    (dict(lr=1e-3, optimizer="adamm"), "Invalid optimizer: 'adamm'"),
    (dict(lr=1e-3, betas=(0.9, 2.0)), "Invalid beta parameter at index 1: 2.0"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        rl.train(**kwargs)


def test_bad_sweep_input():
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        rl.sweep([1e-3, -1], **SHORT)
    with pytest.raises(ValueError, match="Invalid seeds"):
        rl.sweep([1e-3], seeds=(), **SHORT)


def test_command_line(capsys):
    assert rl.main(["--lrs", "1e-3,1", "--steps", "4", "--num-envs", "8", "--eval-every", "2",
                    "--eval-episodes", "4"]) == 0
    out = capsys.readouterr().out
    assert "CartPole-v1: 4 updates of 8 × 8 steps (256 environment steps), adam" in out
    assert "mean return" in out and "best α:" in out and "random play:" in out
    assert "α=1 seed 0: final" in out


def test_command_line_errors(capsys):
    assert rl.main(["--env", "NoSuchGame-v0", "--steps", "1"]) == 2
    assert "Invalid env: 'NoSuchGame-v0'" in capsys.readouterr().err
    assert rl.main(["--steps", "1", "--device", "tpu"]) == 2
    assert "Invalid device value: 'tpu'" in capsys.readouterr().err
    assert rl.main(["--lrs", "1e-3,-1", "--steps", "1"]) == 2
    assert "Invalid learning rate: -1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        rl.main(["--lrs", "fast"])


def test_the_nature_network_starts_as_a2c_does():
    """Orthogonal weights: gain √2 in the body, 0.01 on the actor (an almost uniform first policy), 1 on the critic."""
    model = rl.actor_critic("nature", (4, 84, 84), 4)
    actor, critic = model.actor.weight.detach(), model.critic.weight.detach()
    torch.testing.assert_close(actor @ actor.T, 1e-4 * torch.eye(4), atol=1e-9, rtol=1e-4)
    torch.testing.assert_close(critic @ critic.T, torch.ones(1, 1), atol=1e-6, rtol=1e-5)
    hidden = model.body[1].weight.detach()                      # 512 × 3136: orthogonal rows
    torch.testing.assert_close(hidden @ hidden.T, 2 * torch.eye(512), atol=1e-4, rtol=1e-4)
    assert all(float(p.detach().abs().sum()) == 0 for name, p in model.named_parameters() if name.endswith("bias"))
    logits, _ = model(torch.rand(8, 4, 84, 84), value=False)
    assert logits.softmax(-1).sub(0.25).abs().max() < 0.01
    minatar = rl.actor_critic("minatar", (4, 10, 10), 3)      # the MinAtar paper's network keeps torch's default
    assert float(minatar.actor.bias.abs().sum()) > 0
