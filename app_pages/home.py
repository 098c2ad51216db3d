"""Home: what Digit Lab is, whether the data is here, the current model, and where to go next."""

import streamlit as st

from ui.datasets import DATASET_NAMES, dataset_title, download_panel
from ui.model_choices import current_model_label, model_choices

st.title("Digit Lab")
st.markdown(
    "Explore the MNIST handwritten digits (and Fashion-MNIST), build a neural network that is written from "
    "scratch in NumPy, **watch it learn epoch by epoch**, then draw a digit and see what it thinks. "
    "Every number on these pages comes from code you can read: no deep-learning framework underneath."
)

left, middle, right = st.columns(3)
with left, st.container(border=True):
    st.subheader(":material/grid_view: Explore")
    st.write("Class balance, sample grids, mean digits, pixel statistics and a PCA map of the data.")
    st.page_link("app_pages/explorer.py", label="Open the dataset explorer", icon=":material/arrow_forward:")
with middle, st.container(border=True):
    st.subheader(":material/model_training: Train")
    st.write("Pick layers, activations, optimizer and learning rate; see loss and accuracy stream in live.")
    st.page_link(
        "app_pages/training.py", label="Open the training playground", icon=":material/arrow_forward:"
    )
with right, st.container(border=True):
    st.subheader(":material/draw: Draw")
    st.write(
        "Draw a digit or upload a photo; see the 28x28 image the network gets and its ten probabilities."
    )
    st.page_link("app_pages/draw.py", label="Open draw & predict", icon=":material/arrow_forward:")

st.header("Data", divider="gray")
for name in DATASET_NAMES:
    with st.container(border=True):
        if download_panel(name, key=f"home_download_{name}"):
            st.markdown(
                f":material/check_circle: **{dataset_title(name)}**: 60,000 training and 10,000 test images, ready."
            )

st.header("Model", divider="gray")
label = current_model_label()
choices = model_choices()
if label:
    st.markdown(f"Current model: **{label}**.")
elif choices:
    names = ", ".join(f"**{c.label}**" for c in choices[:4]) + (" and more" if len(choices) > 4 else "")
    st.markdown(f"Models ready to predict with: {names}.")
else:
    st.markdown("No model yet: train one in the playground, or open Draw & predict to get a ready-made one.")
if choices or label:
    st.page_link("app_pages/draw.py", label="Try it on a digit you draw", icon=":material/draw:")
