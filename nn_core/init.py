"""Weight initialisation schemes for a Dense layer, all drawing from a passed-in Generator.

- ``normal``: plain standard normal, what the oldest tutorial scripts do (too large for deep or
  wide layers: kept so its effect can be shown).
- ``xavier``: Glorot normal, std ``sqrt(2 / (fan_in + fan_out))``; suits sigmoid and tanh.
- ``he``: He normal, std ``sqrt(2 / fan_in)``; suits ReLU.
Biases start at zero.
"""

from __future__ import annotations

import numpy as np

INITS = ("normal", "xavier", "he")


def init_dense(n_in: int, n_out: int, scheme: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Return (W, b): W float32 of shape (n_in, n_out), b float32 zeros of shape (n_out,)."""
    if scheme == "normal":
        std = 1.0
    elif scheme == "xavier":
        std = np.sqrt(2.0 / (n_in + n_out))
    elif scheme == "he":
        std = np.sqrt(2.0 / n_in)
    else:
        raise ValueError(f"unknown initialisation {scheme!r}: choose one of {', '.join(INITS)}")
    W = rng.standard_normal((n_in, n_out), dtype=np.float32)
    W *= np.float32(std)
    return W, np.zeros(n_out, dtype=np.float32)
