"""Typed, frozen configuration of a model and of a training run, with validation.

Constructors only store values; ``validate()`` (called by ``build_network`` and the trainer)
raises ``ConfigError`` with a message a person can act on. Both round-trip through plain dicts
(``to_dict`` / ``from_dict``) so they can be saved as JSON inside a model file or a URL.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from nn_core.activations import ACTIVATIONS
from nn_core.init import INITS
from nn_core.losses import LOSSES, OUTPUTS
from nn_core.optimizers import OPTIMIZERS
from nn_core.schedules import SCHEDULES

if TYPE_CHECKING:
    from nn_core.architecture import LayerSpec

MAX_WIDTH = 4096
MAX_HIDDEN_LAYERS = 8


class ConfigError(ValueError):
    """A configuration that cannot be trained; the message says what to change."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a network: an MLP from ``hidden``, or any stack of layers from ``layers``.

    ``layers`` (``nn_core.architecture.LayerSpec``s, e.g. from ``parse_layers("conv16x5,maxpool2,
    dense128")``) lists the hidden layers; when it is not empty it replaces ``hidden``,
    ``activations`` and ``dropout``, which are then ignored (dropout is a layer there). The output
    layer (``n_classes`` units) follows the hidden layers in both cases.
    """

    n_inputs: int = 784  # 28 x 28 pixels, flattened
    hidden: tuple[int, ...] = (128,)  # width of each hidden layer
    activations: tuple[str, ...] = ("relu",)  # one per hidden layer
    n_classes: int = 10
    output: str = "softmax"  # "softmax" or "sigmoid"
    loss: str = "cross_entropy"  # "cross_entropy" (softmax only) or "mse"
    init: str = "he"  # "normal", "xavier" or "he"
    dropout: float = 0.0  # inverted dropout after each hidden activation
    leaky_slope: float = 0.01  # slope of leaky_relu for x < 0
    layers: tuple[LayerSpec, ...] = ()  # hidden layers as specs; empty: the MLP given by hidden

    def validate(self) -> None:
        if self.layers:
            self._validate_layers()
        else:
            self._validate_hidden()
        _check_choice("output", self.output, OUTPUTS)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("initialisation", self.init, INITS)
        if self.loss == "cross_entropy" and self.output != "softmax":
            raise ConfigError("cross-entropy needs a softmax output: choose output 'softmax' or loss 'mse'")
        if not 0.0 <= self.leaky_slope <= 1.0:
            raise ConfigError(f"the leaky ReLU slope must be in [0, 1], got {self.leaky_slope}")
        if self.n_inputs < 1 or self.n_classes < 2:
            raise ConfigError("a model needs at least one input and two classes")

    def _validate_hidden(self) -> None:
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ConfigError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(self.hidden)}")
        for width in self.hidden:
            if not 1 <= width <= MAX_WIDTH:
                raise ConfigError(f"a hidden layer's width must be 1 to {MAX_WIDTH}, got {width}")
        if len(self.activations) != len(self.hidden):
            raise ConfigError(
                f"give one activation per hidden layer: {len(self.hidden)} layers, "
                f"{len(self.activations)} activations"
            )
        for act in self.activations:
            _check_choice("activation", act, ACTIVATIONS)
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be at least 0 and below 1 (0.2 is typical), got {self.dropout}")

    def _validate_layers(self) -> None:
        from nn_core.architecture import LayerSpec, infer_shapes

        if not all(isinstance(spec, LayerSpec) for spec in self.layers):
            raise ConfigError("layers must be LayerSpec values (see nn_core.architecture.parse_layers)")
        if self.n_inputs < 1 or self.n_classes < 2:
            raise ConfigError("a model needs at least one input and two classes")
        infer_shapes(self.layers, self.n_inputs, self.n_classes)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """From ``to_dict``'s output; ``layers`` is a list of dicts there (absent in older files)."""
        from nn_core.architecture import LayerSpec

        layers = data.get("layers") or ()
        if not isinstance(layers, list | tuple) or not all(isinstance(d, dict) for d in layers):
            raise ConfigError(f"bad ModelConfig: layers must be a list of layer dicts, got {layers!r}")
        specs = tuple(LayerSpec.from_dict(d) for d in layers)
        return dataclasses.replace(
            _from_dict(cls, {k: v for k, v in data.items() if k != "layers"}), layers=specs
        )


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained: data, optimizer, schedule and regularisation."""

    dataset: str = "mnist"  # "mnist" or "fashion-mnist"
    epochs: int = 10
    batch_size: int = 128  # 1 = online learning; >= the training-set size = full batch
    optimizer: str = "momentum"  # "sgd", "momentum", "nesterov", "rmsprop" or "adam"
    lr: float = 0.05  # initial learning rate
    momentum: float = 0.9  # for "momentum" and "nesterov"
    weight_decay: float = 0.0  # L2 penalty 0.5 * weight_decay * ||W||^2 on weights (not biases)
    schedule: str = "constant"  # "constant", "inverse", "step" or "cosine"
    decay: float = 0.0  # for "inverse": lr0 / (1 + decay * step)
    step_epochs: int = 10  # for "step": multiply by gamma every step_epochs epochs
    gamma: float = 0.5
    augment: bool = False  # random shifts, rotations and scaling each epoch
    elastic: bool = False  # elastic distortion as well (slower)
    train_size: int = 0  # use only this many training images (0 = all)
    val_fraction: float = 0.1  # held out of the training images for validation
    seed: int = 0

    def validate(self) -> None:
        from nn_core.data.registry import DATASETS

        _check_choice("dataset", self.dataset, tuple(DATASETS))
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_choice("schedule", self.schedule, SCHEDULES)
        if not 1 <= self.epochs <= 10_000:
            raise ConfigError(f"epochs must be 1 to 10000, got {self.epochs}")
        if self.batch_size < 1:
            raise ConfigError(f"the batch size must be at least 1, got {self.batch_size}")
        if not (math.isfinite(self.lr) and 0.0 < self.lr <= 100.0):
            raise ConfigError(
                f"the learning rate must be above 0 and at most 100 (try 0.001 to 0.5), got {self.lr}"
            )
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1) (0.9 is typical), got {self.momentum}")
        if not (math.isfinite(self.weight_decay) and 0.0 <= self.weight_decay <= 1.0):
            raise ConfigError(f"weight decay must be in [0, 1] (1e-4 is typical), got {self.weight_decay}")
        if not (math.isfinite(self.decay) and self.decay >= 0):
            raise ConfigError(
                f"the inverse-schedule decay must be a number >= 0 (try 1e-4), got {self.decay}"
            )
        if self.step_epochs < 1 or not 0.0 < self.gamma <= 1.0:
            raise ConfigError("schedule settings: step every >= 1 epoch, 0 < gamma <= 1")
        if self.train_size < 0:
            raise ConfigError(f"the training-subset size cannot be negative, got {self.train_size}")
        if not 0.0 <= self.val_fraction <= 0.5:
            raise ConfigError(f"the validation fraction must be in [0, 0.5], got {self.val_fraction}")
        if self.seed < 0:
            raise ConfigError(f"the random seed must be 0 or more, got {self.seed}")

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return _from_dict(cls, data)


def _check_choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {what} {value!r}: choose one of {', '.join(choices)}")


def _to_dict(config: Any) -> dict[str, Any]:
    out = dataclasses.asdict(config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


C = TypeVar("C", ModelConfig, TrainConfig)


def _from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build a config from a dict, ignoring unknown keys and turning lists into tuples."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            continue
        kwargs[key] = tuple(value) if isinstance(value, list) else value
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ConfigError(f"bad {cls.__name__}: {err}") from err
