"""Which minimum gradient descent ends in: deep or shallow, flat or sharp (chapter 2, plotly).

A 1-D loss with two minima separates two properties a minimum can have: its *depth*
(the loss there) and its *sharpness* λ = f''(w*), the Hessian's largest eigenvalue.
Near w* the loss is a parabola of curvature λ, so gradient descent can settle there only
if α < 2/λ (Wu, Ma & E 2018 call this the minimum's linear stability). The functions here
run many starts at many α and count where they end:

* :func:`minima_summary`: each minimum's depth, sharpness λ and limit 2/λ;
* :func:`selection`: the runs, as a :class:`Selection`; its :meth:`Selection.table` and
  :func:`selection_figure` show the share of starts ending in the flat and the sharp minimum;
* :func:`home_table`: on one well, how many starts end in their own valley or hop;
  :func:`landing_groups`: from one start, where each α ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from lrcourse import _checks, theory
from lrcourse.figures import final_positions, landing, landing_labels, styled
from lrcourse.objectives import Objective, curvature

ROLES = ("flat", "sharp", "not settled", "diverged")
ROLE_COLORS = {"flat": "#2ca02c", "sharp": "#ff7f0e"}
WELL_DASHES = ("solid", "dash", "dot", "dashdot")


def _two_minima(objective: Objective) -> np.ndarray:
    if objective.dim != 1 or len(objective.minimizers) != 2:
        raise ValueError(f"Invalid objective: {objective.name} (expected a 1-D loss with exactly two minima)")
    return curvature(objective, objective.minimizers[:, 0])


def _check_wells(wells: Mapping[str, Objective]) -> dict[str, np.ndarray]:
    if not isinstance(wells, Mapping) or not wells:
        raise ValueError(f"Invalid wells value: {wells!r} (expected a dict {{name: objective}})")
    return {name: _two_minima(objective) for name, objective in wells.items()}


def minima_summary(wells: Mapping[str, Objective]) -> str:
    """One line per minimum of each well: deep or shallow, f(w*), λ = f''(w*), flat or sharp, 2/λ."""
    lams = _check_wells(wells)
    lines = []
    for name, objective in wells.items():
        lines.append(f"{name}:")
        values = objective.value(objective.minimizers)
        for i, (w, f, lam) in enumerate(zip(objective.minimizers[:, 0], values, lams[name])):
            depth = "deep   " if i == 0 else "shallow"  # minimizers list the global one first
            kind = "flat " if lam == lams[name].min() else "sharp"
            lines.append(f"  {depth} minimum at w = {w:+.2f}: f = {f:.3f}, "
                         f"λ = {lam:5.2f} ({kind}), 2/λ = {theory.critical_lr(lam):#.3g}".replace("-", "−"))
    return "\n".join(lines)


@dataclass(frozen=True)
class Selection:
    """Where gradient descent ended on each well, from every start, at every α.

    ``roles[name]`` has shape (n_starts, n_α) and holds indices into :data:`ROLES`:
    0 the flat minimum, 1 the sharp one, 2 not settled (within ``tol`` of neither after
    ``steps`` steps), 3 diverged. ``sharpness[name]`` is λ of (flat, sharp).
    """

    wells: Mapping[str, Objective] = field(repr=False)
    starts: np.ndarray = field(repr=False)
    lrs: np.ndarray
    steps: int
    roles: dict = field(repr=False)
    sharpness: dict

    def shares(self, name: str) -> dict[str, np.ndarray]:
        """Per α, the percentage of starts that ended in each role (flat, sharp, not settled, diverged)."""
        if name not in self.roles:
            raise ValueError(f"Invalid well name: {name!r} (expected one of {list(self.roles)})")
        return {role: 100 * np.mean(self.roles[name] == k, axis=0) for k, role in enumerate(ROLES)}

    def last_settled(self, name: str, role: str) -> float:
        """The largest α at which at least one start settled in the ``role`` ("flat"/"sharp") minimum."""
        if role not in ROLES[:2]:
            raise ValueError(f"Invalid role: {role!r} (expected 'flat' or 'sharp')")
        settled = self.shares(name)[role] > 0
        return float(self.lrs[settled].max()) if settled.any() else float("nan")

    def table(self) -> str:
        """Per α, each well's share of starts ending in its flat minimum, its sharp one, or neither."""
        names = list(self.roles)
        head = "".join(f" | {name[:23]:^23}" for name in names)
        sub = f" | {'flat':>6} {'sharp':>7} {'neither':>8}" * len(names)
        rows = [f"{'α':>7}{head}", f"{'':>7}{sub}"]
        shares = [self.shares(name) for name in names]
        for j, lr in enumerate(self.lrs):
            cells = "".join(f" | {s['flat'][j]:5.0f}% {s['sharp'][j]:6.0f}% {s['not settled'][j] + s['diverged'][j]:7.0f}%"
                            for s in shares)
            rows.append(f"{lr:7.3g}{cells}")
        rows.append(f"({len(self.starts)} starts from {self.starts.min():g} to {self.starts.max():g}, "
                    f"{self.steps} steps; 'neither' = still bouncing or diverged)".replace("-", "−"))
        return "\n".join(rows)

    def limits(self) -> str:
        """For each well and minimum: the largest α of the grid that settled there, the next α of
        the grid (where none did), and 2/λ."""
        lines = []
        for name in self.roles:
            for k, role in enumerate(ROLES[:2]):
                last = self.last_settled(name, role)
                above = self.lrs[self.lrs > last]
                after = f", none at {above.min():.4f}" if above.size else ""
                lines.append(f"{name}, {role} minimum: settled up to α = {last:.4f}{after}; "
                             f"2/λ = {theory.critical_lr(self.sharpness[name][k]):.4f}")
        return "\n".join(lines)


