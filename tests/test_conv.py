"""Tests for nn_core.conv: Conv2D against a nested-loop reference, gradients, buffers and dtypes."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import nn_core.conv
from nn_core.activations import ReLU
from nn_core.conv import Conv2D, conv_geometry
from nn_core.layers import Dense, Flatten
from nn_core.pooling import AvgPool2D, MaxPool2D
from tests.alloccheck import assert_no_batch_arrays
from tests.gradcheck import check_layer

# (n, H, W, c_in, k, c_out, stride, padding): odd and even sizes, kernels 1/3/5, strides 1/2
CASES = [
    (2, 7, 9, 1, 3, 4, 1, "valid"),
    (2, 7, 9, 3, 3, 2, 1, "same"),
    (2, 9, 7, 3, 5, 2, 2, "same"),
    (3, 8, 5, 3, 1, 2, 2, "valid"),
    (2, 9, 8, 1, 5, 3, 2, "same"),
    (2, 10, 7, 3, 5, 3, 2, "valid"),
    (1, 6, 6, 1, 1, 2, 1, "same"),
    (2, 5, 5, 2, 3, 3, 2, "same"),
    (2, 8, 6, 3, 3, 2, 2, "same"),  # even sizes: the one row (column) of padding goes below (right)
]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(30)


def make_conv(rng, c_in, k, c_out, stride=1, padding="valid", input_grad=True) -> Conv2D:
    W = rng.standard_normal((k, k, c_in, c_out)) / k
    return Conv2D(W, 0.1 * rng.standard_normal(c_out), stride, padding, input_grad)


def pad_before(h: int, k: int, stride: int, padding: str) -> int:
    """TensorFlow's rule written out independently of conv_geometry."""
    if padding == "valid":
        return 0
    out = -(-h // stride)
    return max((out - 1) * stride + k - h, 0) // 2


def reference(x, W, b, stride, padding, dy=None):
    """Nested-loop convolution in float64; with ``dy`` also (dx, dW, db) of ``sum(y * dy)``."""
    n, h, w, _ = x.shape
    kh, kw, _, c_out = W.shape
    ho = -(-h // stride) if padding == "same" else (h - kh) // stride + 1
    wo = -(-w // stride) if padding == "same" else (w - kw) // stride + 1
    top, left = pad_before(h, kh, stride, padding), pad_before(w, kw, stride, padding)
    x, W = x.astype(np.float64), W.astype(np.float64)
    y = np.zeros((n, ho, wo, c_out))
    dx, dW = np.zeros_like(x), np.zeros_like(W)
    for p in range(ho):
        for q in range(wo):
            for i in range(kh):
                for j in range(kw):
                    r, c = p * stride + i - top, q * stride + j - left
                    if 0 <= r < h and 0 <= c < w:
                        y[:, p, q] += x[:, r, c] @ W[i, j]
                        if dy is not None:
                            dx[:, r, c] += dy[:, p, q] @ W[i, j].T
                            dW[i, j] += x[:, r, c].T @ dy[:, p, q]
    y += b
    if dy is None:
        return y
    return y, dx, dW, dy.sum(axis=(0, 1, 2))


@pytest.mark.parametrize("case", CASES)
def test_forward_and_backward_match_nested_loops(case, rng):
    n, h, w, c_in, k, c_out, stride, padding = case
    layer = make_conv(rng, c_in, k, c_out, stride, padding)
    x = rng.standard_normal((n, h, w, c_in)).astype(np.float32)
    out = layer.forward(x, training=True)
    dy = rng.standard_normal(out.shape).astype(np.float32)
    y, dx, dW, db = reference(x, layer.W, layer.b, stride, padding, dy)
    assert out.shape == y.shape == (n, *layer.output_shape(h, w))
    np.testing.assert_allclose(out, y, rtol=1e-5, atol=1e-5)
    got_dx = layer.backward(dy)
    np.testing.assert_allclose(got_dx, dx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.dW, dW, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.db, db, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", CASES)
def test_gradients_match_finite_differences(case, rng):
    n, h, w, c_in, k, c_out, stride, padding = case
    layer = make_conv(rng, c_in, k, c_out, stride, padding)
    x = rng.standard_normal((n, h, w, c_in)).astype(np.float32)
    assert set(check_layer(layer, x, rng)) == {"x", "W", "b"}


@pytest.mark.parametrize(
    ("h", "k", "stride", "padding", "expected"),
    [
        (28, 5, 1, "valid", (24, 0)),
        (28, 5, 1, "same", (28, 2)),
        (28, 3, 2, "same", (14, 0)),  # total padding 1: none on top, one row at the bottom
        (7, 3, 2, "same", (4, 1)),
        (7, 2, 2, "valid", (3, 0)),  # the last row is read by no window
    ],
)
def test_geometry_follows_tensorflow(h, k, stride, padding, expected):
    out, before, used = conv_geometry(h, k, stride, padding)
    assert (out, before) == expected
    assert used == (out - 1) * stride + k


def test_infer_matches_forward_and_leaves_buffers_alone(rng):
    for c_in in (1, 3):  # both column layouts
        layer = make_conv(rng, c_in, 3, 4, 2, "same")
        x = rng.standard_normal((3, 9, 7, c_in)).astype(np.float32)
        buffered = layer.forward(x, training=False)
        kept = buffered.copy()
        fresh = layer.infer(rng.standard_normal((3, 9, 7, c_in)).astype(np.float32))
        assert not np.shares_memory(fresh, buffered)
        np.testing.assert_array_equal(buffered, kept)
        np.testing.assert_allclose(layer.infer(x), kept, rtol=1e-6, atol=1e-6)


def test_first_layer_skips_input_gradient_but_fills_weight_gradients(rng):
    layer = make_conv(rng, 1, 5, 4, input_grad=False)
    x = rng.standard_normal((2, 8, 8, 1)).astype(np.float32)
    out = layer.forward(x, training=True)
    dy = rng.standard_normal(out.shape).astype(np.float32)
    assert layer.backward(dy) is dy
    _, _, dW, db = reference(x, layer.W, layer.b, 1, "valid", dy)
    np.testing.assert_allclose(layer.dW, dW, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.db, db, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("c_in", [1, 3])
def test_float32_throughout(c_in, rng):
    layer = Conv2D(rng.standard_normal((3, 3, c_in, 2)), np.zeros(2), padding="same")  # float64 in
    assert layer.W.dtype == layer.b.dtype == np.float32
    out = layer.forward(rng.standard_normal((2, 5, 5, c_in)).astype(np.float32), training=True)
    dx = layer.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == dx.dtype == layer.dW.dtype == layer.db.dtype == np.float32
    assert layer.infer(np.zeros((1, 5, 5, c_in), dtype=np.float32)).dtype == np.float32
    assert set(layer.params()) == set(layer.grads()) == {"W", "b"}
    for name, p in layer.params().items():
        assert layer.grads()[name].shape == p.shape


@pytest.mark.parametrize(("c_in", "padding"), [(1, "valid"), (3, "same"), (4, "valid")])
def test_buffers_are_reused_and_a_step_allocates_no_arrays(c_in, padding, rng):
    layer = make_conv(rng, c_in, 3, 8, 1, padding)
    x = rng.standard_normal((16, 14, 14, c_in)).astype(np.float32)
    dy = rng.standard_normal((16, *layer.output_shape(14, 14))).astype(np.float32)
    out1, dx1 = layer.forward(x, training=True), layer.backward(dy)
    dW, db = layer.dW, layer.db
    out2, dx2 = layer.forward(x, training=True), layer.backward(dy)
    assert np.shares_memory(out1, out2) and np.shares_memory(dx1, dx2)
    assert layer.grads()["W"] is dW and layer.grads()["b"] is db
    # a smaller last batch is a view of the same buffers and still correct
    out3 = layer.forward(x[:5], training=True)
    assert np.shares_memory(out3, out2)
    np.testing.assert_allclose(out3, reference(x[:5], layer.W, layer.b, 1, padding), rtol=1e-5, atol=1e-5)
    dx3 = layer.backward(dy[:5])
    np.testing.assert_allclose(
        dx3, reference(x[:5], layer.W, layer.b, 1, padding, dy[:5])[1], rtol=1e-5, atol=1e-5
    )

    def make_step(n: int):
        xn, dyn = np.repeat(x, n // 16, axis=0), np.repeat(dy, n // 16, axis=0)
        fresh = make_conv(np.random.default_rng(1), c_in, 3, 8, 1, padding)

        def step() -> None:
            fresh.forward(xn, training=True)
            fresh.backward(dyn)

        return step

    # from 64 rows on every (n, 12, 12, c) slab exceeds NumPy's 8192-element loop buffer
    peak = assert_no_batch_arrays(make_step, 64, 128)
    assert peak < 128 * 12 * 12 * 8 * 4 / 4  # a quarter of one output map


def test_smaller_batch_then_full_batch_keeps_ones_row(rng):
    layer = make_conv(rng, 1, 3, 2)  # the one-channel layout folds the bias into a row of ones
    x = rng.standard_normal((6, 6, 6, 1)).astype(np.float32)
    layer.forward(x[:2])
    np.testing.assert_allclose(
        layer.forward(x), reference(x, layer.W, layer.b, 1, "valid"), rtol=1e-5, atol=1e-5
    )
    layer.b += 1.0  # a parameter updated in place between steps reaches the product
    np.testing.assert_allclose(
        layer.forward(x), reference(x, layer.W, layer.b, 1, "valid"), rtol=1e-5, atol=1e-5
    )


def test_rejects_bad_arguments_with_actionable_messages(rng):
    with pytest.raises(ValueError, match="kh, kw, c_in, c_out"):
        Conv2D(np.zeros((3, 3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="kh, kw, c_in, c_out"):
        Conv2D(np.zeros((3, 3, 1, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="stride"):
        Conv2D(np.zeros((3, 3, 1, 2)), np.zeros(2), stride=0)
    with pytest.raises(ValueError, match="padding"):
        Conv2D(np.zeros((3, 3, 1, 2)), np.zeros(2), padding="full")
    layer = make_conv(rng, 3, 5, 2)
    with pytest.raises(ValueError, match="3 input channels"):
        layer.forward(np.zeros((1, 8, 8, 1), dtype=np.float32))
    with pytest.raises(ValueError, match="smaller than the 5x5 kernel"):
        layer.forward(np.zeros((1, 4, 8, 3), dtype=np.float32))


@pytest.mark.parametrize("c_in", [1, 3])
def test_infer_in_another_thread_while_training_steps_run(c_in, rng):
    layer = make_conv(rng, c_in, 3, 4, 1, "same")
    x_train = rng.standard_normal((8, 10, 10, c_in)).astype(np.float32)
    x_pred = rng.standard_normal((5, 10, 10, c_in)).astype(np.float32)
    expected = reference(x_pred, layer.W, layer.b, 1, "same")
    stop, results = threading.Event(), []

    def predict() -> None:
        while not stop.is_set():
            results.append(layer.infer(x_pred))

    thread = threading.Thread(target=predict)
    thread.start()
    try:
        dy = np.ones((8, 10, 10, 4), dtype=np.float32)
        for _ in range(40):
            layer.forward(x_train, training=True)
            layer.backward(dy)
    finally:
        stop.set()
        thread.join()
    assert results
    for out in results:
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_infer_in_chunks_equals_one_pass(rng, monkeypatch):
    layer = make_conv(rng, 3, 3, 2, 2, "same")
    x = rng.standard_normal((7, 9, 9, 3)).astype(np.float32)
    whole = layer.infer(x)
    monkeypatch.setattr(nn_core.conv, "INFER_CHUNK_FLOATS", 2 * 25 * 28)  # two images per chunk
    chunked = layer.infer(x)
    np.testing.assert_allclose(chunked, whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(whole, reference(x, layer.W, layer.b, 2, "same"), rtol=1e-5, atol=1e-5)


class _Stack:
    """Layers run in sequence, exposing the layer protocol with parameters named ``"i.name"``."""

    def __init__(self, layers) -> None:
        self.layers = layers

    def forward(self, x, training=False):
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dy):
        for layer in reversed(self.layers):
            dy = layer.backward(dy)
        return dy

    def params(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params().items()}

    def grads(self):
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads().items()}


def small_cnn(rng: np.random.Generator) -> _Stack:
    """conv (same) - ReLU - max-pool 2 - conv (valid, stride 2) - average-pool - flatten - dense."""
    return _Stack(
        [
            make_conv(rng, 1, 3, 3, 1, "same"),
            ReLU(),
            MaxPool2D(2),
            make_conv(rng, 3, 3, 4, 2, "valid"),
            AvgPool2D(2, stride=1),
            Flatten(),
            Dense(0.5 * rng.standard_normal((4, 3)), 0.1 * rng.standard_normal(3)),
        ]
    )


def test_small_cnn_gradient_through_pooling_and_flatten():
    # a step of the first kernel moves every first-layer output, so with some seeds one of them
    # crosses the ReLU kink or swaps a window's maximum, and that kernel's error reaches 3e-3
    # (5e-5 otherwise); this seed's perturbations cross none
    rng = np.random.default_rng(7)
    net = small_cnn(rng)
    x = rng.standard_normal((2, 10, 10, 1)).astype(np.float32)  # 10 -> 5 -> 2 -> 1
    assert len(check_layer(net, x, rng)) == 1 + 2 + 2 + 2
