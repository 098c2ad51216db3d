"""Where the Draw page's digit comes from: the drawing canvas or an uploaded photo, made MNIST-like.

Both go through ``nn_core.images.preprocess`` (crop to the ink, fit 20x20 keeping the aspect ratio, centre of
mass at the middle of 28x28). The canvas is white ink on black; a photo is inverted when it is dark ink on
light paper. ``streamlit_drawable_canvas`` is imported inside the function that draws the canvas, so this
module can be imported (and its helpers tested) outside a Streamlit run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from nn_core.images.preprocess import EmptyDrawingError, ImageFileError, load_image, preprocess_digit

CANVAS_SIZE = 280
MAX_UPLOAD_BYTES = 10_000_000  # photos need far less; the server takes up to 200 MB so larger files reach
# the page and get a message here (a file the browser refuses never reaches the page, which would keep the old result)
ROUND_KEY = "draw_canvas_round"  # bumped by Clear: a new canvas key is a new, empty canvas
EMPTY_HINT = "Draw a digit in the black square: one stroke is enough to start."
UPLOAD_TYPES = ("png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "gif")
PREVIEW_SIDE = 320  # the uploaded image is shown at most this many pixels on its long side


@dataclass(frozen=True)
class DigitInput:
    """The digit to predict (None with a hint or an error when there is none yet)."""

    digit: np.ndarray | None  # (28, 28) float32 in [0, 1], bright ink on black
    hint: str = ""  # why there is no digit (empty canvas, nothing uploaded)
    error: str = ""  # a problem the person should fix (unreadable or huge file)
    preview: np.ndarray | None = None  # an upload as decoded, (h, w) uint8 gray, long side <= PREVIEW_SIDE


def _preview(gray: np.ndarray) -> np.ndarray:
    """A decoded upload (h, w) uint8, shrunk for display: 8-bit gray whatever the file's mode was."""
    h, w = gray.shape
    if max(h, w) <= PREVIEW_SIDE:
        return gray
    scale = PREVIEW_SIDE / max(h, w)
    im = Image.fromarray(gray).resize(
        (max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.BOX
    )
    return np.asarray(im, dtype=np.uint8)


def digit_from_canvas(image: np.ndarray | None) -> DigitInput:
    """The canvas' RGBA image (280, 280, 4) uint8 (None before the first stroke) as a digit."""
    if image is None:
        return DigitInput(None, hint=EMPTY_HINT)
    try:
        return DigitInput(preprocess_digit(image, invert=False))
    except EmptyDrawingError:
        return DigitInput(None, hint=EMPTY_HINT)


def too_large(size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> DigitInput:
    """The message for a file of ``size`` bytes over the limit."""
    return DigitInput(
        None,
        error=f"This file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:g} MB. "
        "A photo of one digit needs far less: crop it or save it smaller.",
    )


def digit_from_upload(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> DigitInput:
    """An uploaded image file's bytes as a digit (inverted automatically when dark on light).

    Any mode Pillow decodes (16-bit, 32-bit integer or float gray, palette, alpha, CMYK, 1-bit) is read as
    8-bit gray first; that gray image is also the ``preview`` the page shows.
    """
    if len(data) > max_bytes:
        return too_large(len(data), max_bytes)
    try:
        gray = load_image(data)  # (h, w) uint8
    except ImageFileError as err:
        return DigitInput(None, error=str(err))
    preview = _preview(gray)
    try:
        return DigitInput(preprocess_digit(gray, invert=None), preview=preview)
    except EmptyDrawingError:
        return DigitInput(
            None,
            preview=preview,
            error="No digit found in this image: the ink must stand out from the paper. "
            "Try a photo with the digit large, dark and in focus.",
        )


@st.cache_data(max_entries=8, show_spinner=False)
def _cached_upload(data: bytes) -> DigitInput:
    """``digit_from_upload``, computed once per file (a rerun after each widget change is then instant)."""
    return digit_from_upload(data)


def clear_canvas() -> None:
    """Callback of the Clear button."""
    st.session_state[ROUND_KEY] = st.session_state.get(ROUND_KEY, 0) + 1


def canvas_input() -> DigitInput:
    """The brush-size slider, the canvas and a Clear button; returns the drawn digit."""
    from streamlit_drawable_canvas import st_canvas

    brush = st.slider(
        "Brush size",
        min_value=8,
        max_value=40,
        value=20,
        step=2,
        key="draw_brush",
        help="MNIST strokes are about a tenth of the digit's height: 16-24 suits a digit filling the square.",
    )
    result = st_canvas(
        stroke_width=brush,
        stroke_color="#FFFFFF",
        background_color="#000000",
        update_streamlit=True,
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=f"draw_canvas_{st.session_state.get(ROUND_KEY, 0)}",
    )
    st.button("Clear", key="draw_clear", on_click=clear_canvas, icon=":material/ink_eraser:")
    return digit_from_canvas(result.image_data)


def upload_input() -> DigitInput:
    """A file uploader for a photo or scan of one digit; returns the digit it holds."""
    upload = st.file_uploader(
        "Photo or scan of one digit (PNG, JPEG, TIFF, BMP, WebP or GIF)",
        type=list(UPLOAD_TYPES),
        key="draw_upload",
        help=f"Up to {MAX_UPLOAD_BYTES / 1e6:g} MB. Dark ink on light paper is inverted automatically. "
        "Crop to the digit for the best result.",
    )
    if upload is None:
        return DigitInput(None, hint="Upload a PNG or JPEG image of one handwritten digit.")
    if upload.size > MAX_UPLOAD_BYTES:  # said before reading (and hashing) the whole file
        return too_large(upload.size)
    given = _cached_upload(upload.getvalue())
    if given.preview is not None:  # the decoded 8-bit image: st.image cannot re-encode 16-bit or float files
        st.image(given.preview, caption="Your image (as read, in gray)", width=160)
    return given
