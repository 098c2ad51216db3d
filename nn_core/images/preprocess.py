"""Turn a free drawing or a photo of a digit into an MNIST-format image.

MNIST digits were made by fitting each digit's bounding box into 20x20 pixels (aspect ratio kept,
anti-aliased) and pasting the result into a 28x28 field so that the centre of mass sits at the centre.
This module repeats those steps for drawing-canvas images (RGBA, white ink on black, possibly transparent)
and for photos (dark ink on light, slightly uneven paper), so a model trained on MNIST sees the same kind
of input. Centre convention: rows and columns are indexed 0..27 and the centre of mass is moved to
(14, 14) by a whole-pixel shift, which is where MNIST's own digits sit (test set means 13.99 and 14.01;
all but one of the 70,000 digits lie within half a pixel). The shift is clipped so no ink leaves the field; only a very
lopsided shape can then end up more than half a pixel off centre, touching the field's edge.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from nn_core.images.image_files import ImageFileError as ImageFileError  # re-exported
from nn_core.images.image_files import load_image, to_grayscale

FIELD = 28  # output side, pixels
BOX = 20  # the ink's bounding box is scaled to fit BOX x BOX
CENTRE = 14.0  # target centre of mass (row, column), pixel indices
WORK_SIZE = 560  # larger inputs are first reduced (area average) to this many pixels on the long side
MIN_CONTRAST = 0.08  # ink must differ from the background by this much (of full scale) to count
NOISE_SIGMAS = 5.0  # anything within this many noise deviations of the background is not ink
FAINT = 0.002  # ink below this fraction of the strongest ink is numerical dust (half an 8-bit step)
STRONG = 0.05  # ink above this fraction counts on its own; fainter ink only within NEAR pixels of it
NEAR = 2  # anti-aliasing fringe lies next to strokes; isolated faint specks (JPEG artefacts) do not


class EmptyDrawingError(ValueError):
    """The image has no ink that stands out from its background."""

    def __init__(self, message: str = "The drawing is empty: draw a digit first.") -> None:
        super().__init__(message)


def _resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Pillow resampling of a float image: area average when shrinking, bilinear when enlarging."""
    shrink = width <= a.shape[1] and height <= a.shape[0]
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    im = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32))
    return np.asarray(im.resize((width, height), method), dtype=np.float32)


def _limit_size(gray: np.ndarray, side: int) -> np.ndarray:
    h, w = gray.shape
    if max(h, w) <= side:
        return gray
    s = side / max(h, w)
    return _resize(gray, max(1, round(w * s)), max(1, round(h * s)))


def _looks_dark_on_light(gray: np.ndarray) -> bool:
    """True when the image departs from its typical (median) level more towards dark than light.

    Ink is assumed to cover less than half of the image, so the median is the background.
    """
    level = np.median(gray)
    darker = np.clip(level - gray, 0, None).sum()
    lighter = np.clip(gray - level, 0, None).sum()
    return bool(darker > lighter)


def _background_plane(ink: np.ndarray) -> np.ndarray:
    """Robust plane a + b*x + c*y through the background (the darkest 30% of pixels), shape like ink."""
    small = _limit_size(ink, 64)
    sh, sw = small.shape
    v, u = np.mgrid[0:sh, 0:sw]
    design = np.stack([np.ones(sh * sw), (u.ravel() + 0.5) / sw, (v.ravel() + 0.5) / sh], axis=1)
    z = small.ravel().astype(np.float64)
    mask = z <= np.quantile(z, 0.3)
    for _ in range(3):
        rows = design[mask]
        ridge = np.sqrt(1e-3 * len(rows)) * np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # damps tilt
        coef = np.linalg.lstsq(np.vstack([rows, ridge]), np.concatenate([z[mask], [0.0, 0.0]]), rcond=None)[0]
        resid = z - design @ coef
        mask = resid <= np.quantile(resid, 0.3)
    h, w = ink.shape
    x = (np.arange(w) + 0.5) / w
    y = (np.arange(h) + 0.5) / h
    return (coef[0] + coef[1] * x[None, :] + coef[2] * y[:, None]).astype(np.float32)


