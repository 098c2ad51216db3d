"""Download buttons that export a model as ONNX or as a NumPy zip (``nn_core.export``).

Each file is made only when its button is clicked (the button gets a function, not bytes), so a
rerun after every stroke or epoch exports nothing. The model is a saved ``.npz`` file (the
playground's runs) or a ``Network`` in memory (the Draw page's choice, a live run among them).
Without the optional ``onnx`` package the ONNX button is disabled and says how to install it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import streamlit as st

from nn_core.data.registry import DATASETS
from nn_core.export import export_bytes, onnx_available
from nn_core.network import Network
from nn_core.store.model_file import ModelFileError, load_model
from ui.model_choices import ModelChoice, load_choice

INSTALL = "ONNX export needs the onnx package: `pip install -r requirements-export.txt`"
ONNX_HELP = "Input `pixels` (N, 28, 28) float32 in 0..1, output `probabilities` (N, classes); see the README."
NUMPY_HELP = "weights.npz and a predict.py that needs only NumPy and Pillow: `python predict.py digit.png`"


def _file_stem(name: str) -> str:
    """'Run 3 (saved run)' -> 'digit-lab-run-3-saved-run'."""
    return "digit-lab-" + (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "model")


def _export(model: Path | Network, fmt: str, class_names: Sequence[str] | None) -> bytes:
    """The exported file's bytes (called by Streamlit on click)."""
    if isinstance(model, Path):
        saved = load_model(model)
        info = DATASETS.get(saved.dataset)
        model, class_names = saved.network, class_names or (info.class_names if info else None)
    return export_bytes(model, fmt, class_names)


def export_buttons(
    model: Path | Network | None, name: str, key: str, class_names: Sequence[str] | None = None
) -> None:
    """The "Download as ONNX" and "Download as NumPy zip" buttons for ``model`` (None: no weights yet)."""
    if model is None:
        st.caption("Nothing to export yet: this model has no weights.")
        return
    stem, ready = _file_stem(name), onnx_available()
    left, right = st.columns(2)
    left.download_button(
        "Download as ONNX",
        partial(_export, model, "onnx", class_names),
        file_name=f"{stem}.onnx",
        mime="application/octet-stream",
        on_click="ignore",
        key=f"{key}_export_onnx",
        disabled=not ready,
        help=ONNX_HELP if ready else INSTALL,
        icon="⬇️",
    )
    right.download_button(
        "Download as NumPy zip",
        partial(_export, model, "numpy", class_names),
        file_name=f"{stem}-numpy.zip",
        mime="application/zip",
        on_click="ignore",
        key=f"{key}_export_numpy",
        help=NUMPY_HELP,
        icon="⬇️",
    )
    if not ready:
        st.caption(INSTALL)


def choice_export_buttons(choice: ModelChoice, key: str) -> None:
    """The buttons for a model the Draw page offers: its file, or a snapshot of a live run."""
    if choice.path is not None:
        export_buttons(choice.path, choice.label, key)
        return
    try:
        network = load_choice(choice)
    except (ModelFileError, OSError):
        network = None  # the page shows the problem where it predicts
    info = DATASETS.get(choice.dataset)
    export_buttons(network, choice.label, key, info.class_names if info else None)
