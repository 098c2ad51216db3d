"""The network diagram on a page: the figure, a click on a neuron, and that neuron's details beside it.

Used by the Draw page (redrawn after every stroke) and by the playground's test-set analysis (for a
chosen test image). The clicked neuron is kept in ``st.session_state[key + "_neuron"]`` as
(column, unit), so it stays chosen while the drawing changes, until another neuron is clicked or
the "Let go of this neuron" button is pressed.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import streamlit as st

from nn_core.conv import Conv2D
from nn_core.network import Network
from ui.diagram.figure import diagram_figure, weight_image_figure
from ui.diagram.selection import EDGES_PER_UNIT, MAX_MAPS, MAX_UNITS, Diagram, build_diagram
from ui.diagram.stages import DiagramError, network_stages

LEGEND = (
    "Input on the left, then each layer, then the ten outputs. A neuron is lit from black (silent) to "
    "white (the most active of its layer). Lines show each drawn neuron's {per} strongest inputs "
    "(weight x incoming activation): **sky blue** pushes it up, **orange** pushes it down, thicker is "
    "stronger. Wide layers show their {k} most active neurons only. Hover a neuron for its numbers; "
    "click one to see its strongest inputs and outputs."
)
MAPS_LEGEND = (
    " A convolutional or pooling layer is a column of feature maps (its {m} most active channels, by "
    "mean activation; a pooling layer keeps the channels drawn before it). A line into a map is an input "
    "channel's mean push on it (the channel's values times the filter's weights, averaged over the "
    "map); a line into a dense neuron from a map sums that map's weight x activation over its positions."
)


def picked_neuron(event: object) -> tuple[int, int] | None:
    """The (column, unit) of the neuron a chart selection event points at, or None (a click elsewhere)."""
    selection = event.get("selection", {}) if isinstance(event, dict) else {}
    for point in selection.get("points", []) if isinstance(selection, dict) else []:
        data = point.get("customdata") if isinstance(point, dict) else None
        if isinstance(data, list | tuple) and len(data) == 2:
            return int(data[0]), int(data[1])
    return None


def _on_pick(chart_key: str, neuron_key: str) -> None:
    """Keep the clicked neuron. An empty selection changes nothing: Plotly may send one when it redraws
    the chart with new data, which must not drop the choice; "Let go of this neuron" does that."""
    neuron = picked_neuron(st.session_state.get(chart_key))
    if neuron is not None:
        st.session_state[neuron_key] = neuron


def _details(network: Network, diagram: Diagram, key: str) -> None:
    """The chosen neuron: its numbers, and for the first hidden layer its incoming weights as an image."""
    if diagram.selected is None:
        st.caption(
            "Click a neuron to see its strongest connections, and, in the first layer, what it looks for."
        )
        return
    col, unit = diagram.selected
    column = diagram.columns[col]
    j = column.position(unit)
    if column.kind == "maps":
        _map_details(network, diagram, key)
        return
    name = diagram.class_names[unit] if column.kind == "outputs" else f"neuron {unit}"
    st.markdown(f"**{'Output' if column.kind == 'outputs' else f'Layer {col}'}: {name}**")
    value = f"{column.values[j]:.1%}" if column.kind == "outputs" else f"{column.values[j]:.3f}"
    st.markdown(
        f"{'probability' if column.kind == 'outputs' else 'activation'} {value}"
        + ("" if column.bias is None else f"  \nbias {column.bias[j]:+.3f}")
        + ("" if column.pre is None else f"  \nweighted sum {column.pre[j]:+.3f}")
    )
    if col == 1 and column.kind == "units":
        W = network.dense_layers[0].W  # (784, width)
        st.plotly_chart(
            weight_image_figure(W[:, unit].reshape(28, 28), "Incoming weights", height=230),
            key=key + "_weights",
            config={"displayModeBar": False},
        )
        st.caption("Sky blue: ink there raises this neuron; orange: ink there lowers it.")
    _release_button(key)


def _map_details(network: Network, diagram: Diagram, key: str) -> None:
    """A chosen feature map: its numbers, and for a first convolution on the image its filter."""
    col, unit = diagram.selected
    column = diagram.columns[col]
    j = column.position(unit)
    maps = column.maps[j]  # (H, W)
    st.markdown(f"**Layer {col}: channel {unit}**")
    st.markdown(
        f"{maps.shape[0]}x{maps.shape[1]} map  \nmean activation {column.values[j]:.3f}  \n"
        f"max {maps.max():.3f}" + ("" if column.bias is None else f"  \nbias {column.bias[j]:+.3f}")
    )
    first = network.layers[0]
    if col == 1 and isinstance(first, Conv2D) and first.c_in == 1:
        kh, kw = first.W.shape[:2]
        st.plotly_chart(
            weight_image_figure(first.W[:, :, 0, unit], f"Its {kh}x{kw} filter", height=200),
            key=key + "_weights",
            config={"displayModeBar": False},
        )
        st.caption("Sky blue: ink there raises this map; orange: ink there lowers it.")
    _release_button(key)


def _release_button(key: str) -> None:
    st.button(
        "Let go of this neuron",
        key=key + "_release",
        icon=":material/close:",
        on_click=lambda: st.session_state.pop(key + "_neuron", None),
    )


def diagram_panel(
    network: Network, image: np.ndarray, class_names: Sequence[str], key: str, true_class: int | None = None
) -> Diagram | None:
    """The diagram of ``network`` for one image (28, 28) in [0, 1], with the chosen neuron's details.

    ``key`` names the chart; the layout choice and the chosen neuron are kept under keys built from it.
    ``true_class``: the image's label when known (a test image), marked beside its output.
    Returns the diagram drawn (None when the network cannot be drawn: a message says why).
    """
    neuron_key = key + "_neuron"
    try:
        stages = network_stages(network, image)
        diagram = build_diagram(image, stages, class_names, selected=st.session_state.get(neuron_key))
    except (DiagramError, ValueError) as err:
        st.info(f"The network diagram cannot show this model: {err}.", icon=":material/info:")
        return None
    maps = any(c.kind == "maps" for c in diagram.columns)
    st.caption(
        LEGEND.format(per=EDGES_PER_UNIT, k=MAX_UNITS) + (MAPS_LEGEND.format(m=MAX_MAPS) if maps else "")
    )
    vertical = st.toggle(
        "Top to bottom", key=key + "_vertical", help="Input on top, outputs at the bottom: suits a phone."
    )
    chart_col, detail_col = st.columns([3, 1], gap="small")
    with chart_col:
        st.plotly_chart(
            diagram_figure(diagram, "vertical" if vertical else "horizontal", true_class=true_class),
            key=key,
            on_select=partial(_on_pick, key, neuron_key),
            selection_mode="points",
            config={"displayModeBar": False, "scrollZoom": False},
        )
    with detail_col:
        _details(network, diagram, key)
    return diagram
