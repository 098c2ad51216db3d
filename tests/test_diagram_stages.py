"""Reading networks as diagram stages (ui/diagram/stages.py): dense networks, and the helpers for
convolutional layers checked on synthetic (H, W, C) arrays."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig
from nn_core.conv import Conv2D
from nn_core.layers import Dense
from nn_core.network import Network, build_network
from nn_core.normalization import BatchNorm
from nn_core.store.default_model import load_default_model
from ui.diagram.selection import Stage, build_diagram
from ui.diagram.stages import (
    DiagramError,
    conv_contributions,
    flatten_contributions,
    network_stages,
    pool_contributions,
)


def _network(hidden=(20, 12), activations=("relu", "tanh"), **kw) -> Network:
    return build_network(ModelConfig(hidden=hidden, activations=activations, **kw), np.random.default_rng(0))


@pytest.mark.parametrize(
    ("hidden", "activations", "extra"),
    [((20, 12), ("relu", "tanh"), {}), ((16,), ("sigmoid",), {"dropout": 0.3}), ((), (), {})],
)
def test_stages_add_up_to_the_networks_own_forward_pass(hidden, activations, extra):
    network = _network(hidden, activations, **extra)
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    stages = network_stages(network, image)
    assert [s.title for s in stages] == [*activations, "output"]
    hidden_out = network.hidden_activations(image)
    for stage, dense, expected in zip(stages, network.dense_layers, [*hidden_out, None], strict=True):
        # weight x incoming activation, summed over the inputs, plus the bias is the weighted sum
        np.testing.assert_allclose(stage.contributions.sum(axis=0) + dense.b, stage.pre, rtol=1e-4, atol=1e-5)
        if expected is not None:
            np.testing.assert_allclose(stage.values, expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stages[-1].values, network.predict_proba(image)[0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(stages[0].contributions[:, 0], image.ravel() * network.dense_layers[0].W[:, 0])


def test_a_dense_layer_without_an_activation_is_a_linear_stage():
    network = _network((8,), ("relu",))
    network.layers.insert(1, Dense(np.eye(8, dtype=np.float32), np.zeros(8, np.float32)))
    image = np.random.default_rng(1).random((28, 28), dtype=np.float32)
    stages = network_stages(network, image)
    assert [s.title for s in stages] == ["linear", "relu", "output"]
    np.testing.assert_allclose(stages[0].values, stages[0].pre)  # nothing after the weighted sum
    np.testing.assert_allclose(stages[1].pre, stages[0].values, rtol=1e-5, atol=1e-6)  # the identity
    np.testing.assert_allclose(stages[-1].values, network.predict_proba(image)[0], rtol=1e-5, atol=1e-7)


def test_an_unknown_layer_gets_a_clear_error():
    class Strange:
        pass

    network = _network((8,), ("relu",))
    network.layers.insert(2, Strange())
    with pytest.raises(DiagramError, match="cannot draw Strange"):
        network_stages(network, np.zeros((28, 28), np.float32))
    network = _cnn("conv4x3,maxpool2")
    network.layers.insert(1, Strange())
    with pytest.raises(DiagramError, match="cannot draw Strange"):
        network_stages(network, np.zeros((28, 28), np.float32))
    network = _network((8,), ("relu",))
    network.layers.pop()  # no output layer left
    with pytest.raises(DiagramError, match="does not end with a dense output layer"):
        network_stages(network, np.zeros((28, 28), np.float32))


def _cnn(text: str, seed: int = 0) -> Network:
    """A convolutional network from layer specs, its batch norms given running statistics of their own
    (a fresh one's are 0 and 1, which would hide a wrong fold)."""
    config = ModelConfig(hidden=(), activations=(), layers=parse_layers(text))
    network = build_network(config, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    for layer in network.layers:
        if isinstance(layer, BatchNorm):
            f = len(layer.gamma)
            layer.gamma[:] = rng.uniform(0.5, 1.5, f)
            layer.beta[:] = rng.normal(0, 0.2, f)
            layer.running_mean[:] = rng.normal(0, 0.2, f)
            layer.running_var[:] = rng.uniform(0.5, 2.0, f)
    return network


def _outputs(network: Network, image: np.ndarray) -> list[np.ndarray]:
    """Every layer's output for one image, in the network's own inference."""
    x = image.reshape((1, *network.input_shape))
    outs = []
    for layer in network.layers:
        x = layer.infer(x)
        outs.append(x[0])
    return outs


def test_a_cnn_is_read_as_feature_map_stages_then_dense_ones():
    network = _cnn("conv6x5:linear,bn:relu,maxpool2,conv8x3,maxpool2,dense12,dropout0.2")
    image = np.random.default_rng(2).random((28, 28), dtype=np.float32)
    stages = network_stages(network, image)
    assert [s.title for s in stages] == [
        "conv 5x5 · bn · relu",
        "max pool 2x2",
        "conv 3x3 · relu",
        "max pool 2x2",
        "relu",
        "output",
    ]
    assert [np.shape(s.values) for s in stages] == [
        (24, 24, 6),
        (12, 12, 6),
        (10, 10, 8),
        (5, 5, 8),
        (12,),
        (10,),
    ]
    assert [np.shape(s.contributions) for s in stages] == [(1, 6), (6, 6), (6, 8), (8, 8), (8, 12), (12, 10)]
    assert [s.follows for s in stages] == [False, True, False, True, False, False]
    outs = _outputs(network, image)  # conv, bn, relu, pool, conv, relu, pool, flatten, dense, relu, ...
    for stage, out in zip(stages[:5], [outs[2], outs[3], outs[5], outs[6], outs[9]], strict=True):
        np.testing.assert_allclose(stage.values, out, rtol=1e-5, atol=1e-6)
    # a convolution's contributions plus its bias (batch norm folded in) are the mean pre-activation map
    np.testing.assert_allclose(
        stages[0].contributions.sum(axis=0) + stages[0].bias, outs[1].mean(axis=(0, 1)), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(
        stages[2].contributions.sum(axis=0) + stages[2].bias, outs[4].mean(axis=(0, 1)), rtol=1e-4, atol=1e-5
    )
    # from the last maps, each channel's share of a dense unit adds up (with the bias) to its weighted sum
    np.testing.assert_allclose(
        stages[4].contributions.sum(axis=0) + stages[4].bias, stages[4].pre, rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(stages[4].pre, outs[8], rtol=1e-5, atol=1e-6)
    assert np.count_nonzero(stages[1].contributions - np.diag(np.diag(stages[1].contributions))) == 0
    np.testing.assert_allclose(stages[-1].values, network.predict_proba(image)[0], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "text",
    [
        "conv6x3same:leaky_relu,bn:relu,avgpool2,conv8x3s2:tanh,dropout0.2,bn,maxpool2,dense12:sigmoid",
        "maxpool2,bn:relu,conv4x3:sigmoid",  # channel-wise layers straight on the image, maps into the output
        "dense16:linear,bn:relu,dense8:tanh,dropout0.1",  # batch norm on rows
        "conv4x5,bn:relu,dense10:linear",  # a dense layer without an activation before the output
    ],
)
def test_every_kind_of_layer_is_read_without_error(text):
    network = _cnn(text)
    image = np.random.default_rng(3).random((28, 28), dtype=np.float32)
    stages = network_stages(network, image)
    np.testing.assert_allclose(stages[-1].values, network.predict_proba(image)[0], rtol=1e-5, atol=1e-7)
    for before, stage in zip(stages, stages[1:], strict=False):
        assert np.shape(stage.contributions) == (before.size, stage.size)
    diagram = build_diagram(image, stages, [str(d) for d in range(10)])
    assert len(diagram.columns) == len(stages) + 1


def test_batch_norm_on_dense_rows_is_folded_into_the_weighted_sums():
    network = _cnn("dense16:linear,bn:relu")
    image = np.random.default_rng(4).random((28, 28), dtype=np.float32)
    stage = network_stages(network, image)[0]
    assert stage.title == "bn · relu"
    dense, bn = network.layers[0], network.layers[1]
    normalised = bn.infer(dense.infer(image.reshape(1, -1)))[0]
    np.testing.assert_allclose(stage.pre, normalised, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stage.contributions.sum(axis=0) + stage.bias, normalised, rtol=1e-4, atol=1e-5)


def test_the_shipped_default_model_is_read_as_conv_and_pool_stages():
    network = load_default_model().network
    image = np.random.default_rng(5).random((28, 28), dtype=np.float32)
    stages = network_stages(network, image)
    assert [np.ndim(s.values) for s in stages] == [3, 3, 3, 3, 1, 1]
    assert [s.size for s in stages] == [32, 32, 64, 64, 128, 10]
    np.testing.assert_allclose(stages[-1].values, network.predict_proba(image)[0], rtol=1e-5, atol=1e-7)


def _same_conv(maps: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A plain zero-padded 'same' convolution (cross-correlation) (H, W, C_in) -> (H, W, C_out)."""
    kh, kw, _, c_out = kernel.shape
    h, w, _ = maps.shape
    padded = np.pad(maps, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    out = np.zeros((h, w, c_out), np.float64)
    for dy in range(kh):
        for dx in range(kw):
            out += padded[dy : dy + h, dx : dx + w, :] @ kernel[dy, dx]
    return out


def test_conv_contributions_are_exact_for_even_maps_away_from_the_border():
    rng = np.random.default_rng(2)
    level = rng.random(3).astype(np.float32)
    maps = np.broadcast_to(level, (10, 10, 3)).astype(np.float32)  # each channel constant
    kernel = rng.normal(size=(3, 3, 3, 5)).astype(np.float32)
    contributions = conv_contributions(maps, kernel)
    assert contributions.shape == (3, 5) and contributions.dtype == np.float32
    out = _same_conv(maps, kernel)
    np.testing.assert_allclose(contributions.sum(axis=0), out[5, 5], rtol=1e-5)  # an interior position
    only_first = maps * np.array([1, 0, 0], np.float32)
    np.testing.assert_allclose(contributions[0], _same_conv(only_first, kernel)[4, 6], rtol=1e-5)
    with pytest.raises(ValueError, match="do not fit"):
        conv_contributions(maps, kernel[:, :, :2])


@pytest.mark.parametrize(("stride", "padding"), [(1, "valid"), (1, "same"), (2, "same"), (2, "valid")])
def test_conv_contributions_are_each_channels_mean_share_of_an_output_map(stride, padding):
    rng = np.random.default_rng(6)
    maps = rng.random((9, 11, 3), dtype=np.float32)
    layer = Conv2D(rng.normal(size=(3, 3, 3, 4)), np.zeros(4), stride, padding)
    contributions = conv_contributions(maps, layer.W, stride, padding)
    out = layer.infer(maps[None])[0]
    np.testing.assert_allclose(contributions.sum(axis=0), out.mean(axis=(0, 1)), rtol=1e-4, atol=1e-5)
    only_second = maps * np.array([0, 1, 0], np.float32)
    np.testing.assert_allclose(
        contributions[1], layer.infer(only_second[None])[0].mean(axis=(0, 1)), rtol=1e-4, atol=1e-5
    )


def test_flatten_contributions_split_a_dense_layer_over_channels():
    rng = np.random.default_rng(3)
    maps = rng.random((4, 5, 6), dtype=np.float32)
    W = rng.normal(size=(4 * 5 * 6, 7)).astype(np.float32)
    contributions = flatten_contributions(maps, W)
    assert contributions.shape == (6, 7)
    np.testing.assert_allclose(contributions.sum(axis=0), maps.reshape(-1) @ W, rtol=1e-4, atol=1e-5)
    channel = np.zeros_like(maps)
    channel[:, :, 2] = maps[:, :, 2]
    np.testing.assert_allclose(contributions[2], channel.reshape(-1) @ W, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="do not flatten"):
        flatten_contributions(maps, W[:-1])


def test_pooling_joins_each_channel_to_itself():
    maps = np.random.default_rng(4).random((6, 6, 4), dtype=np.float32)
    contributions = pool_contributions(maps)
    np.testing.assert_allclose(np.diag(contributions), maps.mean(axis=(0, 1)), rtol=1e-6)
    assert np.count_nonzero(contributions - np.diag(np.diag(contributions))) == 0


def test_a_synthetic_cnn_builds_a_diagram_from_these_helpers():
    rng = np.random.default_rng(5)
    image = rng.random((28, 28, 1), dtype=np.float32)
    kernel = rng.normal(size=(3, 3, 1, 8)).astype(np.float32)
    conv = np.maximum(_same_conv(image, kernel), 0).astype(np.float32)  # (28, 28, 8)
    pooled = conv.reshape(14, 2, 14, 2, 8).max(axis=(1, 3))  # (14, 14, 8)
    W = rng.normal(size=(14 * 14 * 8, 10)).astype(np.float32) * 0.01
    logits = pooled.reshape(-1) @ W
    probs = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    stages = [
        Stage("conv 3x3, relu", conv, conv_contributions(image, kernel)),
        Stage("max pool 2x2", pooled, pool_contributions(pooled)),
        Stage("output", probs.astype(np.float32), flatten_contributions(pooled, W), pre=logits),
    ]
    diagram = build_diagram(image, stages, [str(d) for d in range(10)], max_maps=6)
    assert [c.kind for c in diagram.columns] == ["image", "maps", "maps", "outputs"]
    assert diagram.columns[1].maps.shape == (6, 28, 28) and diagram.columns[2].maps.shape == (6, 14, 14)
    assert diagram.top == int(np.argmax(probs))
