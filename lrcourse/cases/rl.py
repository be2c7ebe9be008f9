"""Case study: an actor-critic agent learns to play; what does α do to it?

Environments are gymnasium ids; nothing is downloaded:

* ``"CartPole-v1"`` (the default): balance a pole on a cart, +1 per step, at most 500;
* ``"MinAtar/Breakout-v1"``: the 10×10 Breakout of MinAtar (``pip install minatar``),
  the small-scale stand-in for Atari that researchers use;
* ``"ALE/Breakout-v5"``: Atari Breakout in the Arcade Learning Environment (ale-py;
  its ROMs ship with it), for full-scale runs, with the standard preprocessing
  (gymnasium's ``AtariPreprocessing``: 84×84 grayscale, 4 frames skipped with the
  max of the last two, up to 30 no-op starts; 4 frames stacked) and A2C's published
  settings (Mnih et al. 2016): RMSprop, 16 environments, 5-step returns, rewards
  clipped to their sign, a lost life ends the return, gradients clipped to norm 0.5.

The agent is advantage actor-critic (A2C): an *actor* gives the policy π_θ(a|s)
(logits over the actions) and a *critic* estimates the value V(s), the expected
discounted return from s. Each optimizer step plays one rollout of T steps in N
environments at once with the current policy (actions sampled), then descends

    δ_t = r_t + γ V(s_{t+1}) (1 − terminal_t) − V(s_t)                 TD error
    A_t = δ_t + γ λ A_{t+1}   (A_{t+1} = 0 where the episode ended)     advantage, GAE(λ)
    R_t = A_t + V(s_t)                                                  value target
    loss = − mean_t log π_θ(a_t|s_t) Â_t                                policy gradient
           + c_V mean_t (V(s_t) − R_t)²                                 critic regression
           − β mean_t H(π_θ(·|s_t))                                     entropy bonus

where Â is A standardized over the rollout, and A and R are constants (no
gradient flows through them). The metric is the mean return of evaluation
episodes played with actions *sampled* from π_θ (the policy being trained, not
its greedy version), from the same start states for every run::

    h = rl.train(3e-3, seed=0)            # CartPole, Adam, 150 updates of 64 × 8 steps, about 1 s
    h.final, h.metric                     # mean return at the end, and after every 15 updates
    h.logs["entropy"]                     # the policy's entropy at every update
    h.config["collapsed_at"]              # None, or the update from which the policy stayed deterministic
    s = rl.sweep(np.logspace(-4, -1, 7), seeds=(0, 1, 2), workers=2)   # 21 runs, two at a time
    print(s.table())

Divergence is a loss or gradient that is not a finite number (the engine stops
the run and records where); *collapse*, a policy whose entropy has fallen to
almost 0 for good, is reported separately (:func:`collapsed_at`).

From a shell, for full-scale runs with a progress bar per run::

    python -m lrcourse.cases rl --env MinAtar/Breakout-v1 --lrs 1e-4,1e-3,1e-2 --steps 5000

On Atari the metric is the mean score of the last 100 games the agent played in
training (whole games of 5 lives, the game's own score), as published A2C curves
report it; one evaluation would cost as much as the training between two of them::

    h = rl.train(7e-4, seed=0, env="ALE/Breakout-v5", frames=1_000_000)   # about 7 min on one core
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import sys
from typing import Callable, NamedTuple

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from lrcourse import _checks, engine
from lrcourse.cases import _cli as cli

DEFAULT_ENV = "CartPole-v1"
MINATAR_BREAKOUT = "MinAtar/Breakout-v1"
ALE_BREAKOUT = "ALE/Breakout-v5"

PRESETS = {
    # Per kind of environment: N environments × rollouts of T steps per update, updates,
    # an evaluation every … updates on … episodes (each cut after eval_max_steps), the network;
    # then the learning rule: GAE's λ, advantages standardized or not, the optimizer and its
    # arguments, the gradient clipping; and the game: rewards clipped to their sign, a lost life
    # ending the return, emulator frames per agent step, the metric ("evaluation" episodes, or
    # the mean score of the last eval_episodes "training" games).
    "classic": dict(num_envs=64, rollout_steps=8, steps=150, eval_every=15, eval_episodes=16,
                    eval_max_steps=1000, network="mlp", gae_lambda=0.95, normalize_advantage=True,
                    optimizer="adam", optimizer_kwargs={}, clip_norm=None, clip_rewards=False,
                    life_loss=False, frame_skip=1, metric="evaluation"),
    "minatar": dict(num_envs=32, rollout_steps=8, steps=200, eval_every=40, eval_episodes=16,
                    eval_max_steps=1000, network="minatar", gae_lambda=0.95, normalize_advantage=True,
                    optimizer="adam", optimizer_kwargs={}, clip_norm=None, clip_rewards=False,
                    life_loss=False, frame_skip=1, metric="evaluation"),
    # A2C as published (Mnih et al. 2016; OpenAI Baselines' a2c): n-step returns (λ = 1), raw
    # advantages, RMSprop (smoothing 0.99, ε 1e-5), gradient norm clipped to 0.5.
    "ale": dict(num_envs=16, rollout_steps=5, steps=3_125, eval_every=100, eval_episodes=100,
                eval_max_steps=27_000, network="nature", gae_lambda=1.0, normalize_advantage=False,
                optimizer="rmsprop", optimizer_kwargs={"alpha": 0.99, "eps": 1e-5}, clip_norm=0.5,
                clip_rewards=True, life_loss=True, frame_skip=4, metric="training"),
}
A2C_LR = 7e-4
"""A2C's published learning rate on Atari (Mnih et al. 2016; the OpenAI Baselines default)."""
EVAL_SEED = 2024
"""Every run is evaluated on the same episodes: environments reset and actions sampled from this seed."""
COLLAPSE_ENTROPY = 0.01
"""A policy has collapsed when its entropy stays below this fraction of the largest, log(number of actions)."""


