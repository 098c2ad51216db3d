"""A tiny synthetic dataset, and a run queue whose worker processes train stored runs on it.

Worker processes are started with ``spawn`` and import this module by name, so the data is made
the same way in every process (no MNIST files needed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.config import TrainConfig
from nn_core.experiment import TrainingData
from nn_core.jobs.executors import make_executor
from nn_core.jobs.queue import RunQueue
from nn_core.jobs.runner import mark_failed, train_with_data
from nn_core.store.paths import HOME_ENV_VAR


def synthetic_data(config: TrainConfig | None = None) -> TrainingData:
    """A small learnable problem: labels are the argmax of a fixed random projection of (500, 784)."""
    rng = np.random.default_rng(0)
    X = rng.random((500, 784), dtype=np.float32)
    y = (X @ rng.standard_normal((784, 10)).astype(np.float32)).argmax(axis=1)
    return TrainingData(X[:300], y[:300], X[300:400], y[300:400], X[400:], y[400:])


def train_synthetic(run_id: str, home: str) -> dict[str, Any]:
    """The queue task: train the stored run under ``home`` on the synthetic data."""
    os.environ[HOME_ENV_VAR] = home
    return train_with_data(run_id, synthetic_data)


def synthetic_queue(home: Path, max_running: int = 2) -> RunQueue:
    """A queue of fresh local worker processes training on the synthetic data."""
    return RunQueue(
        make_executor("local"),
        max_running,
        task=train_synthetic,
        task_args=(str(home),),
        on_failure=mark_failed,
    )
