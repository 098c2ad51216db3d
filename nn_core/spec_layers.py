"""From layer specs (``ModelConfig.layers``) to the engine's layer objects.

Each spec becomes one to three layers: a conv or dense layer and its activation (a ``Flatten``
goes before the first dense layer after feature maps), a pooling layer, a ``BatchNorm`` (and its
activation, if given), or a dropout layer; the output dense layer comes last. ``SpecLayers``
records where each spec's layers end, so a network can return each spec's output, and a label
per layer ("conv16x5", "relu", "flatten", "dense10") for messages and views.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nn_core.activations import make_activation
from nn_core.architecture import infer_shapes, input_shape
from nn_core.config import ModelConfig
from nn_core.conv import Conv2D
from nn_core.init import init_conv, init_dense
from nn_core.layers import Dense, Dropout, Flatten, Layer
from nn_core.normalization import BatchNorm
from nn_core.pooling import AvgPool2D, MaxPool2D


class MapDropout(Dropout):
    """Inverted dropout of single values on feature maps (n, H, W, C), as rows (n, H*W*C)."""

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = super().forward(x.reshape(x.shape[0], -1), training)  # views of contiguous maps
        return out.reshape(x.shape)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return super().backward(dy.reshape(dy.shape[0], -1)).reshape(dy.shape)


@dataclass
class SpecLayers:
    """Layers built from specs, with what a ``Network`` needs to run them."""

    layers: list[Layer]
    labels: list[str]  # one per layer
    input_shape: tuple[int, ...] | None  # (28, 28, 1) when the inputs must be maps, else None
    spec_ends: list[int]  # per spec, the index of its last layer (its output)
    infer_rows: int  # images per inference chunk, so no temporary array exceeds INFER_VALUES


INFER_VALUES = 2**23  # float32 values (32 MB) in the largest temporary array of one inference chunk


def build_spec_layers(config: ModelConfig, rng: np.random.Generator) -> SpecLayers:
    """Freshly initialised layers for ``config.layers`` plus the output layer (config validated)."""
    specs = config.layers
    shapes = infer_shapes(specs, config.n_inputs, config.n_classes)
    shape = input_shape(specs, config.n_inputs)
    layers: list[Layer] = []
    labels: list[str] = []
    ends: list[int] = []
    peak = max(math.prod(shape), 1)  # the largest array per image: an output or a conv's columns

    def add(layer: Layer, label: str) -> None:
        layers.append(layer)
        labels.append(label)

    def trainable_before() -> bool:  # a layer before has parameters, so dx is needed
        return any(layer.params() for layer in layers)

    def add_activation(name: str) -> None:
        if name != "linear":
            add(make_activation(name, config.leaky_slope), name)

    for spec, out in zip(specs, shapes, strict=True):
        label = spec.name
        if spec.kind == "conv":
            peak = max(peak, math.prod(out[:2]) * spec.kernel * spec.kernel * shape[-1])
            W, b = init_conv(spec.kernel, shape[-1], spec.filters, config.init, rng)
            add(Conv2D(W, b, spec.stride, spec.padding, input_grad=trainable_before()), label)
            add_activation(spec.activation)
        elif spec.kind == "dense":
            if len(shape) == 3:
                add(Flatten(), "flatten")
            W, b = init_dense(math.prod(shape), spec.units, config.init, rng)
            add(Dense(W, b, input_grad=trainable_before()), label)
            add_activation(spec.activation)
        elif spec.kind in ("maxpool", "avgpool"):
            add((MaxPool2D if spec.kind == "maxpool" else AvgPool2D)(spec.size), label)
        elif spec.kind == "batchnorm":
            add(BatchNorm(shape[-1]), label)
            add_activation(spec.activation)
        else:
            add((MapDropout if len(shape) == 3 else Dropout)(spec.rate, rng), label)
        ends.append(len(layers) - 1)
        peak = max(peak, math.prod(out))
        shape = out
    if len(shape) == 3:
        add(Flatten(), "flatten")
    W, b = init_dense(math.prod(shape), config.n_classes, config.init, rng)
    add(Dense(W, b, input_grad=trainable_before()), f"dense{config.n_classes}")
    spatial = input_shape(specs, config.n_inputs)
    rows = max(16, INFER_VALUES // peak)
    return SpecLayers(layers, labels, spatial if len(spatial) == 3 else None, ends, rows)


def spec_entry_shapes(config: ModelConfig) -> tuple[dict[str, tuple[int, ...]], dict[str, tuple[int, ...]]]:
    """The parameters and batch-norm statistics ``build_spec_layers(config)`` makes, by name and
    shape, without allocating anything (model files are checked against them before loading).

    Returns (params, state): e.g. ``{"0.W": (5, 5, 1, 16), "0.b": (16,), ...}`` and
    ``{"3.mean": (16,), "3.var": (16,)}``, keyed by layer position as ``Network.params()`` is.
    """
    specs = config.layers
    shapes = infer_shapes(specs, config.n_inputs, config.n_classes)
    shape = input_shape(specs, config.n_inputs)
    params: dict[str, tuple[int, ...]] = {}
    state: dict[str, tuple[int, ...]] = {}
    index = 0  # position in the layer list, as build_spec_layers appends

    def after_activation(name: str) -> int:
        return 1 if name != "linear" else 0

    for spec, out in zip(specs, shapes, strict=True):
        if spec.kind == "conv":
            params[f"{index}.W"], params[f"{index}.b"] = (
                (spec.kernel, spec.kernel, shape[-1], spec.filters),
                (spec.filters,),
            )
            index += 1 + after_activation(spec.activation)
        elif spec.kind == "dense":
            index += 1 if len(shape) == 3 else 0  # flatten
            params[f"{index}.W"], params[f"{index}.b"] = (math.prod(shape), spec.units), (spec.units,)
            index += 1 + after_activation(spec.activation)
        elif spec.kind == "batchnorm":
            params[f"{index}.gamma"] = params[f"{index}.beta"] = (shape[-1],)
            state[f"{index}.mean"] = state[f"{index}.var"] = (shape[-1],)
            index += 1 + after_activation(spec.activation)
        else:  # pooling or dropout: one layer without parameters
            index += 1
        shape = out
    index += 1 if len(shape) == 3 else 0
    params[f"{index}.W"], params[f"{index}.b"] = (math.prod(shape), config.n_classes), (config.n_classes,)
    return params, state
