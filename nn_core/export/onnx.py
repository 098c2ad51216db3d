"""A network as an ONNX model, built node by node with ``onnx.helper`` and checked by ``onnx.checker``.

Contract: one float32 input ``pixels`` of shape (N, 28, 28) holding values in [0, 1] (as
``nn_core.images.preprocess`` makes them) and one output ``probabilities`` of shape (N, classes), equal to
``Network.predict_proba``. Each layer type has one converter, registered with ``@converts`` (see
``nn_core.export.onnx_graph``): the dense layers and activations here, the convolutional layers
(Conv2D, pooling, BatchNorm, Flatten) in ``nn_core.export.onnx_conv``.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence

import numpy as np

from nn_core.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from nn_core.export import onnx_conv  # noqa: F401  (registers the converters of conv layers)
from nn_core.export.common import IMAGE_SIDE, ExportError, check_exportable, class_labels
from nn_core.export.onnx_graph import Graph, Shape, converter_for, converts, flat
from nn_core.layers import Dense, Dropout
from nn_core.network import Network

OPSET = 17  # every operator used here has had its current form since opset 15
IR_VERSION = 8  # the IR of opset 17, read by onnxruntime 1.13 and later
INPUT, OUTPUT = "pixels", "probabilities"
INSTALL_HINT = "the onnx package is not installed: pip install -r requirements-export.txt"


def onnx_available() -> bool:
    """True when the optional ``onnx`` package can be imported."""
    return importlib.util.find_spec("onnx") is not None


@converts(Dense)
def _dense(g: Graph, layer: Dense, x: str, shape: Shape) -> tuple[str, Shape]:
    x, _ = flat(g, x, shape)
    y = g.op("MatMul", [x, g.const("W", layer.W)], "matmul")  # (N, n_in) @ (n_in, n_out)
    return g.op("Add", [y, g.const("b", layer.b)], "dense"), (layer.n_out,)


@converts(ReLU)
def _relu(g: Graph, layer: ReLU, x: str, shape: Shape) -> tuple[str, Shape]:
    return g.op("Relu", [x], "relu"), shape


@converts(LeakyReLU)
def _leaky_relu(g: Graph, layer: LeakyReLU, x: str, shape: Shape) -> tuple[str, Shape]:
    return g.op("LeakyRelu", [x], "leaky_relu", alpha=layer.slope), shape


@converts(Sigmoid)
def _sigmoid(g: Graph, layer: Sigmoid, x: str, shape: Shape) -> tuple[str, Shape]:
    return g.op("Sigmoid", [x], "sigmoid"), shape


@converts(Tanh)
def _tanh(g: Graph, layer: Tanh, x: str, shape: Shape) -> tuple[str, Shape]:
    return g.op("Tanh", [x], "tanh"), shape


@converts(Dropout)
def _dropout(g: Graph, layer: Dropout, x: str, shape: Shape) -> tuple[str, Shape]:
    return x, shape  # the identity at inference (on rows and, as MapDropout, on maps)


def _output(g: Graph, logits: str, output: str) -> str:
    """Probabilities from logits, as ``nn_core.losses.output_probabilities``."""
    if output == "softmax":
        return g.op("Softmax", [logits], "softmax", out=OUTPUT, axis=-1)
    a = g.op("Sigmoid", [logits], "sigmoid")
    total = g.op("ReduceSum", [a, g.const("axes", np.array([1], np.int64))], "sum", keepdims=1)
    return g.op("Div", [a, total], "normalise", out=OUTPUT)  # sigmoid outputs scaled to sum to one


def _input(g: Graph, network: Network) -> tuple[str, Shape]:
    """The graph input as the first layer takes it: rows (N, 784), or maps (N, 1, 28, 28) for a network
    whose first layers need maps (``Network.input_shape``, (28, 28, 1))."""
    if network.input_shape is None:
        return g.op("Flatten", [INPUT], "flatten", axis=1), (IMAGE_SIDE * IMAGE_SIDE,)
    shape = g.const("shape", np.array([-1, 1, IMAGE_SIDE, IMAGE_SIDE], np.int64))
    return g.op("Reshape", [INPUT, shape], "image"), (IMAGE_SIDE, IMAGE_SIDE, 1)


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
    x, shape = _input(g, network)
    for layer in network.layers:
        convert = converter_for(layer)
        if convert is None:
            raise ExportError(f"layers of type {type(layer).__name__} cannot be exported to ONNX")
        x, shape = convert(g, layer, x, shape)
    _output(g, flat(g, x, shape)[0], network.config.output)
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
