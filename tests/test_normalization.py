"""Tests for nn_core.normalization: BatchNorm on rows and NHWC maps, gradients and running statistics."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.normalization import BatchNorm
from tests.alloccheck import assert_no_batch_arrays
from tests.gradcheck import check_layer

SHAPES = [(6, 5), (3, 4, 5, 3), (2, 3, 3, 1)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(50)


def make_bn(rng: np.random.Generator, f: int, **kwargs) -> BatchNorm:
    layer = BatchNorm(f, **kwargs)
    layer.gamma[:] = 1.0 + 0.5 * rng.standard_normal(f)
    layer.beta[:] = 0.5 * rng.standard_normal(f)
    return layer


def reference(x, gamma, beta, eps, mean=None, var=None):
    """Batch normalisation in float64 over every axis but the last (batch statistics by default)."""
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axis=axes) if mean is None else mean
    var = x.var(axis=axes) if var is None else var
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


@pytest.mark.parametrize("shape", SHAPES)
def test_forward_normalises_with_batch_statistics(shape, rng):
    layer = make_bn(rng, shape[-1])
    x = (3.0 + 2.0 * rng.standard_normal(shape)).astype(np.float32)
    out = layer.forward(x, training=True)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, reference(x, layer.gamma, layer.beta, layer.eps), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
def test_gradients_match_finite_differences(shape, training, rng):
    layer = make_bn(rng, shape[-1])
    layer.set_state({"mean": rng.standard_normal(shape[-1]), "var": 0.5 + rng.random(shape[-1])})
    x = rng.standard_normal(shape).astype(np.float32)
    assert set(check_layer(layer, x, rng, training=training)) == {"x", "gamma", "beta"}


def test_infer_and_evaluation_forward_use_running_statistics(rng):
    layer = make_bn(rng, 3)
    layer.set_state({"mean": [1.0, -2.0, 0.5], "var": [4.0, 0.25, 1.0]})
    x = rng.standard_normal((2, 5, 4, 3)).astype(np.float32)
    expected = reference(x, layer.gamma, layer.beta, layer.eps, layer.running_mean, layer.running_var)
    buffered = layer.forward(x, training=False)
    kept = buffered.copy()
    np.testing.assert_allclose(buffered, expected, rtol=1e-5, atol=1e-5)
    fresh = layer.infer(x)
    assert not np.shares_memory(fresh, buffered)
    np.testing.assert_allclose(fresh, kept, rtol=1e-6, atol=1e-6)
    layer.infer(rng.standard_normal((2, 5, 4, 3)).astype(np.float32))
    np.testing.assert_array_equal(buffered, kept)  # infer did not touch the buffer
    assert fresh.dtype == np.float32


@pytest.mark.parametrize("shape", [(100, 4), (10, 3, 3, 4)])
def test_running_statistics_converge_to_the_data(shape, rng):
    mu = np.array([2.0, -1.0, 0.0, 5.0])
    sigma = np.array([0.5, 1.0, 3.0, 2.0])
    data = (mu + sigma * rng.standard_normal((50 * shape[0], *shape[1:]))).astype(np.float32)
    axes = tuple(range(data.ndim - 1))
    layer = BatchNorm(4, momentum=0.9)
    for step in range(300):
        batch = data[rng.integers(0, len(data), size=shape[0])]
        layer.forward(batch, training=True)
        if step == 0:  # the first update moves a tenth of the way from (0, 1)
            np.testing.assert_allclose(layer.running_mean, 0.1 * batch.mean(axis=axes), rtol=1e-5, atol=1e-6)
    # about 19 batches of 100 values per feature are averaged: errors of a few percent of sigma
    np.testing.assert_allclose(layer.state()["mean"], data.mean(axis=axes), atol=0.1 * sigma.max())
    np.testing.assert_allclose(layer.state()["var"], data.var(axis=axes), rtol=0.15)
    assert layer.state()["mean"].dtype == layer.state()["var"].dtype == np.float32


def test_state_round_trip_and_shape_check(rng):
    source = make_bn(rng, 3)
    source.forward(rng.standard_normal((8, 3)).astype(np.float32), training=True)
    target = BatchNorm(3)
    target.set_state({k: v.copy() for k, v in source.state().items()})
    for key in ("mean", "var"):
        np.testing.assert_array_equal(target.state()[key], source.state()[key])
    with pytest.raises(ValueError, match="shape"):
        target.set_state({"mean": np.zeros(4), "var": np.ones(3)})


def test_float32_and_buffers_reused_without_arrays_per_step(rng):
    layer = make_bn(rng, 16)
    x = rng.standard_normal((128, 6, 6, 16)).astype(np.float32)
    out1 = layer.forward(x, training=True)
    dx1 = layer.backward(np.ones_like(x))
    grads = layer.grads()
    assert out1.dtype == dx1.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())
    assert set(layer.params()) == set(grads) == {"gamma", "beta"}
    out2 = layer.forward(x[:5], training=True)
    assert np.shares_memory(out1, out2)
    assert layer.grads()["gamma"] is grads["gamma"]

    def make_step(n: int):
        fresh = make_bn(np.random.default_rng(0), 16)
        dy = np.ones_like(x[:n])

        def step() -> None:
            fresh.forward(x[:n], training=True)
            fresh.backward(dy)

        return step

    assert assert_no_batch_arrays(make_step, 64, 128) < x.nbytes / 4


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_features"):
        BatchNorm(0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=1.0)
    with pytest.raises(ValueError, match="eps"):
        BatchNorm(3, eps=0.0)
    with pytest.raises(ValueError, match="3 features"):
        BatchNorm(3).forward(np.zeros((2, 4), dtype=np.float32))
