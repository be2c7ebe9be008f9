"""Case study: full-batch gradient descent on a small tanh MLP, with its sharpness tracked.

The edge of stability (Cohen et al., 2021). On a quadratic, gradient descent at
learning rate α diverges when the curvature exceeds 2/α. A network's curvature
changes as it trains: under gradient descent the *sharpness* λ_max (the top
eigenvalue of the Hessian of the training loss) tends to rise until it reaches
2/α, and then it hovers there while the loss keeps falling, unevenly.

The setup, small enough to measure λ_max often on a CPU:

* data: the first ``n_train`` training images of scikit-learn's digits, flattened
  to 64 standardised pixels (see :mod:`lrcourse.data.images`); nothing is downloaded;
* model: :class:`TanhMLP`, 64 → hidden → hidden → 10 with tanh, PyTorch's default
  initialisation;
* loss: ``"mse"``, ½‖f(x) − e_y‖² averaged over the images (e_y the one-hot target),
  or ``"cross_entropy"``;
* training: plain gradient descent, every step on all ``n_train`` images;
* every ``sharpness_every`` steps, λ_max of the training loss at the current weights,
  by the Lanczos method on Hessian-vector products (:mod:`lrcourse.engine.sharpness`),
  warm-started from the previous eigenvector; the metric is the test accuracy.

::

    h = mlp.train(0.1, seed=0)              # 1500 steps, about 3 s
    steps, lam = analysis.sharpness_curve(h)   # λ_max where it was measured
    analysis.plateau(h), 2 / 0.1               # it hovers at 2/α

The engine does the rest (:func:`lrcourse.engine.train`): a run whose loss is not
finite or exceeds 10 × max(first loss, ``loss_floor``) is stopped and reported
(``h.diverged``, ``h.diverged_at``), never plotted as if it had trained.

Width and μP. ``hidden`` is the width; ``parametrization="mup"`` applies the maximal-update
parametrization of Yang et al. (2022), Table 3 (:func:`lrcourse.core.scaling.mup_multipliers`),
relative to ``base_width``, where it equals the standard one (``"sp"``, PyTorch's default, today's
runs unchanged): the output layer's initial weights shrink as 1/√(width ratio) and each layer's α
gets its factor, for SGD or Adam. ``width_sweep`` trains a grid of α at several widths::

    s = mlp.width_sweep([1e-3, 1e-2], widths=(64, 256), parametrization="mup", optimizer="adam",
                        loss="cross_entropy", sharpness=False, steps=200)

``sharpness=False`` skips the sharpness; ``batch_size`` trains on mini-batches of reshuffled
epochs instead of the full batch; ``norm=True`` puts a LayerNorm (no affine part, no bias before
it) after each hidden linear layer, which makes those weights scale-invariant, and logs the norm
of the second one and the angle it turns per step (``logs["hidden_norm"]``, ``logs["hidden_angle"]``).

From a shell: ``python -m lrcourse.cases mlp --lrs 0.08,0.12,0.16``.
"""

from __future__ import annotations

import itertools
import math
import sys
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lrcourse import _checks
from lrcourse.core import scaling
from lrcourse.results import analysis
from lrcourse.data import images as datasets
from lrcourse import engine
from lrcourse.cases import _cli as cli
from lrcourse.engine.sharpness import top_hessian_eigenpair

PRESETS = {
    # The book's setup, on digits: the images, the width, the steps, how often λ_max and the test
    # accuracy are measured, and the loss.
    "digits": {"n_train": 512, "hidden": 64, "steps": 1500, "sharpness_every": 50, "loss": "mse",
               "eval_every": 100},
}
LOSSES = ("mse", "cross_entropy")
PARAMETRIZATIONS = ("sp", "mup")
# Per measurement: Lanczos, warm-started from the previous eigenvector, to a relative residual
# of 1e-4. Power iteration with 100 products at tol 1e-3 hit its cap in 19 of 30 measurements
# at α = 0.12 and 0.16, where the top eigenvalues are close (17.50, 17.17, 16.60), and read
# λ_max up to 2.4 % low; Lanczos converges there in a few dozen products.
EIGEN_METHOD, EIGEN_MAX_PRODUCTS, EIGEN_TOL = "lanczos", 500, 1e-4


