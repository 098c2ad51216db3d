"""A model at a glance: Keras-style summary rows and the one architecture string for people.

``summary(config)`` lists each layer with its output shape for one image, its parameter count and
its multiply-adds per image (a conv: Ho*Wo*c_out*kh*kw*c_in; a dense: n_in*n_out; batch norm
at inference: one per value; pooling, dropout and flatten: none), including the flatten that a
dense layer after maps adds and the output layer. ``summary_text`` renders it as a table with
totals, as ``python -m nn_core summary`` prints it. ``architecture_string(config)`` is the short
form every page and command shows: "784-128-10" for an MLP, "conv16x5-maxpool2-dense128-10" for
layer specs (activations other than relu as suffixes, the last number the output layer).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nn_core.architecture import LayerSpec, format_layers, infer_shapes, input_shape
from nn_core.config import ModelConfig


@dataclass(frozen=True)
class SummaryRow:
    """One layer of a summary. ``position`` is the 1-based index in ``config.layers`` (or the
    hidden layer's number for an MLP); 0 for layers the model adds (flatten, the output layer)."""

    position: int
    layer: str  # "conv16x5", "flatten", "dense10 (output)"
    activation: str  # "relu", ..., "linear" (none), the output function ("softmax"), or "" (no such step)
    output_shape: tuple[int, ...]  # for one image: (H, W, C) or (F,)
    params: int
    macs: int  # multiply-adds per image


def model_specs(config: ModelConfig) -> tuple[LayerSpec, ...]:
    """The hidden layers of ``config`` as specs: ``config.layers``, or dense specs for an MLP
    (its dropout, when set, after each hidden layer)."""
    if config.layers:
        return config.layers
    specs: list[LayerSpec] = []
    for width, act in zip(config.hidden, config.activations, strict=True):
        specs.append(LayerSpec("dense", units=width, activation=act))
        if config.dropout > 0:
            specs.append(LayerSpec("dropout", rate=config.dropout))
    return tuple(specs)


def summary(config: ModelConfig) -> list[SummaryRow]:
    """Rows for every layer of ``config``, the output layer last (raises ``ConfigError`` if invalid)."""
    config.validate()
    specs = model_specs(config)
    shapes = infer_shapes(specs, config.n_inputs, config.n_classes)
    rows: list[SummaryRow] = []
    shape = input_shape(specs, config.n_inputs)
    position = 0
    for i, (spec, out) in enumerate(zip(specs, shapes, strict=True), start=1):
        position = i if config.layers else position + (spec.kind == "dense")
        if spec.kind == "dense" and len(shape) == 3:
            shape = (math.prod(shape),)
            rows.append(SummaryRow(0, "flatten", "", shape, 0, 0))
        act = spec.activation if spec.kind in ("dense", "conv", "batchnorm") else ""
        rows.append(SummaryRow(position, spec.name, act, out, *_cost(spec, shape, out)))
        shape = out
    n_in = math.prod(shape)
    if len(shape) == 3:
        rows.append(SummaryRow(0, "flatten", "", (n_in,), 0, 0))
    k = config.n_classes
    rows.append(SummaryRow(0, f"dense{k} (output)", config.output, (k,), (n_in + 1) * k, n_in * k))
    return rows


def _cost(spec: LayerSpec, shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, int]:
    """(parameters, multiply-adds per image) of ``spec`` from ``shape`` to ``out``."""
    if spec.kind == "dense":
        n_in = math.prod(shape)
        return (n_in + 1) * spec.units, n_in * spec.units
    if spec.kind == "conv":
        fan_in = spec.kernel * spec.kernel * shape[-1]
        return (fan_in + 1) * spec.filters, math.prod(out) * fan_in
    if spec.kind == "batchnorm":
        return 2 * shape[-1], math.prod(out)
    return 0, 0


def totals(rows: list[SummaryRow]) -> tuple[int, int]:
    """(parameters, multiply-adds per image) of the whole model."""
    return sum(r.params for r in rows), sum(r.macs for r in rows)


def summary_text(rows: list[SummaryRow]) -> str:
    """The rows as an aligned table with a totals line (what ``python -m nn_core summary`` prints)."""
    table = [("#", "layer", "activation", "output shape", "params", "mult-adds")]
    for r in rows:
        shape = "(" + ", ".join(str(d) for d in r.output_shape) + ")"
        table.append((str(r.position or ""), r.layer, r.activation, shape, f"{r.params:,}", f"{r.macs:,}"))
    params, macs = totals(rows)
    table.append(("", "total", "", "", f"{params:,}", f"{macs:,}"))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines = []
    for j, row in enumerate(table):
        cells = [
            c.rjust(w) if i in (0, 4, 5) else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if j in (0, len(table) - 2):
            lines.append("-" * len(lines[0]))
    lines.append(f"{params:,} parameters; {macs / 1e6:,.2f} million multiply-adds per image")
    return "\n".join(lines)


def architecture_string(config: ModelConfig) -> str:
    """The architecture in one short string: "784-256-128-10" or "conv16x5-maxpool2-dense128-10"."""
    if not config.layers:
        return "-".join(str(w) for w in (config.n_inputs, *config.hidden, config.n_classes))
    return f"{format_layers(config.layers, 'relu', sep='-')}-{config.n_classes}"
