"""Classification metrics from integer labels: accuracy, confusion matrix, per-class precision/recall."""

from __future__ import annotations

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of equal labels; y_true and y_pred of shape (n,). NaN for n = 0."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"label arrays differ in shape: {y_true.shape} and {y_pred.shape}")
    return float(np.mean(y_true == y_pred)) if y_true.size else float("nan")


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Counts of shape (n_classes, n_classes): row = true class, column = predicted class."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    for labels in (y_true, y_pred):  # out-of-range labels would land silently in another cell
        if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
            raise ValueError(
                f"labels must be 0 to {n_classes - 1}, got {labels.min()} to {labels.max()}: "
                "pass the right n_classes"
            )
    return np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(
        n_classes, n_classes
    )


def per_class_report(confusion: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class ``precision``, ``recall`` (= per-class accuracy) and ``support``, each of shape (k,).

    A class never predicted (or absent) gets precision (or recall) NaN rather than a division error.
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    correct = np.diag(confusion)
    predicted, support = confusion.sum(axis=0), confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(predicted > 0, correct / np.maximum(predicted, 1), np.nan)
        recall = np.where(support > 0, correct / np.maximum(support, 1), np.nan)
    return {"precision": precision, "recall": recall, "support": support.astype(np.int64)}
