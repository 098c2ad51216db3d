"""Tests for nn_core.images.preprocess: drawings and photos to MNIST format, and image file loading."""

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from nn_core.data.local import load_split
from nn_core.images.preprocess import (
    EmptyDrawingError,
    ImageFileError,
    load_image,
    preprocess_digit,
    preprocess_file,
    to_grayscale,
)

SEVEN = [(0.2, 0.15), (0.8, 0.15), (0.45, 0.9)]  # polyline of a "7", in fractions of the canvas
FOUR = [(0.6, 0.9), (0.6, 0.1), (0.15, 0.6), (0.8, 0.6)]


def draw_digit(points=SEVEN, size=(280, 280), width=20, ink=255, paper=0) -> np.ndarray:
    """Freehand-like digit as uint8 (h, w): a round-jointed polyline on a plain background."""
    w, h = size
    img = Image.new("L", (w, h), paper)
    ImageDraw.Draw(img).line([(x * w, y * h) for x, y in points], fill=ink, width=width, joint="curve")
    return np.asarray(img)


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    idx = np.arange(img.shape[0])
    mass = img.sum()
    return float(img.sum(axis=1) @ idx / mass), float(img.sum(axis=0) @ idx / mass)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def assert_mnist_format(out: np.ndarray) -> None:
    """28x28 float32 in [0, 1], ink within 20x20, centre of mass at (14, 14) to within half a pixel.

    The shift that centres the mass is clipped so no ink leaves the field; when that clip is what keeps
    the centre off target, the ink must touch the field's edge on the side it was pushed towards.
    """
    assert out.shape == (28, 28)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert rows[-1] - rows[0] + 1 <= 20 and cols[-1] - cols[0] + 1 <= 20
    for com, ink in zip(centre_of_mass(out), (rows, cols), strict=True):
        if com > 14.5 + 1e-4:
            assert ink[0] == 0
        elif com < 13.5 - 1e-4:
            assert ink[-1] == 27


def test_canvas_drawing_becomes_mnist_format():
    out = preprocess_digit(draw_digit())
    assert_mnist_format(out)
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 == 20  # the long side fills the box
    assert all(abs(c - 14.0) <= 0.5 for c in centre_of_mass(out))


