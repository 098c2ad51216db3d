"""Tests for nn_core.speed.threads: BLAS thread limiting and restoring."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.speed.threads import blas_threads, limit_blas_threads, threads_for_batch

needs_blas_control = pytest.mark.skipif(
    blas_threads() is None, reason="NumPy's BLAS thread count is not controllable here"
)


@needs_blas_control
def test_limit_sets_one_thread_inside_and_restores_after():
    before = blas_threads()
    with limit_blas_threads(1):
        assert blas_threads() == 1
        a = np.ones((64, 64), dtype=np.float32)
        np.testing.assert_allclose(a @ a, 64.0)  # products still work
    assert blas_threads() == before


@needs_blas_control
def test_limit_restores_after_an_exception():
    before = blas_threads()
    with pytest.raises(RuntimeError), limit_blas_threads(1):
        assert blas_threads() == 1
        raise RuntimeError("boom")
    assert blas_threads() == before


@needs_blas_control
def test_limit_never_raises_the_count_above_the_default():
    before = blas_threads()
    with limit_blas_threads(before + 8):
        assert blas_threads() == before


def test_none_leaves_the_count_alone():
    before = blas_threads()
    with limit_blas_threads(None):
        assert blas_threads() == before
    assert blas_threads() == before


def test_threads_for_batch():
    small, medium = 784 * 128 + 128 * 10, 784 * 256 + 256 * 128 + 128 * 10  # weights of two MLPs
    assert threads_for_batch(1, medium) == 1
    assert threads_for_batch(16, small) == 1
    assert threads_for_batch(32, small) is None  # a tie: the chooser times both
    assert threads_for_batch(32, medium) is None
    assert threads_for_batch(512, small) is None


def test_step_threads_restore_the_default_after_an_epoch_even_on_error():
    from nn_core.speed.threads import StepThreads

    before = blas_threads()
    steps = StepThreads(n_weights=10)  # tiny steps: the one-thread rule
    with pytest.raises(RuntimeError), steps.epoch(batch_size=8, steps=3):
        steps.before(0)
        assert blas_threads() == 1
        steps.after(0)
        raise RuntimeError
    assert blas_threads() == before
    assert steps.last_epoch is None  # the fixed rule, not a timed choice
