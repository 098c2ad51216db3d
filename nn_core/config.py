"""Typed, frozen configuration of a model (``ModelConfig`` here) and of a training run (``TrainConfig``,
in ``nn_core.train_config``, re-exported here), with validation.

Constructors only store values; ``validate()`` (called by ``build_network`` and the trainer)
raises ``ConfigError`` with a message a person can act on. Each field a person sets is declared
as a setting (``nn_core.settings``): its range, choices and help live beside it, and validation,
the command-line flags and the playground's links and widgets are derived from them. Both round-trip through plain dicts
(``to_dict`` / ``from_dict``) so they can be saved as JSON inside a model file or a URL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from nn_core.activations import ACTIVATIONS
from nn_core.fields import ConfigError as ConfigError  # re-exported: the configs' error
from nn_core.fields import config_from_dict, config_to_dict
from nn_core.init import INITS
from nn_core.layer_spec import LayerSpec
from nn_core.losses import LOSSES, OUTPUTS
from nn_core.settings import check_settings, setting
from nn_core.train_config import TrainConfig as TrainConfig  # re-exported beside ModelConfig

MAX_WIDTH = 4096
MAX_HIDDEN_LAYERS = 8
MAX_INPUTS = 65_536  # 256 x 256 pixels; MNIST has 784
MAX_CLASSES = 1_000


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
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """From ``to_dict``'s output; ``layers`` is a list of dicts there (absent in older files)."""
        from nn_core.architecture import specs_from_dicts

        if not isinstance(data, dict):
            return config_from_dict(cls, data)  # refused there with a message naming what it is
        config = config_from_dict(cls, {k: v for k, v in data.items() if k != "layers"})
        return dataclasses.replace(config, layers=specs_from_dicts(data.get("layers") or ()))
