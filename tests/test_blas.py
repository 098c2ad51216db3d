"""Tests for nn_core.speed.blas: the BLAS kernels agree with NumPy, the fallback serves odd arrays, the flush."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import nn_core.speed.blas as blas
from nn_core.speed.blas import axpby, axpy, flush_tiny, kernels_available


def _arrays(shape: tuple[int, ...], seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.standard_normal(shape).astype(np.float32)
    return x, y, np.empty_like(y)


@pytest.fixture(params=["kernels", "numpy"])
def path(request, monkeypatch):
    """Run a test through the BLAS kernels (where available) and through the NumPy fallback."""
    if request.param == "kernels" and not kernels_available():
        pytest.skip("no suitable OpenBLAS kernels in this NumPy")
    if request.param == "numpy":
        monkeypatch.setattr(blas, "_kernels", lambda: None)
    return request.param


@pytest.mark.parametrize("shape", [(7,), (784, 33), (3, 5)])
def test_axpy_matches_the_formula(path, shape):
    x, y, tmp = _arrays(shape)
    expected = y.astype(np.float64) + 0.3 * x.astype(np.float64)
    axpy(0.3, x, y, tmp)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("a", "b"), [(1.0, 0.9), (-0.25, 0.5), (2.0, 0.0)])
def test_axpby_matches_the_formula(path, a, b):
    x, y, tmp = _arrays((100, 17), seed=1)
    expected = a * x.astype(np.float64) + b * y.astype(np.float64)
    axpby(a, x, b, y, tmp)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_a_transposed_view_is_updated_correctly():
    """A non-contiguous target cannot go to the kernels; the fallback must still update the view."""
    x, y, tmp = _arrays((6, 4), seed=2)
    target = np.zeros((4, 6), dtype=np.float32).T  # (6, 4) view, not C-contiguous
    axpy(1.5, x, target, tmp)
    np.testing.assert_allclose(target, 1.5 * x, rtol=1e-6)
    axpby(1.0, x, 2.0, target, tmp)
    np.testing.assert_allclose(target, 4.0 * x, rtol=1e-6)
    del y


def test_float64_arrays_use_the_fallback_and_keep_their_dtype():
    x = np.arange(5, dtype=np.float64)
    y = np.ones(5, dtype=np.float64)
    axpy(2.0, x, y, np.empty_like(y))
    np.testing.assert_allclose(y, 1.0 + 2.0 * np.arange(5))
    assert y.dtype == np.float64


def test_updates_allocate_nothing(path):
    x, y, tmp = _arrays((100_000,), seed=3)  # 400 kB each
    axpy(0.1, x, y, tmp)
    axpby(1.0, x, 0.9, y, tmp)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        axpy(0.1, x, y, tmp)
        axpby(1.0, x, 0.9, y, tmp)
        flush_tiny(y, tmp, 1e-20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < 4_000


def test_flush_tiny_zeroes_small_entries_and_keeps_the_rest():
    sub = np.float32(1e-40)  # subnormal in float32
    x = np.array([1e-3, -2e-21, sub, -sub, 0.0, 5e-20, -1.0, np.nan, np.inf, -np.inf], dtype=np.float32)
    flush_tiny(x, np.empty_like(x), 1e-20)
    np.testing.assert_array_equal(x[:7], np.array([1e-3, 0, 0, 0, 0, 5e-20, -1.0], dtype=np.float32))
    assert np.isnan(x[7]) and x[8] == np.inf and x[9] == -np.inf  # a divergence stays visible
