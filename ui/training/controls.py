"""The playground's controls as widgets, kept in session state and mirrored into the URL.

``st.session_state["train_values"]`` holds the canonical values (see ``training_params``). Each
widget has its own key ``train_w_<name>``; when Streamlit drops a widget's state (a page switch,
a hidden widget) it is restored from the canonical values, so nothing is lost. Choosing a preset,
adding or removing a layer, or opening a URL rewrites the values and clears the widget keys. The
hidden layers are drawn by ``layers_builder``.
Each widget takes its choices, range and help from the setting declared on the config field
(``nn_core.settings``); only its label, layout and step are chosen here.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from nn_core.presets import PRESETS
from nn_core.settings import get_setting
from ui.datasets import dataset_title
from ui.training import layers_builder as lb
from ui.training import params as tp

VALUES = "train_values"
PROBLEMS = "train_url_problems"
_LABELS = {
    "cross_entropy": "cross-entropy",
    "mse": "mean squared error",
    "he": "He",
    "xavier": "Xavier",
    "normal": "normal (0, 1)",
    "sgd": "SGD",
    "momentum": "momentum",
    "nesterov": "Nesterov",
    "rmsprop": "RMSprop",
    "adam": "Adam",
    "constant": "constant",
    "inverse": "inverse time",
    "step": "step",
    "cosine": "cosine",
    "leaky_relu": "leaky ReLU",
    "relu": "ReLU",
    "sigmoid": "sigmoid",
    "tanh": "tanh",
    "softmax": "softmax",
    tp.CUSTOM: "custom (your own settings)",
}


def label(value: Any) -> str:
    return _LABELS.get(value, str(value))


def _wkey(name: str) -> str:
    return f"train_w_{name}"


def init_controls() -> None:
    """Create the canonical values once per session: defaults, overridden by the URL."""
    if VALUES in st.session_state:
        return
    params = {k: st.query_params.get(k) for k in st.query_params}
    values, problems = tp.params_to_values(params)
    st.session_state[VALUES] = values
    st.session_state[PROBLEMS] = problems


def values() -> dict[str, Any]:
    return st.session_state[VALUES]


def clear_widgets(keep_preset: bool = False) -> None:
    """Forget every control widget's state, so the next run draws them from the canonical values."""
    keep = _wkey("preset") if keep_preset else None
    for key in [k for k in st.session_state if str(k).startswith("train_w_") and k != keep]:
        del st.session_state[key]


def collect() -> None:
    """Copy the widgets' current state into the canonical values."""
    vals = values()
    for name in tp.FIELDS:
        if name not in ("hidden", "activations") and _wkey(name) in st.session_state:
            vals[name] = st.session_state[_wkey(name)]
    lb.collect_rows(vals)


def _on_preset() -> None:
    name = st.session_state[_wkey("preset")]
    collect()
    if name in tp.UI_PRESETS:
        st.session_state[VALUES] = tp.values_from_preset(name, values())
        clear_widgets(keep_preset=True)


def _restore(name: str, value: Any) -> str:
    key = _wkey(name)
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _select(name: str, text: str, format_func: Any = label) -> Any:
    spec = get_setting(name)
    key = _restore(name, values()[name])
    return st.selectbox(text, spec.choices, key=key, help=spec.help, format_func=format_func)


def _number(name: str, text: str, box: Any = st, **kwargs: Any) -> Any:
    """A number input over the setting's span (``kwargs``: step, format)."""
    spec = get_setting(name)
    lo, hi = spec.span
    cast = int if spec.kind == "int" else float
    key = _restore(name, values()[name])
    return box.number_input(text, cast(lo), cast(hi), key=key, help=spec.help, **kwargs)


def _log_slider(name: str, text: str) -> Any:
    """A slider over the setting's log-scale grid."""
    spec = get_setting(name)
    key = _restore(name, values()[name])
    return st.select_slider(text, spec.grid, key=key, format_func=lambda v: f"{v:g}", help=spec.help)


def _checkbox(name: str, text: str, box: Any = st, **kwargs: Any) -> Any:
    key = _restore(name, values()[name])
    return box.checkbox(text, key=key, help=get_setting(name).help, **kwargs)


def render_controls() -> dict[str, Any]:
    """Draw every control; returns the current values."""
    collect()  # widget changes of this rerun, so the captions below are current
    vals = values()
    preset_key = _restore("preset", vals["preset"])
    st.selectbox(
        "Preset",
        (tp.CUSTOM, *tp.UI_PRESETS),
        key=preset_key,
        on_change=_on_preset,
        format_func=label,
        help="Fills every control (except the dataset) with a known recipe. "
        + " ".join(f"**{n}**: {PRESETS[n].description}" for n in tp.UI_PRESETS),
    )
    if tp.preset_modified(vals):
        st.caption(f"Settings changed since choosing the preset *{vals['preset']}*.")
    _select("dataset", "Dataset", format_func=dataset_title)
    with st.expander("Network", expanded=True, icon=":material/hub:"):
        lb.render_layers(vals, collect, clear_widgets)
        left, right = st.columns(2)
        with left:
            _select("init", "Initialisation")
        with right:
            _select("output", "Output layer")
        _select("loss", "Loss")
    with st.expander("Optimisation", expanded=True, icon=":material/speed:"):
        _optimisation(vals)
    with st.expander("Data", expanded=True, icon=":material/dataset:"):
        _data(vals)
    with st.expander("Regularisation", expanded=False, icon=":material/tune:"):
        _regularisation(vals)
    collect()
    return values()


def _optimisation(vals: dict[str, Any]) -> None:
    left, right = st.columns(2)
    with left:
        opt = _select("optimizer", "Optimizer")
    with right:
        if opt in ("momentum", "nesterov"):
            _number("momentum", "Momentum", step=0.05, format="%.2f")
    _log_slider("lr", "Learning rate (log scale)")
    left, right = st.columns(2)
    with left:
        sched = _select("schedule", "Schedule")
    with right:
        if sched == "inverse":
            _log_slider("decay", "Decay")
        elif sched == "step":
            _number("step_epochs", "Every (epochs)")
    if sched == "step":
        _number("gamma", "Gamma", step=0.05, format="%.2f")
    left, right = st.columns(2)
    _number("batch_size", "Batch size", left, step=32)
    _number("epochs", "Epochs", right)


def _data(vals: dict[str, Any]) -> None:
    spec = get_setting("train_size")
    lo, hi = spec.span
    st.slider(
        "Training subset",
        int(lo),
        int(hi),
        key=_restore("train_size", vals["train_size"]),
        step=spec.step,
        help=spec.help,
    )
    left, right = st.columns(2)
    _number("val_fraction", "Validation fraction", left, step=0.05, format="%.3f")
    _number("seed", "Seed", right)
    left, right = st.columns(2)
    _checkbox("augment", "Augment", left)
    _checkbox("elastic", "Elastic", right, disabled=not st.session_state[_wkey("augment")])


def _regularisation(vals: dict[str, Any]) -> None:
    _log_slider("weight_decay", "L2 weight decay")
    spec = get_setting("dropout")
    lo, hi = spec.span
    layered = bool(vals["layers"])
    st.slider(
        "Dropout",
        lo,
        hi,
        key=_restore("dropout", vals["dropout"]),
        step=0.05,
        help=spec.help,
        disabled=layered,
    )
    if layered:
        st.caption(
            "With conv, pooling, batch-norm or dropout layers, dropout is a layer of its own: add one above."
        )
