"""How much each unit (or channel) of one layer pushed each unit (or channel) of the next, for one
input: weight x incoming activation, summed where a layer shares weights (pure NumPy).

A dense layer gives one number per (input unit, output unit). A convolution reuses its kernel at
every position, so a channel-to-channel contribution is the mean over output positions of what an
input channel adds to an output channel's weighted sum. Pooling (and any other channel-wise layer)
joins each channel to itself. A dense layer after flattened maps gets one number per (channel,
unit): the sum over that channel's positions of weight x activation. In every case the
contributions into a unit, plus its bias, add up to its weighted sum (for a convolution: the mean
of its output map before the activation).
"""

from __future__ import annotations

import numpy as np

from nn_core.conv import conv_geometry


def dense_contributions(inputs: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Weight x incoming activation for a dense layer: inputs (n_in,), W (n_in, n_out) -> (n_in, n_out)."""
    return (np.asarray(inputs, dtype=np.float32)[:, None] * W).astype(np.float32, copy=False)


def conv_contributions(
    maps: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid"
) -> np.ndarray:
    """Channel-to-channel contributions of a convolution: maps (H, W, C_in), kernel (kh, kw, C_in, C_out).

    ``[c, o]`` is the mean over the output positions of input channel c's share of output channel
    o's weighted sum: for each kernel offset (i, j), the mean of the input values that offset reads
    (zeros of the padding included) times the tap ``kernel[i, j, c, o]``. Summed over c and added to
    the bias, it is the mean of output map o before the activation. Returns (C_in, C_out), float32.
    """
    maps = np.asarray(maps, dtype=np.float32)
    kernel = np.asarray(kernel, dtype=np.float32)
    if maps.ndim != 3 or kernel.ndim != 4 or kernel.shape[2] != maps.shape[2]:
        raise ValueError(
            f"maps (H, W, C_in) and kernel (kh, kw, C_in, C_out) do not fit: {maps.shape}, {kernel.shape}"
        )
    (h, w, c), (kh, kw) = maps.shape, kernel.shape[:2]
    ho, top, hu = conv_geometry(h, kh, stride, padding)
    wo, left, wu = conv_geometry(w, kw, stride, padding)
    padded = np.zeros((max(hu, h + top), max(wu, w + left), c), np.float32)
    padded[top : top + h, left : left + w] = maps
    reads = np.empty((kh, kw, c), np.float32)  # mean of what each kernel offset reads, per channel
    for i in range(kh):
        for j in range(kw):
            window = padded[i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]
            reads[i, j] = window.mean(axis=(0, 1))
    return np.einsum("ijc,ijco->co", reads, kernel).astype(np.float32)


def channel_contributions(values: np.ndarray) -> np.ndarray:
    """A channel-wise layer (pooling, batch norm, an activation) joins each channel of values
    (H, W, C) or (C,) to itself, with its mean value: a diagonal (C, C)."""
    values = np.asarray(values, dtype=np.float32)
    return np.diag(values.reshape(-1, values.shape[-1]).mean(axis=0)).astype(np.float32)


def pool_contributions(maps: np.ndarray) -> np.ndarray:
    """A pooling layer joins each channel of its output maps (H, W, C) to itself: diagonal (C, C)."""
    return channel_contributions(maps)


def flatten_contributions(maps: np.ndarray, W: np.ndarray) -> np.ndarray:
    """What each channel of maps (H, W, C), flattened in NHWC order, adds to each unit of a dense layer
    with weights W (H*W*C, n_out): the sum over its positions of activation x weight. Returns (C, n_out)."""
    maps = np.asarray(maps, dtype=np.float32)
    h, w, c = maps.shape
    if W.shape[0] != h * w * c:
        raise ValueError(f"maps of shape {maps.shape} do not flatten to the {W.shape[0]} inputs of W")
    # (C, H*W) @ (H*W, C, n_out) summed per channel: one batched product, no (H*W, C, n_out) temporary
    per_channel = maps.reshape(h * w, c).T[:, None, :]  # (C, 1, H*W)
    weights = np.moveaxis(W.reshape(h * w, c, -1), 1, 0)  # (C, H*W, n_out)
    return np.matmul(per_channel, weights)[:, 0, :].astype(np.float32)
