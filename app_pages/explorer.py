"""Dataset explorer: what the network learns from. Counts, samples, class averages, one image up close, a PCA map."""

import streamlit as st

from nn_core.data.local import DataError
from nn_core.data.registry import get_dataset_info
from ui.datasets import DATASET_NAMES, dataset_title, download_panel, get_split, show_data_error
from ui.explorer import stats, tabs

INDEX, SPLITS = tabs.INDEX, tabs.SPLITS
DEFAULTS = {INDEX: 0, "explorer_seed": 0, "explorer_n_samples": 40, "explorer_pca_n": 5000}
KEPT = (*DEFAULTS, *(f"explorer_classes_{n}" for n in DATASET_NAMES))  # widgets that outlive a closed tab


for key, value in DEFAULTS.items():
    st.session_state.setdefault(key, value)
for key in KEPT:  # re-assigning a widget's value keeps it while its tab is closed and the widget not drawn
    if key in st.session_state:
        st.session_state[key] = st.session_state[key]

st.title("Dataset explorer")
st.caption(
    "Everything here is computed from the real images, once: coming back to a dataset or a tab skips the "
    "computing and only redraws the charts."
)
left, right, _ = st.columns([1.2, 1, 2])
name = left.radio(
    "Dataset", DATASET_NAMES, format_func=dataset_title, horizontal=True, key="explorer_dataset"
)
split = right.radio("Split", tuple(SPLITS), format_func=SPLITS.get, horizontal=True, key="explorer_split")
if not download_panel(name, key=f"explorer_download_{name}"):
    st.stop()
try:
    images, labels = get_split(name, split)
    summary, counts = stats.summary(name, split)
except DataError as err:
    show_data_error(err)
    st.stop()
names = get_dataset_info(name).class_names
n_images = len(images)

cols = st.columns(5)
cols[0].metric("Images", f"{summary.n_images:,}")
cols[1].metric("Image size", f"{summary.height} × {summary.width}")
cols[2].metric("Classes", len(names))
cols[3].metric(
    "Pixel mean", f"{summary.mean:.4f}", help=f"On the 0–1 scale ({summary.mean * 255:.1f} of 255)."
)
cols[4].metric("Pixel std", f"{summary.std:.4f}", help=f"On the 0–1 scale ({summary.std * 255:.1f} of 255).")

st.session_state[INDEX] = min(max(int(st.session_state[INDEX]), 0), n_images - 1)
shown = tabs.Shown(name, split, images, labels, tuple(names), summary, counts, st.session_state[INDEX])
bodies = (tabs.overview, tabs.samples, tabs.class_averages, tabs.viewer, tabs.pca_map)
for (tab, is_open), body in zip(tabs.tabs(), bodies, strict=True):
    if is_open:
        with tab:
            body(shown)
