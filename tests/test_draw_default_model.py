"""The default model that ships in the package: the file, its card, the checks on load, the recipe."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from nn_core.data.local import load_split, to_float
from nn_core.experiment import TrainingData
from nn_core.presets import get_preset
from nn_core.store.default_model import (
    CARD_PATH,
    SHIPPED_PATH,
    DefaultModelError,
    default_model_card,
    default_model_path,
    load_default_model,
    same_architecture,
)
from nn_core.store.default_training import (
    FINE_TUNE_PHASES,
    PRESET,
    Phase,
    drawing_augment,
    fine_tune,
    train_default_model,
)
from nn_core.store.model_file import SavedModel, save_model

MAX_BYTES = 1_000_000


def test_the_shipped_file_is_small_and_inside_the_package():
    assert default_model_path() == SHIPPED_PATH
    assert SHIPPED_PATH.parent.name == "store" and SHIPPED_PATH.parent.parent.name == "nn_core"
    assert 0 < SHIPPED_PATH.stat().st_size < MAX_BYTES


def test_the_shipped_file_loads_without_any_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    model = load_default_model()
    assert same_architecture(model.network.config, get_preset(PRESET).model)
    assert model.network.config.layers == get_preset(PRESET).model.layers
    assert model.dataset == "mnist"
    assert all(w.dtype == np.float32 for w in model.network.params().values())
    card = default_model_card()
    assert card["preset"] == PRESET and card["dataset"] == "mnist"
    assert card["parameters"] == model.network.n_params()
    assert card["epochs"] == len(model.history) >= 1


@pytest.mark.real_data
def test_the_shipped_model_reaches_its_recorded_test_accuracy(mnist_root):
    images, labels = load_split("mnist", "test", mnist_root)
    network = load_default_model().network
    predicted = network.predict(to_float(images).reshape(len(labels), 784))
    accuracy = float((predicted == labels).mean())
    card = default_model_card()
    assert accuracy == pytest.approx(card["test_accuracy"], abs=1e-4)  # the card tells the truth
    assert accuracy >= 0.995  # and it reaches the aim of 99.5%


def test_a_missing_file_says_how_to_restore_it(tmp_path):
    with pytest.raises(DefaultModelError, match="missing.*build_default_model"):
        load_default_model(tmp_path / "default_model.npz")


def test_a_damaged_file_says_so(tmp_path):
    path = tmp_path / "default_model.npz"
    path.write_bytes(SHIPPED_PATH.read_bytes()[:5000])
    with pytest.raises(DefaultModelError, match="damaged.*build_default_model"):
        load_default_model(path)


def test_another_architecture_is_refused(tmp_path):
    from nn_core.config import ModelConfig
    from nn_core.network import build_network

    path = tmp_path / "default_model.npz"
    network = build_network(ModelConfig(hidden=(8,), activations=("relu",)), np.random.default_rng(0))
    save_model(path, SavedModel(network))
    with pytest.raises(DefaultModelError, match="another architecture"):
        load_default_model(path)


def test_the_card_is_empty_when_unreadable(tmp_path):
    bad = tmp_path / "card.json"
    bad.write_text("{not json")
    assert default_model_card(bad) == {}
    assert default_model_card(tmp_path / "none.json") == {}
    assert json.loads(CARD_PATH.read_text()) == default_model_card()


def _tiny_data(n: int = 160, seed: int = 0) -> TrainingData:
    """Two easy classes: a bar in the top half (label 0) or the bottom half (label 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    X = rng.uniform(0, 0.05, size=(n, 28, 28)).astype(np.float32)
    for i, label in enumerate(y):
        X[i, 6 + 12 * label : 10 + 12 * label, 6:22] = 1.0
    X = X.reshape(n, 784)
    empty = np.zeros((0, 784), np.float32)
    return TrainingData(X[:128], y[:128], empty, np.zeros(0, np.int64), X[128:], y[128:])


def test_drawing_augment_changes_most_digits_and_keeps_some():
    data = _tiny_data()
    out = np.empty_like(data.X_train)
    drawing_augment(data.X_train, np.random.default_rng(3), out)
    same = np.all(out == data.X_train, axis=1)
    assert out.dtype == np.float32 and 0.0 <= out.min() and out.max() <= 1.0
    assert 0 < same.sum() < len(same) // 2  # about 15% kept as they are


def _short(phase: Phase) -> Phase:
    return dataclasses.replace(phase, epochs=1)


def test_the_recipe_trains_the_preset_then_fine_tunes_and_reports_each_epoch():
    seen: list[tuple[int, float]] = []
    progress: list[float] = []
    model = train_default_model(
        progress=lambda f, m: progress.append(f),
        data=_tiny_data(),
        epochs=2,
        phases=[_short(phase) for phase in FINE_TUNE_PHASES],
        on_epoch=lambda trainer, record, acc: seen.append((record.epoch, acc)),
    )
    total = 2 + len(FINE_TUNE_PHASES)
    assert same_architecture(model.network.config, get_preset(PRESET).model)
    assert model.train_config.epochs == total and model.train_config.augment  # the preset's config
    assert [e for e, _ in seen] == list(range(1, total + 1))
    assert [r.epoch for r in model.history] == list(range(1, total + 1))
    assert model.history[2].lr == pytest.approx(FINE_TUNE_PHASES[0].lr)  # each phase at its own rate
    assert progress == sorted(progress) and progress[-1] == pytest.approx(1.0)


def test_the_last_phase_sees_thinner_strokes_and_steeper_slants_than_the_first():
    second, third = FINE_TUNE_PHASES
    assert third.strokes[0] < second.strokes[0] and third.strokes[1] >= second.strokes[1]
    assert third.augment.max_shear > 20.0 and third.schedule == "cosine"
    assert len({phase.seed_offset for phase in FINE_TUNE_PHASES}) == len(FINE_TUNE_PHASES)


def test_fine_tuning_a_checkpoint_continues_its_history_phase_by_phase():
    first = train_default_model(data=_tiny_data(), epochs=1, phases=())
    assert len(first.history) == 1
    before = first.network.get_weights()
    second = fine_tune(first, _tiny_data(), phases=[_short(FINE_TUNE_PHASES[0])])
    assert len(second.history) == 2 and second.train_config.epochs == 2
    assert any(not np.array_equal(before[k], v) for k, v in second.network.get_weights().items())
    seen: list[int] = []  # what a checkpoint taken after the epoch would keep
    third = fine_tune(
        second,
        _tiny_data(),
        phases=[_short(FINE_TUNE_PHASES[1])],
        on_epoch=lambda trainer, record, acc: seen.append(len(trainer.history)),
    )
    assert seen == [3]
    assert [r.epoch for r in third.history] == [1, 2, 3] and third.train_config.epochs == 3
