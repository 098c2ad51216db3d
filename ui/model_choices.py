"""Which models a user can predict with: live runs of this session and model files on disk.

The Training playground registers each run it holds with ``register_live_model`` (its run id, a
label for people and a function that returns a snapshot ``Network`` of the model so far, safe to
use while it trains). The Draw page lists ``model_choices()``: those live runs first, then the
saved runs of the same owner (never another user's), then standalone model files, newest first.
``st.session_state["current_model"]`` holds the label last chosen, shown on the home page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from nn_core.network import Network
from nn_core.store.model_file import SavedModel, load_model
from nn_core.store.paths import models_dir
from nn_core.store.runstore import RunStoreError, list_runs, model_path

LIVE_KEY = "live_models"  # run id -> (dataset name, function giving a Network snapshot or None, label)
OWNER_KEY = "train_owner"  # set by the Training playground: whose runs this session may see
CURRENT_KEY = "current_model"


@dataclass(frozen=True)
class ModelChoice:
    label: str
    kind: str  # "live" (a run of this session) or "file"
    dataset: str
    path: Path | None = None


def register_live_model(
    key: str, dataset: str, snapshot: Callable[[], Network | None], label: str | None = None
) -> None:
    """Offer a run of this session to the other pages (``key``: its run id)."""
    st.session_state.setdefault(LIVE_KEY, {})[key] = (dataset, snapshot, label or key)


def unregister_live_model(key: str) -> None:
    st.session_state.get(LIVE_KEY, {}).pop(key, None)


def saved_model_files() -> list[Path]:
    """Standalone model files (``models/*.npz``: the default model, CLI saves), newest first."""
    files = [f for f in models_dir().glob("*.npz") if f.is_file()]
    return sorted(files, key=lambda f: f.stat().st_mtime, reverse=True)


def model_choices() -> list[ModelChoice]:
    """Live runs of this session, then this owner's saved runs, then standalone files."""
    live = st.session_state.get(LIVE_KEY, {})
    choices = [ModelChoice(label, "live", dataset) for dataset, _, label in live.values()]
    owner = st.session_state.get(OWNER_KEY)
    if owner:
        try:
            records = list_runs(owner)
        except RunStoreError:  # the playground says why; the other models stay usable here
            records = []
        for record in reversed(records):
            path = model_path(record.run_id)
            if record.run_id not in live and path.is_file():
                choices.append(ModelChoice(f"{record.name} (saved run)", "file", record.dataset, path))
    choices += [ModelChoice(path.stem, "file", "", path) for path in saved_model_files()]
    return choices


@st.cache_resource(max_entries=16, show_spinner=False)
def _load_file(path: str, mtime: float) -> SavedModel:
    """A model file, cached by path and modification time (never mutated by callers)."""
    return load_model(path)


def load_choice(choice: ModelChoice) -> Network | None:
    """The network behind a choice (None when a live run has no weights yet).

    Raises ``nn_core.store.model_file.ModelFileError`` for a damaged file.
    """
    if choice.kind == "live":
        entry = next((e for e in st.session_state.get(LIVE_KEY, {}).values() if e[2] == choice.label), None)
        return None if entry is None else entry[1]()
    assert choice.path is not None
    return _load_file(str(choice.path), choice.path.stat().st_mtime).network


def set_current_model(label: str) -> None:
    st.session_state[CURRENT_KEY] = label


def current_model_label() -> str | None:
    return st.session_state.get(CURRENT_KEY)
