"""lrcourse: the companion package of an executable course on the learning rate.

Layers (imports only point down):

* core, numpy only: :mod:`lrcourse.optim`, :mod:`lrcourse.schedules`,
  :mod:`lrcourse.theory`, :mod:`lrcourse.objectives`, :mod:`lrcourse.descent`;
* engine, torch: training loops, data, sweeps (``lrcourse.engine``, ``lrcourse.cases``);
* widgets and figures: :mod:`lrcourse.explorer`, :mod:`lrcourse.figures`.

``from lrcourse import optim, schedules, theory`` imports only numpy.
"""

from lrcourse import objectives, optim, schedules, theory

__all__ = ["optim", "schedules", "theory", "objectives"]
__version__ = "0.1.0"
