"""Layer specifications: a frozen ``LayerSpec`` per hidden layer, a compact text grammar, shapes.

A model described by layers is a list of hidden layers; the output dense layer (one unit per
class) is always added after them, as it is after ``ModelConfig.hidden``. The grammar, one token a
layer, tokens separated by commas (``-`` and spaces work too)::

    conv16x5          16 filters of 5x5, stride 1, padding valid
    conv32x3s2        32 filters of 3x3, stride 2
    conv32x3same      padding same (output size ceil(input / stride)); conv32x3s2same
    maxpool2          max pooling over 2x2 windows, stride 2 (avgpool3: mean over 3x3, stride 3)
    bn                batch normalisation (per channel after a conv, per unit after a dense)
    dropout0.25       inverted dropout with rate 0.25
    dense128          fully connected, 128 units

Dense and conv layers take the default activation (``--activation``, relu unless told) unless a
suffix names another: ``dense128:tanh``, ``conv16x5:leaky_relu``, ``conv16x5:linear`` (none). A
``bn`` has no activation unless given one: ``conv16x5:linear,bn:relu`` is conv, batch norm, ReLU.

Shapes: the input is a (28, 28, 1) map when any layer is a conv or pooling layer, else 784 values;
a dense layer after maps flattens them first (NHWC order). ``infer_shapes`` checks every layer
fits and stays within the size limits below, with errors naming the layer and its position.
"""

from __future__ import annotations

import math
import re
from typing import Any

from nn_core.activations import ACTIVATIONS
from nn_core.config import MAX_WIDTH, ConfigError
from nn_core.fields import FieldTypeError
from nn_core.layer_spec import LayerSpec

LAYER_KINDS = ("dense", "conv", "maxpool", "avgpool", "batchnorm", "dropout")
PADDINGS = ("valid", "same")
LAYER_ACTIVATIONS = (*ACTIVATIONS, "linear")  # "linear": no activation
INPUT_SIDE = 28  # images are 28 x 28 x 1

# Limits, so that a config cannot ask for absurd memory (sizes are per image: a batch of 128
# multiplies them). A 784-4096-4096-...-10 MLP stays within them.
MAX_LAYERS = 16  # hidden layers, counting pooling, bn and dropout
MAX_FILTERS = 256
MAX_KERNEL = 9
MAX_STRIDE = 4
MAX_POOL = 7
MAX_MAP_VALUES = INPUT_SIDE * INPUT_SIDE * 128  # values in one layer's output for one image
MAX_COLUMN_VALUES = 2**20  # a conv's unfolded input (Ho*Wo*kh*kw*c_in) for one image: 4 MB
MAX_LAYER_PARAMS = MAX_WIDTH * MAX_WIDTH  # weights and biases of one layer
MAX_TOTAL_PARAMS = 8 * MAX_WIDTH * MAX_WIDTH

Shape = tuple[int, ...]  # (H, W, C) for feature maps, (F,) for vectors


_TOKEN = re.compile(
    r"(?P<conv>conv(?P<filters>\d+)x(?P<kernel>\d+)(?:s(?P<stride>\d+))?(?P<padding>same|valid)?)"
    r"|(?P<pool>(?P<pool_kind>maxpool|avgpool)(?P<size>\d+))"
    r"|(?P<bn>bn|batchnorm)"
    r"|(?P<dropout>dropout(?P<rate>\d*\.?\d+(?:e-?\d+)?))"
    r"|(?P<dense>dense(?P<units>\d+))"
)
GRAMMAR_HELP = "conv16x5, conv32x3s2, conv32x3same, maxpool2, avgpool2, bn, dropout0.25, dense128 (activation: dense128:tanh)"


def parse_layer(token: str, default_activation: str = "relu", position: int = 1) -> LayerSpec:
    """One token of the grammar as a ``LayerSpec``; ``ConfigError`` names the token and position."""
    text = token.strip().lower()
    name, _, activation = text.partition(":")
    match = _TOKEN.fullmatch(name)
    if match is None:
        raise ConfigError(
            f"layer {position} ({token.strip()!r}): not a layer; write layers as {GRAMMAR_HELP}"
        )
    g = match.groupdict()
    if g["conv"]:
        spec = LayerSpec(
            "conv",
            filters=int(g["filters"]),
            kernel=int(g["kernel"]),
            stride=int(g["stride"] or 1),
            padding=g["padding"] or "valid",
            activation=default_activation,
        )
    elif g["pool"]:
        spec = LayerSpec(g["pool_kind"], size=int(g["size"]))
    elif g["bn"]:
        spec = LayerSpec("batchnorm")
    elif g["dropout"]:
        spec = LayerSpec("dropout", rate=float(g["rate"]))
    else:
        spec = LayerSpec("dense", units=int(g["units"]), activation=default_activation)
    if activation:
        if spec.kind not in ("dense", "conv", "batchnorm"):
            raise ConfigError(f"layer {position} ({token.strip()}): a {spec.kind} layer takes no activation")
        spec = LayerSpec(**{**spec.to_dict(), "activation": activation})
    return spec