@st.composite
def drawings(draw):
    """Random blobs and lines on a random-size canvas, either polarity: (uint8 (h, w), ink mask)."""
    h, w = draw(st.integers(8, 300)), draw(st.integers(8, 300))
    img = Image.new("L", (w, h), 0)
    pen = ImageDraw.Draw(img)
    for _ in range(draw(st.integers(1, 4))):
        xs = sorted(draw(st.integers(0, w - 1)) for _ in range(2))
        ys = sorted(draw(st.integers(0, h - 1)) for _ in range(2))
        level = draw(st.integers(80, 255))
        if draw(st.booleans()):
            width = draw(st.integers(1, max(1, min(h, w) // 4)))
            pen.line([(xs[0], ys[draw(st.integers(0, 1))]), (xs[1], ys[1])], fill=level, width=width)
        else:
            pen.ellipse([xs[0], ys[0], xs[1], ys[1]], fill=level)
    a = np.asarray(img)
    return (255 - a if draw(st.booleans()) else a), a > 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(drawings())
def test_any_drawing_gives_mnist_format(drawing):
    image, ink = drawing
    assume(0 < ink.mean() < 0.5)  # ink covers less than half: a drawing, not a filled sheet
    assert_mnist_format(preprocess_digit(image))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((280, 280), np.uint8),
        np.full((50, 70), 255, np.uint8),
        np.ones((28, 28), np.float32),
        np.full((100, 100, 3), 128, np.uint8),
        np.zeros((280, 280, 4), np.uint8),  # transparent canvas
        np.concatenate([np.full((280, 280, 3), 255, np.uint8), np.zeros((280, 280, 1), np.uint8)], 2),
    ],
    ids=["black", "white", "white-float", "grey-rgb", "transparent", "transparent-white-rgb"],
)
def test_empty_images_raise(image):
    with pytest.raises(EmptyDrawingError, match="draw a digit"):
        preprocess_digit(image)


def test_paper_noise_alone_is_empty():
    rng = np.random.default_rng(0)
    paper = np.clip(0.8 + rng.normal(0, 0.02, (200, 150)), 0, 1).astype(np.float32)
    with pytest.raises(EmptyDrawingError):
        preprocess_digit(paper)


@pytest.mark.parametrize("points", [SEVEN, FOUR])
def test_dark_on_light_matches_light_on_dark(points):
    light_on_dark = preprocess_digit(draw_digit(points))
    dark_on_light = draw_digit(points, ink=0, paper=255)
    np.testing.assert_allclose(preprocess_digit(dark_on_light), light_on_dark, atol=1e-5)
    np.testing.assert_allclose(preprocess_digit(dark_on_light, invert=True), light_on_dark, atol=1e-5)
    with pytest.raises(EmptyDrawingError, match="invert=True or invert=None"):
        preprocess_digit(dark_on_light, invert=False)  # the wrong polarity: the paper cannot be ink


def test_rgba_canvas_with_transparent_background():
    gray = draw_digit(FOUR, width=25)
    opaque = np.dstack([gray, gray, gray, np.full_like(gray, 255)])
    transparent = np.dstack([np.full_like(gray, 255)] * 3 + [gray])  # white everywhere, alpha = ink
    expected = preprocess_digit(gray)
    np.testing.assert_allclose(preprocess_digit(opaque), expected, atol=1e-5)
    np.testing.assert_allclose(preprocess_digit(transparent), expected, atol=1e-5)


def test_canvas_png_bytes_match_the_canvas_array():
    """The drawing component hands over either the RGBA array or the PNG bytes of the same canvas."""
    gray = draw_digit(SEVEN, width=18)
    canvas = np.dstack([np.full_like(gray, 255)] * 3 + [gray])  # transparent sheet, white paint
    buffer = io.BytesIO()
    Image.fromarray(canvas, "RGBA").save(buffer, "PNG")
    np.testing.assert_allclose(preprocess_file(buffer.getvalue()), preprocess_digit(canvas), atol=1e-5)


def test_photo_on_uneven_noisy_paper_matches_clean_drawing():
    """Pencil halves the paper's brightness; the light falls off across the sheet by more than that."""
    h, w = 400, 300
    ink = draw_digit(FOUR, size=(w, h), width=18).astype(np.float32) / 255
    yy, xx = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    paper = 0.55 + 0.3 * xx + 0.1 * yy
    rng = np.random.default_rng(1)
    photo = paper * (1 - 0.5 * ink) + rng.normal(0, 0.02, (h, w))
    photo = np.round(np.clip(photo, 0, 1) * 255).astype(np.uint8)
    out = preprocess_digit(photo)
    assert_mnist_format(out)
    assert corr(out, preprocess_digit(ink)) > 0.95


def test_faint_specks_away_from_ink_are_ignored_but_fringe_is_kept():
    clean = draw_digit(SEVEN, width=16)
    specked = clean.copy()
    specked[270:273, 5:8] = 9  # faint JPEG-like smudge far from the strokes
    np.testing.assert_array_equal(preprocess_digit(specked), preprocess_digit(clean))
    mnist_like = preprocess_digit(clean)
    assert np.any((mnist_like > 0) & (mnist_like < 0.02))  # faint anti-aliased edge pixels survive
    np.testing.assert_array_equal(preprocess_digit(mnist_like), mnist_like)  # already in format: unchanged


def test_scale_of_the_drawing_barely_matters():
    small = draw_digit(SEVEN, size=(140, 140), width=12)
    large = draw_digit(SEVEN, size=(1400, 1400), width=120)  # also exercises the early size reduction
    assert corr(preprocess_digit(small), preprocess_digit(large)) > 0.95


def test_to_grayscale_conversions():
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, 0] = (255, 0, 0)
    rgb[1, 2] = (255, 255, 255)
    g = to_grayscale(rgb)
    assert g.shape == (2, 3) and g.dtype == np.float32
    assert g[0, 0] == pytest.approx(0.299, abs=1e-6) and g[1, 2] == pytest.approx(1.0)
    rgba = np.dstack([rgb, np.array([[128, 255, 255], [255, 255, 0]], np.uint8)])
    ga = to_grayscale(rgba)
    assert ga[0, 0] == pytest.approx(0.299 * 128 / 255, abs=1e-6)
    assert ga[1, 2] == 0.0  # transparent white is background
    np.testing.assert_allclose(to_grayscale(np.full((4, 5), 0.25)), 0.25)
    assert to_grayscale(np.ones((4, 5), bool)).max() == 1.0
    with pytest.raises(ValueError, match="Divide"):
        to_grayscale(np.full((4, 4), 200.0))
    with pytest.raises(ValueError, match="shape"):
        to_grayscale(np.zeros((4, 4, 5)))


