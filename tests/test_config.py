"""Tests for nn_core.config: validation of every field and the dict round trip."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from nn_core.config import MAX_HIDDEN_LAYERS, MAX_WIDTH, ConfigError, ModelConfig, TrainConfig


def test_defaults_are_valid():
    ModelConfig().validate()
    TrainConfig().validate()
    TrainConfig(dataset="fashion-mnist").validate()


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ModelConfig().hidden = (10,)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().lr = 1.0  # type: ignore[misc]


def test_constructor_stores_without_validating():
    config = ModelConfig(hidden=(0,))  # invalid, but only validate() says so
    with pytest.raises(ConfigError):
        config.validate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"hidden": (8,) * (MAX_HIDDEN_LAYERS + 1), "activations": ("relu",) * (MAX_HIDDEN_LAYERS + 1)},
            "at most",
        ),
        ({"hidden": (0,)}, "width must be 1 to"),
        ({"hidden": (MAX_WIDTH + 1,)}, "width must be 1 to"),
        ({"hidden": (16, 8)}, "one activation per hidden layer"),
        ({"activations": ("swish",)}, "unknown activation 'swish'"),
        ({"output": "linear"}, "unknown output 'linear'"),
        ({"loss": "hinge"}, "unknown loss 'hinge'"),
        ({"init": "zeros"}, "unknown initialisation 'zeros'"),
        ({"output": "sigmoid"}, "cross-entropy needs a softmax output"),
        ({"dropout": -0.1}, "dropout must be"),
        ({"dropout": 1.0}, "dropout must be"),
        ({"dropout": math.nan}, "dropout must be"),
        ({"leaky_slope": -0.5}, "leaky ReLU slope"),
        ({"leaky_slope": 2.0}, "leaky ReLU slope"),
        ({"n_inputs": 0}, "at least one input"),
        ({"n_classes": 1}, "two classes"),
    ],
)
def test_model_config_rejects_each_bad_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(ModelConfig(), **changes).validate()


def test_model_config_accepts_mse_with_sigmoid_and_no_hidden_layer():
    ModelConfig(output="sigmoid", loss="mse").validate()
    ModelConfig(hidden=(), activations=()).validate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dataset": "cifar"}, "unknown dataset 'cifar': choose one of mnist, fashion-mnist"),
        ({"optimizer": "adagrad"}, "unknown optimizer"),
        ({"schedule": "warmup"}, "unknown schedule"),
        ({"epochs": 0}, "epochs must be 1 to"),
        ({"epochs": 10_001}, "epochs must be 1 to"),
        ({"batch_size": 0}, "batch size must be at least 1"),
        ({"lr": 0.0}, "learning rate must be above 0"),
        ({"lr": -0.1}, "learning rate must be above 0"),
        ({"lr": 1e3}, "learning rate must be above 0 and at most 100"),
        ({"lr": math.nan}, "learning rate"),
        ({"lr": math.inf}, "learning rate"),
        ({"momentum": 1.0}, "momentum must be in"),
        ({"momentum": -0.1}, "momentum must be in"),
        ({"momentum": math.nan}, "momentum must be in"),
        ({"weight_decay": -1e-4}, "weight decay must be in"),
        ({"weight_decay": math.nan}, "weight decay must be in"),
        ({"decay": -0.1}, "decay"),
        ({"decay": math.nan}, "decay"),
        ({"decay": math.inf}, "decay"),
        ({"step_epochs": 0}, "step every"),
        ({"gamma": 0.0}, "gamma"),
        ({"gamma": 1.5}, "gamma"),
        ({"gamma": math.nan}, "gamma"),
        ({"train_size": -1}, "training-subset size cannot be negative"),
        ({"val_fraction": 0.6}, "validation fraction"),
        ({"val_fraction": -0.1}, "validation fraction"),
        ({"val_fraction": math.nan}, "validation fraction"),
        ({"seed": -1}, "seed"),
    ],
)
def test_train_config_rejects_each_bad_field(changes, message):
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(TrainConfig(), **changes).validate()


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


def test_model_config_round_trips_through_json():
    config = ModelConfig(
        n_inputs=64,
        hidden=(32, 16),
        activations=("tanh", "leaky_relu"),
        output="sigmoid",
        loss="mse",
        init="xavier",
        dropout=0.25,
        leaky_slope=0.05,
    )
    data = config.to_dict()
    assert data["hidden"] == [32, 16] and data["activations"] == ["tanh", "leaky_relu"]
    back = ModelConfig.from_dict(json.loads(json.dumps(data)))
    assert back == config
    assert isinstance(back.hidden, tuple) and isinstance(back.activations, tuple)
    assert hash(back) == hash(config)


def test_train_config_round_trips_through_json():
    config = TrainConfig(
        dataset="fashion-mnist", epochs=3, batch_size=1, optimizer="adam", lr=1e-3, schedule="cosine", seed=42
    )
    back = TrainConfig.from_dict(json.loads(json.dumps(config.to_dict())))
    assert back == config


def test_from_dict_ignores_unknown_keys_and_fills_defaults():
    assert ModelConfig.from_dict({"hidden": [5], "colour": "red"}) == ModelConfig(hidden=(5,))
    assert TrainConfig.from_dict({}) == TrainConfig()