class TanhMLP(nn.Module):
    """x → [linear → tanh] × 2 → linear → logits; PyTorch's default initialisation.

    ``norm=True``: x → [linear (no bias) → LayerNorm (no affine) → tanh] × 2 → linear, so the
    two hidden linear layers are scale-invariant: the output does not change when their weights
    are multiplied by a positive number."""

    def __init__(self, inputs: int = 64, hidden: int = PRESETS["digits"]["hidden"], outputs: int = 10,
                 norm: bool = False):
        super().__init__()
        if not norm:
            self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                     nn.Linear(hidden, outputs))
        else:
            self.net = nn.Sequential(nn.Linear(inputs, hidden, bias=False), nn.LayerNorm(hidden, elementwise_affine=False),
                                     nn.Tanh(), nn.Linear(hidden, hidden, bias=False),
                                     nn.LayerNorm(hidden, elementwise_affine=False), nn.Tanh(),
                                     nn.Linear(hidden, outputs))

    def forward(self, x):
        return self.net(x.flatten(1))


def criterion(name: str):
    """The training loss by name: ``"mse"`` is ½‖out − e_y‖² averaged over the batch."""
    if _checks.one_of(name, "loss", LOSSES) == "mse":
        def mse(out, y):
            return 0.5 * (out - F.one_hot(y, out.shape[-1]).to(out.dtype)).pow(2).sum(-1).mean()
        return mse
    return F.cross_entropy


def subset(n_train: int, data="digits"):
    """The first ``n_train`` training images (flattened, standardised) and labels, and the test set."""
    dataset = datasets.load(data)
    n_train = _checks.positive_int(n_train, "n_train")
    if n_train > len(dataset.y_train):
        raise ValueError(f"Invalid n_train value: {n_train} (larger than the {len(dataset.y_train)} "
                         f"training images of {dataset.name})")
    x = torch.tensor(dataset.scale(dataset.x_train[:n_train])).flatten(1)
    y = torch.tensor(dataset.y_train[:n_train])
    x_test = torch.tensor(dataset.scale(dataset.x_test)).flatten(1)
    y_test = torch.tensor(dataset.y_test)
    return x, y, x_test, y_test


class Config(NamedTuple):
    """Everything about a run except α, the seed and the optimizer (plain gradient descent by default)."""

    n_train: int
    hidden: int
    steps: int
    sharpness_every: int
    loss: str
    data: datasets.Dataset
    eval_every: int
    parametrization: str = "sp"
    base_width: int = PRESETS["digits"]["hidden"]
    batch_size: int | None = None
    norm: bool = False
    sharpness: bool = True


def config(n_train: int | None = None, hidden: int | None = None, steps: int | None = None,
           sharpness_every: int | None = None, loss: str | None = None, data="digits", *,
           parametrization: str = "sp", base_width: int | None = None, batch_size: int | None = None,
           norm: bool = False, sharpness: bool = True) -> Config:
    """The settings of a run: the preset (:data:`PRESETS`), overridden by the arguments that are not None.

    ``sharpness=False`` measures no sharpness; ``batch_size=None`` is the full batch."""
    preset = PRESETS["digits"]

    def pick(value, name):
        return preset[name] if value is None else value

    n_train = _checks.positive_int(pick(n_train, "n_train"), "n_train")
    hidden = _checks.positive_int(pick(hidden, "hidden"), "hidden")
    steps = _checks.positive_int(pick(steps, "steps"), "steps")
    sharpness_every = _checks.positive_int(pick(sharpness_every, "sharpness_every"), "sharpness_every")
    loss = pick(loss, "loss")
    criterion(loss)
    parametrization = _checks.one_of(parametrization, "parametrization", PARAMETRIZATIONS)
    base_width = _checks.positive_int(pick(base_width, "hidden"), "base_width")
    if batch_size is not None:
        batch_size = _checks.positive_int(batch_size, "batch_size")
        if batch_size > n_train:
            raise ValueError(f"Invalid batch_size value: {batch_size} (larger than n_train = {n_train})")
    for name, flag in (("norm", norm), ("sharpness", sharpness)):
        if not isinstance(flag, bool):
            raise ValueError(f"Invalid {name} value: {flag!r} (expected True or False)")
    dataset = datasets.load(data)
    subset(n_train, dataset)          # checks n_train against the data
    return Config(n_train, hidden, steps, sharpness_every, loss, dataset, min(preset["eval_every"], steps),
                  parametrization, base_width, batch_size, norm, sharpness)


