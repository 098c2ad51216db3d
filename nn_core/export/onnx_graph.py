"""The ONNX graph being built and the registry of layer converters (``nn_core.export.onnx`` uses both).

A converter is one function ``(graph, layer, x, shape) -> (y, shape)``, registered for a layer class
with ``@converts(LayerType)``: ``x`` names the layer's input tensor and ``shape`` is the engine's
per-image shape of it, ``(F,)`` for rows or ``(H, W, C)`` for feature maps. The graph holds rows as
(N, F) and feature maps as (N, C, H, W), the layout of ONNX's Conv and pooling operators, so the engine's
NHWC order comes back only where it matters: ``flat`` transposes maps to (N, H, W, C) before flattening.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nn_core.layers import Layer

Shape = tuple[int, ...]  # (F,) for rows, (H, W, C) for feature maps, as nn_core.architecture has them
Converter = Callable[["Graph", Any, str, Shape], tuple[str, Shape]]
CONVERTERS: dict[type[Layer], Converter] = {}


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


def converts(layer_type: type[Layer]) -> Callable[[Converter], Converter]:
    """Register the decorated function as the converter of ``layer_type`` (and of its subclasses)."""

    def register(fn: Converter) -> Converter:
        CONVERTERS[layer_type] = fn
        return fn

    return register


def converter_for(layer: Layer) -> Converter | None:
    """The converter registered for the layer's class or the nearest base class; None when none is."""
    return next((CONVERTERS[t] for t in type(layer).__mro__ if t in CONVERTERS), None)


def flat(g: Graph, x: str, shape: Shape) -> tuple[str, Shape]:
    """``x`` as rows (N, F): maps (N, C, H, W) are put back in the engine's order (N, H, W, C) first,
    so feature ``(h * W + w) * C + c`` is where ``nn_core.layers.Flatten`` puts it."""
    if len(shape) == 1:
        return x, shape
    nhwc = g.op("Transpose", [x], "nhwc", perm=[0, 2, 3, 1])
    return g.op("Flatten", [nhwc], "flatten", axis=1), (int(np.prod(shape)),)
