"""Figures of images: the data a model sees.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lrcourse import _checks
from lrcourse.figures.style import styled


def digit_mosaic(images_by_label, *, title: str, per_row: int = 8) -> go.Figure:
    """The first ``per_row`` images of each label side by side, one row per label, as one grey image.

    ``images_by_label`` maps a label (the row's tick) to an array of images, shape (n, h, w);
    a one-pixel blank gap separates the images.
    """
    if not images_by_label:
        raise ValueError(f"Invalid images_by_label value: {images_by_label!r} (expected a dict {{label: images}})")
    per_row = _checks.positive_int(per_row, "per_row")
    rows = []
    for label, images in images_by_label.items():
        images = np.asarray(images, dtype=float)
        if images.ndim != 3 or len(images) < per_row:
            raise ValueError(f"Invalid images for {label!r}: shape {images.shape} (expected at least {per_row} images)")
        h, w = images.shape[1:]
        row = np.full((h + 1, per_row * (w + 1)), np.nan)  # NaN: the blank gap
        for k, image in enumerate(images[:per_row]):
            row[:h, k * (w + 1):k * (w + 1) + w] = image
        rows.append(row)
    mosaic = np.vstack(rows)
    h = rows[0].shape[0]
    fig = go.Figure(go.Heatmap(z=mosaic, colorscale="Greys", showscale=False, hoverinfo="skip", name="pixels"))
    return styled(fig, title_text=title, height=120 + 60 * len(rows),
                  xaxis=dict(title=f"{per_row} training images per row", showticklabels=False, showgrid=False,
                             zeroline=False, constrain="domain"),
                  yaxis=dict(title="digit", autorange="reversed", scaleanchor="x", showgrid=False, zeroline=False,
                             tickvals=[(h - 1) / 2 + i * h for i in range(len(rows))],
                             ticktext=[str(label) for label in images_by_label]),
                  margin=dict(l=60, r=20, t=60, b=40))
