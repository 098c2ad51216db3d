"""What the Draw page computes from one preprocessed digit: the prediction and a look inside.

Pure NumPy (no Streamlit), so every helper is unit-tested on small hand-made networks. A digit is the
(28, 28) float32 image from ``nn_core.images.preprocess``; networks are ``nn_core.network.Network``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nn_core.activations import make_activation
from nn_core.layers import Dense, Dropout, Layer
from nn_core.metrics import accuracy, confusion_matrix
from nn_core.network import Network, as_batch
from nn_core.speed.threads import limit_blas_threads


@dataclass(frozen=True)
class Prediction:
    """The network's answer for one digit."""

    probabilities: np.ndarray  # shape (n_classes,), float32
    top: int  # most probable class
    confidence: float  # its probability
    sure: bool  # confidence >= the threshold the user set

    def headline(self, class_names: tuple[str, ...] | None = None) -> str:
        """One line for the page, e.g. "7 (98% sure)" or "Not sure: maybe 7 (41%)"."""
        name = str(self.top) if class_names is None else class_names[self.top]
        if self.sure:
            return f"{name} ({self.confidence:.0%} sure)"
        return f"Not sure: maybe {name} ({self.confidence:.0%})"


def predict_digit(network: Network, digit: np.ndarray, threshold: float) -> Prediction:
    """Probabilities for one digit (28, 28); ``sure`` when the top probability reaches ``threshold``.

    Sigmoid-output networks give per-class scores that need not sum to 1; they are shown as they are.
    One image is far too little work to share: on one BLAS thread it takes a fraction of a millisecond,
    while a second thread on a busy machine can keep it waiting for tens of milliseconds.
    """
    with limit_blas_threads(1):
        probs = network.predict_proba(digit)[0]
    top = int(np.argmax(probs))
    confidence = float(probs[top])
    return Prediction(probs, top, confidence, confidence >= threshold)


def _activation_slope(layer: Layer, x: np.ndarray) -> np.ndarray:
    """Derivative of an activation layer at its input x (n, width), from the layer's own backward
    pass run on a fresh twin (the shared layer's buffers belong to training)."""
    twin = make_activation(layer.name, getattr(layer, "slope", 0.01))
    twin.forward(np.asarray(x, dtype=np.float32), training=True)
    return twin.backward(np.ones(np.shape(x), dtype=np.float32)).copy()


def first_layer_contributions(network: Network, digit: np.ndarray, target: int) -> np.ndarray:
    """How much each first-hidden-layer unit pushed the logit of ``target`` up (+) or down (-).

    Activation times gradient: ``h_j * d logit_target / d h_j`` at this input. For a network with one
    hidden layer this is exactly ``h_j * W2[j, target]``, and the contributions plus the output bias
    add up to the logit.

    Returns
    -------
    ndarray of shape (width of the first hidden layer,), float32
    """
    if not network.config.hidden:
        raise ValueError("the network has no hidden layer to look into")
    layers = network.layers
    inputs = []  # inputs[i] is what layers[i] receives, shape (1, width)
    a = as_batch(digit, network.config.n_inputs)[:1]
    for layer in layers:
        inputs.append(a)
        a = layer.infer(a)
    first = next(i for i, layer in enumerate(layers) if not isinstance(layer, Dense | Dropout))
    grad = np.zeros((1, network.config.n_classes), np.float32)
    grad[0, target] = 1.0  # d logit_target / d logits
    for i in range(len(layers) - 1, first, -1):
        layer = layers[i]
        if isinstance(layer, Dense):
            grad = grad @ layer.W.T
        elif not isinstance(layer, Dropout):
            grad = grad * _activation_slope(layer, inputs[i])
    hidden = inputs[first + 1]  # first hidden layer's output, (1, width)
    return (hidden * grad)[0].astype(np.float32)


def top_units(contributions: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest contributions, largest first (fewer when the layer is narrower)."""
    k = min(k, len(contributions))
    order = np.argsort(-contributions, kind="stable")
    return order[:k]


def unit_weight_images(network: Network, units: np.ndarray) -> np.ndarray:
    """Incoming weights of first-layer units as images: ndarray of shape (k, 28, 28), float32."""
    W = network.dense_layers[0].W  # (784, width)
    return W[:, units].T.reshape(len(units), 28, 28).astype(np.float32)


def layer_activations(network: Network, digit: np.ndarray) -> list[np.ndarray]:
    """Each hidden layer's output for one digit: list of arrays of shape (width,)."""
    return [a[0] for a in network.hidden_activations(digit)]


def upscale(digit: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a (h, w) float image in [0, 1] to uint8 (h*factor, w*factor)."""
    pixels = np.round(np.clip(digit, 0.0, 1.0) * 255).astype(np.uint8)
    return np.repeat(np.repeat(pixels, factor, axis=0), factor, axis=1)


@dataclass(frozen=True)
class SetScore:
    """A model's results on a labelled set."""

    accuracy: float  # NaN for an empty set
    confusion: np.ndarray  # (n_classes, n_classes): row = true class, column = predicted
    predictions: np.ndarray  # (n,)


def score_digits(network: Network, inputs: np.ndarray, labels: np.ndarray) -> SetScore:
    """Accuracy and confusion of ``network`` on inputs (n, 784) float32 with labels (n,)."""
    n_classes = network.config.n_classes
    if len(labels) == 0:
        return SetScore(float("nan"), np.zeros((n_classes, n_classes), np.int64), np.zeros(0, np.int64))
    predictions = network.predict(inputs)
    return SetScore(
        accuracy(labels, predictions), confusion_matrix(labels, predictions, n_classes), predictions
    )
