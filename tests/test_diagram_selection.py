"""Which neurons and connections the network diagram draws (ui/diagram/selection.py), without a browser."""

from __future__ import annotations

import numpy as np
import pytest

from ui.diagram.selection import (
    Stage,
    build_diagram,
    image_column,
    most_active,
    select_edges,
    stage_column,
)

NAMES = tuple(str(d) for d in range(10))


def _mlp_stages(rng: np.random.Generator, widths=(40, 12)) -> tuple[np.ndarray, list[Stage]]:
    """A random image and dense stages 784 -> widths -> 10 (values need not come from the weights here)."""
    image = rng.random((28, 28), dtype=np.float32)
    stages, n_prev = [], 784
    for width in widths:
        values = np.maximum(rng.normal(size=width).astype(np.float32), 0)
        stages.append(
            Stage("relu", values, rng.normal(size=(n_prev, width)).astype(np.float32), rng.normal(size=width))
        )
        n_prev = width
    probs = rng.dirichlet(np.ones(10)).astype(np.float32)
    stages.append(Stage("output", probs, rng.normal(size=(n_prev, 10)).astype(np.float32), np.zeros(10)))
    return image, stages


def test_most_active_keeps_the_k_largest_sorted_by_index():
    strength = np.array([0.1, 5.0, 0.0, 3.0, 4.0, 0.2], np.float32)
    np.testing.assert_array_equal(most_active(strength, 3), [1, 3, 4])
    np.testing.assert_array_equal(most_active(strength, 10), np.arange(6))
    np.testing.assert_array_equal(most_active(strength, 3, pinned=2), [1, 2, 4])  # replaces the weakest (3.0)
    np.testing.assert_array_equal(most_active(strength, 3, pinned=4), [1, 3, 4])  # already drawn


def test_a_wide_layer_draws_its_most_active_neurons_and_counts_the_rest():
    rng = np.random.default_rng(0)
    values = rng.normal(size=100).astype(np.float32)
    stage = Stage("tanh", values, np.zeros((784, 100), np.float32), rng.normal(size=100))
    column = stage_column(stage, "units", 16)
    assert column.kind == "units" and column.size == 100 and column.left_out == 84
    expected = np.sort(np.argsort(-np.abs(values))[:16])  # by |activation|: tanh's -0.9 is active
    np.testing.assert_array_equal(column.shown, expected)
    np.testing.assert_allclose(column.values, values[expected])
    np.testing.assert_allclose(column.bias, stage.bias[expected].astype(np.float32))
    assert column.position(int(expected[3])) == 3 and column.position(int(np.argmin(np.abs(values)))) is None


def test_the_input_image_feeds_pixels_to_a_dense_layer_and_channels_to_a_convolution():
    image = np.arange(784, dtype=np.float32).reshape(28, 28) / 784
    pixels = image_column(image, 784)
    assert pixels.kind == "image" and pixels.size == 784 and pixels.left_out == 0
    np.testing.assert_allclose(pixels.values, image.ravel())
    assert pixels.maps.shape == (1, 28, 28)
    whole = image_column(image[:, :, None], 1)
    np.testing.assert_allclose(whole.values, [image.mean()], rtol=1e-6)
    with pytest.raises(ValueError, match="cannot feed"):
        image_column(image, 10)


def _brute_force_edges(contributions, src_shown, dst_shown, per_unit):
    """For each drawn target, the per_unit strongest non-zero inputs among drawn sources."""
    pairs = set()
    for d_pos, d in enumerate(dst_shown):
        column = [(abs(contributions[s, d]), s_pos) for s_pos, s in enumerate(src_shown)]
        column.sort(key=lambda t: (-t[0], t[1]))
        pairs |= {(s_pos, d_pos) for size, s_pos in column[:per_unit] if size > 0}
    return pairs


def test_each_drawn_neuron_keeps_its_strongest_incoming_connections():
    rng = np.random.default_rng(1)
    image, stages = _mlp_stages(rng)
    stages[0].contributions[:, 5] = 0.0  # a unit nothing reaches gets no line
    diagram = build_diagram(image, stages, NAMES, max_units=16, edges_per_unit=3)
    assert [c.kind for c in diagram.columns] == ["image", "units", "units", "outputs"]
    assert len(diagram.edges) == 3
    for i, edges in enumerate(diagram.edges):
        src, dst = diagram.columns[i], diagram.columns[i + 1]
        full = stages[i].contributions
        got = set(zip(edges.src.tolist(), edges.dst.tolist(), strict=True))
        assert got == _brute_force_edges(full, src.shown, dst.shown, 3)
        np.testing.assert_allclose(edges.value, full[src.shown[edges.src], dst.shown[edges.dst]])
        assert not edges.focus.any()
    first = diagram.columns[1]
    pos5 = first.position(5)
    if pos5 is not None:
        assert not np.any(diagram.edges[0].dst == pos5)


