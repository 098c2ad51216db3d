"""From a pair of configs to a ready ``Trainer``: load the data, split it, build the network.

Seeds: one ``TrainConfig.seed`` drives three independent streams (weight initialisation, the
subset/validation split, and shuffling/dropout/augmentation), so "reset with the same seed"
gives identical initial weights whatever else changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.data.local import load_split, to_float, train_val_split
from nn_core.network import Network, build_network
from nn_core.train import Trainer


@dataclass(frozen=True)
class TrainingData:
    """float32 inputs (n, 784) in [0, 1] and integer labels (n,) for each part."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def rng_streams(seed: int) -> tuple[np.random.Generator, np.random.Generator, np.random.Generator]:
    """Independent generators (init, split, train) derived from one seed."""
    init, split, train = np.random.SeedSequence(seed).spawn(3)
    return np.random.default_rng(init), np.random.default_rng(split), np.random.default_rng(train)


def split_training_data(
    images: np.ndarray,
    labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    config: TrainConfig,
) -> TrainingData:
    """Take the configured subset and validation split of uint8 images (n, 28, 28) and labels (n,)."""
    _, split_rng, _ = rng_streams(config.seed)
    if config.train_size:
        if config.train_size < 2:
            raise ConfigError("the training subset needs at least 2 images")
        keep = np.sort(split_rng.permutation(len(labels))[: config.train_size])
        images, labels = images[keep], labels[keep]
    X_train, y_train, X_val, y_val = train_val_split(to_float(images), labels, config.val_fraction, split_rng)
    return TrainingData(X_train, y_train, X_val, y_val, to_float(test_images), test_labels)


def load_training_data(
    config: TrainConfig,
    root: Path | None = None,
    download: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> TrainingData:
    """Load the configured dataset through the data layer and split it (see ``split_training_data``)."""
    config.validate()
    images, labels = load_split(config.dataset, "train", root, download, progress)
    test_images, test_labels = load_split(config.dataset, "test", root, download, progress)
    return split_training_data(images, labels, test_images, test_labels, config)


def new_network(model_config: ModelConfig, train_config: TrainConfig) -> Network:
    """A network initialised from the run's seed (the same seed gives the same weights)."""
    init_rng, _, _ = rng_streams(train_config.seed)
    return build_network(model_config, init_rng)


def make_trainer(model_config: ModelConfig, train_config: TrainConfig, data: TrainingData) -> Trainer:
    """A trainer for a freshly initialised network on ``data``."""
    _, _, train_rng = rng_streams(train_config.seed)
    network = new_network(model_config, train_config)
    return Trainer(network, train_config, data.X_train, data.y_train, data.X_val, data.y_val, train_rng)
