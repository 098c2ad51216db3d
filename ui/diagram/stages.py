"""Read a network's layers, for one input, as the ``Stage``s the diagram is built from (pure NumPy).

``network_stages`` walks an ``nn_core`` multi-layer perceptron: each dense layer with its
activation is one stage whose contributions are ``a_prev[:, None] * W``; the last dense layer is
the output stage. Convolutional layers give feature maps (H, W, C); ``conv_contributions``,
``pool_contributions`` and ``flatten_contributions`` turn their weights into the channel-to-channel
(or channel-to-unit) contributions a stage needs, so such a network is drawn with a column of
feature maps per layer.
"""

from __future__ import annotations

import numpy as np

from nn_core.layers import Dense, Dropout
from nn_core.losses import output_probabilities
from nn_core.network import Network, as_batch
from ui.diagram.selection import Stage


class DiagramError(ValueError):
    """A network the diagram cannot draw; the message says why."""


def dense_contributions(inputs: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weight x incoming activation for a dense layer: inputs (n_in,), W (n_in, n_out) -> (n_in, n_out)."""
    return (np.asarray(inputs, dtype=np.float32)[:, None] * W).astype(np.float32, copy=False)


def conv_contributions(maps: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Channel-to-channel contributions of a convolution: maps (H, W, C_in), kernel (kh, kw, C_in, C_out).

    Each input channel's mean activation times the sum of the kernel taps joining it to an output
    channel: the mean over positions of what that channel adds to the output channel's weighted
    sum (exact away from the borders). Returns (C_in, C_out), float32.
    """
    maps = np.asarray(maps, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if maps.ndim != 3 or kernel.ndim != 4 or kernel.shape[2] != maps.shape[2]:
        raise ValueError(
            f"maps (H, W, C_in) and kernel (kh, kw, C_in, C_out) do not fit: {maps.shape}, {kernel.shape}"
        )
    return maps.mean(axis=(0, 1))[:, None] * kernel.sum(axis=(0, 1))  # (C_in, 1) * (C_in, C_out)


def pool_contributions(maps: np.ndarray) -> np.ndarray:
    """A pooling (or batch-norm) layer joins each channel to itself: maps (H, W, C) -> diagonal (C, C)."""
    maps = np.asarray(maps, dtype=np.float32)
    return np.diag(maps.mean(axis=(0, 1))).astype(np.float32)


def flatten_contributions(maps: np.ndarray, W: np.ndarray) -> np.ndarray:
    """What each channel of maps (H, W, C), flattened in NHWC order, adds to each unit of a dense layer
    with weights W (H*W*C, n_out): the sum over its positions of activation x weight. Returns (C, n_out)."""
    maps = np.asarray(maps, dtype=np.float32)
    h, w, c = maps.shape
    if W.shape[0] != h * w * c:
        raise ValueError(f"maps of shape {maps.shape} do not flatten to the {W.shape[0]} inputs of W")
    per_input = maps.reshape(h * w, c, 1) * W.reshape(h * w, c, -1)  # (positions, C, n_out)
    return per_input.sum(axis=0).astype(np.float32)


def _title(layer: object) -> str:
    return str(getattr(layer, "name", type(layer).__name__.lower()))


def network_stages(network: Network, image: np.ndarray) -> list[Stage]:
    """The stages of ``network`` for one image (28, 28) / (784,) in [0, 1].

    Raises ``DiagramError`` for a layer the diagram cannot draw yet.
    """
    a = as_batch(image, network.config.n_inputs)[0]  # (784,)
    stages: list[Stage] = []
    dense: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # (contributions, bias, pre)
    for layer in network.layers:
        if isinstance(layer, Dropout):
            continue  # the identity at inference
        if isinstance(layer, Dense):
            if dense is not None:
                raise DiagramError(
                    "two dense layers in a row: the diagram expects an activation between them"
                )
            pre = layer.infer(a[None])[0]
            dense = (dense_contributions(a, layer.W), layer.b, pre)
            a = pre
            continue
        if dense is None or not hasattr(layer, "infer") or a.ndim != 1:
            raise DiagramError(f"the diagram cannot draw {type(layer).__name__} layers yet")
        a = layer.infer(a[None])[0]
        stages.append(Stage(_title(layer), a, dense[0], dense[1], dense[2]))
        dense = None
    if dense is None:
        raise DiagramError("the network does not end with a dense output layer")
    logits = dense[2]
    probs = output_probabilities(logits[None], network.config.output)[0]
    stages.append(Stage("output", probs, dense[0], dense[1], logits))
    return stages
