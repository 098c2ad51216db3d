"""The playground's controls as widgets, kept in session state and mirrored into the URL.

``st.session_state["train_values"]`` holds the canonical values (see ``training_params``). Each
widget has its own key ``train_w_<name>``; when Streamlit drops a widget's state (a page switch,
a hidden widget) it is restored from the canonical values, so nothing is lost. Choosing a preset,
adding or removing a layer, or opening a URL rewrites the values and clears the widget keys.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from nn_core.activations import ACTIVATIONS
from nn_core.config import MAX_HIDDEN_LAYERS, MAX_WIDTH
from nn_core.init import INITS
from nn_core.losses import LOSSES, OUTPUTS
from nn_core.optimizers import OPTIMIZERS
from nn_core.presets import PRESETS
from nn_core.schedules import SCHEDULES
from ui.datasets import DATASET_NAMES, dataset_title
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
    n = len(vals["hidden"])
    vals["hidden"] = tuple(st.session_state.get(_wkey(f"width_{i}"), vals["hidden"][i]) for i in range(n))
    vals["activations"] = tuple(
        st.session_state.get(_wkey(f"act_{i}"), vals["activations"][i]) for i in range(n)
    )


def _on_preset() -> None:
    name = st.session_state[_wkey("preset")]
    collect()
    if name in tp.UI_PRESETS:
        st.session_state[VALUES] = tp.values_from_preset(name, values())
        clear_widgets(keep_preset=True)


def _add_layer() -> None:
    collect()
    vals = values()
    vals["hidden"] = (*vals["hidden"], vals["hidden"][-1] if vals["hidden"] else 64)
    vals["activations"] = (*vals["activations"], vals["activations"][-1] if vals["activations"] else "relu")


def _remove_layer(i: int) -> None:
    collect()
    vals = values()
    vals["hidden"] = vals["hidden"][:i] + vals["hidden"][i + 1 :]
    vals["activations"] = vals["activations"][:i] + vals["activations"][i + 1 :]
    clear_widgets()


def _restore(name: str, value: Any) -> str:
    key = _wkey(name)
    if key not in st.session_state:
        st.session_state[key] = value
    return key


def _select(name: str, text: str, options: tuple, help: str, format_func: Any = label) -> Any:
    key = _restore(name, values()[name])
    return st.selectbox(text, options, key=key, help=help, format_func=format_func)


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
    _select(
        "dataset",
        "Dataset",
        DATASET_NAMES,
        "MNIST: handwritten digits. Fashion-MNIST: 28x28 photos of clothing, same size, harder.",
        format_func=dataset_title,
    )
    with st.expander("Network", expanded=True, icon=":material/hub:"):
        _layers(vals)
        left, right = st.columns(2)
        with left:
            _select(
                "init",
                "Initialisation",
                INITS,
                "How the first weights are drawn. He suits ReLU, Xavier suits sigmoid and tanh; standard normal is the classic textbook choice and often too large.",
            )
        with right:
            _select(
                "output",
                "Output layer",
                OUTPUTS,
                "Softmax gives probabilities that sum to 1 (use with cross-entropy). Sigmoid scores each class on its own (use with MSE).",
            )
        _select(
            "loss",
            "Loss",
            LOSSES,
            "Cross-entropy (needs softmax) is the standard for classification. Mean squared error is the classic textbook cost, slower to learn.",
        )
    with st.expander("Optimisation", expanded=True, icon=":material/speed:"):
        _optimisation(vals)
    with st.expander("Data", expanded=True, icon=":material/dataset:"):
        _data(vals)
    with st.expander("Regularisation", expanded=False, icon=":material/tune:"):
        _regularisation(vals)
    collect()
    return values()


def _layers(vals: dict[str, Any]) -> None:
    st.markdown(
        "**Hidden layers**",
        help="Each hidden layer: its width (number of units, 16 to 1024 is typical) and its activation "
        "function. More and wider layers fit better but train slower.",
    )
    head = st.columns([0.5, 2, 2, 0.9])
    head[1].caption("width")
    head[2].caption("activation")
    for i, (width, act) in enumerate(zip(vals["hidden"], vals["activations"], strict=True)):
        c_num, c_width, c_act, c_del = st.columns([0.5, 2, 2, 0.9], vertical_alignment="center")
        c_num.markdown(f"**{i + 1}**")
        c_width.number_input(
            f"Layer {i + 1} width",
            1,
            MAX_WIDTH,
            key=_restore(f"width_{i}", int(width)),
            step=16,
            label_visibility="collapsed",
            help="Units in this layer: 32 to 1024 is usual for MNIST.",
        )
        c_act.selectbox(
            f"Layer {i + 1} activation",
            ACTIVATIONS,
            key=_restore(f"act_{i}", act),
            format_func=label,
            label_visibility="collapsed",
        )
        c_del.button(
            ":material/close:",
            key=f"train_del_layer_{i}",
            on_click=_remove_layer,
            args=(i,),
            type="tertiary",
            help=f"Remove layer {i + 1}",
        )
    st.button(
        "Add a layer",
        icon=":material/add:",
        on_click=_add_layer,
        disabled=len(vals["hidden"]) >= MAX_HIDDEN_LAYERS,
        help=f"Append a hidden layer (up to {MAX_HIDDEN_LAYERS}); it copies the last layer's settings.",
    )


def _optimisation(vals: dict[str, Any]) -> None:
    left, right = st.columns(2)
    with left:
        opt = _select(
            "optimizer",
            "Optimizer",
            OPTIMIZERS,
            "SGD takes plain gradient steps; momentum and Nesterov smooth them (lr 0.01-0.1); RMSprop and Adam adapt the step per weight (lr 0.0003-0.003).",
        )
    with right:
        if opt in ("momentum", "nesterov"):
            st.number_input(
                "Momentum",
                0.0,
                0.99,
                key=_restore("momentum", vals["momentum"]),
                step=0.05,
                format="%.2f",
                help="How much of the previous step is kept: 0.9 is standard, 0 is plain SGD.",
            )
    st.select_slider(
        "Learning rate (log scale)",
        tp.LR_OPTIONS,
        key=_restore("lr", vals["lr"]),
        format_func=lambda v: f"{v:g}",
        help="Step size. Too high diverges, too low crawls. SGD/momentum: 0.01-0.2; Adam/RMSprop: 0.0003-0.003.",
    )
    left, right = st.columns(2)
    with left:
        sched = _select(
            "schedule",
            "Schedule",
            SCHEDULES,
            "How the learning rate changes: constant; inverse: lr/(1 + decay x step); step: times gamma every few epochs; cosine: smoothly down to 0 by the last epoch.",
        )
    with right:
        if sched == "inverse":
            st.select_slider(
                "Decay",
                tp.DECAY_OPTIONS,
                key=_restore("decay", vals["decay"]),
                format_func=lambda v: f"{v:g}",
                help="lr / (1 + decay x batches seen): 1e-4 halves the rate after 10,000 batches.",
            )
        elif sched == "step":
            st.number_input(
                "Every (epochs)",
                1,
                1000,
                key=_restore("step_epochs", vals["step_epochs"]),
                help="Multiply the rate by gamma every this many epochs.",
            )
    if sched == "step":
        st.number_input(
            "Gamma",
            0.05,
            1.0,
            key=_restore("gamma", vals["gamma"]),
            step=0.05,
            format="%.2f",
            help="Factor applied at each step: 0.5 halves the rate.",
        )
    left, right = st.columns(2)
    with left:
        st.number_input(
            "Batch size",
            1,
            tp.FULL_TRAIN,
            key=_restore("batch_size", vals["batch_size"]),
            step=32,
            help="Examples per weight update: 1 is online learning, 32-256 is usual, the training-set size or more is full-batch descent.",
        )
    with right:
        st.number_input(
            "Epochs",
            1,
            10_000,
            key=_restore("epochs", vals["epochs"]),
            help="Passes over the training set: 3-20 is plenty for MNIST with a good rate.",
        )


def _data(vals: dict[str, Any]) -> None:
    st.slider(
        "Training subset",
        1000,
        tp.FULL_TRAIN,
        key=_restore("train_size", vals["train_size"]),
        step=1000,
        help="Train on only this many of the 60,000 images (validation included): 2,000-10,000 for quick "
        "experiments, 60,000 for the best model.",
    )
    left, right = st.columns(2)
    left.number_input(
        "Validation fraction",
        0.0,
        0.5,
        key=_restore("val_fraction", vals["val_fraction"]),
        step=0.05,
        format="%.3f",
        help="Share of the subset held out to measure generalisation while training: 0.1 is usual, 0 for none.",
    )
    right.number_input(
        "Seed",
        0,
        2**31 - 1,
        key=_restore("seed", vals["seed"]),
        help="Fixes the initial weights, the subset and the shuffling: the same seed gives the same start, "
        "so settings can be compared fairly.",
    )
    left, right = st.columns(2)
    left.checkbox(
        "Augment",
        key=_restore("augment", vals["augment"]),
        help="Randomly shift, rotate and scale the training images each epoch: better generalisation, needs more epochs.",
    )
    right.checkbox(
        "Elastic",
        key=_restore("elastic", vals["elastic"]),
        disabled=not st.session_state[_wkey("augment")],
        help="Add elastic distortions as well (slower); only with augmentation.",
    )


def _regularisation(vals: dict[str, Any]) -> None:
    st.select_slider(
        "L2 weight decay",
        tp.L2_OPTIONS,
        key=_restore("weight_decay", vals["weight_decay"]),
        format_func=lambda v: f"{v:g}",
        help="Penalty on large weights against over-fitting: 1e-5 to 1e-3 is typical, 0 turns it off.",
    )
    st.slider(
        "Dropout",
        0.0,
        0.8,
        key=_restore("dropout", vals["dropout"]),
        step=0.05,
        help="Fraction of hidden units switched off at random while training: 0.2-0.5 against over-fitting, 0 for none.",
    )
