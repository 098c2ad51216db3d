"""Tests for nn_core.pooling: max and average pooling against nested loops, gradients and buffers."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.pooling import AvgPool2D, MaxPool2D
from tests.alloccheck import assert_no_batch_arrays
from tests.gradcheck import check_layer

# (H, W, size, stride): odd maps that the windows do not divide, tiling and overlapping windows
CASES = [(7, 9, 2, None), (7, 7, 3, None), (9, 8, 3, 2), (6, 7, 2, 1), (8, 8, 2, None), (5, 9, 2, 3)]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(40)


def reference(x, size, stride, kind, dy=None):
    """Nested-loop pooling in float64; with ``dy`` also dx of ``sum(y * dy)`` (first maximum wins)."""
    n, h, w, c = x.shape
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    y, dx = np.zeros((n, ho, wo, c)), np.zeros(x.shape)
    for b in range(n):
        for p in range(ho):
            for q in range(wo):
                for ch in range(c):
                    window = x[b, p * stride : p * stride + size, q * stride : q * stride + size, ch]
                    if kind == "max":
                        y[b, p, q, ch] = window.max()
                        i, j = np.unravel_index(np.argmax(window), window.shape)  # first maximum
                        if dy is not None:
                            dx[b, p * stride + i, q * stride + j, ch] += dy[b, p, q, ch]
                    else:
                        y[b, p, q, ch] = window.mean()
                        if dy is not None:
                            dx[b, p * stride : p * stride + size, q * stride : q * stride + size, ch] += (
                                dy[b, p, q, ch] / size**2
                            )
    return y if dy is None else (y, dx)


def make(kind: str, size: int, stride: int | None):
    return MaxPool2D(size, stride) if kind == "max" else AvgPool2D(size, stride)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", CASES)
def test_forward_and_backward_match_nested_loops(kind, case, rng):
    h, w, size, stride = case
    layer = make(kind, size, stride)
    x = rng.standard_normal((2, h, w, 3)).astype(np.float32)
    out = layer.forward(x, training=True)
    dy = rng.standard_normal(out.shape).astype(np.float32)
    y, dx = reference(x, size, stride or size, kind, dy)
    assert out.shape == y.shape == (2, *layer.output_shape(h, w, 3))
    np.testing.assert_allclose(out, y, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.backward(dy), dx, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", CASES)
def test_gradients_match_finite_differences(kind, case, rng):
    h, w, size, stride = case
    # distinct values at least 0.01 apart, so no step of 1e-3 changes which element is a maximum
    x = (rng.permutation(2 * h * w * 2).reshape(2, h, w, 2) * 0.01 - 1.0).astype(np.float32)
    assert set(check_layer(make(kind, size, stride), x, rng)) == {"x"}


def test_max_ties_give_the_whole_gradient_to_one_element():
    layer = MaxPool2D(2)
    x = np.zeros((1, 4, 4, 1), dtype=np.float32)  # every window is a four-way tie
    x[0, 2:, 2:, 0] = [[1.0, 3.0], [3.0, 2.0]]  # a two-way tie for the maximum 3
    out = layer.forward(x, training=True)
    dx = layer.backward(np.ones(out.shape, dtype=np.float32))
    assert dx.sum() == out.size  # one unit of gradient per window, never duplicated
    expected = np.zeros((4, 4))
    expected[0, 0] = expected[0, 2] = expected[2, 0] = 1.0  # the first element of each tied window
    expected[2, 3] = 1.0  # the first of the two 3s in row-major order
    np.testing.assert_array_equal(dx[0, :, :, 0], expected)


def test_odd_map_drops_the_last_row_and_column_with_zero_gradient(rng):
    layer = MaxPool2D(2)
    x = rng.standard_normal((3, 25, 25, 4)).astype(np.float32)
    out = layer.forward(x, training=True)
    assert out.shape == (3, 12, 12, 4)
    dx = layer.backward(np.ones(out.shape, dtype=np.float32))
    assert not dx[:, 24].any() and not dx[:, :, 24].any()


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_infer_matches_forward_and_leaves_buffers_alone(kind, rng):
    layer = make(kind, 3, 2)
    x = rng.standard_normal((3, 9, 8, 2)).astype(np.float32)
    buffered = layer.forward(x, training=False)
    kept = buffered.copy()
    fresh = layer.infer(rng.standard_normal((3, 9, 8, 2)).astype(np.float32))
    assert not np.shares_memory(fresh, buffered)
    np.testing.assert_array_equal(buffered, kept)
    np.testing.assert_array_equal(layer.infer(x), kept)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(("size", "stride"), [(2, None), (3, 2)])
def test_float32_buffers_reused_and_no_arrays_allocated_per_step(kind, size, stride, rng):
    x = rng.standard_normal((128, 13, 13, 4)).astype(np.float32)
    layer = make(kind, size, stride)
    out1 = layer.forward(x, training=True)
    dx1 = layer.backward(np.ones(out1.shape, dtype=np.float32))
    assert out1.dtype == dx1.dtype == np.float32
    out2 = layer.forward(x[:7], training=True)
    assert np.shares_memory(out1, out2)
    assert np.shares_memory(dx1, layer.backward(np.ones(out2.shape, dtype=np.float32)))

    def make_step(n: int):
        fresh = make(kind, size, stride)
        dy = np.ones((n, *fresh.output_shape(13, 13, 4)), dtype=np.float32)

        def step() -> None:
            fresh.forward(x[:n], training=True)
            fresh.backward(dy)

        return step

    # from 64 rows on each (n, Ho, Wo, 4) slice exceeds NumPy's 8192-element loop buffer
    peak = assert_no_batch_arrays(make_step, 64, 128)
    assert peak < x.nbytes / 4


def test_rejects_bad_sizes_and_small_maps():
    with pytest.raises(ValueError, match="positive integers"):
        MaxPool2D(0)
    with pytest.raises(ValueError, match="positive integers"):
        AvgPool2D(2, stride=1.5)
    with pytest.raises(ValueError, match="smaller than the 3x3"):
        MaxPool2D(3).forward(np.zeros((1, 2, 5, 1), dtype=np.float32))