def test_outputs_are_all_drawn_and_the_top_class_is_known():
    rng = np.random.default_rng(2)
    image, stages = _mlp_stages(rng, widths=(8,))
    diagram = build_diagram(image, stages, NAMES)
    out = diagram.columns[-1]
    assert out.kind == "outputs" and len(out.shown) == 10 and out.left_out == 0
    assert diagram.top == int(np.argmax(stages[-1].values))
    assert len(diagram.columns[1].shown) == 8  # a narrow layer is drawn whole
    with pytest.raises(ValueError, match="class names"):
        build_diagram(image, stages, NAMES[:9])


def test_a_clicked_neuron_is_always_drawn_with_its_strongest_inputs_and_outputs():
    rng = np.random.default_rng(3)
    image, stages = _mlp_stages(rng, widths=(64, 12))
    quiet = int(np.argmin(np.abs(stages[0].values)))  # the least active unit of layer 1: never in the top 16
    diagram = build_diagram(image, stages, NAMES, selected=(1, quiet), max_units=16)
    column = diagram.columns[1]
    assert diagram.selected == (1, quiet) and column.position(quiet) is not None
    pos = column.position(quiet)
    incoming, outgoing = diagram.edges[0], diagram.edges[1]
    focus_in = incoming.src[incoming.focus & (incoming.dst == pos)]
    strongest = np.argsort(-np.abs(stages[0].contributions[:, quiet]), kind="stable")[:8]
    assert set(focus_in.tolist()) == set(
        strongest[np.abs(stages[0].contributions[strongest, quiet]) > 0].tolist()
    )
    focus_out = outgoing.dst[outgoing.focus]
    assert np.all(outgoing.src[outgoing.focus] == pos)
    row = np.abs(stages[1].contributions[quiet, diagram.columns[2].shown])
    expected = np.argsort(-row, kind="stable")[:8]
    assert set(focus_out.tolist()) == set(expected[row[expected] > 0].tolist())
    assert not diagram.edges[2].focus.any()


@pytest.mark.parametrize("selected", [(0, 3), (1, 999), (7, 0), None])
def test_a_click_that_is_not_a_neuron_selects_nothing(selected):
    image, stages = _mlp_stages(np.random.default_rng(4))
    diagram = build_diagram(image, stages, NAMES, selected=selected)
    assert diagram.selected is None
    assert not any(e.focus.any() for e in diagram.edges)


def test_feature_maps_become_a_column_of_the_most_active_maps():
    rng = np.random.default_rng(5)
    maps = rng.random((12, 12, 10), dtype=np.float32)
    maps[:, :, [2, 7]] *= 5  # two channels clearly most active
    stage = Stage("conv 3x3, relu", maps, rng.normal(size=(1, 10)).astype(np.float32), np.zeros(10))
    column = stage_column(stage, "units", 4)
    assert column.kind == "maps" and column.size == 10 and column.left_out == 6
    assert {2, 7} <= set(column.shown.tolist())
    np.testing.assert_array_equal(column.maps, np.moveaxis(maps[:, :, column.shown], -1, 0))
    np.testing.assert_allclose(column.values, maps[:, :, column.shown].mean(axis=(0, 1)), rtol=1e-6)


def test_a_convolutional_network_is_drawn_with_maps_columns():
    rng = np.random.default_rng(6)
    image = rng.random((28, 28, 1), dtype=np.float32)
    conv = Stage(
        "conv", rng.random((26, 26, 8), dtype=np.float32), rng.normal(size=(1, 8)).astype(np.float32)
    )
    pool = Stage(
        "max pool", rng.random((13, 13, 8), dtype=np.float32), np.diag(rng.random(8)).astype(np.float32)
    )
    dense = Stage("relu", rng.random(32, dtype=np.float32), rng.normal(size=(8, 32)).astype(np.float32))
    out = Stage(
        "output", rng.dirichlet(np.ones(10)).astype(np.float32), rng.normal(size=(32, 10)).astype(np.float32)
    )
    diagram = build_diagram(image, [conv, pool, dense, out], NAMES, max_maps=6, selected=(2, 3))
    assert [c.kind for c in diagram.columns] == ["image", "maps", "maps", "units", "outputs"]
    assert diagram.columns[0].size == 1 and len(diagram.columns[1].shown) == 6
    assert diagram.columns[2].position(3) is not None  # pinned
    pool_edges = diagram.edges[1]
    src = diagram.columns[1].shown[pool_edges.src]
    dst = diagram.columns[2].shown[pool_edges.dst]
    np.testing.assert_array_equal(src, dst)  # a pooling layer joins each channel to itself only


