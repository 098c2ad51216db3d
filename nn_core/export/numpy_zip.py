"""A network as a zip of plain NumPy weights and a standalone ``predict.py`` (NumPy + Pillow only).

The zip holds ``digit-lab-model/weights.npz``, ``predict.py`` and ``README.txt``. ``weights.npz`` has one
array per parameter (``0.W`` of shape (784, 128) or (5, 5, 1, 32), ``0.b`` ...) and per batch-norm
running statistic (``1.mean``, ``1.var``), and ``spec``, a JSON string: the ``input`` shape per image
([784] for rows, [28, 28, 1] for NHWC maps), the layer stack (``{"type": "dense", "W": "0.W", "b":
"0.b"}``, ``{"type": "conv", ..., "stride": 2, "pads": [top, bottom, left, right]}``, ``{"type":
"relu"}``, ...), the ``output`` function (softmax or sigmoid) and the ``class_names``. Each layer type has
one entry in ``SPECS``, found by its class or the nearest base class (``MapDropout`` is a ``Dropout``).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from importlib.resources import files
from typing import Any

import numpy as np

from nn_core.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from nn_core.conv import Conv2D
from nn_core.export.common import IMAGE_SIDE, ExportError, check_exportable, class_labels, conv_padding
from nn_core.layers import Dense, Dropout, Flatten, Layer
from nn_core.network import Network
from nn_core.normalization import BatchNorm
from nn_core.pooling import AvgPool2D, MaxPool2D

FOLDER = "digit-lab-model"
README = """Digit Lab model: plain NumPy weights and a script that uses them.

    pip install numpy pillow
    python predict.py digit.png photo.jpg          # one line per image
    python predict.py --json digit.png             # one JSON object per image

predict.py turns each image into a 28x28 MNIST-style digit (ink found, cropped, fitted into 20x20,
centred by mass) as Digit Lab does, then runs the network stored in weights.npz.
"""

Shape = tuple[int, ...]  # the per-image shape a layer takes: (F,) or (H, W, C)


def _conv(layer: Conv2D, i: int, shape: Shape) -> dict[str, Any]:
    """A conv layer with its padding written out for the input size: [top, bottom, left, right]."""
    pads = [n for side in conv_padding(layer, shape[0], shape[1]) for n in side]
    return {"type": "conv", "W": f"{i}.W", "b": f"{i}.b", "stride": layer.stride, "pads": pads}


def _batch_norm(layer: BatchNorm, i: int, shape: Shape) -> dict[str, Any]:
    names = {"gamma": f"{i}.gamma", "beta": f"{i}.beta", "mean": f"{i}.mean", "var": f"{i}.var"}
    return {"type": "batchnorm", **names, "eps": layer.eps}


# layer type -> its entry in the spec, given the layer, its position and its input's shape per image
# (None: left out, as dropout is at inference)
SPECS: dict[type[Layer], Callable[[Any, int, Shape], dict[str, Any] | None]] = {
    Dense: lambda layer, i, shape: {"type": "dense", "W": f"{i}.W", "b": f"{i}.b"},
    Conv2D: _conv,
    MaxPool2D: lambda layer, i, shape: {"type": "maxpool", "size": layer.size, "stride": layer.stride},
    AvgPool2D: lambda layer, i, shape: {"type": "avgpool", "size": layer.size, "stride": layer.stride},
    BatchNorm: _batch_norm,
    Flatten: lambda layer, i, shape: {"type": "flatten"},
    ReLU: lambda layer, i, shape: {"type": "relu"},
    LeakyReLU: lambda layer, i, shape: {"type": "leaky_relu", "slope": layer.slope},
    Sigmoid: lambda layer, i, shape: {"type": "sigmoid"},
    Tanh: lambda layer, i, shape: {"type": "tanh"},
    Dropout: lambda layer, i, shape: None,
}


def predict_script() -> str:
    """The text of the standalone ``predict.py``."""
    return files("nn_core.export").joinpath("predict.py").read_text(encoding="utf-8")


def network_spec(network: Network, class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The JSON-ready description of the layer stack, output function and class names."""
    first = network.input_shape or (IMAGE_SIDE * IMAGE_SIDE,)
    shape, layers = first, []
    for i, layer in enumerate(network.layers):
        describe = next((SPECS[t] for t in type(layer).__mro__ if t in SPECS), None)
        if describe is None:
            raise ExportError(f"layers of type {type(layer).__name__} cannot be exported to NumPy")
        entry = describe(layer, i, shape)
        if entry is not None:
            layers.append(entry)
        shape = _next_shape(layer, shape)
    return {
        "format": "digit-lab-numpy",
        "version": 2,
        "input": list(first),
        "layers": layers,
        "output": network.config.output,
        "class_names": class_labels(network, class_names),
    }


def _next_shape(layer: Layer, shape: Shape) -> Shape:
    """The per-image shape of the layer's output."""
    if isinstance(layer, Conv2D):
        return layer.output_shape(shape[0], shape[1])
    if isinstance(layer, MaxPool2D | AvgPool2D):
        return layer.output_shape(*shape)
    if isinstance(layer, Dense):
        return (layer.n_out,)
    return (int(np.prod(shape)),) if isinstance(layer, Flatten) else shape


def weights_npz(network: Network, class_names: Sequence[str] | None = None) -> bytes:
    """The bytes of ``weights.npz``: every parameter and running statistic (float32) and ``spec``."""
    check_exportable(network)
    spec = network_spec(network, class_names)
    buffer = io.BytesIO()
    np.savez(buffer, spec=np.array(json.dumps(spec)), **network.params(), **network.state())
    return buffer.getvalue()


def to_numpy_zip(network: Network, class_names: Sequence[str] | None = None) -> bytes:
    """The bytes of a zip holding ``weights.npz``, ``predict.py`` and ``README.txt`` in one folder."""
    weights = weights_npz(network, class_names)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{FOLDER}/weights.npz", weights)
        archive.writestr(f"{FOLDER}/predict.py", predict_script())
        archive.writestr(f"{FOLDER}/README.txt", README)
    return buffer.getvalue()
