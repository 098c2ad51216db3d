"""Tests for nn_core.images.canvas: MNIST-style digits re-drawn as drawing-canvas images."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nn_core.data.local import load_split
from nn_core.images.canvas import _set_width, render_canvas_batch, render_canvas_style
from nn_core.images.preprocess import preprocess_digit

STROKES = {  # polylines in fractions of the drawing area
    "1": [(0.5, 0.1), (0.45, 0.9)],
    "2": [(0.2, 0.3), (0.4, 0.12), (0.7, 0.2), (0.7, 0.4), (0.2, 0.88), (0.8, 0.88)],
    "4": [(0.6, 0.9), (0.6, 0.1), (0.15, 0.6), (0.8, 0.6)],
    "7": [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)],
}


def synthetic_digit(name: str) -> np.ndarray:
    """An MNIST-like (28, 28) float32 digit: thick lines drawn large, then put in MNIST format."""
    img = Image.new("L", (280, 280), 0)
    points = [(x * 280, y * 280) for x, y in STROKES[name]]
    ImageDraw.Draw(img).line(points, fill=255, width=22, joint="curve")
    return preprocess_digit(np.asarray(img))


def ink_of(canvas: np.ndarray) -> np.ndarray:
    """(h, w) ink coverage in [0, 1] of an RGBA canvas, composited over black."""
    return canvas[..., :3].max(axis=2) / 255.0 * (canvas[..., 3] / 255.0)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_shape_dtype_and_ink_inside(dtype):
    digit = synthetic_digit("4")
    if dtype == np.uint8:
        digit = np.round(digit * 255).astype(np.uint8)
    for seed in range(10):
        canvas = render_canvas_style(digit, np.random.default_rng(seed))
        assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8
        ink = ink_of(canvas)
        assert ink.max() == 1.0
        border = np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]])
        assert border.max() == 0.0  # the whole digit, rim included, lies inside the canvas


def test_size_follows_the_canvas():
    digit = synthetic_digit("7")
    heights = []
    for seed in range(30):
        canvas = render_canvas_style(digit, np.random.default_rng(seed), canvas_size=200)
        assert canvas.shape == (200, 200, 4)
        rows = np.flatnonzero(ink_of(canvas).any(axis=1))
        heights.append((rows[-1] - rows[0] + 1) / 200)
    # Digit height is drawn from 35%-80% of the side; a thicker brush adds up to its width on top.
    assert min(heights) >= 0.33 and max(heights) <= 0.8 + 36 / 200
    assert max(heights) - min(heights) > 0.2  # sizes really vary


def test_hard_edged_white_strokes_on_black_or_transparent():
    digit = synthetic_digit("2")
    kinds = set()
    for seed in range(20):
        canvas = render_canvas_style(digit, np.random.default_rng(seed))
        ink = ink_of(canvas)
        inked = ink > 0
        assert np.mean(ink[inked] == 1.0) > 0.7  # mostly full-strength brush, a thin grey rim
        background_alpha = np.unique(canvas[..., 3][~inked])
        assert len(background_alpha) == 1 and background_alpha[0] in (0, 255)
        kinds.add(int(background_alpha[0]))
        core = ink == 1.0
        assert np.all(canvas[core][:, :3] == 255) and np.all(canvas[core][:, 3] == 255)
    assert kinds == {0, 255}  # both kinds of canvas appear


def test_seeds_control_the_rendering():
    digit = synthetic_digit("7")
    a = render_canvas_style(digit, np.random.default_rng(1))
    b = render_canvas_style(digit, np.random.default_rng(1))
    c = render_canvas_style(digit, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(ink_of(a), ink_of(c))


def test_brush_width_varies():
    digit = synthetic_digit("1")
    areas = [(ink_of(render_canvas_style(digit, np.random.default_rng(s))) > 0.5).sum() for s in range(30)]
    heights = []
    for s in range(30):
        rows = np.flatnonzero(ink_of(render_canvas_style(digit, np.random.default_rng(s))).any(axis=1))
        heights.append(rows[-1] - rows[0] + 1)
    widths = np.array(areas) / np.array(heights)  # a "1" is one stroke: area / length = brush width
    assert widths.min() >= 5 and widths.max() <= 40
    assert widths.max() - widths.min() > 8


@pytest.mark.parametrize(("start", "target"), [(6, 20), (4, 30), (24, 10), (12, 12)])
def test_stroke_width_is_set_to_the_brush(start, target):
    mask = np.zeros((200, 200), bool)
    mask[30:170, 100 - start // 2 : 100 - start // 2 + start] = True  # a vertical stroke
    mask[100 - start // 2 : 100 - start // 2 + start, 40:160] = True  # crossed by a horizontal one
    out = _set_width(mask, target)
    width = (out[60:80].sum(axis=1)).mean()  # row width of the vertical stroke, away from the crossing
    assert abs(width - target) <= 2.5


def test_preprocessed_rendering_resembles_the_digit():
    scores = []
    for name in STROKES:
        digit = synthetic_digit(name)
        for seed in range(25):
            back = preprocess_digit(render_canvas_style(digit, np.random.default_rng(seed)))
            scores.append(corr(back, digit))
    scores = np.array(scores)
    assert np.median(scores) > 0.8
    assert np.mean(scores > 0.7) >= 0.8


def test_batch_matches_single_renders():
    digits = np.stack([synthetic_digit(n) for n in ("1", "4", "7")])
    batch = render_canvas_batch(digits.reshape(3, 784), np.random.default_rng(5), canvas_size=140)
    assert batch.shape == (3, 140, 140, 4) and batch.dtype == np.uint8
    rng = np.random.default_rng(5)
    for digit, canvas in zip(digits, batch, strict=True):
        np.testing.assert_array_equal(canvas, render_canvas_style(digit, rng, canvas_size=140))


def test_empty_digit_and_bad_shapes_are_refused():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="no ink"):
        render_canvas_style(np.zeros((28, 28), np.float32), rng)
    with pytest.raises(ValueError, match="784"):
        render_canvas_batch(np.zeros((2, 10), np.float32), rng)


@pytest.mark.real_data
def test_real_mnist_digits_survive_canvas_rendering(mnist_root):
    digits = load_split("mnist", "test", mnist_root)[0][:100]
    canvases = render_canvas_batch(digits, np.random.default_rng(7))
    scores = np.array([corr(preprocess_digit(c), d) for c, d in zip(canvases, digits, strict=True)])
    assert np.median(scores) > 0.8
    assert np.mean(scores > 0.6) >= 0.9


def _ink_box(canvas: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the ink on a rendered canvas."""
    ink = ink_of(canvas) > 0.5
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def test_a_style_fixes_size_and_puts_the_digit_in_a_corner():
    from nn_core.images.canvas import CanvasStyle

    digit = synthetic_digit("7")
    for seed in range(4):
        canvas = render_canvas_style(
            digit, np.random.default_rng(seed), style=CanvasStyle(height=1 / 3, off_centre=True)
        )
        top, bottom, left, right = _ink_box(canvas)
        assert 80 <= bottom - top <= 110  # about a third of 280, plus the brush
        assert min(top, 279 - bottom) <= 30 and min(left, 279 - right) <= 30  # against a corner


