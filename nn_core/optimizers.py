"""Optimizers with ``step(params, grads)`` over name-keyed dicts; state is kept per parameter name.

All updates are in place on float32 arrays, with state and scratch buffers made on the first
step for each name. ``lr`` is an attribute, so a schedule (or a person) can change it between
steps. Momentum follows the common form ``v = mu * v + g; p -= lr * v`` (Nesterov:
``p -= lr * (g + mu * v)``). SGD and momentum updates run through ``nn_core.speed.blas`` (one pass
per update instead of NumPy's two or three).
"""

from __future__ import annotations

import math

import numpy as np

from nn_core.speed.blas import axpby, axpy, flush_tiny

FLUSH_BELOW = 1e-20  # state entries this small move no float32 weight; zeroed before they go subnormal

OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")


class Optimizer:
    """Base: per-name state buffers."""

    def __init__(self, lr: float) -> None:
        self.lr = float(lr)
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def _state(self, name: str, like: np.ndarray, *keys: str) -> dict[str, np.ndarray]:
        st = self.state.get(name)
        if st is None:
            st = {key: np.zeros_like(like) for key in (*keys, "tmp")}
            self.state[name] = st
        return st

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, p in params.items():
            self._update(name, p, grads[name])

    def state_arrays(self) -> dict[str, np.ndarray]:
        """The state that carries over between steps, as ``"param/key"`` arrays (scratch left out),
        so a run trained on in another process goes on as if it had never stopped."""
        arrays = {
            f"{name}/{key}": a for name, st in self.state.items() for key, a in st.items() if key != "tmp"
        }
        arrays.update({f"{name}/t": np.array(t) for name, t in getattr(self, "t", {}).items()})
        return arrays

    def load_state_arrays(self, arrays: dict[str, np.ndarray], params: dict[str, np.ndarray]) -> bool:
        """Take the state ``state_arrays`` gave, for the parameters ``params``.

        Returns False, changing nothing, when the arrays do not fit (another optimizer or shape).
        """
        keys = {key.rsplit("/", 1)[1] for key in arrays if not key.endswith("/t")}
        names = {key.rsplit("/", 1)[0] for key in arrays}
        if not names <= params.keys():
            return False
        for key, a in arrays.items():
            name, part = key.rsplit("/", 1)
            if part != "t" and a.shape != params[name].shape:
                return False
        for name in names:
            st = self._state(name, params[name], *keys)
            for key in keys:
                if f"{name}/{key}" in arrays:
                    np.copyto(st[key], arrays[f"{name}/{key}"])
            if f"{name}/t" in arrays and hasattr(self, "t"):
                self.t[name] = int(arrays[f"{name}/t"])
        return True

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError


def flush_period(decay: float) -> int:
    """Steps between flushes of a state that decays by ``decay`` per step (0: never needed).

    An entry kept at >= FLUSH_BELOW shrinks by at most 1e10 before the next flush, so it stays
    above 1e-30, far from float32's subnormal range (below 1.2e-38) even times a small rate.
    """
    if not 0.0 < decay < 1.0:
        return 0
    return max(1, int(math.log(1e-10) / math.log(decay)))


class SGD(Optimizer):
    """Plain gradient descent ``p -= lr * g``."""

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        axpy(-self.lr, g, p, self._state(name, p)["tmp"])


class Momentum(Optimizer):
    """SGD with (optionally Nesterov) momentum ``mu``.

    Every ``flush_period(mu)`` steps, velocity entries below ``FLUSH_BELOW`` are set to zero: a
    velocity whose gradient stays zero (a rarely lit border pixel) would otherwise decay into
    float32's subnormal range, where it slowed the update by 60% after one MNIST epoch.
    """

    def __init__(self, lr: float, momentum: float = 0.9, nesterov: bool = False) -> None:
        super().__init__(lr)
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self._flush_every = flush_period(self.momentum)
        self._count: dict[str, int] = {}

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        st = self._state(name, p, "v")
        v, tmp = st["v"], st["tmp"]
        axpby(1.0, g, self.momentum, v, tmp)  # v = mu * v + g
        if self.nesterov:  # p -= lr * (g + mu * v)
            axpy(-self.lr, g, p, tmp)
            axpy(-self.lr * self.momentum, v, p, tmp)
        else:
            axpy(-self.lr, v, p, tmp)
        count = self._count[name] = self._count.get(name, 0) + 1
        if self._flush_every and count % self._flush_every == 0:
            flush_tiny(v, tmp, FLUSH_BELOW)


class RMSprop(Optimizer):
    """``s = rho * s + (1 - rho) * g**2; p -= lr * g / (sqrt(s) + eps)``."""

    def __init__(self, lr: float, rho: float = 0.9, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.rho, self.eps = float(rho), float(eps)

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        st = self._state(name, p, "s")
        s, tmp = st["s"], st["tmp"]
        s *= self.rho
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.rho
        s += tmp
        np.sqrt(s, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= self.lr
        p -= tmp


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba, 2015)."""

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7) -> None:
        super().__init__(lr)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.t: dict[str, int] = {}

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        st = self._state(name, p, "m", "v")
        m, v, tmp = st["m"], st["v"], st["tmp"]
        t = self.t[name] = self.t.get(name, 0) + 1
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=tmp)
        m += tmp
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - self.beta2
        v += tmp
        # p -= lr_t * m / (sqrt(v) + eps_t), the bias corrections folded into lr_t and eps_t
        correction = math.sqrt(1.0 - self.beta2**t)  # a Python float keeps the loops below in float32
        lr_t = self.lr * correction / (1.0 - self.beta1**t)
        np.sqrt(v, out=tmp)
        tmp += self.eps * correction
        np.divide(m, tmp, out=tmp)
        tmp *= lr_t
        p -= tmp


def make_optimizer(name: str, lr: float, momentum: float = 0.9) -> Optimizer:
    """Build an optimizer from its name (one of ``OPTIMIZERS``)."""
    if name == "sgd":
        return SGD(lr)
    if name in ("momentum", "nesterov"):
        return Momentum(lr, momentum, nesterov=name == "nesterov")
    if name == "rmsprop":
        return RMSprop(lr)
    if name == "adam":
        return Adam(lr)
    raise ValueError(f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}")
