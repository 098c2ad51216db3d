"""My digits on the Draw page: label the current digit and keep it, score the model on the set,
download it as ``.npz``, delete entries. The set itself lives on disk (``nn_core.store.my_digits``).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from nn_core.network import Network
from nn_core.store.my_digits import (
    DamagedDigitsError,
    DigitSet,
    DigitSetError,
    add_digit,
    delete_digits,
    digitset_path,
    digitset_to_bytes,
    load_digits,
    set_aside,
)
from ui.draw.figures import confusion_figure
from ui.draw.predict import score_digits, upscale

FLASH_KEY = "draw_digits_flash"  # (kind, message) to show once, after the rerun that follows a change
DELETE_KEY = "draw_digits_delete"
GALLERY_SIZE = 60  # newest digits shown as images
THUMB = 56  # pixels per thumbnail side (2x)
LABEL_WIDTH = 140  # the label picker: its heading on one line, room for one digit


def add_digit_form(digit: np.ndarray, predicted: int) -> None:
    """Pick the true label (the prediction is preselected) and add the digit to My digits."""
    row = st.container(horizontal=True, vertical_alignment="bottom", key="draw_add_row")  # wraps when narrow
    label = row.selectbox(
        "This digit is a",
        list(range(10)),
        index=predicted,
        help="Correct the label if the network got it wrong.",
        width=LABEL_WIDTH,
    )
    if row.button("Add to My digits", key="draw_add_digit", icon=":material/add:"):
        try:
            digits = add_digit(digit, int(label))
        except DigitSetError as err:
            st.error(str(err), icon=":material/error:")
            return
        st.session_state[FLASH_KEY] = ("success", f"Added a {label} to My digits ({len(digits)} in all).")
        st.rerun()


def _load() -> DigitSet | None:
    try:
        return load_digits()
    except DamagedDigitsError as err:
        st.error(str(err), icon=":material/broken_image:")
        st.button(
            "Keep a copy and start a new set",
            key="draw_digits_set_aside",
            icon=":material/inventory_2:",
            on_click=_set_aside,
            help=f"Renames `{digitset_path().name}` to a `.damaged-<time>.npz` copy beside it; "
            "My digits then starts empty.",
        )
        return None
    except DigitSetError as err:
        st.error(str(err), icon=":material/error:")
        return None


def _set_aside() -> None:
    """Callback: keep the damaged file as a dated copy so a new set starts."""
    try:
        copy = set_aside()
    except DigitSetError as err:
        st.session_state[FLASH_KEY] = ("error", str(err))
        return
    st.session_state[FLASH_KEY] = (
        "success",
        f"The damaged file was kept as `{copy}`; My digits starts afresh.",
    )


def my_digits_section(network: Network | None, model_label: str) -> None:
    """The saved set: counts, the model's score and confusion, thumbnails, delete and download."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        kind, message = flash
        if kind == "error":
            st.error(message, icon=":material/error:")
        else:
            st.success(message, icon=":material/check:")
    digits = _load()
    if digits is None:
        return
    if len(digits) == 0:
        st.info(
            "No digits yet. Draw one, choose its label and press **Add to My digits**: your own handwriting "
            "makes a test set MNIST cannot give you.",
            icon=":material/collections:",
        )
        return
    st.markdown(f"**{count_phrase(digits.counts())}** saved in `{digitset_path()}`.")
    left, right = st.columns([1, 1], gap="large")
    predictions = None
    if network is not None:
        score = score_digits(network, digits.inputs(), digits.labels)
        predictions = score.predictions
        right_answers = int((score.predictions == digits.labels).sum())
        left.metric(
            f"Accuracy of {model_label}",
            f"{score.accuracy:.1%}",
            help="The chosen model on your saved digits; a caption under a digit gives the model's answer "
            "when it is wrong.",
        )
        left.caption(f"{right_answers} of {len(digits)} right.")
        right.plotly_chart(
            confusion_figure(score.confusion), key="draw_digits_confusion", config={"displayModeBar": False}
        )
    with left:
        _gallery(digits, predictions)
    _delete_form(digits)
    st.download_button(
        "Download My digits (.npz)",
        data=partial(digitset_to_bytes, digits),  # made on click: no file re-sent after every stroke
        file_name="my-digits.npz",
        mime="application/octet-stream",
        key="draw_digits_download",
        icon=":material/download:",
        help="np.load gives images (n, 28, 28) uint8 and labels (n,) uint8, like MNIST.",
    )


def count_phrase(counts: np.ndarray) -> str:
    """ "3 digits (1 ×2, 7 ×1)" from per-class counts (10,)."""
    total = int(counts.sum())
    per_class = ", ".join(f"{d} ×{int(c)}" for d, c in enumerate(counts) if c)
    return f"{total} digit{'' if total == 1 else 's'}" + (f" ({per_class})" if per_class else "")


def entry_caption(entry_id: int, label: int, predicted: int | None) -> str:
    """Thumbnail caption: id and label, and the model's answer when it differs."""
    text = f"#{entry_id}: {label}"
    return text if predicted is None or predicted == label else f"{text} (model: {predicted})"


def _gallery(digits: DigitSet, predictions: np.ndarray | None) -> None:
    newest = np.arange(len(digits))[::-1][:GALLERY_SIZE]
    if len(digits) > GALLERY_SIZE:
        st.caption(f"The newest {GALLERY_SIZE} of {len(digits)}.")
    st.image(
        [upscale(digits.images[i] / np.float32(255), 2) for i in newest],
        caption=[
            entry_caption(
                int(digits.ids[i]),
                int(digits.labels[i]),
                None if predictions is None else int(predictions[i]),
            )
            for i in newest
        ],
        width=THUMB,
    )


def _delete_chosen() -> None:
    """Callback of the Delete button: remove the chosen entries and empty the selection."""
    chosen = st.session_state.get(DELETE_KEY) or []
    try:
        after = delete_digits(chosen)
    except DigitSetError as err:
        st.session_state[FLASH_KEY] = ("error", str(err))
        return
    st.session_state[DELETE_KEY] = []
    st.session_state[FLASH_KEY] = ("success", f"Deleted {len(chosen)} digit(s); {len(after)} left.")


def _delete_form(digits: DigitSet) -> None:
    labels = {int(i): f"#{int(i)}: {int(lab)}" for i, lab in zip(digits.ids, digits.labels, strict=True)}
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    chosen = left.multiselect(
        "Delete entries",
        list(labels)[::-1],
        format_func=lambda i: labels.get(i, f"#{i}"),
        key=DELETE_KEY,
        placeholder="Choose digits to delete",
    )
    right.button(
        "Delete",
        key="draw_digits_delete_button",
        disabled=not chosen,
        on_click=_delete_chosen,
        icon=":material/delete:",
    )