def layer_kinds(model: TanhMLP) -> dict:
    """Each parameter's name → (kind, fan_in, fan_out) in the sense of μP's Table 3: ``"input"``,
    ``"hidden"``, ``"output"`` weights, or ``"bias"`` (fan_in 1, fan_out its size)."""
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    kinds = {}
    for i, (name, layer) in enumerate(linears):
        kind = "input" if i == 0 else "output" if i == len(linears) - 1 else "hidden"
        kinds[f"{name}.weight"] = (kind, layer.in_features, layer.out_features)
        if layer.bias is not None:
            kinds[f"{name}.bias"] = ("bias", 1, layer.out_features)
    return kinds


def layer_scalings(hidden: int, base_width: int, optimizer: str = "sgd", *, inputs: int = 64,
                   outputs: int = 10, norm: bool = False) -> dict:
    """μP's multipliers for every parameter of a :class:`TanhMLP` of width ``hidden``, relative to
    the standard parametrization and to the same network at width ``base_width``:
    name → :class:`lrcourse.core.scaling.LayerScaling` (initial std factor, α factor)."""
    hidden, base_width = _checks.positive_int(hidden, "hidden"), _checks.positive_int(base_width, "base_width")
    with torch.device("meta"):               # shapes only, no weights drawn
        model, base = TanhMLP(inputs, hidden, outputs, norm), TanhMLP(inputs, base_width, outputs, norm)
    base_kinds = layer_kinds(base)
    return {name: scaling.mup_multipliers(kind, fan_in, fan_out, *base_kinds[name][1:], optimizer=optimizer)
            for name, (kind, fan_in, fan_out) in layer_kinds(model).items()}


def _angle(a: torch.Tensor, b: torch.Tensor) -> float:
    cos = (a * b).sum() / (a.norm() * b.norm())
    return math.acos(max(-1.0, min(1.0, cos.item())))


