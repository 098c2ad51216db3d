"""Thicker and thinner strokes for 28x28 digit batches (grey-level morphology), vectorized.

A drawing's strokes after preprocessing can be one pixel wide (a thin pen on a large digit) or five
(a thick pen on a small one), while MNIST's are mostly two to three. Training on digits whose strokes
were thickened or thinned at random teaches a model to ignore the width. One step of thickening is a
grey dilation (the maximum over a pixel's 3x3 neighbourhood), one step of thinning a grey erosion (the
minimum over its plus-shaped neighbourhood, which takes off less than the square); a fractional amount
blends linearly between whole steps, so widths change smoothly. Thinning keeps strokes bright: the
eroded image is rescaled so its brightest pixel keeps the original's brightness; a step that would
erase every stroke (all of them about a pixel wide) is not taken.
"""

from __future__ import annotations

import numpy as np

from nn_core.images.augment import SIDE, as_image_batch

MAX_STEPS = 4.0  # largest |amount|: four dilation or erosion steps


def _neighbour_reduce(images: np.ndarray, square: bool, op: np.ufunc) -> np.ndarray:
    """Max (or min) over each pixel's 3x3 square (or plus) neighbourhood; outside counts as 0.

    images : ndarray of shape (n, 28, 28), float32. Returns a new array of the same shape.
    """
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))  # (n, 30, 30)
    out = images.copy()
    offsets = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if square:
        offsets += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    for dr, dc in offsets:
        op(out, padded[:, 1 + dr : 1 + dr + SIDE, 1 + dc : 1 + dc + SIDE], out=out)
    return out


def dilate(images: np.ndarray) -> np.ndarray:
    """One thickening step: the maximum over each pixel's 3x3 neighbourhood. (n, 28, 28) -> same."""
    return _neighbour_reduce(images, True, np.maximum)


def erode(images: np.ndarray) -> np.ndarray:
    """One thinning step: the minimum over each pixel's plus-shaped neighbourhood. (n, 28, 28) -> same."""
    return _neighbour_reduce(images, False, np.minimum)


def change_stroke_width(images: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Thicken (amount > 0) or thin (amount < 0) each image's strokes by ``|amount|`` steps.

    Parameters
    ----------
    images : ndarray of shape (n, 784) or (n, 28, 28), float32 in [0, 1], bright ink on dark
    amounts : ndarray of shape (n,), each in [-4, 4]; 0 leaves the image as it is

    Returns
    -------
    new ndarray with the shape and dtype of ``images``, values in [0, 1]
    """
    maps = as_image_batch(np.asarray(images))
    amounts = np.asarray(amounts, dtype=np.float32)
    if amounts.shape != (len(maps),):
        raise ValueError(f"Expected one amount per image, shape ({len(maps)},); got {amounts.shape}.")
    if not (np.isfinite(amounts).all() and np.abs(amounts).max(initial=0) <= MAX_STEPS):
        raise ValueError(f"Stroke-width amounts must lie in [-{MAX_STEPS:g}, {MAX_STEPS:g}].")
    out = maps.astype(np.float32, copy=True)
    for sign, step in ((1, dilate), (-1, erode)):
        chosen = np.flatnonzero(amounts * sign > 0)
        if not len(chosen):
            continue
        level = np.abs(amounts[chosen])  # (k,)
        current = out[chosen]  # (k, 28, 28)
        peak = current.max(axis=(1, 2), keepdims=True)
        for whole in range(int(np.ceil(level.max()))):
            part = np.clip(level - whole, 0.0, 1.0)[:, None, None]  # share of this step still to apply
            nxt = step(current)
            if sign < 0:  # keep the brightest ink as bright as before; never erase the digit
                left = nxt.max(axis=(1, 2), keepdims=True)  # (k, 1, 1)
                nxt *= peak / np.maximum(left, 1e-6)
                nxt = np.where(left > 0, nxt, current)
            current = current + part * (nxt - current)
        out[chosen] = np.clip(current, 0.0, 1.0)
    return out.reshape(np.shape(images))


def random_stroke_width(
    images: np.ndarray, rng: np.random.Generator, low: float = -1.0, high: float = 1.5
) -> np.ndarray:
    """Change every image's stroke width by an amount drawn uniformly from [low, high] steps.

    images : ndarray of shape (n, 784) or (n, 28, 28), float32 in [0, 1]. Returns a new array like it.
    """
    if not (-MAX_STEPS <= low <= high <= MAX_STEPS):
        raise ValueError(f"Need -{MAX_STEPS:g} <= low <= high <= {MAX_STEPS:g}; got {low}, {high}.")
    n = len(as_image_batch(np.asarray(images)))
    return change_stroke_width(images, rng.uniform(low, high, size=n).astype(np.float32))
