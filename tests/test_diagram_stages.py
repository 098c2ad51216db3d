"""Reading networks as diagram stages (ui/diagram/stages.py): dense networks, and the helpers for
convolutional layers checked on synthetic (H, W, C) arrays."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.config import ModelConfig
from nn_core.layers import Dense
from nn_core.network import Network, build_network
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


def test_a_network_the_diagram_cannot_read_gets_a_clear_error():
    network = _network((8,), ("relu",))
    network.layers.insert(1, Dense(np.eye(8, dtype=np.float32), np.zeros(8, np.float32)))
    with pytest.raises(DiagramError, match="two dense layers"):
        network_stages(network, np.zeros((28, 28), np.float32))

    class Strange:
        pass

    network = _network((8,), ("relu",))
    network.layers.insert(2, Strange())
    with pytest.raises(DiagramError, match="cannot draw Strange"):
        network_stages(network, np.zeros((28, 28), np.float32))


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
