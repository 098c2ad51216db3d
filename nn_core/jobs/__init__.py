"""Runs at scale: training runs in worker processes behind a fair queue, and hyperparameter sweeps.

``runner`` trains one run stored in the run store (any process, any machine sharing
``DIGIT_LAB_HOME``), saving after every epoch and honouring SIGTERM and the owner's ``commands``
(files in the run folder: stop now; pause, train until epoch N, a new learning rate between
epochs; the runner's progress back); ``queue`` caps concurrent runs, takes owners in turn and
marks a run whose worker died as failed; ``executors`` makes the executor the queue hands runs to
(a fresh local process per run, or a Dask cluster); ``sweep`` expands "vary these settings" into
run configs; ``sweeps`` creates and records a sweep's runs.
"""

from nn_core.jobs.commands import Commands, read_commands, read_progress, request_stop, send_commands
from nn_core.jobs.executors import ExecutorError, make_executor, max_running
from nn_core.jobs.queue import RunQueue
from nn_core.jobs.runner import mark_failed, train_stored_run, train_with_data
from nn_core.jobs.sweep import SweepPoint, Vary, expand, parse_vary

__all__ = [
    "Commands",
    "ExecutorError",
    "RunQueue",
    "SweepPoint",
    "Vary",
    "expand",
    "make_executor",
    "mark_failed",
    "max_running",
    "parse_vary",
    "read_commands",
    "read_progress",
    "request_stop",
    "send_commands",
    "train_stored_run",
    "train_with_data",
]
