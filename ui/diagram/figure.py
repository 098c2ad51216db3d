"""Draw a ``Diagram`` with Plotly (a pure function: no Streamlit, no network).

A dark board, as in the usual picture of a network: the input image on the left, each layer a
column of neurons lit from black (silent) to white (its most active neuron), feature maps as small
images, the outputs with their class names and probabilities on the right. Connections are lines
coloured by sign (sky blue pushes the next neuron up, orange pushes it down: both readable with
every common colour-vision deficiency) and in three widths by size. The figure stays small: all
neurons are one trace, the connections one trace per colour and width (``None`` between
segments), each image one heatmap. ``orientation="vertical"`` runs top to bottom for narrow screens.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import plotly.graph_objects as go

from ui.diagram.selection import Column, Diagram

BOARD = "#1B2129"  # background
INK = "#E6E9ED"  # text
MUTED = "#9AA5B1"  # notes, outlines
UP_COLOR = "#56B4E9"  # Okabe-Ito sky blue: the connection raises the next neuron
DOWN_COLOR = "#E69F00"  # Okabe-Ito orange: it lowers it
FADED = "rgba(154,165,177,0.25)"  # other connections while a neuron is chosen
RING = "#F0E442"  # Okabe-Ito yellow: the chosen neuron
LIT_SCALE = [[0.0, "#000000"], [1.0, "#FFFFFF"]]
WIDTHS = (0.8, 1.8, 3.2)  # line widths for a third, two thirds and all of the largest contribution
IMAGE_SIDE = 1.0  # the input image is a 1 x 1 square
GAP = 1.3  # distance between columns
SPAN = 2.0  # length of a full column of neurons
MAX_PITCH = 0.17  # neurons of short columns are no further apart than this


def _pitch(k: int) -> float:
    return MAX_PITCH if k < 2 else min(MAX_PITCH, SPAN / (k - 1))


def _depth(i: int) -> float:
    """Centre of column i along the network (the image is column 0)."""
    return IMAGE_SIDE / 2 if i == 0 else IMAGE_SIDE + GAP * (i - 0.5)


class _Layout:
    """Maps (depth, position) to figure coordinates: left to right, or top to bottom."""

    def __init__(self, vertical: bool) -> None:
        self.vertical = vertical

    def xy(self, d: np.ndarray | float, p: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        d, p = np.asarray(d, dtype=np.float64), np.asarray(p, dtype=np.float64)
        return (p, -d) if self.vertical else (d, -p)


def _tile_geometry(column: Column) -> tuple[float, float, float, int]:
    """Feature-map tiles: pitch between tiles and a tile's side (figure units), figure units per map
    pixel, and the gap between tiles in map pixels (so the tiles land exactly on their positions)."""
    k, h, w = column.maps.shape
    pitch = min(0.45, SPAN / max(k, 1))
    gap = max(1, round(0.25 * max(h, w)))
    unit = pitch / (max(h, w) + gap)
    return pitch, max(h, w) * unit, unit, gap


def neuron_positions(column: Column) -> np.ndarray:
    """Position along the column of each drawn neuron (k,), centred on 0, first at the top (or left)."""
    k = len(column.shown)
    pitch = _tile_geometry(column)[0] if column.kind == "maps" else _pitch(k)
    return (np.arange(k) - (k - 1) / 2) * pitch


def _pixel_centres(column: Column) -> tuple[np.ndarray, np.ndarray]:
    """(depth, position) of every pixel centre of the input image, row by row."""
    rows, cols = column.maps.shape[1:]
    unit = IMAGE_SIDE / max(rows, cols)
    r, c = np.divmod(np.arange(rows * cols), cols)
    return _depth(0) + (c - (cols - 1) / 2) * unit, (r - (rows - 1) / 2) * unit


def _ends(column: Column, i: int, outgoing: bool) -> tuple[np.ndarray, np.ndarray]:
    """(depth, position) where connections leave (``outgoing``) or reach each drawn neuron of a column."""
    if column.kind == "image":
        if column.size == column.maps[0].size:
            return _pixel_centres(column)
        k = column.size
        return np.full(k, IMAGE_SIDE), np.zeros(k)
    p = neuron_positions(column)
    d = np.full(len(p), _depth(i))
    if column.kind == "maps":
        d = d + (0.5 if outgoing else -0.5) * _tile_geometry(column)[1]
    return d, p


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


def _maps_mosaic(maps: np.ndarray, vertical: bool, gap: int) -> np.ndarray:
    """Feature maps (k, H, W) in a row (vertical layout) or a column, one square cell of side
    max(H, W) + gap each; blanks are NaN."""
    k, h, w = maps.shape
    cell = max(h, w) + gap
    long = np.full((k, cell, cell), np.nan, np.float32)
    long[:, :h, :w] = maps
    if vertical:
        return np.concatenate(list(long), axis=1)[: cell - gap, : k * cell - gap]
    return np.concatenate(list(long), axis=0)[: k * cell - gap, : cell - gap]


def _maps_trace(column: Column, i: int, layout: _Layout) -> dict:
    """A column's feature maps as one heatmap, each map scaled by the column's largest value."""
    maps = column.maps
    _, h, w = maps.shape
    _, _, unit, gap = _tile_geometry(column)
    top = float(np.abs(maps).max()) or 1.0
    mosaic = _maps_mosaic(np.abs(maps) / top, layout.vertical, gap)
    cx, cy = layout.xy(_depth(i), 0.0)
    return _image_trace(
        mosaic,
        float(cx),
        float(cy),
        unit,
        "feature map value (scaled) %{z:.2f}<extra></extra>",
        colorscale=LIT_SCALE,
        zmin=0.0,
        zmax=1.0,
    )


def _edge_traces(diagram: Diagram, layout: _Layout) -> list[dict]:
    """Connections grouped into one line trace per (colour, width); segments are separated by gaps
    (NaN, which Plotly draws as None: numeric arrays keep the figure fast to build and to send)."""
    parts: dict[tuple[str, float], list[np.ndarray]] = defaultdict(list)
    chosen = diagram.selected is not None
    for i, edges in enumerate(diagram.edges):
        if len(edges) == 0:
            continue
        d0, p0 = _ends(diagram.columns[i], i, outgoing=True)
        d1, p1 = _ends(diagram.columns[i + 1], i + 1, outgoing=False)
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


def _hover(column: Column, i: int, j: int, names: tuple[str, ...]) -> str:
    unit = int(column.shown[j])
    lines = [f"<b>{names[unit]}</b>" if column.kind == "outputs" else f"<b>{column.title}, neuron {unit}</b>"]
    if column.kind == "outputs":
        lines.append(f"probability {column.values[j]:.1%}")
        if column.pre is not None:
            lines.append(f"score (logit) {column.pre[j]:+.3f}")
    elif column.kind == "maps":
        lines.append(f"mean activation {column.values[j]:.3f}")
    else:
        lines.append(f"activation {column.values[j]:.3f}")
        if column.pre is not None:
            lines.append(f"weighted sum {column.pre[j]:+.3f}")
    if column.bias is not None:
        lines.append(f"bias {column.bias[j]:+.3f}")
    lines.append("click: its strongest connections")
    return "<br>".join(lines)


def _output_label(diagram: Diagram, unit: int, probability: float, vertical: bool, truth: int | None) -> str:
    """ "7  98%": the answer in bold; the true class (when known) marked "true"."""
    name, prob = diagram.class_names[unit], f"{probability:.0%}"
    label = f"{name}<br>{prob}" if vertical else f"{name}  {prob}"
    if unit == truth:
        label += "<br>(true)" if vertical else "  ← true"
    return f"<b>{label}</b>" if unit == diagram.top else label


def _neuron_trace(diagram: Diagram, layout: _Layout, size: int, truth: int | None = None) -> dict:
    """Every neuron of every layer in one trace; customdata (column, unit) identifies a click.

    Feature maps get an almost invisible marker over each tile, so they can be hovered and clicked too.
    """
    xs, ys, shade, is_map, custom, text, hover = [], [], [], [], [], [], []
    for i, column in enumerate(diagram.columns[1:], start=1):
        p = neuron_positions(column)
        x, y = layout.xy(np.full(len(p), _depth(i)), p)
        xs.append(x)
        ys.append(y)
        top = float(np.abs(column.values).max()) or 1.0
        maps = column.kind == "maps"
        shade.append(np.zeros(len(p)) if maps else np.abs(column.values) / top)
        is_map.append(np.full(len(p), maps))
        custom.append(np.stack([np.full(len(p), i), column.shown], axis=1))
        hover += [_hover(column, i, j, diagram.class_names) for j in range(len(p))]
        if column.kind == "outputs":
            text += [
                _output_label(diagram, int(u), float(v), layout.vertical, truth)
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


def _half_thickness(column: Column) -> float:
    """Half the size of a column across the network's direction (image, tiles or neurons)."""
    if column.kind == "image":
        return IMAGE_SIDE / 2
    return _tile_geometry(column)[1] / 2 if column.kind == "maps" else 0.06


