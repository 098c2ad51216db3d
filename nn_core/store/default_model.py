"""The ready-made model that ships with Digit Lab, for the Draw page and ``predict`` without ``--model``.

It is the ``default`` preset trained on MNIST with drawing-like augmentation (see
``nn_core.store.default_training``) and kept inside the package as ``default_model.npz``, so a fresh
install predicts at once, before any dataset is downloaded. Rebuild it with
``python scripts/build_default_model.py``, which also writes ``default_model.json``, the figures
measured then (MNIST test accuracy, training time). ``load_default_model`` checks the file is there, whole
and of the preset's architecture, and says how to restore it otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nn_core.config import ModelConfig
from nn_core.presets import get_preset
from nn_core.store.model_file import ModelFileError, SavedModel, load_model

SHIPPED_PATH = Path(__file__).resolve().with_name("default_model.npz")
CARD_PATH = SHIPPED_PATH.with_suffix(".json")  # what was measured when it was built
PRESET = "default"
REBUILD_HINT = "restore it from the project's repository or rebuild it: python scripts/build_default_model.py"


class DefaultModelError(RuntimeError):
    """The shipped default model is missing, damaged or not the ``default`` preset's architecture."""


def default_model_path() -> Path:
    """Where the shipped default model lives (inside the package)."""
    return SHIPPED_PATH


def same_architecture(a: ModelConfig, b: ModelConfig) -> bool:
    """True when both configs build the same network (fields a layer stack ignores are not compared)."""
    shared = ("n_inputs", "n_classes", "output", "loss", "layers")
    mlp = () if a.layers else ("hidden", "activations", "dropout", "leaky_slope")
    return all(getattr(a, f) == getattr(b, f) for f in (*shared, *mlp))


def default_model_card(path: Path | None = None) -> dict[str, Any]:
    """The figures measured when the default model was built (``default_model.json``): ``test_accuracy``
    on MNIST, ``epochs``, ``train_seconds`` and ``built`` (ISO date). Empty when missing or unreadable."""
    try:
        card = json.loads((CARD_PATH if path is None else Path(path)).read_text())
    except (OSError, ValueError):
        return {}
    return card if isinstance(card, dict) else {}


def load_default_model(path: Path | None = None) -> SavedModel:
    """Read and check the default model (``default_model_path()`` unless ``path`` is given).

    Raises ``DefaultModelError`` with a message a person can act on when the file is missing, cannot be
    read, or holds another architecture than the ``default`` preset.
    """
    path = SHIPPED_PATH if path is None else Path(path)
    if not path.is_file():
        raise DefaultModelError(f"The default model file is missing ({path.name}): {REBUILD_HINT}.")
    try:
        model = load_model(path)
    except (ModelFileError, OSError) as err:
        raise DefaultModelError(f"The default model file is damaged ({err}): {REBUILD_HINT}.") from None
    if not same_architecture(model.network.config, get_preset(PRESET).model):
        raise DefaultModelError(
            f"The default model file holds another architecture than the '{PRESET}' preset: {REBUILD_HINT}."
        )
    return model
