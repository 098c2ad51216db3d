"""Playground data: the configured split, shared read-only between runs with the same data settings."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.config import TrainConfig
from nn_core.experiment import load_training_data
from ui.training import data as td

pytestmark = pytest.mark.real_data


def test_the_cached_split_matches_the_engine_and_is_shared_read_only(mnist_root):
    config = TrainConfig(train_size=2000, val_fraction=0.1, seed=3)
    data = td.training_data(config)
    expected = load_training_data(config)
    np.testing.assert_array_equal(data.X_train, expected.X_train)
    np.testing.assert_array_equal(data.y_val, expected.y_val)
    np.testing.assert_array_equal(data.X_test, expected.X_test)
    assert data.X_train.dtype == np.float32 and data.X_train.shape == (1800, 784)
    assert not data.X_train.flags.writeable and not data.X_test.flags.writeable
    other_net_same_data = TrainConfig(train_size=2000, val_fraction=0.1, seed=3, lr=0.5, epochs=2)
    assert td.training_data(other_net_same_data) is data  # no second copy for a second run
    assert (
        td.training_data(TrainConfig(train_size=2000, val_fraction=0.1, seed=4)).X_train is not data.X_train
    )


def test_test_set_gives_floats_labels_and_the_raw_images(mnist_root):
    X, y, images = td.test_set("mnist")
    assert X.shape == (10_000, 784) and y.shape == (10_000,) and images.shape == (10_000, 28, 28)
    np.testing.assert_allclose(X[7], images[7].reshape(-1) / 255.0, rtol=1e-6)
