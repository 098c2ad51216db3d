"""The playground's layer builder: one row per hidden layer, the model's summary table under it.

A row is a dense, conv, pooling (max or mean), batch-norm or dropout layer with its own settings;
rows are added and removed with buttons. The rows are ``LayerSpec`` values kept in the playground's
values through ``nn_core.links.set_stack`` (a stack of plain dense layers stays an MLP, anything
else becomes ``layers``). Each field is a widget keyed ``train_w_row<i>_<field>``, so the
controls' ``clear_widgets`` forgets them with the others. Under the rows the summary (each layer's
output shape, parameters and multiply-adds, from ``nn_core.model_summary``) or the reason the
layers do not fit together, naming the layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from nn_core import links
from nn_core.architecture import (
    LAYER_ACTIVATIONS,
    MAX_FILTERS,
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_POOL,
    MAX_STRIDE,
    LayerSpec,
)
from nn_core.config import MAX_WIDTH, ConfigError, ModelConfig
from nn_core.model_summary import summary
from ui.training.layer_rows import (
    ACT_LABELS,
    HELP,
    KIND_LABELS,
    NEW_ROWS,
    ROW_KINDS,
    insert_at,
    row_kind,
    spec_from_fields,
    summary_html,
    summary_records,
)

NUMBER_WIDTH = 64  # px: three numbers and a gap fit the playground's column and a phone
CHOICE_WIDTH = 104


def _key(i: int, name: str) -> str:
    return f"train_w_row{i}_{name}"


def collect_rows(vals: dict[str, Any]) -> None:
    """Read the row widgets of this rerun into ``vals`` (rows without widgets keep their spec)."""
    specs = links.stack(vals)
    new = []
    for i, spec in enumerate(specs):
        kind = st.session_state.get(_key(i, "kind"), row_kind(spec))
        prefix = _key(i, "")
        fields = {k.removeprefix(prefix): v for k, v in st.session_state.items() if str(k).startswith(prefix)}
        new.append(spec_from_fields(kind, fields, spec))
    links.set_stack(vals, tuple(new))  # also keeps a layer stack's hidden, activations, dropout empty


def render_layers(vals: dict[str, Any], collect: Callable[[], None], clear: Callable[[], None]) -> None:
    """The rows, the Add controls and the summary (or why the layers do not fit)."""
    specs = links.stack(vals)
    st.markdown(
        "**Hidden layers**",
        help="From the input (28x28 image) down to the output layer, which is always added. "
        "Conv and pooling layers need feature maps, so they go before dense ones.",
    )
    for i, spec in enumerate(specs):
        _row(i, spec, collect, clear)
    if not specs:
        st.caption("No hidden layers: add one below.")
    box = st.container(horizontal=True, vertical_alignment="bottom")
    kind = box.selectbox(
        "New layer",
        ROW_KINDS,
        key="train_new_kind",
        format_func=KIND_LABELS.get,
        help=" ".join(f"**{KIND_LABELS[k]}**: {HELP[k]}" for k in ROW_KINDS),
        width=150,
    )
    box.button(
        "Add",
        icon=":material/add:",
        key="train_add_layer",
        on_click=_add,
        args=(kind, collect, clear),
        disabled=len(specs) >= MAX_LAYERS,
        help=f"Add a {KIND_LABELS[kind].lower()} layer (conv and pooling go before the dense ones; "
        f"up to {MAX_LAYERS} layers).",
    )
    render_summary(links.configs_from_values(vals)[0])


def render_summary(model: ModelConfig) -> None:
    """The summary table with totals, or the reason the model is invalid."""
    try:
        rows = summary(model)
    except ConfigError as err:
        st.error(f"The layers do not fit together: {err}.", icon=":material/error:")
        return
    st.html(summary_html(summary_records(rows)))
    params, macs = sum(r.params for r in rows), sum(r.macs for r in rows)
    st.caption(f"{params:,} parameters · {macs:,} multiply-adds per image (per forward pass).")


def _add(kind: str, collect: Callable[[], None], clear: Callable[[], None]) -> None:
    collect()
    vals = st.session_state["train_values"]
    specs = list(links.stack(vals))
    dense = [s for s in specs if s.kind == "dense"]
    new = dense[-1] if kind == "dense" and dense else NEW_ROWS[kind]  # a dense row copies the last one
    specs.insert(insert_at(tuple(specs), kind), new)
    links.set_stack(vals, tuple(specs))
    clear()


def _remove(i: int, collect: Callable[[], None], clear: Callable[[], None]) -> None:
    collect()
    vals = st.session_state["train_values"]
    specs = links.stack(vals)
    links.set_stack(vals, specs[:i] + specs[i + 1 :])
    clear()


def _restore(key: str, value: Any) -> str:
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _row(i: int, spec: LayerSpec, collect: Callable[[], None], clear: Callable[[], None]) -> None:
    with st.container(border=True, key=f"train_row_{i}"):
        top = st.container(horizontal=True, vertical_alignment="bottom")
        kind = top.selectbox(
            f"Layer {i + 1}",
            ROW_KINDS,
            key=_restore(_key(i, "kind"), row_kind(spec)),
            format_func=KIND_LABELS.get,
            width=150,
        )
        top.button(
            ":material/close:",
            key=f"train_del_layer_{i}",
            on_click=_remove,
            args=(i, collect, clear),
            type="tertiary",
            help=f"Remove layer {i + 1}",
        )
        spec = spec if row_kind(spec) == kind else NEW_ROWS[kind]
        _fields(i, kind, spec)


def _line() -> Any:
    """A row of fields side by side that wraps on a narrow screen (a phone) instead of stacking."""
    return st.container(horizontal=True, gap="small")


def _number(box: Any, i: int, name: str, text: str, lo: int, hi: int, value: int, **kw: Any) -> None:
    box.number_input(text, lo, hi, key=_restore(_key(i, name), value), width=NUMBER_WIDTH, **kw)


def _activation(box: Any, i: int, spec: LayerSpec) -> None:
    box.selectbox(
        "Activation",
        LAYER_ACTIVATIONS,
        key=_restore(_key(i, "activation"), spec.activation),
        format_func=lambda a: ACT_LABELS.get(a, a),
        width=CHOICE_WIDTH,
    )


def _fields(i: int, kind: str, spec: LayerSpec) -> None:
    line = _line()
    if kind == "dense":
        _number(line, i, "units", "Width", 1, MAX_WIDTH, spec.units, step=16, help="Units in this layer.")
        _activation(line, i, spec)
    elif kind == "conv":
        _number(
            line, i, "filters", "Filters", 1, MAX_FILTERS, spec.filters, step=8, help="Feature maps it makes."
        )
        _number(line, i, "kernel", "Kernel", 1, MAX_KERNEL, spec.kernel, help="Filter side in pixels.")
        _number(
            line, i, "stride", "Stride", 1, MAX_STRIDE, spec.stride, help="Step between filter positions."
        )
        line.selectbox(
            "Padding",
            ("valid", "same"),
            key=_restore(_key(i, "padding"), spec.padding),
            help="valid: only where the filter fits (maps shrink); same: zero-padded (maps keep their size).",
            width=CHOICE_WIDTH,
        )
        _activation(line, i, spec)
    elif kind == "pool":
        line.selectbox(
            "Kind",
            ("maxpool", "avgpool"),
            key=_restore(_key(i, "pool"), spec.kind),
            format_func={"maxpool": "max", "avgpool": "mean"}.get,
            help="The largest (max) or the mean value of each window, which moves by its own side "
            "(window 2 halves the maps).",
            width=CHOICE_WIDTH,
        )
        _number(line, i, "size", "Window", 2, MAX_POOL, spec.size)
    elif kind == "batchnorm":
        _activation(line, i, spec)
    else:
        line.slider(
            "Rate",
            0.05,
            0.9,
            key=_restore(_key(i, "rate"), float(spec.rate)),
            step=0.05,
            help=HELP["dropout"],
        )
