"""Which neurons and which connections the network diagram draws, for one input (pure NumPy).

A network is read as a list of ``Stage``s (each layer after the input: its outputs, biases and how
much each unit of the layer before pushed each of its units: weight x incoming activation). A
stage's outputs are a vector (n,) for a dense layer or feature maps (H, W, C) for a convolution or
pooling layer; the array's ndim decides. ``build_diagram`` turns them into ``Column``s (the
neurons drawn, at most ``max_units`` per dense layer and ``max_maps`` per convolutional one, the
most active first chosen) and ``Edges`` (for each drawn neuron its strongest incoming
connections; for a clicked neuron its strongest inputs and outputs, marked ``focus``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MAX_UNITS = 16  # neurons drawn per dense layer: more do not fit a readable column
MAX_MAPS = 8  # feature maps drawn per convolutional or pooling layer: small images, one above another
EDGES_PER_UNIT = 3  # strongest incoming connections drawn for each drawn neuron
FOCUS_EDGES = 8  # strongest inputs and outputs drawn for the clicked neuron


@dataclass(frozen=True)
class Stage:
    """One layer after the input, for one input image.

    Attributes
    ----------
    title : str
        What the layer is, e.g. ``"relu"``, ``"conv 3x3, relu"``, ``"output"``.
    values : ndarray of shape (n,) or (H, W, C)
        The layer's outputs: unit activations (the probabilities for the output layer) or feature maps.
    contributions : ndarray of shape (n_prev, n) or (C_prev, C)
        How much each unit (or channel) of the layer before pushed each unit (or channel) of this one:
        weight x incoming activation. For the first stage, ``n_prev`` is 784 (one per pixel) when the
        layer is dense, or the image's channels when it is convolutional.
    bias : ndarray of shape (n,) or (C,), or None
    pre : ndarray of shape (n,) or None
        Weighted sums before the activation (the logits for the output layer), for hover text.
    follows : bool
        A channel-wise layer (pooling): it keeps the channels of the layer before, so its column
        draws the same channels as that one's, and the eye can follow each map through it.
    """

    title: str
    values: np.ndarray
    contributions: np.ndarray
    bias: np.ndarray | None = None
    pre: np.ndarray | None = None
    follows: bool = False

    @property
    def size(self) -> int:
        """Units of a dense layer, channels of a convolutional one."""
        return int(self.values.shape[-1])


@dataclass(frozen=True)
class Column:
    """One layer as drawn.

    Attributes
    ----------
    kind : str
        ``"image"`` (the input), ``"units"`` (a dense hidden layer), ``"maps"`` (feature maps) or ``"outputs"``.
    title : str
    size : int
        Neurons (channels) in the layer; for the image, the sources of its connections (784 pixels,
        or the channels when the next layer is convolutional).
    shown : ndarray of shape (k,), int64
        Indices of the drawn neurons, in drawing order (ascending index).
    values : ndarray of shape (k,), float32
        Their activations (a feature map's mean; a pixel's value for the image).
    bias, pre : ndarray of shape (k,) or None
    maps : ndarray of shape (k, H, W) or None
        The drawn feature maps (``"maps"``), or the input image as (1, 28, 28) (``"image"``).
    """

    kind: str
    title: str
    size: int
    shown: np.ndarray
    values: np.ndarray
    bias: np.ndarray | None = None
    pre: np.ndarray | None = None
    maps: np.ndarray | None = None

    @property
    def left_out(self) -> int:
        """How many neurons of the layer are not drawn."""
        return 0 if self.kind == "image" else self.size - len(self.shown)

    def position(self, unit: int) -> int | None:
        """Where neuron ``unit`` is drawn in the column (an index into ``shown``), or None."""
        hits = np.flatnonzero(self.shown == unit)
        return int(hits[0]) if len(hits) else None


@dataclass(frozen=True)
class Edges:
    """Connections drawn from one column to the next, as positions in each column's ``shown``.

    Attributes
    ----------
    src, dst : ndarray of shape (m,), int64
    value : ndarray of shape (m,), float32
        Weight x incoming activation; its sign says whether the source pushed the target up or down.
    focus : ndarray of shape (m,), bool
        The connection is one of the clicked neuron's strongest inputs or outputs.
    """

    src: np.ndarray
    dst: np.ndarray
    value: np.ndarray
    focus: np.ndarray

    def __len__(self) -> int:
        return len(self.src)


@dataclass(frozen=True)
class Diagram:
    """Everything the figure draws: one column per layer and the edges between consecutive ones."""

    columns: tuple[Column, ...]
    edges: tuple[Edges, ...]  # edges[i] joins columns[i] and columns[i + 1]
    class_names: tuple[str, ...]
    top: int  # the most probable class
    selected: tuple[int, int] | None  # (column, unit) of the clicked neuron, when it is drawn


def most_active(strength: np.ndarray, k: int, pinned: int | None = None) -> np.ndarray:
    """Indices of the k largest ``strength`` values (n,), plus ``pinned``; sorted ascending.

    Ties go to the lower index. When ``pinned`` is not among the k, it replaces the weakest of them.
    """
    n = len(strength)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    order = np.argsort(-np.asarray(strength, dtype=np.float64), kind="stable")[:k]
    if pinned is not None and 0 <= pinned < n and pinned not in order:
        order[-1] = pinned
    return np.sort(order).astype(np.int64)


def _strength(values: np.ndarray) -> np.ndarray:
    """How active each unit (n,) or channel of maps (H, W, C) is: |activation|, or a map's mean |value|."""
    values = np.abs(np.asarray(values, dtype=np.float32))
    return values if values.ndim == 1 else values.reshape(-1, values.shape[-1]).mean(axis=0)


