"""Training in a background thread: one ``RunWorker`` per run, no Streamlit inside.

Design. A Streamlit script must never block on training, and no Streamlit call may come from
another thread. So each run has a worker that owns its ``Trainer`` and, while there is work to do,
a daemon thread that calls ``run_epoch`` in a loop. Between epochs the thread honours requests set
by the page (pause, stop, a new learning rate, a target epoch for "+1 epoch"); a stop request
also aborts the epoch in progress from the per-batch callback and puts back the weights of the
last completed epoch. After each epoch the thread appends the record, keeps a copy of the network
as the run's snapshot (what other pages predict with, safe to read from any thread) and saves the
run to disk (``nn_core.store.runstore``). The page only reads ``view()``, a consistent frozen copy.

A worker made from a run on disk (after an app restart) has no trainer until it trains again; it
is then rebuilt from the saved model (optimizer state such as momentum starts afresh). Workers are
shared server-wide through ``ui.training.registry``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

from nn_core.config import ModelConfig, TrainConfig
from nn_core.experiment import TrainingData, make_trainer, rng_streams
from nn_core.memory import check_run
from nn_core.network import Network
from nn_core.store.model_file import ModelFileError
from nn_core.store.runstore import (
    RunRecord,
    RunStatus,
    RunStoreError,
    load_run_model,
    new_id,
    now_iso,
    save_run,
)
from nn_core.train import Trainer
from ui.training.loop import TrainingLoop
from ui.training.view import RunView

DataFn = Callable[[TrainConfig], TrainingData]  # the run's train config -> its (cached) data


def _n_images(config: TrainConfig) -> int:
    """Training images before the validation split (every dataset here has 60,000)."""
    return config.train_size or 60_000


class RunWorker(TrainingLoop):
    """One run: its record, its trainer (when built) and the thread that trains it."""

    def __init__(
        self,
        record: RunRecord,
        trainer: Trainer | None = None,
        data: TrainingData | None = None,
        snapshot: Network | None = None,
    ):
        self._lock = threading.RLock()
        self._save_lock = threading.Lock()
        self.record = record
        self._trainer = trainer
        self._data = data
        self._snapshot = snapshot if trainer is None else trainer.network.copy()
        self._thread: threading.Thread | None = None
        self._target = record.train_config.epochs
        self._pause_req = self._stop_req = False
        self._pending_lr: float | None = None
        self.progress = (0, 0)  # written by the training thread, read by the page
        self.version = 0
        self.last_used = time.monotonic()
        self.save_error = ""

    # ----- creation -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, owner: str, name: str, model_config: ModelConfig, train_config: TrainConfig, data: TrainingData
    ) -> RunWorker:
        """A new run at epoch 0, saved to disk (``ConfigError`` for an invalid config or one above the
        memory budget)."""
        check_run(model_config, train_config, len(data.y_train) + len(data.y_val))
        trainer = make_trainer(model_config, train_config, data)
        record = RunRecord(new_id(), owner, name, model_config, train_config, created_at=now_iso())
        worker = cls(record, trainer, data)
        worker._save(with_model=True)
        return worker

    @classmethod
    def from_record(cls, record: RunRecord) -> RunWorker:
        """An idle worker for a run found on disk (no thread can be training it in this process)."""
        if record.status == RunStatus.RUNNING:
            record.status = RunStatus.INTERRUPTED
            record.message = (
                "The app stopped while this run was training; Resume goes on from the last saved epoch."
            )
        return cls(record)

    # ----- reading --------------------------------------------------------------------------------
    def view(self) -> RunView:
        with self._lock:
            r = self.record
            lr = self._trainer.current_lr() if self._trainer is not None else r.train_config.lr
            return RunView(
                run_id=r.run_id,
                owner=r.owner,
                name=r.name,
                status=r.status,
                message=r.message,
                model_config=r.model_config,
                train_config=r.train_config,
                history=tuple(r.history),
                epoch_ended_at=tuple(r.epoch_ended_at),
                test=r.test,
                source=r.source,
                generation=r.generation,
                progress=self.progress,
                pausing=self._pause_req,
                lr_now=lr,
                version=self.version,
                save_error=self.save_error,
            )

    def snapshot(self) -> Network | None:
        """The network at the end of the last completed epoch (shared: use it for inference only)."""
        with self._lock:
            snap = self._snapshot
        if snap is None:
            try:
                snap = load_run_model(self.record.run_id).network
            except (ModelFileError, RunStoreError):
                return None
            with self._lock:
                self._snapshot = self._snapshot or snap
        return snap

    def is_running(self) -> bool:
        with self._lock:
            return self._thread is not None

    # ----- commands (called from the page's script thread) ----------------------------------------
    def resume(self, data_fn: DataFn) -> str | None:
        """Train until the planned number of epochs; returns a message when there is nothing to do."""
        with self._lock:
            if self._thread is not None:
                self._pause_req = False  # Resume while a pause is pending cancels the pause
                return None
            if self.record.epochs_done >= self.record.train_config.epochs:
                return "This run has done all its planned epochs: use +1 epoch to train further."
        self._ensure_trainer(data_fn)
        with self._lock:
            self._target = self.record.train_config.epochs
            self._launch()
        return None

    def step(self, data_fn: DataFn) -> str | None:
        """Train exactly one more epoch (beyond the plan if need be)."""
        with self._lock:
            if self._thread is not None:
                return "The run is training: pause it first, then add an epoch."
        self._ensure_trainer(data_fn)
        with self._lock:
            self._target = self.record.epochs_done + 1
            if self._target > self.record.train_config.epochs:
                self._trainer.set_config(epochs=self._target)
                self.record.train_config = self._trainer.config
            self._launch()
        return None

    def pause(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._pause_req = True
                self.version += 1

    def stop(self) -> None:
        """End training now (the epoch in progress is dropped); an idle run is marked stopped."""
        with self._lock:
            if self._thread is not None:
                self._stop_req = True
                self.version += 1
                return
            if self.record.status in (RunStatus.FINISHED, RunStatus.STOPPED):
                return
            self.record.status, self.record.message = RunStatus.STOPPED, ""
            self.version += 1
        test = self._measure_test()
        with self._lock:
            self.record.test = test or self.record.test
        self._save()

    def set_lr(self, lr: float) -> None:
        """Use ``lr`` from the next epoch on (``ConfigError`` when out of range)."""
        dataclasses.replace(self.record.train_config, lr=lr).validate()
        with self._lock:
            if self._thread is not None:
                self._pending_lr = lr
                return
            self._apply_lr(lr)
            self.version += 1
        self._save()

    def reset(self, data_fn: DataFn) -> None:
        """Re-initialise the weights from the run's seed (identical to epoch 0) and clear its history."""
        self.stop()
        self.join(timeout=120)
        check_run(self.record.model_config, self.record.train_config, _n_images(self.record.train_config))
        data = data_fn(self.record.train_config)
        trainer = make_trainer(self.record.model_config, self.record.train_config, data)
        with self._lock:
            self._trainer, self._data = trainer, data
            self._snapshot = trainer.network.copy()
            r = self.record
            r.history, r.epoch_ended_at, r.test = [], [], None
            r.status, r.message = RunStatus.READY, ""
            r.generation += 1
            self.progress = (0, 0)
            self.version += 1
        self._save(with_model=True)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the training thread to end (tests, reset, delete)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    # ----- internals ------------------------------------------------------------------------------
    def _ensure_trainer(self, data_fn: DataFn) -> None:
        self.last_used = time.monotonic()
        with self._lock:
            if self._trainer is not None:
                return
            record = self.record
        check_run(record.model_config, record.train_config, _n_images(record.train_config))
        data = data_fn(record.train_config)
        network = load_run_model(record.run_id).network
        _, _, train_rng = rng_streams(record.train_config.seed)
        trainer = Trainer(
            network, record.train_config, data.X_train, data.y_train, data.X_val, data.y_val, train_rng
        )
        trainer.epoch, trainer.history = record.epochs_done, list(record.history)
        trainer.step = trainer.epoch * trainer.steps_per_epoch  # keeps the schedule where it was
        with self._lock:
            if self._trainer is None:
                self._trainer, self._data, self._snapshot = trainer, data, network.copy()

    def _apply_lr(self, lr: float) -> None:
        if self._trainer is not None:
            self._trainer.set_config(lr=lr)
        self.record.train_config = dataclasses.replace(self.record.train_config, lr=lr)

    def _save(self, with_model: bool = False) -> None:
        """Write the run (and its snapshot) to disk; a failure is kept in ``save_error``, not raised."""
        with self._save_lock:
            with self._lock:
                record = dataclasses.replace(
                    self.record,
                    history=list(self.record.history),
                    epoch_ended_at=list(self.record.epoch_ended_at),
                )
                network = self._snapshot if with_model else None
            try:
                save_run(record, network)
                self.save_error = ""
            except (RunStoreError, OSError) as err:
                self.save_error = str(err)

    def has_trainer(self) -> bool:
        with self._lock:
            return self._trainer is not None

    def release_trainer(self) -> bool:
        """Drop the trainer and data of an idle run to free memory (rebuilt from disk when needed)."""
        with self._lock:
            if self._thread is not None or self._trainer is None:
                return False
            self._trainer = self._data = None
            return True
