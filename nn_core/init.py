"""Weight initialisation schemes for Dense and Conv2D layers, all drawing from a passed-in Generator.

- ``normal``: plain standard normal, what the oldest tutorial scripts do (too large for deep or
  wide layers: kept so its effect can be shown).
- ``xavier``: Glorot normal, std ``sqrt(2 / (fan_in + fan_out))``; suits sigmoid and tanh.
- ``he``: He normal, std ``sqrt(2 / fan_in)``; suits ReLU.
Biases start at zero.
"""

from __future__ import annotations

import numpy as np

INITS = ("normal", "xavier", "he")


def init_std(scheme: str, fan_in: int, fan_out: int) -> float:
    """The standard deviation of ``scheme`` for a layer with the given fans."""
    if scheme == "normal":
        return 1.0
    if scheme == "xavier":
        return float(np.sqrt(2.0 / (fan_in + fan_out)))
    if scheme == "he":
        return float(np.sqrt(2.0 / fan_in))
    raise ValueError(f"unknown initialisation {scheme!r}: choose one of {', '.join(INITS)}")


def init_dense(n_in: int, n_out: int, scheme: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (W, b): W float32 of shape (n_in, n_out), b float32 zeros of shape (n_out,)."""
    std = init_std(scheme, n_in, n_out)
    W = rng.standard_normal((n_in, n_out), dtype=np.float32)
    W *= np.float32(std)
    return W, np.zeros(n_out, dtype=np.float32)


def init_conv(
    kernel: int, c_in: int, c_out: int, scheme: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return (W, b) for a square conv layer: W float32 (kernel, kernel, c_in, c_out), b zeros (c_out,).

    Each output sees ``fan_in = kernel * kernel * c_in`` inputs (Xavier's fan-out is
    ``kernel * kernel * c_out``), so every scheme keeps the scale it has for a dense layer.
    """
    area = kernel * kernel
    std = init_std(scheme, area * c_in, area * c_out)
    W = rng.standard_normal((kernel, kernel, c_in, c_out), dtype=np.float32)
    W *= np.float32(std)
    return W, np.zeros(c_out, dtype=np.float32)