def image_column(image: np.ndarray, n_sources: int) -> Column:
    """The input as drawn: a (28, 28) or (H, W, C) image whose connections start at each pixel
    (``n_sources == H * W``) or at the whole image, one source per channel."""
    image = np.asarray(image, dtype=np.float32)
    planes = image[None] if image.ndim == 2 else np.moveaxis(image, -1, 0)  # (C, H, W)
    if n_sources == planes[0].size:
        values = planes[0].ravel()
    elif n_sources == len(planes):
        values = planes.reshape(len(planes), -1).mean(axis=1)
    else:
        raise ValueError(f"an image of shape {image.shape} cannot feed {n_sources} connections")
    return Column(
        "image",
        f"Input {planes.shape[1]}x{planes.shape[2]}",
        n_sources,
        np.arange(n_sources, dtype=np.int64),
        values,
        maps=planes[:1],
    )


def stage_column(
    stage: Stage, kind: str, k: int, pinned: int | None = None, keep: np.ndarray | None = None
) -> Column:
    """The drawn neurons of one stage: all of them up to k, else the k most active (and ``pinned``).

    ``keep`` (indices) are drawn first, before the most active: a pooling layer keeps the channels
    drawn in the layer before it.
    """
    values = np.asarray(stage.values, dtype=np.float32)
    if values.ndim == 3:
        kind = "maps"
    elif values.ndim != 1:
        raise ValueError(f"a layer's outputs must be (n,) or (H, W, C), got shape {values.shape}")
    strength = _strength(values)
    if keep is not None:  # kept ones rank above every other, among themselves by activity
        strength = strength + np.isin(np.arange(len(strength)), keep) * (float(strength.max()) + 1.0)
    shown = most_active(strength, k, pinned)
    take = lambda a: None if a is None else np.asarray(a, dtype=np.float32)[shown]  # noqa: E731
    if kind == "maps":
        maps = np.moveaxis(values[:, :, shown], -1, 0)  # (k, H, W)
        return Column(
            kind, stage.title, stage.size, shown, maps.mean(axis=(1, 2)), take(stage.bias), None, maps
        )
    return Column(kind, stage.title, stage.size, shown, values[shown], take(stage.bias), take(stage.pre))


