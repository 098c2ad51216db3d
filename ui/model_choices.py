"""Which models a user can predict with, and how good each is: the default model, live runs of this
session, the owner's saved runs and model files on disk.

The Training playground registers each run it holds with ``register_live_model`` (its run id, a
label for people and a function that returns a snapshot ``Network`` of the model so far, safe to
use while it trains). ``model_choices()`` lists the shipped default model first, then those live
runs, the saved runs of the same owner (never another user's) and standalone model files, newest
first; each choice carries its dataset, architecture and accuracy (``ui.model_quality``), and the
ones that never learnt or diverged come last. ``st.session_state["current_model"]`` holds the key
of the model last chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from nn_core.config import ModelConfig
from nn_core.data.local import dataset_status, load_split, to_float
from nn_core.data.registry import DATASETS
from nn_core.network import Network
from nn_core.store.default_model import (
    DefaultModelError,
    default_model_card,
    default_model_path,
    load_default_model,
)
from nn_core.store.model_file import ModelFileError, SavedModel, load_model
from nn_core.store.paths import models_dir
from nn_core.store.runstore import RunRecord, RunStoreError, list_runs, model_path
from ui.model_quality import Quality, from_history, judge

LIVE_KEY = "live_models"  # run id -> (dataset name, function giving a Network snapshot or None, label)
OWNER_KEY = "train_owner"  # set by ui.owner: whose runs this session may see
CURRENT_KEY = "current_model"
DEFAULT_KEY = "default"


@dataclass(frozen=True)
class ModelChoice:
    label: str  # the model's name for people
    kind: str  # "default" (shipped), "live" (a run of this session) or "file"
    dataset: str  # registry name ("mnist", "fashion-mnist"); "" when unknown
    path: Path | None = None
    key: str = ""  # stable id across reruns: "default", "live:<run>", "run:<run>", "file:<path>"
    architecture: str = ""
    quality: Quality = field(default_factory=Quality)

    def caption(self) -> str:
        """One line for the picker: name, architecture, dataset and accuracy (or what is wrong)."""
        info = DATASETS.get(self.dataset)
        parts = [self.label, self.architecture, info.title if info else "", self.quality.phrase()]
        text = " · ".join(p for p in parts if p)
        return text if self.quality.usable else f"⚠ {text}"


def register_live_model(
    key: str, dataset: str, snapshot: Callable[[], Network | None], label: str | None = None
) -> None:
    """Offer a run of this session to the other pages (``key``: its run id)."""
    st.session_state.setdefault(LIVE_KEY, {})[key] = (dataset, snapshot, label or key)


def unregister_live_model(key: str) -> None:
    st.session_state.get(LIVE_KEY, {}).pop(key, None)


def saved_model_files() -> list[Path]:
    """Standalone model files (``models/*.npz``: CLI saves, uploads), newest first."""
    files = [f for f in models_dir().glob("*.npz") if f.is_file()]
    return sorted(files, key=lambda f: f.stat().st_mtime, reverse=True)


def compact_architecture(config: ModelConfig) -> str:
    """A short architecture for a menu: "784-256-10", or a CNN's weighted and pooling layers
    ("CNN conv32x5-maxpool2-conv64x5-maxpool2-dense128-10"; batch norm and dropout left out)."""
    if not config.layers:
        return "-".join(str(w) for w in (config.n_inputs, *config.hidden, config.n_classes))
    names = [s.name for s in config.layers if s.kind not in ("batchnorm", "dropout")]
    kind = "CNN" if any(s.kind == "conv" for s in config.layers) else "MLP"
    return f"{kind} {'-'.join([*names, str(config.n_classes)])}"


def _run_quality(record: RunRecord) -> Quality:
    test = record.test["acc"] if record.test else None
    return from_history(record.history, test, record.model_config.n_classes, record.status == "diverged")


def _default_choice() -> ModelChoice | None:
    path = default_model_path()
    if not path.is_file():
        return None
    card = default_model_card()
    acc = card.get("test_accuracy")
    quality = judge(float(acc), "test") if isinstance(acc, int | float) else Quality()
    try:
        arch = compact_architecture(_load_default(str(path), path.stat().st_mtime).network.config)
    except (DefaultModelError, OSError):
        arch = ""
    return ModelChoice("Default model", "default", "mnist", path, DEFAULT_KEY, arch, quality)


@st.cache_data(max_entries=64, show_spinner=False)
def _measured_test_accuracy(path: str, mtime: float, dataset: str) -> float | None:
    """A model file's accuracy on its dataset's test split, when the split is on disk (else None)."""
    if dataset not in DATASETS or any(s != "ok" for s in dataset_status(dataset).values()):
        return None
    try:
        network = _load_file(path, mtime).network
        images, labels = load_split(dataset, "test")
    except (ModelFileError, OSError, ValueError):
        return None
    if network.config.n_classes != len(DATASETS[dataset].class_names):
        return None
    return float((network.predict(to_float(images).reshape(len(labels), -1)) == labels).mean())


def _file_choice(path: Path, label: str, key: str, record: RunRecord | None = None) -> ModelChoice:
    try:
        saved = _load_file(str(path), path.stat().st_mtime)
    except (ModelFileError, OSError):
        return ModelChoice(label, "file", "", path, key, "", Quality(None, "", "unknown"))
    config = saved.network.config
    if record is not None:
        quality = _run_quality(record)
    else:
        measured = _measured_test_accuracy(str(path), path.stat().st_mtime, saved.dataset)
        if measured is None and not saved.history:  # a file made elsewhere: nothing known about it
            quality = Quality()
        else:
            quality = from_history(saved.history, measured, config.n_classes)
    return ModelChoice(label, "file", saved.dataset, path, key, compact_architecture(config), quality)


def model_choices() -> list[ModelChoice]:
    """The default model, live runs of this session, this owner's saved runs, standalone files; the
    models that never learnt or diverged after all the others."""
    live = st.session_state.get(LIVE_KEY, {})
    owner = st.session_state.get(OWNER_KEY)
    try:
        records = {r.run_id: r for r in list_runs(owner)} if owner else {}
    except RunStoreError:  # the playground says why; the other models stay usable here
        records = {}
    choices = [c for c in [_default_choice()] if c is not None]
    for run_id, (dataset, _, label) in live.items():
        record = records.get(run_id)
        if record is None:  # not on disk (yet): the playground's label is all there is
            choices.append(ModelChoice(label, "live", dataset, None, f"live:{run_id}"))
            continue
        arch = compact_architecture(record.model_config)
        choices.append(
            ModelChoice(record.name, "live", dataset, None, f"live:{run_id}", arch, _run_quality(record))
        )
    for record in reversed(list(records.values())):
        path = model_path(record.run_id)
        if record.run_id not in live and path.is_file():
            choices.append(_file_choice(path, f"{record.name} (saved run)", f"run:{record.run_id}", record))
    choices += [_file_choice(path, path.stem, f"file:{path}") for path in saved_model_files()]
    return [c for c in choices if c.quality.usable] + [c for c in choices if not c.quality.usable]


@st.cache_resource(max_entries=16, show_spinner=False)
def _load_file(path: str, mtime: float) -> SavedModel:
    """A model file, cached by path and modification time (never mutated by callers)."""
    return load_model(path)


@st.cache_resource(max_entries=2, show_spinner=False)
def _load_default(path: str, mtime: float) -> SavedModel:
    """The shipped default model, checked against its preset (``DefaultModelError`` otherwise)."""
    return load_default_model(Path(path))


def load_choice(choice: ModelChoice) -> Network | None:
    """The network behind a choice (None when a live run has no weights yet).

    Raises ``ModelFileError`` for a damaged file, ``DefaultModelError`` for a bad default model.
    """
    if choice.kind == "live":
        run_id = choice.key.removeprefix("live:")
        entry = st.session_state.get(LIVE_KEY, {}).get(run_id)
        return None if entry is None else entry[1]()
    assert choice.path is not None
    if choice.kind == "default":
        return _load_default(str(choice.path), choice.path.stat().st_mtime).network
    return _load_file(str(choice.path), choice.path.stat().st_mtime).network


def set_current_model(key: str) -> None:
    st.session_state[CURRENT_KEY] = key


def current_model_key() -> str | None:
    return st.session_state.get(CURRENT_KEY)


def current_model_label() -> str | None:
    """The name of the model last chosen (for the home page), None before any choice."""
    key = current_model_key()
    if key is None:
        return None
    return next((c.label for c in model_choices() if c.key == key), None)
