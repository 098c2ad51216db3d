"""Runs at scale: training runs in worker processes behind a fair queue, and hyperparameter sweeps.

``runner`` trains one run stored in the run store (any process, any machine sharing
``DIGIT_LAB_HOME``), saving after every epoch and honouring stop requests and SIGTERM; ``queue``
caps concurrent runs and takes owners in turn; ``executors`` makes the executor the queue hands
runs to (a local process pool, or a Dask cluster); ``sweep`` expands "vary these settings" into
run configs; ``sweeps`` creates and records a sweep's runs.
"""

from nn_core.jobs.executors import ExecutorError, make_executor, max_running
from nn_core.jobs.queue import RunQueue
from nn_core.jobs.runner import request_stop, train_stored_run
from nn_core.jobs.sweep import SweepPoint, Vary, expand, parse_vary

__all__ = [
    "ExecutorError",
    "RunQueue",
    "SweepPoint",
    "Vary",
    "expand",
    "make_executor",
    "max_running",
    "parse_vary",
    "request_stop",
    "train_stored_run",
]
