"""The network diagram for one test image, in the playground's test-set analysis.

A person picks one of the most confidently wrong test images (or any test image by its number) and
sees which neurons it lit and which connections carried the wrong answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from nn_core.network import Network
from ui.diagram.panel import diagram_panel


def mistake_label(
    i: int, y: np.ndarray, pred: np.ndarray, confidence: np.ndarray, names: Sequence[str]
) -> str:
    """One line for a test image: its number, true class, the answer and its probability."""
    verdict = "right" if pred[i] == y[i] else "wrong"
    return f"#{i}: a {names[y[i]]}, answered {names[pred[i]]} ({confidence[i]:.0%}, {verdict})"


def image_diagram_section(
    network: Network,
    X: np.ndarray,
    y: np.ndarray,
    pred: np.ndarray,
    confidence: np.ndarray,
    candidates: np.ndarray,
    names: Sequence[str],
    key: str,
) -> None:
    """Choose a test image (X (n, 784) float32, labels y (n,), the network's answers ``pred`` with
    ``confidence``) among ``candidates`` (indices, e.g. the confident mistakes) or by number, and draw
    the network's diagram for it."""
    st.markdown(
        "**Why did it answer that? The network on one test image**",
        help="The same diagram as on the Draw page: which neurons this image lit and which connections "
        "carried the answer.",
    )
    left, right = st.columns([2, 1])
    options = [int(i) for i in candidates]
    with left:
        chosen = st.selectbox(
            "A confidently wrong test image",
            options,
            key=key + "_pick",
            format_func=lambda i: mistake_label(i, y, pred, confidence, names),
            disabled=not options,
            placeholder="No mistakes on the test set",
        )
    with right:
        number = st.number_input(
            "Or any test image by number",
            min_value=0,
            max_value=len(y) - 1,
            value=None,
            step=1,
            key=key + "_number",
            placeholder=f"0 to {len(y) - 1}",
        )
    index = int(number) if number is not None else chosen
    if index is None:
        st.caption("Choose a test image to see the network's diagram for it.")
        return
    if number is not None:
        st.caption(mistake_label(index, y, pred, confidence, names))
    diagram_panel(network, X[index].reshape(28, 28), names, key, true_class=int(y[index]))
