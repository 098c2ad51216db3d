"""The ready-made model the Draw page predicts with when the user has none of their own.

It is the ``fast`` preset (a one-hidden-layer ReLU network trained for a few epochs) trained on MNIST
with random shifts, rotations and scaling (``augment=True``): drawings put through the preprocessing
are less regular than MNIST itself, and augmentation raises accuracy on canvas-style renderings (see
BENCHMARKS.md). It is saved once as ``models_dir()/default-mnist.npz``, so later visits load it at once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

from nn_core.config import ModelConfig, TrainConfig
from nn_core.experiment import TrainingData, load_training_data, make_trainer
from nn_core.presets import get_preset
from nn_core.store.model_file import SavedModel, save_model
from nn_core.store.paths import models_dir

FILE_NAME = "default-mnist.npz"
AUGMENT = True

# progress(fraction done in [0, 1], what is happening, in words)
Progress = Callable[[float, str], None]
LOAD_SHARE = 0.05  # part of the progress bar given to reading the data


def default_model_path() -> Path:
    return models_dir() / FILE_NAME


def default_configs(augment: bool = AUGMENT) -> tuple[ModelConfig, TrainConfig]:
    """The ``fast`` preset's model and training configs, with augmentation switched on or off."""
    preset = get_preset("fast")
    return preset.model, dataclasses.replace(preset.train, augment=augment)


def train_default_model(
    progress: Progress | None = None,
    data: TrainingData | None = None,
    augment: bool = AUGMENT,
    root: Path | None = None,
) -> SavedModel:
    """Train the default model and return it (not saved: see ``save_default_model``).

    Parameters
    ----------
    progress : called with (fraction done, message) after loading and after every batch
    data : MNIST already split as the config says (loaded through the data layer when None)
    root : data folder for ``load_training_data`` (``$DIGIT_LAB_DATA`` or the default when None)

    Raises ``nn_core.data.local.DataError`` when MNIST is not available.
    """
    report = progress or (lambda fraction, message: None)
    model_config, train_config = default_configs(augment)
    if data is None:
        report(0.0, "Reading MNIST...")
        data = load_training_data(train_config, root=root)
    report(LOAD_SHARE, "Starting training...")
    trainer = make_trainer(model_config, train_config, data)
    epochs = train_config.epochs
    start = time.perf_counter()
    for epoch in range(epochs):

        def on_batch(done: int, total: int, epoch: int = epoch) -> None:
            fraction = (epoch + done / total) / epochs
            elapsed = time.perf_counter() - start
            report(
                LOAD_SHARE + (1 - LOAD_SHARE) * fraction,
                f"Epoch {epoch + 1} of {epochs}, batch {done} of {total} ({elapsed:.0f} s)",
            )

        trainer.run_epoch(on_batch=on_batch)
    _, test_acc = trainer.evaluate(data.X_test, data.y_test)
    report(1.0, f"Done: {test_acc:.1%} on the MNIST test set.")
    return SavedModel(trainer.network, train_config, list(trainer.history), train_config.dataset)


def save_default_model(model: SavedModel, path: Path | None = None) -> Path:
    """Write the model atomically to ``path`` (default ``default_model_path()``); returns the path."""
    return save_model(default_model_path() if path is None else path, model)
