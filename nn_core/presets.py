"""Named presets: model and training configs that reproduce classic MNIST scripts, plus our own.

``default`` (the Draw page's shipped model, see ``nn_core.store.default_model``) and the last three
are convolutional networks given as layer specs (``nn_core.architecture``): ``lenet`` (LeNet-5
adapted to 28x28 inputs), ``cnn-fast`` and ``cnn-best``.

Each preset records what its original reported, so the README can set our measured figure beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig, TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str  # one line, for menus and the CLI
    model: ModelConfig
    train: TrainConfig
    reported: str  # what the original script reports ("" when it reports no figure)


def _mlp(hidden: tuple[int, ...], activation: str, **kwargs: object) -> ModelConfig:
    return ModelConfig(hidden=hidden, activations=(activation,) * len(hidden), **kwargs)


def _cnn(layers: str, activation: str = "relu", **kwargs: object) -> ModelConfig:
    return ModelConfig(hidden=(), activations=(), layers=parse_layers(layers, activation), **kwargs)


LENET = "conv6x5same,avgpool2,conv16x5,avgpool2,dense120,dense84"
CNN_FAST = "conv16x5,maxpool2,conv32x5,maxpool2,dense128"
CNN_BEST = "conv16x5:linear,bn:relu,maxpool2,conv32x5:linear,bn:relu,maxpool2,dense128,dropout0.3"

DEFAULT_LAYERS = "conv32x5:linear,bn:relu,maxpool2,conv64x5:linear,bn:relu,maxpool2,dense128,dropout0.25"


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "default",
            "The Draw page's shipped model: conv32x5-bn-pool-conv64x5-bn-pool-dense128-dropout CNN, "
            "Nesterov lr 0.05, batch 128, cosine, 16 epochs of drawing-like augmentation "
            "(scripts/build_default_model.py adds 2 at lr 0.003 on thicker strokes, then 4 on thinner "
            "strokes and steeper slants).",
            _cnn(DEFAULT_LAYERS),
            TrainConfig(
                epochs=16,
                batch_size=128,
                optimizer="nesterov",
                lr=0.05,
                schedule="cosine",
                weight_decay=3e-4,
                augment=True,
                elastic=True,
                val_fraction=0.0,
            ),
            "",
        ),
        Preset(
            "fast",
            "Fewest seconds to 98% test accuracy: 784-384-10 ReLU, Nesterov lr 0.3, batch 128, cosine, 3 epochs.",
            _mlp((384,), "relu"),
            TrainConfig(
                epochs=3, batch_size=128, optimizer="nesterov", lr=0.3, schedule="cosine", val_fraction=0.0
            ),
            "",
        ),
        Preset(
            "best",
            "Highest accuracy within 3 minutes: 784-1024-1024-10 ReLU, elastic + affine augmentation, "
            "Nesterov lr 0.1, batch 128, cosine, 20 epochs.",
            _mlp((1024, 1024), "relu"),
            TrainConfig(
                epochs=20,
                batch_size=128,
                optimizer="nesterov",
                lr=0.1,
                schedule="cosine",
                augment=True,
                elastic=True,
                val_fraction=0.0,
            ),
            "",
        ),
        Preset(
            "classic-fullbatch",
            "784-128-10 ReLU, standard-normal init, full-batch gradient descent, lr 0.2, 400 epochs.",
            _mlp((128,), "relu", init="normal"),
            TrainConfig(epochs=400, batch_size=60_000, optimizer="sgd", lr=0.2, val_fraction=0.0),
            "no figure reported (loss and accuracy printed every 10 epochs)",
        ),
        Preset(
            "keras-dropout",
            "784-512-256-10 ReLU, dropout 0.2, Adam lr 0.001, batch 32, 20 epochs (the Keras MNIST MLP).",
            _mlp((512, 256), "relu", init="xavier", dropout=0.2),
            TrainConfig(epochs=20, batch_size=32, optimizer="adam", lr=0.001, val_fraction=0.0),
            "98.3-98.4% test accuracy",
        ),
        Preset(
            "nielsen",
            "784-30-25-10 sigmoid, quadratic cost, SGD batch 10, lr 1.3, 50 epochs, 50k/10k/10k split.",
            _mlp((30, 25), "sigmoid", output="sigmoid", loss="mse", init="normal"),
            TrainConfig(epochs=50, batch_size=10, optimizer="sgd", lr=1.3, val_fraction=1 / 6),
            "95.24% best (validation, correct out of 10000)",
        ),
        Preset(
            "two-hidden-decay",
            "784-128-128-10 ReLU, softmax cross-entropy, mini-batch SGD with lr0 / (1 + decay * step).",
            _mlp((128, 128), "relu"),
            TrainConfig(
                epochs=4,
                batch_size=32,
                optimizer="sgd",
                lr=0.1,
                schedule="inverse",
                decay=1e-4,
                val_fraction=0.0,
            ),
            "about 95% after 4 epochs",
        ),
        Preset(
            "sigmoid-mse",
            "784-128-10 sigmoid, mean squared error, Xavier init, SGD lr 0.01, batch 128, 15 epochs.",
            _mlp((128,), "sigmoid", output="sigmoid", loss="mse", init="xavier"),
            TrainConfig(epochs=15, batch_size=128, optimizer="sgd", lr=0.01, val_fraction=0.0),
            "",
        ),
        Preset(
            "lenet",
            "LeNet-5 on 28x28: conv6x5same-avgpool2-conv16x5-avgpool2-dense120-dense84-10 tanh, "
            "Adam lr 0.002, batch 128, cosine, 8 epochs.",
            _cnn(LENET, "tanh", init="xavier"),
            TrainConfig(
                epochs=8, batch_size=128, optimizer="adam", lr=0.002, schedule="cosine", val_fraction=0.0
            ),
            "0.95% test error (99.05% accuracy) without distortions, 0.8% with (LeCun et al. 1998)",
        ),
        Preset(
            "cnn-fast",
            "Fewest seconds to 99.0% test accuracy: conv16x5-maxpool2-conv32x5-maxpool2-dense128-10 ReLU, "
            "Adam lr 0.002, batch 128, cosine, 3 epochs.",
            _cnn(CNN_FAST),
            TrainConfig(
                epochs=3, batch_size=128, optimizer="adam", lr=0.002, schedule="cosine", val_fraction=0.0
            ),
            "",
        ),
        Preset(
            "cnn-best",
            "Highest accuracy within 3 minutes: conv16x5-bn-maxpool2-conv32x5-bn-maxpool2-dense128-"
            "dropout0.3-10 ReLU, elastic + affine augmentation, Adam lr 0.003, batch 128, cosine, 9 epochs.",
            _cnn(CNN_BEST),
            TrainConfig(
                epochs=9,
                batch_size=128,
                optimizer="adam",
                lr=0.003,
                schedule="cosine",
                augment=True,
                elastic=True,
                val_fraction=0.0,
            ),
            "",
        ),
    )
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; ValueError lists the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}") from None
