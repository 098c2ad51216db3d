"""The test-set analysis of a convolutional network: its first conv layer's filters, and the feature
maps of every conv and pooling layer for one chosen test image (a misclassified one by default).

Figures come from ``ui.feature_maps``; ``render_filters`` and ``render_maps`` place them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from nn_core.network import Network
from ui.feature_maps import conv_maps, feature_maps_figure, filters_figure, first_conv

SHOWN = 24  # test images offered in the chooser


def image_choices(mistakes: np.ndarray, y: np.ndarray, pred: np.ndarray, limit: int = SHOWN) -> list[int]:
    """Test image indices to choose from: the given mistakes first, then the first correct ones."""
    right = np.flatnonzero(pred == y)[: max(0, limit - len(mistakes))]
    return [int(i) for i in (*mistakes[:limit], *right)]


def render_filters(network: Network, key: str) -> None:
    """The first conv layer's filters as images."""
    conv = first_conv(network)
    if conv is None:
        return
    st.markdown(
        "**First-layer filters**",
        help="Each small image is one filter of the first conv layer: it fires where the image looks "
        "like its red part and not like its blue part. Its feature map below shows where that is.",
    )
    st.plotly_chart(filters_figure(conv.W), key=key, config={"displayModeBar": False})


def render_maps(
    network: Network,
    images: np.ndarray,
    X: np.ndarray,
    choices: list[int],
    describe: Any,
    key: str,
) -> None:
    """A chooser of test images and, for the chosen one, every conv and pooling layer's feature maps.

    ``images`` (n, 28, 28) uint8 for display, ``X`` (n, 784) float32 network inputs, ``describe(i)``
    a label for test image ``i``.
    """
    if not choices:
        return
    st.markdown(
        "**Feature maps of a test image**",
        help="What each filter responds to in one image: white where a map fires most (one scale "
        "per layer, so a dark map is a filter this image hardly excites).",
    )
    left, right = st.columns([1, 3], vertical_alignment="top")
    with left:
        chosen = st.selectbox("Test image", choices, key=key + "_image", format_func=describe)
        st.image(images[chosen], width=112, clamp=True)
    with right:
        layers = conv_maps(network, X[chosen])
        for layer in layers:
            st.plotly_chart(
                feature_maps_figure(layer),
                key=f"{key}_maps_{layer.position}",
                config={"displayModeBar": False},
            )
