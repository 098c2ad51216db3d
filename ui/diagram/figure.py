"""Draw a ``Diagram`` with Plotly (a pure function: no Streamlit, no network).

A dark board, as in the usual picture of a network: the input image on the left, each layer a
column of neurons lit from black (silent) to white (its most active neuron), feature maps as small
images, the outputs with their class names and probabilities on the right. Connections are lines
coloured by sign (sky blue pushes the next neuron up, orange pushes it down: both readable with
every common colour-vision deficiency) and in three widths by size. The figure stays small: all
neurons are one trace, the connections one trace per colour and width (segments separated by
NaN gaps, Plotly's numeric form of ``None``), each image one heatmap. ``orientation="vertical"`` runs top to bottom for narrow screens.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import plotly.graph_objects as go

from ui.diagram.geometry import (
    IMAGE_SIDE,
    Layout,
    depth,
    diagram_span,
    ends,
    neuron_positions,
    tile_geometry,
)
from ui.diagram.labels import BOARD, INK, MUTED, column_notes, hover_text, map_hover, output_label
from ui.diagram.selection import Column, Diagram
from ui.palette import CHOSEN_COLOR, LOWER_COLOR, RAISE_COLOR

UP_COLOR = RAISE_COLOR  # Okabe-Ito sky blue: the connection raises the next neuron
DOWN_COLOR = LOWER_COLOR  # Okabe-Ito orange: it lowers it
FADED = "rgba(154,165,177,0.25)"  # other connections while a neuron is chosen
RING = CHOSEN_COLOR  # Okabe-Ito yellow: the chosen neuron
LIT_SCALE = [[0.0, "#000000"], [1.0, "#FFFFFF"]]
SIGNED_SCALE = [[0.0, DOWN_COLOR], [0.5, "#000000"], [1.0, "#FFFFFF"]]  # maps with negative values
TYPICAL_WIDTH = 860  # pixels: the diagram's chart on a laptop-sized screen
WIDTHS = (0.8, 1.8, 3.2)  # line widths for a third, two thirds and all of the largest contribution


def _image_trace(z: np.ndarray, cx: float, cy: float, unit: float, hover: str, **style: object) -> dict:
    """A (rows, cols) array drawn upright, centred on (cx, cy), ``unit`` figure units per pixel."""
    rows, cols = z.shape
    return dict(
        type="heatmap",
        z=z[::-1],
        x0=cx - (cols - 1) / 2 * unit,
        dx=unit,
        y0=cy - (rows - 1) / 2 * unit,
        dy=unit,
        showscale=False,
        hoverongaps=False,
        hovertemplate=hover,
        **style,
    )


def _map_traces(column: Column, i: int, layout: Layout) -> list[dict]:
    """A column's feature maps, one small heatmap each on its tile, all on the column's scale: black
    (zero) to white (the column's largest value), negative values orange."""
    _, _, unit, _ = tile_geometry(column)
    top = float(np.abs(column.maps).max()) or 1.0
    signed = bool((column.maps < 0).any())
    style = (
        dict(colorscale=SIGNED_SCALE, zmin=-top, zmax=top)
        if signed
        else dict(colorscale=LIT_SCALE, zmin=0.0, zmax=top)
    )
    cx, cy = layout.xy(np.full(len(column.shown), depth(i)), neuron_positions(column))
    return [
        _image_trace(column.maps[j], float(cx[j]), float(cy[j]), unit, map_hover(column, i, j), **style)
        for j in range(len(column.shown))
    ]


def _tile_frames(diagram: Diagram, layout: Layout) -> list[dict]:
    """A thin outline around every feature map, so a dark map stands out from the dark board."""
    frames = []
    for i, column in enumerate(diagram.columns):
        if column.kind != "maps":
            continue
        _, h, w = column.maps.shape
        unit = tile_geometry(column)[2]
        xs, ys = layout.xy(np.full(len(column.shown), depth(i)), neuron_positions(column))
        for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
            frames.append(
                dict(
                    type="rect",
                    x0=x - w * unit / 2,
                    x1=x + w * unit / 2,
                    y0=y - h * unit / 2,
                    y1=y + h * unit / 2,
                    line=dict(color=MUTED, width=0.6),
                    layer="above",
                )
            )
    return frames


def _edge_traces(diagram: Diagram, layout: Layout) -> list[dict]:
    """Connections grouped into one line trace per (colour, width); segments are separated by gaps
    (NaN, which Plotly draws as None: numeric arrays keep the figure fast to build and to send)."""
    parts: dict[tuple[str, float], list[np.ndarray]] = defaultdict(list)
    chosen = diagram.selected is not None
    for i, edges in enumerate(diagram.edges):
        if len(edges) == 0:
            continue
        d0, p0 = ends(diagram.columns[i], i, outgoing=True)
        d1, p1 = ends(diagram.columns[i + 1], i + 1, outgoing=False)
        x0, y0 = layout.xy(d0[edges.src], p0[edges.src])
        x1, y1 = layout.xy(d1[edges.dst], p1[edges.dst])
        gap = np.full(len(edges), np.nan)
        segments = np.stack(
            [np.stack([x0, x1, gap], 1).ravel(), np.stack([y0, y1, gap], 1).ravel()]
        )  # (2, 3m)
        strong = edges.focus if chosen else np.ones(len(edges), bool)
        size = np.abs(edges.value)
        top = float(size[strong].max()) if strong.any() else 1.0
        bucket = np.minimum((size / (top or 1.0) * 3 - 1e-9).astype(int), 2).clip(0)
        keys = [
            (UP_COLOR if v > 0 else DOWN_COLOR, WIDTHS[b]) if s else (FADED, 0.6)
            for v, b, s in zip(edges.value, bucket, strong, strict=True)
        ]
        for key in set(keys):
            members = np.flatnonzero([k == key for k in keys])
            columns = (members[:, None] * 3 + np.arange(3)).ravel()
            parts[key].append(segments[:, columns])
    order = sorted(parts, key=lambda k: (k[0] != FADED, k[1]))  # faint first, thickest last
    traces = []
    for key in order:
        xy = np.concatenate(parts[key], axis=1)
        traces.append(
            dict(
                type="scatter",
                x=xy[0],
                y=xy[1],
                mode="lines",
                line=dict(color=key[0], width=key[1]),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return traces


def _neuron_trace(diagram: Diagram, layout: Layout, size: int, truth: int | None = None) -> dict:
    """Every neuron of every layer in one trace; customdata (column, unit) identifies a click.

    Feature maps get an almost invisible marker over each tile, so they can be hovered and clicked too.
    """
    xs, ys, shade, is_map, custom, text, hover = [], [], [], [], [], [], []
    for i, column in enumerate(diagram.columns[1:], start=1):
        p = neuron_positions(column)
        x, y = layout.xy(np.full(len(p), depth(i)), p)
        xs.append(x)
        ys.append(y)
        top = float(np.abs(column.values).max()) or 1.0
        maps = column.kind == "maps"
        shade.append(np.zeros(len(p)) if maps else np.abs(column.values) / top)
        is_map.append(np.full(len(p), maps))
        custom.append(np.stack([np.full(len(p), i), column.shown], axis=1))
        hover += [hover_text(column, i, j, diagram.class_names) for j in range(len(p))]
        if column.kind == "outputs":
            text += [
                output_label(diagram, int(u), float(v), layout.vertical, truth)
                for u, v in zip(column.shown, column.values, strict=True)
            ]
        else:
            text += [""] * len(p)
    mapped = np.concatenate(is_map)
    return dict(
        type="scatter",
        x=np.concatenate(xs),
        y=np.concatenate(ys),
        mode="markers+text",
        marker=dict(
            color=np.concatenate(shade),
            colorscale=LIT_SCALE,
            cmin=0.0,
            cmax=1.0,
            size=np.where(mapped, size * 1.6, size),
            opacity=np.where(mapped, 0.01, 1.0),
            line=dict(color=MUTED, width=np.where(mapped, 0.0, 1.0)),
        ),
        text=text,
        textposition="bottom center" if layout.vertical else "middle right",
        textfont=dict(color=INK, size=11 if layout.vertical else 13),
        customdata=np.concatenate(custom)
        .astype(int)
        .tolist(),  # plain lists: a click event returns them as they are
        hovertext=hover,
        hoverinfo="text",
        unselected=dict(marker=dict(opacity=1.0)),
        showlegend=False,
    )


def diagram_figure(
    diagram: Diagram,
    orientation: str = "horizontal",
    height: int | None = None,
    true_class: int | None = None,
) -> go.Figure:
    """The network diagram: ``orientation`` is ``"horizontal"`` (input left) or ``"vertical"`` (input on top).

    ``true_class`` (a test image's label) is marked beside its output, so a wrong answer shows as such.
    """
    if orientation not in ("horizontal", "vertical"):
        raise ValueError(f"orientation must be 'horizontal' or 'vertical', got {orientation!r}")
    layout = Layout(orientation == "vertical")
    image = diagram.columns[0].maps[0]
    unit = IMAGE_SIDE / max(image.shape)
    cx, cy = layout.xy(depth(0), 0.0)
    traces: list[dict] = [
        _image_trace(
            image,
            float(cx),
            float(cy),
            unit,
            "pixel value %{z:.2f}<extra></extra>",
            colorscale=LIT_SCALE,
            zmin=0.0,
            zmax=1.0,
        )
    ]
    for i, column in enumerate(diagram.columns):
        if column.kind == "maps":
            traces += _map_traces(column, i, layout)
    traces += _edge_traces(diagram, layout)
    size = 11 if layout.vertical else 15
    traces.append(_neuron_trace(diagram, layout, size, true_class))
    if diagram.selected is not None:
        col, unit_index = diagram.selected
        column = diagram.columns[col]
        x, y = layout.xy(depth(col), neuron_positions(column)[column.position(unit_index)])
        traces.append(
            dict(
                type="scatter",
                x=[float(x)],
                y=[float(y)],
                mode="markers",
                hoverinfo="skip",
                showlegend=False,
                marker=dict(symbol="circle-open", size=size * 1.9, color=RING, line=dict(width=3)),
            )
        )
    x0, y0 = layout.xy(0.0, -IMAGE_SIDE / 2)
    x1, y1 = layout.xy(IMAGE_SIDE, IMAGE_SIDE / 2)
    frame = dict(
        type="rect",
        x0=float(x0),
        y0=float(y0),
        x1=float(x1),
        y1=float(y1),
        line=dict(color=MUTED, width=1),
        layer="below",
    )
    last = len(diagram.columns) - 1
    span = diagram_span(diagram.columns)
    lo, hi = -span / 2 - 0.45, span / 2 + 0.45
    if layout.vertical:
        xr, yr = (-span / 2 - 0.15, span / 2 + 0.15), (-(depth(last) + 0.45), 0.25)
        top_space = 40
    else:
        xr, yr = (-0.05, depth(last) + (1.1 if true_class is not None else 0.75)), (lo, hi)
        top_space = 10
    if height is None:
        # left to right, a deep network is as wide as the chart: at a typical width of the chart
        # (TYPICAL_WIDTH pixels) it needs less height than a shallow one, and gets no more
        fit = TYPICAL_WIDTH * (yr[1] - yr[0]) / (xr[1] - xr[0]) + top_space + 16
        height = 130 + 150 * len(diagram.columns) if layout.vertical else int(min(480, max(320, fit)))
    axis = dict(visible=False, fixedrange=True, constrain="domain")
    spec = dict(
        xaxis=dict(axis, range=list(xr)),
        yaxis=dict(axis, range=list(yr), scaleanchor="x", scaleratio=1),
        height=height,
        margin=dict(l=8, r=8, t=top_space, b=8),
        plot_bgcolor=BOARD,
        paper_bgcolor=BOARD,
        showlegend=False,
        dragmode=False,
        hovermode="closest",
        hoverlabel=dict(bgcolor="#FFFFFF", font=dict(color="#1B1F24")),
        annotations=column_notes(diagram, layout),
        shapes=[frame, *_tile_frames(diagram, layout)],
        clickmode="event+select",
    )
    # the traces and layout are built from known-good values: Plotly's per-property checks would take
    # most of the time between a stroke and the redrawn diagram, so they are skipped
    fig = go.Figure(data=traces, layout=spec, _validate=False)
    return fig


def weight_image_figure(weights: np.ndarray, title: str | None = None, height: int = 260) -> go.Figure:
    """A first-layer neuron's incoming weights (28, 28) on a diverging scale centred on zero, in the
    diagram's colours: sky blue where ink raises the neuron, orange where it lowers it."""
    weights = np.asarray(weights, dtype=np.float32)
    limit = float(np.abs(weights).max()) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=weights,
            zmin=-limit,
            zmax=limit,
            colorscale=[[0.0, DOWN_COLOR], [0.5, "#FFFFFF"], [1.0, UP_COLOR]],
            showscale=False,
            hovertemplate="row %{y}, column %{x}: weight %{z:+.3f}<extra></extra>",
        )
    )
    fig.update_xaxes(visible=False, constrain="domain", fixedrange=True)
    fig.update_yaxes(
        visible=False, autorange="reversed", scaleanchor="x", constrain="domain", fixedrange=True
    )
    fig.update_layout(
        height=height, margin=dict(l=4, r=4, t=30 if title else 4, b=4), title=dict(text=title, font_size=13)
    )
    return fig
