"""Element-wise activation layers (ReLU, LeakyReLU, Sigmoid, Tanh) and a factory by name.

Each follows the layer protocol of ``nn_core.layers``: ``forward(x, training)`` and
``backward(dy)`` on arrays of shape (n, features), writing into preallocated buffers.
"""

from __future__ import annotations

import numpy as np

from nn_core.layers import Layer
from nn_core.speed.split import run_halves

ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")


def sigmoid(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Numerically safe logistic function ``1 / (1 + exp(-z))``, computed as ``(1 + tanh(z/2)) / 2``."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


class ReLU(Layer):
    """``max(x, 0)``."""

    name = "relu"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self._buffer_nd("out", x.shape)
        run_halves(lambda _, lo, hi: np.maximum(x[lo:hi], 0.0, out=out[lo:hi]), len(x), x.size)
        self._out = out
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        mask = self._buffer_nd("mask", dy.shape, dtype=np.bool_)
        dx = self._buffer_nd("dx", dy.shape)

        def part(_: int, lo: int, hi: int) -> None:  # rows lo:hi
            np.greater(self._out[lo:hi], 0.0, out=mask[lo:hi])
            np.multiply(dy[lo:hi], mask[lo:hi], out=dx[lo:hi])

        run_halves(part, len(dy), dy.size)
        return dx

    def infer(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0.0)


class LeakyReLU(Layer):
    """``x`` where positive, ``slope * x`` elsewhere."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        super().__init__()
        self.slope = float(slope)

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self._buffer_nd("out", x.shape)
        np.multiply(x, self.slope, out=out)
        np.maximum(x, out, out=out)  # valid for 0 <= slope <= 1
        self._x = x
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        scale = self._buffer_nd("scale", dy.shape)
        np.greater(self._x, 0.0, out=scale)  # 1.0 where positive, else 0.0
        scale *= 1.0 - self.slope
        scale += self.slope
        dx = self._buffer_nd("dx", dy.shape)
        np.multiply(dy, scale, out=dx)
        return dx

    def infer(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, self.slope * x)


class Sigmoid(Layer):
    """Logistic function; its derivative is ``s * (1 - s)``."""

    name = "sigmoid"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self._buffer_nd("out", x.shape)
        self._out = sigmoid(x, out=out)
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx = self._buffer_nd("dx", dy.shape)
        np.subtract(1.0, self._out, out=dx)
        dx *= self._out
        dx *= dy
        return dx

    def infer(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(x)


class Tanh(Layer):
    """Hyperbolic tangent; its derivative is ``1 - t**2``."""

    name = "tanh"

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        out = self._buffer_nd("out", x.shape)
        np.tanh(x, out=out)
        self._out = out
        return out

    def backward(self, dy: np.ndarray) -> np.ndarray:
        dx = self._buffer_nd("dx", dy.shape)
        np.multiply(self._out, self._out, out=dx)
        np.subtract(1.0, dx, out=dx)
        dx *= dy
        return dx

    def infer(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)


def make_activation(name: str, leaky_slope: float = 0.01) -> Layer:
    """Build an activation layer from its name (one of ``ACTIVATIONS``)."""
    if name == "relu":
        return ReLU()
    if name == "leaky_relu":
        return LeakyReLU(leaky_slope)
    if name == "sigmoid":
        return Sigmoid()
    if name == "tanh":
        return Tanh()
    raise ValueError(f"unknown activation {name!r}: choose one of {', '.join(ACTIVATIONS)}")
