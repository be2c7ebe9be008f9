"""Case study: an LSTM language model; what does α do to it?

The default text is Python's reference documentation, read character by
character (:func:`lrcourse.data.text.stdlib`, always there, no download);
``data="ptb"`` uses the Penn Treebank, word by word, from ``$LRCOURSE_DATA/ptb``
(:func:`lrcourse.data.text.ptb`). The model, :class:`LanguageModel`, predicts the
next token from the ones before it::

    token → embedding → LSTM (num_layers) → linear → logits over the vocabulary

It is trained with cross-entropy and **truncated back-propagation through
time** (TBPTT): the training text is cut into ``batch_size`` parallel streams,
read ``bptt`` tokens at a time; the LSTM state is carried from one window to
the next but detached, so the gradient of a step reaches back at most ``bptt``
tokens. The metric is the **validation perplexity**, exp(mean cross-entropy
per token) on the validation text read from start to end::

    h = lstm.train(10.0, seed=0)       # plain SGD, 200 steps of 16 streams × 32 characters, ~1 s
    h.final, h.diverged                # validation perplexity, whether the loss exploded
    h.model                            # the trained LanguageModel
    s = lstm.sweep(np.geomspace(0.1, 100, 10), seeds=(0, 1, 2))      # 30 runs, ~25 s
    print(s.table())

A task with one known long dependency tests what the text cannot: :func:`recall_sequences`
(remember the first of ``delay + 2`` tokens until a query at the end), trained by
:func:`recall` and :func:`recall_sweep`, read with :func:`steps_to_recall` and :func:`recall_table`.

A run whose loss exploded (see :func:`lrcourse.engine.train`) has its last
perplexity recorded as ``inf``: the exploded model's actual value (10^17 and
beyond) only says "broken", and would swamp every mean over seeds.

From a shell, full scale: ``python -m lrcourse.cases lstm --data ptb --lrs 0.3,1,3,10 --clip-norm 5``.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lrcourse import _checks, engine
from lrcourse.data import text as corpora
from lrcourse.cases import _cli as cli

PRESETS = {
    # Book scale, characters: about a second per run on one CPU core.
    "char": {"embedding_dim": 32, "hidden_size": 64, "num_layers": 1, "batch_size": 16, "bptt": 32,
             "steps": 200, "epochs": None},
    # Full scale, words: the "small" model of Zaremba et al. (2014) on the Penn Treebank.
    "word": {"embedding_dim": 200, "hidden_size": 200, "num_layers": 2, "batch_size": 20, "bptt": 35,
             "steps": None, "epochs": 13},
}
EVALUATIONS = 5          # a budget in steps is evaluated this many times; a budget in epochs, after each epoch
EVAL_STREAMS = 16        # the validation text is read as this many parallel streams ...
EVAL_CHUNK = 256         # ... this many tokens at a time (bounds the memory of the logits)


class LanguageModel(nn.Module):
    """Embedding, a stack of LSTM layers, and a linear layer to one logit per token.

    ``forward(x, state=None)`` takes token ids of shape (batch, time) and the
    LSTM state ``(h, c)`` to start from (zeros when ``None``); it returns the
    logits, shape (batch, time, vocabulary), and the state after the last token.
    PyTorch's default initialisation.
    """

    def __init__(self, vocab_size: int, embedding_dim: int = 32, hidden_size: int = 64, num_layers: int = 1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None):
        output, state = self.lstm(self.embedding(x), state)
        return self.decoder(output), state


def streams(ids, n_streams: int) -> torch.Tensor:
    """Cut a text into ``n_streams`` equal consecutive pieces, one per row (the tail is dropped).

    Row b reads ``ids[b·n : (b+1)·n]``, contiguous text, so the state carried
    along a row always continues the text that row has read.
    """
    ids = np.asarray(ids)
    n = len(ids) // n_streams
    return torch.tensor(ids[:n * n_streams], dtype=torch.int64).view(n_streams, n)


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy −ln p(target) over every position of a (batch, time) block, in nats per token."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction=reduction)


def perplexity(model, ids, n_streams: int = EVAL_STREAMS, chunk: int = EVAL_CHUNK) -> torch.Tensor:
    """exp(mean cross-entropy per token) of ``model`` on the text ``ids``, a 0-d tensor.

    The text is read as ``n_streams`` streams from the zero state, each from its
    start to its end with the state carried. A uniform guess over V tokens has
    perplexity V; a perfect model, 1. Call it under ``torch.no_grad()``.
    """
    text = streams(ids, n_streams)
    total, state = 0.0, None
    for start in range(0, text.shape[1] - 1, chunk):
        inputs = text[:, start:start + chunk]
        targets = text[:, start + 1:start + chunk + 1]
        logits, state = model(inputs[:, :targets.shape[1]], state)
        total = total + cross_entropy(logits, targets, reduction="sum")
    return torch.exp(total / (n_streams * (text.shape[1] - 1)))


def _detached(state):
    return tuple(s.detach() for s in state)


class Config(NamedTuple):
    """Everything about a run except α, the seed and the optimizer."""

    corpus: corpora.Corpus
    steps: int
    batch_size: int
    bptt: int
    embedding_dim: int
    hidden_size: int
    num_layers: int
    eval_every: int


def config(data="stdlib", level: str | None = None, steps: int | None = None, epochs: int | None = None,
           batch_size: int | None = None, bptt: int | None = None, embedding_dim: int | None = None,
           hidden_size: int | None = None, num_layers: int | None = None) -> Config:
    """The settings of a run on ``data``: its level's preset (:data:`PRESETS`), overridden by
    the arguments that are not None. The budget is ``steps`` (evaluated 5 times) or ``epochs``
    (evaluated after each), not both."""
    corpus = corpora.load(data, level)
    preset = PRESETS[corpus.level]
    batch_size = _checks.positive_int(preset["batch_size"] if batch_size is None else batch_size, "batch_size")
    bptt = _checks.positive_int(preset["bptt"] if bptt is None else bptt, "bptt")
    if len(corpus.train) // batch_size < bptt + 1:
        raise ValueError(f"Invalid batch_size value: {batch_size} (with bptt={bptt}, the {len(corpus.train)} "
                         f"training tokens of {corpus.name} do not fill one window per stream)")
    if len(corpus.valid) // EVAL_STREAMS < 2:
        raise ValueError(f"Invalid data: the validation text of {corpus.name} has {len(corpus.valid)} tokens, "
                         f"too few for {EVAL_STREAMS} streams")
    windows_per_epoch = (len(corpus.train) // batch_size - 1) // bptt
    if steps is not None and epochs is not None:
        raise ValueError(f"Invalid steps value: {steps!r} together with epochs={epochs!r} (give one of them)")
    if steps is None and epochs is None:
        steps, epochs = preset["steps"], preset["epochs"]
    if steps is not None:
        steps = _checks.positive_int(steps, "steps")
        eval_every = math.ceil(steps / EVALUATIONS)
    else:
        steps = _checks.positive_int(epochs, "epochs") * windows_per_epoch
        eval_every = windows_per_epoch
    sizes = tuple(_checks.positive_int(preset[name] if value is None else value, name)
                  for name, value in (("embedding_dim", embedding_dim), ("hidden_size", hidden_size),
                                      ("num_layers", num_layers)))
    return Config(corpus, steps, batch_size, bptt, *sizes, eval_every)


def problem(seed: int, config: Config) -> engine.Problem:
    """The engine's description of one run: model, TBPTT windows, loss, validation perplexity.

    Called inside :func:`lrcourse.engine.repeatable`, so the initial weights come
    from the seeded global generator; every seed reads the same text in the same
    order. Not ``batchable``: the loss carries the LSTM state from step to step, and a
    checkpoint saves it with the position in the text (``state``/``load_state``).
    """
    corpus, steps, batch_size, bptt, embedding_dim, hidden_size, num_layers, eval_every = config
    model = LanguageModel(corpus.vocab_size, embedding_dim, hidden_size, num_layers)
    text = streams(corpus.train, batch_size)             # (batch_size, n)
    windows_per_epoch = (text.shape[1] - 1) // bptt
    carried = {"state": None, "windows": 0}              # LSTM state, windows read so far

    def batches():
        while True:
            i = carried["windows"] % windows_per_epoch
            if i == 0:
                carried["state"] = None                  # each epoch starts from the zero state
            carried["windows"] += 1
            start = i * bptt
            yield text[:, start:start + bptt], text[:, start + 1:start + bptt + 1]

    def loss(forward, batch):
        inputs, targets = batch
        logits, state = forward(inputs, carried["state"])
        carried["state"] = _detached(state)              # carried to the next window; the gradient stops here
        return cross_entropy(logits, targets)

    return engine.Problem(
        model=model, loss=loss, batches=batches(), steps=steps,
        evaluate=lambda forward: perplexity(forward, corpus.valid),
        eval_every=eval_every, steps_per_epoch=windows_per_epoch,
        loss_floor=math.log(corpus.vocab_size), metric_name="validation perplexity", maximize=False,
        batchable=False, state=lambda: dict(carried), load_state=carried.update,
        config={"case": "lstm", "data": corpus.name, "level": corpus.level, "batch_size": batch_size,
                "bptt": bptt, "embedding_dim": embedding_dim, "hidden_size": hidden_size,
                "num_layers": num_layers, "corpus": corpus},
    )


def _inf_if_exploded(h: engine.History) -> engine.History:
    """A run whose loss exploded: its last perplexity (taken where it stopped) becomes inf."""
    if not h.diverged or len(h.metric) == 0:
        return h
    metric = h.metric.copy()
    metric[-1] = math.inf
    return dataclasses.replace(h, metric=metric)


def train(lr=None, seed: int = 0, *, steps: int | None = None, epochs: int | None = None, optimizer: str = "sgd",
          schedule=None, clip_norm=None, data="stdlib", level: str | None = None, batch_size: int | None = None,
          bptt: int | None = None, embedding_dim: int | None = None, hidden_size: int | None = None,
          num_layers: int | None = None, progress: bool = False, threads: int | None = 1, device="cpu",
          **optimizer_kwargs) -> engine.History:
    """Train a :class:`LanguageModel` on ``data`` at learning rate ``lr``; return its :class:`~lrcourse.engine.History`.

    ``h.loss`` is the training cross-entropy per step (nats per token),
    ``h.metric`` the validation perplexity at each evaluation and ``h.final`` the
    last one; ``h.model`` is the trained model and ``h.config["corpus"]``
    its :class:`~lrcourse.data.text.Corpus`. Budget: ``steps`` optimizer steps
    (evaluated 5 times) or ``epochs`` passes over the training text (evaluated
    after each). Defaults for characters (``data="stdlib"``): 200 steps of 16
    streams × 32 characters, embedding 32, one LSTM layer of 64; for words
    (``data="ptb"``): 13 epochs of 20 × 35 words, embedding 200, two layers of 200.
    ``clip_norm`` clips the gradient's global norm; ``optimizer`` is a torch.optim
    name and ``optimizer_kwargs`` its arguments; ``schedule(k)`` replaces ``lr``. ``device``:
    ``"cpu"``, ``"cuda"``, ``"mps"`` or ``"auto"``; the engine's other options (``on_eval``,
    ``checkpoint``, …) pass through to :func:`lrcourse.engine.train`.
    """
    _checks.lr_or_schedule(lr, schedule)
    settings = config(data, level, steps, epochs, batch_size, bptt, embedding_dim, hidden_size, num_layers)
    h = engine.train(lambda seed: problem(seed, settings), lr, seed=seed, optimizer=optimizer, schedule=schedule, clip_norm=clip_norm,
                     progress=progress, desc="lstm" if lr is None else f"lstm α={lr:g} seed {seed}",
                     threads=threads, device=device, **optimizer_kwargs)
    return _inf_if_exploded(h)


def sweep(lrs, seeds=(0, 1, 2), *, steps: int | None = None, epochs: int | None = None, optimizer: str = "sgd",
          schedule=None, clip_norm=None, data="stdlib", level: str | None = None, batch_size: int | None = None,
          bptt: int | None = None, embedding_dim: int | None = None, hidden_size: int | None = None,
          num_layers: int | None = None, progress: bool = False, threads: int | None = 1, workers: int = 1,
          device="cpu", **optimizer_kwargs) -> engine.Sweep:
    """:func:`train` for every α in ``lrs`` and every seed in ``seeds``, one run after another
    (``workers`` at a time in separate processes: ``workers=2`` on two cores halves the time,
    with the same results).

    Not batched across α: ``torch.func.vmap`` has no batching rule for PyTorch's
    fused LSTM, and a hand-written LSTM cell batched under vmap measured about
    2× slower per run than the fused LSTM one run at a time (27 runs, 2 cores).
    ``schedule`` is here a function ``lr -> schedule``. Returns a
    :class:`~lrcourse.engine.Sweep`: ``s[lr, seed]`` is a History, ``s.finals``
    the final perplexities, ``s.table()`` mean ± std per α.
    """
    _checks.learning_rates(lrs)
    settings = config(data, level, steps, epochs, batch_size, bptt, embedding_dim, hidden_size, num_layers)
    s = engine.sweep(lambda seed: problem(seed, settings), lrs, seeds, optimizer=optimizer, schedule=schedule, clip_norm=clip_norm,
                     progress=progress, desc="lstm sweep", threads=threads, batched=False, workers=workers,
                     device=device, **optimizer_kwargs)
    return dataclasses.replace(s, histories={key: _inf_if_exploded(h) for key, h in s.histories.items()})


def lr_range_test(seed: int = 0, *, start_lr: float = 0.1, end_lr: float = 1000.0, steps: int = 100,
                  rule: str = "valley", optimizer: str = "sgd", clip_norm=None, data="stdlib",
                  level: str | None = None, batch_size: int | None = None, bptt: int | None = None,
                  embedding_dim: int | None = None, hidden_size: int | None = None,
                  num_layers: int | None = None, progress: bool = False, threads: int | None = 1,
                  device="cpu", **optimizer_kwargs) -> engine.RangeTest:
    """The LR range test (:mod:`lrcourse.engine.lr_range`) on a fresh :class:`LanguageModel`:
    ``steps`` windows of text while α grows from ``start_lr`` to ``end_lr``.

    ``r.lrs`` and ``r.losses`` (smoothed training cross-entropy) trace the curve and
    ``r.suggestion`` is the α that ``rule`` reads off it (``r.suggestions`` has every rule's).

    The default range, 0.1 to 1000, covers where plain SGD trains this LSTM (the range-test chapter's
    grid: best at α = 10, wrecked from 31.6) and reaches the blow-up. fastai's 1e-7 to 10
    ends at the best α, so its curve has no bottom and its valley lies far below.
    """
    settings = config(data, level, 1, None, batch_size, bptt, embedding_dim, hidden_size, num_layers)
    return engine.lr_range_test(lambda seed: problem(seed, settings), seed=seed, threads=threads, start_lr=start_lr, end_lr=end_lr,
                                steps=steps, rule=rule, optimizer=optimizer, clip_norm=clip_norm,
                                progress=progress, desc="lstm range test", device=device, **optimizer_kwargs)


# --------------------------------------------------------------------------- what a trained model knows

@torch.no_grad()
def sample(model: LanguageModel, corpus: corpora.Corpus, prompt: str, length: int = 200, *,
           temperature: float = 1.0, seed: int = 0) -> str:
    """``length`` tokens drawn from ``model``, one at a time, after it has read ``prompt``.

    Each token is drawn from softmax(logits / temperature) given everything before
    it: temperature 1 samples the model as it is; lower values favour its likely
    tokens. The draws use their own generator seeded with ``seed``, on one thread,
    so the same call gives the same text.
    """
    length = _checks.positive_int(length, "length")
    temperature = _checks.positive(temperature, "temperature")
    ids = torch.tensor(corpus.encode(prompt), dtype=torch.int64).view(1, -1)
    if ids.shape[1] == 0:
        raise ValueError(f"Invalid prompt: {prompt!r} (give at least one token to start from)")
    with engine.repeatable(seed):
        generator = torch.Generator().manual_seed(seed)
        was_training = model.training
        model.eval()
        logits, state = model(ids)
        drawn = []
        for _ in range(length):
            probabilities = torch.softmax(logits[0, -1].double() / temperature, dim=-1)
            token = torch.multinomial(probabilities, 1, generator=generator)
            drawn.append(int(token))
            logits, state = model(token.view(1, 1), state)
        model.train(was_training)
    return corpus.decode(drawn)


@torch.no_grad()
def context_loss(model: LanguageModel, ids, distances=(1, 2, 4, 8, 16, 32), *, context: int = 64,
                 block: int = 16, windows: int = 256, seed: int = 0) -> np.ndarray:
    """How much the model uses text far back: its loss when only the last d tokens are real.

    At ``windows`` random places of ``ids`` (e.g. the validation text) the model
    reads ``context`` tokens, then predicts a block of ``block`` tokens. For each d
    in ``distances`` it reads the same window again with everything more than d
    tokens before the block replaced by text from another random place, and we
    record the mean cross-entropy on the block (nats per token). Then

        loss(d) − loss(all real)  =  what the text more than d tokens back was worth

    (Khandelwal et al., 2018, "Sharp nearby, fuzzy far away"). Returns
    ``[loss(d) for d in distances] + [loss(all real)]``. Seeded, one thread.
    """
    context = _checks.positive_int(context, "context")
    block = _checks.positive_int(block, "block")
    windows = _checks.positive_int(windows, "windows")
    distances = [_checks.positive_int(d, "distance") for d in distances]
    if any(d > context for d in distances):
        raise ValueError(f"Invalid distances: {distances} (each must be at most context={context})")
    ids = torch.tensor(np.asarray(ids), dtype=torch.int64)
    span = context + block
    if len(ids) < 2 * span:
        raise ValueError(f"Invalid ids: {len(ids)} tokens are too few for windows of {span}")
    rng = np.random.default_rng(seed)
    starts = torch.as_tensor(rng.integers(0, len(ids) - span, windows))
    donors = torch.as_tensor(rng.integers(0, len(ids) - span, windows))
    real = ids[starts[:, None] + torch.arange(span)]      # (windows, span): context, then the block
    other = ids[donors[:, None] + torch.arange(context)]
    losses = []
    with engine.repeatable(seed):
        was_training = model.training
        model.eval()
        for d in [*distances, context]:
            inputs = real[:, :-1].clone()
            inputs[:, :context - d] = other[:, :context - d]   # only the last d tokens before the block are real
            logits, _ = model(inputs)
            losses.append(cross_entropy(logits[:, context - 1:], real[:, context:]).item())
        model.train(was_training)
    return np.array(losses)


# --------------------------------------------------------------------------- a known long dependency

RECALL_SYMBOLS = 4       # the symbol to remember is one of these; the filler is drawn from as many others
RECALL_TEST = 512        # fixed test sequences, the same for every seed and α
RECALL_TEST_SEED = 1_000_003


def recall_sequences(n: int, delay: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` sequences with a dependency exactly ``delay + 1`` tokens long, and their answers.

    Each sequence is ``delay + 2`` tokens: a symbol s ∈ {0, …, K−1} (K = ``RECALL_SYMBOLS``),
    ``delay`` filler tokens drawn from {K, …, 2K−1}, then the query token 2K. The answer is s:
    nothing after the first token carries any information about it, so a model can beat chance
    (ln K nats, accuracy 1/K) only by carrying s through ``delay`` steps of its state.
    """
    n, delay = _checks.positive_int(n, "n"), _checks.positive_int(delay, "delay")
    symbol = torch.randint(0, RECALL_SYMBOLS, (n,), generator=generator)
    filler = torch.randint(RECALL_SYMBOLS, 2 * RECALL_SYMBOLS, (n, delay), generator=generator)
    query = torch.full((n, 1), 2 * RECALL_SYMBOLS)
    return torch.cat([symbol[:, None], filler, query], dim=1), symbol


class RecallConfig(NamedTuple):
    """Everything about a run of the recall task except α, the seed and the optimizer."""

    delay: int
    steps: int
    batch_size: int
    eval_every: int
    embedding_dim: int
    hidden_size: int


def recall_config(delay: int = 8, steps: int = 2000, batch_size: int = 32, eval_every: int = 50,
                  embedding_dim: int = 16, hidden_size: int = 32) -> RecallConfig:
    """The settings of a run of the recall task, checked."""
    return RecallConfig(*(_checks.positive_int(value, name) for name, value in
                          (("delay", delay), ("steps", steps), ("batch_size", batch_size), ("eval_every", eval_every),
                           ("embedding_dim", embedding_dim), ("hidden_size", hidden_size))))


def recall_problem(seed: int, config: RecallConfig) -> engine.Problem:
    """The recall task as an engine problem: fresh sequences every step, the loss only at the query.

    The whole sequence is one window (no truncation), so the gradient reaches the symbol.
    The metric is the accuracy on ``RECALL_TEST`` fixed test sequences.
    """
    delay, steps, batch_size, eval_every, embedding_dim, hidden_size = config
    model = LanguageModel(2 * RECALL_SYMBOLS + 1, embedding_dim, hidden_size)
    generator = torch.Generator().manual_seed(seed)
    test_inputs, test_answers = recall_sequences(RECALL_TEST, delay, torch.Generator().manual_seed(RECALL_TEST_SEED))

    def batches():
        while True:
            yield recall_sequences(batch_size, delay, generator)

    def loss(forward, batch):
        inputs, answers = batch
        logits, _ = forward(inputs)
        return F.cross_entropy(logits[:, -1], answers)

    def accuracy(forward):
        logits, _ = forward(test_inputs)
        return (logits[:, -1].argmax(-1) == test_answers).float().mean()

    return engine.Problem(
        model=model, loss=loss, batches=batches(), steps=steps, evaluate=accuracy, eval_every=eval_every,
        loss_floor=math.log(RECALL_SYMBOLS), metric_name="recall accuracy", maximize=True, batchable=False,
        config={"case": "lstm-recall", "delay": delay, "batch_size": batch_size, "embedding_dim": embedding_dim,
                "hidden_size": hidden_size},
    )


def recall(lr, seed: int = 0, *, delay: int = 8, steps: int = 2000, batch_size: int = 32, eval_every: int = 50,
           embedding_dim: int = 16, hidden_size: int = 32, optimizer: str = "sgd", clip_norm=None,
           **optimizer_kwargs) -> engine.History:
    """Train a :class:`LanguageModel` on :func:`recall_sequences` at learning rate ``lr``.

    ``h.metric`` is the test accuracy after every ``eval_every`` steps (chance: 1/4);
    :func:`steps_to_recall` reads off when the dependency was learned. Plain SGD by default,
    like the language model; about a second per 1,000 steps on one CPU core.
    """
    settings = recall_config(delay, steps, batch_size, eval_every, embedding_dim, hidden_size)
    return engine.train(lambda seed: recall_problem(seed, settings), lr, seed=seed, optimizer=optimizer,
                        clip_norm=clip_norm, **optimizer_kwargs)


def recall_sweep(lrs, seeds=(0, 1), *, delay: int = 8, steps: int = 2000, batch_size: int = 32,
                 eval_every: int = 50, embedding_dim: int = 16, hidden_size: int = 32, optimizer: str = "sgd",
                 clip_norm=None, workers: int = 1, **optimizer_kwargs) -> engine.Sweep:
    """:func:`recall` for every α in ``lrs`` and seed in ``seeds`` (``workers`` at a time)."""
    _checks.learning_rates(lrs)
    settings = recall_config(delay, steps, batch_size, eval_every, embedding_dim, hidden_size)
    return engine.sweep(lambda seed: recall_problem(seed, settings), lrs, seeds, optimizer=optimizer,
                        clip_norm=clip_norm, batched=False, workers=workers, **optimizer_kwargs)


def steps_to_recall(h: engine.History, target: float = 0.95) -> int | None:
    """The first evaluated step at which the recall accuracy was at least ``target``; ``None`` if never."""
    target = _checks.in_range(target, "target", 0.0, 1.0)
    reached = np.flatnonzero(h.metric >= target)
    return None if reached.size == 0 else int(h.metric_steps[reached[0]])


def _recall_cell(h: engine.History, target: float) -> str:
    if h.diverged:
        return f"✕ {h.diverged_at}"
    step = steps_to_recall(h, target)
    return "–" if step is None else str(step)


def recall_table(sweep: engine.Sweep, target: float = 0.95) -> str:
    """One row per α: for each seed, the step at which the recall accuracy first reached ``target``
    ("–": not within the budget; "✕ k": diverged at step k), and the final accuracies."""
    target = _checks.in_range(target, "target", 0.0, 1.0)
    some = next(iter(sweep))
    seeds = "  ".join(f"seed {s:<3}" for s in sweep.seeds)
    title = (f"delay {some.config['delay']}, {some.config['steps']} steps: the step at which test accuracy "
             f"first reached {target:g}")
    rows = [title, f"{'α':>8}   {seeds}   final accuracy"]
    for lr, runs in zip(sweep.lrs, sweep.grid):
        cells = "  ".join(f"{_recall_cell(h, target):>8}" for h in runs)
        finals = ", ".join("–" if h.diverged else f"{h.final:.2f}" for h in runs)
        rows.append(f"{lr:>8.3g}   {cells}   {finals}")
    return "\n".join(rows)


# --------------------------------------------------------------------------- command line

def main(argv=None, prog: str = "python -m lrcourse.cases lstm") -> int:
    parser = cli.parser(prog, "Train the LSTM language model of the course at several learning rates and print "
                        "the validation perplexities. Each run shows a progress bar.", [0.1, 1.0, 10.0, 100.0],
                        threads="torch CPU threads (default 1: repeatable; more is faster for the word model)")
    parser.add_argument("--data", default="stdlib", choices=corpora.CORPORA,
                        help="stdlib (Python's documentation, characters) or ptb (Penn Treebank words from "
                             f"${corpora.DATA_ENV}/ptb)")
    parser.add_argument("--level", choices=corpora.LEVELS, default=None,
                        help="char or word (default: char for stdlib, word for ptb)")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None, help="optimizer steps (default 200 for characters)")
    budget.add_argument("--epochs", type=int, default=None, help="passes over the training text (default 13 for words)")
    parser.add_argument("--clip-norm", type=float, default=None, help="clip the gradient's global norm to this")
    parser.add_argument("--batch-size", type=int, default=None, help="parallel streams (default 16 chars, 20 words)")
    parser.add_argument("--bptt", type=int, default=None, help="tokens per TBPTT window (default 32 chars, 35 words)")
    parser.add_argument("--embedding-dim", type=int, default=None, help="default 32 (chars), 200 (words)")
    parser.add_argument("--hidden-size", type=int, default=None, help="default 64 (chars), 200 (words)")
    parser.add_argument("--layers", type=int, default=None, help="LSTM layers (default 1 for chars, 2 for words)")
    parser.add_argument("--sample", type=int, default=0, metavar="LENGTH",
                        help="print this many tokens sampled from the best run's model")
    args = parser.parse_args(argv)
    try:
        result = cli.one_by_one(train, args.lrs, args.seeds, metric_name="validation perplexity", maximize=False,
                                steps=args.steps, epochs=args.epochs, optimizer=args.optimizer,
                                clip_norm=args.clip_norm, data=args.data, level=args.level,
                                batch_size=args.batch_size, bptt=args.bptt, embedding_dim=args.embedding_dim,
                                hidden_size=args.hidden_size, num_layers=args.layers, threads=args.threads,
                                device=args.device, **cli.optimizer_kwargs(args))
    except cli.ERRORS as err:
        return cli.fail(err)
    some = next(iter(result))
    corpus = some.config["corpus"]
    print(f"\n{corpus.name}: {some.config['steps']} steps of "
          f"{some.config['batch_size']} × {some.config['bptt']} tokens, LSTM of {some.config['num_layers']} × "
          f"{some.config['hidden_size']} units, {cli.optimizer_label(args)}"
          + (f", clip_norm {args.clip_norm:g}" if args.clip_norm else ""))
    print(f"unigram baseline: validation perplexity {corpus.unigram_perplexity():.4g}")
    print(result.table())
    best = result.best()
    print(f"best α: {best:g}    ({result.seconds:.1f} s)")
    if args.sample and math.isfinite(best):
        prompt = "The " if corpus.level == "char" else "the"
        print(f"\nsample at α = {best:g}, seed {result.seeds[0]}, temperature 0.7:\n"
              + prompt + sample(result[best, result.seeds[0]].model, corpus, prompt, args.sample,
                                temperature=0.7))
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m lrcourse.cases.lstm"))
