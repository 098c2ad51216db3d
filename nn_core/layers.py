"""Layers with a tiny uniform protocol: ``forward(x, training)``, ``backward(dy) -> dx``,
``params()`` and ``grads()`` as name-keyed dicts with matching keys.

Arrays are batch-first: ``x`` has shape (n, features). Every layer writes into buffers it keeps
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
        buf = self._buffers.get(name)
        if buf is None or buf.shape[0] < n or buf.shape[1] != cols or buf.dtype != dtype:
            buf = np.empty((n, cols), dtype=dtype)
            self._buffers[name] = buf
        return buf[:n]

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

    def _ones(self, n: int) -> np.ndarray:
        ones = self._buffers.get("ones")
        if ones is None or ones.shape[0] < n:
            ones = self._buffers["ones"] = np.ones(n, dtype=DTYPE)
        return ones[:n]

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
