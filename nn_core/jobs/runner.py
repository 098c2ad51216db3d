"""Train one stored run, in whatever process (or cluster worker) runs it.

The run store is the only channel: the run's record and weights are read from
``DIGIT_LAB_HOME/runs/<id>/`` and written back after every epoch, so a page (or the CLI) follows
it by reading the same files, a crash keeps every finished epoch, and a run interrupted by a
stop request or SIGTERM ends as "stopped" with its last finished epoch. The owner steers it
through the command files of ``nn_core.jobs.commands``: a stop is looked for between batches;
pause, "train until epoch N" and a new learning rate are applied between epochs. A run that
already has weights (finished epochs, an uploaded model) goes on from them.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nn_core.config import TrainConfig
from nn_core.data.local import ENV_VAR as DATA_ENV_VAR
from nn_core.experiment import TrainingData, load_training_data, make_trainer
from nn_core.jobs.commands import Commands, end_progress, read_commands, stop_requested, write_progress
from nn_core.jobs.commands import request_stop as request_stop  # re-exported: the stop is a command
from nn_core.store.model_file import ModelFileError, SavedModel
from nn_core.store.paths import HOME_ENV_VAR
from nn_core.store.runstore import (
    RunRecord,
    RunStatus,
    RunStoreError,
    load_run,
    load_run_model,
    model_path,
    save_run,
)
from nn_core.train import Trainer, TrainingDiverged

OUT_OF_MEMORY = (
    "Training ran out of memory. The weights of the last finished epoch are kept; "
    "use a smaller batch or fewer layers before going on."
)


STATE_FILE = "optimizer_state.npz"  # beside model.npz: what a resumed run needs besides its weights


class _Stop(Exception):
    """Raised from the batch callback to cut the epoch short."""


def _state_path(run_id: str) -> Path:
    return model_path(run_id).with_name(STATE_FILE)


def _save_state(trainer: Trainer, record: RunRecord) -> None:
    """Keep what the next worker needs besides the weights (``Trainer.carried_state``)."""
    tmp = _state_path(record.run_id).with_suffix(".part.npz")
    np.savez(tmp, **trainer.carried_state())
    os.replace(tmp, _state_path(record.run_id))


def _load_state(trainer: Trainer, record: RunRecord) -> None:
    """Take the state ``_save_state`` kept when it fits this epoch and trainer, else start afresh."""
    try:
        with np.load(_state_path(record.run_id), allow_pickle=False) as saved:
            trainer.restore_carried_state({k: saved[k] for k in saved.files})
    except (OSError, KeyError, ValueError, TypeError):  # missing or damaged: a fresh optimizer state
        pass


def adopt_saved_epochs(record: RunRecord) -> SavedModel | None:
    """The run's saved model, after taking into ``record`` the epochs it holds beyond the record's.

    Weights are written before the record, so a worker killed between the two leaves a model one
    epoch ahead of run.json; that epoch finished, and the model file carries its metrics.
    """
    try:
        saved = load_run_model(record.run_id)
    except (ModelFileError, RunStoreError, OSError):  # no weights yet, or damaged: nothing to adopt
        return None
    extra = saved.history[len(record.history) :]
    if extra and [r.epoch for r in saved.history[: len(record.history)]] == [r.epoch for r in record.history]:
        record.history.extend(extra)
        ended = model_path(record.run_id).stat().st_mtime
        record.epoch_ended_at.extend([ended] * (len(record.history) - len(record.epoch_ended_at)))
    return saved


def _resume_weights(trainer: Trainer, record: RunRecord) -> None:
    """Start from the run's saved weights, epoch and step counter, and the optimizer and shuffling
    state the previous worker kept (a fresh one when there is none)."""
    saved = adopt_saved_epochs(record) or load_run_model(record.run_id)
    trainer.network.set_weights(saved.network.params())
    trainer.epoch = len(record.history)
    trainer.step = trainer.epoch * trainer.steps_per_epoch  # keeps the schedule where it was
    trainer.history = list(record.history)
    _load_state(trainer, record)


def train_stored_run(run_id: str, home: str | None = None, data: str | None = None) -> dict[str, Any]:
    """Train the stored run ``run_id`` until its plan (or its commands) say stop; return its summary.

    ``home`` and ``data`` set ``DIGIT_LAB_HOME`` and ``DIGIT_LAB_DATA`` first (a cluster worker
    does not inherit the server's environment; the folders must be shared at the same paths).
    Returns ``{"run_id", "status", "epochs", "best_val_acc", "test_accuracy", "seconds"}``.
    """
    for variable, value in ((HOME_ENV_VAR, home), (DATA_ENV_VAR, data)):
        if value:
            os.environ[variable] = value
    return train_with_data(run_id, load_training_data)


def train_with_data(run_id: str, data_fn: Callable[[TrainConfig], TrainingData]) -> dict[str, Any]:
    """``train_stored_run`` with the run's arrays from ``data_fn(train_config)``."""
    stop_flag = threading.Event()
    previous = _on_sigterm(stop_flag)
    record = load_run(run_id)
    try:
        record.status, record.message = RunStatus.RUNNING, ""
        save_run(record)
        write_progress(run_id, 0, 0)  # names this process while the data loads
        data = data_fn(record.train_config)
        trainer = make_trainer(record.model_config, record.train_config, data)
        if record.history or model_path(run_id).is_file():
            _resume_weights(trainer, record)
        record.status, between_epochs = _train(trainer, record, stop_flag)
        if record.history and between_epochs:  # a cut epoch's optimizer steps were undone in part only
            _save_state(trainer, record)
        if record.history and record.status in (RunStatus.FINISHED, RunStatus.STOPPED):
            loss, acc = trainer.evaluate(data.X_test, data.y_test)
            record.test = {"epoch": len(record.history), "loss": float(loss), "acc": float(acc)}
    except TrainingDiverged as err:
        record.status, record.message = RunStatus.DIVERGED, str(err)
    except MemoryError:
        record.status, record.message = RunStatus.FAILED, OUT_OF_MEMORY
    except Exception as err:  # noqa: BLE001 - the run is marked failed, its finished epochs kept
        record.status, record.message = RunStatus.FAILED, f"Training stopped by an unexpected error: {err!r}"
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        end_progress(run_id)
    lr = read_commands(run_id).lr  # a rate sent after the last epoch boundary is kept for the next time
    if lr is not None:
        record.train_config = dataclasses.replace(record.train_config, lr=lr)
    save_run(record)
    return summary(record)


def _apply(commands: Commands, trainer: Trainer, record: RunRecord) -> None:
    if commands.lr is not None and commands.lr != trainer.config.lr:
        trainer.set_config(lr=commands.lr)
        record.train_config = trainer.config


def _train(trainer: Trainer, record: RunRecord, stop_flag: threading.Event) -> tuple[RunStatus, bool]:
    """Epochs until the plan is done or a command ends them; the run is saved after every epoch.

    Returns how the run ended and whether it ended between epochs (not in one cut short)."""
    run_id, last_check = record.run_id, [0.0]

    def on_batch(done: int, total: int) -> None:
        if stop_flag.is_set():
            raise _Stop
        now = time.monotonic()
        if now - last_check[0] > 0.25:  # look for the stop file four times a second at most
            last_check[0] = now
            if stop_requested(run_id):
                raise _Stop
            write_progress(run_id, done, total)

    while True:
        commands = read_commands(run_id)
        _apply(commands, trainer, record)
        planned = trainer.config.epochs
        target = planned if commands.until is None else min(commands.until, planned)
        if stop_flag.is_set() or stop_requested(run_id):
            return RunStatus.STOPPED, True
        if trainer.epoch >= target:
            return (RunStatus.FINISHED if trainer.epoch >= planned else RunStatus.PAUSED), True
        if commands.pause:
            return RunStatus.PAUSED, True
        write_progress(run_id, 0, trainer.steps_per_epoch)
        try:
            epoch = trainer.run_epoch(on_batch=on_batch)
        except _Stop:
            trainer.abort_epoch()
            return RunStatus.STOPPED, False
        record.history.append(epoch)
        record.epoch_ended_at.append(time.time())
        save_run(record, trainer.network)


def mark_failed(run_id: str, error: BaseException) -> None:
    """Record that the process training ``run_id`` died (killed, out of memory) before it could.

    The run keeps every epoch it saved; a run that had already ended on its own is left alone.
    """
    try:
        record = load_run(run_id)
    except RunStoreError:
        return
    if record.status != RunStatus.RUNNING:
        return
    adopt_saved_epochs(record)
    kept = (
        f"its last finished epoch ({record.epochs_done}) is kept: Resume goes on from there"
        if record.epochs_done
        else "no epoch had finished yet"
    )
    record.status = RunStatus.FAILED
    record.message = (
        f"The worker process training this run ended unexpectedly ({type(error).__name__}: "
        f"{str(error) or 'no reason given'}); {kept}."
    )
    try:
        end_progress(run_id)
        save_run(record)
    except (RunStoreError, OSError):
        pass


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
