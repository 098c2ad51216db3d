"""Test-set analysis: predictions, confusion, per-class accuracy and the most confident mistakes."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.config import ModelConfig
from nn_core.metrics import confusion_matrix
from nn_core.network import build_network
from ui.training import analysis as ta


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    network = build_network(ModelConfig(hidden=(12,)), rng)
    X = rng.random((400, 784), dtype=np.float32)
    y = rng.integers(0, 10, size=400)
    return network, X, y


def test_analyse_agrees_with_the_network_and_the_metrics(case):
    network, X, y = case
    result = ta.analyse(network, X, y)
    probs = network.predict_proba(X)
    np.testing.assert_array_equal(result.pred, probs.argmax(axis=1))
    np.testing.assert_allclose(result.confidence, probs.max(axis=1))
    np.testing.assert_array_equal(result.confusion, confusion_matrix(y, result.pred, 10))
    assert result.accuracy == pytest.approx(np.mean(result.pred == y))
    expected_loss = -np.mean(np.log(probs[np.arange(len(y)), y]))
    assert result.log_loss == pytest.approx(expected_loss, rel=1e-5)
    support = np.bincount(y, minlength=10)
    np.testing.assert_allclose(result.recall, np.diag(result.confusion) / support)


def test_sigmoid_outputs_have_no_cross_entropy(case):
    _, X, y = case
    network = build_network(
        ModelConfig(hidden=(8,), activations=("sigmoid",), output="sigmoid", loss="mse"),
        np.random.default_rng(0),
    )
    assert ta.analyse(network, X, y).log_loss is None


def test_confident_mistakes_are_wrong_and_sorted_by_confidence(case):
    network, X, y = case
    result = ta.analyse(network, X, y)
    idx = ta.confident_mistakes(result, y, limit=15)
    assert len(idx) == 15
    assert np.all(result.pred[idx] != y[idx])
    conf = result.confidence[idx]
    assert np.all(np.diff(conf) <= 0)
    wrong = result.pred != y
    assert conf[0] == pytest.approx(result.confidence[wrong].max())


def test_cell_examples_hold_exactly_that_cell(case):
    network, X, y = case
    result = ta.analyse(network, X, y)
    true, pred = ta.worst_cells(result.confusion)[0]
    idx = ta.cell_examples(result, y, true, pred, limit=1000)
    assert len(idx) == result.confusion[true, pred] > 0
    assert np.all(y[idx] == true) and np.all(result.pred[idx] == pred)
    assert len(ta.cell_examples(result, y, true, pred, limit=2)) == min(2, len(idx))


def test_worst_cells_lists_off_diagonal_cells_by_count():
    confusion = np.array([[9, 1, 4], [0, 9, 2], [7, 0, 9]])
    cells = ta.worst_cells(confusion)
    assert cells[:3] == [(2, 0), (0, 2), (1, 2)]
    assert len(cells) == 6 and all(t != p for t, p in cells)
