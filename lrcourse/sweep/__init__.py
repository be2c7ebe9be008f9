"""Full-scale sweeps: α × seed grids of any case study, here or on Ray Tune, with results files.

``python -m lrcourse.sweep --case CASE --lrs … --seeds … --backend {local,ray} --out FILE``
(:mod:`lrcourse.sweep.command`) runs every (α, seed) as one trial of the case's
``train`` (:mod:`lrcourse.sweep.trials`), locally or on Ray (:mod:`lrcourse.sweep.runner`),
checkpointing each run so that a stopped sweep resumes with the same command, and
writes every run's curve with its provenance (:mod:`lrcourse.sweep.provenance`) to a
results file that chapters read with :func:`lrcourse.results.files.load_results`.

This is the top layer: it imports the cases and the engine, never the figures.
"""

from lrcourse.sweep.provenance import check_prefix
from lrcourse.sweep.trials import Spec, run_trial

__all__ = ["Spec", "check_prefix", "run_trial"]
