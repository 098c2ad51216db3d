"""Plotly figures of the Draw page, as pure functions of NumPy arrays (no Streamlit here).

The probability chart colours the top class by whether the network is sure, and marks the threshold;
hidden-layer activations are drawn as one near-square grid of units per layer; first-layer units as
their 28x28 incoming weights on a diverging scale centred on zero (red pushes up, blue down).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ui.palette import BAD_COLOR, GOOD_COLOR
from ui.plots import image_axes, tile_grid

OTHER_COLOR = "#B8C4D0"  # bars of the classes that are not the top one
WEIGHT_SCALE = "RdBu_r"  # negative blue, positive red
MARGIN = dict(l=10, r=10, t=40, b=10)


def probability_figure(
    probabilities: np.ndarray,
    threshold: float,
    sure: bool,
    class_names: Sequence[str] | None = None,
    height: int = 300,
) -> go.Figure:
    """Bar chart of the class probabilities (n_classes,), the top bar coloured by ``sure``."""
    probs = np.asarray(probabilities, dtype=np.float64)
    names = [str(i) for i in range(len(probs))] if class_names is None else list(class_names)
    if len(names) != len(probs):
        raise ValueError(f"{len(probs)} probabilities but {len(names)} class names")
    top = int(np.argmax(probs)) if len(probs) else -1
    colors = [OTHER_COLOR] * len(probs)
    if top >= 0:
        colors[top] = GOOD_COLOR if sure else BAD_COLOR
    fig = go.Figure(
        go.Bar(
            x=names,
            y=probs,
            marker_color=colors,
            text=[f"{p:.0%}" if p >= 0.01 else "" for p in probs],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        )
    )
    fig.add_hline(y=threshold, line_dash="dot", line_color="#5A6570")  # the "sure from" threshold
    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=30, b=10),
        yaxis=dict(range=[0, 1.08], tickformat=".0%", title=None, fixedrange=True),
        xaxis=dict(type="category", title=None, fixedrange=True),
        showlegend=False,
        bargap=0.25,
    )
    return fig


def grid_shape(n: int) -> tuple[int, int]:
    """Rows and columns of the most nearly square grid with at least n cells (columns >= rows)."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def as_grid(values: np.ndarray) -> np.ndarray:
    """Lay a vector (n,) out row by row on ``grid_shape(n)``; empty cells are NaN (left blank)."""
    values = np.asarray(values, dtype=np.float32).ravel()
    rows, cols = grid_shape(len(values))
    out = np.full(rows * cols, np.nan, np.float32)
    out[: len(values)] = values
    return out.reshape(rows, cols)


def activations_figure(activations: Sequence[np.ndarray], activation_names: Sequence[str]) -> go.Figure:
    """One panel per hidden layer: its units' outputs (width,) as a near-square grid, unit 0 top left."""
    n = len(activations)
    if n == 0:
        raise ValueError("no hidden layers to show")
    titles = [
        f"Layer {i + 1}: {len(a)} {name} units"
        for i, (a, name) in enumerate(zip(activations, activation_names, strict=True))
    ]
    fig = make_subplots(rows=1, cols=n, subplot_titles=titles, horizontal_spacing=0.08)
    for i, values in enumerate(activations):
        grid = as_grid(values)
        units = np.arange(grid.size).reshape(grid.shape)
        fig.add_trace(
            go.Heatmap(
                z=grid,
                customdata=units,
                colorscale="Viridis",
                showscale=False,
                hovertemplate="unit %{customdata}: %{z:.3f}<extra></extra>",
                xgap=1,
                ygap=1,
            ),
            row=1,
            col=i + 1,
        )
    image_axes(fig)
    fig.update_layout(height=260 if n < 3 else 220, margin=MARGIN)
    fig.update_annotations(font_size=12)
    return fig


def tile_mosaic(tiles: np.ndarray, cols: int, gap: int, top: int) -> np.ndarray:
    """Tiles (k, h, w) on a grid, ``top`` blank rows above each and ``gap`` between; blanks are NaN."""
    return tile_grid(np.asarray(tiles, dtype=np.float32), cols, gap=gap, above=top)


def units_figure(
    weight_images: np.ndarray, units: np.ndarray, contributions: np.ndarray, cols: int = 4
) -> go.Figure:
    """First-layer units' incoming weights (k, 28, 28), titled with their unit index and contribution.

    One heatmap of a mosaic (fast to build and to draw); each tile is scaled by its own largest absolute
    weight so zero is white in every tile, and hovering gives the actual weight.
    """
    k = len(units)
    if k == 0:
        raise ValueError("no units to show")
    weights = np.asarray(weight_images, dtype=np.float32)
    limits = np.abs(weights).reshape(k, -1).max(axis=1)
    scaled = weights / np.where(limits > 0, limits, 1.0)[:, None, None]
    gap, top = 4, 6
    cols = max(1, min(cols, k))
    fig = go.Figure(
        go.Heatmap(
            z=tile_mosaic(scaled, cols, gap, top),
            customdata=tile_mosaic(weights, cols, gap, top),
            zmin=-1.0,
            zmax=1.0,
            colorscale=WEIGHT_SCALE,
            showscale=False,
            hoverongaps=False,
            hovertemplate="weight %{customdata:.3f}<extra></extra>",
        )
    )
    h, w = weights.shape[1:]
    for i, (unit, value) in enumerate(zip(units, contributions, strict=True)):
        r, c = divmod(i, cols)
        fig.add_annotation(
            x=c * (w + gap) + (w - 1) / 2,
            y=r * (top + h + gap) + top - 1.5,
            text=f"unit {int(unit)}: {value:+.2f}",
            showarrow=False,
            yanchor="bottom",
            font_size=12,
        )
    image_axes(fig)
    rows = math.ceil(k / cols)
    fig.update_layout(
        height=175 * rows + 20, margin=dict(l=10, r=10, t=10, b=10), plot_bgcolor="rgba(0,0,0,0)"
    )
    return fig


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str] | None = None) -> go.Figure:
    """Counts (k, k), row = true class, column = predicted; each non-zero cell shows its count."""
    confusion = np.asarray(confusion)
    k = confusion.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    text = [[str(int(v)) if v else "" for v in row] for row in confusion]
    fig = go.Figure(
        go.Heatmap(
            z=confusion,
            x=names,
            y=names,
            text=text,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    fig.update_layout(
        height=320,
        margin=dict(l=10, r=10, t=30, b=10),
        xaxis=dict(title="predicted", type="category", side="top", fixedrange=True),
        yaxis=dict(title="true", type="category", autorange="reversed", fixedrange=True),
    )
    return fig