def _notes(diagram: Diagram, layout: _Layout) -> list[dict]:
    """Column titles, and under each wide layer how many neurons are left out and why.

    Left to right: titles above the columns, notes below. Top to bottom: each row's title above
    its left end, its note below its right end.
    """
    notes = []
    for i, column in enumerate(diagram.columns):
        if column.kind == "image":
            title = column.title
        elif column.kind == "outputs":
            title = "Output"
        else:
            title = f"Layer {i}<br>{column.title} · {column.size}"
        more = ""
        if column.left_out:
            what = "maps" if column.kind == "maps" else "neurons"
            more = f"+ {column.left_out} more {what}<br>(less active, not drawn)"
        if layout.vertical:
            half = _half_thickness(column)
            x, y = layout.xy(_depth(i) - half - 0.04, -SPAN / 2)
            notes.append(dict(x=x, y=y, text=title.replace("<br>", " · "), xanchor="left", yanchor="bottom"))
            if more:
                x, y = layout.xy(
                    _depth(i) + half + 0.04 + (0.12 if column.kind == "outputs" else 0), SPAN / 2
                )
                notes.append(dict(x=x, y=y, text=more.replace("<br>", " "), xanchor="right", yanchor="top"))
        else:
            x, y = layout.xy(_depth(i), -SPAN / 2 - 0.12)
            notes.append(dict(x=x, y=y, text=title, xanchor="center", yanchor="bottom"))
            if more:
                x, y = layout.xy(_depth(i), SPAN / 2 + 0.12)
                notes.append(dict(x=x, y=y, text=more, xanchor="center", yanchor="top"))
    for note in notes:
        note["x"], note["y"] = float(note["x"]), float(note["y"])
        grey = note["text"].startswith("+ ")
        note["font"] = dict(color=MUTED if grey else INK, size=11 if grey else 12)
        note["showarrow"] = False
        note["bgcolor"] = "rgba(27,33,41,0.85)"  # the board's colour: text stays readable over lines
    return notes


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
    layout = _Layout(orientation == "vertical")
    image = diagram.columns[0].maps[0]
    unit = IMAGE_SIDE / max(image.shape)
    cx, cy = layout.xy(_depth(0), 0.0)
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
    traces += [_maps_trace(c, i, layout) for i, c in enumerate(diagram.columns) if c.kind == "maps"]
    traces += _edge_traces(diagram, layout)
    size = 11 if layout.vertical else 15
    traces.append(_neuron_trace(diagram, layout, size, true_class))
    if diagram.selected is not None:
        col, unit_index = diagram.selected
        column = diagram.columns[col]
        x, y = layout.xy(_depth(col), neuron_positions(column)[column.position(unit_index)])
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
    lo, hi = -SPAN / 2 - 0.45, SPAN / 2 + 0.45
    if layout.vertical:
        xr, yr = (-SPAN / 2 - 0.15, SPAN / 2 + 0.15), (-(_depth(last) + 0.45), 0.25)
        top_space = 40
    else:
        xr, yr = (-0.05, _depth(last) + (1.1 if true_class is not None else 0.75)), (lo, hi)
        top_space = 10
    if height is None:
        height = 130 + 150 * len(diagram.columns) if layout.vertical else 480
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
        annotations=_notes(diagram, layout),
        shapes=[frame],
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
