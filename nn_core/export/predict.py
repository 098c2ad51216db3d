"""Classify images of handwritten digits with a network exported from Digit Lab (NumPy + Pillow only).

    python predict.py digit.png photo.jpg [--json] [--weights weights.npz]

Each image becomes a 28x28 MNIST-style digit the way Digit Lab makes one: grayscale, the background
(a fitted plane) removed, ink found by a hysteresis threshold, cropped, fitted into 20x20 and pasted
into 28x28 with its centre of mass at (14, 14). The network in weights.npz then gives probabilities:
dense layers on rows (n, features); convolution, pooling and batch norm on channels-last feature maps
(n, height, width, channels), flattened in that order before the first dense layer.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image, ImageOps

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def read_gray(path: str) -> np.ndarray:
    """An image file as float32 grayscale (h, w) in [0, 1]; transparency goes behind the ink's contrast."""
    with Image.open(path) as im:
        im.load()
        im = ImageOps.exif_transpose(im)
        if im.mode in ("I", "F") or im.mode.startswith("I;16"):
            a = np.asarray(im, dtype=np.float64)
            hi = float(a.max(initial=0.0))
            top = 1.0 if im.mode == "F" and hi <= 1.0 else next(t for t in (255.0, 65535.0, hi) if hi <= t)
            gray = np.round(np.clip(a / top, 0.0, 1.0) * 255)
        elif "A" in im.getbands() or "transparency" in im.info:
            rgba = np.asarray(im.convert("RGBA"), dtype=np.float32) / 255
            alpha, lum = rgba[..., 3], rgba[..., :3] @ LUMA
            weight = float(alpha.sum())
            back = 0.0 if weight == 0 or float((lum * alpha).sum()) / weight >= 0.5 else 1.0
            gray = np.round(np.clip(lum * alpha + back * (1.0 - alpha), 0.0, 1.0) * 255)
        else:
            gray = np.asarray(im.convert("L"))
    return gray.astype(np.uint8).astype(np.float32) / np.float32(255)


def resize(a: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area average when shrinking, bilinear when enlarging."""
    shrink = width <= a.shape[1] and height <= a.shape[0]
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    im = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32))
    return np.asarray(im.resize((width, height), method), dtype=np.float32)


def limit(a: np.ndarray, side: int) -> np.ndarray:
    h, w = a.shape
    s = side / max(h, w)
    return a if s >= 1 else resize(a, max(1, round(w * s)), max(1, round(h * s)))


def background(ink: np.ndarray) -> np.ndarray:
    """A robust plane through the darkest 30% of the pixels (refitted three times), shaped like ink."""
    small = limit(ink, 64)
    sh, sw = small.shape
    v, u = np.mgrid[0:sh, 0:sw]
    design = np.stack([np.ones(sh * sw), (u.ravel() + 0.5) / sw, (v.ravel() + 0.5) / sh], axis=1)
    z = small.ravel().astype(np.float64)
    mask = z <= np.quantile(z, 0.3)
    for _ in range(3):
        rows = design[mask]
        ridge = np.sqrt(1e-3 * len(rows)) * np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        coef = np.linalg.lstsq(np.vstack([rows, ridge]), np.concatenate([z[mask], [0.0, 0.0]]), rcond=None)[0]
        resid = z - design @ coef
        mask = resid <= np.quantile(resid, 0.3)
    h, w = ink.shape
    x, y = (np.arange(w) + 0.5) / w, (np.arange(h) + 0.5) / h
    return (coef[0] + coef[1] * x[None, :] + coef[2] * y[:, None]).astype(np.float32)


def near(mask: np.ndarray, r: int) -> np.ndarray:
    """Pixels within r (chessboard distance) of a True pixel."""
    h, w = mask.shape
    padded, out = np.pad(mask, r), np.zeros_like(mask)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out |= padded[dy : dy + h, dx : dx + w]
    return out


def to_mnist(gray: np.ndarray) -> np.ndarray:
    """A grayscale image (h, w) as a (28, 28) float32 digit, bright ink on black; ValueError if empty."""
    gray = limit(gray, 560)
    level = np.median(gray)
    if np.clip(level - gray, 0, None).sum() > np.clip(gray - level, 0, None).sum():
        gray = 1.0 - gray  # dark ink on light paper
    resid = gray - background(gray)
    q05, q30 = np.quantile(resid, [0.05, 0.30])
    sigma = (q30 - q05) / 1.121  # Gaussian noise: q30 - q05 = 1.121 sigma
    level = q30 + 0.524 * sigma
    peak = float(resid.max())
    contrast = peak - level
    faint = level + max(5.0 * sigma, 0.002 * contrast)
    strong = level + max(5.0 * sigma, 0.05 * contrast)
    if contrast < 0.08 or faint >= peak:
        raise ValueError("no digit found: nothing stands out from the background")
    keep = (resid > faint) & near(resid > strong, 2)
    ink = np.where(keep, (resid - level) / contrast, 0.0).astype(np.float32)
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    patch = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    ph, pw = patch.shape
    s = 20 / max(ph, pw)
    small = np.clip(resize(patch, max(1, round(pw * s)), max(1, round(ph * s))), 0.0, 1.0)
    if float(small.max()) <= 0:
        raise ValueError("no digit found: nothing stands out from the background")
    small = small / np.float32(small.max())
    h, w = small.shape
    mass = float(small.sum())
    cy = float(small.sum(axis=1) @ np.arange(h)) / mass
    cx = float(small.sum(axis=0) @ np.arange(w)) / mass
    top, left = int(np.clip(round(14 - cy), 0, 28 - h)), int(np.clip(round(14 - cx), 0, 28 - w))
    out = np.zeros((28, 28), np.float32)
    out[top : top + h, left : left + w] = small
    return out


def sigmoid(z: np.ndarray) -> np.ndarray:
    return (np.tanh(z * 0.5) + 1.0) * 0.5


def windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Every (kh, kw) window of maps x (n, H, W, C) that starts a stride apart: (n, Ho, Wo, C, kh, kw)."""
    return sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]


