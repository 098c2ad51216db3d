"""Turning the canvas and uploaded files into the digit the network sees (hints and error messages)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ui.draw.input import EMPTY_HINT, digit_from_canvas, digit_from_upload


def _canvas(points, width=18, size=280) -> np.ndarray:
    """An RGBA canvas image: a white polyline on opaque black, as the drawing canvas sends it."""
    im = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    ImageDraw.Draw(im).line(points, fill=(255, 255, 255, 255), width=width, joint="curve")
    return np.asarray(im)


def _png(image: Image.Image, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    rows, cols = np.indices(digit.shape)
    return float((rows * digit).sum() / digit.sum()), float((cols * digit).sum() / digit.sum())


def test_no_drawing_yet_and_an_empty_canvas_give_the_hint():
    assert digit_from_canvas(None).digit is None
    assert digit_from_canvas(None).hint == EMPTY_HINT
    blank = np.zeros((280, 280, 4), np.uint8)
    blank[..., 3] = 255
    result = digit_from_canvas(blank)
    assert result.digit is None and result.hint == EMPTY_HINT and not result.error


def test_a_stroke_anywhere_becomes_a_centred_mnist_style_digit():
    for offset in (0, 90):  # the same "7" drawn in two places gives the same 28x28 image
        result = digit_from_canvas(_canvas([(20 + offset, 30), (120 + offset, 30), (50 + offset, 170)]))
        assert result.digit is not None and result.digit.shape == (28, 28)
        assert result.digit.dtype == np.float32 and result.digit.max() == pytest.approx(1.0)
        rows = np.flatnonzero(result.digit.any(axis=1))
        cols = np.flatnonzero(result.digit.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == 20  # fitted to 20 pixels
        cy, cx = _centre_of_mass(result.digit)
        assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1
        if offset == 0:
            first = result.digit
    np.testing.assert_allclose(result.digit, first, atol=1e-5)


def test_dark_ink_on_light_paper_is_inverted():
    im = Image.new("L", (200, 300), 235)
    ImageDraw.Draw(im).line([(100, 40), (100, 260)], fill=30, width=16)
    for fmt in ("PNG", "JPEG"):
        result = digit_from_upload(_png(im, fmt))
        assert not result.error and result.digit is not None
        assert result.digit[14, 14] > 0.5  # the stroke is bright in the middle
        assert result.digit[0, 0] == 0.0  # the paper is black


def test_files_that_are_not_images_get_a_clear_message():
    result = digit_from_upload(b"this is not an image, just text")
    assert result.digit is None
    assert "PNG or JPEG" in result.error


def test_an_image_without_a_digit_says_so():
    result = digit_from_upload(_png(Image.new("L", (120, 120), 200)))
    assert result.digit is None and "No digit found" in result.error


def test_huge_files_are_refused_before_decoding():
    im = Image.fromarray(np.random.default_rng(0).integers(0, 255, size=(100, 100), dtype=np.uint8))
    data = _png(im)
    assert len(data) > 2000
    result = digit_from_upload(data, max_bytes=2000)
    assert result.digit is None and "limit is 0.002 MB" in result.error
    assert digit_from_upload(data, max_bytes=len(data)).error != result.error  # at the limit it is read
