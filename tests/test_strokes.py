"""Thicker and thinner strokes: grey dilation and erosion, fractional amounts, shapes and checks."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.images.strokes import change_stroke_width, dilate, erode, random_stroke_width


def _bar(width: int) -> np.ndarray:
    """One (28, 28) image: a vertical bar ``width`` pixels wide and 16 tall, full brightness."""
    image = np.zeros((28, 28), np.float32)
    left = 14 - width // 2
    image[6:22, left : left + width] = 1.0
    return image


def _ink_width(image: np.ndarray) -> float:
    """Ink per row in the bar's middle rows: its width in pixels."""
    return float(image[10:18].sum(axis=1).mean())


def test_dilate_and_erode_agree_with_a_nested_loop_reference():
    rng = np.random.default_rng(0)
    images = rng.random((3, 28, 28), dtype=np.float32)
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    square = np.zeros_like(images)
    plus = np.zeros_like(images)
    for n in range(3):
        for r in range(28):
            for c in range(28):
                window = padded[n, r : r + 3, c : c + 3]
                square[n, r, c] = window.max()
                plus[n, r, c] = min(window[1, 1], window[0, 1], window[2, 1], window[1, 0], window[1, 2])
    np.testing.assert_array_equal(dilate(images), square)
    np.testing.assert_array_equal(erode(images), plus)


@pytest.mark.parametrize(
    ("amount", "expected"), [(0.0, 4.0), (1.0, 6.0), (2.0, 8.0), (0.5, 5.0), (-1.0, 2.0)]
)
def test_each_step_changes_the_width_by_two_pixels(amount, expected):
    out = change_stroke_width(_bar(4)[None], np.array([amount], np.float32))[0]
    assert _ink_width(out) == pytest.approx(expected)


def test_thinning_never_erases_the_digit_and_keeps_its_brightness():
    thin = _bar(1) * 0.7
    out = change_stroke_width(thin[None], np.array([-2.0], np.float32))[0]
    assert out.max() == pytest.approx(0.7)
    assert out.sum() > 0


def test_shapes_dtypes_and_the_range_are_kept():
    rng = np.random.default_rng(1)
    flat = rng.random((5, 784), dtype=np.float32)
    out = random_stroke_width(flat, rng, -1.0, 1.5)
    assert out.shape == (5, 784) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert not np.shares_memory(out, flat)
    same = random_stroke_width(flat, np.random.default_rng(2), 0.0, 0.0)
    np.testing.assert_array_equal(same, flat)


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="one amount per image"):
        change_stroke_width(np.zeros((2, 784), np.float32), np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\[-4, 4\]"):
        change_stroke_width(np.zeros((1, 784), np.float32), np.array([5.0], np.float32))
    with pytest.raises(ValueError, match="float images"):
        change_stroke_width(np.zeros((1, 784), np.uint8), np.zeros(1, np.float32))
    with pytest.raises(ValueError, match="low <= high"):
        random_stroke_width(np.zeros((1, 784), np.float32), np.random.default_rng(0), 1.0, 0.0)
