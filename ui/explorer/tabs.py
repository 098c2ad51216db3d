"""The dataset explorer's five tab bodies; ``app_pages/explorer.py`` picks the dataset and runs the open one.

Each body takes a ``Shown`` (the dataset's name, split, images, labels, statistics and the image in
the viewer) and draws its tab; clicks on a grid or the map open the clicked image in the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from nn_core.data.stats import closest_pairs, components_for_variance
from ui.explorer import figures, stats
from ui.explorer import images as pictures

INDEX = "explorer_index"  # the image shown in the viewer; a click on the grid or the map sets it too
SPLITS = {"train": "Training set", "test": "Test set"}
SECTIONS = ["Overview", "Samples", "Class averages", "Viewer", "PCA map"]


@dataclass(frozen=True)
class Shown:
    """What the explorer shows: the dataset and split, its arrays and summary, the viewer's image."""

    name: str
    split: str
    images: np.ndarray  # (n, 28, 28) uint8
    labels: np.ndarray  # (n,)
    names: tuple[str, ...]  # class names
    summary: object
    counts: np.ndarray  # (classes,)
    index: int


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


def tabs() -> list[tuple[object, bool]]:
    """The five tabs and whether each is open; a closed tab's body does not run."""
    sections = st.tabs(SECTIONS, key="explorer_tab", on_change="rerun")
    return [(tab, bool(tab.open)) for tab in sections]


def overview(shown: Shown) -> None:
    names, summary, counts = shown.names, shown.summary, shown.counts
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


def samples(shown: Shown) -> None:
    name, split, images, labels, names = shown.name, shown.split, shown.images, shown.labels, shown.names
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


def class_averages(shown: Shown) -> None:
    name, split, names = shown.name, shown.split, shown.names
    means, stds, distances = stats.class_images(name, split)
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


def viewer(shown: Shown) -> None:
    name, split, images, labels, names, index, n_images = (
        shown.name,
        shown.split,
        shown.images,
        shown.labels,
        shown.names,
        shown.index,
        len(shown.images),
    )
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
    c.button("Next", icon=":material/chevron_right:", on_click=_step, args=(1, n_images), key="explorer_next")
    label = int(labels[index])
    st.markdown(f"Image **#{index}** of the {SPLITS[split].lower()}: label **{label}** ({names[label]})")
    a, b = st.columns(2)
    a.plotly_chart(pictures.image_figure(images[index], f"#{index}: {names[label]}"), key="explorer_image")
    b.plotly_chart(  # the average (0-1) on the image's own 0-255 scale, so their shades compare
        pictures.image_figure(
            stats.class_images(name, split)[0][label] * 255,
            f"Average {names[label]}, for comparison",
            zmax=255,
        ),
        key="explorer_image_mean",
    )
    st.caption("Both on one scale: 0 = background, 255 = full ink (the average of those values per pixel).")


def pca_map(shown: Shown) -> None:
    name, split, images, labels, names, index = (
        shown.name,
        shown.split,
        shown.images,
        shown.labels,
        shown.names,
        shown.index,
    )
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
        pictures.image_figure(images[index], f"#{index}: {names[labels[index]]}", height=300, colorbar=False),
        key="explorer_pca_image",
    )
    b.caption("Click a point to see its image here (and in the Viewer tab).")
    keep90 = components_for_variance(pca.explained_variance_ratio, 0.9)
    st.plotly_chart(figures.explained_variance_figure(pca.explained_variance_ratio), key="explorer_variance")
    st.markdown(
        f"The first two components keep {pca.explained_variance_ratio[:2].sum():.1%} of the variance; "
        f"**{keep90}** of the {len(pca.explained_variance_ratio)} keep 90%."
    )
