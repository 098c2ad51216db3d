"""The network diagram's Plotly figure (ui/diagram/figure.py), checked without a browser: layout,
which neurons are drawn, how the connections are batched and coloured, the clicked neuron."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from nn_core.config import ModelConfig
from nn_core.network import build_network
from nn_core.store.default_model import load_default_model
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
from ui.diagram.geometry import depth
from ui.diagram.selection import MAX_MAPS, Stage, build_diagram
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


@pytest.fixture(scope="module")
def cnn():
    """The shipped default model (conv, pool, conv, pool, dense 128, outputs) and a drawn-looking 7."""
    network = load_default_model().network
    image = np.zeros((28, 28), np.float32)
    image[6:9, 7:21] = 1.0
    for r in range(9, 23):
        image[r, 19 - (r - 9) // 2 : 22 - (r - 9) // 2] = 1.0
    return network, image, network_stages(network, image)


def _maps(fig: go.Figure) -> list[go.Heatmap]:
    return [t for t in fig.data if t.type == "heatmap"][1:]  # the first heatmap is the input


def test_a_cnn_draws_one_image_per_shown_feature_map_on_its_tile(cnn):
    _, image, stages = cnn
    diagram = build_diagram(image, stages, NAMES)
    fig = diagram_figure(diagram)
    columns = [(i, c) for i, c in enumerate(diagram.columns) if c.kind == "maps"]
    assert [len(c.shown) for _, c in columns] == [MAX_MAPS] * 4
    maps = _maps(fig)
    assert len(maps) == 4 * MAX_MAPS  # one image trace per shown map
    shapes = [np.shape(t.z) for t in maps]
    assert shapes == [(24, 24)] * 8 + [(12, 12)] * 8 + [(8, 8)] * 8 + [(4, 4)] * 8
    traces = iter(maps)
    for i, column in columns:
        top = float(np.abs(column.maps).max())
        positions = neuron_positions(column)
        for j, channel in enumerate(column.shown):
            trace = next(traces)
            np.testing.assert_allclose(np.asarray(trace.z)[::-1], stages[i - 1].values[:, :, channel])
            assert trace.zmin == 0.0 and trace.zmax == pytest.approx(top)  # one scale per column
            rows = np.shape(trace.z)[0]
            assert trace.y0 + (rows - 1) / 2 * trace.dy == pytest.approx(-positions[j])  # centred on its tile
            assert trace.x0 + (rows - 1) / 2 * trace.dx == pytest.approx(depth(i))
            assert f"Layer {i}, {column.title}: channel {channel}</b>" in trace.hovertemplate
            assert (
                f"mean activation {column.values[j]:.3f}, max {column.maps[j].max():.3f}"
                in trace.hovertemplate
            )
    frames = [s for s in fig.layout.shapes if s.layer == "above"]
    assert len(frames) == 4 * MAX_MAPS  # an outline around every map


def test_a_cnn_says_how_many_maps_are_left_out(cnn):
    _, image, stages = cnn
    texts = [a.text for a in diagram_figure(build_diagram(image, stages, NAMES)).layout.annotations]
    more = [t for t in texts if t.startswith("+ ")]
    assert more == [
        "+ 24 more maps<br>(less active, not drawn)",
        "+ 24 more maps<br>(less active, not drawn)",
        "+ 56 more maps<br>(less active, not drawn)",
        "+ 56 more maps<br>(less active, not drawn)",
        "+ 112 more neurons<br>(less active, not drawn)",
    ]
    assert "Layer 1<br>conv 5x5 · bn · relu · 32" in texts and "Layer 2<br>max pool 2x2 · 32" in texts


def test_a_cnn_draws_no_lines_but_between_drawn_maps_and_neurons(cnn):
    network, image, stages = cnn
    diagram = build_diagram(image, stages, NAMES)
    fig = diagram_figure(diagram)
    segments = sum(len(t.x) // 3 for t in _edge_traces(fig))
    assert segments == sum(len(e) for e in diagram.edges)
    assert len(diagram.edges[0]) == MAX_MAPS  # the image feeds each drawn map of the first convolution
    assert len(diagram.edges[1]) == MAX_MAPS  # each map to its own pooled map
    assert len(diagram.edges[4]) == 3 * 16  # each drawn dense neuron: its 3 strongest drawn maps
    neurons = _neurons(fig)
    assert len(neurons.customdata) == 4 * MAX_MAPS + 16 + 10
    first_map = neurons.hovertext[0]
    assert first_map.startswith(
        f"<b>Layer 1, conv 5x5 · bn · relu: channel {diagram.columns[1].shown[0]}</b>"
    )
    assert "click: its strongest connections" in first_map
    dense = diagram.columns[5]
    labels = [t for t in neurons.text if t]
    assert len(labels) == 10 and labels[diagram.top].startswith("<b>")
    assert diagram.top == int(np.argmax(network.predict_proba(image)[0]))
    assert dense.kind == "units" and len(dense.shown) == 16


def test_a_clicked_feature_map_gets_a_ring_on_its_tile(cnn):
    _, image, stages = cnn
    channel = int(np.argmin(stages[0].values.mean(axis=(0, 1))))  # the quietest: drawn only when chosen
    diagram = build_diagram(image, stages, NAMES, selected=(1, channel))
    fig = diagram_figure(diagram)
    (ring,) = [t for t in fig.data if t.type == "scatter" and t.marker.symbol == "circle-open"]
    column = diagram.columns[1]
    assert ring.y[0] == pytest.approx(-neuron_positions(column)[column.position(channel)])
    assert sum(len(t.x) // 3 for t in _edge_traces(fig) if t.line.color != FADED) > 0


def test_signed_feature_maps_get_orange_below_zero():
    rng = np.random.default_rng(2)
    maps = rng.normal(size=(12, 12, 8)).astype(np.float32)  # a convolution without an activation
    stages = [
        Stage("conv", maps, rng.normal(size=(1, 8)).astype(np.float32)),
        Stage(
            "output",
            rng.dirichlet(np.ones(10)).astype(np.float32),
            rng.normal(size=(8, 10)).astype(np.float32),
        ),
    ]
    diagram = build_diagram(rng.random((28, 28, 1), dtype=np.float32), stages, NAMES, max_maps=5)
    maps_drawn = _maps(diagram_figure(diagram))
    assert len(maps_drawn) == 5
    top = float(np.abs(diagram.columns[1].maps).max())
    for trace in maps_drawn:
        assert trace.zmin == pytest.approx(-top) and trace.zmax == pytest.approx(top)
        assert trace.colorscale[0][1].lower() == DOWN_COLOR.lower()  # negative values orange
    assert diagram_figure(diagram, "vertical").layout.height > 480


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
