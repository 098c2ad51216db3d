"""Tests for nn_core.activations: values against their formulas and gradients by finite differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from nn_core.activations import ACTIVATIONS, LeakyReLU, ReLU, Sigmoid, Tanh, make_activation, sigmoid
from tests.gradcheck import check_layer


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """float32 values with |x| in [0.1, 2]: far from the kink at 0 compared with the 1e-3 step."""
    magnitude = rng.uniform(0.1, 2.0, shape)
    sign = rng.choice([-1.0, 1.0], shape)
    return (magnitude * sign).astype(np.float32)


def python_reference(name: str, v: float, slope: float = 0.1) -> float:
    """Each activation written out on one Python float."""
    if name == "relu":
        return max(v, 0.0)
    if name == "leaky_relu":
        return v if v > 0 else slope * v
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-v))
    return math.tanh(v)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_matches_formula(name, rng):
    x = away_from_zero(rng, (5, 4))
    out = make_activation(name, leaky_slope=0.1).forward(x)
    expected = np.vectorize(lambda v: python_reference(name, float(v)))(x)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "layer",
    [ReLU(), LeakyReLU(0.1), LeakyReLU(0.01), Sigmoid(), Tanh()],
    ids=["relu", "leaky_0.1", "leaky_0.01", "sigmoid", "tanh"],
)
def test_gradient_matches_finite_differences(layer, rng):
    check_layer(layer, away_from_zero(rng, (4, 6)), rng)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_derivative_formula_on_known_points(name):
    """Backward of ones gives the derivative itself: 1/0, 1/slope, s(1-s), 1-t^2."""
    x = np.array([[-1.5, -0.5, 0.5, 1.5]], dtype=np.float32)
    layer = make_activation(name, leaky_slope=0.2)
    layer.forward(x, training=True)
    d = layer.backward(np.ones_like(x))
    if name == "relu":
        expected = [0, 0, 1, 1]
    elif name == "leaky_relu":
        expected = [0.2, 0.2, 1, 1]
    elif name == "sigmoid":
        s = 1 / (1 + np.exp(-x[0].astype(np.float64)))
        expected = s * (1 - s)
    else:
        expected = 1 - np.tanh(x[0].astype(np.float64)) ** 2
    np.testing.assert_allclose(d[0], expected, rtol=1e-5)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_dtypes_stay_float32_and_buffers_are_reused(name, rng):
    layer = make_activation(name)
    x = away_from_zero(rng, (6, 3))
    out1 = layer.forward(x, training=True)
    dx1 = layer.backward(np.ones_like(x))
    assert out1.dtype == dx1.dtype == np.float32
    out2 = layer.forward(x, training=True)
    dx2 = layer.backward(np.ones_like(x))
    assert np.shares_memory(out1, out2) and np.shares_memory(dx1, dx2)
    assert layer.params() == {} and layer.grads() == {}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_infer_equals_forward(name, rng):
    layer = make_activation(name)
    x = away_from_zero(rng, (3, 5))
    np.testing.assert_allclose(layer.infer(x), layer.forward(x), rtol=1e-6, atol=1e-7)
    assert layer.infer(x).dtype == np.float32


def test_sigmoid_is_stable_for_huge_inputs():
    z = np.array([-1e4, -100.0, 0.0, 100.0, 1e4], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
            s = sigmoid(z)
    assert s.dtype == np.float32
    np.testing.assert_allclose(s, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-7)


def test_sigmoid_writes_into_out():
    z = np.array([0.0, 2.0], dtype=np.float32)
    out = np.empty_like(z)
    assert sigmoid(z, out=out) is out
    np.testing.assert_allclose(out, [0.5, 1 / (1 + math.exp(-2))], rtol=1e-6)


def test_leaky_relu_slope_is_used():
    layer = make_activation("leaky_relu", leaky_slope=0.3)
    assert isinstance(layer, LeakyReLU) and layer.slope == pytest.approx(0.3)
    np.testing.assert_allclose(layer.forward(np.array([[-2.0, 3.0]], dtype=np.float32)), [[-0.6, 3.0]])


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="relu, leaky_relu, sigmoid, tanh"):
        make_activation("softplus")


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_feature_maps_keep_their_shape_and_gradient(name, rng):
    """NHWC maps (n, H, W, C) from a convolution go through unchanged in shape, buffers reused."""
    layer = make_activation(name)
    x = away_from_zero(rng, (2, 3, 4, 5))
    out = layer.forward(x, training=True)
    assert out.shape == x.shape and out.dtype == np.float32
    rows = make_activation(name).forward(x.reshape(2, -1))
    np.testing.assert_array_equal(out.reshape(2, -1), rows)
    check_layer(layer, x, rng)
    assert np.shares_memory(out, layer.forward(x[:1], training=True))