def problem(seed: int, config: Config, optimizer: str = "sgd") -> engine.Problem:
    """The engine's description of one run: every batch is the whole training subset (or, with
    ``batch_size``, a mini-batch of a fresh permutation each epoch, the last incomplete one dropped).

    ``loss`` also measures λ_max before the steps 0, k, 2k, … (k = ``sharpness_every``)
    and appends it to ``logs["sharpness"]`` (NaN at the other steps), so that
    ``History.logs["sharpness"][i]`` is the sharpness at the weights of ``History.loss[i]``.
    ``logs["converged"]`` says whether each eigenvalue met its tolerance (1 or 0, NaN where not
    measured) and ``logs["products"]`` how many Hessian-vector products it cost.
    Under μP (``config.parametrization == "mup"``) the output weights are rescaled after the
    default initialisation and the engine gets each parameter's factor of α for ``optimizer``.
    """
    n_train, hidden, steps, sharpness_every, loss, data, eval_every = config[:7]
    x, y, x_test, y_test = subset(n_train, data)
    num_classes = datasets.load(data).num_classes
    model = TanhMLP(x.shape[1], hidden, num_classes, config.norm)
    lr_scales = None
    if config.parametrization == "mup":
        scalings = layer_scalings(hidden, config.base_width, optimizer, inputs=x.shape[1], outputs=num_classes,
                                  norm=config.norm)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.mul_(scalings[name].init_std)
        lr_scales = {name: s.lr for name, s in scalings.items()}
    fn = criterion(loss)
    params = list(model.parameters())
    logs = {"sharpness": [], "converged": [], "products": []}
    if config.norm:
        logs.update(hidden_norm=[], hidden_angle=[])
    state = {"vector": None, "previous": None}
    power_seed = seed + 1_000_003        # the start of the first eigen-solve; not the global generator

    def training_loss(forward, batch):
        xb, yb = batch
        value = fn(forward(xb), yb)
        measure = config.sharpness and len(logs["sharpness"]) % sharpness_every == 0
        if measure and math.isfinite(value.item()):
            pair = top_hessian_eigenpair(fn(forward(xb), yb), params, iters=EIGEN_MAX_PRODUCTS, tol=EIGEN_TOL,
                                         init=state["vector"], seed=power_seed, method=EIGEN_METHOD)
            state["vector"] = pair.vector
            logs["sharpness"].append(pair.value)
            logs["converged"].append(float(pair.converged))
            logs["products"].append(float(pair.products))
        else:
            logs["sharpness"].append(math.nan)
            logs["converged"].append(math.nan)
            logs["products"].append(math.nan)
        if config.norm:                  # the second hidden layer's weights, before this step
            weight = forward.net[3].weight.detach().clone()
            logs["hidden_norm"].append(weight.norm().item())
            previous = state["previous"]
            logs["hidden_angle"].append(math.nan if previous is None else _angle(weight, previous))
            state["previous"] = weight
        return value

    def evaluate(forward):
        logits = forward(x_test)
        return ((logits.argmax(-1) == y_test) & torch.isfinite(logits).all(-1)).float().mean()

    if config.batch_size is None:
        batches = itertools.repeat((x, y))
    else:
        batches = _minibatches(x, y, config.batch_size, torch.Generator().manual_seed(seed))
    floor = 0.5 if loss == "mse" else math.log(num_classes)      # predicting 0, or a uniform guess
    extra = {} if config.parametrization == "sp" else {"parametrization": "mup", "base_width": config.base_width}
    if config.batch_size is not None:
        extra["batch_size"] = config.batch_size
    if config.norm:
        extra["norm"] = True
    return engine.Problem(
        model=model, loss=training_loss, batches=batches, steps=steps, evaluate=evaluate,
        eval_every=eval_every, loss_floor=floor, metric_name="test accuracy",
        maximize=True, batchable=False, logs=logs, lr_scales=lr_scales,
        config={"case": "mlp", "data": getattr(data, "name", str(data)), "n_train": n_train, "hidden": hidden,
                "loss": loss, "sharpness_every": sharpness_every, "full_batch": config.batch_size is None,
                **extra},
    )