def selection(wells: Mapping[str, Objective], starts, lrs, *, steps: int = 1000, tol: float = 1e-3) -> Selection:
    """Run gradient descent on each well from every start at every α and record where it ends.

    ``wells`` maps a name to a 1-D objective with two minima (for example two
    ``objectives.gaussian_wells``). Returns a :class:`Selection`.
    """
    lams = _check_wells(wells)
    starts = np.asarray(starts, dtype=float).reshape(-1)
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    if starts.size == 0 or not np.all(np.isfinite(starts)):
        raise ValueError(f"Invalid starts value: {starts.tolist()!r} (expected finite numbers)")
    if lrs.size == 0:
        raise ValueError("Invalid lrs value: [] (expected at least one learning rate)")
    _checks.positive_int(steps, "steps")
    roles, sharpness = {}, {}
    for name, objective in wells.items():
        codes = landing(final_positions(objective, starts, lrs, steps), objective.minimizers, tol)
        flat = int(np.argmin(lams[name]))
        role_of_code = np.array([0 if i == flat else 1 for i in range(2)])  # minimizer index -> 0 flat, 1 sharp
        roles[name] = np.where(codes < 2, role_of_code[np.minimum(codes, 1)], codes)
        sharpness[name] = (float(lams[name][flat]), float(lams[name][1 - flat]))
    return Selection(dict(wells), starts, lrs, int(steps), roles, sharpness)


