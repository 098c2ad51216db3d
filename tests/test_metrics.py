"""Tests for nn_core.metrics against counts worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nn_core.metrics import accuracy, confusion_matrix, per_class_report

# 3 classes; class 2 is never the truth, class 1 never predicted correctly.
Y_TRUE = np.array([0, 0, 0, 1, 1, 0])
Y_PRED = np.array([0, 2, 0, 0, 2, 1])


def test_accuracy():
    assert accuracy(Y_TRUE, Y_PRED) == pytest.approx(2 / 6)
    assert accuracy([1, 2, 3], [1, 2, 3]) == 1.0
    assert isinstance(accuracy(Y_TRUE, Y_PRED), float)
    assert math.isnan(accuracy(np.array([], dtype=int), np.array([], dtype=int)))
    with pytest.raises(ValueError, match="differ in shape"):
        accuracy([1, 2], [1, 2, 3])


def test_confusion_matrix_by_hand():
    cm = confusion_matrix(Y_TRUE, Y_PRED, n_classes=3)
    expected = np.array(
        [
            [2, 1, 1],  # true 0: predicted 0, 2, 0, 1
            [1, 0, 1],  # true 1: predicted 0, 2
            [0, 0, 0],  # true 2: never
        ]
    )
    np.testing.assert_array_equal(cm, expected)
    assert cm.sum() == len(Y_TRUE)
    assert np.trace(cm) / cm.sum() == pytest.approx(accuracy(Y_TRUE, Y_PRED))


def test_confusion_matrix_default_ten_classes():
    cm = confusion_matrix([9, 3], [9, 8])
    assert cm.shape == (10, 10)
    assert cm[9, 9] == 1 and cm[3, 8] == 1 and cm.sum() == 2


@pytest.mark.parametrize(("y_true", "y_pred"), [([0, 1], [0, 3]), ([3, 1], [0, 1]), ([0, -1], [0, 1])])
def test_confusion_matrix_rejects_labels_outside_the_classes(y_true, y_pred):
    with pytest.raises(ValueError, match="0 to 2"):
        confusion_matrix(y_true, y_pred, n_classes=3)


def test_per_class_report_by_hand():
    report = per_class_report(confusion_matrix(Y_TRUE, Y_PRED, n_classes=3))
    # precision = correct / predicted as that class: class 0: 2/3, class 1: 0/1, class 2: 0/2
    np.testing.assert_allclose(report["precision"], [2 / 3, 0.0, 0.0])
    # recall = correct / true members: class 0: 2/4, class 1: 0/2, class 2: absent -> NaN
    np.testing.assert_allclose(report["recall"], [0.5, 0.0, np.nan])
    np.testing.assert_array_equal(report["support"], [4, 2, 0])
    assert report["support"].dtype == np.int64


def test_per_class_report_nan_precision_for_a_class_never_predicted():
    cm = confusion_matrix([0, 1, 1], [0, 0, 0], n_classes=2)
    with np.errstate(all="raise"):
        report = per_class_report(cm)
    np.testing.assert_allclose(report["precision"], [1 / 3, np.nan])
    np.testing.assert_allclose(report["recall"], [1.0, 0.0])
