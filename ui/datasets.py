"""Cached access to the datasets for the pages, and the panel shown when data is missing.

Raw splits are read-only uint8 arrays, never mutated, and large (47 MB for a training set), so
they are shared through ``st.cache_resource`` rather than copied out of ``st.cache_data`` on
every rerun. Small derived results (statistics, PCA) use ``st.cache_data`` in the pages' helpers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from nn_core.data.download import ensure_dataset
from nn_core.data.local import DataError, data_root, dataset_status, load_split, unusable_files_error
from nn_core.data.registry import DATASETS, get_dataset_info

DATASET_NAMES = tuple(DATASETS)


def dataset_title(name: str) -> str:
    return get_dataset_info(name).title


@st.cache_resource(show_spinner="Reading the dataset...", max_entries=4)
def load_split_cached(name: str, split: str, root: str) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, 28, 28) and labels (n,); ``root`` is part of the cache key."""
    return load_split(name, split, root=Path(root) if root else None)


def get_split(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The split from the current data folder (raises ``DataError`` when unusable)."""
    return load_split_cached(name, split, str(data_root()))


def download_panel(name: str, key: str) -> bool:
    """Show the dataset's state; when files are missing, a Download button with a progress bar.

    Returns True when the dataset is ready to use.
    """
    status = dataset_status(name)
    if all(state == "ok" for state in status.values()):
        return True
    title = dataset_title(name)
    if "unreadable" in status.values():  # a download would not help: say which file and what to do
        show_data_error(unusable_files_error(get_dataset_info(name), data_root() / name, status))
        return False
    st.warning(
        f"**{title}** is not on this computer yet ({files_state(status)}). "
        f"It is downloaded once (about {_download_mb(name)} MB), checked and kept in `{data_root() / name}`. "
        "To use files you already have, set the `DIGIT_LAB_DATA` environment variable to their parent folder.",
        icon=":material/download:",
    )
    if st.button(f"Download {title}", key=key, type="primary", icon=":material/download:"):
        bar = st.progress(0.0, text="Starting the download...")

        def report(file_name: str, done: int, total: int) -> None:
            fraction = done / total if total else 0.0
            bar.progress(min(fraction, 1.0), text=f"{file_name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")

        try:
            ensure_dataset(name, progress=report)
        except DataError as err:
            bar.empty()
            st.error(
                f"The download did not complete, and no partial file was kept.\n\n{err}",
                icon=":material/cloud_off:",
            )
            return False
        bar.empty()
        st.success(f"{title} is ready.")
        return True
    return False


def files_state(status: dict[str, str]) -> str:
    """'t10k-labels-idx1-ubyte.gz is missing' / 'a and b are missing; c is damaged' for the files not ok."""
    parts = []
    for state, word in (("missing", "missing"), ("corrupt", "damaged")):
        names = [f"`{f}`" for f, s in status.items() if s == state]
        if names:
            verb = "is" if len(names) == 1 else "are"
            parts.append(
                f"{', '.join(names[:-1])}{' and ' if len(names) > 1 else ''}{names[-1]} {verb} {word}"
            )
    return "; ".join(parts)


def _download_mb(name: str) -> int:
    return 12 if name == "mnist" else 31


def show_data_error(err: DataError) -> None:
    """A data problem, said plainly (no traceback)."""
    st.error(str(err), icon=":material/error:")
