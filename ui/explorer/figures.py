"""Charts of the dataset explorer: class balance, pixel histogram, class distances, the PCA map and
its explained variance. Pure functions of NumPy arrays (no Streamlit here); traces that the page lets a
person click carry the dataset row index in ``customdata``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from nn_core.data.stats import components_for_variance
from ui.palette import CLASS_COLORS

MARGIN = dict(l=10, r=10, t=40, b=10)
_LOG_TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 784]


def class_balance_figure(counts: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Bar per class (counts of shape (k,)), with a dashed line where a perfectly balanced split would be."""
    counts = np.asarray(counts)
    total = int(counts.sum())
    share = counts / total * 100 if total else np.zeros(len(counts))
    fig = go.Figure(
        go.Bar(
            x=list(class_names),
            y=counts,
            marker_color=[CLASS_COLORS[i % len(CLASS_COLORS)] for i in range(len(counts))],
            text=[f"{c:,}" for c in counts],
            textposition="outside",
            customdata=share,
            hovertemplate="%{x}: %{y:,} images (%{customdata:.1f}%)<extra></extra>",
        )
    )
    if len(counts):
        fig.add_hline(
            y=total / len(counts),
            line_dash="dot",
            line_color="#555",
        )
    fig.update_layout(
        title=dict(text="Images per class (dotted line: equal share)"),
        xaxis=dict(title="class", type="category"),
        yaxis=dict(title="images", range=[0, max(1, counts.max(initial=0)) * 1.15]),
        height=380,
        margin=MARGIN,
        showlegend=False,
    )
    return fig


def pixel_histogram_figure(histogram: np.ndarray) -> go.Figure:
    """How many pixels take each value 0..255 (histogram of shape (256,)), on a log scale."""
    histogram = np.asarray(histogram)
    total = max(int(histogram.sum()), 1)
    fig = go.Figure(
        go.Bar(
            x=np.arange(len(histogram)),
            y=histogram,
            marker_color=CLASS_COLORS[0],
            marker_line_width=0,
            customdata=histogram / total * 100,
            hovertemplate="value %{x}: %{y:,} pixels (%{customdata:.2f}%)<extra></extra>",
        )
    )
    fig.update_layout(
        title=dict(text="Pixel intensities (log scale)"),
        xaxis=dict(title="pixel value (0 = background, 255 = full ink)", range=[-2, len(histogram) + 1]),
        yaxis=dict(title="pixels", type="log", dtick=1),
        bargap=0,
        height=380,
        margin=MARGIN,
    )
    return fig


def class_distance_figure(distances: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Distances between class averages (k, k) as an annotated heatmap; darker means more alike."""
    z = np.array(distances, dtype=np.float64)
    np.fill_diagonal(z, np.nan)
    names = list(class_names)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=names,
            colorscale="Blues_r",
            texttemplate="%{z:.1f}",
            hoverongaps=False,
            hovertemplate="%{y} vs %{x}: %{z:.2f}<extra></extra>",
            colorbar=dict(title=dict(text="distance"), thickness=12),
        )
    )
    fig.update_layout(
        title=dict(text="Distance between class averages (darker = more alike)"),
        xaxis=dict(type="category"),
        yaxis=dict(type="category", autorange="reversed"),
        height=480,
        margin=MARGIN,
    )
    return fig


def pca_scatter_figure(
    coords: np.ndarray,
    labels: np.ndarray,
    indices: np.ndarray,
    class_names: Sequence[str],
    explained: Sequence[float] = (),
    selected: int | None = None,
) -> go.Figure:
    """The 2-D PCA map: one WebGL trace per class; ``customdata`` holds each point's dataset row.

    coords : ndarray of shape (m, 2); labels, indices : ndarrays of shape (m,); explained : the share of
    variance of the two axes; selected : a dataset row to ring, if it is on the map.
    """
    coords, labels, indices = np.asarray(coords), np.asarray(labels), np.asarray(indices)
    fig = go.Figure()
    for c, name in enumerate(class_names):
        members = labels == c
        fig.add_trace(
            go.Scattergl(
                x=coords[members, 0],
                y=coords[members, 1],
                mode="markers",
                name=name,
                marker=dict(size=5, opacity=0.7, color=CLASS_COLORS[c % len(CLASS_COLORS)]),
                customdata=indices[members],
                hovertemplate=f"#%{{customdata}}: {name}<extra></extra>",
            )
        )
    if selected is not None and np.any(indices == selected):
        at = int(np.flatnonzero(indices == selected)[0])
        fig.add_trace(
            go.Scattergl(
                x=[coords[at, 0]],
                y=[coords[at, 1]],
                mode="markers",
                name=f"#{selected}",
                marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(width=2.5, color="#000")),
                hoverinfo="skip",
            )
        )
    axis = [
        f"PC {i + 1}" + (f" ({explained[i]:.1%} of variance)" if i < len(explained) else "") for i in (0, 1)
    ]
    fig.update_layout(
        title=dict(text=f"{len(labels):,} images on the first two principal components"),
        xaxis=dict(title=axis[0], zeroline=False),
        yaxis=dict(title=axis[1], zeroline=False),
        legend=dict(title=dict(text="class"), itemsizing="constant"),
        height=560,
        margin=MARGIN,
        hovermode="closest",
    )
    return fig


def explained_variance_figure(
    ratio: np.ndarray, marks: Sequence[float] = (0.5, 0.9, 0.95, 0.99)
) -> go.Figure:
    """Cumulative share of variance against the number of components (ratio of shape (r,))."""
    ratio = np.asarray(ratio, dtype=np.float64)
    cumulative = np.cumsum(ratio) * 100
    k = np.arange(1, len(ratio) + 1)
    fig = go.Figure(
        go.Scatter(
            x=k,
            y=cumulative,
            mode="lines",
            line=dict(color=CLASS_COLORS[0], width=2.5),
            hovertemplate="%{x} components: %{y:.1f}%<extra></extra>",
            name="cumulative",
        )
    )
    for fraction in marks:
        n = components_for_variance(ratio, fraction)
        fig.add_trace(
            go.Scatter(
                x=[n],
                y=[cumulative[n - 1]],
                mode="markers+text",
                marker=dict(size=9, color=CLASS_COLORS[1]),
                text=[f"{fraction:.0%}: {n}"],
                textposition="bottom right",
                hovertemplate=f"{n} components keep {fraction:.0%} of the variance<extra></extra>",
                showlegend=False,
            )
        )
    fig.update_layout(
        title=dict(text="Explained variance"),
        xaxis=dict(title="number of components", type="log", tickvals=_LOG_TICKS),
        yaxis=dict(title="variance kept (%)", range=[0, 102]),
        height=420,
        margin=MARGIN,
        showlegend=False,
    )
    return fig