def select_edges(
    contributions: np.ndarray,
    src: Column,
    dst: Column,
    per_unit: int = EDGES_PER_UNIT,
    focus: tuple[str, int] | None = None,
    focus_count: int = FOCUS_EDGES,
) -> Edges:
    """The connections drawn between two columns, from the full contributions (n_src, n_dst).

    Each drawn target keeps its ``per_unit`` strongest incoming connections (by |contribution|,
    among the drawn sources; zero ones are never drawn). ``focus`` is ``("dst", position)`` or
    ``("src", position)``: that neuron's ``focus_count`` strongest inputs or outputs are added and
    marked.
    """
    sub = np.asarray(contributions, dtype=np.float32)[np.ix_(src.shown, dst.shown)]  # (k_src, k_dst)
    size = np.abs(sub)
    chosen = np.zeros(sub.shape, dtype=bool)
    marked = np.zeros(sub.shape, dtype=bool)
    if per_unit > 0 and sub.shape[0]:
        take = min(per_unit, sub.shape[0])
        rows = np.argsort(-size, axis=0, kind="stable")[:take]  # (take, k_dst)
        chosen[rows, np.arange(sub.shape[1])[None, :]] = True
    if focus is not None:
        side, position = focus
        line = size[:, position] if side == "dst" else size[position, :]
        best = np.argsort(-line, kind="stable")[:focus_count]
        if side == "dst":
            marked[best, position] = True
        else:
            marked[position, best] = True
    chosen = (chosen | marked) & (size > 0)
    s, d = np.nonzero(chosen)
    return Edges(s.astype(np.int64), d.astype(np.int64), sub[s, d], marked[s, d])


def build_diagram(
    image: np.ndarray,
    stages: Sequence[Stage],
    class_names: Sequence[str],
    selected: tuple[int, int] | None = None,
    max_units: int = MAX_UNITS,
    max_maps: int = MAX_MAPS,
    edges_per_unit: int = EDGES_PER_UNIT,
) -> Diagram:
    """The diagram of a network for one input.

    Parameters
    ----------
    image : ndarray of shape (28, 28) or (H, W, C)
        The input as the network sees it, in [0, 1].
    stages : sequence of Stage
        Every layer after the input; the last one is the output layer (values: probabilities (n_classes,)).
    class_names : sequence of str, one per output
    selected : (column, unit) or None
        The clicked neuron (column 0 is the image, which has no neurons to click); it is always drawn.
    """
    if not stages:
        raise ValueError("a network needs at least an output layer")
    out = stages[-1]
    if np.ndim(out.values) != 1 or len(class_names) != out.size:
        raise ValueError(f"{out.size} outputs but {len(class_names)} class names")
    columns = [image_column(image, int(np.shape(stages[0].contributions)[0]))]
    valid = (
        selected is not None
        and 1 <= selected[0] <= len(stages)
        and 0 <= selected[1] < stages[selected[0] - 1].size
    )
    for i, stage in enumerate(stages, start=1):
        kind = "outputs" if i == len(stages) else "units"
        k = max_maps if np.ndim(stage.values) == 3 else max_units
        pinned = selected[1] if valid and selected[0] == i else None
        before = columns[-1]
        keep = before.shown if stage.follows and before.kind == "maps" and before.size == stage.size else None
        columns.append(stage_column(stage, kind, k if kind == "units" else max(k, stage.size), pinned, keep))
    focus_col = selected[0] if valid else None
    focus_pos = columns[focus_col].position(selected[1]) if focus_col is not None else None
    edges = []
    for i, stage in enumerate(stages):
        focus = None
        if focus_pos is not None and focus_col == i + 1:
            focus = ("dst", focus_pos)
        elif focus_pos is not None and focus_col == i:
            focus = ("src", focus_pos)
        contributions = np.asarray(stage.contributions)
        if contributions.shape != (columns[i].size, stage.size):
            raise ValueError(
                f"layer {i + 1}: contributions of shape {contributions.shape}, "
                f"expected {(columns[i].size, stage.size)}"
            )
        edges.append(select_edges(contributions, columns[i], columns[i + 1], edges_per_unit, focus))
    top = int(np.argmax(out.values))
    chosen = (focus_col, int(selected[1])) if focus_pos is not None else None
    return Diagram(tuple(columns), tuple(edges), tuple(str(c) for c in class_names), top, chosen)