def parse_layers(text: str, default_activation: str = "relu") -> tuple[LayerSpec, ...]:
    """Parse "conv16x5,maxpool2,dense128" (commas, dashes or spaces between tokens) into specs.

    Only the grammar is checked here; ``infer_shapes`` checks that the layers fit together.
    """
    if default_activation not in LAYER_ACTIVATIONS:
        raise ConfigError(
            f"unknown activation {default_activation!r}: choose one of {', '.join(ACTIVATIONS)}"
        )
    tokens = [t for t in re.split(r"[,\s]+|-(?![\d.])", text.strip()) if t]
    return tuple(parse_layer(t, default_activation, i) for i, t in enumerate(tokens, start=1))


def format_layers(specs: tuple[LayerSpec, ...], default_activation: str = "relu", sep: str = ",") -> str:
    """The grammar text of ``specs``; ``parse_layers(format_layers(s, a), a) == s``."""
    return sep.join(spec.token(default_activation) for spec in specs)


def specs_from_dicts(data: Any) -> tuple[LayerSpec, ...]:
    """Specs from their ``to_dict`` form (a JSON list of dicts, as in a model file's config)."""
    if not isinstance(data, list | tuple) or not all(isinstance(d, dict) for d in data):
        raise ConfigError(f"bad ModelConfig: layers must be a list of layer dicts, got {data!r}")
    try:
        return tuple(LayerSpec.from_dict(d, where=f"layers[{i}]") for i, d in enumerate(data))
    except FieldTypeError as err:
        raise ConfigError(f"bad ModelConfig: {err}") from err


def check_layers(specs: tuple[LayerSpec, ...], n_inputs: int, n_classes: int) -> None:
    """Raise ``ConfigError`` unless ``specs`` are LayerSpecs that fit together (``infer_shapes``)."""
    if not all(isinstance(spec, LayerSpec) for spec in specs):
        raise ConfigError("layers must be LayerSpec values (see nn_core.architecture.parse_layers)")
    infer_shapes(specs, n_inputs, n_classes)


def input_shape(specs: tuple[LayerSpec, ...], n_inputs: int = INPUT_SIDE * INPUT_SIDE) -> Shape:
    """(side, side, 1) when any layer needs maps (the inputs must then be a square image), else (n_inputs,)."""
    if not any(spec.spatial for spec in specs):
        return (n_inputs,)
    side = math.isqrt(n_inputs)
    if side * side != n_inputs:
        raise ConfigError(f"conv and pooling layers need square images; {n_inputs} inputs are not one")
    return (side, side, 1)