# --------------------------------------------------------------------------- environments

def env_kind(env) -> str:
    """``"minatar"``, ``"ale"`` or ``"classic"`` (any other gymnasium id with a vector observation)."""
    if not isinstance(env, str):
        raise ValueError(f"Invalid env: {env!r} (expected a gymnasium id such as {DEFAULT_ENV!r})")
    if env.startswith("MinAtar/"):
        return "minatar"
    if env.startswith("ALE/"):
        return "ale"
    return "classic"


def check_env(env) -> str:
    """``env`` if gymnasium knows it (after registering MinAtar's or the ALE's ids), else a ValueError."""
    kind = env_kind(env)
    if kind == "minatar":
        try:
            from minatar.gym import register_envs
        except ImportError:
            raise ValueError(f"Invalid env: {env!r} (MinAtar is not installed: pip install minatar)") from None
        if MINATAR_BREAKOUT not in gym.registry:      # gymnasium 1.x no longer loads plugins by itself
            register_envs()
    elif kind == "ale":
        try:
            import ale_py
        except ImportError:
            raise ValueError(f"Invalid env: {env!r} (the Arcade Learning Environment is not installed: "
                             "pip install ale-py; its ROMs ship with it)") from None
        ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)    # no banner on every emulator
        gym.register_envs(ale_py)
    try:
        gym.spec(env)
    except gym.error.Error as err:
        raise ValueError(f"Invalid env: {env!r} ({err})") from None
    return env


def make_envs(env: str, num_envs: int, **kwargs) -> gym.vector.VectorEnv:
    """``num_envs`` copies of ``env`` stepped together as one gymnasium vector environment.

    CartPole has a truly vectorized implementation (numpy); other environments,
    Atari games among them (each wrapped by :func:`atari_env`), are stepped one
    after the other by gymnasium's ``SyncVectorEnv``, in one thread. Episodes
    restart by themselves: the step after an episode ends is a reset step whose
    action is ignored (gymnasium's ``NEXT_STEP`` autoreset). ``kwargs`` go to
    the environment.
    """
    if env_kind(check_env(env)) == "ale":
        envs = gym.vector.SyncVectorEnv([lambda: atari_env(env, **kwargs)] * num_envs)
    else:
        envs = gym.make_vec(env, num_envs=num_envs, **kwargs)
    if not isinstance(envs.single_action_space, gym.spaces.Discrete):
        envs.close()
        raise ValueError(f"Invalid env: {env!r} (this agent needs discrete actions, "
                         f"not {envs.single_action_space})")
    if envs.metadata.get("autoreset_mode") not in (None, gym.vector.AutoresetMode.NEXT_STEP):
        envs.close()
        raise ValueError(f"Invalid env: {env!r} (expected gymnasium's NEXT_STEP autoreset)")
    return envs


def atari_env(env: str, noop_max: int = 30, frame_skip: int = 4, screen_size: int = 84,
              stack: int = 4) -> gym.Env:
    """An Atari game as DQN and A2C saw it: the emulator at every frame, no sticky actions
    (``repeat_action_probability=0``, as in Mnih et al. 2015 and 2016), the minimal action set;
    then gymnasium's ``AtariPreprocessing`` (up to ``noop_max`` no-ops at the start, one agent
    step per ``frame_skip`` frames, observed as the max of the last two, grayscale,
    ``screen_size``²) and the last ``stack`` observations stacked: (4, 84, 84) uint8."""
    from gymnasium.wrappers import AtariPreprocessing, FrameStackObservation

    game = gym.make(env, frameskip=1, repeat_action_probability=0.0, full_action_space=False)
    game = AtariPreprocessing(game, noop_max=noop_max, frame_skip=frame_skip, screen_size=screen_size)
    return FrameStackObservation(game, stack)


def observations(kind: str) -> Callable[[np.ndarray], torch.Tensor]:
    """How a batch of observations becomes the networks' float input."""
    if kind == "minatar":                                 # (N, 10, 10, C) bool -> (N, C, 10, 10)
        return lambda obs: torch.from_numpy(obs).permute(0, 3, 1, 2).float()
    if kind == "ale":                                     # (N, 4, 84, 84) uint8 frames -> [0, 1]
        return lambda obs: torch.from_numpy(obs).float() / 255
    return lambda obs: torch.from_numpy(np.asarray(obs, dtype=np.float32))


# --------------------------------------------------------------------------- the networks

