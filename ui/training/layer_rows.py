"""The layer builder's rows as plain values: kinds, labels, new rows, and the summary table.

A row of the builder is a ``LayerSpec``; ``spec_from_fields`` turns a row's widget values back into
one, ``insert_at`` says where a new row goes, and ``summary_records`` / ``summary_html`` make the
compact summary table from ``nn_core.model_summary.summary`` rows. No Streamlit here, so all of it is
tested directly; ``layers_builder`` draws the widgets.
"""

from __future__ import annotations

import html
from typing import Any

from nn_core.architecture import LayerSpec
from nn_core.model_summary import SummaryRow

ROW_KINDS = ("dense", "conv", "pool", "batchnorm", "dropout")
KIND_LABELS = {
    "dense": "Dense",
    "conv": "Conv",
    "pool": "Pooling",
    "batchnorm": "Batch norm",
    "dropout": "Dropout",
}
ACT_LABELS = {
    "linear": "none",
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
}
NEW_ROWS = {  # what "Add" appends for each kind
    "dense": LayerSpec("dense", units=64, activation="relu"),
    "conv": LayerSpec("conv", filters=16, kernel=3, activation="relu"),
    "pool": LayerSpec("maxpool", size=2),
    "batchnorm": LayerSpec("batchnorm"),
    "dropout": LayerSpec("dropout", rate=0.25),
}
HELP = {
    "conv": "Slides small filters over the image: each filter makes one feature map.",
    "pool": "Keeps the largest (max) or mean value of each window: halves the maps with window 2.",
    "batchnorm": "Normalises each channel (or unit) over the batch, then scales and shifts it.",
    "dropout": "Switches off this fraction of values at random while training.",
    "dense": "Every unit sees every value of the layer before (maps are flattened first).",
}


def row_kind(spec: LayerSpec) -> str:
    return "pool" if spec.kind in ("maxpool", "avgpool") else spec.kind


def spec_from_fields(kind: str, fields: dict[str, Any], base: LayerSpec) -> LayerSpec:
    """A row's spec from its widgets' ``fields`` (missing ones from ``base``, or the kind's new row)."""
    start = base if row_kind(base) == kind else NEW_ROWS[kind]

    def get(name: str) -> Any:
        return fields.get(name, getattr(start, name))

    if kind == "dense":
        return LayerSpec("dense", units=int(get("units")), activation=get("activation"))
    if kind == "conv":
        return LayerSpec(
            "conv",
            filters=int(get("filters")),
            kernel=int(get("kernel")),
            stride=int(get("stride")),
            padding=get("padding"),
            activation=get("activation"),
        )
    if kind == "pool":
        return LayerSpec(fields.get("pool", start.kind), size=int(get("size")))
    if kind == "batchnorm":
        return LayerSpec("batchnorm", activation=get("activation"))
    return LayerSpec("dropout", rate=round(float(get("rate")), 4))


def insert_at(specs: tuple[LayerSpec, ...], kind: str) -> int:
    """Where a new row of ``kind`` goes: conv and pooling rows before the first dense row (they
    need maps), every other row at the end."""
    if kind in ("conv", "pool"):
        return next((i for i, s in enumerate(specs) if s.kind == "dense"), len(specs))
    return len(specs)


def compact(n: int) -> str:
    """A count for a narrow table: 980, 9,800, 98k, 1.2M."""
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1e3:.0f}k"
    return f"{n / 1e6:.1f}M"


def summary_records(rows: list[SummaryRow]) -> list[dict[str, str]]:
    """The summary as table rows: layer number, layer, activation, output shape, parameters and
    multiply-adds per image (compact counts)."""
    return [
        {
            "#": str(row.position) if row.position else "",
            "layer": row.layer.replace(" (output)", " out"),
            "activation": ""
            if row.activation in ("", "linear")
            else ACT_LABELS.get(row.activation, row.activation),
            "output": "×".join(str(d) for d in row.output_shape),
            "params": compact(row.params),
            "mult-adds": compact(row.macs),
        }
        for row in rows
    ]


def summary_html(records: list[dict[str, str]]) -> str:
    """A compact table (small type, the activation under each layer's name) that fits the narrow
    settings column and a phone; the numbers right-aligned."""
    cell = "padding:3px 5px;border-bottom:1px solid rgba(128,128,128,0.25)"
    head = "".join(
        f'<th style="{cell};text-align:{align};font-weight:600">{name}</th>'
        for name, align in (
            ("layer", "left"),
            ("output", "left"),
            ("params", "right"),
            ("mult-adds", "right"),
        )
    )
    body = []
    for r in records:
        number = f'<span style="opacity:0.6">{r["#"]}&nbsp;</span>' if r["#"] else ""
        act = (
            f'<br><span style="opacity:0.6">{html.escape(r["activation"])}</span>' if r["activation"] else ""
        )
        body.append(
            f'<tr><td style="{cell}">{number}{html.escape(r["layer"])}{act}</td>'
            f'<td style="{cell};white-space:nowrap">{r["output"]}</td>'
            f'<td style="{cell};text-align:right">{r["params"]}</td>'
            f'<td style="{cell};text-align:right">{r["mult-adds"]}</td></tr>'
        )
    return (
        '<table style="width:100%;border-collapse:collapse;font-size:0.8rem;line-height:1.25">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )
