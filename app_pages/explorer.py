"""Dataset explorer: what the network learns from. Counts, samples, class averages, one image up close, a PCA map."""

import inspect

import streamlit as st

from nn_core.data.local import DataError
from nn_core.data.registry import get_dataset_info
from nn_core.data.stats import closest_pairs, components_for_variance
from ui.datasets import DATASET_NAMES, dataset_title, download_panel, get_split, show_data_error
from ui.explorer import figures, stats
from ui.explorer import images as pictures

INDEX = "explorer_index"  # the image shown in the viewer; a click on the grid or the map sets it too
SPLITS = {"train": "Training set", "test": "Test set"}
SECTIONS = ["Overview", "Samples", "Class averages", "Viewer", "PCA map"]
DEFAULTS = {INDEX: 0, "explorer_seed": 0, "explorer_n_samples": 40, "explorer_pca_n": 5000}
KEPT = (*DEFAULTS, *(f"explorer_classes_{n}" for n in DATASET_NAMES))  # widgets that outlive a closed tab


def _step(delta: int, n: int) -> None:
    st.session_state[INDEX] = (st.session_state[INDEX] + delta) % n


def _pick(chart_key: str) -> None:
    """Open the clicked image (its dataset row travels in the point's customdata) in the viewer."""
    points = st.session_state[chart_key].selection.points
    rows = [p["customdata"] for p in points if p.get("customdata") is not None]
    if rows:
        row = rows[0][0] if isinstance(rows[0], list) else rows[0]
        st.session_state[INDEX] = int(row)


def _resample() -> None:
    st.session_state["explorer_seed"] += 1


def _sections() -> tuple[list, list[bool]]:
    """Tabs whose closed ones do not run, where this Streamlit supports it (``on_change``); else plain tabs."""
    if "on_change" in inspect.signature(st.tabs).parameters:
        tabs = st.tabs(SECTIONS, key="explorer_tab", on_change="rerun")
        return tabs, [bool(t.open) for t in tabs]
    return st.tabs(SECTIONS), [True] * len(SECTIONS)


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
index = st.session_state[INDEX]
(overview, samples, averages, viewer, pca_tab), is_open = _sections()
if is_open[0]:
    with overview:
        a, b = st.columns(2)
        a.plotly_chart(figures.class_balance_figure(counts, names), key="explorer_balance")
        b.plotly_chart(figures.pixel_histogram_figure(summary.histogram), key="explorer_histogram")
        most, least = int(counts.argmax()), int(counts.argmin())
        balance = (
            f"Every class has exactly {counts[most]:,} images."
            if counts[most] == counts[least]
            else f"Most images: **{names[most]}** ({counts[most]:,}); fewest: **{names[least]}** "
            f"({counts[least]:,}), a ratio of {counts[most] / max(counts[least], 1):.2f}."
        )
        st.markdown(f"{balance} {summary.zero_fraction:.0%} of all pixels are pure background (0).")

if is_open[1]:
    with samples:
        chosen = st.pills(
            "Classes (none chosen = all)",
            range(len(names)),
            format_func=names.__getitem__,
            selection_mode="multi",
            key=f"explorer_classes_{name}",
        )
        b, c, d, _ = st.columns([1, 1, 1, 4], vertical_alignment="bottom")
        count = b.selectbox("Images", (20, 40, 60, 100), key="explorer_n_samples")
        seed = c.number_input("Seed", min_value=0, max_value=2**31 - 1, step=1, key="explorer_seed")
        d.button("Re-sample", icon=":material/shuffle:", on_click=_resample, key="explorer_resample")
        rows = stats.sample_indices(name, split, tuple(chosen), seed, count)
        grid = pictures.sample_grid_figure(images[rows], labels[rows], rows, names)
        st.plotly_chart(
            grid,
            key="explorer_grid",
            on_select=lambda: _pick("explorer_grid"),
            selection_mode="points",
            width="content",
        )
        st.caption(f"{len(rows)} random images (seed {seed}). Click one to open it in the Viewer tab.")

if is_open[2]:
    means, stds, distances = stats.class_images(name, split)
    with averages:
        st.plotly_chart(
            pictures.image_grid_figure(means, list(names), title="Mean image per class"),
            key="explorer_means",
            width="content",
        )
        st.plotly_chart(
            pictures.image_grid_figure(
                stds,
                list(names),
                title="Standard deviation per pixel",
                zmax=float(stds.max()),
                colorscale="Viridis",
            ),
            key="explorer_stds",
            width="content",
        )
        a, b = st.columns([3, 2])
        a.plotly_chart(figures.class_distance_figure(distances, names), key="explorer_distances")
        pairs = ", ".join(f"**{names[i]}** and **{names[j]}**" for i, j, _ in closest_pairs(distances, 3))
        b.markdown(
            f"**Which classes look alike?** The closest class averages are {pairs}. The distance is the Euclidean "
            "distance between two mean images (on the 0–1 scale, over all 784 pixels): pairs close here are often "
            "the ones a network confuses.\n\nBright areas of the deviation images are where a class varies most "
            "from one image to the next."
        )

if is_open[3]:
    with viewer:
        a, b, c, _ = st.columns([2, 1, 1, 4], vertical_alignment="bottom")
        index = a.number_input(
            f"Image index (0–{n_images - 1:,})", min_value=0, max_value=n_images - 1, key=INDEX
        )
        b.button(
            "Previous",
            icon=":material/chevron_left:",
            on_click=_step,
            args=(-1, n_images),
            key="explorer_prev",
        )
        c.button(
            "Next", icon=":material/chevron_right:", on_click=_step, args=(1, n_images), key="explorer_next"
        )
        label = int(labels[index])
        st.markdown(f"Image **#{index}** of the {SPLITS[split].lower()}: label **{label}** ({names[label]})")
        a, b = st.columns(2)
        a.plotly_chart(
            pictures.image_figure(images[index], f"#{index}: {names[label]}"), key="explorer_image"
        )
        b.plotly_chart(  # the average (0-1) on the image's own 0-255 scale, so their shades compare
            pictures.image_figure(
                stats.class_images(name, split)[0][label] * 255,
                f"Average {names[label]}, for comparison",
                zmax=255,
            ),
            key="explorer_image_mean",
        )
        st.caption(
            "Both on one scale: 0 = background, 255 = full ink (the average of those values per pixel)."
        )

if is_open[4]:
    with pca_tab:
        n_points = st.columns(4)[0].selectbox(
            "Points on the map", (1000, 2000, 5000, 10000), key="explorer_pca_n"
        )
        pca = stats.pca_map(name, split, n_points)
        a, b = st.columns([3, 1])
        a.plotly_chart(
            figures.pca_scatter_figure(
                pca.coords, labels[pca.indices], pca.indices, names, pca.explained_variance_ratio[:2], index
            ),
            key="explorer_pca",
            on_select=lambda: _pick("explorer_pca"),
            selection_mode="points",
        )
        b.plotly_chart(
            pictures.image_figure(
                images[index], f"#{index}: {names[labels[index]]}", height=300, colorbar=False
            ),
            key="explorer_pca_image",
        )
        b.caption("Click a point to see its image here (and in the Viewer tab).")
        keep90 = components_for_variance(pca.explained_variance_ratio, 0.9)
        st.plotly_chart(
            figures.explained_variance_figure(pca.explained_variance_ratio), key="explorer_variance"
        )
        st.markdown(
            f"The first two components keep {pca.explained_variance_ratio[:2].sum():.1%} of the variance; "
            f"**{keep90}** of the {len(pca.explained_variance_ratio)} keep 90%."
        )
