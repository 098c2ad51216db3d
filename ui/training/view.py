"""``RunView``: a consistent, read-only picture of one run, as the page draws it.

A worker process keeps changing a run on disk; the page takes one ``RunWorker.view()`` per rerun
and reads everything from it, so a status line, a chart and a button state never disagree. Besides
the stored statuses a view can say "queued" (waiting for a place, ``ahead`` runs before it).
"""

from __future__ import annotations

from dataclasses import dataclass

from nn_core.config import ModelConfig, TrainConfig
from nn_core.train import EpochMetrics


@dataclass(frozen=True, kw_only=True)
class RunView:
    """A consistent, read-only picture of a run for the page."""

    run_id: str
    owner: str
    name: str
    status: str
    message: str
    model_config: ModelConfig
    train_config: TrainConfig
    history: tuple[EpochMetrics, ...]
    epoch_ended_at: tuple[float, ...]
    test: dict | None
    source: str
    generation: int
    progress: tuple[int, int]  # (batches done, batches in the epoch) of the epoch in progress
    pausing: bool  # a pause was asked for and waits for the end of the epoch
    lr_now: float
    version: int  # changes whenever anything above changes
    save_error: str = ""  # why the last save to disk failed ("" when it worked)
    ahead: int | None = None  # queued: how many runs start before this one

    @property
    def active(self) -> bool:
        """Training or waiting in the queue to train."""
        return self.status in ("running", "queued")

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def can_resume(self) -> bool:
        return not self.active and self.epochs_done < self.train_config.epochs
