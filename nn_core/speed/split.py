"""Two Python threads over the two halves of a batch, for the layers that work image by image.

A convolution's im2col copies, its col2im additions and the pooling and ReLU passes are NumPy
operations that run on one core whatever the BLAS thread count, and they took 37% of a CNN
training step on one thread (conv 5x5x16 - pool - conv 5x5x32 - pool - dense, batch 128; see
``benchmarks/conv_layers.py``). NumPy releases the GIL inside copies, ufuncs and matrix
products on float arrays, so two threads that each take half of the batch run them on both
cores at once. Each half's matrix products run on a single BLAS thread in its own Python thread
(the caller keeps BLAS on one thread: a pool of two would fight the other half for the cores),
and weight-gradient products give one partial sum per half, added afterwards.

Measured on 2 cores (AMD EPYC, BENCHMARKS.md): a step of that CNN took 14.0-14.6 ms this way,
16.4 ms on two BLAS threads over the whole batch and 21.0 ms on one thread; an epoch 2-8% less
than on two BLAS threads.

``StepThreads`` turns this on for a training step when it runs on two threads
(``speed.threads.set_split_workers``); the setting belongs to the calling thread, so an app thread calling
``infer`` beside a training thread never splits. Layers call ``run_halves`` with buffers they
got beforehand (two threads never allocate a layer buffer at once). The helper thread is one
per process: two trainings at once in one process share it, correct but slower.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from nn_core.speed.threads import split_workers

# smaller passes run whole: ReLU and pooling on the CNN's 8x8x32 maps (262k floats) took 0.1 ms
# longer in halves than whole, as handing work to the other thread costs tens of microseconds
MIN_SPLIT_FLOATS = 1 << 19


@cache
def _pool() -> ThreadPoolExecutor:
    """The one helper thread that runs the second half (the calling thread runs the first)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="nn_core-half")


def run_halves(fn: Callable[[int, int, int], None], n: int, floats: int) -> int:
    """Call ``fn(part, lo, hi)`` over the batch rows ``lo:hi`` of ``range(n)``.

    With two split workers and ``floats`` (the pass's array size) of at least
    ``MIN_SPLIT_FLOATS``, part 0 (rows ``0:n//2``) runs here and part 1 (the rest) on the helper
    thread at the same time; otherwise ``fn(0, 0, n)`` runs alone.
    ``fn`` must write disjoint rows per part (or a buffer of its own per part). Returns the
    number of parts run (1 or 2).
    """
    if split_workers() < 2 or n < 2 or floats < MIN_SPLIT_FLOATS:
        fn(0, 0, n)
        return 1
    half = n // 2
    future = _pool().submit(fn, 1, half, n)
    try:
        fn(0, 0, half)
    finally:
        future.result()  # wait for the other half even when this one raised
    return 2
