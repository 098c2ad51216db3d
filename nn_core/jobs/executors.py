"""Where queued runs train: a local process pool by default, a Dask cluster when configured.

``DIGIT_LAB_EXECUTOR`` chooses: ``local`` (the default: one process per run on this machine) or
``dask://HOST:PORT`` (a Dask distributed scheduler; its ``Client.get_executor()`` is a
``concurrent.futures`` executor, so the queue does not know the difference). Cluster workers must
see the same ``DIGIT_LAB_HOME`` (a shared folder) and ``DIGIT_LAB_DATA``. ``DIGIT_LAB_MAX_RUNS``
caps how many runs train at once (default: the number of cores this process may use).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor

EXECUTOR_ENV = "DIGIT_LAB_EXECUTOR"
MAX_RUNS_ENV = "DIGIT_LAB_MAX_RUNS"


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


def make_executor(spec: str | None = None, workers: int | None = None) -> Executor:
    """An executor for ``spec`` (default: ``$DIGIT_LAB_EXECUTOR`` or ``local``)."""
    spec = (spec or os.environ.get(EXECUTOR_ENV, "") or "local").strip()
    if spec == "local":
        # spawn: a fresh interpreter per worker, safe beside the server's threads
        return ProcessPoolExecutor(workers or max_running(), mp_context=multiprocessing.get_context("spawn"))
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
