"""Batch normalisation for rows (n, F) after a dense layer or NHWC maps (n, H, W, F) after a conv.

Layout: the features are the last axis; statistics are taken over every other axis, so a
(n, H, W, C) map is handled as a (n*H*W, C) matrix (per-channel statistics, as for a conv layer
in any library). In training, ``forward`` normalises with the batch's mean and biased variance,
``y = gamma * (x - mean) / sqrt(var + eps) + beta``, and updates the running statistics:
``running = momentum * running + (1 - momentum) * batch``, where the batch variance in the
running value is the unbiased one (times m / (m - 1), m the rows per feature), as PyTorch does.
``forward(training=False)`` and ``infer`` use the running statistics. ``state()`` and
``set_state()`` expose them (``{"mean", "var"}``, float32 of shape (F,)) for model files.
"""

from __future__ import annotations

import numpy as np

from nn_core.layers import DTYPE, Layer


class BatchNorm(Layer):
    """Batch normalisation over all axes but the last.

    Parameters
    ----------
    n_features : int, F, the length of the last axis of the inputs
    momentum : float in [0, 1), the weight of the old running statistics in each update
    eps : float, added to the variance before the square root
    """

    def __init__(self, n_features: int, momentum: float = 0.9, eps: float = 1e-5) -> None:
        super().__init__()
        if int(n_features) != n_features or n_features < 1:
            raise ValueError(f"n_features must be a positive integer, got {n_features}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        f = int(n_features)
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.gamma = np.ones(f, dtype=DTYPE)
        self.beta = np.zeros(f, dtype=DTYPE)
        self.dgamma = np.zeros(f, dtype=DTYPE)
        self.dbeta = np.zeros(f, dtype=DTYPE)
        self.running_mean = np.zeros(f, dtype=DTYPE)
        self.running_var = np.ones(f, dtype=DTYPE)
        self._mean = np.zeros(f, dtype=DTYPE)  # batch statistics of the last training forward
        self._var = np.zeros(f, dtype=DTYPE)
        self._inv_std = np.zeros(f, dtype=DTYPE)  # 1 / sqrt(var + eps) of the last forward
        self._scale = np.zeros(f, dtype=DTYPE)  # gamma * inv_std
        self._tmp = np.zeros((2, f), dtype=DTYPE)  # per-feature scratch
        self._training = False

    @property
    def n_features(self) -> int:
        return self.gamma.shape[0]

    def _rows(self, x: np.ndarray) -> np.ndarray:
        if x.shape[-1] != self.n_features:
            raise ValueError(f"BatchNorm expects {self.n_features} features on the last axis, got {x.shape}")
        return x.reshape(-1, self.n_features)  # (m, F): a view for contiguous inputs

    def forward(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Normalise ``x`` of shape (n, F) or (n, H, W, F); returns a buffer of the same shape."""
        x2 = self._rows(x)
        m = x2.shape[0]
        out = self._buffer_nd("out", x.shape)
        xhat = self._buffer_nd("xhat", x2.shape)  # (m, F)
        self._training = training
        if training:
            ones = self._ones(m)
            np.matmul(ones, x2, out=self._mean)  # column sums as a BLAS product
            self._mean *= DTYPE(1.0 / m)
            np.subtract(x2, self._mean, out=xhat)  # centred
            sq = self._buffer_nd("sq", x2.shape)
            np.multiply(xhat, xhat, out=sq)
            np.matmul(ones, sq, out=self._var)
            self._var *= DTYPE(1.0 / m)
            self._update_running(m)
            np.add(self._var, DTYPE(self.eps), out=self._inv_std)
        else:
            np.subtract(x2, self.running_mean, out=xhat)
            np.add(self.running_var, DTYPE(self.eps), out=self._inv_std)
        np.sqrt(self._inv_std, out=self._inv_std)
        np.divide(DTYPE(1.0), self._inv_std, out=self._inv_std)
        xhat *= self._inv_std
        out2 = out.reshape(x2.shape)
        np.multiply(xhat, self.gamma, out=out2)
        out2 += self.beta
        return out

    def _update_running(self, m: int) -> None:
        a, tmp = DTYPE(self.momentum), self._tmp[0]
        self.running_mean *= a
        np.multiply(self._mean, DTYPE(1.0 - self.momentum), out=tmp)
        self.running_mean += tmp
        self.running_var *= a
        np.multiply(self._var, DTYPE((1.0 - self.momentum) * m / max(m - 1, 1)), out=tmp)
        self.running_var += tmp

    def backward(self, dy: np.ndarray) -> np.ndarray:
        """Fill ``dgamma`` and ``dbeta`` from ``dy`` (the shape of the input); return ``dx``.

        With batch statistics, ``dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))``
        (means over the m rows per feature); with running statistics, ``dx = gamma * inv_std * dy``.
        """
        dy2 = self._rows(dy)
        m = dy2.shape[0]
        xhat = self._buffer_nd("xhat", dy2.shape)
        prod = self._buffer_nd("prod", dy2.shape)
        ones = self._ones(m)
        np.multiply(dy2, xhat, out=prod)
        np.matmul(ones, prod, out=self.dgamma)  # sum(dy * xhat)
        np.matmul(ones, dy2, out=self.dbeta)  # sum(dy)
        np.multiply(self.gamma, self._inv_std, out=self._scale)
        dx = self._buffer_nd("dx", dy.shape)
        dx2 = dx.reshape(dy2.shape)
        if not self._training:
            np.multiply(dy2, self._scale, out=dx2)
            return dx
        mean_dy, mean_dyx = self._tmp
        np.multiply(self.dbeta, DTYPE(1.0 / m), out=mean_dy)
        np.multiply(self.dgamma, DTYPE(1.0 / m), out=mean_dyx)
        np.multiply(xhat, mean_dyx, out=prod)  # xhat * mean(dy * xhat)
        np.subtract(dy2, prod, out=dx2)
        dx2 -= mean_dy
        dx2 *= self._scale
        return dx

    def infer(self, x: np.ndarray) -> np.ndarray:
        x2 = self._rows(x)
        scale = self.gamma / np.sqrt(self.running_var + DTYPE(self.eps))
        out = (x2 - self.running_mean) * scale + self.beta
        return out.reshape(x.shape)

    def params(self) -> dict[str, np.ndarray]:
        return {"gamma": self.gamma, "beta": self.beta}

    def grads(self) -> dict[str, np.ndarray]:
        return {"gamma": self.dgamma, "beta": self.dbeta}

    def state(self) -> dict[str, np.ndarray]:
        """The running statistics, ``{"mean": (F,), "var": (F,)}`` float32 (the layer's own arrays)."""
        return {"mean": self.running_mean, "var": self.running_var}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Copy running statistics saved by ``state()`` into this layer (shapes must match)."""
        for name, target in (("mean", self.running_mean), ("var", self.running_var)):
            value = np.asarray(state[name], dtype=DTYPE)
            if value.shape != target.shape:
                raise ValueError(f"BatchNorm state {name!r} has shape {value.shape}, expected {target.shape}")
            np.copyto(target, value)
