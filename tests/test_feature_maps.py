"""Feature-map and filter figures (ui/feature_maps.py): mosaics, per-layer maps of a CNN, figures."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig
from nn_core.model_summary import summary
from nn_core.network import build_network
from ui.feature_maps import (
    LayerMaps,
    conv_maps,
    feature_maps_figure,
    filters_figure,
    first_conv,
    maps_mosaic,
)


def _cnn(text: str = "conv6x3,maxpool2,bn:relu,conv4x3same:tanh,dropout0.2,dense16"):
    config = ModelConfig(hidden=(), activations=(), layers=parse_layers(text))
    return build_network(config, np.random.default_rng(0))


def test_mosaic_places_each_map_in_its_cell_with_nan_gaps():
    maps = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)  # H=2, W=3, C=5
    mosaic = maps_mosaic(maps, cols=3, gap=1)
    assert mosaic.shape == (2 * 3 - 1, 3 * 4 - 1) and mosaic.dtype == np.float32
    np.testing.assert_array_equal(mosaic[0:2, 0:3], maps[:, :, 0])
    np.testing.assert_array_equal(mosaic[0:2, 4:7], maps[:, :, 1])
    np.testing.assert_array_equal(mosaic[3:5, 4:7], maps[:, :, 4])
    assert np.isnan(mosaic[2]).all() and np.isnan(mosaic[:, 3]).all()
    assert np.isnan(mosaic[3:5, 8:11]).all()  # the sixth cell is empty
    assert maps_mosaic(maps, cols=8).shape == (2, 5 * 4 - 1)  # fewer maps than columns: one row


def test_conv_maps_keeps_every_spatial_layer_with_its_summary_shape():
    network = _cnn()
    digit = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    layers = conv_maps(network, digit)
    assert [(m.position, m.name) for m in layers] == [
        (1, "conv6x3"),
        (2, "maxpool2"),
        (3, "bn"),
        (4, "conv4x3same"),
        (5, "dropout0.2"),
    ]
    shapes = {row.position: row.output_shape for row in summary(network.config) if row.position}
    for layer in layers:
        assert layer.maps.shape == shapes[layer.position] and layer.maps.dtype == np.float32
    expected = network.hidden_activations(digit.reshape(1, -1))
    np.testing.assert_allclose(layers[3].maps, expected[3][0])
    assert layers[0].maps.min() >= 0  # relu
    assert layers[3].maps.min() < 0  # tanh


def test_an_mlp_has_no_maps_and_no_conv_layer():
    mlp = build_network(ModelConfig(hidden=(8,), activations=("relu",)), np.random.default_rng(0))
    assert conv_maps(mlp, np.zeros((28, 28), np.float32)) == [] and first_conv(mlp) is None


def test_feature_maps_figure_draws_one_heatmap_on_the_layers_scale():
    rng = np.random.default_rng(2)
    maps = rng.random((12, 12, 40), dtype=np.float32)
    fig = feature_maps_figure(LayerMaps(3, "conv40x3", maps))
    (trace,) = fig.data
    z = np.array(trace.z, dtype=float)
    assert z.shape == maps_mosaic(maps[:, :, :32], 8, 2).shape  # the first 32 maps
    assert "first 32 of 40" in fig.layout.title.text and "layer 3 · conv40x3" in fig.layout.title.text
    assert trace.zmin == 0 and trace.zmax == pytest.approx(float(maps[:, :, :32].max()))
    index = np.array(trace.customdata, dtype=float)
    assert index[0, 0] == 1 and index[0, 14] == 2 and np.isnan(index[0, 12])  # map numbers, gaps
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.yaxis.scaleanchor == "x"


def test_signed_maps_use_a_symmetric_diverging_scale():
    maps = np.zeros((4, 4, 2), np.float32)
    maps[0, 0, 0], maps[1, 1, 1] = -3.0, 1.0
    (trace,) = feature_maps_figure(LayerMaps(1, "conv2x3:linear", maps)).data
    assert (trace.zmin, trace.zmax) == (-3.0, 3.0)


def test_filters_figure_shows_the_first_conv_layers_kernels():
    network = _cnn()
    W = first_conv(network).W
    assert W.shape == (3, 3, 1, 6)
    (trace,) = filters_figure(W).data
    z = np.array(trace.z, dtype=float)
    np.testing.assert_allclose(z[:3, :3], W[:, :, 0, 0], rtol=1e-6)
    top = float(np.abs(W).max())
    assert (trace.zmin, trace.zmax) == pytest.approx((-top, top))
    fig = filters_figure(np.ones((5, 5, 3, 40), np.float32))
    assert (
        "summed over 3 input channels" in fig.layout.title.text and "first 32 of 40" in fig.layout.title.text
    )
    np.testing.assert_allclose(np.array(fig.data[0].z, dtype=float)[:5, :5], 3.0)
