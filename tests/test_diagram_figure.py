"""The network diagram's Plotly figure (ui/diagram/figure.py), checked without a browser: layout,
which neurons are drawn, how the connections are batched and coloured, the clicked neuron."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from nn_core.config import ModelConfig
from nn_core.network import build_network
from ui.diagram.figure import (
    DOWN_COLOR,
    FADED,
    RING,
    UP_COLOR,
    WIDTHS,
    diagram_figure,
    neuron_positions,
    weight_image_figure,
)
from ui.diagram.selection import Stage, build_diagram
from ui.diagram.stages import network_stages

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@pytest.fixture(scope="module")
def wide():
    """A 784-100-12-10 network and a random input: its first layer is too wide to draw whole."""
    network = build_network(
        ModelConfig(hidden=(100, 12), activations=("relu", "relu")), np.random.default_rng(0)
    )
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    return network, image, network_stages(network, image)


def _edge_traces(fig: go.Figure) -> list[go.Scatter]:
    return [t for t in fig.data if t.type == "scatter" and t.mode == "lines"]


def _neurons(fig: go.Figure) -> go.Scatter:
    (trace,) = [t for t in fig.data if t.type == "scatter" and t.customdata is not None]
    return trace


def test_the_figure_stays_small_and_draws_every_chosen_neuron_once(wide):
    _, image, stages = wide
    diagram = build_diagram(image, stages, NAMES)
    fig = diagram_figure(diagram)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 1  # the input image, as one heatmap
    np.testing.assert_allclose(np.asarray(heatmaps[0].z)[::-1], image)  # drawn upright
    edges = _edge_traces(fig)
    assert 1 <= len(edges) <= 2 * len(WIDTHS) and len(fig.data) <= 8
    neurons = _neurons(fig)
    drawn = [tuple(c) for c in neurons.customdata]
    expected = [(i, int(u)) for i, c in enumerate(diagram.columns[1:], start=1) for u in c.shown]
    assert drawn == expected and len(drawn) == 16 + 12 + 10


def test_connections_are_batched_by_colour_and_width_with_gaps(wide):
    _, image, stages = wide
    diagram = build_diagram(image, stages, NAMES)
    fig = diagram_figure(diagram)
    values = np.concatenate([e.value for e in diagram.edges])
    segments = {UP_COLOR: 0, DOWN_COLOR: 0}
    for trace in _edge_traces(fig):
        assert trace.hoverinfo == "skip"
        xs = np.asarray(trace.x, dtype=np.float64)
        assert len(xs) % 3 == 0 and np.isnan(xs[2::3]).all()  # (start, end, gap) per segment
        assert not np.isnan(xs[0::3]).any() and not np.isnan(xs[1::3]).any()
        segments[trace.line.color] += len(xs) // 3
        assert trace.line.width in WIDTHS
    assert segments[UP_COLOR] == int(np.sum(values > 0))
    assert segments[DOWN_COLOR] == int(np.sum(values < 0))
    widest = [t for t in _edge_traces(fig) if t.line.width == WIDTHS[-1]]
    assert widest, "the strongest connection of each layer is drawn thickest"


def test_pixel_connections_start_at_their_pixels(wide):
    _, image, stages = wide
    diagram = build_diagram(image, stages, NAMES)
    fig = diagram_figure(diagram)
    heat = next(t for t in fig.data if t.type == "heatmap")
    edges = diagram.edges[0]
    starts = set()
    for trace in _edge_traces(fig):
        xs, ys = list(trace.x), list(trace.y)
        starts |= {(round(xs[i], 6), round(ys[i], 6)) for i in range(0, len(xs), 3)}
    for pixel in edges.src[:5]:
        r, c = divmod(int(pixel), 28)
        x = heat.x0 + c * heat.dx
        y = heat.y0 + (27 - r) * heat.dy  # z is stored bottom row first
        assert (round(x, 6), round(y, 6)) in starts


def test_wide_layers_say_how_many_neurons_are_left_out_and_why(wide):
    _, image, stages = wide
    fig = diagram_figure(build_diagram(image, stages, NAMES))
    texts = [a.text for a in fig.layout.annotations]
    assert "+ 84 more neurons<br>(less active, not drawn)" in texts
    assert sum("more neurons" in t for t in texts) == 1  # the 12-wide layer is drawn whole
    assert "Layer 1<br>relu · 100" in texts and "Output" in texts and "Input 28x28" in texts


def test_outputs_carry_class_names_and_probabilities_the_top_one_bold(wide):
    network, image, stages = wide
    diagram = build_diagram(image, stages, NAMES)
    neurons = _neurons(diagram_figure(diagram))
    probs = network.predict_proba(image)[0]
    labels = [t for t in neurons.text if t]
    assert len(labels) == 10
    top = int(np.argmax(probs))
    assert labels[top] == f"<b>{NAMES[top]}  {probs[top]:.0%}</b>"
    hover = neurons.hovertext[-10 + top]
    assert f"probability {probs[top]:.1%}" in hover and "bias" in hover
    first = neurons.hovertext[0]
    unit = int(diagram.columns[1].shown[0])
    assert f"neuron {unit}" in first and f"activation {stages[0].values[unit]:.3f}" in first
    assert f"bias {network.dense_layers[0].b[unit]:+.3f}" in first


def test_neurons_are_lit_by_activation_within_their_layer(wide):
    _, image, stages = wide
    diagram = build_diagram(image, stages, NAMES)
    neurons = _neurons(diagram_figure(diagram))
    shade = np.asarray(neurons.marker.color)[:16]
    values = diagram.columns[1].values
    np.testing.assert_allclose(shade, np.abs(values) / np.abs(values).max(), rtol=1e-6)
    assert shade.max() == pytest.approx(1.0)


def test_a_clicked_neuron_gets_a_ring_and_only_its_connections_in_colour(wide):
    _, image, stages = wide
    quiet = int(np.argsort(np.abs(stages[0].values))[50])
    diagram = build_diagram(image, stages, NAMES, selected=(1, quiet))
    fig = diagram_figure(diagram)
    ring = [t for t in fig.data if t.type == "scatter" and t.marker.symbol == "circle-open"]
    assert len(ring) == 1 and ring[0].marker.color == RING
    column = diagram.columns[1]
    p = neuron_positions(column)[column.position(quiet)]
    assert ring[0].y[0] == pytest.approx(-p)
    coloured = sum(len(t.x) // 3 for t in _edge_traces(fig) if t.line.color != FADED)
    assert coloured == sum(int(e.focus.sum()) for e in diagram.edges) > 0
    assert any(t.line.color == FADED for t in _edge_traces(fig))


def test_top_to_bottom_puts_the_input_above_the_outputs(wide):
    _, image, stages = wide
    diagram = build_diagram(image, stages, NAMES)
    across, down = diagram_figure(diagram), diagram_figure(diagram, "vertical")
    for fig, axis in ((across, "x"), (down, "y")):
        heat = next(t for t in fig.data if t.type == "heatmap")
        out = np.asarray(getattr(_neurons(fig), axis))[-10:]
        image_at = heat.x0 if axis == "x" else heat.y0
        assert np.all(out > image_at) if axis == "x" else np.all(out < image_at)
    assert down.layout.height > across.layout.height
    assert across.layout.yaxis.scaleanchor == "x"  # square pixels at any width
    with pytest.raises(ValueError, match="orientation"):
        diagram_figure(diagram, "diagonal")


def test_feature_maps_are_one_heatmap_per_column_with_tiles_on_their_positions():
    rng = np.random.default_rng(2)
    maps = rng.random((12, 12, 8), dtype=np.float32)
    stages = [
        Stage("conv", maps, rng.normal(size=(1, 8)).astype(np.float32)),
        Stage(
            "output",
            rng.dirichlet(np.ones(10)).astype(np.float32),
            rng.normal(size=(8, 10)).astype(np.float32),
        ),
    ]
    diagram = build_diagram(rng.random((28, 28, 1), dtype=np.float32), stages, NAMES, max_maps=5)
    fig = diagram_figure(diagram)
    heatmaps = [t for t in fig.data if t.type == "heatmap"]
    assert len(heatmaps) == 2
    tiles = np.asarray(heatmaps[1].z, dtype=np.float64)[::-1]  # top tile first
    column = diagram.columns[1]
    scaled = np.abs(column.maps) / np.abs(column.maps).max()
    cell = (tiles.shape[0] + 3) // 5  # 5 tiles of 12 pixels with a gap of 3
    for j in range(5):
        np.testing.assert_allclose(tiles[j * cell : j * cell + 12], scaled[j], rtol=1e-6)
    centre = heatmaps[1].y0 + (tiles.shape[0] - 1 - (j * cell + 5.5)) * heatmaps[1].dy
    assert centre == pytest.approx(-neuron_positions(column)[j])


def test_weight_image_is_centred_on_zero():
    weights = np.random.default_rng(3).normal(size=(28, 28)).astype(np.float32)
    fig = weight_image_figure(weights, "Its incoming weights")
    heat = fig.data[0]
    assert heat.zmin == -heat.zmax == pytest.approx(-np.abs(weights).max())
    assert fig.layout.title.text == "Its incoming weights"


def test_the_true_class_is_marked_beside_its_output(wide):
    _, image, stages = wide
    diagram = build_diagram(image, stages, NAMES)
    truth = (diagram.top + 1) % 10  # a wrong answer
    labels = [t for t in _neurons(diagram_figure(diagram, true_class=truth)).text if t]
    assert labels[truth].endswith("  ← true") and not labels[truth].startswith("<b>")
    assert sum("true" in label for label in labels) == 1
    assert labels[diagram.top].startswith("<b>")
    assert not any("true" in t for t in _neurons(diagram_figure(diagram)).text)