class ActorCritic(nn.Module):
    """The actor's logits of π_θ(·|s) and the critic's value V(s), both computed from ``body(s)``.

    For vector observations the body is the identity and actor and critic are
    two separate networks; for images the body is a convolutional network that
    both share, with one linear layer each on top (Stable-Baselines3's choices too).
    """

    def __init__(self, actor: nn.Module, critic: nn.Module, body: nn.Module | None = None):
        super().__init__()
        self.body = nn.Identity() if body is None else body
        self.actor, self.critic = actor, critic

    def forward(self, obs: torch.Tensor, value: bool = True):
        """(logits, V(s)); (logits, None) when ``value`` is False (acting needs only the actor)."""
        features = self.body(obs)
        return self.actor(features), self.critic(features).squeeze(-1) if value else None


def mlp(inputs: int, outputs: int, hidden: int = 64) -> nn.Module:
    """Two hidden layers of ``hidden`` tanh units (the usual choice for classic control)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                         nn.Linear(hidden, outputs))


def conv_body(kind: str, obs_shape: tuple) -> tuple[nn.Module, int]:
    """``"minatar"``: one 3×3 convolution of 16 channels, then 128 ReLU units (MinAtar's paper);
    ``"nature"``: the three convolutions and 512 units of DQN's Nature paper, for 84×84 frames.
    Returns the body and the size of its output."""
    channels, height, width = obs_shape
    if kind == "minatar":
        convs = nn.Sequential(nn.Conv2d(channels, 16, 3), nn.ReLU(), nn.Flatten())
        hidden = 128
    elif kind == "nature":
        convs = nn.Sequential(nn.Conv2d(channels, 32, 8, stride=4), nn.ReLU(), nn.Conv2d(32, 64, 4, stride=2),
                              nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten())
        hidden = 512
    else:
        raise ValueError(f"Invalid network: {kind!r} (expected 'mlp', 'minatar' or 'nature')")
    size = convs(torch.zeros(1, channels, height, width)).shape[1]
    return nn.Sequential(convs, nn.Linear(size, hidden), nn.ReLU()), hidden


def actor_critic(kind: str, obs_shape: tuple, num_actions: int) -> ActorCritic:
    """The actor-critic for observations of ``obs_shape`` (as :func:`observations` makes them)."""
    if kind == "mlp":
        size = math.prod(obs_shape)
        return ActorCritic(mlp(size, num_actions), mlp(size, 1))
    body, hidden = conv_body(kind, obs_shape)
    model = ActorCritic(nn.Linear(hidden, num_actions), nn.Linear(hidden, 1), body)
    if kind == "nature":
        orthogonal_init(model)
    return model


def orthogonal_init(model: ActorCritic) -> ActorCritic:
    """A2C's initialisation (OpenAI Baselines): orthogonal weights with gain √2 in the body (keeps
    the scale of ReLU activations from layer to layer), 0.01 for the actor (the first policy is
    almost uniform) and 1 for the critic; biases 0."""
    gains = [(model.body, math.sqrt(2)), (model.actor, 0.01), (model.critic, 1.0)]
    for part, gain in gains:
        for layer in part.modules():
            if isinstance(layer, (nn.Conv2d, nn.Linear)):
                nn.init.orthogonal_(layer.weight, gain)
                nn.init.zeros_(layer.bias)
    return model


# --------------------------------------------------------------------------- playing

def sample(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One action per row, drawn from softmax(logits) with ``generator``: the first
    action whose cumulative probability exceeds a uniform number u."""
    u = torch.rand(logits.shape[0], 1, generator=generator)
    below = (logits.softmax(-1).cumsum(-1) < u).sum(-1)
    return below.clamp(max=logits.shape[-1] - 1)           # the cumsum may end a hair below 1


class Rollout(NamedTuple):
    """T steps of N environments; the first index is the step t, the second the environment.

    ``obs[t]`` is the input s_t (``obs[T]`` only serves to bootstrap); ``valid[t]``
    is False on the vector environment's reset steps, which are not transitions.
    """

    obs: torch.Tensor           # (T + 1, N, …) float
    actions: torch.Tensor       # (T, N) int
    rewards: np.ndarray         # (T, N)
    terminated: np.ndarray      # (T, N) bool: s_{t+1} is terminal, worth 0
    ended: np.ndarray           # (T, N) bool: the episode ended at t (terminated, or truncated by a time limit)
    valid: torch.Tensor         # (T, N) bool


