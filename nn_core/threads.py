"""BLAS thread control through ctypes, so small matrix products can run on one thread.

For the small matrices of an MLP on MNIST the BLAS thread pool often costs more than it gives
(a 32x784 @ 784x128 product is twice as fast on one thread here). NumPy does not expose the
thread count, so this module finds the OpenBLAS library NumPy loaded and calls its setter.
Where that library cannot be found (another BLAS, another OS) every function is a no-op.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import numpy as np

_SETTERS = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads")
_GETTERS = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_", "openblas_get_num_threads")


@cache
def openblas_library() -> ctypes.CDLL | None:
    """The OpenBLAS shared library NumPy loaded (the one with a thread setter), or None."""
    np.ones(1) @ np.ones(1)  # make sure the BLAS library is loaded
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            paths = sorted(set(re.findall(r"\S*openblas\S*\.so\S*", maps.read())))
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if any(hasattr(lib, n) for n in _SETTERS) and any(hasattr(lib, n) for n in _GETTERS):
            return lib
    return None


@cache
def _openblas() -> tuple[object, object] | None:
    """Return (setter, getter) ctypes functions of NumPy's OpenBLAS, or None."""
    lib = openblas_library()
    if lib is None:
        return None
    setter = next(getattr(lib, n) for n in _SETTERS if hasattr(lib, n))
    getter = next(getattr(lib, n) for n in _GETTERS if hasattr(lib, n))
    setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
    return setter, getter


@cache
def _default_threads() -> int:
    funcs = _openblas()
    return 1 if funcs is None else int(funcs[1]())


def blas_threads() -> int | None:
    """The current BLAS thread count, or None when it cannot be controlled."""
    funcs = _openblas()
    return None if funcs is None else int(funcs[1]())


@contextmanager
def limit_blas_threads(n: int | None) -> Iterator[None]:
    """Run the body with at most ``n`` BLAS threads (None: leave as is), then restore."""
    funcs = _openblas()
    if n is None or funcs is None:
        yield
        return
    setter, _ = funcs
    default = _default_threads()
    setter(max(1, min(n, default)))
    try:
        yield
    finally:
        setter(default)  # the default, not the value before: safe when threads interleave


def threads_for_batch(batch_size: int, widest_layer: int) -> int | None:
    """Pick a BLAS thread count for one training step: one thread for small products.

    Measured on 2 cores: for batch 32 one thread is ~2x faster, at 128 they tie, at 512 two
    threads win. None means "use the library's default".
    """
    return 1 if batch_size * widest_layer < 128 * 256 else None


def set_blas_threads(n: int) -> None:
    """Set the BLAS thread count to ``n`` (clamped to 1..the default); a no-op without control.

    Use inside ``limit_blas_threads``, which restores the default on the way out.
    """
    funcs = _openblas()
    if funcs is not None:
        funcs[0](max(1, min(int(n), _default_threads())))


class ThreadChooser:
    """Picks, for one epoch, the faster of one BLAS thread and the default count by timing steps.

    The first ``probe_steps`` steps alternate blocks of ``block`` steps between the candidates
    (the first step of each block, which pays for the switch, is not counted); the rest of the
    epoch runs at the candidate with the least time per step. A fixed rule cannot do this: on a
    quiet 2-core machine two threads win from batch 128 up, but when other processes keep a core
    busy, a thread pool that waits for it made a 784-128-10 epoch at batch 128 five times slower
    than one thread did. It does not probe (``probing`` is False) with one candidate (one core, or
    no thread control) or an epoch too short to pay for it; the caller then keeps its own rule.
    """

    def __init__(self, steps: int, candidates: tuple[int, ...] | None = None, rounds: int = 2) -> None:
        default = _default_threads() if _openblas() is not None else 1
        self.candidates = candidates if candidates is not None else tuple(sorted({1, default}))
        self.block = max(3, min(10, steps // 25))
        probing = len(self.candidates) > 1 and steps >= 4 * self.block * len(self.candidates) * rounds
        self.probe_steps = self.block * len(self.candidates) * rounds if probing else 0
        self._time = dict.fromkeys(self.candidates, 0.0)
        self._count = dict.fromkeys(self.candidates, 0)
        self.choice: int | None = None  # set once probing is over

    @property
    def probing(self) -> bool:
        return self.probe_steps > 0

    def threads(self, step: int) -> int:
        """The thread count to run step ``step`` (0-based) with."""
        if step < self.probe_steps:
            return self.candidates[(step // self.block) % len(self.candidates)]
        if self.choice is None:
            self.choice = min(self.candidates, key=lambda t: self._time[t] / max(1, self._count[t]))
        return self.choice

    def record(self, step: int, seconds: float) -> None:
        """Report how long step ``step`` took."""
        if step < self.probe_steps and step % self.block:
            threads = self.candidates[(step // self.block) % len(self.candidates)]
            self._time[threads] += seconds
            self._count[threads] += 1
