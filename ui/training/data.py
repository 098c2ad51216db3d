"""Training and test data for the playground, prepared once and shared read-only.

The split for a (dataset, subset size, validation fraction, seed) is cached with
``st.cache_resource`` and its arrays are made read-only: two runs that differ only in their
network or optimizer share the same arrays instead of each holding a 200 MB float copy. The
trainer only reads its inputs (augmentation writes to its own buffer), so sharing is safe.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import streamlit as st

from nn_core.config import TrainConfig
from nn_core.data.local import data_root, to_float
from nn_core.experiment import TrainingData, split_training_data
from ui.datasets import get_split


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@st.cache_resource(max_entries=2, show_spinner=False)
def _test_set(dataset: str, root: str) -> tuple[np.ndarray, np.ndarray]:
    """Test inputs float32 (n, 784) in [0, 1] and labels (n,), read-only."""
    images, labels = get_split(dataset, "test")
    return _read_only(to_float(images)), labels


@st.cache_resource(max_entries=3, show_spinner="Preparing the training data...")
def _split(dataset: str, train_size: int, val_fraction: float, seed: int, root: str) -> TrainingData:
    """The subset and validation split of ``split_training_data``; X arrays float32 (n, 784), read-only."""
    images, labels = get_split(dataset, "train")
    test_images, test_labels = get_split(dataset, "test")
    config = TrainConfig(dataset=dataset, train_size=train_size, val_fraction=val_fraction, seed=seed)
    # one test image here: the test set itself is converted once per dataset by _test_set
    data = split_training_data(images, labels, test_images[:1], test_labels[:1], config)
    X_test, y_test = _test_set(dataset, root)
    data = dataclasses.replace(data, X_test=X_test, y_test=y_test)
    for array in (data.X_train, data.y_train, data.X_val, data.y_val):
        _read_only(array)
    return data


def training_data(config: TrainConfig) -> TrainingData:
    """The run's training, validation and test arrays (raises ``DataError`` when the data is missing)."""
    return _split(config.dataset, config.train_size, config.val_fraction, config.seed, str(data_root()))


def test_set(dataset: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Test inputs float32 (n, 784), labels (n,) and the uint8 images (n, 28, 28) for galleries."""
    images, labels = get_split(dataset, "test")
    X, y = _test_set(dataset, str(data_root()))
    return X, y, images