def test_load_png_and_jpeg(tmp_path):
    gray = draw_digit(FOUR, size=(120, 90), width=9)
    Image.fromarray(gray).save(tmp_path / "d.png")
    Image.fromarray(np.dstack([gray] * 3)).save(tmp_path / "d.jpg", quality=95)
    png, jpg = load_image(tmp_path / "d.png"), load_image(str(tmp_path / "d.jpg"))
    assert png.dtype == np.uint8 and png.shape == (90, 120)
    np.testing.assert_array_equal(png, gray)
    assert jpg.shape == (90, 120) and np.abs(jpg.astype(int) - gray).mean() < 3
    np.testing.assert_array_equal(load_image((tmp_path / "d.png").read_bytes()), gray)
    assert corr(preprocess_file(tmp_path / "d.jpg"), preprocess_digit(gray)) > 0.95  # lossy


def test_load_transparent_png_fills_by_ink_colour(tmp_path):
    gray = draw_digit(SEVEN, size=(60, 60), width=6)
    white_ink = np.dstack([np.full_like(gray, 255)] * 3 + [gray])
    black_ink = np.dstack([np.zeros_like(gray)] * 3 + [gray])
    Image.fromarray(white_ink, "RGBA").save(tmp_path / "w.png")
    Image.fromarray(black_ink, "RGBA").save(tmp_path / "b.png")
    np.testing.assert_array_equal(load_image(tmp_path / "w.png"), gray)
    np.testing.assert_array_equal(load_image(tmp_path / "b.png"), 255 - gray)


def test_exif_orientation_is_applied(tmp_path):
    a = np.zeros((10, 20), np.uint8)
    a[1, 2] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(a).save(tmp_path / "r.png", exif=exif.tobytes())
    np.testing.assert_array_equal(load_image(tmp_path / "r.png"), np.rot90(a, -1))


def test_bad_files_are_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("seven, I think\n")
    with pytest.raises(ImageFileError, match="not an image"):
        load_image(tmp_path / "notes.txt")
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(2).integers(0, 256, (64, 64), np.uint8)).save(buffer, "PNG")
    with pytest.raises(ImageFileError, match="damaged or truncated"):
        load_image(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageFileError, match="No image file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageFileError, match="not an image"):
        load_image(b"")


def test_oversized_images_are_refused(tmp_path):
    Image.new("L", (300, 200)).save(tmp_path / "big.png")
    with pytest.raises(ImageFileError, match="60,000 pixels; the limit is 50,000"):
        load_image(tmp_path / "big.png", max_pixels=50_000)
    size = (tmp_path / "big.png").stat().st_size
    with pytest.raises(ImageFileError, match=f"{size:,} bytes; the limit is 100 bytes"):
        load_image(tmp_path / "big.png", max_bytes=100)
    with pytest.raises(ImageFileError, match="limit is 100 bytes"):
        load_image((tmp_path / "big.png").read_bytes(), max_bytes=100)


def _mnist_test_images(root: Path, count: int) -> np.ndarray:
    """The first ``count`` MNIST test images, uint8 (count, 28, 28), through the data layer."""
    return load_split("mnist", "test", root)[0][:count]


@pytest.mark.real_data
def test_real_mnist_digits_pass_through_unchanged(mnist_root):
    """MNIST was made by this very recipe, so its digits are already in the target format."""
    digits = _mnist_test_images(mnist_root, 300)
    for digit in digits:
        out = preprocess_digit(digit)
        assert corr(out, digit) > 0.9
        assert_mnist_format(out)


@pytest.mark.real_data
def test_real_mnist_digits_survive_a_canvas_sized_round_trip(mnist_root):
    """Blown up to 280x280 and shrunk back, a digit must stay close to the original."""
    digits = _mnist_test_images(mnist_root, 100)
    scores = []
    for digit in digits:
        big = np.asarray(Image.fromarray(digit).resize((280, 280), Image.Resampling.BILINEAR))
        scores.append(corr(preprocess_digit(big), digit))
    assert np.median(scores) > 0.9
    assert np.mean(np.array(scores) > 0.8) >= 0.9
