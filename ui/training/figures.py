"""Plotly figures of the playground, as pure functions of NumPy arrays and epoch records.

Curves (loss and accuracy per epoch, one run or several overlaid), the confusion matrix (with an
invisible marker per cell so a click selects the cell: Plotly heatmaps report no selection), the
per-class accuracy bars and the first layer's weights as a mosaic of 28x28 images. No Streamlit
here: the page places the figures, the tests inspect them.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from nn_core.train import EpochMetrics
from ui.palette import BAD_COLOR, CLASS_COLORS, GOOD_COLOR, TRAIN_COLOR, VAL_COLOR
from ui.plots import image_axes, tile_grid

CURVES = {
    "loss": ("train_loss", "val_loss", "Loss", ".4f"),
    "acc": ("train_acc", "val_acc", "Accuracy", ".2%"),
}
COMPARE_METRICS = {
    "val_acc": "validation accuracy",
    "train_acc": "training accuracy",
    "val_loss": "validation loss",
    "train_loss": "training loss",
}


MAX_TICKS = 10  # Plotly draws at most about this many y ticks on these chart heights


def percent_axis(values: Sequence[float | None]) -> dict:
    """Y-axis settings for fractions shown as percentages, with as many decimals as the range needs.

    A fixed ``.0%`` repeats labels when the data span a few percent (96%, 95%, 95%, 94%) or less
    (a run stuck near 10%). The tick step Plotly picks is at least span / ``MAX_TICKS``; the format
    keeps enough decimals for that step to show, so neighbouring labels differ. Flat data (one
    value) gets an explicit range of +-0.5 points around it.
    """
    ys = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not ys:
        return {"tickformat": ".0%"}
    low, high = min(ys), max(ys)
    if high - low < 1e-9:
        return {"tickformat": ".1%", "range": [low - 0.005, high + 0.005]}
    step = (high - low) / MAX_TICKS * 100  # smallest likely tick step, in percentage points
    decimals = int(min(4, max(0, np.ceil(-np.log10(step)))))
    return {"tickformat": f".{decimals}%"}


def _layout(fig: go.Figure, title: str, height: int = 300) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left"},
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0},
    )
    return fig


def curve_figure(history: Sequence[EpochMetrics], kind: str, planned_epochs: int | None = None) -> go.Figure:
    """Training and validation ``kind`` ("loss" or "acc") per epoch, one point per finished epoch."""
    train_key, val_key, title, fmt = CURVES[kind]
    epochs = [r.epoch for r in history]
    fig = go.Figure()
    series = [(train_key, "training", TRAIN_COLOR), (val_key, "validation", VAL_COLOR)]
    for key, name, color in series:
        ys = [getattr(r, key) for r in history]
        if key == val_key and all(y is None for y in ys):
            continue
        fig.add_trace(
            go.Scatter(
                x=epochs,
                y=ys,
                name=name,
                mode="lines+markers",
                line={"color": color, "width": 2},
                marker={"size": 7},
                hovertemplate=f"%{{y:{fmt}}}<extra>{name}</extra>",
            )
        )
    span = max(planned_epochs or 0, len(epochs))
    fig.update_xaxes(title="epoch", rangemode="tozero", dtick=1 if span <= 15 else None)
    if planned_epochs:
        fig.update_xaxes(range=[0.5, max(planned_epochs, len(epochs)) + 0.5])
    fig.update_yaxes(title=title.lower())
    if kind == "acc":
        fig.update_yaxes(**percent_axis([getattr(r, k) for r in history for k in (train_key, val_key)]))
    if not epochs:  # an empty chart: a plausible scale instead of Plotly's default -1..4
        fig.update_yaxes(range=[0, 1] if kind == "acc" else [0, 2.5])
    fig.update_layout(hovermode="x unified")
    return _layout(fig, title)


def compare_figure(runs: Sequence[tuple[str, Sequence[EpochMetrics]]], metric: str) -> go.Figure:
    """One line per run for ``metric`` (a key of ``COMPARE_METRICS``), to compare settings."""
    fmt = ".2%" if metric.endswith("acc") else ".4f"
    fig = go.Figure()
    for i, (name, history) in enumerate(runs):
        points = [(r.epoch, getattr(r, metric)) for r in history if getattr(r, metric) is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                name=name,
                mode="lines+markers",
                line={"color": CLASS_COLORS[i % 10], "width": 2},
                hovertemplate=f"%{{y:{fmt}}}<extra>{name}</extra>",
            )
        )
    longest = max((len(history) for _, history in runs), default=0)
    fig.update_xaxes(title="epoch", dtick=1 if longest <= 15 else None)
    fig.update_yaxes(title=COMPARE_METRICS[metric])
    if metric.endswith("acc"):
        fig.update_yaxes(**percent_axis([getattr(r, metric) for _, history in runs for r in history]))
    fig.update_layout(hovermode="x unified")
    return _layout(fig, COMPARE_METRICS[metric].capitalize(), height=380)


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Counts (k, k), row = true class, column = predicted; errors in orange, correct in green."""
    k = confusion.shape[0]
    counts = confusion.astype(float)
    diagonal = np.eye(k, dtype=bool)
    errors = np.where(diagonal, np.nan, counts)
    correct = np.where(diagonal, counts, np.nan)
    labels = [str(n) for n in class_names]
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            z=errors,
            x=list(range(k)),
            y=list(range(k)),
            colorscale=[[0, "#fff7ec"], [1, BAD_COLOR]],
            zmin=0,
            zmax=max(1.0, np.nanmax(errors)),
            texttemplate="%{z:.0f}",
            hoverinfo="skip",
            colorbar={"title": "errors", "thickness": 12},
            xgap=1,
            ygap=1,
        )
    )
    fig.add_trace(
        go.Heatmap(
            z=correct,
            x=list(range(k)),
            y=list(range(k)),
            colorscale=[[0, "#e5f5ef"], [1, GOOD_COLOR]],
            showscale=False,
            texttemplate="%{z:.0f}",
            hoverinfo="skip",
            xgap=1,
            ygap=1,
        )
    )
    rows, cols = np.divmod(np.arange(k * k), k)
    fig.add_trace(
        go.Scatter(
            x=cols,
            y=rows,
            mode="markers",
            showlegend=False,
            name="cells",
            marker={"symbol": "square", "size": 28, "color": "rgba(0,0,0,0)"},
            customdata=np.stack([rows, cols, counts.ravel()], axis=1),
            hovertemplate="true %{customdata[0]}, predicted %{customdata[1]}: %{customdata[2]:.0f} images<extra></extra>",
            selected={"marker": {"opacity": 1}},
            unselected={"marker": {"opacity": 1}},
        )
    )
    axis = {"tickvals": list(range(k)), "ticktext": labels, "showgrid": False, "zeroline": False}
    fig.update_xaxes(title="predicted", side="top", **axis)
    fig.update_yaxes(title="true", autorange="reversed", **axis)
    fig.update_layout(clickmode="event+select", dragmode=False, hovermode="closest")
    return _layout(fig, "", height=460)