class Player:
    """Plays a vector environment with a policy; the games go on from one rollout to the next.

    The environments are reset once, with a seed drawn from ``seed``; actions are
    sampled with a torch generator seeded with ``seed``. ``clip_rewards`` gives the
    learner each reward's sign only (Atari's scores differ by orders of magnitude
    between games); ``life_loss`` ends the return at a lost life (the value of the
    next state is not bootstrapped) while the game goes on (Baselines' ``EpisodicLifeEnv``).
    ``scores`` keeps the game's own return of every episode that ended, in order.
    """

    def __init__(self, envs: gym.vector.VectorEnv, seed: int, to_tensor: Callable, *,
                 clip_rewards: bool = False, life_loss: bool = False):
        self.envs, self.to_tensor = envs, to_tensor
        self.clip_rewards, self.life_loss = clip_rewards, life_loss
        self.generator = torch.Generator().manual_seed(seed)
        env_seed = int(np.random.SeedSequence(seed).generate_state(1)[0]) % 2**31    # the ALE takes C ints
        self.obs, info = envs.reset(seed=env_seed)
        self.lives = np.asarray(info.get("lives", np.zeros(envs.num_envs)))
        self.reset_next = np.zeros(envs.num_envs, dtype=bool)      # the next step only restarts the episode
        self.running_return = np.zeros(envs.num_envs)
        self.finished: list = []                                   # returns of the episodes that just ended
        self.scores: list = []                                     # returns of every episode that ended

    def play(self, forward, steps: int, device: torch.device | str = "cpu") -> Rollout:
        """A rollout of ``steps`` steps with the policy of ``forward``, actions sampled;
        the observations go to ``device`` (the model's)."""
        n = self.envs.num_envs
        obs = np.empty((steps + 1, *self.obs.shape), dtype=self.obs.dtype)
        actions = np.empty((steps, n), dtype=np.int64)
        rewards = np.empty((steps, n))
        terminated, ended, valid = (np.empty((steps, n), dtype=bool) for _ in range(3))
        self.finished = []
        for t in range(steps):
            obs[t] = self.obs
            with torch.no_grad():
                logits, _ = forward(self.to_tensor(self.obs).to(device), value=False)
            actions[t] = sample(logits.cpu(), self.generator)   # weights that are not numbers give action 0: the loss reports them
            self.obs, reward, term, trunc, info = self.envs.step(actions[t])
            valid[t] = real = ~self.reset_next
            done = (term | trunc) & real
            lost = np.zeros(n, dtype=bool)
            if self.life_loss:
                lives = np.asarray(info["lives"])
                lost = real & (lives < self.lives)
                self.lives = lives
            rewards[t] = np.sign(reward) if self.clip_rewards else reward
            terminated[t] = (term | lost) & real
            ended[t] = done | lost
            self.running_return += reward * real
            self.finished += self.running_return[done].tolist()
            self.running_return[done] = 0.0
            self.reset_next = done
        self.scores += self.finished
        obs[steps] = self.obs
        x = self.to_tensor(obs.reshape(-1, *obs.shape[2:])).to(device)
        return Rollout(x.view(steps + 1, n, *x.shape[1:]), torch.from_numpy(actions).to(device), rewards,
                       terminated, ended, torch.from_numpy(valid).to(device))

    def state(self) -> dict:
        """Everything needed to go on playing exactly where the games are (a checkpoint)."""
        return {"obs": self.obs, "lives": self.lives, "reset_next": self.reset_next,
                "running_return": self.running_return, "scores": list(self.scores),
                "generator": self.generator.get_state(), "envs": environment_state(self.envs)}

    def load_state(self, state: dict) -> None:
        """Go on from :meth:`state`: the same games, frames and random numbers."""
        self.obs, self.lives, self.reset_next = state["obs"], state["lives"], state["reset_next"]
        self.running_return, self.scores = state["running_return"], list(state["scores"])
        self.generator.set_state(state["generator"])
        load_environment_state(self.envs, state["envs"])


_NOT_STATE = {"env", "envs", "env_fns", "ale"}   # references to the environments, their makers, the emulator


def _wrappers(env: gym.Env) -> list:
    chain = [env]
    while hasattr(chain[-1], "env"):
        chain.append(chain[-1].env)
    return chain


def environment_state(envs: gym.vector.VectorEnv) -> dict:
    """The state of a vector environment: the attributes of it and of each wrapper of each
    environment (frame stacks, lives, positions, random generators) and, for Atari games, each
    emulator's state with its random numbers."""
    attributes = lambda obj: copy.deepcopy({k: v for k, v in vars(obj).items() if k not in _NOT_STATE})
    emulator = lambda env: env.unwrapped.ale.cloneState(include_rng=True) if hasattr(env.unwrapped, "ale") else None
    return {"vector": attributes(envs),
            "envs": [([attributes(w) for w in _wrappers(e)], emulator(e)) for e in getattr(envs, "envs", ())]}


def load_environment_state(envs: gym.vector.VectorEnv, state: dict) -> None:
    """Put ``envs`` back where :func:`environment_state` saw them."""
    if len(state["envs"]) != len(getattr(envs, "envs", ())):
        raise ValueError(f"Invalid state: {len(state['envs'])} environments saved, "
                         f"{len(getattr(envs, 'envs', ()))} to restore")
    vars(envs).update(copy.deepcopy(state["vector"]))
    for env, (layers, emulator) in zip(envs.envs if state["envs"] else (), state["envs"]):
        for wrapper, attributes in zip(_wrappers(env), layers):
            vars(wrapper).update(copy.deepcopy(attributes))
        if emulator is not None:
            env.unwrapped.ale.restoreState(emulator)


