"""The Draw page's result panels: what the network sees, the prediction, and a look inside the network.

Each panel takes the preprocessed digit (28, 28) float32 and the network, computes with
``ui.draw.predict`` and places figures from ``ui.draw.figures``.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from nn_core.model_summary import architecture_string
from nn_core.network import Network
from ui.draw.figures import activations_figure, probability_figure, units_figure
from ui.draw.predict import (
    Prediction,
    first_layer_contributions,
    layer_activations,
    predict_digit,
    top_units,
    unit_weight_images,
    upscale,
)
from ui.feature_maps import conv_maps, feature_maps_figure, filters_figure, first_conv

SEEN_SCALE = 8  # 28x28 shown at 224x224, one network pixel = 8x8 screen pixels
N_UNITS = 8  # first-layer units shown in "Look inside"
FULL_WIDTH = 1100  # px: the page's width on a desktop, for the feature maps' heights


def network_view(digit: np.ndarray | None) -> None:
    """The 28x28 input enlarged with nearest-neighbour scaling (black while there is nothing)."""
    st.markdown("**What the network sees**")
    pixels = np.zeros((28, 28), np.float32) if digit is None else digit
    st.image(upscale(pixels, SEEN_SCALE), width=28 * SEEN_SCALE)
    st.caption(
        "Cropped to the ink, scaled to fit 20x20 with its proportions kept, and centred by its centre of "
        "mass in 28x28, as the MNIST digits were made."
    )


def prediction_panel(network: Network, digit: np.ndarray, class_names: tuple[str, ...]) -> Prediction:
    """Confidence threshold, the top class with its confidence, and the probability chart."""
    threshold = st.slider(
        "Sure from",
        min_value=0.50,
        max_value=0.99,
        value=0.80,
        step=0.01,
        key="draw_threshold",
        format="%.2f",
        help="Below this probability for the top class, the answer is 'not sure'.",
    )
    prediction = predict_digit(network, digit, threshold)
    colour = "green" if prediction.sure else "orange"
    st.subheader(f":{colour}[{prediction.headline(class_names)}]", anchor=False)
    figure = probability_figure(prediction.probabilities, threshold, prediction.sure, class_names)
    st.plotly_chart(figure, key="draw_probabilities", config={"displayModeBar": False})
    return prediction


def empty_prediction_chart(class_names: tuple[str, ...]) -> None:
    """The probability chart with no bars, before the first stroke.

    The browser loads its chart library the first time a chart is on the page (1.5-3 s on a 2-core
    machine); drawing the empty chart while the person starts drawing means the first stroke's
    probabilities appear as fast as the later ones.
    """
    threshold = float(st.session_state.get("draw_threshold", 0.80))
    zeros = np.zeros(len(class_names), np.float32)
    figure = probability_figure(zeros, threshold, False, class_names)
    st.plotly_chart(figure, key="draw_probabilities_empty", config={"displayModeBar": False})


def look_inside_panel(
    network: Network, digit: np.ndarray, prediction: Prediction, class_names: tuple[str, ...]
) -> None:
    """Hidden-layer activations for this digit and the first-layer units that pushed the answer most."""
    if network.config.layers:
        layers_inside_panel(network, digit)
        return
    if not network.config.hidden:
        st.info("This model has no hidden layer: each class score is a weighted sum of the pixels.")
        return
    st.markdown(
        "Each square is one hidden unit; brighter means a larger output for this drawing. "
        "The layers run left to right, input to output."
    )
    names = network.config.activations
    st.plotly_chart(
        activations_figure(layer_activations(network, digit), names),
        key="draw_activations",
        config={"displayModeBar": False},
    )
    contributions = first_layer_contributions(network, digit, prediction.top)
    units = top_units(contributions, N_UNITS)
    positive = units[contributions[units] > 0]
    if len(positive) == 0:
        st.caption("No first-layer unit pushed this answer up.")
        return
    st.markdown(
        f"**The first-layer units that contributed most to '{class_names[prediction.top]}'**: each image is a unit's "
        "incoming weights (red: ink there raises its output, blue: lowers it); the figure is its output "
        "times how much the answer's score rises with it."
    )
    st.plotly_chart(
        units_figure(unit_weight_images(network, positive), positive, contributions[positive]),
        key="draw_units",
        config={"displayModeBar": False},
    )


def layers_inside_panel(network: Network, digit: np.ndarray) -> None:
    """For a network built from layers (a CNN): the first conv layer's filters, then this digit's
    feature maps layer by layer, then the units of its dense layers."""
    config = network.config
    st.markdown(
        f"**{architecture_string(config)}**: each small image is one feature map, the output of one "
        "filter over the whole digit: white where the filter fires most (one scale per layer, so a "
        "dark map is a filter this digit hardly excites). Hover a map for its number and values."
    )
    conv = first_conv(network)
    if conv is not None:
        st.plotly_chart(
            filters_figure(conv.W, width=FULL_WIDTH), key="draw_filters", config={"displayModeBar": False}
        )
        st.caption(
            "The first layer's filters: a map is bright where the digit looks like the filter's red "
            "part and not like its blue part."
        )
    for layer in conv_maps(network, digit):
        st.plotly_chart(
            feature_maps_figure(layer, width=FULL_WIDTH),
            key=f"draw_maps_{layer.position}",
            config={"displayModeBar": False},
        )
    outputs = network.hidden_activations(digit.reshape(1, -1))
    dense = [
        (out[0], spec.activation)
        for spec, out in zip(config.layers, outputs, strict=True)
        if spec.kind == "dense" and out.ndim == 2
    ]
    if dense:
        st.markdown("**Its dense layers**: each square is one unit; brighter means a larger output.")
        st.plotly_chart(
            activations_figure([a for a, _ in dense], [n for _, n in dense]),
            key="draw_activations",
            config={"displayModeBar": False},
        )
