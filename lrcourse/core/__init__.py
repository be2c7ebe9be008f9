"""The numpy-only core: what a learner reads to see how the learning rate acts.

* :mod:`~lrcourse.core.optim`: SGD, momentum, Adagrad, RMSprop, Adam, AdamW as pure
  ``init``/``step`` pairs, step for step equal to their ``torch.optim`` twins;
* :mod:`~lrcourse.core.schedules`: learning-rate schedules, pure functions of the step;
* :mod:`~lrcourse.core.theory`: the quadratic's thresholds (2/L, 2/(L+μ)) and rates;
* :mod:`~lrcourse.core.objectives`: the loss landscapes of the chapters;
* :mod:`~lrcourse.core.descent`: many α at once on an objective, and what the paths did;
* :mod:`~lrcourse.core.logistic`: a tiny logistic-regression classifier trained by hand.

Nothing here imports torch, plotly, ipywidgets or another layer of lrcourse.
"""
