"""A network as a zip of plain NumPy weights and a standalone ``predict.py`` (NumPy + Pillow only).

The zip holds ``digit-lab-model/weights.npz``, ``predict.py`` and ``README.txt``. ``weights.npz`` has one
array per parameter (``0.W`` of shape (784, 128), ``0.b`` ...) and ``spec``, a JSON string: the layer
stack (``{"type": "dense", "W": "0.W", "b": "0.b"}``, ``{"type": "relu"}``, ...), the ``output``
function (softmax or sigmoid) and the ``class_names``. Each layer type has one entry in ``SPECS``.
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
from nn_core.export.common import ExportError, check_exportable, class_labels
from nn_core.layers import Dense, Dropout, Layer
from nn_core.network import Network

FOLDER = "digit-lab-model"
README = """Digit Lab model: plain NumPy weights and a script that uses them.

    pip install numpy pillow
    python predict.py digit.png photo.jpg          # one line per image
    python predict.py --json digit.png             # one JSON object per image

predict.py turns each image into a 28x28 MNIST-style digit (ink found, cropped, fitted into 20x20,
centred by mass) as Digit Lab does, then runs the network stored in weights.npz.
"""

# layer type -> its entry in the spec, given the layer and its position (None: left out, e.g. dropout)
SPECS: dict[type[Layer], Callable[[Any, int], dict[str, Any] | None]] = {
    Dense: lambda layer, i: {"type": "dense", "W": f"{i}.W", "b": f"{i}.b"},
    ReLU: lambda layer, i: {"type": "relu"},
    LeakyReLU: lambda layer, i: {"type": "leaky_relu", "slope": layer.slope},
    Sigmoid: lambda layer, i: {"type": "sigmoid"},
    Tanh: lambda layer, i: {"type": "tanh"},
    Dropout: lambda layer, i: None,
}


def predict_script() -> str:
    """The text of the standalone ``predict.py``."""
    return files("nn_core.export").joinpath("predict.py").read_text(encoding="utf-8")


def network_spec(network: Network, class_names: Sequence[str] | None = None) -> dict[str, Any]:
    """The JSON-ready description of the layer stack, output function and class names."""
    layers = []
    for i, layer in enumerate(network.layers):
        describe = SPECS.get(type(layer))
        if describe is None:
            raise ExportError(f"layers of type {type(layer).__name__} cannot be exported to NumPy yet")
        entry = describe(layer, i)
        if entry is not None:
            layers.append(entry)
    return {
        "format": "digit-lab-numpy",
        "version": 1,
        "input": [28, 28],
        "layers": layers,
        "output": network.config.output,
        "class_names": class_labels(network, class_names),
    }


def weights_npz(network: Network, class_names: Sequence[str] | None = None) -> bytes:
    """The bytes of ``weights.npz``: every parameter (float32) and the ``spec`` JSON string."""
    check_exportable(network)
    spec = network_spec(network, class_names)
    buffer = io.BytesIO()
    np.savez(buffer, spec=np.array(json.dumps(spec)), **network.params())
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
