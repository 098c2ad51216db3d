"""Where queued runs train: a local process pool by default, a Dask cluster when configured.

``DIGIT_LAB_EXECUTOR`` chooses: ``local`` (the default: a fresh process per run on this machine, at
a lower CPU priority than the server, so one that dies takes no other run with it) or
``dask://HOST:PORT`` (a Dask distributed scheduler; its ``Client.get_executor()`` is a
``concurrent.futures`` executor, so the queue does not know the difference). Cluster workers must
see the same ``DIGIT_LAB_HOME`` (a shared folder) and ``DIGIT_LAB_DATA``. ``DIGIT_LAB_MAX_RUNS``
caps how many runs train at once (default: the number of cores this process may use).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

EXECUTOR_ENV = "DIGIT_LAB_EXECUTOR"
MAX_RUNS_ENV = "DIGIT_LAB_MAX_RUNS"
TRAINING_NICENESS = 10  # worker processes yield the CPU to the server drawing pages meanwhile


class ExecutorError(ValueError):
    """An executor setting that cannot be used; the message says what to change."""


def max_running() -> int:
    """How many runs may train at once: ``DIGIT_LAB_MAX_RUNS``, else the usable cores."""
    text = os.environ.get(MAX_RUNS_ENV, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ExecutorError(f"{MAX_RUNS_ENV} must be a whole number of at least 1, got {text!r}")
        return int(text)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def lower_priority(niceness: int = TRAINING_NICENESS) -> None:
    """Run this process at ``niceness`` at least (where the platform allows it)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), niceness))
    except (AttributeError, OSError):
        pass


class ProcessPerTask(Executor):
    """Each task in a fresh process of its own (``spawn``: safe beside the server's threads).

    A process pool shared by all runs breaks as a whole when one of its processes is killed; here
    the killed run's future alone fails (``BrokenProcessPool``) and the others go on.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        pool = ProcessPoolExecutor(
            1, mp_context=multiprocessing.get_context("spawn"), initializer=lower_priority
        )
        future = pool.submit(fn, *args, **kwargs)
        pool.shutdown(wait=False)  # the task still runs; the process ends with it
        return future


def make_executor(spec: str | None = None, workers: int | None = None) -> Executor:
    """An executor for ``spec`` (default: ``$DIGIT_LAB_EXECUTOR`` or ``local``)."""
    spec = (spec or os.environ.get(EXECUTOR_ENV, "") or "local").strip()
    if spec == "local":
        return ProcessPerTask()  # how many run at once is the queue's cap
    if spec.startswith("dask://"):
        address = spec.removeprefix("dask://")
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError(
                f"{EXECUTOR_ENV}={spec} needs Dask distributed: pip install -r requirements-cluster.txt"
            ) from None
        try:
            client = Client(address if "://" in address else f"tcp://{address}", timeout="10s")
        except OSError as err:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {err}") from err
        return client.get_executor(pure=False)
    raise ExecutorError(f"{EXECUTOR_ENV} must be 'local' or 'dask://HOST:PORT', got {spec!r}")
