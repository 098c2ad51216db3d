"""Max and average pooling over square windows of NHWC feature maps.

Layout: inputs are float32 arrays of shape (n, H, W, C) and outputs (n, Ho, Wo, C), pooled over
height and width per channel. A window of ``size`` x ``size`` moves by ``stride`` (``size`` when
not given). Pooling is "valid": Ho = floor((H - size) / stride) + 1, so the last rows (columns)
of a map whose size does not fit the windows are dropped, and their gradient is zero (a 25x25
map pooled by 2 gives 12x12). Both layers work offset by offset: for each of the size*size
positions inside a window, the strided (n, Ho, Wo, C) slice of the input it covers is one view,
so a pass is size*size whole-array operations and no per-window Python loop.

Max pooling keeps, for each output, the index in the window of the maximum (a uint8 per output,
row-major in the window): on ties the first such position (in row-major order) wins alone and
gets the whole gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nn_core.layers import DTYPE, Layer
from nn_core.speed.split import run_halves

Getter = Callable[..., np.ndarray]


def _fresh(name: str, shape: tuple[int, ...], dtype: type = DTYPE) -> np.ndarray:
    return np.empty(shape, dtype=dtype)


class _Pool2D(Layer):
    """Window geometry shared by the pooling layers."""

    def __init__(self, size: int = 2, stride: int | None = None) -> None:
        super().__init__()
        stride = size if stride is None else stride
        if int(size) != size or size < 1 or int(stride) != stride or stride < 1:
            raise ValueError(f"pool size and stride must be positive integers, got {size} and {stride}")
        self.size = int(size)
        self.stride = int(stride)
        self._x_shape: tuple[int, ...] | None = None

    def output_shape(self, h: int, w: int, c: int) -> tuple[int, int, int]:
        """(Ho, Wo, C) for an input map of shape (h, w, c)."""
        ho, wo = (h - self.size) // self.stride + 1, (w - self.size) // self.stride + 1
        if ho < 1 or wo < 1:
            raise ValueError(f"a {h}x{w} map is smaller than the {self.size}x{self.size} pooling window")
        return ho, wo, c

    def _offsets(self, a: np.ndarray, ho: int, wo: int):
        """Yield (k, view): the (n, ho, wo, C) slice of ``a`` read by window position k."""
        s, last_h, last_w = self.stride, self.stride * (ho - 1) + 1, self.stride * (wo - 1) + 1
        for i in range(self.size):
            for j in range(self.size):
                yield i * self.size + j, a[:, i : i + last_h : s, j : j + last_w : s]

    def _dx(self, ho: int, wo: int) -> tuple[np.ndarray, bool]:
        """The input-gradient buffer, zeroed where needed; True when windows overlap (accumulate)."""
        dx = self._buffer_nd("dx", self._x_shape)
        overlap = self.stride < self.size
        if overlap or self.stride > self.size:
            dx.fill(0.0)
        else:  # windows tile the map: zero only the rows and columns no window covers
            dx[:, ho * self.stride :] = 0.0
            dx[:, :, wo * self.stride :] = 0.0
        return dx, overlap


class MaxPool2D(_Pool2D):
    """Maximum over each window, per channel.

    Parameters
    ----------
    size : int, the window's height and width (2 or 3 in practice)
    stride : int or None, the step between windows; None means ``size`` (windows tile the map)
    """

    def _run(self, x: np.ndarray, get: Getter, split: bool = False) -> tuple[np.ndarray, np.ndarray]:
        n, h, w, c = x.shape
        ho, wo, _ = self.output_shape(h, w, c)
        out = get("out", (n, ho, wo, c))
        arg = get("arg", (n, ho, wo, c), np.uint8)  # window position of the maximum
        better = get("better", (n, ho, wo, c), np.bool_)
        step = get("step", (n, ho, wo, c), np.uint8)

        def part(_: int, lo: int, hi: int) -> None:  # images lo:hi
            o, a, b, st = out[lo:hi], arg[lo:hi], better[lo:hi], step[lo:hi]
            for k, view in self._offsets(x[lo:hi], ho, wo):
                if k == 0:
                    np.copyto(o, view)
                    a.fill(0)
                    continue
                np.greater(view, o, out=b)  # strictly greater: the first maximum wins ties
                np.maximum(o, view, out=o)
                # a = k where b: k exceeds every earlier position, so a maximum does it (a
                # masked copy, np.copyto(where=), is 40 times slower)
                np.multiply(b, np.uint8(k), out=st)
                np.maximum(a, st, out=a)

        if split:
            run_halves(part, n, x.size)
        else:
            part(0, 0, n)
        return out, arg

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Pool ``x`` of shape (n, H, W, C); returns a buffer of shape (n, Ho, Wo, C)."""
        out, self._arg = self._run(x, self._buffer_nd, split=True)
        self._x_shape = x.shape
        return out

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self._run(x, _fresh)[0]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Route ``dy`` (n, Ho, Wo, C) to each window's maximum; return ``dx`` (n, H, W, C)."""
        ho, wo = dy.shape[1:3]
        dx, overlap = self._dx(ho, wo)
        hit = self._buffer_nd("hit", dy.shape, np.bool_)
        part = self._buffer_nd("part", dy.shape) if overlap else None

        def run(_: int, lo: int, hi: int) -> None:  # images lo:hi
            for k, view in self._offsets(dx[lo:hi], ho, wo):
                np.equal(self._arg[lo:hi], k, out=hit[lo:hi])
                if overlap:
                    np.multiply(dy[lo:hi], hit[lo:hi], out=part[lo:hi])
                    view += part[lo:hi]
                else:
                    np.multiply(dy[lo:hi], hit[lo:hi], out=view)

        run_halves(run, dy.shape[0], dx.size)
        return dx


class AvgPool2D(_Pool2D):
    """Mean over each window, per channel.

    Parameters
    ----------
    size : int, the window's height and width (2 or 3 in practice)
    stride : int or None, the step between windows; None means ``size`` (windows tile the map)
    """

    def _run(self, x: np.ndarray, get: Getter) -> np.ndarray:
        n, h, w, c = x.shape
        ho, wo, _ = self.output_shape(h, w, c)
        out = get("out", (n, ho, wo, c))
        for k, view in self._offsets(x, ho, wo):
            if k == 0:
                np.copyto(out, view)
            else:
                out += view
        out *= DTYPE(1.0 / (self.size * self.size))
        return out

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Pool ``x`` of shape (n, H, W, C); returns a buffer of shape (n, Ho, Wo, C)."""
        self._x_shape = x.shape
        return self._run(x, self._buffer_nd)

    def infer(self, x: np.ndarray) -> np.ndarray:
        return self._run(x, _fresh)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Spread ``dy`` (n, Ho, Wo, C) evenly over each window; return ``dx`` (n, H, W, C)."""
        ho, wo = dy.shape[1:3]
        dx, overlap = self._dx(ho, wo)
        share = self._buffer_nd("share", dy.shape)
        np.multiply(dy, DTYPE(1.0 / (self.size * self.size)), out=share)
        for _, view in self._offsets(dx, ho, wo):
            if overlap:
                view += share
            else:
                np.copyto(view, share)
        return dx
