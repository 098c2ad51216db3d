"""Image figures of the dataset explorer: one image enlarged, and grids of many as a single heatmap.

A grid is one heatmap of a mosaic (tiles separated by NaN gaps, which Plotly leaves blank) with a
caption under each tile, so a hundred images make one chart. When the tiles are dataset rows, an
invisible marker at each tile's centre carries the row in ``customdata``, for hover and click.
Pure functions of NumPy arrays; no Streamlit here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from ui.palette import IMAGE_SCALE
from ui.plots import image_axes, tile_grid

GAP = 2  # blank pixels between tiles
CAPTION = 9  # blank rows under each tile, where its caption goes
MARGIN = dict(l=10, r=10, t=40, b=10)


def mosaic(tiles: np.ndarray, cols: int, caption_rows: int = CAPTION) -> np.ndarray:
    """Images (n, h, w) on a grid, ``caption_rows`` blank rows under each (see ``ui.plots.tile_grid``)."""
    return tile_grid(tiles, cols, gap=GAP, below=caption_rows)


def image_grid_figure(
    tiles: np.ndarray,
    captions: Sequence[str],
    cols: int = 10,
    *,
    title: str = "",
    zmax: float = 1.0,
    colorscale: str = IMAGE_SCALE,
    indices: np.ndarray | None = None,
    hover: Sequence[str] | None = None,
    pixel: float = 3.3,
) -> go.Figure:
    """A grid of images with a caption under each, as one heatmap.

    tiles : ndarray of shape (n, h, w), uint8 or float in [0, zmax]; captions : n strings.
    indices : optional ndarray of shape (n,): dataset rows, put in ``customdata`` of an invisible marker
    at each tile's centre (with ``hover`` text), so hovering names the image and clicking selects it.
    Without indices, hovering a pixel shows its value. The figure's size is fixed: ``pixel`` screen pixels per
    image pixel (place it with ``width="content"``).
    """
    tiles = np.asarray(tiles)
    n, h, w = tiles.shape
    if len(captions) != n:
        raise ValueError(f"{n} tiles but {len(captions)} captions")
    z = mosaic(tiles, cols)
    cols = max(1, min(int(cols), n)) if n else 1
    cell_h, cell_w = h + CAPTION + GAP, w + GAP
    centres = [(i % cols * cell_w + (w - 1) / 2, i // cols * cell_h + (h - 1) / 2) for i in range(n)]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            zmin=0.0,
            zmax=zmax,
            colorscale=colorscale,
            showscale=colorscale != IMAGE_SCALE,
            colorbar=dict(thickness=12, len=0.9),
            hoverongaps=False,
            hoverinfo="skip" if indices is not None else None,
            hovertemplate=None if indices is not None else "%{z:.2f}<extra></extra>",
        )
    )
    if indices is not None:
        fig.add_trace(
            go.Scatter(
                x=[c[0] for c in centres],
                y=[c[1] for c in centres],
                mode="markers",
                marker=dict(size=max(8.0, w * pixel * 0.8), opacity=0.0, symbol="square"),
                customdata=np.asarray(indices, dtype=np.int64),
                text=list(hover) if hover is not None else list(captions),
                hovertemplate="%{text}<extra></extra>",
                showlegend=False,
            )
        )
    for (x, y), caption in zip(centres, captions, strict=True):
        fig.add_annotation(
            x=x,
            y=y + h / 2 + CAPTION / 2,
            text=caption,
            showarrow=False,
            font=dict(size=12),
            yanchor="middle",
        )
    fig.update_layout(
        title=dict(text=title),
        width=int(z.shape[1] * pixel) + MARGIN["l"] + MARGIN["r"] + (70 if colorscale != IMAGE_SCALE else 0),
        height=int(z.shape[0] * pixel) + (MARGIN["t"] if title else 10) + MARGIN["b"],
        margin={**MARGIN, "t": MARGIN["t"] if title else 10},
        plot_bgcolor="rgba(0,0,0,0)",
        dragmode=False,
    )
    image_axes(fig)
    return fig


def sample_grid_figure(
    images: np.ndarray, labels: np.ndarray, rows: np.ndarray, class_names: Sequence[str], cols: int = 10
) -> go.Figure:
    """Sampled images (n, h, w) captioned with their class name; hover and click give the dataset row.

    labels, rows : ndarrays of shape (n,): each image's label and its row in the split.
    """
    shown = [class_names[int(label)] for label in labels]
    hover = [f"#{row}: {name}" for row, name in zip(rows, shown, strict=True)]
    return image_grid_figure(images, shown, cols, indices=rows, hover=hover)


def image_figure(
    image: np.ndarray, title: str, *, height: int = 460, colorbar: bool = True, zmax: float | None = None
) -> go.Figure:
    """One image enlarged, with row, column and raw value on hover.

    image : ndarray of shape (h, w), uint8 0..255 (or float, shown as is).
    zmax : the value drawn as full ink; None: 255 for uint8, else the image's maximum. Give two images
        shown side by side the same ``zmax`` (and values on the same scale) so their shades compare.
    """
    image = np.asarray(image)
    if zmax is None:
        zmax = 255 if image.dtype == np.uint8 else float(np.nanmax(image)) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=image,
            zmin=0,
            zmax=zmax,
            colorscale=IMAGE_SCALE,
            showscale=colorbar,
            colorbar=dict(thickness=12),
            hovertemplate="row %{y}, column %{x}<br>value %{z}<extra></extra>",
        )
    )
    fig.update_layout(title=dict(text=title), height=height, margin=MARGIN)
    image_axes(fig)
    return fig
