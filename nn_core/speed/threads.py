"""BLAS thread control for the training loop, through threadpoolctl.

For the small matrices of an MLP on MNIST the BLAS thread pool often costs more than it gives
(a 32x784 @ 784x128 product is twice as fast on one thread here). ``threadpoolctl`` finds the
OpenBLAS that NumPy loaded; this module keeps its controller and sets the thread count directly
(about 2 us a call), so the count can change between two training steps. ``StepThreads`` is the
trainer's whole interface: a rule for small steps, a timed choice (``ThreadChooser``) for large
ones. Where no OpenBLAS is found (another BLAS, another OS) every function is a no-op.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController


@cache
def _controller() -> Any | None:
    """threadpoolctl's controller of NumPy's OpenBLAS (the one NumPy's wheels bundle first), or None."""
    np.ones(1) @ np.ones(1)  # make sure the BLAS library is loaded
    found = ThreadpoolController().select(internal_api="openblas").lib_controllers
    found.sort(key=lambda c: "numpy" not in str(c.filepath))
    return found[0] if found else None


def openblas_library() -> ctypes.CDLL | None:
    """The OpenBLAS shared library NumPy loaded, or None (for the kernels in ``speed.blas``)."""
    controller = _controller()
    return None if controller is None else controller.dynlib


@cache
def _default_threads() -> int:
    controller = _controller()
    return 1 if controller is None else int(controller.get_num_threads())


def blas_threads() -> int | None:
    """The current BLAS thread count, or None when it cannot be controlled."""
    controller = _controller()
    return None if controller is None else int(controller.get_num_threads())


@contextmanager
def limit_blas_threads(n: int | None) -> Iterator[None]:
    """Run the body with at most ``n`` BLAS threads (None: leave as is), then restore."""
    controller = _controller()
    if n is None or controller is None:
        yield
        return
    default = _default_threads()
    controller.set_num_threads(max(1, min(n, default)))
    try:
        yield
    finally:
        controller.set_num_threads(default)  # the default, not the value before: safe when threads interleave


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
    controller = _controller()
    if controller is not None:
        controller.set_num_threads(max(1, min(int(n), _default_threads())))


_local = threading.local()


def set_split_workers(workers: int) -> None:
    """Run the calling thread's per-image layer passes on ``workers`` threads (1, or 2: halves).

    Read by ``speed.split.run_halves``; per thread, so another thread's ``infer`` never splits.
    """
    _local.workers = 2 if workers >= 2 else 1


def split_workers() -> int:
    """How many threads the calling thread's per-image layer passes use (1 unless set)."""
    return getattr(_local, "workers", 1)


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
        default = _default_threads() if _controller() is not None else 1
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


class StepThreads:
    """The BLAS thread count of each training step of one run: the trainer's only thread interface.

    Small steps (``threads_for_batch``) run on one thread; larger ones are timed by a
    ``ThreadChooser`` kept across epochs (a new one when the batch size changes). With
    ``halves`` (a network with convolutions), two threads mean the batch halves of
    ``speed.split`` on one BLAS thread each rather than two BLAS threads. Use::

        with step_threads.epoch(batch_size, steps):
            for step in ...:
                step_threads.before(step)
                ...  # one training step
                step_threads.after(step)
    """

    def __init__(self, n_weights: int, halves: bool = False) -> None:
        self.n_weights = n_weights
        self.halves = halves  # two threads: batch halves on one BLAS thread each (see ``speed.split``)
        self.last_epoch: int | None = None  # threads most of the last epoch ran on (None: fixed rule)
        self._chooser: tuple[int, ThreadChooser] | None = None  # (batch size, chooser)
        self._active: ThreadChooser | None = None
        self._current: int | None = None
        self._tick = 0.0

    def _chooser_for(self, batch_size: int, steps: int) -> ThreadChooser | None:
        """The run's chooser; None when there is nothing to choose or an epoch is too short to probe."""
        if self._chooser is None or self._chooser[0] != batch_size:
            # long steps (batch 512 on 784-256-128-10: 3 ms) time reliably in blocks of 2, which
            # halves what the probe's one-thread steps cost
            block = 2 if batch_size * self.n_weights >= 25_000_000 else 4
            self._chooser = (batch_size, ThreadChooser(block=block))
        chooser = self._chooser[1]
        return chooser if chooser.active and steps >= 2 * chooser.probe_len else None

    @contextmanager
    def epoch(self, batch_size: int, steps: int) -> Iterator[None]:
        """Apply the thread count for an epoch of ``steps`` steps; restore the default after."""
        threads = threads_for_batch(batch_size, self.n_weights)
        chooser = self._chooser_for(batch_size, steps) if threads is None else None
        if chooser is not None:
            threads = chooser.candidates[0]
            chooser.steps_at = dict.fromkeys(chooser.candidates, 0)
        self._active, self._current = chooser, threads
        self._apply(threads or 1)
        try:
            with limit_blas_threads(threads):
                self._apply(threads or 1)
                yield
        finally:
            set_split_workers(1)
            self.last_epoch = chooser.most_used() if chooser is not None else None
            self._active = None

    def _apply(self, threads: int) -> None:
        """Run on ``threads`` BLAS threads, or on batch halves with one BLAS thread each.

        With ``halves``, an idle OpenBLAS worker would keep spinning on the core the second half
        needs (a step took 24 ms instead of 15), so BLAS stays on one thread.
        """
        set_split_workers(threads if self.halves else 1)
        set_blas_threads(1 if self.halves else threads)

    def before(self, step: int) -> None:
        """Call before training step ``step`` (numbered across the run)."""
        chooser = self._active
        if chooser is not None and (wanted := chooser.threads(step)) != self._current:
            self._current = wanted
            self._apply(wanted)
        self._tick = time.perf_counter()

    def after(self, step: int) -> None:
        """Call after training step ``step``: the chooser learns how long it took."""
        if self._active is not None:
            self._active.record(step, time.perf_counter() - self._tick)
