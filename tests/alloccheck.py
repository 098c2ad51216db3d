"""Measure the memory a training step allocates, to check that layers reuse their buffers."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable


def step_allocation(step: Callable[[], object], warmup: int = 2) -> int:
    """Peak bytes allocated by one call of ``step`` after ``warmup`` calls (which may allocate).

    Array data counts in full, so a float32 temporary of the size of a batch shows up. NumPy's
    element-wise loops over strided or broadcast operands take scratch buffers of a fixed size
    (up to 8192 elements, 32 kB each) that stop growing with the batch once the operands exceed
    that size; callers therefore compare two such batch sizes (see ``assert_no_batch_arrays``).
    """
    for _ in range(warmup):
        step()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - before


def assert_no_batch_arrays(make_step: Callable[[int], Callable[[], object]], small: int, large: int) -> int:
    """Assert a step allocates nothing that grows with the batch; return the large batch's peak.

    ``make_step(n)`` returns a step on a batch of ``n`` rows. The peaks at ``small`` and ``large``
    rows must agree within 2 kB (view objects), whereas one temporary map of the batch would
    differ by at least ``(large - small)`` times a row's size.
    """
    peak_small = step_allocation(make_step(small))
    peak_large = step_allocation(make_step(large))
    assert peak_large - peak_small < 2_000, (
        f"a step allocated {peak_small} bytes for {small} rows and {peak_large} for {large}"
    )
    return peak_large
