"""Which models a user can predict with: live runs of this session and model files on disk.

The Training playground registers each run it holds with ``register_live_model`` (a label and a
function that returns a snapshot ``Network`` of the model so far, safe to use while it trains).
The Draw page lists ``model_choices()``: those live runs first, then saved files, newest first.
``st.session_state["current_model"]`` holds the label last chosen, shown on the home page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from nn_core.io import SavedModel, load_model
from nn_core.network import Network
from nn_core.paths import models_dir, runs_dir

LIVE_KEY = "live_models"  # label -> (dataset name, function giving a Network snapshot or None)
CURRENT_KEY = "current_model"


@dataclass(frozen=True)
class ModelChoice:
    label: str
    kind: str  # "live" (a run of this session) or "file"
    dataset: str
    path: Path | None = None


def register_live_model(label: str, dataset: str, snapshot: Callable[[], Network | None]) -> None:
    """Offer a run of this session to the other pages under ``label``."""
    st.session_state.setdefault(LIVE_KEY, {})[label] = (dataset, snapshot)


def unregister_live_model(label: str) -> None:
    st.session_state.get(LIVE_KEY, {}).pop(label, None)


def saved_model_files() -> list[Path]:
    """Model files on disk: ``models/*.npz`` and ``runs/*/model.npz``, newest first."""
    files = [*models_dir().glob("*.npz"), *runs_dir().glob("*/model.npz")]
    return sorted((f for f in files if f.is_file()), key=lambda f: f.stat().st_mtime, reverse=True)


def model_choices() -> list[ModelChoice]:
    """Live runs of this session, then saved files."""
    choices = [
        ModelChoice(label, "live", dataset)
        for label, (dataset, _) in st.session_state.get(LIVE_KEY, {}).items()
    ]
    live_labels = {c.label for c in choices}
    for path in saved_model_files():
        label = path.parent.name if path.name == "model.npz" else path.stem
        if label not in live_labels:
            choices.append(ModelChoice(label, "file", "", path))
    return choices


@st.cache_resource(max_entries=16, show_spinner=False)
def _load_file(path: str, mtime: float) -> SavedModel:
    """A model file, cached by path and modification time (never mutated by callers)."""
    return load_model(path)


def load_choice(choice: ModelChoice) -> Network | None:
    """The network behind a choice (None when a live run has no weights yet).

    Raises ``nn_core.io.ModelFileError`` for a damaged file.
    """
    if choice.kind == "live":
        entry = st.session_state.get(LIVE_KEY, {}).get(choice.label)
        return None if entry is None else entry[1]()
    assert choice.path is not None
    return _load_file(str(choice.path), choice.path.stat().st_mtime).network


def set_current_model(label: str) -> None:
    st.session_state[CURRENT_KEY] = label


def current_model_label() -> str | None:
    return st.session_state.get(CURRENT_KEY)
