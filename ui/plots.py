"""Figure helpers shared by the pages: image axes and tiles of images laid out on a grid.

Pure functions of NumPy arrays and Plotly figures; the pages' own figure modules (explorer,
draw, training, diagram) build on them.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go


def image_axes(fig: go.Figure) -> None:
    """Square pixels, row 0 at the top, no ticks, on every subplot of ``fig``."""
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed", constrain="domain")
    for axis in fig.layout:
        if axis.startswith("yaxis"):
            fig.layout[axis].scaleanchor = "x" + axis.removeprefix("yaxis")
            fig.layout[axis].scaleratio = 1


def tile_grid(tiles: np.ndarray, cols: int, gap: int = 1, above: int = 0, below: int = 0) -> np.ndarray:
    """Images (n, h, w) on a grid of ``cols`` columns, with NaN between and around them.

    Each cell holds ``above`` blank rows, the image, ``below`` blank rows (room for a caption), and
    cells are ``gap`` apart. uint8 tiles are scaled to [0, 1]. Returns float32 of shape
    (rows * (above + h + below + gap) - gap, cols * (w + gap) - gap), rows = ceil(n / cols).
    """
    tiles = np.asarray(tiles)
    n, h, w = tiles.shape
    cols = max(1, min(int(cols), n)) if n else 1
    rows = max(1, math.ceil(n / cols))
    cell_h, cell_w = above + h + below + gap, w + gap
    out = np.full((rows * cell_h - gap, cols * cell_w - gap), np.nan, dtype=np.float32)
    scale = np.float32(1 / 255) if tiles.dtype == np.uint8 else np.float32(1)
    for i in range(n):
        r, c = divmod(i, cols)
        top = r * cell_h + above
        out[top : top + h, c * cell_w : c * cell_w + w] = tiles[i].astype(np.float32) * scale
    return out