def test_contributions_of_the_wrong_shape_are_refused():
    image, stages = _mlp_stages(np.random.default_rng(7), widths=(8,))
    bad = [Stage("relu", stages[0].values, np.zeros((784, 9), np.float32)), stages[1]]
    with pytest.raises(ValueError, match="contributions of shape"):
        build_diagram(image, bad, NAMES)


def test_select_edges_drops_zero_contributions_even_when_focused():
    image = np.zeros((2, 2), np.float32)
    src = image_column(image, 4)
    dst = stage_column(Stage("relu", np.ones(3, np.float32), np.zeros((4, 3), np.float32)), "units", 16)
    contributions = np.zeros((4, 3), np.float32)
    contributions[1, 2] = -0.5
    edges = select_edges(contributions, src, dst, per_unit=2, focus=("dst", 0))
    assert edges.src.tolist() == [1] and edges.dst.tolist() == [2] and edges.value.tolist() == [-0.5]


def _cnn_stages(rng: np.random.Generator) -> tuple[np.ndarray, list[Stage]]:
    """A random image and synthetic stages: conv (20 channels), pooling (the same 20), dense 30, outputs."""
    image = rng.random((28, 28, 1), dtype=np.float32)
    conv = rng.random((12, 12, 20), dtype=np.float32) * rng.random(20, dtype=np.float32)
    pooled = conv.reshape(6, 2, 6, 2, 20).max(axis=(1, 3)) * rng.random(20, dtype=np.float32)  # reordered
    dense = rng.random(30).astype(np.float32)
    probs = rng.dirichlet(np.ones(10)).astype(np.float32)
    stages = [
        Stage("conv", conv, rng.normal(size=(1, 20)).astype(np.float32), rng.normal(size=20)),
        Stage("max pool", pooled, np.diag(pooled.mean(axis=(0, 1))), follows=True),
        Stage("relu", dense, rng.normal(size=(20, 30)).astype(np.float32), rng.normal(size=30)),
        Stage("output", probs, rng.normal(size=(30, 10)).astype(np.float32), np.zeros(10)),
    ]
    return image, stages


def test_feature_maps_are_the_most_active_channels_and_pooling_keeps_them():
    rng = np.random.default_rng(4)
    image, stages = _cnn_stages(rng)
    diagram = build_diagram(image, stages, NAMES, max_maps=8)
    conv, pooled = diagram.columns[1], diagram.columns[2]
    assert [c.kind for c in diagram.columns] == ["image", "maps", "maps", "units", "outputs"]
    means = stages[0].values.mean(axis=(0, 1))
    np.testing.assert_array_equal(conv.shown, np.sort(np.argsort(-means)[:8]))
    assert conv.left_out == 12 and conv.maps.shape == (8, 12, 12)
    np.testing.assert_allclose(conv.maps[3], stages[0].values[:, :, conv.shown[3]])
    np.testing.assert_allclose(conv.values, means[conv.shown], rtol=1e-6)
    own = np.sort(np.argsort(-stages[1].values.mean(axis=(0, 1)))[:8])
    assert not np.array_equal(own, conv.shown)  # by its own activity, pooling would draw others
    np.testing.assert_array_equal(pooled.shown, conv.shown)  # it keeps the channels drawn before it
    assert pooled.maps.shape == (8, 6, 6)
    edges = diagram.edges[1]  # each map joins its own pooled map, and no other
    np.testing.assert_array_equal(edges.src, edges.dst)
    assert len(edges) == 8
    assert len(diagram.edges[0]) == 8  # the image feeds each drawn map through one line
    assert (diagram.edges[2].src < 8).all() and len(diagram.edges[2]) == 3 * 16  # 3 strongest maps per neuron


def test_a_clicked_map_is_drawn_in_its_column_and_the_pooling_after_it():
    rng = np.random.default_rng(5)
    image, stages = _cnn_stages(rng)
    quiet = int(np.argmin(stages[0].values.mean(axis=(0, 1))))
    diagram = build_diagram(image, stages, NAMES, selected=(1, quiet), max_maps=8)
    assert diagram.selected == (1, quiet)
    assert diagram.columns[1].position(quiet) is not None and diagram.columns[2].position(quiet) is not None
    assert diagram.edges[0].focus.any() and diagram.edges[1].focus.any()
