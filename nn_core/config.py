"""Typed, frozen configuration of a model and of a training run, with validation.

Constructors only store values; ``validate()`` (called by ``build_network`` and the trainer)
raises ``ConfigError`` with a message a person can act on. Each field a person sets is declared
as a setting (``nn_core.settings``): its range, choices and help live beside it, and validation,
the command-line flags and the playground's links and widgets are derived from them. Both round-trip through plain dicts
(``to_dict`` / ``from_dict``) so they can be saved as JSON inside a model file or a URL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from nn_core.activations import ACTIVATIONS
from nn_core.fields import FieldTypeError, from_plain
from nn_core.init import INITS
from nn_core.layer_spec import LayerSpec
from nn_core.losses import LOSSES, OUTPUTS
from nn_core.optimizers import OPTIMIZERS
from nn_core.schedules import SCHEDULES
from nn_core.settings import DECAY_GRID, L2_GRID, LR_GRID, check_settings, setting

MAX_WIDTH = 4096
MAX_HIDDEN_LAYERS = 8
MAX_INPUTS = 65_536  # 256 x 256 pixels; MNIST has 784
MAX_CLASSES = 1_000


class ConfigError(ValueError):
    """A configuration that cannot be trained; the message says what to change."""


def _datasets() -> tuple[str, ...]:
    from nn_core.data.registry import DATASETS

    return tuple(DATASETS)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a network: an MLP from ``hidden``, or any stack of layers from ``layers``
    (``nn_core.architecture``), which then replaces ``hidden``, ``activations`` and ``dropout``."""

    n_inputs: int = 784  # 28 x 28 pixels, flattened
    hidden: tuple[int, ...] = field(  # width of each hidden layer
        default=(128,),
        metadata=setting(
            "a hidden layer's width",
            min=1,
            max=MAX_WIDTH,
            group="Network",
            short="hidden",
            help="Width (number of units) of each hidden layer: 16 to 1024 is typical. "
            "More and wider layers fit better but train slower.",
        ),
    )
    activations: tuple[str, ...] = field(  # one per hidden layer
        default=("relu",),
        metadata=setting(
            "activation",
            choices=ACTIVATIONS,
            group="Network",
            short="act",
            flag="activation",
            help="Activation function of each hidden layer.",
        ),
    )
    n_classes: int = 10
    output: str = field(  # "softmax" or "sigmoid"
        default="softmax",
        metadata=setting(
            "output",
            choices=OUTPUTS,
            group="Network",
            short="out",
            help="Softmax gives probabilities that sum to 1 (use with cross-entropy). "
            "Sigmoid scores each class on its own (use with MSE).",
        ),
    )
    loss: str = field(  # "cross_entropy" (softmax only) or "mse"
        default="cross_entropy",
        metadata=setting(
            "loss",
            choices=LOSSES,
            group="Network",
            short="loss",
            help="Cross-entropy (needs softmax) is the standard for classification. "
            "Mean squared error is the classic textbook cost, slower to learn.",
        ),
    )
    init: str = field(  # "normal", "xavier" or "he"
        default="he",
        metadata=setting(
            "initialisation",
            choices=INITS,
            group="Network",
            short="init",
            help="How the first weights are drawn. He suits ReLU, Xavier suits sigmoid and tanh; "
            "standard normal is the classic textbook choice and often too large.",
        ),
    )
    dropout: float = field(  # inverted dropout after each hidden activation
        default=0.0,
        metadata=setting(
            "dropout",
            min=0.0,
            max=1.0,
            max_open=True,
            widget=(0.0, 0.8),
            hint="(0.2 is typical)",
            group="Regularisation",
            short="dropout",
            help="Fraction of hidden units switched off at random while training: "
            "0.2-0.5 against over-fitting, 0 for none.",
        ),
    )
    leaky_slope: float = field(  # slope of leaky_relu for x < 0
        default=0.01,
        metadata=setting(
            "the leaky ReLU slope",
            min=0.0,
            max=1.0,
            group="Network",
            help="Slope of the leaky ReLU activation for negative inputs.",
        ),
    )

    layers: tuple[LayerSpec, ...] = ()  # hidden layers as specs; empty: the MLP given by hidden

    def validate(self) -> None:
        if self.layers:
            from nn_core.architecture import check_layers

            self._validate_common()
            return check_layers(self.layers, self.n_inputs, self.n_classes)
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ConfigError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(self.hidden)}")
        if len(self.activations) != len(self.hidden):
            raise ConfigError(
                f"give one activation per hidden layer: {len(self.hidden)} layers, "
                f"{len(self.activations)} activations"
            )
        self._validate_common()

    def _validate_common(self) -> None:
        check_settings(self)
        if self.loss == "cross_entropy" and self.output != "softmax":
            raise ConfigError("cross-entropy needs a softmax output: choose output 'softmax' or loss 'mse'")
        if self.n_inputs < 1 or self.n_classes < 2:
            raise ConfigError("a model needs at least one input and two classes")
        if self.n_inputs > MAX_INPUTS or self.n_classes > MAX_CLASSES:
            raise ConfigError(
                f"at most {MAX_INPUTS:,} inputs and {MAX_CLASSES:,} classes, "
                f"got {self.n_inputs:,} inputs and {self.n_classes:,} classes"
            )

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """From ``to_dict``'s output; ``layers`` is a list of dicts there (absent in older files)."""
        from nn_core.architecture import specs_from_dicts

        if not isinstance(data, dict):
            return _from_dict(cls, data)  # refused there with a message naming what it is
        config = _from_dict(cls, {k: v for k, v in data.items() if k != "layers"})
        return dataclasses.replace(config, layers=specs_from_dicts(data.get("layers") or ()))


