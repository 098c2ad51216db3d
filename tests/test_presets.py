"""Presets: each is a valid, buildable configuration; `fast` learns MNIST quickly (real data)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nn_core.architecture import format_layers, infer_shapes
from nn_core.config import TrainConfig
from nn_core.experiment import load_training_data, make_trainer, new_network, split_training_data
from nn_core.presets import PRESETS, get_preset

CLASSIC = ("classic-fullbatch", "keras-dropout", "nielsen", "two-hidden-decay", "sigmoid-mse")


def test_the_issue_presets_exist_with_valid_configs():
    assert {*CLASSIC, "fast", "best"} <= set(PRESETS)
    for name, preset in PRESETS.items():
        assert preset.name == name
        assert "\n" not in preset.description and preset.description
        preset.model.validate()
        preset.train.validate()
        assert new_network(preset.model, preset.train).n_params() > 0


def test_classic_presets_match_their_scripts():
    nielsen = get_preset("nielsen")
    assert nielsen.model.hidden == (30, 25) and nielsen.model.loss == "mse"
    assert (nielsen.train.batch_size, nielsen.train.lr, nielsen.train.epochs) == (10, 1.3, 50)
    assert round(60_000 * nielsen.train.val_fraction) == 10_000  # the 50k/10k/10k split
    full = get_preset("classic-fullbatch")
    assert full.train.batch_size >= 60_000 and full.model.init == "normal" and full.train.epochs == 400
    keras = get_preset("keras-dropout")
    assert keras.model.hidden == (512, 256) and keras.model.dropout == 0.2 and keras.train.optimizer == "adam"
    assert get_preset("two-hidden-decay").train.schedule == "inverse"


def test_cnn_presets_are_layer_specs_and_lenet_follows_the_paper():
    for name in ("lenet", "cnn-fast", "cnn-best"):
        preset = get_preset(name)
        assert preset.model.layers and any(s.kind == "conv" for s in preset.model.layers)
    lenet = get_preset("lenet").model
    assert format_layers(lenet.layers, "tanh") == "conv6x5same,avgpool2,conv16x5,avgpool2,dense120,dense84"
    shapes = infer_shapes(lenet.layers)
    assert shapes[:4] == [(28, 28, 6), (14, 14, 6), (10, 10, 16), (5, 5, 16)]  # C1, S2, C3, S4 of LeNet-5
    assert "0.95%" in get_preset("lenet").reported and "LeCun" in get_preset("lenet").reported
    assert get_preset("cnn-best").train.augment


def test_unknown_preset_lists_the_names():
    with pytest.raises(ValueError, match="fast"):
        get_preset("fastest")


def test_same_seed_same_split_and_weights_and_other_seeds_differ():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 300).astype(np.uint8)
    config = TrainConfig(train_size=200, val_fraction=0.25, seed=4)
    a, b = (split_training_data(images, labels, images[:10], labels[:10], config) for _ in range(2))
    c = split_training_data(
        images, labels, images[:10], labels[:10], TrainConfig(train_size=200, val_fraction=0.25)
    )
    assert (len(a.y_train), len(a.y_val)) == (150, 50)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.X_train.dtype == np.float32 and a.X_train.max() <= 1.0
    model = PRESETS["fast"].model
    w1 = new_network(model, config).params()["0.W"]
    np.testing.assert_array_equal(w1, new_network(model, config).params()["0.W"])
    assert not np.array_equal(w1, new_network(model, TrainConfig(seed=5)).params()["0.W"])


@pytest.mark.real_data
def test_fast_preset_reaches_97_percent_in_two_epochs(mnist_root):
    preset = get_preset("fast")
    data = load_training_data(preset.train, root=mnist_root)
    trainer = make_trainer(preset.model, preset.train, data)
    records = list(itertools.islice(trainer, 2))
    _, test_acc = trainer.evaluate(data.X_test, data.y_test)
    assert len(records) == 2 and records[1].train_loss < records[0].train_loss
    assert test_acc >= 0.97, f"fast preset: {test_acc:.2%} after 2 epochs"


@pytest.mark.real_data
def test_cnn_fast_learns_a_mnist_subset_in_one_epoch(mnist_root):
    preset = get_preset("cnn-fast")
    train = TrainConfig(**{**preset.train.to_dict(), "epochs": 1, "train_size": 10_000})
    data = load_training_data(train, root=mnist_root)
    trainer = make_trainer(preset.model, train, data)
    trainer.run_epoch()
    _, test_acc = trainer.evaluate(data.X_test, data.y_test)
    assert test_acc >= 0.93, f"cnn-fast on 10,000 images: {test_acc:.2%} after 1 epoch"
