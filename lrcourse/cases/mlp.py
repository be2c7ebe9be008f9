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

From a shell: ``python -m lrcourse.cases mlp --lrs 0.08,0.12,0.16``.
"""

from __future__ import annotations

import itertools
import math
import sys
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from lrcourse import _checks
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
# Per measurement: Lanczos, warm-started from the previous eigenvector, to a relative residual
# of 1e-4. Power iteration with 100 products at tol 1e-3 hit its cap in 19 of 30 measurements
# at α = 0.12 and 0.16, where the top eigenvalues are close (17.50, 17.17, 16.60), and read
# λ_max up to 2.4 % low; Lanczos converges there in a few dozen products.
EIGEN_METHOD, EIGEN_MAX_PRODUCTS, EIGEN_TOL = "lanczos", 500, 1e-4


class TanhMLP(nn.Module):
    """x → [linear → tanh] × 2 → linear → logits; PyTorch's default initialisation."""

    def __init__(self, inputs: int = 64, hidden: int = PRESETS["digits"]["hidden"], outputs: int = 10):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
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
    """Everything about a run except α and the seed (the optimizer is plain gradient descent)."""

    n_train: int
    hidden: int
    steps: int
    sharpness_every: int
    loss: str
    data: datasets.Dataset
    eval_every: int


def config(n_train: int | None = None, hidden: int | None = None, steps: int | None = None,
           sharpness_every: int | None = None, loss: str | None = None, data="digits") -> Config:
    """The settings of a run: the preset (:data:`PRESETS`), overridden by the arguments that are not None."""
    preset = PRESETS["digits"]

    def pick(value, name):
        return preset[name] if value is None else value

    n_train = _checks.positive_int(pick(n_train, "n_train"), "n_train")
    hidden = _checks.positive_int(pick(hidden, "hidden"), "hidden")
    steps = _checks.positive_int(pick(steps, "steps"), "steps")
    sharpness_every = _checks.positive_int(pick(sharpness_every, "sharpness_every"), "sharpness_every")
    loss = pick(loss, "loss")
    criterion(loss)
    dataset = datasets.load(data)
    subset(n_train, dataset)          # checks n_train against the data
    return Config(n_train, hidden, steps, sharpness_every, loss, dataset, min(preset["eval_every"], steps))


def problem(seed: int, config: Config) -> engine.Problem:
    """The engine's description of one run: every batch is the whole training subset.

    ``loss`` also measures λ_max before the steps 0, k, 2k, … (k = ``sharpness_every``)
    and appends it to ``logs["sharpness"]`` (NaN at the other steps), so that
    ``History.logs["sharpness"][i]`` is the sharpness at the weights of ``History.loss[i]``.
    ``logs["converged"]`` says whether each eigenvalue met its tolerance (1 or 0, NaN where not
    measured) and ``logs["products"]`` how many Hessian-vector products it cost.
    """
    n_train, hidden, steps, sharpness_every, loss, data, eval_every = config
    x, y, x_test, y_test = subset(n_train, data)
    num_classes = datasets.load(data).num_classes
    model = TanhMLP(x.shape[1], hidden, num_classes)
    fn = criterion(loss)
    params = list(model.parameters())
    logs = {"sharpness": [], "converged": [], "products": []}
    state = {"vector": None}
    power_seed = seed + 1_000_003        # the start of the first eigen-solve; not the global generator

    def training_loss(forward, batch):
        xb, yb = batch
        value = fn(forward(xb), yb)
        measure = len(logs["sharpness"]) % sharpness_every == 0
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
        return value

    def evaluate(forward):
        logits = forward(x_test)
        return ((logits.argmax(-1) == y_test) & torch.isfinite(logits).all(-1)).float().mean()

    floor = 0.5 if loss == "mse" else math.log(num_classes)      # predicting 0, or a uniform guess
    return engine.Problem(
        model=model, loss=training_loss, batches=itertools.repeat((x, y)), steps=steps, evaluate=evaluate,
        eval_every=eval_every, loss_floor=floor, metric_name="test accuracy",
        maximize=True, batchable=False, logs=logs,
        config={"case": "mlp", "data": getattr(data, "name", str(data)), "n_train": n_train, "hidden": hidden,
                "loss": loss, "sharpness_every": sharpness_every, "full_batch": True},
    )


def train(lr, seed: int = 0, *, steps: int | None = None, n_train: int | None = None, hidden: int | None = None,
          sharpness_every: int | None = None, loss: str | None = None, data="digits", progress: bool = False,
          threads: int | None = 1) -> engine.History:
    """Full-batch gradient descent at constant learning rate ``lr``; the sharpness is tracked.

    Returns a :class:`~lrcourse.engine.History`: ``h.loss`` per step,
    ``h.logs["sharpness"]`` (λ_max every ``sharpness_every`` steps, NaN in between),
    ``h.metric`` the test accuracy every 100 steps, ``h.diverged`` / ``h.diverged_at``.
    """
    _checks.learning_rate(lr)
    settings = config(n_train, hidden, steps, sharpness_every, loss, data)
    return engine.train(lambda seed: problem(seed, settings), lr, seed=seed, progress=progress,
                        desc=f"mlp α={lr:g}", threads=threads)


def sweep(lrs, seeds=(0,), *, steps: int | None = None, n_train: int | None = None, hidden: int | None = None,
          sharpness_every: int | None = None, loss: str | None = None, data="digits", progress: bool = False,
          threads: int | None = 1, workers: int = 1) -> engine.Sweep:
    """:func:`train` for every α in ``lrs`` and seed in ``seeds``, one run after another
    (``workers=2``: two at a time, in forked processes; the results are the same)."""
    _checks.learning_rates(lrs)
    settings = config(n_train, hidden, steps, sharpness_every, loss, data)
    return engine.sweep(lambda seed: problem(seed, settings), lrs, seeds, progress=progress, desc="mlp sweep",
                        threads=threads, batched=False, workers=workers)


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
                       sharpness_every=args.sharpness_every, loss=args.loss, progress=True, threads=args.threads)
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