@dataclass(frozen=True)
class TrainConfig:
    """How a model is trained: data, optimizer, schedule and regularisation."""

    dataset: str = field(  # "mnist" or "fashion-mnist"
        default="mnist",
        metadata=setting(
            "dataset",
            choices=_datasets,
            group="Data",
            short="ds",
            help="MNIST: handwritten digits. Fashion-MNIST: 28x28 photos of clothing, same size, harder.",
        ),
    )
    epochs: int = field(
        default=10,
        metadata=setting(
            "epochs",
            min=1,
            max=10_000,
            group="Optimisation",
            short="epochs",
            help="Passes over the training set: 3-20 is plenty for MNIST with a good rate.",
        ),
    )
    batch_size: int = field(  # 1 = online learning; >= the training-set size = full batch
        default=128,
        metadata=setting(
            "the batch size",
            min=1,
            widget=(1, 60_000),
            group="Optimisation",
            short="batch",
            help="Examples per weight update: 1 is online learning, 32-256 is usual, "
            "the training-set size or more is full-batch descent.",
        ),
    )
    optimizer: str = field(  # "sgd", "momentum", "nesterov", "rmsprop" or "adam"
        default="momentum",
        metadata=setting(
            "optimizer",
            choices=OPTIMIZERS,
            group="Optimisation",
            short="opt",
            help="SGD takes plain gradient steps; momentum and Nesterov smooth them (lr 0.01-0.1); "
            "RMSprop and Adam adapt the step per weight (lr 0.0003-0.003).",
        ),
    )
    lr: float = field(  # initial learning rate
        default=0.05,
        metadata=setting(
            "the learning rate",
            min=0.0,
            min_open=True,
            max=100.0,
            hint="(try 0.001 to 0.5)",
            log=True,
            grid=LR_GRID,
            group="Optimisation",
            short="lr",
            help="Initial step size. Too high diverges, too low crawls. "
            "SGD/momentum: 0.01-0.2; Adam/RMSprop: 0.0003-0.003.",
        ),
    )
    momentum: float = field(  # for "momentum" and "nesterov"
        default=0.9,
        metadata=setting(
            "momentum",
            min=0.0,
            max=1.0,
            max_open=True,
            widget=(0.0, 0.99),
            hint="(0.9 is typical)",
            group="Optimisation",
            short="mom",
            help="How much of the previous step is kept (momentum and Nesterov only): "
            "0.9 is standard, 0 is plain SGD.",
        ),
    )
    weight_decay: float = field(  # L2 penalty 0.5 * weight_decay * ||W||^2 on weights (not biases)
        default=0.0,
        metadata=setting(
            "weight decay",
            min=0.0,
            max=1.0,
            hint="(1e-4 is typical)",
            log=True,
            grid=L2_GRID,
            group="Regularisation",
            short="l2",
            help="L2 penalty on large weights against over-fitting: 1e-5 to 1e-3 is typical, 0 turns it off.",
        ),
    )
    schedule: str = field(  # "constant", "inverse", "step" or "cosine"
        default="constant",
        metadata=setting(
            "schedule",
            choices=SCHEDULES,
            group="Optimisation",
            short="sched",
            help="How the learning rate changes: constant; inverse: lr/(1 + decay x step); "
            "step: times gamma every few epochs; cosine: smoothly down to 0 by the last epoch.",
        ),
    )
    decay: float = field(  # for "inverse": lr0 / (1 + decay * step)
        default=0.0,
        metadata=setting(
            "the inverse-schedule decay",
            min=0.0,
            hint="(try 1e-4)",
            log=True,
            grid=DECAY_GRID,
            group="Optimisation",
            short="decay",
            help="For the inverse schedule: lr / (1 + decay x batches seen); "
            "1e-4 halves the rate after 10,000 batches.",
        ),
    )
    step_epochs: int = field(  # for "step": multiply by gamma every step_epochs epochs
        default=10,
        metadata=setting(
            "the step schedule's interval (step every N epochs)",
            min=1,
            widget=(1, 1000),
            group="Optimisation",
            short="step",
            help="For the step schedule: multiply the rate by gamma every this many epochs.",
        ),
    )
    gamma: float = field(
        default=0.5,
        metadata=setting(
            "the step schedule's gamma",
            min=0.0,
            min_open=True,
            max=1.0,
            widget=(0.05, 1.0),
            group="Optimisation",
            short="gamma",
            help="For the step schedule: the factor applied at each step; 0.5 halves the rate.",
        ),
    )
    augment: bool = field(  # random shifts, rotations and scaling each epoch
        default=False,
        metadata=setting(
            "augmentation",
            group="Data",
            short="aug",
            help="Randomly shift, rotate and scale the training images each epoch: "
            "better generalisation, needs more epochs.",
        ),
    )
    elastic: bool = field(  # elastic distortion as well (slower)
        default=False,
        metadata=setting(
            "elastic distortion",
            requires="augment",
            group="Data",
            short="elastic",
            help="Add elastic distortions as well (slower); only with augmentation.",
        ),
    )
    train_size: int = field(  # use only this many training images (0 = all)
        default=0,
        metadata=setting(
            "the training-subset size",
            min=0,
            widget=(1000, 60_000),
            step=1000,
            full=60_000,
            group="Data",
            short="n",
            help="Train on only this many of the 60,000 images (validation included): "
            "2,000-10,000 for quick experiments, all of them for the best model.",
        ),
    )
    val_fraction: float = field(  # held out of the training images for validation
        default=0.1,
        metadata=setting(
            "the validation fraction",
            min=0.0,
            max=0.5,
            group="Data",
            short="val",
            help="Share of the training images held out to measure generalisation while training: "
            "0.1 is usual, 0 for none.",
        ),
    )
    seed: int = field(
        default=0,
        metadata=setting(
            "the random seed",
            min=0,
            widget=(0, 2**31 - 1),
            group="Data",
            short="seed",
            help="Fixes the initial weights, the subset and the shuffling: the same seed gives the same "
            "start, so settings can be compared fairly.",
        ),
    )

    def validate(self) -> None:
        check_settings(self)

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return _from_dict(cls, data)


def _to_dict(config: Any) -> dict[str, Any]:
    out = dataclasses.asdict(config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


C = TypeVar("C", ModelConfig, TrainConfig)


def _from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Build a config from a dict: unknown keys ignored, lists turned into tuples, every value's type
    checked against its field (``nn_core.fields``); ``ConfigError`` names the field otherwise.
    Ranges and choices are checked by ``validate()``."""
    try:
        return from_plain(cls, data)
    except FieldTypeError as err:
        raise ConfigError(str(err)) from err
