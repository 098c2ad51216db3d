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


class SoftmaxCrossEntropy(Layer):
    """Mean cross-entropy of softmax(logits) against integer labels y of shape (n,)."""

    def __call__(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        n, k = logits.shape
        dz = self._buffer("dz", n, k)
        np.subtract(logits, logits.max(axis=1, keepdims=True), out=dz)  # shifted logits
        rows = np.arange(n)
        picked = dz[rows, y]  # (n,) shifted logit of the true class
        np.exp(dz, out=dz)
        sums = dz.sum(axis=1)  # (n,)
        value = float(np.mean(np.log(sums) - picked))  # log-sum-exp minus true logit
        dz /= sums[:, None]  # softmax
        dz[rows, y] -= 1.0
        dz *= 1.0 / n
        return value, dz


class MeanSquaredError(Layer):
    """Quadratic cost ``1/(2n) sum ||a - onehot(y)||^2`` with ``a = output(logits)``."""

    def __init__(self, output: str = "sigmoid") -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}: choose one of {', '.join(OUTPUTS)}")
        self.output = output

    def __call__(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        n, k = logits.shape
        a = self._buffer("a", n, k)
        if self.output == "sigmoid":
            sigmoid(logits, out=a)
        else:
            softmax(logits, out=a)
        g = self._buffer("g", n, k)  # dC/da = (a - onehot) / n
        np.copyto(g, a)
        rows = np.arange(n)
        g[rows, y] -= 1.0
        value = float(0.5 * np.einsum("ij,ij->", g, g) / n)
        g *= 1.0 / n
        if self.output == "sigmoid":  # da/dz = a (1 - a)
            dz = self._buffer("dz", n, k)
            np.subtract(1.0, a, out=dz)
            dz *= a
            dz *= g
            return value, dz
        # softmax Jacobian: dz = a * (g - sum(g * a))
        dot = np.einsum("ij,ij->i", g, a)[:, None]
        g -= dot
        g *= a
        return value, g


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
