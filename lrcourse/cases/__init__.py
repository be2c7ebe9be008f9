"""The case studies: each trains a real model at many learning rates through :mod:`lrcourse.engine`.

``from lrcourse.cases import cnn`` (and ``lstm``, ``rl``). Every case module has
the same shape: ``train(lr, seed=0, ...) -> History`` and
``sweep(lrs, seeds=(0, 1, 2), ...) -> Sweep``; it supplies only its data, its
model and its metric, and the engine does the rest.
"""
