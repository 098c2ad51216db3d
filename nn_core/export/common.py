"""What every export format shares: its error type, the image size it expects and the class names."""

from __future__ import annotations

from collections.abc import Sequence

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