def selection_figure(result: Selection) -> go.Figure:
    """% of starts ending in the flat (green) and the sharp (orange) minimum, or neither (grey), against α;
    one dash style per well.

    Dotted verticals mark α = 2/λ of each minimum: above it no run can settle there.
    """
    fig = go.Figure()
    for w, name in enumerate(result.roles):
        shares = result.shares(name)
        dash = WELL_DASHES[w % len(WELL_DASHES)]
        for role in ROLES[:2]:
            fig.add_trace(go.Scatter(x=result.lrs, y=shares[role], mode="lines", name=f"{name}: ends in the {role} minimum",
                                     line=dict(color=ROLE_COLORS[role], dash=dash, width=2.5)))
        fig.add_trace(go.Scatter(x=result.lrs, y=shares["not settled"] + shares["diverged"], mode="lines",
                                 name=f"{name}: neither (bouncing or diverged)", line=dict(color="gray", dash=dash, width=1.5)))
    labels = {}
    for name in result.roles:
        for role, lam in zip(ROLES[:2], result.sharpness[name]):
            labels.setdefault(f"2/λ of the {role} minimum", []).append(theory.critical_lr(lam))
    for text, limits in labels.items():  # traces, not shapes: on a log axis their x is plain α
        for k, limit in enumerate(limits):
            fig.add_trace(go.Scatter(x=[limit, limit], y=[0, 100], mode="lines+text", showlegend=False,
                                     text=["", f"{text} ≈ {np.mean(limits):.3g}" if k == 0 else ""],
                                     textposition="top left", textfont=dict(size=11), hoverinfo="skip",
                                     name=text, line=dict(color="black", dash="dot", width=1)))
    return styled(fig, title_text=f"Where gradient descent ends: flat or sharp, deep or shallow ({result.steps} steps)",
                  xaxis=dict(title="learning rate α (log scale)", type="log"),
                  yaxis=dict(title="% of starts ending there", range=[-3, 110]), height=480,
                  legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))


def home_table(objective: Objective, starts, lrs, *, steps: int = 1000, tol: float = 1e-3) -> str:
    """On a 1-D loss with two minima, per α: % of starts ending in their own valley's minimum ("home"),
    hopping to the other minimum (each way), not settled, diverged, and ending in the global minimum.

    A start's valley is the side of the barrier (the highest point between the minima) it starts on.
    """
    _two_minima(objective)
    starts = np.asarray(starts, dtype=float).reshape(-1)
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    minima = objective.minimizers[:, 0]
    between = np.linspace(minima.min(), minima.max(), 20001)
    barrier = between[np.argmax(objective.value(between[:, None]))]
    ends = landing(final_positions(objective, starts, lrs, steps), objective.minimizers, tol)
    on_global_side = (starts < barrier) == (minima[0] < barrier)
    home = np.where(on_global_side, 0, 1)[:, None]  # 0 global, 1 local

    def share(mask):
        return np.mean(mask, axis=0) * 100

    columns = [share(ends == home), share((home == 1) & (ends == 0)), share((home == 0) & (ends == 1)),
               share(ends == 2), share(ends == 3), share(ends == 0)]
    rows = ["    α  home  local→  global→  not settled  diverged | ends in",
            "               global   local                       |  global"]
    rows += ["{:5.2f} {:4.0f}% {:6.0f}% {:7.0f}% {:11.0f}% {:8.0f}% |{:7.0f}%".format(lr, *values)
             for lr, *values in zip(lrs, *columns)]
    rows.append(f"(barrier at w = {barrier:.3f}; {len(starts)} starts, {steps} steps)".replace("-", "−"))
    return "\n".join(rows)


def landing_groups(objective: Objective, start: float, lrs, *, steps: int = 1000, tol: float = 1e-3) -> str:
    """From one ``start``, where gradient descent ends at each α, with consecutive α that end
    the same way grouped into one row (first α, last α, how many, where)."""
    lrs = np.asarray(lrs, dtype=float).reshape(-1)
    ends = landing(final_positions(objective, [start], lrs, steps)[0], objective.minimizers, tol)
    labels = landing_labels(objective)
    rows = ["α from     to   runs   ends in"]
    for code, group in groupby(zip(lrs, ends), key=lambda pair: pair[1]):
        group = [lr for lr, _ in group]
        rows.append(f"{group[0]:6.3f} {group[-1]:6.3f} {len(group):6d}   {labels[code]}")
    return "\n".join(rows)
