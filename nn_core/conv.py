"""2-D convolution on NHWC feature maps as im2col and one matrix product.

Layout: feature maps are float32 arrays of shape (n, H, W, C) (batch, height, width, channels)
and a kernel ``W`` has shape (kh, kw, c_in, c_out). The forward pass copies every receptive
field into a column matrix of shape (n*Ho*Wo, kh*kw*c_in), whose columns run over (kh, kw, c_in)
in that order, and multiplies it by ``W`` viewed as (kh*kw*c_in, c_out): the (n*Ho*Wo, c_out)
product is the NHWC output (n, Ho, Wo, c_out) as it stands, with no transpose.

With a single input channel (a first layer on grey images) the columns are kept transposed, as
a (kh*kw + 1, n*Ho*Wo) matrix: each kernel offset is then one contiguous copy of a shifted image,
and a last row of ones folds the bias into the product (the product reads the matrix transposed,
which BLAS does at no cost). ``benchmarks/conv_layers.py`` times both on a first layer of 5x5x16
on 28x28 images, batch 128: forward and backward took 3.6 ms this way and 5.0 ms with row
columns (one thread, CPU time).

Padding: ``"valid"`` uses no padding, Ho = floor((H - kh) / stride) + 1 (trailing rows that no
window reaches are ignored); ``"same"`` follows TensorFlow: Ho = ceil(H / stride), the input is
padded with max((Ho - 1) * stride + kh - H, 0) zeros in total, the smaller half on top (left).
The same holds for widths.

Backward: ``dW = cols.T @ dy`` and ``db = ones @ dy`` are one product each (one product for both
with the transposed columns, whose row of ones yields ``db``). For ``dx``, col2im goes offset by
offset: the column gradient of kernel offset (i, j), ``dy @ W[i, j].T``, is an NHWC slab of shape
(n, Ho, Wo, c_in) that is added at its shift into a zeroed, padded input gradient. The slab stays
in cache between its product and its addition: on the second layer of the benchmarked CNN
(batch 128, one thread, CPU time) this took 4.2 ms, against 4.7-4.9 ms for all offsets' column
gradients from one batched product into a (kh*kw, n*Ho*Wo, c_in) buffer (13 MB there) followed
by the same additions.

Two threads: during a training step on two threads (``speed.split``), ``forward`` and
``backward`` run each half of the batch (padding copy, im2col, products, col2im) on its own
thread with one BLAS thread each; the weight gradients are one partial product per half, added.
``infer`` never splits.

Buffers: ``forward`` keeps its column matrix (kh*kw*c_in floats per output pixel) for the
largest batch it has seen; evaluate a large set through ``infer`` (which works in chunks) or in
training-sized batches.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nn_core.layers import DTYPE, Layer
from nn_core.speed.split import run_halves, split_workers

PADDINGS = ("valid", "same")
INFER_CHUNK_FLOATS = 1 << 22  # column floats per chunk of ``Conv2D.infer`` (16 MB)

# get(name, shape, fill=None, batch_axis=0) -> float32 array: a training buffer or a fresh array
Getter = Callable[..., np.ndarray]


def _fresh_arrays(out: np.ndarray) -> Getter:
    """A getter that returns ``out`` for the output and a new array for anything else."""

    def get(name: str, shape: tuple[int, ...], fill: float | None = None, batch_axis: int = 0) -> np.ndarray:
        if name == "out":
            return out
        return np.empty(shape, dtype=DTYPE) if fill is None else np.full(shape, fill, dtype=DTYPE)

    return get


def conv_geometry(size: int, k: int, stride: int, padding: str) -> tuple[int, int, int]:
    """Output length, padding before, and padded length read along one spatial axis.

    Returns
    -------
    (out, before, used) : ``out`` windows, ``before`` zeros in front of the input, and
        ``used = (out - 1) * stride + k`` rows (columns) of the padded input that windows read.
    """
    if padding == "same":
        out = -(-size // stride)
        before = max((out - 1) * stride + k - size, 0) // 2
    else:
        out = (size - k) // stride + 1
        before = 0
    return out, before, (out - 1) * stride + k


def _reshaped(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` reshaped as a view (raises instead of silently copying)."""
    return np.reshape(a, shape, copy=False)


def _offset_view(xp: np.ndarray, i: int, j: int, stride: int, ho: int, wo: int) -> np.ndarray:
    """The (n, ho, wo, C) slice of ``xp`` that kernel offset (i, j) reads."""
    return xp[:, i : i + stride * (ho - 1) + 1 : stride, j : j + stride * (wo - 1) + 1 : stride]


