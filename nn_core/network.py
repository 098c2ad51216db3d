"""The multi-layer perceptron: a stack of layers built from a ``ModelConfig``.

``forward`` / ``backward`` use each layer's preallocated buffers (for training); ``predict_proba``
and ``hidden_activations`` use ``Layer.infer``, which allocates fresh arrays and so may run while
another thread trains the same network. Inputs are float32 of shape (n, 784) in [0, 1]; the
last layer gives logits of shape (n, n_classes), which the loss turns into probabilities.
"""

from __future__ import annotations

import numpy as np

from nn_core.activations import make_activation
from nn_core.config import ModelConfig
from nn_core.init import init_dense
from nn_core.layers import Dense, Dropout, Layer
from nn_core.losses import make_loss, output_probabilities


class Network:
    """A multi-layer perceptron; ``params()`` / ``grads()`` are keyed ``"<layer>.<name>"``."""

    def __init__(self, config: ModelConfig, layers: list[Layer]) -> None:
        self.config = config
        self.layers = layers
        self.loss = make_loss(config.loss, config.output)
        self._l2_scratch: dict[int, np.ndarray] = {}

    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Logits (n, n_classes) for inputs x (n, n_inputs), through the training buffers."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dlogits: np.ndarray) -> None:
        """Back-propagate dL/dlogits (n, n_classes), filling every layer's grads."""
        for layer in reversed(self.layers):
            dlogits = layer.backward(dlogits)

    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params().items()}

    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads().items()}

    def weight_names(self) -> list[str]:
        """Names of the weight matrices (the parameters L2 decay applies to)."""
        return [name for name in self.params() if name.endswith(".W")]

    def l2_penalty(self, weight_decay: float) -> float:
        """``0.5 * weight_decay * sum ||W||^2`` over weight matrices."""
        if weight_decay == 0.0:
            return 0.0
        params = self.params()
        return 0.5 * weight_decay * sum(float(np.vdot(params[n], params[n])) for n in self.weight_names())

    def add_l2_grads(self, weight_decay: float) -> None:
        """Add the L2 penalty's gradient ``weight_decay * W`` to each weight gradient, in place."""
        if weight_decay == 0.0:
            return
        for layer in self.dense_layers:
            scratch = self._l2_scratch.get(id(layer))
            if scratch is None:
                scratch = self._l2_scratch[id(layer)] = np.empty_like(layer.W)
            np.multiply(layer.W, np.float32(weight_decay), out=scratch)
            layer.dW += scratch

    def predict_proba(self, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Class probabilities (n, n_classes) for X (n, n_inputs) or one image (n_inputs,) / (28, 28)."""
        X = as_batch(X, self.config.n_inputs)
        out = np.empty((X.shape[0], self.config.n_classes), dtype=np.float32)
        for start in range(0, X.shape[0], batch_size):
            logits = self.logits(X[start : start + batch_size])
            out[start : start + batch_size] = output_probabilities(logits, self.config.output)
        return out

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class indices (n,)."""
        return self.predict_proba(X).argmax(axis=1)

    def logits(self, X: np.ndarray) -> np.ndarray:
        """Logits (n, n_classes) computed without touching the training buffers."""
        for layer in self.layers:
            X = layer.infer(X)
        return X

    def hidden_activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Output of each hidden layer's activation for X: a list of (n, width) arrays."""
        X = as_batch(X, self.config.n_inputs)
        outs = []
        for layer in self.layers:
            X = layer.infer(X)
            if not isinstance(layer, (Dense, Dropout)):
                outs.append(X)
        return outs

    def get_weights(self) -> dict[str, np.ndarray]:
        """A copy of every parameter."""
        return {k: v.copy() for k, v in self.params().items()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Copy parameters in place; names and shapes must match."""
        params = self.params()
        if set(weights) != set(params):
            raise ValueError(f"parameter names differ: expected {sorted(params)}, got {sorted(weights)}")
        for name, value in weights.items():
            if value.shape != params[name].shape:
                raise ValueError(f"parameter {name} has shape {value.shape}, expected {params[name].shape}")
            np.copyto(params[name], value, casting="same_kind")

    def copy(self) -> Network:
        """An independent network with the same config and weights (for inference elsewhere)."""
        twin = build_network(self.config, np.random.default_rng(0))
        twin.set_weights(self.params())
        return twin

    def n_params(self) -> int:
        return sum(p.size for p in self.params().values())


def as_batch(X: np.ndarray, n_inputs: int) -> np.ndarray:
    """Turn one image (28, 28) / (784,) or a batch (n, 28, 28) into float32 (n, n_inputs)."""
    X = np.asarray(X)
    if X.dtype == np.uint8:
        X = X.astype(np.float32) / 255.0
    X = X.astype(np.float32, copy=False)
    if X.size % n_inputs:
        raise ValueError(f"input of shape {X.shape} cannot be read as rows of {n_inputs} values")
    return X.reshape(-1, n_inputs)


def param_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The name and shape of every parameter ``build_network(config)`` makes, without allocating.

    Model files are checked against this before anything is built or decompressed.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    widths = (config.n_inputs, *config.hidden, config.n_classes)
    index = 0  # position in the layer list, as in build_network
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        shapes[f"{index}.W"], shapes[f"{index}.b"] = (n_in, n_out), (n_out,)
        index += 1
        if i < len(config.hidden):
            index += 2 if config.dropout > 0 else 1  # activation (and dropout)
    return shapes


def build_network(config: ModelConfig, rng: np.random.Generator) -> Network:
    """Validate ``config`` and build a freshly initialised network from it."""
    config.validate()
    layers: list[Layer] = []
    widths = (config.n_inputs, *config.hidden, config.n_classes)
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        W, b = init_dense(n_in, n_out, config.init, rng)
        layers.append(Dense(W, b, input_grad=i > 0))
        if i < len(config.hidden):
            layers.append(make_activation(config.activations[i], config.leaky_slope))
            if config.dropout > 0:
                layers.append(Dropout(config.dropout, rng))
    return Network(config, layers)
