"""My digits on the Draw page: keep the current digit with one click, score the model on the set,
download or upload a set, delete entries. Each owner's set lives on disk (``nn_core.store.my_digits``).

Collecting is keyboard-free: after a drawing, one of ten label buttons adds it at once, clears the
canvas for the next digit and moves the suggested label on (0, 1, ..., 9, 0, ...), so ten digits of
each class take a hundred drawings and a hundred clicks.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import streamlit as st

from nn_core.network import Network
from nn_core.store.my_digits import (
    DOWNLOAD_NAME,
    DamagedDigitsError,
    DigitSet,
    DigitSetError,
    add_digit,
    delete_digits,
    digitset_from_bytes,
    digitset_path,
    digitset_to_bytes,
    load_digits,
    merge_digits,
    set_aside,
)
from ui.draw.figures import confusion_figure
from ui.draw.input import clear_canvas
from ui.draw.predict import score_digits, upscale

FLASH_KEY = "draw_digits_flash"  # (kind, message) to show once, after the rerun that follows a change
ADDED_KEY = "draw_digits_added"  # message of the last addition, shown beside the fresh canvas
NEXT_KEY = "draw_digits_next"  # the label suggested for the next digit
DELETE_KEY = "draw_digits_delete"
UPLOAD_KEY = "draw_digits_upload"
GALLERY_SIZE = 60  # newest digits shown as images
THUMB = 56  # pixels per thumbnail side (2x)


def next_label(last: int) -> int:
    """The label suggested after adding ``last``: the following digit, 9 wrapping round to 0."""
    return (int(last) + 1) % 10


def add_digit_buttons(digit: np.ndarray, predicted: int, owner: str) -> None:
    """Ten label buttons: a click adds the digit with that label, clears the canvas and moves on.

    The suggested label (the one after the last added, else the prediction) is highlighted.
    """
    suggested = int(st.session_state.get(NEXT_KEY, predicted))
    st.session_state.pop(ADDED_KEY, None)  # a new drawing: the last addition's message has served
    st.markdown("**Add to My digits**: press the digit you drew")
    columns = [*st.columns(5, gap="small"), *st.columns(5, gap="small")]  # two rows: 0-4, 5-9
    for label, column in enumerate(columns):
        if column.button(
            str(label),
            key=f"draw_add_{label}",
            type="primary" if label == suggested else "secondary",
            width="stretch",
            help=f"Keep this drawing as a {label} and clear the canvas for the next one",
        ):
            try:
                digits = add_digit(digit, label, digitset_path(owner))
            except DigitSetError as err:
                st.error(str(err), icon=":material/error:")
                return
            st.session_state[NEXT_KEY] = next_label(label)
            st.session_state[ADDED_KEY] = (
                f"Added a {label} to My digits ({len(digits)} in all). Now draw a {next_label(label)}."
            )
            clear_canvas()
            st.rerun()
    st.caption("Collecting a set? The highlighted label moves on after each digit: 0, 1, ..., 9, 0, ...")


def show_added_message() -> None:
    """The last addition's message, beside the fresh canvas until the next drawing."""
    message = st.session_state.get(ADDED_KEY)
    if message:
        st.success(message, icon=":material/check:")


def _load(owner: str) -> DigitSet | None:
    try:
        return load_digits(digitset_path(owner))
    except DamagedDigitsError as err:
        st.error(str(err), icon=":material/broken_image:")
        st.button(
            "Keep a copy and start a new set",
            key="draw_digits_set_aside",
            icon=":material/inventory_2:",
            on_click=_set_aside,
            args=(owner,),
            help="Keeps the damaged file as a dated copy on the server; My digits then starts empty.",
        )
        return None
    except DigitSetError as err:
        st.error(str(err), icon=":material/error:")
        return None


def _set_aside(owner: str) -> None:
    """Callback: keep the damaged file as a dated copy so a new set starts."""
    try:
        set_aside(digitset_path(owner))
    except DigitSetError as err:
        st.session_state[FLASH_KEY] = ("error", str(err))
        return
    st.session_state[FLASH_KEY] = ("success", "The damaged set was kept as a copy; My digits starts afresh.")


def _upload_form(owner: str) -> None:
    """Add the digits of a downloaded set (yours from another browser, or someone's who shared it)."""
    upload = st.file_uploader(
        "Add digits from a set file (.npz)",
        type=["npz"],
        key=UPLOAD_KEY,
        help="A file made by **Download My digits**; its digits are added to yours (repeats are skipped).",
    )
    if upload is None or not st.button("Add these digits", key="draw_digits_merge", icon=":material/upload:"):
        return
    try:
        incoming = digitset_from_bytes(upload.getvalue(), name=f"'{upload.name}'")
        after, added = merge_digits(incoming, digitset_path(owner))
    except DigitSetError as err:
        st.error(str(err), icon=":material/error:")
        return
    skipped = len(incoming) - added
    note = f" ({skipped} already there)" if skipped else ""
    st.session_state[FLASH_KEY] = (
        "success",
        f"Added {added} digit(s) from {upload.name}{note}; {len(after)} in all.",
    )
    st.rerun()


def my_digits_section(network: Network | None, model_label: str, owner: str) -> None:
    """This owner's set: counts, the model's score and confusion, thumbnails, delete, download, upload."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        kind, message = flash
        if kind == "error":
            st.error(message, icon=":material/error:")
        else:
            st.success(message, icon=":material/check:")
    digits = _load(owner)
    if digits is None:
        return
    if len(digits) == 0:
        st.info(
            "No digits yet. Draw one and press its label under the prediction: your own handwriting "
            "makes a test set MNIST cannot give you. Your digits are yours: other visitors do not see them.",
            icon=":material/collections:",
        )
        _upload_form(owner)
        return
    st.markdown(f"**{count_phrase(digits.counts())}**, kept for you (this page's address holds your id).")
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
    _delete_form(digits, owner)
    st.download_button(
        "Download My digits (.npz)",
        data=partial(digitset_to_bytes, digits),  # made on click: no file re-sent after every stroke
        file_name=DOWNLOAD_NAME,
        mime="application/octet-stream",
        key="draw_digits_download",
        icon=":material/download:",
        help="np.load gives images (n, 28, 28) uint8 and labels (n,) uint8, like MNIST. "
        "To share your set, send this file; others add it with the uploader below.",
    )
    _upload_form(owner)


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


def _delete_chosen(owner: str) -> None:
    """Callback of the Delete button: remove the chosen entries and empty the selection."""
    chosen = st.session_state.get(DELETE_KEY) or []
    try:
        after = delete_digits(chosen, digitset_path(owner))
    except DigitSetError as err:
        st.session_state[FLASH_KEY] = ("error", str(err))
        return
    st.session_state[DELETE_KEY] = []
    st.session_state[FLASH_KEY] = ("success", f"Deleted {len(chosen)} digit(s); {len(after)} left.")


def _delete_form(digits: DigitSet, owner: str) -> None:
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
        args=(owner,),
        icon=":material/delete:",
    )
