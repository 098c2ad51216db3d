"""Tests for nn_core.losses: values against hand-written formulas, stability and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn_core.losses import (
    MeanSquaredError,
    SoftmaxCrossEntropy,
    make_loss,
    output_probabilities,
    softmax,
)
from tests.gradcheck import TOL, numerical_gradient, relative_error


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


LOGITS = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=np.float32)
LABELS = np.array([1, 0])


def softmax_row(row) -> list[float]:
    exps = [math.exp(v) for v in row]
    return [e / sum(exps) for e in exps]


def test_softmax_against_formula_and_rows_sum_to_one():
    p = softmax(LOGITS)
    assert p.dtype == np.float32
    for row, expected in zip(p, (softmax_row(r) for r in LOGITS.tolist()), strict=True):
        np.testing.assert_allclose(row, expected, rtol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


def test_softmax_with_huge_logits_is_finite():
    z = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4 + 1]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        p = softmax(z)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p[0], [1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(p[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(p[2], softmax_row([0.0, 0.0, 1.0]), rtol=1e-6)


def test_cross_entropy_is_the_mean_of_per_example_losses():
    value, _ = SoftmaxCrossEntropy()(LOGITS, LABELS)
    per_example = [-math.log(softmax_row(row)[k]) for row, k in zip(LOGITS.tolist(), LABELS, strict=True)]
    assert isinstance(value, float)
    assert value == pytest.approx(sum(per_example) / len(per_example), rel=1e-6)
    # and not the sum
    assert value != pytest.approx(sum(per_example), rel=1e-3)


def test_cross_entropy_gradient_is_probs_minus_onehot_over_n():
    _, dz = SoftmaxCrossEntropy()(LOGITS, LABELS)
    expected = np.array([softmax_row(r) for r in LOGITS.tolist()])
    expected[np.arange(2), LABELS] -= 1.0
    np.testing.assert_allclose(dz, expected / 2, rtol=1e-5, atol=1e-7)
    assert dz.dtype == np.float32


def test_cross_entropy_with_huge_logits_is_finite():
    z = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        value, dz = SoftmaxCrossEntropy()(z, np.array([0, 2]))
    assert math.isfinite(value) and np.isfinite(dz).all()
    # example 1 is certain and right (loss 0), example 2 is wrong by 2e4
    assert value == pytest.approx((0.0 + 2e4) / 2, rel=1e-6)
    np.testing.assert_allclose(dz, [[0, 0, 0], [0.5, 0, -0.5]], atol=1e-7)


def test_cross_entropy_reuses_its_buffers_across_batch_sizes_and_class_counts(rng):
    """One loss object called with changing shapes (the last batch of an epoch is smaller)."""
    loss = SoftmaxCrossEntropy()
    for n, k in [(7, 10), (3, 10), (9, 10), (4, 3), (6, 10)]:
        z = rng.standard_normal((n, k)).astype(np.float32) * 4
        y = rng.integers(0, k, n)
        value, dz = loss(z, y)
        rows = [softmax_row(r) for r in z.tolist()]
        expected_value = -sum(math.log(p[t]) for p, t in zip(rows, y.tolist(), strict=True)) / n
        assert value == pytest.approx(expected_value, rel=1e-5)
        expected = np.array(rows)
        expected[np.arange(n), y] -= 1.0
        np.testing.assert_allclose(dz, expected / n, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize(
    "make",
    [SoftmaxCrossEntropy, lambda: MeanSquaredError("sigmoid"), lambda: MeanSquaredError("softmax")],
    ids=["cross-entropy", "mse-sigmoid", "mse-softmax"],
)
def test_a_reused_loss_matches_a_fresh_one_whatever_the_shapes(make, rng):
    loss = make()
    for n, k in [(7, 10), (3, 10), (1, 10), (9, 10), (4, 3), (6, 10)]:
        z = rng.standard_normal((n, k)).astype(np.float32) * 4
        y = rng.integers(0, k, n)
        value, dz = loss(z, y)
        fresh_value, fresh_dz = make()(z, y)
        assert value == fresh_value
        np.testing.assert_array_equal(dz, fresh_dz)


@pytest.mark.parametrize(
    "make",
    [SoftmaxCrossEntropy, lambda: MeanSquaredError("sigmoid"), lambda: MeanSquaredError("softmax")],
    ids=["cross-entropy", "mse-sigmoid", "mse-softmax"],
)
def test_a_loss_allocates_no_array_data_once_warm(make, rng):
    """No array per call, not even one value per row (64 kB here); NumPy's broadcasting machinery
    takes ~22 kB of scratch of its own whatever the size, which the bound leaves room for."""
    import tracemalloc

    loss = make()
    n = 16_384
    z = rng.standard_normal((n, 10)).astype(np.float32)
    y = rng.integers(0, 10, n)
    loss(z, y)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        loss(z, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak - before < 40_000, f"a call allocated {peak - before} bytes"


def test_mse_sigmoid_value_against_formula():
    value, _ = MeanSquaredError("sigmoid")(LOGITS, LABELS)
    total = 0.0
    for row, k in zip(LOGITS.tolist(), LABELS, strict=True):
        a = [1 / (1 + math.exp(-v)) for v in row]
        total += sum((aj - (j == k)) ** 2 for j, aj in enumerate(a))
    assert value == pytest.approx(total / (2 * len(LABELS)), rel=1e-6)


def test_mse_softmax_value_against_formula():
    value, _ = MeanSquaredError("softmax")(LOGITS, LABELS)
    total = 0.0
    for row, k in zip(LOGITS.tolist(), LABELS, strict=True):
        total += sum((aj - (j == k)) ** 2 for j, aj in enumerate(softmax_row(row)))
    assert value == pytest.approx(total / (2 * len(LABELS)), rel=1e-6)


def test_mse_sigmoid_gradient_on_one_unit_by_hand():
    """For one logit z with target t: d/dz of (s - t)^2 / 2 is (s - t) s (1 - s)."""
    z = np.array([[0.7, -0.2]], dtype=np.float32)
    _, dz = MeanSquaredError("sigmoid")(z, np.array([0]))
    s = 1 / (1 + np.exp(-z[0].astype(np.float64)))
    expected = (s - np.array([1.0, 0.0])) * s * (1 - s)
    np.testing.assert_allclose(dz[0], expected, rtol=1e-5)


def loss_gradcheck(loss, n: int, k: int, rng: np.random.Generator) -> float:
    z = rng.standard_normal((n, k)).astype(np.float32)
    y = rng.integers(0, k, n)
    _, dz = loss(z, y)
    analytic = dz.copy()
    return relative_error(analytic, numerical_gradient(lambda: loss(z, y)[0], z))


@pytest.mark.parametrize(
    "loss",
    [SoftmaxCrossEntropy(), MeanSquaredError("sigmoid"), MeanSquaredError("softmax")],
    ids=["cross_entropy", "mse_sigmoid", "mse_softmax"],
)
@pytest.mark.parametrize("n", [1, 4])
def test_loss_gradient_matches_finite_differences(loss, n, rng):
    # the loss value itself is float32, so the batch stays small: dlogits shrinks as 1/n
    assert loss_gradcheck(loss, n, 5, rng) < TOL


def test_loss_dtype_and_buffer_reuse(rng):
    for loss in (SoftmaxCrossEntropy(), MeanSquaredError("sigmoid"), MeanSquaredError("softmax")):
        z = rng.standard_normal((6, 4)).astype(np.float32)
        y = rng.integers(0, 4, 6)
        _, d1 = loss(z, y)
        _, d2 = loss(z, y)
        assert d1.dtype == np.float32 and np.shares_memory(d1, d2)


def test_output_probabilities():
    np.testing.assert_allclose(output_probabilities(LOGITS, "softmax"), softmax(LOGITS), rtol=1e-6)
    p = output_probabilities(LOGITS, "sigmoid")
    s = 1 / (1 + np.exp(-LOGITS.astype(np.float64)))
    np.testing.assert_allclose(p, s / s.sum(axis=1, keepdims=True), rtol=1e-6)


def test_make_loss():
    assert isinstance(make_loss("cross_entropy"), SoftmaxCrossEntropy)
    mse = make_loss("mse", "sigmoid")
    assert isinstance(mse, MeanSquaredError) and mse.output == "sigmoid"
    with pytest.raises(ValueError, match="use loss 'mse'"):
        make_loss("cross_entropy", "sigmoid")
    with pytest.raises(ValueError, match="cross_entropy, mse"):
        make_loss("hinge")
    with pytest.raises(ValueError, match="softmax, sigmoid"):
        MeanSquaredError("relu")
