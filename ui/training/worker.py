"""A playground run as the server sees it: a thin handle over the run store and the run queue.

Runs train in worker processes (``nn_core.jobs.runner``, queued with the sweeps' runs on the
server-wide queue of ``ui.sweeps.service``), never in the server's threads. A ``RunWorker``
queues its run, steers it through the command files of ``nn_core.jobs.commands`` (stop now;
pause, "+1 epoch" and a new learning rate between epochs) and reads back what the runner writes:
``view()`` parses run.json again only when it changed and adds the place in the queue and the
epoch in progress; ``snapshot()`` reloads model.npz only when it changed (the Draw page's live
model). An idle run is changed here directly. A worker process that dies leaves its run "failed"
with its last finished epoch (the queue records it); a run found "running" on disk that this
server's queue does not know was cut off by a restart and shows as "interrupted".
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from pathlib import Path

from nn_core.config import ModelConfig, TrainConfig
from nn_core.experiment import TrainingData, new_network
from nn_core.jobs.commands import clear_commands, read_commands, read_progress, request_stop, send_commands
from nn_core.jobs.queue import RunQueue
from nn_core.memory import check_run
from nn_core.network import Network
from nn_core.store.model_file import ModelFileError
from nn_core.store.runstore import (
    RUN_FILE,
    RunRecord,
    RunStatus,
    RunStoreError,
    load_run,
    load_run_model,
    model_path,
    new_id,
    now_iso,
    run_dir,
    save_run,
)
from ui.sweeps import service
from ui.training.view import RunView

DataFn = Callable[[TrainConfig], TrainingData]  # kept for the page's calls: workers load their own data
INTERRUPTED = "The app stopped while this run was training; Resume goes on from the last saved epoch."


def run_queue() -> RunQueue:
    """The queue runs train through (the server's; tests give their own)."""
    return service.server_queue()


def _n_images(config: TrainConfig) -> int:
    """Training images before the validation split (every dataset here has 60,000)."""
    return config.train_size or 60_000


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return info.st_mtime_ns, info.st_size


class RunWorker:
    """One run: its record as last read from disk, and its place in the run queue."""

    def __init__(self, record: RunRecord, snapshot: Network | None = None):
        self._lock = threading.RLock()
        self._record = record
        self._record_stamp: tuple[int, int] | None = None
        self._snapshot = snapshot
        self._snapshot_stamp: tuple[int, int] | None = None
        self._future: Future | None = None
        self.version = 0
        self.save_error = ""

    # ----- creation -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, owner: str, name: str, model_config: ModelConfig, train_config: TrainConfig, data: TrainingData
    ) -> RunWorker:
        """A new run at epoch 0 (the seed's initial weights), saved to disk (``ConfigError`` for an
        invalid config or one above the memory budget)."""
        check_run(model_config, train_config, len(data.y_train) + len(data.y_val))
        network = new_network(model_config, train_config)
        record = RunRecord(new_id(), owner, name, model_config, train_config, created_at=now_iso())
        worker = cls(record, snapshot=network)
        worker._save(with_model=True)
        return worker

    @classmethod
    def from_record(cls, record: RunRecord) -> RunWorker:
        """A handle for a run found on disk."""
        worker = cls(record)
        worker._record_stamp = _stamp(run_dir(record.run_id) / RUN_FILE)
        return worker

    # ----- reading --------------------------------------------------------------------------------
    @property
    def run_id(self) -> str:
        return self._record.run_id

    @property
    def owner(self) -> str:  # the id, owner, source and creation time of a run never change
        return self._record.owner

    @property
    def source(self) -> str:
        return self._record.source

    @property
    def created_at(self) -> str:
        return self._record.created_at

    @property
    def record(self) -> RunRecord:
        """The run as last saved (read again from disk when the runner has written it since)."""
        with self._lock:
            stamp = _stamp(run_dir(self._record.run_id) / RUN_FILE)
            if stamp is not None and stamp != self._record_stamp:
                try:
                    self._record = load_run(self._record.run_id)
                    self.version += 1
                except RunStoreError:
                    pass  # half-written or damaged: the last good reading stands
                self._record_stamp = stamp
            return self._record

    def view(self) -> RunView:
        queue = run_queue()
        run_id = self._record.run_id
        ahead = queue.position(run_id)
        running = ahead is None and queue.is_running(run_id)
        with self._lock:
            r = self.record
            status, message = str(r.status), r.message
            if ahead is not None:
                status = "queued"
            elif running:
                status, message = "running", ""
            elif status == RunStatus.RUNNING:
                status, message = RunStatus.INTERRUPTED.value, INTERRUPTED
            progress, pausing = (0, 0), False
            if running:
                batch, batches, _ = read_progress(run_id)
                progress, pausing = (batch, batches), read_commands(run_id).pause
            return RunView(
                run_id=run_id,
                owner=r.owner,
                name=r.name,
                status=status,
                message=message,
                model_config=r.model_config,
                train_config=r.train_config,
                history=tuple(r.history),
                epoch_ended_at=tuple(r.epoch_ended_at),
                test=r.test,
                source=r.source,
                generation=r.generation,
                progress=progress,
                pausing=pausing,
                lr_now=self._lr_now(r, running),
                version=self.version,
                save_error=self.save_error,
                ahead=ahead,
            )

    @staticmethod
    def _lr_now(record: RunRecord, running: bool) -> float:
        """The rate in use: the last epoch's while a schedule changes it, else the configured one."""
        if running and record.history and record.train_config.schedule != "constant":
            return record.history[-1].lr
        return record.train_config.lr

    @property
    def progress(self) -> tuple[int, int]:
        """(batches done, batches) of the epoch in progress, as the runner last reported it."""
        batch, batches, _ = read_progress(self._record.run_id)
        return batch, batches

    def snapshot(self) -> Network | None:
        """The network at the end of the last finished epoch (shared: use it for inference only)."""
        path = model_path(self._record.run_id)
        stamp = _stamp(path)
        with self._lock:
            if self._snapshot is not None and (stamp is None or stamp == self._snapshot_stamp):
                return self._snapshot
        if stamp is None:
            return None
        try:
            network = load_run_model(self._record.run_id).network
        except (ModelFileError, RunStoreError):
            with self._lock:
                return self._snapshot
        with self._lock:
            self._snapshot, self._snapshot_stamp = network, stamp
            return network

    def is_running(self) -> bool:
        """True while the run waits in the queue or trains."""
        queue, run_id = run_queue(), self._record.run_id
        return queue.position(run_id) is not None or queue.is_running(run_id)

    # ----- commands (called from the page's script thread) ----------------------------------------
    def resume(self, data_fn: DataFn | None = None) -> str | None:
        """Train until the planned number of epochs; returns a message when there is nothing to do."""
        if self.is_running():
            send_commands(self._record.run_id, pause=False)  # Resume while a pause is pending cancels it
            return None
        record = self.record
        if record.epochs_done >= record.train_config.epochs:
            return "This run has done all its planned epochs: use +1 epoch to train further."
        self._submit(until=None)
        return None

    def step(self, data_fn: DataFn | None = None) -> str | None:
        """Train exactly one more epoch (beyond the plan if need be)."""
        if self.is_running():
            return "The run is training: pause it first, then add an epoch."
        with self._lock:
            record = self.record
            target = record.epochs_done + 1
            if target > record.train_config.epochs:
                record.train_config = dataclasses.replace(record.train_config, epochs=target)
        self._save()
        self._submit(until=target)
        return None

    def pause(self) -> None:
        if self.is_running():
            send_commands(self._record.run_id, pause=True)
            self.version += 1

    def cancel(self) -> bool:
        """Take a queued run out of the queue (it keeps its state); False when it was not waiting."""
        queue, run_id = run_queue(), self._record.run_id
        if queue.position(run_id) is None:
            return False
        queue.cancel(run_id)
        self.version += 1
        return True

    def stop(self) -> None:
        """End training now (the epoch in progress is dropped); an idle or queued run is marked stopped."""
        queue, run_id = run_queue(), self._record.run_id
        if not self.cancel() and queue.is_running(run_id):
            request_stop(run_id)
            self.version += 1
            return
        with self._lock:
            record = self.record
            if record.status in (RunStatus.FINISHED, RunStatus.STOPPED):
                return
            record.status, record.message = RunStatus.STOPPED, ""
        self._save()

    def set_lr(self, lr: float) -> None:
        """Use ``lr`` from the next epoch on (``ConfigError`` when out of range)."""
        dataclasses.replace(self._record.train_config, lr=lr).validate()
        if self.is_running():
            send_commands(self._record.run_id, lr=lr)
            return
        with self._lock:
            record = self.record
            record.train_config = dataclasses.replace(record.train_config, lr=lr)
        self._save()

    def reset(self, data_fn: DataFn | None = None) -> None:
        """Re-initialise the weights from the run's seed (identical to epoch 0) and clear its history."""
        self.stop()
        self.join(timeout=120)
        record = self.record
        check_run(record.model_config, record.train_config, _n_images(record.train_config))
        network = new_network(record.model_config, record.train_config)
        with self._lock:
            record.history, record.epoch_ended_at, record.test = [], [], None
            record.status, record.message = RunStatus.READY, ""
            record.generation += 1
            self._snapshot = network
        clear_commands(record.run_id)
        self._save(with_model=True)

    def join(self, timeout: float | None = None) -> None:
        """Wait until the run has left the queue (trained, stopped or cancelled)."""
        future = self._future
        if future is not None:
            wait_futures([future], timeout)

    # ----- internals ------------------------------------------------------------------------------
    def _submit(self, until: int | None) -> None:
        """Queue the run with fresh commands (``until``: train until that many epochs are done)."""
        run_id = self._record.run_id
        clear_commands(run_id)
        if until is not None:
            send_commands(run_id, until=until)
        self._future = run_queue().submit(self._record.owner, run_id)
        self.version += 1

    def _save(self, with_model: bool = False) -> None:
        """Write the run (and its snapshot) to disk; a failure is kept in ``save_error``, not raised."""
        with self._lock:
            record = self._record
            network = self._snapshot if with_model else None
            try:
                save_run(record, network)
                self.save_error = ""
            except (RunStoreError, OSError) as err:
                self.save_error = str(err)
                return
            self._record_stamp = _stamp(run_dir(record.run_id) / RUN_FILE)
            if with_model:
                self._snapshot_stamp = _stamp(model_path(record.run_id))
            self.version += 1
