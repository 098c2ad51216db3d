"""``LayerSpec``: one hidden layer of a network as a small frozen record.

It lives apart from the grammar and the shape rules (``nn_core.architecture``) so that the configs
can hold layer specs without importing those rules.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from nn_core.fields import from_plain


@dataclass(frozen=True)
class LayerSpec:
    """One hidden layer. Fields a kind does not use keep their defaults.

    kind : "dense" | "conv" | "maxpool" | "avgpool" | "batchnorm" | "dropout"
    units : dense width; filters : conv output channels; kernel : conv kernel side (square);
    stride : conv stride (pooling strides equal their size); padding : conv "valid" or "same";
    activation : after a dense, conv or batchnorm layer (one of ``LAYER_ACTIVATIONS``);
    size : pooling window side; rate : dropout rate in (0, 1).
    """

    kind: str
    units: int = 0
    filters: int = 0
    kernel: int = 0
    stride: int = 1
    padding: str = "valid"
    activation: str = "linear"
    size: int = 0
    rate: float = 0.0

    @property
    def spatial(self) -> bool:
        """True for layers that need feature maps (conv and pooling)."""
        return self.kind in ("conv", "maxpool", "avgpool")

    @property
    def name(self) -> str:
        """The token without an activation suffix: "conv16x5", "maxpool2", "bn", "dense128"."""
        if self.kind == "dense":
            return f"dense{self.units}"
        if self.kind == "conv":
            stride = f"s{self.stride}" if self.stride != 1 else ""
            return f"conv{self.filters}x{self.kernel}{stride}{'same' if self.padding == 'same' else ''}"
        if self.kind in ("maxpool", "avgpool"):
            return f"{self.kind}{self.size}"
        if self.kind == "batchnorm":
            return "bn"
        return f"dropout{self.rate:g}"

    def token(self, default_activation: str | None = None) -> str:
        """This layer in the grammar; the activation suffix is left out when it is the default
        (``default_activation`` for dense and conv, "linear" for batchnorm)."""
        default = "linear" if self.kind == "batchnorm" else default_activation
        if self.kind in ("dense", "conv", "batchnorm") and self.activation != default:
            return f"{self.name}:{self.activation}"
        return self.name

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "layer") -> LayerSpec:
        """From ``to_dict``'s form, every field's type checked (``FieldTypeError`` names it)."""
        return from_plain(cls, data, where=where)
