"""lrcourse: the companion package of an executable course on the learning rate.

The package is organised by the kind of thing each module is; each layer imports
only from the layers above it in this list (``tests/test_layers.py`` checks it):

* ``core``: optimizers, schedules, theory, objectives, descent, logistic regression (numpy only);
* ``results``: what runs return (:class:`~lrcourse.results.History`,
  :class:`~lrcourse.results.Sweep`) and the analysis of runs (numpy only);
* ``data``: the datasets (images, text), embedded or read from files the user points to;
* ``engine``: the torch training loop, batched sweeps, the range test, sharpness;
* ``cases``: the case studies (CNN, LSTM, RL agent, MLP) built on the engine;
* ``figures``: plotly figures, tables and explorers that draw results;
* ``interview``: the study guide and its flashcard deck.

``from lrcourse import optim, schedules, theory`` imports only numpy.
"""

from lrcourse.core import descent, logistic, objectives, optim, schedules, theory

__all__ = ["optim", "schedules", "theory", "objectives", "descent", "logistic"]
__version__ = "0.1.0"
