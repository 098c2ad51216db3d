"""Re-render MNIST digits the way the app's drawing canvas produces them.

The canvas is a 280x280 RGBA image with white freehand strokes from a round brush on black (or on a
transparent sheet). MNIST digits are small, grey and anti-aliased, so a model that scores well on them
can still stumble on canvas input. This module turns each MNIST digit into a plausible canvas drawing:
a random size (digit height 35%-80% of the canvas) at a random place fully inside it, strokes of a random
brush width (10-30 pixels, thinner for small digits) with hard edges and a one-pixel anti-aliased rim,
on an opaque black or a transparent background. Putting these through ``preprocess_digit`` gives the
robustness test set that measures how well a model handles real drawings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from nn_core.images.preprocess import preprocess_digit, to_grayscale

HEIGHT_RANGE = (0.35, 0.80)  # digit height as a fraction of the canvas side
MAX_WIDTH = 0.80  # digit width as a fraction of the canvas side, at most
BRUSH_RANGE = (10.0, 30.0)  # brush (stroke) width in canvas pixels
BRUSH_PER_HEIGHT = 0.25  # ... but at most this fraction of the digit height
THRESHOLD_RANGE = (0.25, 0.5)  # level at which the smoothly enlarged digit is cut into ink / no ink
EDGE_BLUR = 0.6  # Gaussian radius (pixels) that softens the stroke edge ...
EDGE_GAIN = 2.0  # ... then a contrast stretch about mid-grey keeps the grey rim about one pixel wide


@dataclass(frozen=True)
class CanvasStyle:
    """Fixed choices for a robustness variation; the defaults draw everything at random as described.

    height : digit height as a fraction of the canvas side (None: random in ``HEIGHT_RANGE``)
    brush_factor : the random brush width times this (0.5: strokes twice thinner, 2: twice thicker)
    slant : degrees the digit leans, positive to the right at the top (italic)
    off_centre : put the digit against a random corner of the canvas instead of anywhere inside it
    """

    height: float | None = None
    brush_factor: float = 1.0
    slant: float = 0.0
    off_centre: bool = False


PLAIN = CanvasStyle()
# the robustness figures: canvas-style drawings as they come, then one thing pushed to an extreme
VARIATIONS: dict[str, CanvasStyle] = {
    "canvas-style": PLAIN,
    "strokes 2x thinner": CanvasStyle(brush_factor=0.5),
    "strokes 2x thicker": CanvasStyle(brush_factor=2.0),
    "a third of the canvas, off-centre": CanvasStyle(height=1 / 3, off_centre=True),
    "slanted +20°": CanvasStyle(slant=20.0),
    "slanted -20°": CanvasStyle(slant=-20.0),
}


def _slanted(digit: np.ndarray, degrees: float) -> np.ndarray:
    """The (h, w) float digit leaning by ``degrees`` (top to the right when positive), padded to fit."""
    t = float(np.tan(np.deg2rad(degrees)))
    h, w = digit.shape
    pad = int(np.ceil(abs(t) * h / 2)) + 1
    image = Image.fromarray(np.pad(digit.astype(np.float32), ((0, 0), (pad, pad))), mode="F")
    centre = (h - 1) / 2.0
    # output (x, y) samples the source at (x - t * (centre - y), y)
    coeffs = (1.0, t, -t * centre, 0.0, 1.0, 0.0)
    out = image.transform(image.size, Image.Transform.AFFINE, coeffs, resample=Image.Resampling.BILINEAR)
    return np.clip(np.asarray(out), 0.0, 1.0)


def _shift_or(mask: np.ndarray, axis: int) -> np.ndarray:
    """mask OR its one-pixel shifts both ways along axis (outside counts as False)."""
    out = mask.copy()
    lead, lag = [slice(None)] * 2, [slice(None)] * 2
    lead[axis], lag[axis] = slice(1, None), slice(None, -1)
    out[tuple(lead)] |= mask[tuple(lag)]
    out[tuple(lag)] |= mask[tuple(lead)]
    return out


def _dilate(mask: np.ndarray, step: int) -> np.ndarray:
    """One dilation step; odd steps use a 3x3 square, even steps a plus, so repeats grow an octagon."""
    if step % 2:
        return _shift_or(_shift_or(mask, 0), 1)
    return _shift_or(mask, 0) | _shift_or(mask, 1)


def _stroke_width(mask: np.ndarray) -> float:
    """Typical stroke width: a stroke of width w and length L has area w*L and about 2*L edge pixels."""
    inner = ~_dilate(~mask, 0)  # eroded by a plus
    edge = int((mask & ~inner).sum())
    return 2.0 * float(mask.sum()) / max(edge, 1)


def _set_width(mask: np.ndarray, target: float) -> np.ndarray:
    """Dilate or erode until the stroke width is near target (never erode below 40% of the ink)."""
    steps = int(np.clip(round((target - _stroke_width(mask)) / 2.0), -15, 15))
    area = mask.sum()
    for i in range(abs(steps)):
        if steps > 0:
            mask = _dilate(mask, i + 1)
        else:
            thinner = ~_dilate(~mask, i + 1)
            if thinner.sum() < 0.4 * area:
                break
            mask = thinner
    return mask


def _digit_mask(
    digit: np.ndarray, rng: np.random.Generator, canvas_size: int, style: CanvasStyle = PLAIN
) -> np.ndarray:
    """Boolean ink mask of the digit at canvas scale, cropped to its ink, with a random brush width."""
    rows = np.flatnonzero((digit > 0.1).any(axis=1))
    cols = np.flatnonzero((digit > 0.1).any(axis=0))
    crop = np.pad(digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], 2)  # room for the smoothing
    ch, cw = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    height = (rng.uniform(*HEIGHT_RANGE) if style.height is None else style.height) * canvas_size
    scale = float(min(height / ch, MAX_WIDTH * canvas_size / cw))
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    big = Image.fromarray(crop).resize(size, Image.Resampling.BICUBIC)
    big = Image.fromarray(np.round(np.clip(np.asarray(big) / crop.max(), 0, 1) * 255).astype(np.uint8))
    smooth = np.asarray(big.filter(ImageFilter.GaussianBlur(0.5 * scale)))  # round off the pixel steps
    mask = smooth > rng.uniform(*THRESHOLD_RANGE) * smooth.max()
    brush = min(rng.uniform(*BRUSH_RANGE), BRUSH_PER_HEIGHT * ch * scale) * style.brush_factor
    mask = _set_width(np.pad(mask, 16), brush)
    r = np.flatnonzero(mask.any(axis=1))
    c = np.flatnonzero(mask.any(axis=0))
    mask = np.pad(mask[r[0] : r[-1] + 1, c[0] : c[-1] + 1], 2)  # 2 px of room for the anti-aliased rim
    if max(mask.shape) > canvas_size:  # only for extreme inputs: shrink to fit
        s = canvas_size / max(mask.shape)
        im = Image.fromarray(mask.astype(np.uint8) * 255)
        shrunk = im.resize(
            (max(1, int(mask.shape[1] * s)), max(1, int(mask.shape[0] * s))), Image.Resampling.BOX
        )
        mask = np.asarray(shrunk) >= 128
    return mask


def render_canvas_style(
    digit: np.ndarray, rng: np.random.Generator, canvas_size: int = 280, style: CanvasStyle = PLAIN
) -> np.ndarray:
    """Draw one digit the way the drawing canvas would.

    Parameters
    ----------
    digit : ndarray of shape (28, 28) (any 2-D size works), uint8 or float in [0, 1], bright ink on dark
    rng : numpy Generator for size, position, brush width and background kind
    canvas_size : side of the square canvas in pixels
    style : fixed size, brush, slant or placement for robustness variations (random by default)

    Returns
    -------
    ndarray of shape (canvas_size, canvas_size, 4), uint8 RGBA: white ink; the background is opaque
    black (alpha 255) or transparent (alpha 0), chosen at random; rim pixels are partly grey/transparent
    """
    d = to_grayscale(digit)
    if d.max() <= 0.1:
        raise ValueError("The digit has no ink to draw: pass an image with bright strokes on dark.")
    if canvas_size < 32:
        raise ValueError(f"canvas_size must be at least 32 pixels; got {canvas_size}.")
    if style.slant:
        d = _slanted(d, style.slant)
    mask = _digit_mask(d, rng, canvas_size, style)
    soft = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.GaussianBlur(EDGE_BLUR))
    ink = np.asarray(soft).astype(np.float32)
    ink = np.clip((ink - 127.5) * EDGE_GAIN + 127.5, 0, 255).round().astype(np.uint8)
    # ink: (h, w) uint8, 255 inside strokes, a one-pixel anti-aliased rim, 0 outside
    h, w = ink.shape
    if style.off_centre:  # against a corner, a few pixels from its edges
        margin = int(rng.integers(0, max(1, (canvas_size - max(h, w)) // 10) + 1))
        top = margin if rng.random() < 0.5 else canvas_size - h - margin
        left = margin if rng.random() < 0.5 else canvas_size - w - margin
        top, left = max(0, top), max(0, left)
    else:
        top = int(rng.integers(0, canvas_size - h + 1))
        left = int(rng.integers(0, canvas_size - w + 1))
    canvas = np.zeros((canvas_size, canvas_size, 4), np.uint8)
    window = canvas[top : top + h, left : left + w]
    if rng.random() < 0.5:  # opaque black sheet
        canvas[..., 3] = 255
        window[..., :3] = ink[..., None]
    else:  # transparent sheet: white paint whose coverage is the alpha
        window[..., :3] = np.where(ink > 0, 255, 0)[..., None]
        window[..., 3] = ink
    return canvas


def render_canvas_batch(
    digits: np.ndarray, rng: np.random.Generator, canvas_size: int = 280, style: CanvasStyle = PLAIN
) -> np.ndarray:
    """Render many digits; memory is n * canvas_size**2 * 4 bytes (313 KB per 280x280 image).

    Parameters
    ----------
    digits : ndarray of shape (n, 28, 28) or (n, 784), uint8 or float in [0, 1]

    Returns
    -------
    ndarray of shape (n, canvas_size, canvas_size, 4), uint8 RGBA
    """
    digits = np.asarray(digits)
    if digits.ndim == 2 and digits.shape[1] == 784:
        digits = digits.reshape(-1, 28, 28)
    if digits.ndim != 3:
        raise ValueError(f"Expected digits of shape (n, 28, 28) or (n, 784); got {digits.shape}.")
    out = np.empty((len(digits), canvas_size, canvas_size, 4), np.uint8)
    for i, digit in enumerate(digits):
        out[i] = render_canvas_style(digit, rng, canvas_size, style)
    return out


def canvas_test_set(
    digits: np.ndarray, labels: np.ndarray, n: int, seed: int = 2024, style: CanvasStyle = PLAIN
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` digits picked at random, drawn in ``style`` and put through the Draw page's preprocessing.

    Parameters
    ----------
    digits : ndarray of shape (N, 28, 28), uint8 (a test split)
    labels : ndarray of shape (N,)

    Returns
    -------
    X : ndarray of shape (n, 784), float32 network inputs; y : ndarray of shape (n,), their labels
    """
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(labels), size=n, replace=False)
    X = np.stack([preprocess_digit(render_canvas_style(digits[i], rng, style=style)) for i in pick])
    return X.reshape(n, 784).astype(np.float32), np.asarray(labels)[pick]