def _minibatches(x, y, batch_size: int, generator: torch.Generator):
    while True:
        permutation = torch.randperm(len(y), generator=generator)
        for i in range(len(y) // batch_size):
            index = permutation[i * batch_size:(i + 1) * batch_size]
            yield x[index], y[index]


def _check_optimizer(optimizer, parametrization: str) -> str:
    if parametrization == "mup":
        key = optimizer.lower() if isinstance(optimizer, str) else optimizer
        _checks.one_of(key, "optimizer", scaling.MUP_OPTIMIZERS)
    return optimizer


def train(lr, seed: int = 0, *, steps: int | None = None, n_train: int | None = None, hidden: int | None = None,
          sharpness_every: int | None = None, loss: str | None = None, data="digits", progress: bool = False,
          threads: int | None = 1, parametrization: str = "sp", base_width: int | None = None,
          optimizer: str = "sgd", batch_size: int | None = None, norm: bool = False, sharpness: bool = True,
          device="cpu", **optimizer_kwargs) -> engine.History:
    """Gradient descent at constant learning rate ``lr`` (full batch unless ``batch_size``); the
    sharpness is tracked (unless ``sharpness=False``).

    Returns a :class:`~lrcourse.engine.History`: ``h.loss`` per step,
    ``h.logs["sharpness"]`` (λ_max every ``sharpness_every`` steps, NaN in between),
    ``h.metric`` the test accuracy every 100 steps, ``h.diverged`` / ``h.diverged_at``.
    ``parametrization="mup"`` with ``base_width``: μP (see the module docstring), for
    ``optimizer`` ``"sgd"``, ``"adam"`` or ``"adamw"``; ``optimizer_kwargs`` go to torch.optim.
    ``device``: ``"cpu"``, ``"cuda"``, ``"mps"`` or ``"auto"`` (see :func:`lrcourse.engine.train`).
    """
    _checks.learning_rate(lr)
    settings = config(n_train, hidden, steps, sharpness_every, loss, data, parametrization=parametrization,
                      base_width=base_width, batch_size=batch_size, norm=norm, sharpness=sharpness)
    _check_optimizer(optimizer, settings.parametrization)
    return engine.train(lambda seed: problem(seed, settings, optimizer.lower()), lr, seed=seed, progress=progress,
                        desc=f"mlp α={lr:g}", threads=threads, optimizer=optimizer, device=device,
                        **optimizer_kwargs)


def sweep(lrs, seeds=(0,), *, steps: int | None = None, n_train: int | None = None, hidden: int | None = None,
          sharpness_every: int | None = None, loss: str | None = None, data="digits", progress: bool = False,
          threads: int | None = 1, workers: int = 1, parametrization: str = "sp", base_width: int | None = None,
          optimizer: str = "sgd", batch_size: int | None = None, norm: bool = False, sharpness: bool = True,
          device="cpu", **optimizer_kwargs) -> engine.Sweep:
    """:func:`train` for every α in ``lrs`` and seed in ``seeds``, one run after another
    (``workers=2``: two at a time, in forked processes; the results are the same)."""
    _checks.learning_rates(lrs)
    settings = config(n_train, hidden, steps, sharpness_every, loss, data, parametrization=parametrization,
                      base_width=base_width, batch_size=batch_size, norm=norm, sharpness=sharpness)
    _check_optimizer(optimizer, settings.parametrization)
    return engine.sweep(lambda seed: problem(seed, settings, optimizer.lower()), lrs, seeds, progress=progress,
                        desc="mlp sweep", threads=threads, batched=False, workers=workers, optimizer=optimizer,
                        device=device, **optimizer_kwargs)


def width_sweep(lrs, widths, seeds=(0,), **kwargs) -> dict:
    """:func:`sweep` at every width in ``widths`` (the ``hidden`` size): width → Sweep.
    ``kwargs`` go to :func:`sweep` (``parametrization``, ``base_width``, ``optimizer``, …)."""
    widths = [_checks.positive_int(w, "widths") for w in np.atleast_1d(widths).tolist()]
    if not widths or len(set(widths)) != len(widths):
        raise ValueError(f"Invalid widths: {widths!r} (expected distinct positive integers)")
    if "hidden" in kwargs:
        raise ValueError("Invalid hidden: pass the widths instead")
    return {w: sweep(lrs, seeds, hidden=w, **kwargs) for w in widths}


# --------------------------------------------------------------------------- command line

def main(argv=None, prog: str = "python -m lrcourse.cases mlp") -> int:
    parser = cli.parser(prog, "Full-batch gradient descent on a small tanh MLP: the sharpness (top Hessian "
                        "eigenvalue) against 2/α at each learning rate.", [0.08, 0.12, 0.16], optimizer=None)
    preset = PRESETS["digits"]
    parser.add_argument("--steps", type=int, default=preset["steps"])
    parser.add_argument("--n-train", type=int, default=preset["n_train"], help="training images (digits)")
    parser.add_argument("--hidden", type=int, default=preset["hidden"])
    parser.add_argument("--loss", default=preset["loss"], choices=LOSSES)
    parser.add_argument("--sharpness-every", type=int, default=preset["sharpness_every"])
    args = parser.parse_args(argv)
    try:
        result = sweep(args.lrs, seeds=args.seeds, steps=args.steps, n_train=args.n_train, hidden=args.hidden,
                       sharpness_every=args.sharpness_every, loss=args.loss, progress=True, threads=args.threads,
                       device=args.device)
    except cli.ERRORS as err:
        return cli.fail(err)
    print(f"\n{'α':>8} {'seed':>5} {'2/α':>8} {'first λ_max':>12} {'plateau':>8} {'final loss':>11}  outcome")
    for h in result:
        lr = h.config["lr"]
        _, lam = analysis.sharpness_curve(h)
        outcome = f"diverged at step {h.diverged_at}" if h.diverged else f"test accuracy {h.final:.3f}"
        first = f"{lam[0]:.3g}" if lam.size else "–"
        print(f"{lr:8.3g} {h.config['seed']:5d} {2 / lr:8.3g} {first:>12} {analysis.plateau(h):8.3g} "
              f"{h.loss[-1]:11.3g}  {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m lrcourse.cases.mlp"))