def evaluate(forward, envs: gym.vector.VectorEnv, to_tensor: Callable, max_steps: int,
             seed: int = EVAL_SEED) -> torch.Tensor:
    """Mean return of one episode in each of the ``envs``, actions sampled from the policy.

    Start states and sampling come from ``seed``, so the result is a function of
    the policy alone. An episode still going after ``max_steps`` counts with the
    return it has. ``nan`` when the policy's logits are not finite.
    """
    generator = torch.Generator().manual_seed(seed)
    obs, _ = envs.reset(seed=seed)
    returns = np.zeros(envs.num_envs)
    playing = np.ones(envs.num_envs, dtype=bool)
    for step in range(max_steps):
        logits, _ = forward(to_tensor(obs), value=False)
        if step == 0 and not torch.isfinite(logits).all():
            return torch.tensor(math.nan)
        obs, reward, term, trunc, _ = envs.step(sample(logits, generator).numpy())
        returns += reward * playing
        playing &= ~(term | trunc)
        if not playing.any():
            break
    return torch.tensor(returns.mean())


# --------------------------------------------------------------------------- learning

def advantages(rewards, values, terminated, ended, gamma, gae_lambda):
    """Generalized advantage estimates, from the last step back:

        δ_t = r_t + γ V(s_{t+1}) (1 − terminated_t) − V(s_t)
        A_t = δ_t + γ λ (1 − ended_t) A_{t+1},   A_T = 0

    Arrays of shape (T, N), except ``values`` with T + 1 rows (the last
    one bootstraps). λ = 1 gives the n-step return minus V(s_t), λ = 0
    the one-step TD error.
    """
    out = np.zeros(np.shape(rewards))
    next_advantage = 0.0
    for t in reversed(range(len(rewards))):
        delta = (rewards[t] + gamma * values[t + 1] * ~terminated[t]
                 - values[t])
        next_advantage = (delta
                          + gamma * gae_lambda * ~ended[t] * next_advantage)
        out[t] = next_advantage
    return out


def a2c_loss(forward, rollout: Rollout, gamma, gae_lambda, value_coef,
             entropy_coef, normalize_advantage=True):
    """The actor-critic loss of one rollout, and the policy's mean entropy:

        − mean log π(a_t|s_t) Â_t + c_V mean (V(s_t) − R_t)² − β mean H(π)

    Â is A standardized over the rollout when ``normalize_advantage``, else A.
    """
    steps, num_envs = rollout.actions.shape
    logits, values = forward(rollout.obs.flatten(0, 1))   # all T + 1 steps
    log_pi = logits.view(steps + 1, num_envs, -1)[:-1].log_softmax(-1)
    values = values.view(steps + 1, num_envs)
    v = values.detach().cpu().double().numpy()    # A and R are constants
    advantage = advantages(rollout.rewards, v, rollout.terminated,
                           rollout.ended, gamma, gae_lambda)
    valid = rollout.valid                         # not the reset steps
    device = values.device
    target = torch.from_numpy(advantage + v[:-1]).float().to(device)[valid]   # R_t
    advantage = torch.from_numpy(advantage).float().to(device)[valid]
    if normalize_advantage:
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    taken = rollout.actions.unsqueeze(-1)
    log_prob = log_pi.gather(-1, taken).squeeze(-1)[valid]
    entropy = -(log_pi.exp() * log_pi).sum(-1)[valid].mean()
    policy_loss = -(log_prob * advantage).mean()
    value_loss = (values[:-1][valid] - target).square().mean()
    loss = policy_loss + value_coef * value_loss - entropy_coef * entropy
    return loss, entropy.detach()


# --------------------------------------------------------------------------- the case for the engine

class Config(NamedTuple):
    """Everything about a run except α and the seed: the environment, the agent, how it learns."""

    env: str
    kind: str
    num_envs: int
    rollout_steps: int
    steps: int
    eval_every: int
    eval_episodes: int
    eval_max_steps: int
    network: str
    gamma: float
    gae_lambda: float
    value_coef: float
    entropy_coef: float
    normalize_advantage: bool = True
    clip_rewards: bool = False
    life_loss: bool = False
    frame_skip: int = 1
    metric: str = "evaluation"

    @property
    def env_steps(self) -> int:
        """Environment steps of training: updates × N × T (reset steps included)."""
        return self.steps * self.num_envs * self.rollout_steps

    @property
    def frames(self) -> int:
        """Frames of the game played in training: environment steps × frames per step."""
        return self.env_steps * self.frame_skip


