"""Layers with a tiny uniform protocol: ``forward(x, training)``, ``backward(dy) -> dx``,
``params()`` and ``grads()`` as name-keyed dicts with matching keys.

Arrays are batch-first: ``x`` has shape (n, features), or (n, H, W, C) for the feature maps of
``nn_core.conv`` and ``nn_core.pooling`` (NHWC; ``Flatten`` turns them into rows). Every layer writes into buffers it keeps
and grows only when a larger batch arrives, so a training loop allocates no array data per
step. The arrays a layer returns are those buffers: they are overwritten by the next call.
"""

from __future__ import annotations

import numpy as np

DTYPE = np.float32


class Layer:
    """Base class: buffer handling and empty parameter dicts."""

    def __init__(self) -> None:
        self._buffers: dict[str, np.ndarray] = {}

    def _buffer(self, name: str, n: int, cols: int, dtype: type = DTYPE) -> np.ndarray:
        """A (n, cols) view of a preallocated buffer, grown only when n exceeds its rows."""
        return self._buffer_nd(name, (n, cols), dtype)

    def _buffer_nd(
        self,
        name: str,
        shape: tuple[int, ...],
        dtype: type = DTYPE,
        fill: float | None = None,
        batch_axis: int = 0,
    ) -> np.ndarray:
        """A view of shape ``shape`` of a preallocated buffer that grows along ``batch_axis``.

        The buffer is reallocated only when ``shape[batch_axis]`` exceeds its length on that
        axis, or the other axes or the dtype change; a smaller batch gets the leading
        ``shape[batch_axis]`` entries of that axis. A newly allocated buffer is filled with
        ``fill`` when given (entries that are never written then keep that value, as padding
        borders do), and left uninitialised otherwise.
        """
        buf = self._buffers.get(name)
        shape = tuple(shape)
        others = shape[:batch_axis] + shape[batch_axis + 1 :]
        if (
            buf is None
            or buf.dtype != dtype
            or buf.ndim != len(shape)
            or buf.shape[batch_axis] < shape[batch_axis]
            or buf.shape[:batch_axis] + buf.shape[batch_axis + 1 :] != others
        ):
            buf = np.empty(shape, dtype=dtype)
            if fill is not None:
                buf.fill(fill)
            self._buffers[name] = buf
        index = (slice(None),) * batch_axis + (slice(0, shape[batch_axis]),)
        return buf[index]

    def _ones(self, n: int) -> np.ndarray:
        """A float32 vector of n ones, for column sums as a BLAS product ``ones @ dy``."""
        ones = self._buffers.get("ones")
        if ones is None or ones.shape[0] < n:
            ones = self._buffers["ones"] = np.ones(n, dtype=DTYPE)
        return ones[:n]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def infer(self, x: np.ndarray) -> np.ndarray:
        """Forward pass for prediction that allocates its output and touches no buffer.

        Safe to call while another thread trains the same layer.
        """
        raise NotImplementedError

    def params(self) -> dict[str, np.ndarray]:
        return {}

    def grads(self) -> dict[str, np.ndarray]:
        return {}


class Dense(Layer):
    """Fully connected layer ``y = x @ W + b``.

    Parameters
    ----------
    W : ndarray of shape (n_in, n_out), float32
    b : ndarray of shape (n_out,), float32
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, input_grad: bool = True) -> None:
        super().__init__()
        self.W = np.ascontiguousarray(W, dtype=DTYPE)
        self.b = np.ascontiguousarray(b, dtype=DTYPE)
        if self.W.ndim != 2 or self.b.shape != (self.W.shape[1],):
            raise ValueError(
                f"Dense needs W (n_in, n_out) and b (n_out,), got {self.W.shape} and {self.b.shape}"
            )
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self.input_grad = input_grad  # the first layer need not compute dx
        self._x: np.ndarray | None = None

    @property
    def n_in(self) -> int:
        return self.W.shape[0]

    @property
    def n_out(self) -> int:
        return self.W.shape[1]

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self._buffer("out", x.shape[0], self.n_out)
        np.matmul(x, self.W, out=out)  # (n, n_in) @ (n_in, n_out)
        out += self.b
        self._x = x
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        n = dy.shape[0]
        np.matmul(self._x.T, dy, out=self.dW)  # (n_in, n) @ (n, n_out)
        # column sums as a product with ones (a BLAS matrix-vector product): 7 us instead of the
        # 18 us of np.sum(axis=0) for a (512, 256) gradient
        np.matmul(self._ones(n), dy, out=self.db)  # (n,) @ (n, n_out)
        if not self.input_grad:
            return dy
        dx = self._buffer("dx", dy.shape[0], self.n_in)
        np.matmul(dy, self.W.T, out=dx)  # (n, n_out) @ (n_out, n_in)
        return dx

    def infer(self, x: np.ndarray) -> np.ndarray:
        out = x @ self.W
        out += self.b
        return out

    def params(self) -> dict[str, np.ndarray]:
        return {"W": self.W, "b": self.b}

    def grads(self) -> dict[str, np.ndarray]:
        return {"W": self.dW, "b": self.db}


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p`` and scale the rest
    by ``1 / (1 - p)``; at inference, the identity.

    ``fixed_mask`` (shape (n, features), values 0 or 1/(1-p)) replaces the random mask, for tests.
    """

    def __init__(self, p: float, rng: np.random.Generator) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout rate must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = rng
        self.fixed_mask: np.ndarray | None = None
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        if not training or self.p == 0.0:
            self._mask = None
            return x
        n, cols = x.shape
        if self.fixed_mask is not None:
            mask = self.fixed_mask
        else:
            mask = self._buffer("mask", n, cols)
            self.rng.random(out=mask, dtype=DTYPE)
            np.greater_equal(mask, self.p, out=mask)  # 1.0 keeps, 0.0 drops
            mask *= 1.0 / (1.0 - self.p)
        out = self._buffer("out", n, cols)
        np.multiply(x, mask, out=out)
        self._mask = mask
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._mask is None:
            return dy
        dx = self._buffer("dx", dy.shape[0], dy.shape[1])
        np.multiply(dy, self._mask, out=dx)
        return dx

    def infer(self, x: np.ndarray) -> np.ndarray:
        return x


class Flatten(Layer):
    """Reshape (n, H, W, C) feature maps to (n, H*W*C) rows for a following Dense layer.

    The output is a view of the input when the input is C-contiguous (the buffers the
    convolution and pooling layers return are); ``backward`` reshapes ``dy`` back to the
    input's shape, again as a view. Rows keep the NHWC order: feature ``(h * W + w) * C + c``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy.reshape(self._shape)

    def infer(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], -1)
