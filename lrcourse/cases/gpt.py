"""Case study: a small GPT (a decoder-only transformer); what does α do to it?

The text is the one the LSTM reads, Python's reference documentation, character by
character (:func:`lrcourse.data.text.stdlib`). The model, :class:`GPT`, predicts the
next character from the ``context`` characters before it::

    token embedding + learned position embedding
    → blocks × [causal self-attention, MLP], each with a LayerNorm and a residual
    → (final LayerNorm) → linear → logits over the vocabulary

``norm="pre"`` puts each LayerNorm at the input of its branch, x + f(LN(x)) (GPT-2;
Xiong et al. 2020); ``norm="post"`` after the residual sum, LN(x + f(x)) (the original
transformer, Vaswani et al. 2017). Training: AdamW with decoupled weight decay 0.1 on
random windows of the training text; the metric is the **validation bits per
character**, the mean cross-entropy in bits on fixed windows of the validation text::

    h = gpt.train(3e-3, seed=0)                   # 200 steps of 16 windows × 64 characters
    h.final, h.diverged                           # validation bits per character
    s = gpt.sweep([1e-3, 3e-3, 1e-2], seeds=(0, 1))   # batched across α with torch.func.vmap
    h = gpt.train(1e-2, norm="post", warmup_steps=50, record=True)
    h.logs["grad_norm"], h.logs["update_norm"]    # ‖g‖ and ‖Δθ‖ of every step

Fine-tuning: :func:`pretrain` trains on the documentation, :func:`finetune` goes on
from that model on Python source code the standard library ships (:func:`source_corpus`:
the text of a few modules read with ``inspect.getsource``), and measures both the new
task and the forgetting of the old one; ``layer_decay`` gives each layer its own α
and ``freeze`` keeps the lowest layers fixed.

From a shell: ``python -m lrcourse.cases gpt --lrs 1e-3,3e-3,1e-2 --norm post``.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import inspect
import math
import sys
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from lrcourse import _checks, engine
from lrcourse.cases import _cli as cli
from lrcourse.core import schedules
from lrcourse.data import text as corpora

NORMS = ("pre", "post")
PRESETS = {
    # The book's scale, on the documentation's characters: 200 steps of 16 windows × 64
    # characters, 2 blocks of width 64 with 4 heads.
    "stdlib": {"steps": 200, "batch_size": 16, "context": 64, "width": 64, "layers": 2, "heads": 4},
}
EVALUATIONS = 4            # a run is evaluated this many times
EVAL_WINDOWS = 32          # the validation windows (fixed, non-overlapping, from the start of the text)
SOURCE_MODULES = ("textwrap", "string", "heapq", "bisect", "fractions", "functools", "statistics",
                  "colorsys", "calendar")
BITS = 1 / math.log(2)     # nats → bits


# --------------------------------------------------------------------------- the model

class Block(nn.Module):
    """One transformer block: causal self-attention, then an MLP (width → 4·width → width, GELU).

    Pre-LN:  x ← x + attn(LN₁(x));  x ← x + mlp(LN₂(x))
    Post-LN: x ← LN₁(x + attn(x));  x ← LN₂(x + mlp(x))
    """

    def __init__(self, width: int, heads: int, norm: str):
        super().__init__()
        self.heads, self.norm = heads, norm
        self.ln_1 = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

    def attention(self, x):
        """softmax(q kᵀ / √d + causal mask) v, per head; the mask hides the future."""
        batch, time_, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=-1)
        shape = (batch, time_, self.heads, width // self.heads)
        q, k, v = (t.reshape(shape).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(width // self.heads)
        future = torch.ones(time_, time_, dtype=torch.bool).triu(1)
        weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        return self.proj((weights @ v).transpose(1, 2).reshape(batch, time_, width))

    def forward(self, x):
        if self.norm == "pre":
            x = x + self.attention(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))
        x = self.ln_1(x + self.attention(x))
        return self.ln_2(x + self.mlp(x))


class GPT(nn.Module):
    """Token and learned position embeddings, ``layers`` :class:`Block` s, a linear read-out.

    ``forward(x)`` takes token ids (batch, time ≤ context) and returns logits
    (batch, time, vocabulary). Pre-LN adds a final LayerNorm before the read-out
    (a Post-LN block already ends with one). Weights as GPT-2 initialises them:
    normal(0, 0.02), biases zero.
    """

    def __init__(self, vocab_size: int, context: int = 64, width: int = 64, layers: int = 2, heads: int = 4,
                 norm: str = "pre"):
        super().__init__()
        self.context, self.norm = context, norm
        self.token = nn.Embedding(vocab_size, width)
        self.position = nn.Embedding(context, width)
        self.blocks = nn.ModuleList(Block(width, heads, norm) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width) if norm == "pre" else nn.Identity()
        self.head = nn.Linear(width, vocab_size)
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, 0.0, 0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, x):
        positions = torch.arange(x.shape[-1])
        h = self.token(x) + self.position(positions)
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln_f(h))

    def layer_groups(self) -> list:
        """The model's parameters by depth: [embeddings, block 1, …, block L, read-out].

        Layer-wise decay and freezing count layers in this order (0 = the embeddings)."""
        return [[self.token, self.position], *[[b] for b in self.blocks], [self.ln_f, self.head]]


# --------------------------------------------------------------------------- data and metric

def cross_entropy(logits, targets):
    """Mean −ln p(target) over every position, in nats per character."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def windows(ids, context: int, count: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Consecutive non-overlapping windows of ``context`` + 1 tokens from the start of ``ids``:
    inputs (count, context) and targets shifted by one."""
    ids = torch.tensor(np.asarray(ids), dtype=torch.int64)
    available = (len(ids) - 1) // context
    count = available if count is None else min(count, available)
    if count < 1:
        raise ValueError(f"Invalid text: {len(ids)} tokens do not fill one window of {context + 1}")
    starts = torch.arange(count) * context
    block = ids[starts[:, None] + torch.arange(context + 1)]
    return block[:, :-1], block[:, 1:]


def bits_per_character(forward, inputs, targets) -> torch.Tensor:
    """Mean cross-entropy in bits per character (log₂ e · nats): 0-d tensor, pure in ``forward``."""
    return cross_entropy(forward(inputs), targets) * BITS


def source_corpus(vocab: tuple, modules=SOURCE_MODULES) -> corpora.Corpus:
    """Python source code from the standard library (``inspect.getsource`` of ``modules``),
    written with the vocabulary ``vocab`` (characters outside it are dropped; a handful).
    Split 90/5/5 into train, validation and test, contiguous."""
    index = {c: i for i, c in enumerate(vocab)}
    source = "\n".join(inspect.getsource(importlib.import_module(name)) for name in modules)
    ids = np.array([index[c] for c in source if c in index], dtype=np.int64)
    n_train, n_valid = int(0.9 * len(ids)), int(0.05 * len(ids))
    return corpora.Corpus("stdlib source", "char", tuple(vocab), ids[:n_train], ids[n_train:n_train + n_valid],
                          ids[n_train + n_valid:])


# --------------------------------------------------------------------------- the engine's problem

def _recorder(model, logs):
    """A function that records, at loss call k ≥ 1, ‖g‖ and ‖Δθ‖ of step k − 1 (nan at k = 0).

    At the k-th loss call the engine has not yet cleared the gradients of step k − 1,
    and the parameters have just been moved by that step."""
    previous = {}

    def record():
        params = [p for p in model.parameters() if p.requires_grad]
        if previous:
            grads = [p.grad for p in params if p.grad is not None]
            logs["grad_norm"].append(torch.linalg.vector_norm(torch.stack(
                [torch.linalg.vector_norm(g) for g in grads])).item() if grads else math.nan)
            logs["update_norm"].append(torch.linalg.vector_norm(torch.stack(
                [torch.linalg.vector_norm(p.detach() - previous[i]) for i, p in enumerate(params)])).item())
        else:
            logs["grad_norm"].append(math.nan)
            logs["update_norm"].append(math.nan)
        previous.update({i: p.detach().clone() for i, p in enumerate(params)})

    return record


def _corpus(data) -> corpora.Corpus:
    if isinstance(data, corpora.Corpus):
        return data
    if data != "stdlib":
        raise ValueError(f"Invalid data: {data!r} (expected 'stdlib' or a Corpus)")
    return corpora.stdlib()


class Config(NamedTuple):
    """Everything about a run except α, the seed and the optimizer (its weight decay and warmup)."""

    corpus: corpora.Corpus
    steps: int
    batch_size: int
    context: int
    width: int
    layers: int
    heads: int
    norm: str = "pre"
    record: bool = False
    start: nn.Module | None = None


def config(data="stdlib", steps: int | None = None, batch_size: int | None = None, context: int | None = None,
           width: int | None = None, layers: int | None = None, heads: int | None = None, norm: str = "pre",
           record: bool = False, start: nn.Module | None = None) -> Config:
    """The settings of a run on ``data``: the preset (:data:`PRESETS`), overridden by the
    arguments that are not None. ``record=True`` logs ‖g‖ and ‖Δθ‖ of every step; ``start``
    is a model to go on training (trained in place, :func:`finetune`) instead of a fresh :class:`GPT`."""
    corpus = _corpus(data)
    preset = PRESETS["stdlib"]
    given = {"steps": steps, "batch_size": batch_size, "context": context, "width": width, "layers": layers,
             "heads": heads}
    sizes = {name: _checks.positive_int(preset[name] if value is None else value, name)
             for name, value in given.items()}
    if sizes["width"] % sizes["heads"]:
        raise ValueError(f"Invalid heads value: {sizes['heads']} (width={sizes['width']} must be a multiple of it)")
    _checks.one_of(norm, "norm", NORMS)
    if len(corpus.train) < sizes["context"] + 2:
        raise ValueError(f"Invalid data: {len(corpus.train)} training tokens are too few for context "
                         f"{sizes['context']}")
    windows(corpus.valid, sizes["context"], 1)          # the validation text fills at least one window
    return Config(corpus, **sizes, norm=norm, record=bool(record), start=start)


def problem(seed: int, config: Config) -> engine.Problem:
    """The engine's description of one run: a fresh :class:`GPT` (or ``config.start``), random
    windows of the training text, the cross-entropy, and the validation bits per character on
    fixed windows of the validation text.

    Called inside :func:`lrcourse.engine.repeatable`, so the initial weights come from the
    seeded global generator; the windows come from a generator seeded with ``seed``. The
    loss and metric are pure functions of the model: ``batchable``, unless ``record``
    (which logs ‖g‖ and ‖Δθ‖ each step) or a frozen parameter rules it out.
    """
    corpus, steps, batch_size, context, width, layers, heads, norm, record, start = config
    model = GPT(corpus.vocab_size, context, width, layers, heads, norm) if start is None else start
    train_ids = torch.tensor(np.asarray(corpus.train), dtype=torch.int64)
    valid_inputs, valid_targets = windows(corpus.valid, context, EVAL_WINDOWS)
    generator = torch.Generator().manual_seed(seed)
    offsets = torch.arange(context + 1)

    def batches():
        while True:
            starts = torch.randint(0, len(train_ids) - context, (batch_size,), generator=generator)
            block = train_ids[starts[:, None] + offsets]
            yield block[:, :-1], block[:, 1:]

    logs = {"grad_norm": [], "update_norm": []} if record else {}
    note = _recorder(model, logs) if record else None

    def loss(forward, batch):
        if note is not None:
            note()
        inputs, targets = batch
        return cross_entropy(forward(inputs), targets)

    frozen = any(not p.requires_grad for p in model.parameters())
    return engine.Problem(
        model=model, loss=loss, batches=batches(), steps=steps,
        evaluate=lambda forward: bits_per_character(forward, valid_inputs, valid_targets),
        eval_every=math.ceil(steps / EVALUATIONS), loss_floor=math.log(corpus.vocab_size),
        metric_name="validation bits per character", maximize=False, batchable=not record and not frozen,
        config={"case": "gpt", "data": corpus.name, "steps": steps, "batch_size": batch_size, "context": context,
                "norm": norm, "width": width, "layers": layers, "heads": heads, "corpus": corpus},
        logs=logs,
    )


def _warmup(lr, warmup_steps, schedule, steps):
    """``schedule`` unchanged, or a linear warmup to ``lr`` over ``warmup_steps``, then ``lr``."""
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)) or warmup_steps < 0:
        raise ValueError(f"Invalid warmup_steps value: {warmup_steps!r} (expected an integer ≥ 0)")
    if warmup_steps > steps:
        raise ValueError(f"Invalid warmup_steps value: {warmup_steps} (more than steps={steps})")
    if warmup_steps == 0:
        return lr, schedule
    if schedule is not None:
        raise ValueError(f"Invalid warmup_steps value: {warmup_steps} together with a schedule "
                         "(put the warmup in the schedule)")
    return None, schedules.warmup_cosine(lr, int(warmup_steps), steps, lr_min=lr)


def _weight_decay(optimizer, weight_decay) -> dict:
    weight_decay = float(_checks.nonnegative(weight_decay, "weight_decay value"))
    return {"weight_decay": weight_decay} if weight_decay or str(optimizer).lower() == "adamw" else {}


def train(lr=None, seed: int = 0, *, norm: str = "pre", warmup_steps: int = 0, schedule=None,
          optimizer: str = "adamw", weight_decay: float = 0.1, steps: int | None = None,
          batch_size: int | None = None, context: int | None = None, width: int | None = None,
          layers: int | None = None, heads: int | None = None, clip_norm=None, data="stdlib",
          record: bool = False, progress: bool = False, threads: int | None = 1, device="cpu",
          **optimizer_kwargs) -> engine.History:
    """Train a :class:`GPT` at peak learning rate ``lr``; return its :class:`~lrcourse.engine.History`.

    ``h.loss`` is the training cross-entropy per step (nats per character),
    ``h.metric`` the validation bits per character after every quarter of the run,
    ``h.final`` the last; ``h.model`` is the trained model and ``h.config["corpus"]`` its
    text. Sizes not given come from :data:`PRESETS` (200 steps of 16 windows × 64
    characters, 2 blocks of width 64 with 4 heads). ``warmup_steps`` W rises linearly,
    α_k = lr·(k+1)/(W+1), then holds ``lr``; ``schedule(k)`` replaces both.
    ``weight_decay`` is torch's λ (AdamW decays every weight by α_k·λ per step; for
    ``optimizer="adam"`` it is an L2 term in the gradient). ``record=True`` logs ‖g‖
    and ‖Δθ‖ of every step in ``h.logs``. ``device``: ``"cpu"``, ``"cuda"``, ``"mps"`` or ``"auto"``;
    the engine's other options (``on_eval``, ``checkpoint``, …) pass through to
    :func:`lrcourse.engine.train`.
    """
    _checks.lr_or_schedule(lr, schedule)
    settings = config(data, steps, batch_size, context, width, layers, heads, norm, record)
    lr, schedule = _warmup(lr, warmup_steps, schedule, settings.steps)
    desc = "gpt" if lr is None else f"gpt α={lr:g} seed {seed}"
    return engine.train(lambda seed: problem(seed, settings), lr, seed=seed, optimizer=optimizer,
                        schedule=schedule, clip_norm=clip_norm, progress=progress, desc=desc, threads=threads,
                        device=device, **_weight_decay(optimizer, weight_decay), **optimizer_kwargs)


def sweep(lrs, seeds=(0, 1), *, norm: str = "pre", warmup_steps: int = 0, schedule=None,
          optimizer: str = "adamw", weight_decay: float = 0.1, steps: int | None = None,
          batch_size: int | None = None, context: int | None = None, width: int | None = None,
          layers: int | None = None, heads: int | None = None, clip_norm=None, data="stdlib",
          progress: bool = False, threads: int | None = 1, batched: bool = True, device="cpu",
          **optimizer_kwargs) -> engine.Sweep:
    """:func:`train` for every α in ``lrs`` and seed in ``seeds``, batched across α with
    ``torch.func.vmap`` (the model is pure and every seed reads its own seeded windows).

    ``schedule`` is here a function ``lr -> schedule``; ``warmup_steps`` applies to every α.
    ``batched=False`` runs them one by one, with the same results up to float rounding.
    """
    _checks.learning_rates(lrs)
    settings = config(data, steps, batch_size, context, width, layers, heads, norm)
    if warmup_steps:
        _warmup(1.0, warmup_steps, schedule, settings.steps)
        schedule = schedules.warmup_constant(int(warmup_steps), settings.steps)
    return engine.sweep(lambda seed: problem(seed, settings), lrs, seeds, optimizer=optimizer, schedule=schedule,
                        clip_norm=clip_norm, progress=progress, desc="gpt sweep", threads=threads,
                        batched=batched, device=device, **_weight_decay(optimizer, weight_decay), **optimizer_kwargs)


def lr_range_test(seed: int = 0, *, start_lr: float = 1e-5, end_lr: float = 1.0, steps: int = 100,
                  rule: str = "valley", norm: str = "pre", optimizer: str = "adamw", weight_decay: float = 0.1,
                  batch_size: int | None = None, context: int | None = None, width: int | None = None,
                  layers: int | None = None, heads: int | None = None, clip_norm=None, data="stdlib",
                  progress: bool = False, threads: int | None = 1, device="cpu",
                  **optimizer_kwargs) -> engine.RangeTest:
    """The LR range test (:mod:`lrcourse.engine.lr_range`) on a fresh :class:`GPT`: ``steps``
    batches while α grows from ``start_lr`` to ``end_lr``.

    The default range, 1e-5 to 1, brackets where AdamW trains this model (about 1e-3 to 1e-2
    at the default size, 300 steps) on both sides: the loss falls, then rises again before 1.
    """
    settings = config(data, 1, batch_size, context, width, layers, heads, norm)
    return engine.lr_range_test(lambda seed: problem(seed, settings), seed=seed, threads=threads,
                                start_lr=start_lr, end_lr=end_lr, steps=steps, rule=rule, optimizer=optimizer,
                                clip_norm=clip_norm, progress=progress, desc="gpt range test", device=device,
                                **_weight_decay(optimizer, weight_decay), **optimizer_kwargs)


# --------------------------------------------------------------------------- pretraining and fine-tuning

def pretrain(seed: int = 0, *, lr: float = 3e-3, steps: int = 400, **kw) -> engine.History:
    """:func:`train` on the documentation text with a 10 % warmup: the model :func:`finetune` starts from
    (``h.model``)."""
    return train(lr, seed, steps=steps, warmup_steps=kw.pop("warmup_steps", steps // 10), **kw)


class Scaled(nn.Module):
    """The parametrization θ = c·φ (``right_inverse``: φ = θ / c).

    Adam's step on φ is the same whatever the gradient's scale, so θ = c·φ moves c
    times as far as it would at the same α: a per-layer learning rate c·α for Adam and
    AdamW (with ε/c in place of ε, and AdamW's decoupled decay still α·λ)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, phi):
        return self.scale * phi

    def right_inverse(self, theta):
        return theta / self.scale


def layer_scales(layers: int, layer_decay: float) -> np.ndarray:
    """The multiplier of α for each depth (0 = embeddings, L + 1 = read-out): decay^(L + 1 − depth).

    The read-out trains at α, each layer below at ``layer_decay`` times the one above
    (Howard & Ruder 2018; Clark et al. 2020)."""
    layer_decay = _checks.in_range(layer_decay, "layer_decay", 0.0, 1.0)
    if layer_decay == 0:
        raise ValueError("Invalid layer_decay value: 0 (expected 0 < layer_decay <= 1; use freeze to stop layers)")
    depth = np.arange(layers + 2)
    return layer_decay ** (layers + 1 - depth)


def prepare(model: GPT, *, layer_decay: float = 1.0, freeze: int = 0) -> GPT:
    """A copy of ``model`` set up for fine-tuning: the ``freeze`` lowest layers (0: none; 1: the
    embeddings; 2: and block 1; …) do not train, and every other layer's weights are
    parametrized as θ = c·φ with c from :func:`layer_scales`."""
    groups = model.layer_groups()
    freeze = _checks.in_range(freeze, "freeze", 0, len(groups) - 1)
    if isinstance(freeze, float) and not freeze.is_integer():
        raise ValueError(f"Invalid freeze value: {freeze!r} (expected an integer)")
    scales = layer_scales(len(model.blocks), layer_decay)
    tuned = copy.deepcopy(model)
    for depth, modules in enumerate(tuned.layer_groups()):
        for module in modules:
            for name, param in list(module.named_parameters(recurse=False)) + [
                    (f"{sub}.{n}", p) for sub, child in module.named_modules() if sub
                    for n, p in child.named_parameters(recurse=False)]:
                owner, _, leaf = name.rpartition(".")
                owner = module.get_submodule(owner) if owner else module
                if depth < freeze:
                    param.requires_grad_(False)
                elif scales[depth] != 1.0:
                    parametrize.register_parametrization(owner, leaf, Scaled(float(scales[depth])))
    return tuned


def unprepare(model: GPT) -> GPT:
    """The plain model back: parametrizations replaced by their values, every weight trainable."""
    for module in list(model.modules()):
        if parametrize.is_parametrized(module):
            for name in list(module.parametrizations):
                parametrize.remove_parametrizations(module, name, leave_parametrized=True)
    for param in model.parameters():
        param.requires_grad_(True)
    return model


def finetune(model: GPT, lr=None, *, layer_decay: float = 1.0, freeze: int = 0, steps: int = 200,
             seed: int = 0, warmup_steps: int = 0, schedule=None, optimizer: str = "adamw",
             weight_decay: float = 0.0, batch_size: int | None = None, old=None, new=None,
             clip_norm=None, progress: bool = False, threads: int | None = 1,
             **optimizer_kwargs) -> engine.History:
    """Go on training a copy of ``model`` on a new text, ``new`` (default: :func:`source_corpus`).

    ``h.metric`` is the new text's validation bits per character; ``h.config`` also holds
    ``old_before`` and ``old_after``, the old text's (``old``, default the documentation)
    before and after: their difference is the forgetting. ``layer_decay`` c < 1 trains
    depth d at α·c^(L+1−d) (Adam and AdamW only: see :class:`Scaled`); ``freeze`` k keeps the
    k lowest layers fixed (:func:`prepare`). ``h.model`` is the fine-tuned plain model;
    ``model`` itself is not changed. ``weight_decay`` defaults to 0 so that layer-wise α
    is exact.
    """
    if not isinstance(model, GPT):
        raise ValueError(f"Invalid model: {type(model).__name__} (expected a GPT, e.g. pretrain().model)")  # noqa: TRY004
    _checks.lr_or_schedule(lr, schedule)
    if layer_decay != 1.0 and str(optimizer).lower() not in ("adam", "adamw"):
        raise ValueError(f"Invalid optimizer: {optimizer!r} with layer_decay={layer_decay} "
                         "(layer-wise α by parametrization is exact only for Adam and AdamW)")
    old = _corpus("stdlib" if old is None else old)
    new = source_corpus(old.vocab) if new is None else _corpus(new)
    settings = config(new, steps, batch_size, model.context, model.token.embedding_dim, len(model.blocks),
                      model.blocks[0].heads, model.norm)
    lr, schedule = _warmup(lr, warmup_steps, schedule, settings.steps)
    tuned = prepare(model, layer_decay=layer_decay, freeze=freeze)
    old_inputs, old_targets = windows(old.valid, model.context, EVAL_WINDOWS)
    with torch.no_grad():
        before = bits_per_character(model, old_inputs, old_targets).item()
    h = engine.train(lambda seed_: problem(seed_, settings._replace(start=tuned)), lr, seed=seed,
                     optimizer=optimizer, schedule=schedule, clip_norm=clip_norm, progress=progress,
                     desc="gpt fine-tune", threads=threads, **_weight_decay(optimizer, weight_decay),
                     **optimizer_kwargs)
    plain = unprepare(tuned)
    with torch.no_grad():
        after = bits_per_character(plain, old_inputs, old_targets).item()
    return dataclasses.replace(h, model=plain, config={
        **h.config, "case": "gpt-finetune", "layer_decay": float(layer_decay), "freeze": int(freeze),
        "old_before": before, "old_after": after if not h.diverged else math.inf})


# --------------------------------------------------------------------------- command line

def main(argv=None, prog: str = "python -m lrcourse.cases gpt") -> int:
    parser = cli.parser(prog, "Train the course's small GPT on Python's documentation at several learning rates "
                        "and print the validation bits per character.", [1e-3, 3e-3, 1e-2], optimizer="adamw")
    preset = PRESETS["stdlib"]
    parser.add_argument("--norm", default="pre", choices=NORMS, help="pre-LN (default) or post-LN blocks")
    parser.add_argument("--warmup-steps", type=int, default=0, help="linear warmup steps (default 0)")
    parser.add_argument("--steps", type=int, default=None, help=f"optimizer steps (default {preset['steps']})")
    parser.add_argument("--layers", type=int, default=None, help=f"blocks (default {preset['layers']})")
    parser.add_argument("--width", type=int, default=None, help=f"model width (default {preset['width']})")
    parser.add_argument("--weight-decay", type=float, default=0.1, help="AdamW's λ (default 0.1)")
    args = parser.parse_args(argv)
    try:
        result = cli.one_by_one(train, args.lrs, args.seeds, metric_name="validation bits per character",
                                maximize=False, norm=args.norm, warmup_steps=args.warmup_steps, steps=args.steps,
                                layers=args.layers, width=args.width, weight_decay=args.weight_decay,
                                optimizer=args.optimizer, threads=args.threads, device=args.device,
                                **cli.optimizer_kwargs(args))
    except cli.ERRORS as err:
        return cli.fail(err)
    some = next(iter(result)).config
    return cli.report(result, f"{some['norm']}-LN GPT, {some['layers']} × {some['width']}, {some['steps']} steps, "
                              f"{cli.optimizer_label(args)}, warmup {args.warmup_steps}")


if __name__ == "__main__":
    sys.exit(main(prog="python -m lrcourse.cases.gpt"))
