"""Reading image files safely into grayscale arrays: any mode Pillow decodes, size limits, clear errors.

``load_image`` decodes bytes or a path (after checking their size) into an array; ``to_grayscale``
turns any array form (gray, gray+alpha, RGB, RGBA; uint8, bool or float) into float32 in [0, 1],
compositing transparency over black. ``ImageFileError`` says what is wrong with a file.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601 weights, as Pillow's "L" mode


class ImageFileError(ValueError):
    """An image file that cannot be used: unreadable, not an image, damaged or too large."""


def _read_bytes(source: bytes | str | Path, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        size = len(source)
    elif isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise ImageFileError(f"No image file at {path}: check the path.")
        size = path.stat().st_size
    else:
        raise TypeError(f"Expected bytes or a file path; got {type(source).__name__}.")
    if size > max_bytes:
        raise ImageFileError(
            f"The image file is {size:,} bytes; the limit is {max_bytes:,} bytes. Use a smaller image."
        )
    if not isinstance(source, str | Path):
        return bytes(source)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ImageFileError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def _pil_to_gray(im: Image.Image) -> np.ndarray:
    """Grayscale uint8 (h, w); transparent areas are filled with the colour that contrasts the ink."""
    if im.mode in ("I", "F") or im.mode.startswith("I;16"):
        a = np.asarray(im, dtype=np.float64)
        finite = np.isfinite(a)
        if not finite.any():
            raise ImageFileError("Every pixel of this image is NaN or infinite: there is nothing to read.")
        if not finite.all():  # missing pixels (NaN, inf in float TIFFs) take the typical (median) level
            a = np.where(finite, a, np.median(a[finite]))
        hi = float(a.max(initial=0.0))
        top = 1.0 if im.mode == "F" and hi <= 1.0 else 255.0 if hi <= 255 else 65535.0 if hi <= 65535 else hi
        return np.round(np.clip(a / top, 0.0, 1.0) * 255).astype(np.uint8)
    if "A" in im.getbands() or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255
        alpha = rgba[..., 3]
        lum = rgba[..., :3] @ _LUMA
        weight = float(alpha.sum())
        # White ink on a transparent sheet goes over black, dark ink over white.
        back = 0.0 if weight == 0 or float((lum * alpha).sum()) / weight >= 0.5 else 1.0
        gray = lum * alpha + back * (1.0 - alpha)
        return np.round(np.clip(gray, 0.0, 1.0) * 255).astype(np.uint8)
    return np.asarray(im.convert("L"), dtype=np.uint8)


def load_image(
    source: bytes | str | Path, max_bytes: int = 10_000_000, max_pixels: int = 40_000_000
) -> np.ndarray:
    """Decode an image file (PNG, JPEG or any format Pillow reads), upright as its EXIF says.

    Parameters
    ----------
    source : file contents (bytes) or a path
    max_bytes, max_pixels : refuse larger files or images (ImageFileError names the limit)

    Returns
    -------
    ndarray of shape (h, w), uint8 grayscale
    """
    data = _read_bytes(source, max_bytes)
    try:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
            if width * height > max_pixels:
                raise ImageFileError(
                    f"The image is {width}x{height} = {width * height:,} pixels; the limit is "
                    f"{max_pixels:,} pixels. Scale it down first."
                )
            im.load()
            upright = ImageOps.exif_transpose(im)
            return _pil_to_gray(upright)
    except ImageFileError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageFileError(
            "This file is not an image Pillow can read: use a PNG or JPEG file of the digit."
        ) from exc
    except Image.DecompressionBombError as exc:
        raise ImageFileError(f"The image has too many pixels to open safely ({exc}).") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageFileError(
            f"The image file is damaged or truncated ({exc}). Save it again and retry."
        ) from exc


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """Grayscale in [0, 1]; alpha is composited over black (transparent = background).

    Parameters
    ----------
    image : ndarray of shape (h, w), (h, w, 1), (h, w, 2) gray+alpha, (h, w, 3) RGB or (h, w, 4) RGBA;
        uint8 (0..255), bool, or float in [0, 1]

    Returns
    -------
    ndarray of shape (h, w), float32 in [0, 1]
    """
    a = np.asarray(image)
    if a.dtype == bool:
        a = a.astype(np.float32)
    elif np.issubdtype(a.dtype, np.integer):
        if a.size and (int(a.min()) < 0 or int(a.max()) > 255):
            raise ValueError(f"Integer images must hold 0..255; got {a.min()}..{a.max()}.")
        a = a.astype(np.float32) / np.float32(255)
    elif np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise ValueError("The image contains NaN or infinite values.")
        if a.size and (a.min() < -1e-3 or a.max() > 1 + 1e-3):
            raise ValueError(
                f"Float images must be in [0, 1]; got {a.min():.3g}..{a.max():.3g}. "
                "Divide 8-bit values by 255 first."
            )
    else:
        raise ValueError(f"Unsupported image dtype {a.dtype}: use uint8 or float in [0, 1].")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        gray = a
    elif a.ndim == 3 and a.shape[2] == 2:
        gray = a[..., 0] * a[..., 1]
    elif a.ndim == 3 and a.shape[2] in (3, 4):
        gray = a[..., :3] @ _LUMA
        if a.shape[2] == 4:
            gray *= a[..., 3]
    else:
        raise ValueError(f"Expected an image of shape (h, w), (h, w, 3) or (h, w, 4); got {a.shape}.")
    if gray.size == 0:
        raise ValueError(f"The image has no pixels (shape {a.shape}).")
    return np.clip(gray, 0.0, 1.0).astype(np.float32, copy=False)
