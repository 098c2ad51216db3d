"""Central finite differences for checking the gradients of float32 code.

The engine computes in float32 (layers cast their parameters), so the checks run on the float32
code itself and keep the numerical side as exact as float32 allows:

- a scalar objective is always summed in float64, e.g. ``sum(out * R)`` against a fixed random
  projection ``R`` for a layer, so every output element contributes with a different weight;
- the step actually taken is ``float32(x + eps) - float32(x - eps)`` (the float32 rounding of the
  perturbed value), not the nominal ``2 * eps``;
- the comparison is the relative error ``||a - b|| / (||a|| + ||b||)`` over the whole gradient.

With ``eps = 1e-3`` and inputs of order one, float32 rounding of the outputs (~6e-8 relative)
contributes about 1e-4 to that relative error and the O(eps^2) truncation less, so
``TOL = 5e-3`` separates a correct gradient from a wrong one (a missing factor, a transposed
matrix or a wrong sign gives a relative error of order 0.1 to 1). Measured on correct code:
single layers 1e-8 to 4e-5, losses on batches of 1 to 4 up to 4e-4, whole networks up to 2e-3;
a backward pass off by 5 % in one activation gives 2e-2.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

EPS = 1e-3
TOL = 5e-3
# Through a whole network the float32 rounding of the loss (~1e-7 of it) is divided by the step
# while the first layers' gradients are small, so network checks take a larger step and keep every
# ReLU input at least KINK_MARGIN from 0, so that no step crosses the kink.
NET_EPS = 3e-3
KINK_MARGIN = 0.05


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = EPS) -> np.ndarray:
    """Central-difference gradient of ``f()`` with respect to ``x``, which is perturbed in place.

    Parameters
    ----------
    f : callable returning the objective (a float) for the current contents of ``x``
    x : float32 ndarray of any shape, restored to its original values afterwards

    Returns
    -------
    ndarray of float64, the shape of ``x``
    """
    grad = np.zeros(x.shape, dtype=np.float64)
    flat = x.reshape(-1)  # a view: x must be contiguous
    assert np.shares_memory(flat, x)
    for i in range(flat.size):
        orig = flat[i]
        plus = flat.dtype.type(float(orig) + eps)
        minus = flat.dtype.type(float(orig) - eps)
        flat[i] = plus
        f_plus = f()
        flat[i] = minus
        f_minus = f()
        flat[i] = orig
        grad.reshape(-1)[i] = (f_plus - f_minus) / (float(plus) - float(minus))
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """``||a - b|| / (||a|| + ||b||)`` in float64 (0 when both are zero)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def projected(out: np.ndarray, R: np.ndarray) -> float:
    """The scalar ``sum(out * R)`` computed in float64."""
    return float(np.sum(out.astype(np.float64) * R))


def check_layer(
    layer, x: np.ndarray, rng: np.random.Generator, training: bool = True, tol: float = TOL
) -> dict[str, float]:
    """Compare a layer's backward pass with central differences of ``sum(forward(x) * R)``.

    Parameters
    ----------
    layer : object with ``forward(x, training)``, ``backward(dy)``, ``params()`` and ``grads()``
    x : float32 ndarray of shape (n, n_in), away from any kink of the layer

    Returns
    -------
    dict mapping ``"x"`` and each parameter name to its relative error; asserts each is below ``tol``.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = layer.forward(x, training)
    R = rng.standard_normal(out.shape)  # float64 projection
    dx = np.array(layer.backward(R.astype(np.float32)), dtype=np.float64, copy=True)
    analytic = {name: np.array(g, dtype=np.float64, copy=True) for name, g in layer.grads().items()}

    def objective() -> float:
        return projected(layer.forward(x, training), R)

    errors = {"x": relative_error(dx, numerical_gradient(objective, x))}
    for name, p in layer.params().items():
        errors[name] = relative_error(analytic[name], numerical_gradient(objective, p))
    for name, err in errors.items():
        assert err < tol, f"gradient of {name}: relative error {err:.2e} (tolerance {tol:.0e})"
    return errors
