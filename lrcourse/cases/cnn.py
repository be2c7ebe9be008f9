"""Case study: a small convolutional network classifies images; what does α do to it?

The default data are scikit-learn's 8×8 handwritten digits (always there, no
download); ``data="cifar10"`` uses CIFAR-10 from ``$LRCOURSE_DATA`` (see
:mod:`lrcourse.data.images`). The model, :class:`SmallCNN`, is all-convolutional:

    x → [conv 3×3, stride 2 → ReLU] × len(channels) → flatten → linear → logits

trained with cross-entropy on mini-batches (reshuffled every epoch, the last
incomplete batch dropped, or with ``carry_over=True`` carried into the next epoch's first
batch); the metric is the test accuracy after every epoch::

    h = cnn.train(0.1, seed=0)          # plain SGD, 10 epochs on digits, about 0.5 s
    h.final, h.diverged                 # test accuracy at the end, whether it blew up
    s = cnn.sweep(np.logspace(-4, 1, 13), seeds=(0, 1, 2))    # 39 runs at once, about 6 s
    print(s.table())

From a shell: ``python -m lrcourse.cases cnn --lrs 1e-3,1e-2,1e-1,1 --epochs 10``.
"""

from __future__ import annotations

import math
import os
import sys
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lrcourse import _checks
from lrcourse.data import images as datasets
from lrcourse import engine
from lrcourse.cases import _cli as cli

PRESETS = {
    # data set: channels of the conv layers, epochs, batch size, whether sweeps batch the runs.
    # Measured on 2 CPU cores: batching across α makes the digits sweep about 3× faster, but at
    # 32×32 the grouped convolutions that vmap produces are slower than one run after another.
    "digits": {"channels": (16, 32), "epochs": 10, "batch_size": 32, "batched": True},
    "cifar10": {"channels": (32, 64, 128), "epochs": 30, "batch_size": 128, "batched": False},
}
EVAL_CHUNK = 1000          # test images per forward pass when evaluating


