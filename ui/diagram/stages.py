"""Read a network's layers, for one input, as the ``Stage``s the diagram is built from (pure NumPy).

``network_stages`` walks an ``nn_core`` network layer by layer. A dense or convolutional layer opens
a stage, and the batch norm and activation after it join that stage (batch norm before the
activation is folded into the stage's contributions and bias, as it is an affine map per unit or
channel). A pooling layer is a stage of its own that keeps its input's channels. Dropout is the
identity at inference and is skipped; ``Flatten`` ends the feature maps. The last dense layer is
the output stage. A dense layer after feature maps is reached from the channels: each of its
units gets, from every channel, the sum over that channel's positions of weight x activation
(``flatten_contributions``), so the connections drawn into a dense neuron come from the drawn maps
that pushed it hardest, and all of them with the bias add up to its weighted sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nn_core.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from nn_core.conv import Conv2D
from nn_core.layers import Dense, Dropout, Flatten
from nn_core.losses import output_probabilities
from nn_core.network import Network, as_batch
from nn_core.normalization import BatchNorm
from nn_core.pooling import AvgPool2D, MaxPool2D
from ui.diagram.contributions import (
    channel_contributions,
    conv_contributions,
    dense_contributions,
    flatten_contributions,
    pool_contributions,
)
from ui.diagram.selection import Stage

__all__ = [
    "DiagramError",
    "channel_contributions",
    "conv_contributions",
    "dense_contributions",
    "flatten_contributions",
    "network_stages",
    "pool_contributions",
]

ACTIVATIONS = (ReLU, LeakyReLU, Sigmoid, Tanh)


class DiagramError(ValueError):
    """A network the diagram cannot draw; the message says why."""


@dataclass
class _Open:
    """The stage being read: its layers' names and what its first layer gave."""

    kind: str  # "dense", "conv" or "channel" (pooling, or a channel-wise layer on its own)
    parts: list[str] = field(default_factory=list)
    contributions: np.ndarray | None = None  # (n_prev, n) or (C_prev, C); None for "channel"
    bias: np.ndarray | None = None
    pre: np.ndarray | None = None  # dense weighted sums (n,)
    activated: bool = False

    @property
    def title(self) -> str:
        if self.kind == "dense":
            return " · ".join(self.parts[1:]) or "linear"
        return " · ".join(self.parts)


def _fold_batch_norm(group: _Open, layer: BatchNorm) -> None:
    """Fold y = scale * (x - mean) + beta into the stage's contributions (n_prev, n) and bias (n,)."""
    scale = layer.gamma / np.sqrt(layer.running_var + np.float32(layer.eps))
    group.contributions = (group.contributions * scale).astype(np.float32)
    group.bias = (scale * (group.bias - layer.running_mean) + layer.beta).astype(np.float32)


def _close(group: _Open | None, values: np.ndarray) -> Stage | None:
    """The finished stage, its outputs ``values`` (n,) or (H, W, C)."""
    if group is None:
        return None
    if group.kind == "channel":
        return Stage(group.title, values, channel_contributions(values), follows=True)
    return Stage(group.title, values, group.contributions, group.bias, group.pre)


def _opened(layer: object, a: np.ndarray, unflat: np.ndarray | None) -> _Open:
    """A stage opened by a dense or convolutional ``layer`` reading ``a`` (n,) or (H, W, C)
    (``unflat``: the maps before a ``Flatten``, when the dense layer reads them)."""
    if isinstance(layer, Conv2D):
        kh, kw = layer.W.shape[:2]
        name = f"conv {kh}x{kw}" + (f" /{layer.stride}" if layer.stride > 1 else "")
        contributions = conv_contributions(a, layer.W, layer.stride, layer.padding)
        return _Open("conv", [name], contributions, layer.b.copy())
    if a.ndim != 1:
        raise DiagramError("a dense layer reads feature maps without a Flatten before it")
    if unflat is not None:
        contributions = flatten_contributions(unflat, layer.W)
    else:
        contributions = dense_contributions(a, layer.W)
    return _Open("dense", [f"dense {layer.W.shape[1]}"], contributions, layer.b.copy())


def network_stages(network: Network, image: np.ndarray) -> list[Stage]:
    """The stages of ``network`` for one image (28, 28) / (784,) in [0, 1], the output stage last.

    Raises ``DiagramError`` for a layer the diagram cannot draw.
    """
    x = as_batch(image, network.config.n_inputs)  # (1, 784)
    if network.input_shape is not None:
        x = x.reshape((1, *network.input_shape))  # (1, 28, 28, 1)
    stages: list[Stage] = []
    group: _Open | None = None
    unflat: np.ndarray | None = None  # maps (H, W, C) a Flatten just turned into a row

    def close() -> None:
        nonlocal group
        stage = _close(group, x[0])
        if stage is not None:
            stages.append(stage)
        group = None

    for layer in network.layers:
        if isinstance(layer, Dropout):
            continue  # the identity at inference (on rows or maps)
        if isinstance(layer, Dense | Conv2D):
            close()
            group = _opened(layer, x[0], unflat)
            unflat = None
            x = layer.infer(x)
            if group.kind == "dense":
                group.pre = x[0].copy()
            continue
        if isinstance(layer, Flatten):
            close()
            unflat = x[0]
            x = layer.infer(x)
            continue
        if isinstance(layer, MaxPool2D | AvgPool2D):
            close()
            kind = "max" if isinstance(layer, MaxPool2D) else "avg"
            group = _Open("channel", [f"{kind} pool {layer.size}x{layer.size}"])
        elif isinstance(layer, BatchNorm):
            if group is None:
                group = _Open("channel")
            elif group.kind != "channel" and not group.activated:
                _fold_batch_norm(group, layer)
            group.parts.append("bn")
        elif isinstance(layer, ACTIVATIONS):
            if group is None:
                group = _Open("channel")
            group.parts.append(str(layer.name))
            group.activated = True
        else:
            raise DiagramError(f"the diagram cannot draw {type(layer).__name__} layers yet")
        x = layer.infer(x)
        if group.kind == "dense" and not group.activated:
            group.pre = x[0].copy()  # the weighted sum after a folded batch norm
    if group is None or group.kind != "dense" or len(group.parts) != 1:
        raise DiagramError("the network does not end with a dense output layer")
    logits = x[0]
    probs = output_probabilities(logits[None], network.config.output)[0]
    stages.append(Stage("output", probs, group.contributions, group.bias, logits))
    return stages
