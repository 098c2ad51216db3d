"""The training thread of a run: epochs until a request or the plan says stop.

``TrainingLoop`` is the half of ``RunWorker`` that runs in the background thread (the other half,
in ``worker``, holds the run and takes the page's commands): it starts the thread at a lower CPU
priority, trains epoch by epoch, honours pause, stop, "+1 epoch" and a new learning rate between
epochs (a stop also cuts the epoch in progress and puts back the last finished one), keeps a
snapshot and saves the run after every epoch, and frees the trainer after a failure.
"""

from __future__ import annotations

import os
import threading
import time

from nn_core.store.runstore import RunStatus
from nn_core.train import TrainingDiverged

TRAINING_NICENESS = 10  # training threads yield the CPU to the pages (and a local browser) drawing meanwhile


def lower_thread_priority(niceness: int = TRAINING_NICENESS) -> bool:
    """Lower the calling thread's CPU priority (Linux: threads have their own nice value).

    Pages of a server that trains stay quick to draw: the script threads that build them, and a
    browser on the same machine, run ahead of the training arithmetic. Returns False where the
    platform does not allow it (nothing changes then).
    """
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), niceness))
    except (AttributeError, OSError):
        return False
    return True


class _Abort(Exception):
    """Raised from the batch callback to end the current epoch early (stop)."""


class TrainingLoop:
    """The background-thread methods of ``RunWorker`` (which provides the state they use)."""

    def _launch(self) -> None:
        """Start the training thread (the lock is held)."""
        self._pause_req = self._stop_req = False
        self.record.status, self.record.message = RunStatus.RUNNING, ""
        self.version += 1
        self._thread = threading.Thread(target=self._loop, name=f"train-{self.record.run_id}", daemon=True)
        self._thread.start()

    def _on_batch(self, done: int, total: int) -> None:
        self.progress = (done, total)
        if self._stop_req:
            raise _Abort

    def _loop(self) -> None:
        lower_thread_priority()
        trainer = self._trainer
        assert trainer is not None
        status, message, failed = RunStatus.PAUSED, "", False
        try:
            while True:
                with self._lock:
                    if self._pending_lr is not None:
                        self._apply_lr(self._pending_lr)
                        self._pending_lr = None
                    if self._stop_req or self._pause_req or trainer.epoch >= self._target:
                        done = trainer.epoch >= trainer.config.epochs
                        status = (
                            RunStatus.STOPPED
                            if self._stop_req
                            else RunStatus.FINISHED
                            if done
                            else RunStatus.PAUSED
                        )
                        break
                    self.progress = (0, trainer.steps_per_epoch)
                try:
                    record = trainer.run_epoch(on_batch=self._on_batch)
                except _Abort:
                    trainer.abort_epoch()  # back to the last full epoch
                    status = RunStatus.STOPPED
                    break
                except TrainingDiverged as err:
                    status, message = RunStatus.DIVERGED, str(err)
                    break
                snap = trainer.network.copy()
                with self._lock:
                    self.record.history.append(record)
                    self.record.epoch_ended_at.append(time.time())
                    self._snapshot = snap
                    self.version += 1
                self._save(with_model=True)
        except MemoryError:
            status, message = (
                RunStatus.FAILED,
                (
                    "Training ran out of memory. The weights of the last finished epoch are kept; "
                    "use a smaller batch or fewer layers before going on."
                ),
            )
            failed = True
        except Exception as err:  # noqa: BLE001 - any failure is shown on the page, weights kept
            status, message = RunStatus.FAILED, f"Training stopped by an unexpected error: {err!r}"
            failed = True
        if failed:  # free the trainer's arrays (rebuilt from the saved epoch if the run goes on)
            del trainer
            with self._lock:
                self._trainer = self._data = None
        test = (
            self._measure_test() if status in (RunStatus.FINISHED, RunStatus.STOPPED) else None
        )  # outside the lock
        with self._lock:
            self.record.status, self.record.message = status, message
            self.record.test = test or self.record.test
            self._thread = None
            self._pause_req = self._stop_req = False
            self.progress = (0, 0)
            self.last_used = time.monotonic()
            self.version += 1
        self._save()

    def _measure_test(self) -> dict[str, float] | None:
        """Test loss and accuracy of the current weights (None without a trainer or an epoch)."""
        with self._lock:
            trainer, data, epochs = self._trainer, self._data, self.record.epochs_done
        if trainer is None or data is None or not epochs:
            return None
        try:
            loss, acc = trainer.evaluate(data.X_test, data.y_test)
        except Exception:  # noqa: BLE001 - test figures are a bonus; the analysis tab computes them too
            return None
        return {"epoch": epochs, "loss": float(loss), "acc": float(acc)}
