"""ONNX converters of the convolutional layers: Conv2D, MaxPool2D, AvgPool2D, BatchNorm and Flatten.

Feature maps are (N, C, H, W) in the graph (see ``nn_core.export.onnx_graph``). A kernel (kh, kw, c_in,
c_out) becomes ONNX's (c_out, c_in, kh, kw); padding is explicit and the engine's own
(``nn_core.conv.conv_geometry``: "same" puts the smaller half of the zeros on top and left, and rows
that no window reaches are left out, as with ONNX's floor rounding). Pooling is ONNX's, unpadded with
floor rounding, so a partial window at the edge is dropped as the engine drops it. Batch norm uses the
running statistics (``BatchNormalization`` in inference mode), after a dense layer or a conv.
"""

from __future__ import annotations

from nn_core.conv import Conv2D
from nn_core.export.common import conv_padding
from nn_core.export.onnx_graph import Graph, Shape, converts, flat
from nn_core.layers import Flatten
from nn_core.normalization import BatchNorm
from nn_core.pooling import AvgPool2D, MaxPool2D


def conv_pads(layer: Conv2D, h: int, w: int) -> list[int]:
    """ONNX ``pads`` (top, left, bottom, right) giving the engine's output for an (h, w) input."""
    (top, bottom), (left, right) = conv_padding(layer, h, w)
    return [top, left, bottom, right]


@converts(Conv2D)
def _conv(g: Graph, layer: Conv2D, x: str, shape: Shape) -> tuple[str, Shape]:
    h, w, _ = shape
    kernel = layer.W.transpose(3, 2, 0, 1)  # (kh, kw, c_in, c_out) -> (c_out, c_in, kh, kw)
    y = g.op(
        "Conv",
        [x, g.const("kernel", kernel), g.const("bias", layer.b)],
        "conv",
        kernel_shape=list(layer.W.shape[:2]),
        strides=[layer.stride, layer.stride],
        pads=conv_pads(layer, h, w),
    )
    return y, layer.output_shape(h, w)


def _pool(g: Graph, op_type: str, layer: MaxPool2D | AvgPool2D, x: str, shape: Shape) -> tuple[str, Shape]:
    size, stride = layer.size, layer.stride
    y = g.op(op_type, [x], op_type.lower(), kernel_shape=[size, size], strides=[stride, stride])
    return y, layer.output_shape(*shape)


@converts(MaxPool2D)
def _max_pool(g: Graph, layer: MaxPool2D, x: str, shape: Shape) -> tuple[str, Shape]:
    return _pool(g, "MaxPool", layer, x, shape)


@converts(AvgPool2D)
def _avg_pool(g: Graph, layer: AvgPool2D, x: str, shape: Shape) -> tuple[str, Shape]:
    return _pool(g, "AveragePool", layer, x, shape)


@converts(BatchNorm)
def _batch_norm(g: Graph, layer: BatchNorm, x: str, shape: Shape) -> tuple[str, Shape]:
    # per channel: axis 1 of rows (N, F) and of maps (N, C, H, W) alike
    names = [
        g.const(stem, value)
        for stem, value in (
            ("gamma", layer.gamma),
            ("beta", layer.beta),
            ("mean", layer.running_mean),
            ("var", layer.running_var),
        )
    ]
    return g.op("BatchNormalization", [x, *names], "batch_norm", epsilon=layer.eps), shape


@converts(Flatten)
def _flatten(g: Graph, layer: Flatten, x: str, shape: Shape) -> tuple[str, Shape]:
    return flat(g, x, shape)
