"""Loss functions on the network's logits, each returning ``(value, dlogits)``.

Both losses are the MEAN over the batch, so ``dlogits`` is already divided by the batch size n.
- ``SoftmaxCrossEntropy``: softmax fused with cross-entropy; ``dlogits = (softmax - onehot) / n``.
- ``MeanSquaredError``: the quadratic cost ``1/(2n) * sum ||a - onehot||^2`` on sigmoid or softmax
  outputs ``a`` (the classic tutorial setup), back-propagated through that output function.
"""

from __future__ import annotations

import numpy as np

from nn_core.activations import sigmoid
from nn_core.layers import Layer

LOSSES = ("cross_entropy", "mse")
OUTPUTS = ("softmax", "sigmoid")


def softmax(z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Row-wise stable softmax of logits z, shape (n, k); subtracts each row's max first."""
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def output_probabilities(logits: np.ndarray, output: str) -> np.ndarray:
    """Class probabilities (n, k) from logits: softmax, or sigmoid normalised to sum to one."""
    if output == "softmax":
        return softmax(logits)
    a = sigmoid(logits)
    a /= a.sum(axis=1, keepdims=True)
    return a


class _Loss(Layer):
    """Buffers and row-wise helpers shared by the losses: a call allocates no array data.

    NumPy's reductions along a short last axis are slow (``max(axis=1)`` costs ~25 µs on a
    (512, 10) array), so a row's maximum is picked at its ``argmax`` and row sums are a product
    with a column of ones. Labels must be 0 to k-1 (the trainer checks them).
    """

    def _row_starts(self, n: int, k: int) -> np.ndarray:
        """(n,) intp: the flat index of each row's first entry, 0, k, 2k, ..."""
        starts = self._buffers.get("row_starts")
        if starts is None or starts.shape[0] < n or (n > 1 and starts[1] != k):
            starts = self._buffers["row_starts"] = np.arange(0, max(n, 2) * k, k, dtype=np.intp)
        return starts[:n]

    def _ones(self, k: int) -> np.ndarray:
        """(k, 1) float32 ones."""
        ones = self._buffers.get("ones")
        if ones is None or ones.shape[0] != k:
            ones = self._buffers["ones"] = np.ones((k, 1), dtype=np.float32)
        return ones

    def _true_index(self, y: np.ndarray, k: int) -> np.ndarray:
        """(n,) intp: the flat index of each row's true class."""
        n = len(y)
        true = self._buffer("true", n, 1, np.intp).ravel()
        np.add(self._row_starts(n, k), y, out=true)
        return true

    def _row_sums(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Sum of each row of x (n, k) into out (n, 1)."""
        return np.matmul(x, self._ones(x.shape[1]), out=out)

    def _shift_by_row_max(self, logits: np.ndarray, out: np.ndarray) -> np.ndarray:
        """logits (n, k) minus each row's maximum, into out (every entry at most 0)."""
        n, k = logits.shape
        at = self._buffer("at", n, 1, np.intp).ravel()
        np.argmax(logits, axis=1, out=at)
        at += self._row_starts(n, k)
        row_max = self._buffer("row_max", n, 1)
        np.take(logits, at, out=row_max.ravel(), mode="clip")
        return np.subtract(logits, row_max, out=out)

    def _softmax(self, logits: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Row-wise softmax of logits (n, k) into out."""
        self._shift_by_row_max(logits, out)
        np.exp(out, out=out)
        sums = self._buffer("sums", logits.shape[0], 1)
        np.divide(out, self._row_sums(out, sums), out=out)
        return out

    def _subtract_one_at(self, x: np.ndarray, true: np.ndarray) -> None:
        """x[i, y[i]] -= 1 for every row, given the flat indices of the true classes."""
        picked = self._buffer("picked", len(true), 1).ravel()
        np.take(x, true, out=picked, mode="clip")
        picked -= 1.0
        np.put(x, true, picked)


class SoftmaxCrossEntropy(_Loss):
    """Mean cross-entropy of softmax(logits) against integer labels y of shape (n,)."""

    def __call__(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        n, k = logits.shape
        true = self._true_index(y, k)
        dz = self._shift_by_row_max(logits, self._buffer("dz", n, k))
        picked = self._buffer("true_logit", n, 1).ravel()
        np.take(dz, true, out=picked, mode="clip")  # shifted logit of the true class
        np.exp(dz, out=dz)
        sums = self._row_sums(dz, self._buffer("sums", n, 1))  # in [1, k]
        np.divide(dz, sums, out=dz)  # softmax
        np.log(sums, out=sums)
        value = (float(sums.sum()) - float(picked.sum())) / n  # mean of log-sum-exp minus true logit
        self._subtract_one_at(dz, true)  # softmax - onehot
        dz *= 1.0 / n
        return value, dz


class MeanSquaredError(_Loss):
    """Quadratic cost ``1/(2n) sum ||a - onehot(y)||^2`` with ``a = output(logits)``."""

    def __init__(self, output: str = "sigmoid") -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}: choose one of {', '.join(OUTPUTS)}")
        self.output = output

    def __call__(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        n, k = logits.shape
        true = self._true_index(y, k)
        a = self._buffer("a", n, k)
        if self.output == "sigmoid":
            sigmoid(logits, out=a)
        else:
            self._softmax(logits, a)
        g = self._buffer("g", n, k)  # dC/da = (a - onehot) / n
        np.copyto(g, a)
        self._subtract_one_at(g, true)
        value = float(0.5 * np.vdot(g.ravel(), g.ravel()) / n)
        g *= 1.0 / n
        dz = self._buffer("dz", n, k)
        if self.output == "sigmoid":  # da/dz = a (1 - a)
            np.subtract(1.0, a, out=dz)
            dz *= a
            dz *= g
            return value, dz
        # softmax Jacobian: dz = a * (g - sum(g * a))
        np.multiply(g, a, out=dz)
        dot = self._row_sums(dz, self._buffer("dot", n, 1))
        np.subtract(g, dot, out=dz)
        dz *= a
        return value, dz


def make_loss(name: str, output: str = "softmax") -> SoftmaxCrossEntropy | MeanSquaredError:
    """Build a loss from its name; cross-entropy always uses a softmax output."""
    if name == "cross_entropy":
        if output != "softmax":
            raise ValueError(
                "cross-entropy is defined here with a softmax output; use loss 'mse' for sigmoid outputs"
            )
        return SoftmaxCrossEntropy()
    if name == "mse":
        return MeanSquaredError(output)
    raise ValueError(f"unknown loss {name!r}: choose one of {', '.join(LOSSES)}")