def per_class_figure(recall: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Per-class accuracy (recall) bars, shape (k,), NaN for a class absent from the test set."""
    labels = [str(n) for n in class_names]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=recall,
            marker={"color": list(CLASS_COLORS[: len(labels)])},
            text=[f"{v:.1%}" if np.isfinite(v) else "" for v in recall],
            textposition="outside",
            hovertemplate="%{x}: %{y:.2%}<extra></extra>",
        )
    )
    finite = recall[np.isfinite(recall)]
    low = float(finite.min()) if finite.size else 0.0
    fig.update_yaxes(title="test accuracy", tickformat=".0%", range=[max(0.0, low - 0.1), 1.04])
    fig.update_xaxes(type="category")
    return _layout(fig, "Accuracy per class", height=340)


def weights_mosaic(W: np.ndarray, max_units: int = 64, cols: int = 8) -> np.ndarray:
    """Tile the first ``max_units`` columns of W (784, h) as 28x28 images, each scaled to [-1, 1].

    Returns float32 (rows * 29 - 1, cols * 29 - 1) with NaN in the one-pixel gaps between tiles.
    """
    n = min(max_units, W.shape[1])
    tiles = np.asarray(W[:, :n], dtype=np.float32).T.reshape(n, 28, 28)
    scale = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    return tile_grid(tiles / np.where(scale > 0, scale, 1), cols, gap=1)


def weights_figure(W: np.ndarray, max_units: int = 64, cols: int = 8) -> go.Figure:
    """First-layer weights (784, h) drawn as 28x28 images: red pushes a unit up, blue down."""
    mosaic = weights_mosaic(W, max_units, cols)
    fig = go.Figure(
        go.Heatmap(
            z=mosaic,
            colorscale="RdBu",
            reversescale=True,
            zmid=0,
            zmin=-1,
            zmax=1,
            showscale=False,
            hovertemplate="weight (scaled) %{z:.2f}<extra></extra>",
        )
    )
    image_axes(fig)
    shown = min(max_units, W.shape[1])
    title = f"First-layer weights: {shown} of {W.shape[1]} units"
    return _layout(fig, title, height=max(260, 60 + 58 * (mosaic.shape[0] + 1) // 29))


def png_data_uri(image: np.ndarray) -> str:
    """A (h, w) uint8 image as a ``data:image/png;base64,...`` URI."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8), mode="L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def gallery_html(images: np.ndarray, captions: Sequence[str], size: int = 84) -> str:
    """A wrapping grid of (n, 28, 28) uint8 images drawn ``size`` pixels wide, each with a caption.

    The images are inlined as data URIs, so they never depend on the server's media store.
    """
    cells = []
    for image, caption in zip(images, captions, strict=True):
        text = html.escape(caption)
        cells.append(
            f'<figure style="margin:0;width:{size}px;text-align:center">'
            f'<img src="{png_data_uri(image)}" width="{size}" height="{size}" alt="{text}" '
            f'style="image-rendering:pixelated;border-radius:3px;display:block">'
            f'<figcaption style="font-size:0.75rem;line-height:1.2;margin-top:2px">{text}</figcaption></figure>'
        )
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(cells)}</div>'
