"""Where the network diagram puts things, in figure units (pure NumPy).

A diagram is laid out along two directions: depth (from the input to the outputs) and position
(along a column, centred on 0). ``Layout`` turns (depth, position) into figure coordinates, left to
right or top to bottom. The input image is a 1 x 1 square; each later column sits ``GAP`` further.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ui.diagram.selection import Column

IMAGE_SIDE = 1.0  # the input image is a 1 x 1 square
GAP = 1.3  # distance between columns
SPAN = 2.0  # length of a full column of neurons
MAP_SPAN = 2.6  # length of a full column of feature maps: a little longer, so each map is larger
MAX_PITCH = 0.17  # neurons of short columns are no further apart than this


def unit_pitch(k: int) -> float:
    return MAX_PITCH if k < 2 else min(MAX_PITCH, SPAN / (k - 1))


def depth(i: int) -> float:
    """Centre of column i along the network (the image is column 0)."""
    return IMAGE_SIDE / 2 if i == 0 else IMAGE_SIDE + GAP * (i - 0.5)


class Layout:
    """Maps (depth, position) to figure coordinates: left to right, or top to bottom."""

    def __init__(self, vertical: bool) -> None:
        self.vertical = vertical

    def xy(self, d: np.ndarray | float, p: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        d, p = np.asarray(d, dtype=np.float64), np.asarray(p, dtype=np.float64)
        return (p, -d) if self.vertical else (d, -p)


def tile_geometry(column: Column) -> tuple[float, float, float, int]:
    """Feature-map tiles: pitch between tiles and a tile's side (figure units), figure units per map
    pixel, and the gap between tiles in map pixels (so the tiles land exactly on their positions)."""
    k, h, w = column.maps.shape
    pitch = min(0.45, MAP_SPAN / max(k, 1))
    gap = max(1, round(0.125 * max(h, w)))
    unit = pitch / (max(h, w) + gap)
    return pitch, max(h, w) * unit, unit, gap


def diagram_span(columns: Sequence[Column]) -> float:
    """Length of the diagram's longest column (figure units): ``SPAN``, or more for feature maps."""
    return max([SPAN] + [tile_geometry(c)[0] * len(c.shown) for c in columns if c.kind == "maps"])


def neuron_positions(column: Column) -> np.ndarray:
    """Position along the column of each drawn neuron (k,), centred on 0, first at the top (or left)."""
    k = len(column.shown)
    pitch = tile_geometry(column)[0] if column.kind == "maps" else unit_pitch(k)
    return (np.arange(k) - (k - 1) / 2) * pitch


def pixel_centres(column: Column) -> tuple[np.ndarray, np.ndarray]:
    """(depth, position) of every pixel centre of the input image, row by row."""
    rows, cols = column.maps.shape[1:]
    unit = IMAGE_SIDE / max(rows, cols)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return depth(0) + (c - (cols - 1) / 2) * unit, (r - (rows - 1) / 2) * unit


def ends(column: Column, i: int, outgoing: bool) -> tuple[np.ndarray, np.ndarray]:
    """(depth, position) where connections leave (``outgoing``) or reach each drawn neuron of a column."""
    if column.kind == "image":
        if column.size == column.maps[0].size:
            return pixel_centres(column)
        k = column.size
        return np.full(k, IMAGE_SIDE), np.zeros(k)
    p = neuron_positions(column)
    d = np.full(len(p), depth(i))
    if column.kind == "maps":
        d = d + (0.5 if outgoing else -0.5) * tile_geometry(column)[1]
    return d, p


def half_thickness(column: Column) -> float:
    """Half the size of a column across the network's direction (image, tiles or neurons)."""
    if column.kind == "image":
        return IMAGE_SIDE / 2
    return tile_geometry(column)[1] / 2 if column.kind == "maps" else 0.06
