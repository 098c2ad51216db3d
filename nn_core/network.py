"""The network: a stack of layers built from a ``ModelConfig`` (an MLP, or any layer specs).

``forward`` / ``backward`` use each layer's preallocated buffers (for training); ``predict_proba``
and ``hidden_activations`` use ``Layer.infer``, which allocates fresh arrays and so may run while
another thread trains the same network. Inputs are float32 of shape (n, 784) in [0, 1]; a network
whose first layers need maps views each batch as (n, 28, 28, 1) (a reshape, no copy). The last
layer gives logits of shape (n, n_classes), which the loss turns into probabilities. Batch-norm
running statistics are the network's ``state()``: not trained, but saved and copied with it.
"""

from __future__ import annotations

import numpy as np

from nn_core.activations import make_activation
from nn_core.config import ModelConfig
from nn_core.init import init_dense
from nn_core.layers import Dense, Dropout, Layer
from nn_core.losses import make_loss, output_probabilities
from nn_core.normalization import BatchNorm
from nn_core.spec_layers import build_spec_layers, spec_entry_shapes


class Network:
    """A stack of layers; ``params()`` / ``grads()`` / ``state()`` are keyed ``"<layer>.<name>"``.

    ``input_shape`` (e.g. (28, 28, 1)) makes every batch (n, n_inputs) a view of that shape per
    image; ``spec_ends`` (for networks built from ``config.layers``) gives, per spec, the index
    of its last layer; ``labels`` names each layer ("conv16x5", "relu", "flatten", ...).
    """

    def __init__(
        self,
        config: ModelConfig,
        layers: list[Layer],
        input_shape: tuple[int, ...] | None = None,
        spec_ends: list[int] | None = None,
        labels: list[str] | None = None,
        infer_rows: int | None = None,
    ) -> None:
        self.config = config
        self.layers = layers
        self.input_shape = input_shape
        self.spec_ends = spec_ends
        self.infer_rows = infer_rows  # images per chunk in ``logits`` (None: all at once)
        self.labels = labels if labels is not None else [type(layer).__name__.lower() for layer in layers]
        self.loss = make_loss(config.loss, config.output)
        self._l2_scratch: dict[int, np.ndarray] = {}
        # backward stops at the first layer with parameters: nothing before it needs a gradient
        self._first_trainable = next((i for i, layer in enumerate(layers) if layer.params()), 0)

    def _shaped(self, x: np.ndarray) -> np.ndarray:
        """Rows (n, n_inputs) viewed as (n, *input_shape) when the first layers need maps."""
        return x if self.input_shape is None else x.reshape((x.shape[0], *self.input_shape))

    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Logits (n, n_classes) for inputs x (n, n_inputs), through the training buffers."""
        x = self._shaped(x)
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    def backward(self, dlogits: np.ndarray) -> None:
        """Back-propagate dL/dlogits (n, n_classes), filling every layer's grads."""
        for layer in reversed(self.layers[self._first_trainable :]):
            dlogits = layer.backward(dlogits)

    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params().items()}

    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads().items()}

    def state(self) -> dict[str, np.ndarray]:
        """Non-trained state (batch-norm running ``mean`` and ``var``), keyed like ``params()``;
        the layers' own arrays."""
        return {
            f"{i}.{k}": v
            for i, layer in enumerate(self.layers)
            if isinstance(layer, BatchNorm)
            for k, v in layer.state().items()
        }

    def weight_names(self) -> list[str]:
        """Names of the weights of dense and conv layers (the parameters L2 decay applies to)."""
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
        params, grads = self.params(), self.grads()
        for name in self.weight_names():
            scratch = self._l2_scratch.get(name)
            if scratch is None:
                scratch = self._l2_scratch[name] = np.empty_like(params[name])
            np.multiply(params[name], np.float32(weight_decay), out=scratch)
            grads[name] += scratch

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
        """Logits (n, n_classes) computed without touching the training buffers.

        Networks with conv layers run in chunks of ``infer_rows`` images, so that the unfolded
        columns of a large batch (4096 images: hundreds of MB) are never made at once.
        """
        rows = self.infer_rows
        if rows is not None and X.shape[0] > rows:
            return np.concatenate([self.logits(X[s : s + rows]) for s in range(0, X.shape[0], rows)])
        X = self._shaped(X)
        for layer in self.layers:
            X = layer.infer(X)
        return X

    def hidden_activations(self, X: np.ndarray) -> list[np.ndarray]:
        """Each hidden layer's output for X (inference mode).

        For an MLP, each hidden activation: a list of (n, width) arrays. For a network built from
        ``config.layers``, one array per spec: (n, H, W, C) feature maps for conv, pooling (and
        batch-norm or dropout on maps) layers, (n, width) for dense ones, each after its activation.
        """
        X = self._shaped(as_batch(X, self.config.n_inputs))
        ends = set(self.spec_ends) if self.spec_ends is not None else None
        outs = []
        for i, layer in enumerate(self.layers):
            X = layer.infer(X)
            if (i in ends) if ends is not None else not isinstance(layer, (Dense, Dropout)):
                outs.append(X)
        return outs

    def get_weights(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and of the state (batch-norm running statistics)."""
        return {k: v.copy() for k, v in {**self.params(), **self.state()}.items()}

    def set_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Copy parameters (all needed) and state entries (optional) in place; shapes must match."""
        params, state = self.params(), self.state()
        targets = {**params, **state}
        missing, unknown = set(params) - set(weights), set(weights) - set(targets)
        if missing or unknown:
            raise ValueError(
                f"parameter names differ: expected {sorted(params)} (and optionally {sorted(state)}), "
                f"got {sorted(weights)}"
            )
        for name, value in weights.items():
            if value.shape != targets[name].shape:
                raise ValueError(
                    f"parameter {name} has shape {value.shape}, expected {targets[name].shape} "
                    f"({self.describe_entry(name)})"
                )
        for name, value in weights.items():
            np.copyto(targets[name], value, casting="same_kind")

    def describe_entry(self, name: str) -> str:
        """Which layer a params() or state() entry belongs to: "W of layer 0, conv16x5"."""
        index, _, key = name.partition(".")
        label = self.labels[int(index)] if index.isdigit() and int(index) < len(self.labels) else "?"
        return f"{key} of layer {index}, {label}"

    def copy(self) -> Network:
        """An independent network with the same config, weights and state (for inference elsewhere)."""
        twin = build_network(self.config, np.random.default_rng(0))
        twin.set_weights({**self.params(), **self.state()})
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


def entry_shapes(config: ModelConfig) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """Name and shape of every parameter and every batch-norm statistic ``build_network(config)``
    makes, without allocating (model files are checked against them before anything is read)."""
    config.validate()
    if config.layers:
        return spec_entry_shapes(config)
    return param_shapes(config), {}


def param_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The name and shape of every parameter ``build_network(config)`` makes, without allocating.

    Model files are checked against this before anything is built or decompressed.
    """
    if config.layers:
        return spec_entry_shapes(config)[0]
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
    if config.layers:
        built = build_spec_layers(config, rng)
        return Network(
            config, built.layers, built.input_shape, built.spec_ends, built.labels, built.infer_rows
        )
    layers: list[Layer] = []
    labels: list[str] = []
    widths = (config.n_inputs, *config.hidden, config.n_classes)
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        W, b = init_dense(n_in, n_out, config.init, rng)
        layers.append(Dense(W, b, input_grad=i > 0))
        labels.append(f"dense{n_out}")
        if i < len(config.hidden):
            layers.append(make_activation(config.activations[i], config.leaky_slope))
            labels.append(config.activations[i])
            if config.dropout > 0:
                layers.append(Dropout(config.dropout, rng))
                labels.append(f"dropout{config.dropout:g}")
    return Network(config, layers, labels=labels)