def test_brush_factor_changes_the_stroke_width():
    from nn_core.images.canvas import CanvasStyle

    digit = synthetic_digit("1")
    ink = {
        f: ink_of(
            render_canvas_style(
                digit, np.random.default_rng(3), style=CanvasStyle(height=0.6, brush_factor=f)
            )
        ).sum()
        for f in (0.5, 1.0, 2.0)
    }
    assert ink[0.5] < 0.75 * ink[1.0] and ink[2.0] > 1.4 * ink[1.0]


def test_slant_leans_the_top_to_the_right_for_positive_angles():
    from nn_core.images.canvas import CanvasStyle

    digit = synthetic_digit("1")  # an upright bar

    def lean(slant: float) -> float:
        canvas = render_canvas_style(
            digit, np.random.default_rng(0), style=CanvasStyle(height=0.6, slant=slant)
        )
        ink = ink_of(canvas) > 0.5
        rows = np.flatnonzero(ink.any(axis=1))
        top_cols = np.flatnonzero(ink[rows[0] + 5])
        bottom_cols = np.flatnonzero(ink[rows[-1] - 5])
        return float(top_cols.mean() - bottom_cols.mean())

    assert lean(20.0) > 15 and lean(-20.0) < -15 and abs(lean(0.0)) < 10
