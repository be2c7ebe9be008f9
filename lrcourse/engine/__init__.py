"""The torch engine shared by the case studies (CNN, LSTM, RL, MLP).

A case study builds a :class:`Problem` for a seed (model, loss, batches, metric);
the engine trains it:

* :func:`train` — one run at one learning rate (or schedule) with any
  ``torch.optim`` optimizer by name, divergence detection, gradient clipping,
  a ``tqdm`` progress bar, timing and seeding; returns a :class:`History`;
* :func:`sweep` — many runs over α × seeds, batched across α with
  ``torch.func.vmap`` where the model allows it; returns a :class:`Sweep`;
* :func:`lr_range_test` — the learning-rate range test (α grows exponentially over a
  short run: the loop of :func:`train` with a stop rule, the weights restored after) and
  the rules that suggest an α from its curve; returns a :class:`RangeTest`;
* :func:`top_hessian_eigenvalue` — the sharpness of a loss (power iteration on
  Hessian-vector products, :mod:`lrcourse.engine.sharpness`);
* :func:`to_torch` — a torch scheduler that follows any schedule of the core;
* :func:`repeatable` — the seeding and thread settings that make runs repeatable;
* ``device=`` on all of them — ``"cpu"``, ``"cuda"``, ``"mps"`` or ``"auto"``
  (:mod:`lrcourse.engine.devices`); :func:`train` also checkpoints and resumes a run
  exactly (``checkpoint=``, :mod:`lrcourse.engine.checkpoints`) and reports each
  evaluation as it comes (``on_eval=``).

This layer imports torch, numpy and tqdm; never matplotlib, plotly or ipywidgets.
"""

from lrcourse.engine.batched import sweep
from lrcourse.results.history import History, Sweep
from lrcourse.engine.loop import DIVERGENCE_FACTOR, Problem, repeatable, train
from lrcourse.engine.optimizers import OPTIMIZERS, optimizer_class
from lrcourse.engine.lr_range import RangeTest, lr_range_test, range_test
from lrcourse.engine.scheduling import to_torch
from lrcourse.engine.sharpness import top_hessian_eigenvalue

__all__ = ["Problem", "History", "Sweep", "train", "sweep", "repeatable", "OPTIMIZERS", "optimizer_class",
           "DIVERGENCE_FACTOR", "RangeTest", "range_test", "lr_range_test",
           "top_hessian_eigenvalue", "to_torch"]
