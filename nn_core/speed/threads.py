"""BLAS thread control through ctypes, so small matrix products can run on one thread.

For the small matrices of an MLP on MNIST the BLAS thread pool often costs more than it gives
(a 32x784 @ 784x128 product is twice as fast on one thread here). NumPy does not expose the
thread count, so this module finds the OpenBLAS library NumPy loaded and calls its setter.
Where that library cannot be found (another BLAS, another OS) every function is a no-op.
"""

from __future__ import annotations

import ctypes
import math
import os
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


def threads_for_batch(batch_size: int, n_weights: int) -> int | None:
    """Pick a BLAS thread count for one training step: one thread when the step is small.

    A step's matrix work grows with batch size times the network's weights. Measured on 2 cores
    (epoch time on two threads / on one): 784-128-10 at batch 16 (1.6M) 1.09, at batch 8 1.31;
    784-128-10 at batch 32 (3.2M) 1.02; 784-256-128-10 at batch 32 (7.5M) 0.90. Below 2M the
    pool cannot pay for itself; above, None lets ``ThreadChooser`` time both.
    """
    return 1 if batch_size * n_weights < 2_000_000 else None


def set_blas_threads(n: int) -> None:
    """Set the BLAS thread count to ``n`` (clamped to 1..the default); a no-op without control.

    Use inside ``limit_blas_threads``, which restores the default on the way out.
    """
    funcs = _openblas()
    if funcs is not None:
        funcs[0](max(1, min(int(n), _default_threads())))


def machine_busy() -> bool:
    """True when the 1-minute load average exceeds the cores this process may use by half a core.

    Our own training counts in it (one or two runnable threads), so a quiet 2-core machine shows
    1 to 2; 3 or more means other processes want the cores too. False where unknown.
    """
    try:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        return os.getloadavg()[0] > cores + 0.5
    except (OSError, AttributeError):
        return False


class ThreadChooser:
    """Picks the BLAS thread count step by step, from timed blocks of training steps.

    A fixed rule cannot do this well. On a quiet 2-core machine two threads win from batch 128 up
    (by up to 30%), but when other processes keep a core busy a thread pool that waits for it
    turns slow: a 784-128-10 epoch at batch 128 took 3.2-23 s on two threads against 0.6-2.5 s on
    one, and single two-thread steps took 100 ms instead of 1. So the chooser alternates short
    blocks of steps between the candidate counts, keeps the fastest, and probes again later.
    Fewer threads are preferred unless more are faster by ``1 - margin``. The risk is lopsided
    (one thread loses at most ~30%, a waiting pool can lose 10x), so: a probe stops at the first
    step on more threads that takes over twice the one-thread time (the first step of a block,
    which pays for the switch, counts only for this); while on more threads, three slow steps in
    a row fall back to one thread; while the same count keeps winning, probes grow rarer (the
    wait doubles from ``period`` steps up to 64 times that for one thread, 8 times for more:
    at batch 512 a probe every 64 steps cost 6% of the epoch), with at least ``min_seconds`` of
    training between probes (load changes over seconds); and no probe starts while the load
    average says other processes want the cores (``machine_busy``), since even a probe's few
    pooled steps then cost 25-180 ms each. Keep one chooser across epochs so that this knowledge
    carries over; steps are numbered across the whole run.
    """

    def __init__(
        self,
        candidates: tuple[int, ...] | None = None,
        block: int = 4,
        period: int = 64,
        margin: float = 0.9,
        min_seconds: float = 1.0,
    ) -> None:
        default = _default_threads() if _openblas() is not None else 1
        self.candidates = candidates if candidates is not None else tuple(sorted({1, default}))
        self.block, self.period, self.margin = block, period, margin
        self.min_seconds = min_seconds  # at least this much training between probes
        self.probe_len = 2 * block * len(self.candidates)  # two rounds of blocks
        self.choice = self.candidates[0]
        self.steps_at = dict.fromkeys(self.candidates, 0)  # steps run at each count
        self._probe_from: int | None = None  # first step of the probe under way
        self._next_probe: int | None = None  # None: probe at the first step seen
        self._wait = period
        self._samples: dict[int, list[float]] = {}
        self._reference = 0.0  # seconds per step on the fewest threads, from the last probe
        self._slow = 0

    @property
    def active(self) -> bool:
        """False with a single candidate (one core, or no thread control): nothing to choose."""
        return len(self.candidates) > 1

    def threads(self, step: int) -> int:
        """The thread count to run ``step`` with; call once per step, steps in increasing order."""
        if self._probe_from is None and (self._next_probe is None or step >= self._next_probe):
            if machine_busy():  # other processes hold the cores: a pool would wait, don't try it
                self.choice, self._wait = self.candidates[0], min(self._wait * 2, 64 * self.period)
                self._next_probe = step + self._wait
            else:
                self._probe_from, self._samples = step, {t: [] for t in self.candidates}
        count = self.choice
        if self._probe_from is not None:
            offset = step - self._probe_from
            if offset < self.probe_len:
                count = self.candidates[(offset // self.block) % len(self.candidates)]
            else:
                self._decide(step)
                count = self.choice
        self.steps_at[count] += 1
        return count

    def record(self, step: int, seconds: float) -> None:
        """Report how long ``step`` took."""
        fewest = self.candidates[0]
        if self._probe_from is not None and 0 <= step - self._probe_from < self.probe_len:
            offset = step - self._probe_from
            count = self.candidates[(offset // self.block) % len(self.candidates)]
            base = self._samples[fewest]
            if count != fewest and base and seconds > 2.0 * sum(base) / len(base):
                self._samples[count].append(seconds)
                self._decide(step + 1)  # a pool waiting for a busy core: stop probing it now
            elif offset % self.block:  # the first step of a block pays for the switch
                self._samples[count].append(seconds)
        elif self._probe_from is None and self.choice != fewest and self._reference > 0:
            self._slow = self._slow + 1 if seconds > 2.0 * self._reference else 0
            if self._slow >= 3:  # the pool is waiting for a busy core: back to the fewest threads
                self.choice, self._slow = fewest, 0
                self._next_probe, self._wait = step + 1 + self.period, self.period

    def _decide(self, step: int) -> None:
        """End the probe: keep the fastest candidate (fewer threads unless clearly slower)."""
        means = {t: sum(v) / len(v) for t, v in self._samples.items() if v}
        fewest = self.candidates[0]
        self._reference = means.get(fewest, 0.0)
        best = min(means, key=means.__getitem__) if means else fewest
        if best == fewest or means[best] >= self.margin * self._reference:
            best = fewest
        # the same outcome again: probe less often (a one-thread run is safe, so it may wait
        # longer; a pooled run is also guarded by the slow-step fallback in ``record``)
        longest = (64 if best == fewest else 8) * self.period
        self._wait = min(self._wait * 2, longest) if best == self.choice else self.period
        self.choice = best
        self._probe_from, self._slow = None, 0
        per_step = means.get(best, 0.0)
        by_time = math.ceil(self.min_seconds / per_step) if per_step > 0 else 0
        self._next_probe = step + max(self._wait, by_time)

    def most_used(self) -> int:
        """The thread count that ran the most steps so far."""
        return max(self.candidates, key=self.steps_at.__getitem__)
