"""What training runs return, and the analysis of runs (numpy only).

:class:`History` is one run; :class:`Sweep` is runs over α × seeds.
"""

from lrcourse.results.history import History, Sweep

__all__ = ["History", "Sweep"]
