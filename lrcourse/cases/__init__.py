"""The case studies: each trains a real model at many learning rates through :mod:`lrcourse.engine`.

``from lrcourse.cases import cnn`` (and ``lstm``, ``rl``, ``mlp``, ``gpt``). Every case module has
the same shape, and supplies only its data, its model and its metric; the engine does the rest:

* ``PRESETS``: the defaults by name (a data set, a text level, a kind of environment);
* ``Config`` and ``config(...)``: everything about a run except α, the seed and the
  optimizer, from a preset and the arguments that are not None, checked;
* ``problem(seed, config) -> engine.Problem``: the model, batches, loss and metric of one run;
* ``train(lr, seed=0, ...) -> History``, ``sweep(lrs, seeds=..., ...) -> Sweep`` and, where it
  makes sense, ``lr_range_test(seed=0, ...) -> RangeTest``;
* ``main(argv, prog)``: its command line, ``python -m lrcourse.cases CASE [options]``
  (the shared options are in :mod:`lrcourse.cases._cli`).
"""
