"""The default model: its configuration, progress reporting, and the file it is saved to."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.experiment import TrainingData
from nn_core.presets import get_preset
from nn_core.store.default_model import (
    FILE_NAME,
    default_configs,
    default_model_path,
    save_default_model,
    train_default_model,
)
from nn_core.store.model_file import load_model


def _tiny_data(n: int = 200, seed: int = 0) -> TrainingData:
    """Two easy classes: ink in the top half (label 0) or the bottom half (label 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.uniform(0, 0.1, size=(n, 28, 28)).astype(np.float32)
    for i, label in enumerate(y):
        X[i, 14 * label : 14 * label + 14, 8:20] += 0.8
    X = X.reshape(n, 784)
    empty = np.zeros((0, 784), np.float32)
    return TrainingData(X[:150], y[:150], empty, np.zeros(0, np.int64), X[150:], y[150:])


def test_configs_are_the_fast_preset_with_augmentation_switchable():
    fast = get_preset("fast")
    model, train = default_configs()
    assert model == fast.model
    assert train.augment is True
    assert {k: v for k, v in train.to_dict().items() if k != "augment"} == {
        k: v for k, v in fast.train.to_dict().items() if k != "augment"
    }
    assert default_configs(augment=False)[1] == fast.train


def test_training_reports_rising_progress_and_learns(tmp_path):
    calls: list[tuple[float, str]] = []
    model = train_default_model(progress=lambda f, m: calls.append((f, m)), data=_tiny_data())
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and 0.0 < fractions[0] < 0.1
    epochs = default_configs()[1].epochs
    assert any(m.startswith(f"Epoch {epochs} of {epochs}") for _, m in calls)
    assert calls[-1][1].startswith("Done:") and "test set" in calls[-1][1]
    assert len(model.history) == epochs
    data = _tiny_data()
    assert (model.network.predict(data.X_test) == data.y_test).mean() > 0.9


def test_saved_model_loads_back_with_its_config(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    assert default_model_path() == tmp_path / "models" / FILE_NAME
    model = train_default_model(data=_tiny_data(seed=1), augment=False)
    path = save_default_model(model)
    assert path == default_model_path() and path.exists()
    back = load_model(path)
    assert back.train_config == default_configs(augment=False)[1]
    X = _tiny_data(seed=1).X_test
    np.testing.assert_array_equal(back.network.predict_proba(X), model.network.predict_proba(X))
    assert [p.name for p in path.parent.iterdir()] == [FILE_NAME]  # written atomically, no leftovers


def test_missing_data_raises_the_data_layers_error(tmp_path):
    from nn_core.data.local import DataError

    with pytest.raises(DataError):
        train_default_model(root=tmp_path)
