"""``TrainConfig``: how a model is trained (data, optimizer, schedule, regularisation), frozen and typed.

Each field a person sets is declared as a setting (``nn_core.settings``) with its range, choices and
help; ``validate()`` checks them and raises ``ConfigError``. ``nn_core.config`` re-exports it beside
``ModelConfig``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nn_core.fields import config_from_dict, config_to_dict
from nn_core.optimizers import OPTIMIZERS
from nn_core.schedules import SCHEDULES
from nn_core.settings import DECAY_GRID, L2_GRID, LR_GRID, check_settings, setting


def _datasets() -> tuple[str, ...]:
    from nn_core.data.registry import DATASETS

    return tuple(DATASETS)


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
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return config_from_dict(cls, data)
