"""Which model the Draw page predicts with: a picker that says how good each model is.

The choices come from ``ui.model_choices``: the default model that ships with Digit Lab (ready at
once, no data needed), runs of this session in the Training playground (a fresh snapshot on every
prediction, so a run that is training or paused can be tried as it is), the owner's saved runs and
model files. Each shows its architecture, dataset and accuracy; models that never learnt or diverged
are marked and listed last. A newcomer starts on the default model; a choice is kept for the session
(``current_model`` in session state, which outlives the widget when the person visits other pages).
"""

from __future__ import annotations

import streamlit as st

from nn_core.data.registry import DATASETS
from nn_core.network import Network
from nn_core.store.default_model import DefaultModelError, default_model_card
from nn_core.store.model_file import ModelFileError
from ui.model_choices import (
    DEFAULT_KEY,
    ModelChoice,
    current_model_key,
    load_choice,
    model_choices,
    set_current_model,
)

WIDGET_KEY = "draw_model"


def _remember() -> None:
    """Callback of the picker: keep the person's choice for the session."""
    set_current_model(st.session_state[WIDGET_KEY])


def initial_key(keys: list[str], remembered: str | None) -> str:
    """The choice to show: the one remembered for this session, else the default model, else the first."""
    if remembered in keys:
        return remembered  # type: ignore[return-value]
    if remembered and remembered.startswith("run:") and f"live:{remembered[4:]}" in keys:
        return f"live:{remembered[4:]}"  # a saved run that this session holds live
    return DEFAULT_KEY if DEFAULT_KEY in keys else keys[0]


def no_model_panel() -> None:
    """No model at all: the shipped file is missing or damaged and nothing else exists."""
    st.error(
        "The default model that ships with Digit Lab is missing, so there is nothing to predict with. "
        "Restore `nn_core/store/default_model.npz` from the project (or rebuild it with "
        "`python scripts/build_default_model.py`), or train a model in the Training playground.",
        icon=":material/error:",
    )
    st.page_link(
        "app_pages/training.py", label="Open the Training playground", icon=":material/model_training:"
    )


def choose_model() -> ModelChoice | None:
    """The model picker; None (with a message) while there is no model at all."""
    choices = model_choices()
    if not choices:
        no_model_panel()
        return None
    by_key = {c.key: c for c in choices}
    keys = list(by_key)
    wanted = initial_key(keys, current_model_key())
    if st.session_state.get(WIDGET_KEY) not in keys or st.session_state.get(WIDGET_KEY) != wanted:
        st.session_state[WIDGET_KEY] = wanted
    key = st.selectbox(
        "Model",
        keys,
        key=WIDGET_KEY,
        on_change=_remember,
        format_func=lambda k: by_key[k].caption(),
        help="Accuracy on the test set where it was measured (else the last validation or training figure). "
        "The default model ships with Digit Lab; then come your runs in the Training playground (used as they "
        "are right now, even mid-training) and saved models. Models marked ⚠ never learnt or diverged.",
    )
    choice = by_key[key]
    _choice_notes(choice)
    return choice


def _choice_notes(choice: ModelChoice) -> None:
    """A line under the picker: what the default model is, or a warning for a model that is no good."""
    if not choice.quality.usable:
        st.warning(
            f"This model {choice.quality.phrase()}: its answers are no better than guesses. "
            "Pick another, or train it further in the Training playground.",
            icon=":material/warning:",
        )
    elif choice.kind == "default":
        card = default_model_card()
        seconds = card.get("train_seconds")
        epochs = card.get("epochs", 0)
        trained = (
            f", {epochs} epoch{'s' if epochs != 1 else ''} ({seconds / 60:.0f} min of training)"
            if seconds
            else ""
        )
        st.caption(
            "Ships with Digit Lab: a convolutional network trained on MNIST with drawing-like augmentation "
            f"(thicker and thinner strokes, slant, rotation, elastic wobble){trained}."
        )


def class_names(choice: ModelChoice) -> tuple[str, ...]:
    """Class names of the choice's dataset (the digits 0-9 when it is not known)."""
    info = DATASETS.get(choice.dataset)
    return info.class_names if info is not None else tuple(str(d) for d in range(10))


def load_network(choice: ModelChoice, quiet: bool = False) -> Network | None:
    """The chosen network, or None with a message shown (a live run with no weights, a damaged file).

    ``quiet`` shows no message (for a second use on the same page).
    """
    try:
        network = load_choice(choice)
    except DefaultModelError as err:
        if not quiet:
            st.error(str(err), icon=":material/error:")
        return None
    except ModelFileError as err:
        if not quiet:
            st.error(f"This model file cannot be used: {err}. Choose another model.", icon=":material/error:")
        return None
    except FileNotFoundError:
        if not quiet:
            st.error("This model file has just been removed. Choose another model.", icon=":material/error:")
        return None
    if network is None:
        if not quiet:
            st.info(
                "This run has no weights yet: start it in the Training playground.",
                icon=":material/hourglass:",
            )
        return None
    if network.config.n_inputs != 784:
        if not quiet:
            st.error(f"This model takes {network.config.n_inputs} inputs, not 28x28 = 784 pixels.")
        return None
    return network
