"""A network as an ONNX model, built node by node with ``onnx.helper`` and checked by ``onnx.checker``.

Contract: one float32 input ``pixels`` of shape (N, 28, 28) holding values in [0, 1] (as
``nn_core.images.preprocess`` makes them) and one output ``probabilities`` of shape (N, classes), equal to
``Network.predict_proba``. Each layer type has one converter, found by the layer's class in
``CONVERTERS``; a new layer (Conv2D, pooling, BatchNorm) is supported by registering one function
``(graph, layer, x, layout) -> (y, layout)``, where ``layout`` says whether the tensor is flat
(N, features) or an image (N, H, W, C) channels-last as the engine stores it.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nn_core.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from nn_core.export.common import IMAGE_SIDE, ExportError, check_exportable, class_labels
from nn_core.layers import Dense, Dropout, Layer
from nn_core.network import Network

OPSET = 17  # every operator used here has had its current form since opset 13
IR_VERSION = 8  # the IR of opset 17, read by onnxruntime 1.13 and later
INPUT, OUTPUT = "pixels", "probabilities"
FLAT, IMAGE = "flat", "image"  # tensor layouts: (N, features) and (N, H, W, C)
INSTALL_HINT = "the onnx package is not installed: pip install -r requirements-export.txt"


def onnx_available() -> bool:
    """True when the optional ``onnx`` package can be imported."""
    return importlib.util.find_spec("onnx") is not None


class Graph:
    """Nodes and constant tensors of the graph being built, with unique names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self._helper, self._numpy_helper = helper, numpy_helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def _name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, stem: str, value: np.ndarray) -> str:
        """Add a constant tensor; returns its name."""
        name = self._name(stem)
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], stem: str, out: str | None = None, **attrs: Any) -> str:
        """Add one node with one output; returns the output's name."""
        out = out or self._name(stem)
        self.nodes.append(self._helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


Converter = Callable[[Graph, Any, str, str], tuple[str, str]]
CONVERTERS: dict[type[Layer], Converter] = {}


def converts(layer_type: type[Layer]) -> Callable[[Converter], Converter]:
    """Register the decorated function as the converter of ``layer_type``."""

    def register(fn: Converter) -> Converter:
        CONVERTERS[layer_type] = fn
        return fn

    return register


def _flat(g: Graph, x: str, layout: str) -> str:
    """x as (N, features); an (N, H, W, C) image is flattened in the engine's row-major order."""
    return x if layout == FLAT else g.op("Flatten", [x], "flatten", axis=1)


@converts(Dense)
def _dense(g: Graph, layer: Dense, x: str, layout: str) -> tuple[str, str]:
    x = _flat(g, x, layout)
    y = g.op("MatMul", [x, g.const("W", layer.W)], "matmul")  # (N, n_in) @ (n_in, n_out)
    return g.op("Add", [y, g.const("b", layer.b)], "dense"), FLAT


@converts(ReLU)
def _relu(g: Graph, layer: ReLU, x: str, layout: str) -> tuple[str, str]:
    return g.op("Relu", [x], "relu"), layout


@converts(LeakyReLU)
def _leaky_relu(g: Graph, layer: LeakyReLU, x: str, layout: str) -> tuple[str, str]:
    return g.op("LeakyRelu", [x], "leaky_relu", alpha=layer.slope), layout


@converts(Sigmoid)
def _sigmoid(g: Graph, layer: Sigmoid, x: str, layout: str) -> tuple[str, str]:
    return g.op("Sigmoid", [x], "sigmoid"), layout


@converts(Tanh)
def _tanh(g: Graph, layer: Tanh, x: str, layout: str) -> tuple[str, str]:
    return g.op("Tanh", [x], "tanh"), layout


@converts(Dropout)
def _dropout(g: Graph, layer: Dropout, x: str, layout: str) -> tuple[str, str]:
    return x, layout  # the identity at inference


def _output(g: Graph, logits: str, output: str) -> str:
    """Probabilities from logits, as ``nn_core.losses.output_probabilities``."""
    if output == "softmax":
        return g.op("Softmax", [logits], "softmax", out=OUTPUT, axis=-1)
    a = g.op("Sigmoid", [logits], "sigmoid")
    total = g.op("ReduceSum", [a, g.const("axes", np.array([1], np.int64))], "sum", keepdims=1)
    return g.op("Div", [a, total], "normalise", out=OUTPUT)  # sigmoid outputs scaled to sum to one


def _input(g: Graph, first: Layer) -> tuple[str, str]:
    """The graph input in the layout the first layer takes: flat for Dense, (N, 28, 28, 1) otherwise."""
    if isinstance(first, Dense):
        return g.op("Flatten", [INPUT], "flatten", axis=1), FLAT  # (N, 784)
    shape = g.const("shape", np.array([-1, IMAGE_SIDE, IMAGE_SIDE, 1], np.int64))
    return g.op("Reshape", [INPUT, shape], "image"), IMAGE


def to_onnx(network: Network, class_names: Sequence[str] | None = None) -> bytes:
    """The serialised ONNX model of ``network`` (opset 17), checked with ``onnx.checker``.

    Raises ``ExportError`` when ``onnx`` is missing, the network does not take 28x28 images, or a
    layer has no converter.
    """
    if not onnx_available():
        raise ExportError(INSTALL_HINT)
    import onnx
    from onnx import TensorProto, helper

    check_exportable(network)
    g = Graph()
    x, layout = _input(g, network.layers[0])
    for layer in network.layers:
        convert = CONVERTERS.get(type(layer))
        if convert is None:
            raise ExportError(f"layers of type {type(layer).__name__} cannot be exported to ONNX yet")
        x, layout = convert(g, layer, x, layout)
    _output(g, _flat(g, x, layout), network.config.output)
    n_classes = network.config.n_classes
    graph = helper.make_graph(
        g.nodes,
        "digit_lab",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", IMAGE_SIDE, IMAGE_SIDE])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["N", n_classes])],
        initializer=g.initializers,
        doc_string="pixels: (N, 28, 28) float32 in [0, 1], ink bright on black; probabilities: (N, classes)",
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="digit-lab",
        ir_version=IR_VERSION,
    )
    helper.set_model_props(model, {"class_names": json.dumps(class_labels(network, class_names))})
    onnx.checker.check_model(model, full_check=True)
    return model.SerializeToString()
