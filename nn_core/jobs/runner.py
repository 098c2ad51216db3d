"""Train one stored run to its planned epochs, in whatever process (or cluster worker) runs it.

The run store is the only channel: the run's record and weights are read from
``DIGIT_LAB_HOME/runs/<id>/`` and written back after every epoch, so a page (or the CLI) follows
it by reading the same files, a crash keeps every finished epoch, and a run interrupted by a
stop request or SIGTERM ends as "stopped" with its last finished epoch. A stop is requested by
creating the run's ``stop`` file (``request_stop``), which the runner checks between batches.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

from nn_core.data.local import ENV_VAR as DATA_ENV_VAR
from nn_core.experiment import load_training_data, make_trainer
from nn_core.store.paths import HOME_ENV_VAR
from nn_core.store.runstore import RunRecord, load_run, load_run_model, run_dir, save_run
from nn_core.train import Trainer, TrainingDiverged

STOP_FILE = "stop"


class _Stop(Exception):
    """Raised from the batch callback to cut the epoch short."""


def request_stop(run_id: str) -> None:
    """Ask the process training ``run_id`` to stop after putting back its last finished epoch."""
    (run_dir(run_id) / STOP_FILE).touch()


def stop_requested(run_id: str) -> bool:
    return (run_dir(run_id) / STOP_FILE).exists()


def _resume_weights(trainer: Trainer, record: RunRecord) -> None:
    """Continue a run that has finished epochs: its saved weights, epoch and step counter."""
    saved = load_run_model(record.run_id)
    trainer.network.set_weights(saved.network.params())
    trainer.epoch = len(record.history)
    trainer.step = trainer.epoch * trainer.steps_per_epoch
    trainer.history = list(record.history)


def train_stored_run(run_id: str, home: str | None = None, data: str | None = None) -> dict[str, Any]:
    """Train the stored run ``run_id`` to ``train_config.epochs``; return its summary.

    ``home`` and ``data`` set ``DIGIT_LAB_HOME`` and ``DIGIT_LAB_DATA`` first (a cluster worker
    does not inherit the server's environment; the folders must be shared at the same paths).
    Returns ``{"run_id", "status", "epochs", "best_val_acc", "test_accuracy", "seconds"}``.
    """
    for variable, value in ((HOME_ENV_VAR, home), (DATA_ENV_VAR, data)):
        if value:
            os.environ[variable] = value
    stop_flag = threading.Event()
    previous = _on_sigterm(stop_flag)
    record = load_run(run_id)
    try:
        record.status, record.message = "running", ""
        save_run(record)
        data = load_training_data(record.train_config)
        trainer = make_trainer(record.model_config, record.train_config, data)
        if record.history:
            _resume_weights(trainer, record)
        record.status = _train(trainer, record, stop_flag)
        if record.history:
            loss, acc = trainer.evaluate(data.X_test, data.y_test)
            record.test = {"epoch": len(record.history), "loss": float(loss), "acc": float(acc)}
    except TrainingDiverged as err:
        record.status, record.message = "diverged", str(err)
    except Exception as err:  # noqa: BLE001 - the run is marked failed, its finished epochs kept
        record.status, record.message = "failed", f"Training stopped by an unexpected error: {err!r}"
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        (run_dir(run_id) / STOP_FILE).unlink(missing_ok=True)
    save_run(record)
    return summary(record)


def _train(trainer: Trainer, record: RunRecord, stop_flag: threading.Event) -> str:
    """Epochs until the plan is done or a stop arrives; the run is saved after every epoch."""
    last_check = [0.0]

    def on_batch(done: int, total: int) -> None:
        if stop_flag.is_set():
            raise _Stop
        now = time.monotonic()
        if now - last_check[0] > 0.25:  # look for the stop file four times a second at most
            last_check[0] = now
            if stop_requested(record.run_id):
                raise _Stop

    while trainer.epoch < record.train_config.epochs:
        try:
            epoch = trainer.run_epoch(on_batch=on_batch)
        except _Stop:
            trainer.abort_epoch()
            return "stopped"
        record.history.append(epoch)
        record.epoch_ended_at.append(time.time())
        save_run(record, trainer.network)
    return "finished"


def _on_sigterm(stop_flag: threading.Event) -> Any:
    """In the main thread, let SIGTERM stop the run like a stop request (finished epochs kept)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda signum, frame: stop_flag.set())


def summary(record: RunRecord) -> dict[str, Any]:
    """The figures a sweep reports for a run."""
    return {
        "run_id": record.run_id,
        "name": record.name,
        "status": record.status,
        "epochs": record.epochs_done,
        "best_val_acc": record.best_val_acc(),
        "test_accuracy": record.test["acc"] if record.test else None,
        "seconds": sum(r.seconds for r in record.history),
    }
