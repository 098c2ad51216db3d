"""What every export format shares: its error type, the image size it expects, the class names and a
conv layer's padding written out."""

from __future__ import annotations

from collections.abc import Sequence

from nn_core.conv import Conv2D, conv_geometry
from nn_core.network import Network

IMAGE_SIDE = 28  # exported models take (N, 28, 28) images


class ExportError(ValueError):
    """A network that cannot be exported, or a missing optional package; the message says what to do."""


def check_exportable(network: Network) -> None:
    """Refuse a network that does not take 28x28 images."""
    if network.config.n_inputs != IMAGE_SIDE * IMAGE_SIDE:
        raise ExportError(
            f"the model takes {network.config.n_inputs} inputs, not {IMAGE_SIDE}x{IMAGE_SIDE} pixels: "
            "only image classifiers can be exported"
        )


def class_labels(network: Network, class_names: Sequence[str] | None) -> list[str]:
    """One name per class: the given names, or "0", "1", ... when none (or the wrong number) are given."""
    n = network.config.n_classes
    if class_names is not None and len(class_names) == n:
        return [str(name) for name in class_names]
    return [str(k) for k in range(n)]


def conv_padding(layer: Conv2D, h: int, w: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """Zeros ((top, bottom), (left, right)) that give the engine's output for an (h, w) input when the
    windows start at the padded map's corner and no rounding up is done (``nn_core.conv.conv_geometry``:
    "same" puts the smaller half first; no zeros after a map whose last rows no window reaches)."""
    sides = []
    for size, k in ((h, layer.W.shape[0]), (w, layer.W.shape[1])):
        _, before, used = conv_geometry(size, k, layer.stride, layer.padding)
        sides.append((before, max(used - before - size, 0)))
    return sides[0], sides[1]