def config(env=DEFAULT_ENV, steps=None, num_envs=None, rollout_steps=None, eval_every=None,
           eval_episodes=None, gamma=0.99, gae_lambda=None, value_coef=0.5, entropy_coef=0.01, *,
           frames=None) -> Config:
    """The settings of a run on ``env``: its kind's preset (:data:`PRESETS`), overridden by the
    arguments that are not None. ``frames`` sets ``steps`` to the updates that play at least that
    many frames of the game (``steps`` and ``frames`` cannot both be given)."""
    env = check_env(env)
    kind = env_kind(env)
    preset = PRESETS[kind]

    def pick(value, name):
        return _checks.positive_int(preset[name] if value is None else value, name)

    num_envs, rollout_steps = pick(num_envs, "num_envs"), pick(rollout_steps, "rollout_steps")
    if frames is not None:
        if steps is not None:
            raise ValueError(f"Invalid frames value: {frames!r} (give steps or frames, not both; steps={steps!r})")
        frames_per_update = num_envs * rollout_steps * preset["frame_skip"]
        steps = -(-_checks.positive_int(frames, "frames") // frames_per_update)
    return Config(
        env=env, kind=kind, num_envs=num_envs, rollout_steps=rollout_steps,
        steps=pick(steps, "steps"), eval_every=pick(eval_every, "eval_every"),
        eval_episodes=pick(eval_episodes, "eval_episodes"), eval_max_steps=preset["eval_max_steps"],
        network=preset["network"], gamma=_checks.in_range(gamma, "gamma", 0.0, 1.0),
        gae_lambda=_checks.in_range(preset["gae_lambda"] if gae_lambda is None else gae_lambda,
                                    "gae_lambda", 0.0, 1.0),
        value_coef=_checks.nonnegative(value_coef, "value_coef value"),
        entropy_coef=_checks.nonnegative(entropy_coef, "entropy_coef value"),
        normalize_advantage=preset["normalize_advantage"], clip_rewards=preset["clip_rewards"],
        life_loss=preset["life_loss"], frame_skip=preset["frame_skip"], metric=preset["metric"])


def recent_score(scores: list, window: int) -> torch.Tensor:
    """The mean of the last ``window`` scores (fewer at the start; nan before the first)."""
    return torch.tensor(float(np.mean(scores[-window:])) if scores else math.nan)


def problem(seed: int, config: Config) -> engine.Problem:
    """The engine's description of one run: the actor-critic, its rollouts and loss, the evaluation.

    Called inside :func:`lrcourse.engine.repeatable`, so the networks' initial
    weights come from the seeded global generator; the environments and the
    action sampling have their own generators, seeded from ``seed``.
    """
    envs = make_envs(config.env, config.num_envs)
    to_tensor = observations(config.kind)
    space = envs.single_observation_space
    obs_shape = tuple(to_tensor(np.zeros((1, *space.shape), dtype=space.dtype)).shape[1:])
    num_actions = int(envs.single_action_space.n)
    model = actor_critic(config.network, obs_shape, num_actions)
    player = Player(envs, seed, to_tensor, clip_rewards=config.clip_rewards, life_loss=config.life_loss)
    logs = {"entropy": [], "episode_return": []}

    def loss(forward, _step):
        device = next(model.parameters()).device
        rollout = player.play(forward, config.rollout_steps, device)
        total, entropy = a2c_loss(forward, rollout, config.gamma, config.gae_lambda, config.value_coef,
                                  config.entropy_coef, config.normalize_advantage)
        logs["entropy"].append(entropy.item())
        logs["episode_return"].append(float(np.mean(player.finished)) if player.finished else math.nan)
        return total

    def state():
        return {"player": player.state(), "logs": copy.deepcopy(logs)}

    def load_state(saved):
        player.load_state(saved["player"])
        for name, values in saved["logs"].items():
            logs[name][:] = values

    if config.metric == "training":
        def evaluation(_forward):
            return recent_score(player.scores, config.eval_episodes)
        metric_name = "score"
    else:
        eval_envs = make_envs(config.env, config.eval_episodes)

        def evaluation(forward):
            device = next(model.parameters()).device
            return evaluate(forward, eval_envs, lambda obs: to_tensor(obs).to(device), config.eval_max_steps)
        metric_name = "mean return"

    return engine.Problem(
        model=model, loss=loss, batches=itertools.count(), steps=config.steps,
        evaluate=evaluation, eval_every=config.eval_every,
        # The policy-gradient loss measures no progress, and its critic part grows with the returns
        # as the agent improves: only a loss or a gradient that is not finite counts as divergence.
        loss_floor=math.inf,
        metric_name=metric_name, maximize=True, batchable=False, logs=logs, state=state, load_state=load_state,
        config={"case": "rl", **config._asdict(), "env_steps": config.env_steps, "frames": config.frames,
                "num_actions": num_actions},
    )


def collapsed_at(h: engine.History, fraction: float = COLLAPSE_ENTROPY) -> int | None:
    """The update from which the policy's entropy stayed below ``fraction × log(number of actions)``
    to the end of the run, or None if it did not end there.

    Such a policy plays (almost) always the same action in every state, and it
    cannot learn its way back: the gradient of a softmax vanishes at its corners.
    """
    entropy = np.asarray(h.logs.get("entropy", ()), dtype=float)
    if entropy.size == 0 or not entropy[-1] < fraction * math.log(h.config["num_actions"]):
        return None
    above = np.flatnonzero(~(entropy < fraction * math.log(h.config["num_actions"])))
    return int(above[-1] + 1) if above.size else 0


def _with_collapse(h: engine.History) -> engine.History:
    return dataclasses.replace(h, config={**h.config, "collapsed_at": collapsed_at(h)})


def random_return(env: str = DEFAULT_ENV, eval_episodes: int | None = None) -> float:
    """The mean return of uniformly random actions over ``eval_episodes`` episodes: on the
    evaluation episodes every run is measured on, or on Atari over as many whole games as the
    score averages (the preset's 100)."""
    s = config(env, eval_episodes=eval_episodes)
    envs = make_envs(s.env, s.eval_episodes)
    num_actions = int(envs.single_action_space.n)

    def uniform(obs, value=False):
        return torch.zeros(len(obs), num_actions), None

    return float(evaluate(uniform, envs, observations(s.kind), s.eval_max_steps))


def _learning_rule(s: Config, optimizer, clip_norm, optimizer_kwargs) -> tuple[str, object, dict]:
    """The optimizer, its arguments and the clipping: the preset's where not given."""
    preset = PRESETS[s.kind]
    if optimizer is None:
        optimizer, optimizer_kwargs = preset["optimizer"], {**preset["optimizer_kwargs"], **optimizer_kwargs}
    return optimizer, preset["clip_norm"] if clip_norm == "preset" else clip_norm, optimizer_kwargs


def train(lr=None, seed: int = 0, *, env: str = DEFAULT_ENV, steps: int | None = None, frames: int | None = None,
          optimizer: str | None = None, schedule=None, num_envs: int | None = None,
          rollout_steps: int | None = None, gamma: float = 0.99, gae_lambda: float | None = None,
          value_coef: float = 0.5, entropy_coef: float = 0.01, eval_every: int | None = None,
          eval_episodes: int | None = None, clip_norm="preset", progress: bool = False,
          threads: int | None = 1, device="cpu", on_eval=None, checkpoint=None, checkpoint_every=None,
          until=None, **optimizer_kwargs) -> engine.History:
    """Train the actor-critic on ``env`` with learning rate ``lr``; return its :class:`~lrcourse.engine.History`.

    ``h.metric`` is the mean evaluation return after every ``eval_every``
    updates (on Atari: the mean score of the last ``eval_episodes`` games played
    in training) and ``h.final`` the last one; ``h.logs["entropy"]`` is the
    policy's mean entropy in each rollout, ``h.logs["episode_return"]`` the mean
    return of the training episodes that ended in it (nan if none did), and
    ``h.config["collapsed_at"]`` what :func:`collapsed_at` says. A loss or
    gradient that is not finite stops the run (``h.diverged``).

    ``steps`` counts updates, each after a rollout of ``rollout_steps`` steps in
    ``num_envs`` environments; ``frames`` asks for a number of game frames
    instead. Defaults for CartPole: 150 updates of 64 × 8 steps (76,800
    environment steps), evaluated every 15 on 16 episodes, Adam; MinAtar: 200
    updates of 32 × 8, evaluated every 40, Adam; Atari: A2C's published settings
    (:data:`PRESETS`), 3,125 updates of 16 × 5 steps of 4 frames (1 M frames),
    RMSprop. ``optimizer`` is a torch.optim name (None: the preset's) and
    ``optimizer_kwargs`` its arguments; ``clip_norm`` the gradient norm's
    limit (None: no clipping; by default the preset's, 0.5 on Atari);
    ``schedule(k)`` replaces ``lr`` at update k. ``device``, ``on_eval``,
    ``checkpoint``, ``checkpoint_every`` and ``until`` go to
    :func:`lrcourse.engine.train` (a checkpoint saves the games too: a run
    resumed from it plays the same frames).
    """
    _checks.lr_or_schedule(lr, schedule)
    s = config(env, steps, num_envs, rollout_steps, eval_every, eval_episodes, gamma, gae_lambda,
               value_coef, entropy_coef, frames=frames)
    optimizer, clip_norm, optimizer_kwargs = _learning_rule(s, optimizer, clip_norm, optimizer_kwargs)
    h = engine.train(lambda seed: problem(seed, s), lr, seed=seed, optimizer=optimizer, schedule=schedule,
                     clip_norm=clip_norm, progress=progress,
                     desc=s.env if lr is None else f"{s.env} α={lr:g}", threads=threads, device=device,
                     on_eval=on_eval, checkpoint=checkpoint, checkpoint_every=checkpoint_every, until=until,
                     **optimizer_kwargs)
    return _with_collapse(h)


def sweep(lrs, seeds=(0, 1, 2), *, env: str = DEFAULT_ENV, steps: int | None = None, frames: int | None = None,
          optimizer: str | None = None, schedule=None, num_envs: int | None = None,
          rollout_steps: int | None = None, gamma: float = 0.99, gae_lambda: float | None = None,
          value_coef: float = 0.5, entropy_coef: float = 0.01, eval_every: int | None = None,
          eval_episodes: int | None = None, clip_norm="preset", progress: bool = False,
          threads: int | None = 1, workers: int = 1, device="cpu", **optimizer_kwargs) -> engine.Sweep:
    """:func:`train` for every α in ``lrs`` and every seed in ``seeds``.

    An agent acts in its environments between updates, so its runs cannot be
    batched across α as the CNN's are; they go one by one, ``workers`` at a
    time in separate processes (``workers=2`` on two cores: half the time, the
    same results). ``schedule`` is here a function ``lr -> schedule``. Returns
    a :class:`~lrcourse.engine.Sweep`.
    """
    _checks.learning_rates(lrs)
    s = config(env, steps, num_envs, rollout_steps, eval_every, eval_episodes, gamma, gae_lambda,
               value_coef, entropy_coef, frames=frames)
    optimizer, clip_norm, optimizer_kwargs = _learning_rule(s, optimizer, clip_norm, optimizer_kwargs)
    result = engine.sweep(lambda seed: problem(seed, s), lrs, seeds, optimizer=optimizer, schedule=schedule,
                          clip_norm=clip_norm, progress=progress, desc=f"{s.env} sweep", threads=threads,
                          batched=False, workers=workers, device=device, **optimizer_kwargs)
    return dataclasses.replace(result, histories={k: _with_collapse(h) for k, h in result.histories.items()})


def lr_range_test(seed: int = 0, *, env: str = DEFAULT_ENV, start_lr: float = 1e-7, end_lr: float = 10.0,
                  steps: int = 100, rule: str = "valley", optimizer: str | None = None,
                  num_envs: int | None = None, rollout_steps: int | None = None, gamma: float = 0.99,
                  gae_lambda: float | None = None, value_coef: float = 0.5, entropy_coef: float = 0.01,
                  clip_norm="preset", progress: bool = False, threads: int | None = 1,
                  **optimizer_kwargs) -> engine.RangeTest:
    """The LR range test (:mod:`lrcourse.engine.lr_range`) on a fresh actor-critic:
    ``steps`` updates, each on a new rollout, while α grows from ``start_lr`` to ``end_lr``.

    The curve is the smoothed A2C loss, which is not a measure of progress (its
    critic part grows as the returns grow): read its suggestion with care. The default
    range is fastai's, 1e-7 to 10: with Adam it covers this agent's usable α (the range-test chapter's
    grid: best at 0.00316) and the test stops at the blow-up, a few decades below 10.
    """
    s = config(env, 1, num_envs, rollout_steps, None, None, gamma, gae_lambda, value_coef, entropy_coef)
    optimizer, clip_norm, optimizer_kwargs = _learning_rule(s, optimizer, clip_norm, optimizer_kwargs)
    return engine.lr_range_test(lambda seed: problem(seed, s), seed=seed, threads=threads, start_lr=start_lr,
                                end_lr=end_lr, steps=steps, rule=rule, optimizer=optimizer, clip_norm=clip_norm,
                                progress=progress, desc=f"{s.env} range test", **optimizer_kwargs)


# --------------------------------------------------------------------------- command line

def main(argv=None, prog: str = "python -m lrcourse.cases rl") -> int:
    parser = cli.parser(prog, "Train the actor-critic agent of the course at several learning rates and print "
                        "the returns.", [1e-4, 1e-3, 1e-2, 1e-1], optimizer="preset")
    parser.add_argument("--env", default=DEFAULT_ENV,
                        help=f"a gymnasium id: {DEFAULT_ENV} (default), {MINATAR_BREAKOUT}, {ALE_BREAKOUT}")
    parser.add_argument("--steps", type=int, default=None,
                        help="updates per run (default: 150 classic, 200 MinAtar, 3125 ALE)")
    parser.add_argument("--frames", type=int, default=None, help="game frames per run, instead of --steps")
    parser.add_argument("--num-envs", type=int, default=None, help="environments played at once")
    parser.add_argument("--rollout-steps", type=int, default=None, help="steps per environment between updates")
    parser.add_argument("--eval-every", type=int, default=None, help="updates between evaluations")
    parser.add_argument("--eval-episodes", type=int, default=None,
                        help="episodes per evaluation (ALE: games the score averages)")
    args = parser.parse_args(argv)
    optimizer = None if args.optimizer == "preset" else args.optimizer

    def report(h):
        state = "diverged" if h.diverged else "collapsed" if h.config["collapsed_at"] is not None else ""
        print(f"α={h.config['lr']:g} seed {h.config['seed']}: final {h.final:.4g}, "
              f"best {np.nanmax(h.metric):.4g} {state}".rstrip(), flush=True)

    try:
        s = config(args.env, args.steps, args.num_envs, args.rollout_steps, args.eval_every, args.eval_episodes,
                   frames=args.frames)
        result = cli.one_by_one(train, args.lrs, args.seeds, metric_name="mean return", maximize=True, each=report,
                                env=args.env, steps=s.steps, num_envs=args.num_envs,
                                rollout_steps=args.rollout_steps, eval_every=args.eval_every,
                                eval_episodes=args.eval_episodes, optimizer=optimizer, threads=args.threads,
                                device=args.device, **cli.optimizer_kwargs(args))
        baseline = random_return(args.env, args.eval_episodes)
    except cli.ERRORS as err:
        return cli.fail(err)
    rule = _learning_rule(s, optimizer, "preset", cli.optimizer_kwargs(args))
    print(f"\n{s.env}: {s.steps} updates of {s.num_envs} × {s.rollout_steps} steps "
          f"({s.env_steps:,} environment steps{f', {s.frames:,} frames' if s.frame_skip > 1 else ''}), "
          f"{rule[0]} {rule[2] or ''}".rstrip())
    print(result.table())
    print(f"best α: {result.best():g}    random play: {baseline:.4g}    ({result.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m lrcourse.cases.rl"))