def _near(mask: np.ndarray, r: int) -> np.ndarray:
    """Pixels within r (chessboard distance) of a True pixel of mask."""
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for d in range(1, min(r, n - 1) + 1):
            lead = [slice(None)] * 2
            lag = [slice(None)] * 2
            lead[axis], lag[axis] = slice(d, None), slice(None, n - d)
            out[tuple(lead)] |= src[tuple(lag)]
            out[tuple(lag)] |= src[tuple(lead)]
    return out


def _isolate_ink(ink: np.ndarray) -> np.ndarray:
    """Remove the background and noise; strongest ink becomes 1. Raises EmptyDrawingError.

    Hysteresis threshold: ink above the strong cut stays, fainter ink (down to the faint cut) stays only
    next to strong ink, so anti-aliased edges keep their grey levels and stray specks go.
    """
    resid = ink - _background_plane(ink)
    q05, q30 = np.quantile(resid, [0.05, 0.30])
    sigma = (q30 - q05) / 1.121  # Gaussian noise: q30 - q05 = 1.121 sigma (robust to 70% ink)
    level = q30 + 0.524 * sigma  # background mean
    peak = float(resid.max())
    contrast = peak - level
    if contrast < MIN_CONTRAST:
        raise EmptyDrawingError()
    faint = level + max(NOISE_SIGMAS * sigma, FAINT * contrast)
    strong = level + max(NOISE_SIGMAS * sigma, STRONG * contrast)
    if faint >= peak:
        raise EmptyDrawingError()
    keep = (resid > faint) & _near(resid > strong, NEAR)
    return np.where(keep, (resid - level) / contrast, 0.0).astype(np.float32)


def _fit_box(patch: np.ndarray) -> np.ndarray:
    """Scale a cropped digit to fit BOX x BOX with its aspect ratio kept; max becomes 1."""
    ph, pw = patch.shape
    s = BOX / max(ph, pw)
    small = np.clip(_resize(patch, max(1, round(pw * s)), max(1, round(ph * s))), 0.0, 1.0)
    peak = float(small.max())
    if peak <= 0:
        raise EmptyDrawingError()
    return small / np.float32(peak)


def _paste_centred(small: np.ndarray) -> np.ndarray:
    """Paste (h, w) <= (20, 20) into 28x28 with the centre of mass at CENTRE, shift clipped to fit."""
    h, w = small.shape
    mass = float(small.sum())
    cy = float(small.sum(axis=1) @ np.arange(h)) / mass
    cx = float(small.sum(axis=0) @ np.arange(w)) / mass
    top = int(np.clip(round(CENTRE - cy), 0, FIELD - h))
    left = int(np.clip(round(CENTRE - cx), 0, FIELD - w))
    out = np.zeros((FIELD, FIELD), np.float32)
    out[top : top + h, left : left + w] = small
    return out


def preprocess_digit(image: np.ndarray, invert: bool | None = None) -> np.ndarray:
    """Convert a drawing or photo of one digit into MNIST format.

    Parameters
    ----------
    image : ndarray of shape (h, w), (h, w, 3) or (h, w, 4), uint8 or float in [0, 1]
    invert : True for dark ink on a light background, False for light on dark, None to decide from
        the image (which way the ink departs from the median level; ink must cover under half)

    Returns
    -------
    ndarray of shape (28, 28), float32 in [0, 1], bright ink on black, max 1, ink within 20x20

    Raises
    ------
    EmptyDrawingError
        If no ink stands out from the background.
    """
    gray = _limit_size(to_grayscale(image), WORK_SIZE)
    guessed = _looks_dark_on_light(gray)
    chosen = guessed if invert is None else invert
    try:
        ink = _isolate_ink(1.0 - gray if chosen else gray)
    except EmptyDrawingError:
        if chosen == guessed:
            raise
        raise EmptyDrawingError(
            f"No ink found with invert={invert}, but the image looks like "
            f"{'dark ink on a light' if guessed else 'light ink on a dark'} background: "
            f"use invert={guessed} or invert=None."
        ) from None
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    patch = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return _paste_centred(_fit_box(patch))


def preprocess_file(source: bytes | str | Path, invert: bool | None = None) -> np.ndarray:
    """``load_image`` then ``preprocess_digit``: an image file to a (28, 28) float32 MNIST-style digit."""
    return preprocess_digit(load_image(source), invert=invert)
