"""Export a trained network for use outside Digit Lab.

- ``onnx``: ``to_onnx(network)``, an ONNX model that takes ``pixels`` (N, 28, 28) float32 in [0, 1]
  and gives ``probabilities`` (N, classes); everything in between is inside the graph. Needs the
  optional ``onnx`` package (``requirements-export.txt``), imported only when called. One converter per
  layer type: dense layers and activations there, conv, pooling, batch norm and flatten in ``onnx_conv``,
  both registered in ``onnx_graph`` (the graph being built; feature maps in it are (N, C, H, W)).
- ``numpy_zip``: ``to_numpy_zip(network, class_names)``, a zip with ``weights.npz`` and a standalone
  ``predict.py`` (NumPy + Pillow) that classifies image files as ``python -m nn_core predict`` does.
- ``predict.py``: that script's text, shipped as package data; it runs MLPs and CNNs alike.
``export_bytes(network, fmt, class_names)`` picks one of the ``FORMATS`` by name (CLI and app).
"""

from __future__ import annotations

from collections.abc import Sequence

from nn_core.export.common import ExportError
from nn_core.export.numpy_zip import predict_script, to_numpy_zip
from nn_core.export.onnx import onnx_available, to_onnx
from nn_core.network import Network

FORMATS = {"onnx": ".onnx", "numpy": ".zip"}  # format name -> file suffix


def export_bytes(network: Network, fmt: str, class_names: Sequence[str] | None = None) -> bytes:
    """The bytes of ``network`` exported in format ``fmt`` (one of ``FORMATS``)."""
    if fmt == "onnx":
        return to_onnx(network, class_names)
    if fmt == "numpy":
        return to_numpy_zip(network, class_names)
    raise ExportError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")


__all__ = [
    "FORMATS",
    "ExportError",
    "export_bytes",
    "onnx_available",
    "predict_script",
    "to_numpy_zip",
    "to_onnx",
]
