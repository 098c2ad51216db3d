"""The network diagram's words: hover text, output labels, column titles and the notes on what is
left out (pure functions of a ``Diagram``)."""

from __future__ import annotations

from ui.diagram.geometry import Layout, depth, diagram_span, half_thickness
from ui.diagram.selection import Column, Diagram

BOARD = "#1B2129"  # background
INK = "#E6E9ED"  # text
MUTED = "#9AA5B1"  # notes, outlines


def hover_text(column: Column, i: int, j: int, names: tuple[str, ...]) -> str:
    """What hovering the j-th drawn neuron of column i shows: its activation (probability), weighted
    sum and bias."""
    unit = int(column.shown[j])
    if column.kind == "maps":
        return map_summary(column, i, j) + "<br>click: its strongest connections"
    lines = [f"<b>{names[unit]}</b>" if column.kind == "outputs" else f"<b>{column.title}, neuron {unit}</b>"]
    if column.kind == "outputs":
        lines.append(f"probability {column.values[j]:.1%}")
        if column.pre is not None:
            lines.append(f"score (logit) {column.pre[j]:+.3f}")
    else:
        lines.append(f"activation {column.values[j]:.3f}")
        if column.pre is not None:
            lines.append(f"weighted sum {column.pre[j]:+.3f}")
    if column.bias is not None:
        lines.append(f"bias {column.bias[j]:+.3f}")
    lines.append("click: its strongest connections")
    return "<br>".join(lines)


def map_summary(column: Column, i: int, j: int) -> str:
    """The j-th drawn feature map of column i: its layer, channel, mean and largest value (and bias)."""
    maps = column.maps[j]  # (H, W)
    lines = [
        f"<b>Layer {i}, {column.title}: channel {int(column.shown[j])}</b>",
        f"{maps.shape[0]}x{maps.shape[1]} map, mean activation {column.values[j]:.3f}, max {maps.max():.3f}",
    ]
    if column.bias is not None:
        lines.append(f"bias {column.bias[j]:+.3f}")
    return "<br>".join(lines)


def map_hover(column: Column, i: int, j: int) -> str:
    """Hover template of one feature-map image: the map's summary and the value under the pointer."""
    return map_summary(column, i, j) + "<br>here %{z:.3f}<extra></extra>"


def output_label(diagram: Diagram, unit: int, probability: float, vertical: bool, truth: int | None) -> str:
    """ "7  98%": the answer in bold; the true class (when known) marked "true"."""
    name, prob = diagram.class_names[unit], f"{probability:.0%}"
    label = f"{name}<br>{prob}" if vertical else f"{name}  {prob}"
    if unit == truth:
        label += "<br>(true)" if vertical else "  ← true"
    return f"<b>{label}</b>" if unit == diagram.top else label


def column_notes(diagram: Diagram, layout: Layout) -> list[dict]:
    """Column titles, and under each wide layer how many neurons are left out and why.

    Left to right: titles above the columns, notes below. Top to bottom: each row's title above
    its left end, its note below its right end.
    """
    notes = []
    span = diagram_span(diagram.columns)
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
            half = half_thickness(column)
            x, y = layout.xy(depth(i) - half - 0.04, -span / 2)
            notes.append(dict(x=x, y=y, text=title.replace("<br>", " · "), xanchor="left", yanchor="bottom"))
            if more:
                x, y = layout.xy(depth(i) + half + 0.04 + (0.12 if column.kind == "outputs" else 0), span / 2)
                notes.append(dict(x=x, y=y, text=more.replace("<br>", " "), xanchor="right", yanchor="top"))
        else:
            x, y = layout.xy(depth(i), -span / 2 - 0.12)
            notes.append(dict(x=x, y=y, text=title, xanchor="center", yanchor="bottom"))
            if more:
                x, y = layout.xy(depth(i), span / 2 + 0.12)
                notes.append(dict(x=x, y=y, text=more, xanchor="center", yanchor="top"))
    for note in notes:
        note["x"], note["y"] = float(note["x"]), float(note["y"])
        grey = note["text"].startswith("+ ")
        note["font"] = dict(color=MUTED if grey else INK, size=11 if grey else 12)
        note["showarrow"] = False
        note["bgcolor"] = "rgba(27,33,41,0.85)"  # the board's colour: text stays readable over lines
    return notes