def conv(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: int, pads: list) -> np.ndarray:
    """Convolution (cross-correlation) of maps x (n, H, W, C) with W (kh, kw, C, C_out), zero padding
    pads = [top, bottom, left, right]; returns (n, Ho, Wo, C_out)."""
    top, bottom, left, right = pads
    x = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    win = windows(x, W.shape[0], W.shape[1], stride)
    n, ho, wo, c, kh, kw = win.shape
    cols = win.transpose(0, 1, 2, 4, 5, 3).reshape(n * ho * wo, kh * kw * c)  # columns in (kh, kw, C) order
    return (cols @ W.reshape(kh * kw * c, -1) + b).reshape(n, ho, wo, -1)


def probabilities(spec: dict, weights: dict, x: np.ndarray) -> np.ndarray:
    """Class probabilities (n, classes) for digits x (n, 28, 28)."""
    x = x.reshape(len(x), *spec["input"]).astype(np.float32)  # rows (n, 784) or maps (n, 28, 28, 1)
    for layer in spec["layers"]:
        kind = layer["type"]
        if kind == "dense":
            x = x @ weights[layer["W"]] + weights[layer["b"]]
        elif kind == "conv":
            x = conv(x, weights[layer["W"]], weights[layer["b"]], layer["stride"], layer["pads"])
        elif kind in ("maxpool", "avgpool"):
            win = windows(x, layer["size"], layer["size"], layer["stride"])  # partial windows left out
            x = win.max(axis=(4, 5)) if kind == "maxpool" else win.mean(axis=(4, 5), dtype=np.float32)
        elif kind == "batchnorm":
            scale = weights[layer["gamma"]] / np.sqrt(weights[layer["var"]] + np.float32(layer["eps"]))
            x = (x - weights[layer["mean"]]) * scale + weights[layer["beta"]]  # over the last axis
        elif kind == "flatten":
            x = x.reshape(len(x), -1)  # channels-last order, as the network was trained
        elif kind == "relu":
            x = np.maximum(x, 0.0)
        elif kind == "leaky_relu":
            x = np.maximum(x, layer["slope"] * x)
        elif kind == "sigmoid":
            x = sigmoid(x)
        elif kind == "tanh":
            x = np.tanh(x)
        else:
            raise SystemExit(f"unknown layer type {kind!r}: this script is older than the model")
    if spec["output"] == "softmax":
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    a = sigmoid(x)
    return a / a.sum(axis=1, keepdims=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="Classify images of handwritten digits.")
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--json", action="store_true", help="print one JSON object per image")
    parser.add_argument("--weights", default=str(Path(__file__).with_name("weights.npz")))
    args = parser.parse_args()
    with np.load(args.weights, allow_pickle=False) as npz:
        spec = json.loads(str(npz["spec"]))
        weights = {k: npz[k] for k in npz.files if k != "spec"}
    names, failures = spec["class_names"], 0
    for path in args.images:
        try:
            digit = to_mnist(read_gray(path))
        except (OSError, ValueError) as err:
            failures += 1
            if args.json:
                print(json.dumps({"file": path, "error": str(err)}))
            else:
                print(f"{path}: error: {err}", file=sys.stderr)
            continue
        probs = probabilities(spec, weights, digit[None])[0]
        top = int(probs.argmax())
        if args.json:
            result = {"file": path, "prediction": top, "name": names[top], "confidence": float(probs[top])}
            print(json.dumps({**result, "probabilities": [float(p) for p in probs]}))
        else:
            print(f"{path}  {names[top]}  {100 * probs[top]:.1f}%")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
