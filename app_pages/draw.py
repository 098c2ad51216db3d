"""Draw & predict: draw a digit (or upload a photo), see what the network sees and what it answers."""

import streamlit as st

from ui.diagram.panel import diagram_panel
from ui.draw.digits import add_digit_buttons, my_digits_section, show_added_message
from ui.draw.input import canvas_input, upload_input
from ui.draw.models import choose_model, class_names, load_network
from ui.draw.panels import empty_prediction_chart, look_inside_panel, network_view, prediction_panel
from ui.export_buttons import choice_export_buttons
from ui.layout import draw_panels
from ui.model_choices import ModelChoice
from ui.owner import ensure_owner, keep_owner_in_url

st.title("Draw & predict")
st.markdown(
    "Draw a digit with the mouse (or upload a photo of one). It is turned into a 28x28 image the way the "
    "MNIST digits were made, and the network gives a probability for each of the ten classes after every stroke."
)

owner = ensure_owner()
keep_owner_in_url(owner)
choice = choose_model()
if choice is None:
    st.stop()
with st.expander("Export this model", icon="📦"):
    choice_export_buttons(choice, key="draw")


@st.fragment
def predict_section(model: ModelChoice) -> None:
    """Input, what the network sees, the prediction and a look inside; reruns alone after each stroke."""
    network = load_network(model)
    if network is None:
        return
    names = class_names(model)
    draw_col, seen_col, result_col = draw_panels()
    with draw_col:
        source = st.radio(
            "Input",
            ["Draw", "Upload a photo"],
            key="draw_source",
            horizontal=True,
            label_visibility="collapsed",
        )
        given = canvas_input() if source == "Draw" else upload_input()
    with seen_col:
        network_view(given.digit)
    with result_col:
        if given.error:
            st.error(given.error, icon=":material/error:")
        elif given.digit is None:
            show_added_message()
            st.info(given.hint, icon=":material/draw:")
            empty_prediction_chart(names)  # the chart library loads now, not on the first stroke
        else:
            prediction = prediction_panel(network, given.digit, names)
            if model.dataset in ("mnist", ""):  # My digits holds digits, not clothes
                add_digit_buttons(given.digit, prediction.top, owner)
    if given.digit is not None:
        with st.container(border=True, key="draw_diagram_box"):
            st.markdown("**The network, lit by your drawing**")
            diagram_panel(network, given.digit, names, key="draw_diagram")
    if given.digit is not None and st.toggle(
        "Look inside the network",
        key="draw_look_inside",
        help="Hidden-layer activations and the units behind the answer; for a convolutional network, "
        "the feature maps of every conv and pooling layer.",
    ):
        with st.container(border=True):
            look_inside_panel(network, given.digit, prediction, names)


predict_section(choice)

st.header("My digits", divider="gray")
digit_model = load_network(choice, quiet=True) if choice.dataset in ("mnist", "") else None
my_digits_section(digit_model, choice.label, owner)