class SmallCNN(nn.Module):
    """Convolutions of stride 2 (each halves the image), ReLU, then one linear layer.

    Strided convolutions instead of pooling layers: as accurate here, and much
    faster when many learning rates are trained at once under ``torch.func.vmap``.
    PyTorch's default initialisation.
    """

    def __init__(self, in_channels: int = 1, image_size: int = 8, num_classes: int = 10,
                 channels: tuple = PRESETS["digits"]["channels"]):
        super().__init__()
        layers, size = [], image_size
        for out_channels in channels:
            layers += [nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=2, padding=1), nn.ReLU()]
            in_channels, size = out_channels, (size + 1) // 2
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(in_channels * size * size, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


def accuracy(forward, x, y, chunk: int = EVAL_CHUNK) -> torch.Tensor:
    """Fraction of images whose largest logit is the true class (a 0-d tensor).

    An image whose logits are not all finite counts as wrong.
    """
    correct = 0
    for i in range(0, len(y), chunk):
        logits = forward(x[i:i + chunk])
        right = (logits.argmax(dim=-1) == y[i:i + chunk]) & torch.isfinite(logits).all(dim=-1)
        correct = correct + right.sum()
    return correct / len(y)


def _dataset(data) -> datasets.Dataset:
    if isinstance(data, str) and data.lower() == "cifar10":
        key = os.environ.get(datasets.DATA_ENV)
        if _CACHE.get("cifar10_key") != key or "cifar10" not in _CACHE:
            _CACHE["cifar10"], _CACHE["cifar10_key"] = datasets.cifar10(), key
        return _CACHE["cifar10"]
    return datasets.load(data)


_CACHE: dict = {}


def _preset(dataset: datasets.Dataset) -> dict:
    return PRESETS["cifar10" if dataset.image_shape[1] >= 32 else "digits"]


class Config(NamedTuple):
    """Everything about a run except α, the seed and the optimizer."""

    data: datasets.Dataset
    epochs: int
    batch_size: int
    channels: tuple
    carry_over: bool = False


def config(data="digits", epochs: int | None = None, batch_size: int | None = None, channels=None,
           carry_over: bool = False) -> Config:
    """The settings of a run on ``data``: its preset (:data:`PRESETS`), overridden by the
    arguments that are not None."""
    dataset = _dataset(data)
    preset = _preset(dataset)
    epochs = _checks.positive_int(preset["epochs"] if epochs is None else epochs, "epochs")
    batch_size = _checks.positive_int(preset["batch_size"] if batch_size is None else batch_size, "batch_size")
    if batch_size > len(dataset.y_train):
        raise ValueError(f"Invalid batch_size value: {batch_size} (larger than the "
                         f"{len(dataset.y_train)} training images of {dataset.name})")
    channels = tuple(preset["channels"] if channels is None else channels)
    for c in channels:
        _checks.positive_int(c, "channels")
    return Config(dataset, epochs, batch_size, channels, bool(carry_over))


def _tensor(array: np.ndarray) -> torch.Tensor:
    """The array as a tensor, sharing memory unless it is read-only (the cached digits)."""
    array = np.ascontiguousarray(array)
    return torch.from_numpy(array) if array.flags.writeable else torch.tensor(array)


def problem(seed: int, config: Config) -> engine.Problem:
    """The engine's description of one run: model, batches, loss, test accuracy.

    By default each epoch is ⌊n/B⌋ full batches of a fresh permutation, the last n mod B
    images dropped. ``carry_over=True`` reads the permutations of successive epochs as one
    stream cut into full batches, so no image is dropped and no batch is small, and takes
    round(epochs·n/B) steps: every batch size then sees epochs·n example gradients, within B/2.

    Called inside :func:`lrcourse.engine.repeatable`, so the model's initial
    weights come from the seeded global generator; the batch order comes from
    its own generator seeded with ``seed``.
    """
    dataset, epochs, batch_size, channels, carry_over = config
    c, h, _ = dataset.image_shape
    model = SmallCNN(c, h, dataset.num_classes, channels)
    mean = _tensor(dataset.mean).view(-1, 1, 1)
    std = _tensor(dataset.std).view(-1, 1, 1)
    x_train = _tensor(dataset.x_train)              # uint8, scaled batch by batch
    y_train = _tensor(dataset.y_train)
    x_test = _tensor(dataset.scale(dataset.x_test))
    y_test = _tensor(dataset.y_test)
    steps_per_epoch = max(1, round(len(y_train) / batch_size)) if carry_over else len(y_train) // batch_size
    steps = round(epochs * len(y_train) / batch_size) if carry_over else epochs * steps_per_epoch
    order = torch.Generator().manual_seed(seed)

    def batches():
        left = torch.empty(0, dtype=torch.long)         # images carried over from the last epoch
        while True:
            permutation = torch.cat([left, torch.randperm(len(y_train), generator=order)])
            full = steps_per_epoch if not carry_over else len(permutation) // batch_size
            for i in range(full):
                index = permutation[i * batch_size:(i + 1) * batch_size]
                yield (x_train[index].float() - mean) / std, y_train[index]
            if carry_over:
                left = permutation[full * batch_size:]

    def loss(forward, batch):
        x, y = batch
        return F.cross_entropy(forward(x), y)

    return engine.Problem(
        model=model, loss=loss, batches=batches(), steps=steps,
        evaluate=lambda forward: accuracy(forward, x_test, y_test),
        steps_per_epoch=steps_per_epoch, loss_floor=math.log(dataset.num_classes),
        metric_name="test accuracy", maximize=True,
        config={"case": "cnn", "data": dataset.name, "epochs": epochs, "batch_size": batch_size,
                "channels": channels, **({"carry_over": True} if carry_over else {})},
    )


def train(lr=None, seed: int = 0, *, epochs: int | None = None, optimizer: str = "sgd", schedule=None,
          data="digits", batch_size: int | None = None, clip_norm=None, progress: bool = False,
          channels=None, threads: int | None = 1, carry_over: bool = False, device="cpu",
          **optimizer_kwargs) -> engine.History:
    """Train :class:`SmallCNN` on ``data`` with learning rate ``lr``; return its :class:`~lrcourse.engine.History`.

    ``h.metric`` is the test accuracy after each epoch and ``h.final`` the last
    one. Defaults (digits): 10 epochs of 42 steps, batch 32, channels (16, 32);
    CIFAR-10: 30 epochs, batch 128, channels (32, 64, 128). ``optimizer`` is a
    torch.optim name and ``optimizer_kwargs`` its arguments (``momentum=0.9``);
    ``schedule(k)`` replaces ``lr`` at step k. ``data`` is ``"digits"``,
    ``"cifar10"`` or a :class:`lrcourse.data.images.Dataset`. ``carry_over=True``: no image
    dropped, round(epochs·n/B) full batches (see :func:`problem`). ``device``: ``"cpu"``,
    ``"cuda"``, ``"mps"`` or ``"auto"``; the engine's other options (``on_eval``, ``checkpoint``,
    ``checkpoint_every``, ``until``) pass through to :func:`lrcourse.engine.train`.
    """
    _checks.lr_or_schedule(lr, schedule)
    settings = config(data, epochs, batch_size, channels, carry_over)
    return engine.train(lambda seed: problem(seed, settings), lr, seed=seed,
                        optimizer=optimizer, schedule=schedule, clip_norm=clip_norm, progress=progress,
                        desc="cnn" if lr is None else f"cnn α={lr:g}", threads=threads, device=device,
                        **optimizer_kwargs)


def sweep(lrs, seeds=(0, 1, 2), *, epochs: int | None = None, optimizer: str = "sgd", schedule=None,
          data="digits", batch_size: int | None = None, clip_norm=None, progress: bool = False,
          channels=None, threads: int | None = 1, batched: bool | None = None, carry_over: bool = False,
          device="cpu", **optimizer_kwargs) -> engine.Sweep:
    """:func:`train` for every α in ``lrs`` and every seed in ``seeds``.

    ``batched``: run all α at once (the default for digits) or one by one (the
    default for CIFAR-10, where that is faster); the results are the same.
    ``schedule`` is here a function ``lr -> schedule``. Returns a
    :class:`~lrcourse.engine.Sweep`: ``s[lr, seed]`` is a History,
    ``s.finals`` the final accuracies, ``s.table()`` mean ± std per α. ``carry_over=True``
    carries each epoch's leftover images into the next batch, so that every batch size sees
    the same number of example gradients (see :func:`problem`).
    """
    _checks.learning_rates(lrs)
    settings = config(data, epochs, batch_size, channels, carry_over)
    if batched is None:
        batched = _preset(settings.data)["batched"]
    return engine.sweep(lambda seed: problem(seed, settings), lrs, seeds,
                        optimizer=optimizer, schedule=schedule, clip_norm=clip_norm, progress=progress,
                        desc="cnn sweep", threads=threads, batched=batched, device=device, **optimizer_kwargs)


def lr_range_test(seed: int = 0, *, start_lr: float = 1e-2, end_lr: float = 10.0, steps: int = 100,
                  rule: str = "valley", optimizer: str = "sgd", data="digits", batch_size: int | None = None,
                  channels=None, clip_norm=None, progress: bool = False, threads: int | None = 1,
                  device="cpu", **optimizer_kwargs) -> engine.RangeTest:
    """The LR range test (:mod:`lrcourse.engine.lr_range`) on a fresh :class:`SmallCNN`:
    ``steps`` mini-batches while α grows from ``start_lr`` to ``end_lr``.

    ``r.lrs`` and ``r.losses`` (smoothed training loss) trace the curve and
    ``r.suggestion`` is the α that ``rule`` reads off it (``r.suggestions`` has every rule's).

    The default range, 0.01 to 10, covers where SGD trains this CNN on digits (the range-test chapter's
    grid: from 0.01 to the cliff just above 1). fastai's 1e-7 to 10 spends 62 of its 100
    steps below 0.01, where one step changes nothing, and its valley starts in that noise.
    With another optimizer or dataset, pass a range that covers its α (Adam's lies lower).
    """
    settings = config(data, 1, batch_size, channels)
    return engine.lr_range_test(lambda seed: problem(seed, settings), seed=seed,
                                threads=threads, start_lr=start_lr, end_lr=end_lr, steps=steps, rule=rule,
                                optimizer=optimizer, clip_norm=clip_norm, progress=progress,
                                desc="cnn range test", device=device, **optimizer_kwargs)


# --------------------------------------------------------------------------- command line

def main(argv=None, prog: str = "python -m lrcourse.cases cnn") -> int:
    parser = cli.parser(prog, "Train the small CNN of the course at several learning rates and print the test "
                        "accuracies.", [1e-3, 1e-2, 1e-1, 1.0],
                        threads="torch CPU threads (default 1: fastest for the small model, and repeatable; "
                                "try more for cifar10)")
    parser.add_argument("--data", default="digits", choices=sorted(datasets.DATASETS),
                        help="digits (bundled with scikit-learn) or cifar10 (from $LRCOURSE_DATA)")
    parser.add_argument("--epochs", type=int, default=None, help="default: 10 (digits), 30 (cifar10)")
    parser.add_argument("--batch-size", type=int, default=None, help="default: 32 (digits), 128 (cifar10)")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--batched", dest="batched", action="store_const", const=True, default=None,
                     help="train all α at once (default for digits)")
    how.add_argument("--one-by-one", dest="batched", action="store_const", const=False,
                     help="train one α after another (default for cifar10)")
    args = parser.parse_args(argv)
    try:
        result = sweep(args.lrs, seeds=args.seeds, epochs=args.epochs, optimizer=args.optimizer, data=args.data,
                       batch_size=args.batch_size, progress=True, batched=args.batched,
                       threads=args.threads, device=args.device, **cli.optimizer_kwargs(args))
    except cli.ERRORS as err:
        return cli.fail(err)
    some = next(iter(result))
    print(f"\n{some.config['data']}, {some.config['epochs']} epochs, batch {some.config['batch_size']}, "
          f"{cli.optimizer_label(args)}")
    print(result.table())
    print(f"best α: {result.best():g}    ({result.seconds:.1f} s, "
          f"{'batched' if result.batched else 'one by one'})")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m lrcourse.cases.cnn"))
