"""Tests for nn_core.init: shapes, dtypes, scales and reproducibility of each scheme."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn_core.init import INITS, init_dense


@pytest.mark.parametrize("scheme", INITS)
def test_shapes_dtypes_and_zero_biases(scheme):
    W, b = init_dense(7, 3, scheme, np.random.default_rng(0))
    assert W.shape == (7, 3) and b.shape == (3,)
    assert W.dtype == b.dtype == np.float32
    assert not b.any()
    assert W.flags.c_contiguous


@pytest.mark.parametrize(
    ("scheme", "expected_std"),
    [("normal", 1.0), ("xavier", math.sqrt(2 / (400 + 100))), ("he", math.sqrt(2 / 400))],
)
def test_standard_deviation_follows_the_scheme(scheme, expected_std):
    W, _ = init_dense(400, 100, scheme, np.random.default_rng(1))
    # 40,000 draws: the sample std is within about 0.4 % of the truth (one standard error)
    assert W.std() == pytest.approx(expected_std, rel=0.02)
    assert abs(W.mean()) < 0.02 * expected_std


def test_same_generator_state_gives_same_weights_and_others_differ():
    a, _ = init_dense(20, 10, "he", np.random.default_rng(5))
    b, _ = init_dense(20, 10, "he", np.random.default_rng(5))
    c, _ = init_dense(20, 10, "he", np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_draws_from_the_given_generator_only():
    rng = np.random.default_rng(9)
    first, _ = init_dense(4, 4, "xavier", rng)
    second, _ = init_dense(4, 4, "xavier", rng)
    assert not np.array_equal(first, second)  # the generator advanced
    state = np.random.get_state()[1].copy()  # noqa: NPY002 (checking the legacy global state)
    init_dense(4, 4, "he", np.random.default_rng(0))
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002 (untouched)


def test_unknown_scheme_names_the_choices():
    with pytest.raises(ValueError, match="normal, xavier, he"):
        init_dense(3, 3, "orthogonal", np.random.default_rng(0))