def im2col(xp: np.ndarray, kh: int, kw: int, stride: int, cols: np.ndarray) -> None:
    """Copy every window of ``xp`` (n, Hp, Wp, C) into ``cols`` (n, Ho, Wo, kh, kw, C)."""
    n, ho, wo = cols.shape[:3]
    sn, sh, sw, sc = xp.strides
    windows = as_strided(
        xp, (n, ho, wo, kh, kw, xp.shape[3]), (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False
    )
    np.copyto(cols, windows)


def im2col_offsets(xp: np.ndarray, stride: int, cols_t: np.ndarray) -> None:
    """Copy each kernel offset's shifted map of ``xp`` (n, Hp, Wp, C) into ``cols_t`` (kh, kw, n, Ho, Wo, C)."""
    kh, kw, _, ho, wo = cols_t.shape[:5]
    for i in range(kh):
        for j in range(kw):
            np.copyto(cols_t[i, j], _offset_view(xp, i, j, stride, ho, wo))


def col2im(dy: np.ndarray, W: np.ndarray, stride: int, dxp: np.ndarray, dcol: np.ndarray) -> None:
    """Input gradient of a convolution: each kernel offset's column gradient, summed at its shift.

    Parameters
    ----------
    dy : ndarray of shape (n*Ho*Wo, c_out), the output gradient as rows
    W : ndarray of shape (kh, kw, c_in, c_out)
    dxp : ndarray of shape (n, Hp, Wp, c_in), overwritten with the padded input's gradient
    dcol : ndarray of shape (n, Ho, Wo, c_in), scratch for one offset's ``dy @ W[i, j].T``
    """
    kh, kw = W.shape[:2]
    _, ho, wo, c = dcol.shape
    dcol_rows = _reshaped(dcol, (-1, c))
    dxp.fill(0.0)
    for i in range(kh):
        for j in range(kw):
            np.matmul(dy, W[i, j].T, out=dcol_rows)  # (n*Ho*Wo, c_out) @ (c_out, c_in)
            _offset_view(dxp, i, j, stride, ho, wo)[...] += dcol


class Conv2D(Layer):
    """2-D convolution (cross-correlation, as in every deep-learning library) on NHWC maps.

    ``y[n, p, q, o] = b[o] + sum_{i, j, c} xpad[n, p*stride + i, q*stride + j, c] * W[i, j, c, o]``

    Parameters
    ----------
    W : ndarray of shape (kh, kw, c_in, c_out), cast to float32
    b : ndarray of shape (c_out,), cast to float32
    stride : int, the step between windows along height and width (1 or 2 in practice)
    padding : "valid" (no padding) or "same" (Ho = ceil(H / stride), TensorFlow's convention)
    input_grad : False for a first layer, whose ``backward`` then skips ``dx`` and returns ``dy``
    """

    def __init__(
        self, W: np.ndarray, b: np.ndarray, stride: int = 1, padding: str = "valid", input_grad: bool = True
    ) -> None:
        super().__init__()
        self.W = np.ascontiguousarray(W, dtype=DTYPE)
        self.b = np.ascontiguousarray(b, dtype=DTYPE)
        if self.W.ndim != 4 or self.b.shape != (self.W.shape[3],):
            raise ValueError(
                f"Conv2D needs W (kh, kw, c_in, c_out) and b (c_out,), got {self.W.shape} and {self.b.shape}"
            )
        if int(stride) != stride or stride < 1:
            raise ValueError(f"stride must be a positive integer, got {stride}")
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.stride = int(stride)
        self.padding = padding
        self.input_grad = input_grad
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.offset_columns = self.c_in == 1  # transposed columns with a row of ones (see module doc)
        self._cache: tuple | None = None

    @property
    def c_in(self) -> int:
        return self.W.shape[2]

    @property
    def c_out(self) -> int:
        return self.W.shape[3]

    def output_shape(self, h: int, w: int) -> tuple[int, int, int]:
        """(Ho, Wo, c_out) for an input of height ``h`` and width ``w``."""
        kh, kw = self.W.shape[:2]
        ho = conv_geometry(h, kh, self.stride, self.padding)[0]
        wo = conv_geometry(w, kw, self.stride, self.padding)[0]
        return ho, wo, self.c_out

    def _run(self, x: np.ndarray, get: Getter, split: bool = False) -> tuple[np.ndarray, tuple]:
        """Forward pass into arrays from ``get``; returns the output and what backward needs.

        With ``split``, the two halves of the batch may run at once (``speed.split.run_halves``).
        """
        n, h, w, c = x.shape
        kh, kw, _, co = self.W.shape
        if c != self.c_in:
            raise ValueError(f"Conv2D expects {self.c_in} input channels, got input of shape {x.shape}")
        ho, top, hu = conv_geometry(h, kh, self.stride, self.padding)
        wo, left, wu = conv_geometry(w, kw, self.stride, self.padding)
        if ho < 1 or wo < 1:
            raise ValueError(f"input {h}x{w} is smaller than the {kh}x{kw} kernel with 'valid' padding")
        direct = top == 0 and left == 0 and hu <= h and wu <= w  # windows read x directly
        xp = x if direct else get("xp", (n, hu, wu, c), fill=0.0)  # borders stay zero
        rows, cols_ = min(h, hu - top), min(w, wu - left)
        m, k, hw = n * ho * wo, kh * kw * c, ho * wo
        out = get("out", (n, ho, wo, co))
        out2 = _reshaped(out, (m, co))
        if self.offset_columns:
            cols = get("cols_t", (k + 1, m), fill=1.0, batch_axis=1)  # last row: ones, never written
            cols6 = _reshaped(cols[:k], (kh, kw, n, ho, wo, 1))
            wb = get("wb", (k + 1, co))
            np.copyto(wb[:k], _reshaped(self.W, (k, co)))
            wb[k] = self.b
        else:
            cols6 = get("cols", (n, ho, wo, kh, kw, c))
            cols = _reshaped(cols6, (m, k))
            W2 = _reshaped(self.W, (k, co))

        def part(_: int, lo: int, hi: int) -> None:  # images lo:hi, output rows r
            if not direct:  # only the inside is written
                np.copyto(xp[lo:hi, top : top + rows, left : left + cols_], x[lo:hi, :rows, :cols_])
            r = slice(lo * hw, hi * hw)
            if self.offset_columns:
                im2col_offsets(xp[lo:hi], self.stride, cols6[:, :, lo:hi])
                np.matmul(cols[:, r].T, wb, out=out2[r])  # (m, k+1) @ (k+1, co): bias included
            else:
                im2col(xp[lo:hi], kh, kw, self.stride, cols6[lo:hi])
                np.matmul(cols[r], W2, out=out2[r])  # (m, k) @ (k, co)
                out2[r] += self.b

        if split:
            run_halves(part, n, cols.size)
        else:
            part(0, 0, n)
        return out, (x.shape, xp.shape, cols, top, left)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Convolve ``x`` of shape (n, H, W, c_in); returns a buffer of shape (n, Ho, Wo, c_out)."""
        out, self._cache = self._run(x, self._buffer_nd, split=True)
        return out

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Forward pass into new arrays (safe beside training), in chunks of rows.

        The column matrix takes kh*kw*c_in floats per output pixel (100 kB per image for a
        5x5x16 kernel on 8x8 outputs), so a large batch is processed ``INFER_CHUNK_FLOATS`` of
        columns at a time; the result is the same as one pass.
        """
        n, h, w, _ = x.shape
        ho, wo, co = self.output_shape(h, w)
        out = np.empty((n, ho, wo, co), dtype=DTYPE)
        per_row = max(ho * wo * (self.W.shape[0] * self.W.shape[1] * self.c_in + 1), 1)
        chunk = max(1, INFER_CHUNK_FLOATS // per_row)
        for start in range(0, n, chunk):
            self._run(x[start : start + chunk], _fresh_arrays(out[start : start + chunk]))
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Fill ``dW`` and ``db`` from ``dy`` (n, Ho, Wo, c_out); return ``dx`` (n, H, W, c_in)."""
        x_shape, xp_shape, cols, top, left = self._cache
        kh, kw, c, co = self.W.shape
        n, ho, wo = dy.shape[:3]
        m, k = n * ho * wo, kh * kw * c
        dy2 = dy.reshape(m, co)  # a view when dy is contiguous (layer outputs are)
        halves = 2 if split_workers() > 1 else 1
        if self.offset_columns:  # the row of ones gives db
            dw = [self._buffer_nd(f"dwb{p}", (k + 1, co)) for p in range(halves)]
        else:
            dw = [self._buffer_nd(f"dw{p}", (k + 1, co)) for p in range(halves)]
            ones = self._ones(m)
        h, w = x_shape[1:3]
        same_shape = top == 0 and left == 0 and xp_shape[1:3] == (h, w)
        if self.input_grad:
            dxp = self._buffer_nd("dx" if same_shape else "dxp", xp_shape)
            dcol = self._buffer_nd("dcol", (n, ho, wo, c))

        def part(p: int, lo: int, hi: int) -> None:  # images lo:hi, rows r; partial sums in dw[p]
            r = slice(lo * ho * wo, hi * ho * wo)
            if self.offset_columns:
                np.matmul(cols[:, r], dy2[r], out=dw[p])  # (k+1, m) @ (m, co)
            else:
                np.matmul(cols[r].T, dy2[r], out=dw[p][:k])  # (k, m) @ (m, co)
                np.matmul(ones[: r.stop - r.start], dy2[r], out=dw[p][k])  # (m,) @ (m, co)
            if self.input_grad:
                col2im(dy2[r], self.W, self.stride, dxp[lo:hi], dcol[lo:hi])

        if run_halves(part, n, cols.size) > 1:
            dw[0] += dw[1]
        np.copyto(_reshaped(self.dW, (k, co)), dw[0][:k])
        np.copyto(self.db, dw[0][k])
        if not self.input_grad:
            return dy
        if same_shape:
            return dxp
        dx = self._buffer_nd("dx", x_shape)
        rows, cols_ = min(h, xp_shape[1] - top), min(w, xp_shape[2] - left)
        np.copyto(dx[:, :rows, :cols_], dxp[:, top : top + rows, left : left + cols_])
        dx[:, rows:] = 0.0  # rows no window reached (valid padding with a stride)
        dx[:, :rows, cols_:] = 0.0
        return dx

    def params(self) -> dict[str, np.ndarray]:
        return {"W": self.W, "b": self.b}

    def grads(self) -> dict[str, np.ndarray]:
        return {"W": self.dW, "b": self.db}