def conv_output_side(size: int, kernel: int, stride: int, padding: str) -> int:
    """Output length along one axis (as ``nn_core.conv``: same gives ceil(size / stride))."""
    return -(-size // stride) if padding == "same" else (size - kernel) // stride + 1


def infer_shapes(
    specs: tuple[LayerSpec, ...], n_inputs: int = INPUT_SIDE * INPUT_SIDE, n_classes: int = 10
) -> list[Shape]:
    """Each layer's output shape for one image, after checking every field and size limit.

    Raises ``ConfigError`` naming the first layer that is wrong, e.g. "layer 3 (conv32x5): a 5x5
    kernel does not fit a 2x2 map; use padding same or a smaller kernel".
    """
    if len(specs) > MAX_LAYERS:
        raise ConfigError(f"at most {MAX_LAYERS} hidden layers, got {len(specs)}")
    shape = input_shape(specs, n_inputs)
    shapes, total = [], 0
    for position, spec in enumerate(specs, start=1):
        where = f"layer {position} ({spec.name})"
        shape, params = _next_shape(spec, shape, where)
        values = math.prod(shape)
        if values > MAX_MAP_VALUES:
            raise ConfigError(
                f"{where}: its output holds {values:,} values per image, more than the limit of "
                f"{MAX_MAP_VALUES:,}; use fewer filters, a stride or pooling"
            )
        if params > MAX_LAYER_PARAMS:
            raise ConfigError(
                f"{where}: {params:,} weights, more than the limit of {MAX_LAYER_PARAMS:,} per layer; "
                "pool the maps or use fewer units before it"
            )
        total += params
        shapes.append(shape)
    total += (math.prod(shape) + 1) * n_classes
    if total > MAX_TOTAL_PARAMS:
        raise ConfigError(f"{total:,} weights in all, more than the limit of {MAX_TOTAL_PARAMS:,}")
    return shapes


def _next_shape(spec: LayerSpec, shape: Shape, where: str) -> tuple[Shape, int]:
    """(output shape, parameter count) of ``spec`` on an input of ``shape``."""
    if spec.kind not in LAYER_KINDS:
        raise ConfigError(f"{where}: unknown kind {spec.kind!r}: choose one of {', '.join(LAYER_KINDS)}")
    if spec.kind in ("dense", "conv", "batchnorm") and spec.activation not in LAYER_ACTIVATIONS:
        raise ConfigError(
            f"{where}: unknown activation {spec.activation!r}: choose one of {', '.join(LAYER_ACTIVATIONS)}"
        )
    if spec.spatial and len(shape) != 3:
        raise ConfigError(
            f"{where}: conv and pooling layers need feature maps, but the layer before gives a flat "
            "vector; put conv and pooling layers before dense ones"
        )
    if spec.kind == "dense":
        if not 1 <= spec.units <= MAX_WIDTH:
            raise ConfigError(f"{where}: a dense layer's width must be 1 to {MAX_WIDTH}, got {spec.units}")
        return (spec.units,), (math.prod(shape) + 1) * spec.units
    if spec.kind == "conv":
        return _conv_shape(spec, shape, where)
    if spec.kind in ("maxpool", "avgpool"):
        h, w, c = shape
        if not 2 <= spec.size <= MAX_POOL:
            raise ConfigError(f"{where}: a pooling window must be 2 to {MAX_POOL} wide, got {spec.size}")
        if spec.size > min(h, w):
            raise ConfigError(f"{where}: a {spec.size}x{spec.size} window does not fit a {h}x{w} map")
        return ((h - spec.size) // spec.size + 1, (w - spec.size) // spec.size + 1, c), 0
    if spec.kind == "batchnorm":
        return shape, 2 * shape[-1]  # gamma and beta per channel (or unit)
    if not 0.0 < spec.rate < 1.0:
        raise ConfigError(
            f"{where}: a dropout rate must be above 0 and below 1 (0.25 is typical), got {spec.rate:g}"
        )
    return shape, 0


def _conv_shape(spec: LayerSpec, shape: Shape, where: str) -> tuple[Shape, int]:
    h, w, c = shape
    if not 1 <= spec.filters <= MAX_FILTERS:
        raise ConfigError(f"{where}: a conv layer takes 1 to {MAX_FILTERS} filters, got {spec.filters}")
    if not 1 <= spec.kernel <= MAX_KERNEL:
        raise ConfigError(f"{where}: a kernel must be 1 to {MAX_KERNEL} wide, got {spec.kernel}")
    if not 1 <= spec.stride <= MAX_STRIDE:
        raise ConfigError(f"{where}: the stride must be 1 to {MAX_STRIDE}, got {spec.stride}")
    if spec.padding not in PADDINGS:
        raise ConfigError(f"{where}: padding must be valid or same, got {spec.padding!r}")
    k = spec.kernel
    if spec.padding == "valid" and k > min(h, w):
        raise ConfigError(
            f"{where}: a {k}x{k} kernel does not fit a {h}x{w} map; use padding same or a smaller kernel"
        )
    ho = conv_output_side(h, k, spec.stride, spec.padding)
    wo = conv_output_side(w, k, spec.stride, spec.padding)
    columns = ho * wo * k * k * c
    if columns > MAX_COLUMN_VALUES:
        raise ConfigError(
            f"{where}: unfolding its input takes {columns:,} values per image, more than the limit of "
            f"{MAX_COLUMN_VALUES:,}; use a smaller kernel, fewer channels before it, or pool first"
        )
    return (ho, wo, spec.filters), (k * k * c + 1) * spec.filters
