"""Tests for nn_core.layers: Dense and Dropout gradients, buffers, dtypes and inference."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.layers import Dense, Dropout, Flatten, Layer
from tests.gradcheck import check_layer, numerical_gradient, projected, relative_error


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20)


def make_dense(rng: np.random.Generator, n_in: int = 5, n_out: int = 3, input_grad: bool = True) -> Dense:
    return Dense(0.5 * rng.standard_normal((n_in, n_out)), 0.1 * rng.standard_normal(n_out), input_grad)


def test_dense_forward_is_affine_map(rng):
    layer = make_dense(rng)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    expected = x.astype(np.float64) @ layer.W.astype(np.float64) + layer.b
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-5, atol=1e-6)


def test_dense_gradients_match_finite_differences(rng):
    layer = make_dense(rng)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    errors = check_layer(layer, x, rng)
    assert set(errors) == {"x", "W", "b"}


def test_dense_bias_gradient_sums_over_batch_not_everything(rng):
    layer = make_dense(rng, 3, 2)
    x = rng.standard_normal((6, 3)).astype(np.float32)
    layer.forward(x, training=True)
    dy = rng.standard_normal((6, 2)).astype(np.float32)
    layer.backward(dy)
    assert layer.db.shape == (2,)
    np.testing.assert_allclose(layer.db, dy.sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(layer.dW, x.T @ dy, rtol=1e-5, atol=1e-6)


def test_gradcheck_detects_a_wrong_gradient(rng):
    class HalfGradDense(Dense):
        def backward(self, dy):
            dx = super().backward(dy)
            self.dW *= 0.5
            return dx

    layer = HalfGradDense(0.5 * rng.standard_normal((5, 3)), np.zeros(3))
    with pytest.raises(AssertionError, match="gradient of W"):
        check_layer(layer, rng.standard_normal((4, 5)).astype(np.float32), rng)


def test_first_layer_skips_input_gradient_but_fills_weight_gradients(rng):
    layer = make_dense(rng, input_grad=False)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    layer.forward(x, training=True)
    dy = rng.standard_normal((4, 3)).astype(np.float32)
    assert layer.backward(dy) is dy  # dx is not computed
    np.testing.assert_allclose(layer.dW, x.T @ dy, rtol=1e-5, atol=1e-6)


def test_dense_stores_float32_and_keeps_dtypes(rng):
    layer = Dense(rng.standard_normal((5, 3)), np.zeros(3))  # float64 in
    assert layer.W.dtype == layer.b.dtype == np.float32
    out = layer.forward(rng.standard_normal((4, 5)).astype(np.float32), training=True)
    dx = layer.backward(np.ones((4, 3), dtype=np.float32))
    assert out.dtype == dx.dtype == layer.dW.dtype == layer.db.dtype == np.float32
    assert set(layer.params()) == set(layer.grads()) == {"W", "b"}
    for name, p in layer.params().items():
        assert layer.grads()[name].shape == p.shape


def test_dense_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="n_in, n_out"):
        Dense(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="n_in, n_out"):
        Dense(np.zeros(4), np.zeros(4))


def test_dense_reuses_its_buffers(rng):
    layer = make_dense(rng)
    x1 = rng.standard_normal((8, 5)).astype(np.float32)
    x2 = rng.standard_normal((8, 5)).astype(np.float32)
    out1 = layer.forward(x1)
    out2 = layer.forward(x2)
    assert np.shares_memory(out1, out2)  # same buffer, overwritten
    dx1 = layer.backward(np.ones((8, 3), dtype=np.float32))
    dx2 = layer.backward(np.ones((8, 3), dtype=np.float32))
    assert np.shares_memory(dx1, dx2)
    # a smaller final batch is a view of the same buffer, not a new array
    out3 = layer.forward(x2[:3])
    assert out3.shape == (3, 3) and np.shares_memory(out3, out2)
    np.testing.assert_allclose(out3, x2[:3] @ layer.W + layer.b, rtol=1e-5, atol=1e-6)


def test_dense_gradient_buffers_are_updated_in_place(rng):
    layer = make_dense(rng)
    dW, db = layer.dW, layer.db
    for _ in range(2):
        layer.forward(rng.standard_normal((4, 5)).astype(np.float32), training=True)
        layer.backward(rng.standard_normal((4, 3)).astype(np.float32))
    assert layer.grads()["W"] is dW and layer.grads()["b"] is db


def test_infer_matches_forward_and_leaves_buffers_alone(rng):
    layer = make_dense(rng)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    out = layer.forward(x).copy()
    buffered = layer.forward(x)
    fresh = layer.infer(rng.standard_normal((4, 5)).astype(np.float32))
    assert not np.shares_memory(fresh, buffered)
    np.testing.assert_array_equal(buffered, out)  # infer did not overwrite the training buffer
    np.testing.assert_allclose(layer.infer(x), out, rtol=1e-6)


def test_dropout_with_fixed_mask_gradient(rng):
    layer = Dropout(0.5, rng)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    layer.fixed_mask = (rng.random((4, 6)) >= 0.5).astype(np.float32) * 2.0
    check_layer(layer, x, rng, training=True)
    out = layer.forward(x, training=True)
    np.testing.assert_array_equal(out, x * layer.fixed_mask)


def test_dropout_gradient_uses_the_mask_of_the_forward_pass(rng):
    layer = Dropout(0.3, rng)
    x = np.ones((50, 40), dtype=np.float32)
    out = layer.forward(x, training=True).copy()
    dx = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(dx, out)  # d(x * mask)/dx = mask = out / x


def test_dropout_drops_about_p_and_rescales_the_rest(rng):
    p = 0.25
    layer = Dropout(p, rng)
    out = layer.forward(np.ones((200, 200), dtype=np.float32), training=True)
    assert out.dtype == np.float32
    kept = out != 0
    np.testing.assert_allclose(out[kept], 1.0 / (1.0 - p), rtol=1e-6)
    # 40,000 Bernoulli draws: the kept fraction's standard deviation is about 0.002
    assert abs(kept.mean() - (1 - p)) < 0.01
    assert abs(out.mean() - 1.0) < 0.02  # expectation preserved


def test_dropout_is_identity_at_inference_and_when_p_is_zero(rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    layer = Dropout(0.5, rng)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    dy = np.ones_like(x)
    assert layer.backward(dy) is dy
    np.testing.assert_array_equal(layer.infer(x), x)
    np.testing.assert_array_equal(Dropout(0.0, rng).forward(x, training=True), x)


def test_dropout_depends_only_on_the_generator():
    x = np.ones((10, 10), dtype=np.float32)
    a = Dropout(0.5, np.random.default_rng(3)).forward(x, training=True).copy()
    b = Dropout(0.5, np.random.default_rng(3)).forward(x, training=True).copy()
    c = Dropout(0.5, np.random.default_rng(4)).forward(x, training=True).copy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5])
def test_dropout_rejects_bad_rates(p, rng):
    with pytest.raises(ValueError, match="dropout rate"):
        Dropout(p, rng)


def test_buffer_grows_for_a_larger_batch_and_keeps_its_dtype():
    layer = Layer()
    small = layer._buffer("a", 2, 3)
    large = layer._buffer("a", 5, 3)
    assert large.shape == (5, 3) and large.dtype == np.float32
    assert not np.shares_memory(small, large)
    assert np.shares_memory(layer._buffer("a", 4, 3), large)
    assert layer._buffer("m", 2, 3, dtype=np.bool_).dtype == np.bool_


def test_nd_buffer_grows_along_its_batch_axis_and_fills_new_buffers_once():
    layer = Layer()
    maps = layer._buffer_nd("maps", (4, 3, 3, 2))
    assert maps.shape == (4, 3, 3, 2) and maps.dtype == np.float32
    assert np.shares_memory(layer._buffer_nd("maps", (2, 3, 3, 2)), maps)  # smaller batch: a view
    assert not np.shares_memory(layer._buffer_nd("maps", (2, 3, 3, 1)), maps)  # other trailing shape
    cols = layer._buffer_nd("cols", (3, 10), fill=1.0, batch_axis=1)
    assert cols.shape == (3, 10) and (cols == 1.0).all()
    cols[:2] = 5.0  # written rows; the last row is never written and keeps the fill
    again = layer._buffer_nd("cols", (3, 6), fill=1.0, batch_axis=1)
    assert np.shares_memory(again, cols) and (again[:2] == 5.0).all() and (again[2] == 1.0).all()
    grown = layer._buffer_nd("cols", (3, 12), fill=1.0, batch_axis=1)
    assert not np.shares_memory(grown, cols) and (grown == 1.0).all()
    assert layer._buffer("rows", 3, 2).shape == (3, 2)  # the 2-d helper is the n-d one


def test_flatten_is_a_view_both_ways(rng):
    layer = Flatten()
    x = rng.standard_normal((3, 4, 5, 2)).astype(np.float32)
    out = layer.forward(x, training=True)
    assert out.shape == (3, 40) and np.shares_memory(out, x)
    np.testing.assert_array_equal(out[1], x[1].ravel())  # NHWC order: (h * W + w) * C + c
    dy = rng.standard_normal((3, 40)).astype(np.float32)
    dx = layer.backward(dy)
    assert dx.shape == x.shape and np.shares_memory(dx, dy) and dx.dtype == np.float32
    np.testing.assert_array_equal(layer.infer(x), out)
    assert layer.params() == layer.grads() == {}


def test_numerical_gradient_restores_its_input_and_is_exact_on_a_quadratic(rng):
    x = rng.standard_normal((3, 2)).astype(np.float32)
    before = x.copy()
    R = rng.standard_normal((3, 2))
    grad = numerical_gradient(lambda: projected(x * x, R), x)
    np.testing.assert_array_equal(x, before)
    assert relative_error(grad, 2 * x.astype(np.float64) * R) < 1e-4
