"""``RunRecord``: everything about a training run except its weights, as run.json stores it.

``RunStatus`` says where a run stands; ``to_dict``/``from_dict`` round-trip the record as JSON, and
``from_dict`` checks every value's type before use (a damaged or hostile file raises
``RunStoreError`` or ``ConfigError``, never a crash later). The files themselves: ``runstore``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from nn_core.config import ModelConfig, TrainConfig
from nn_core.fields import FieldTypeError, check_value
from nn_core.train import EpochMetrics

RUN_FORMAT = "digit-lab-run"
RUN_VERSION = 1


class RunStatus(StrEnum):
    """Where a run stands; the values are what run.json stores (and compare equal to those strings)."""

    READY = "ready"  # made, not trained yet
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # all planned epochs done
    STOPPED = "stopped"  # stopped by its owner (or cut off), its finished epochs kept
    DIVERGED = "diverged"  # the loss became NaN or infinite; weights of the last good epoch kept
    FAILED = "failed"  # an unexpected error
    INTERRUPTED = "interrupted"  # the app stopped while it trained


STATUSES = tuple(RunStatus)


class RunStoreError(ValueError):
    """A run folder that cannot be read or written; the message says which and why."""


@dataclass
class RunRecord:
    """Everything about a run except its weights."""

    run_id: str
    owner: str
    name: str  # for people: "Run 3"
    model_config: ModelConfig
    train_config: TrainConfig
    history: list[EpochMetrics] = field(default_factory=list)
    epoch_ended_at: list[float] = field(default_factory=list)  # Unix time at the end of each epoch
    status: RunStatus = RunStatus.READY
    message: str = ""  # why it stopped, diverged or failed
    test: dict[str, float] | None = None  # {"epoch", "loss", "acc"} on the test set
    source: str = "trained"  # "trained" here or "uploaded" from a model file
    generation: int = 0  # bumped by every reset, so caches keyed by (run, epoch) stay right
    created_at: str = ""
    updated_at: str = ""

    @property
    def epochs_done(self) -> int:
        return len(self.history)

    @property
    def dataset(self) -> str:
        return self.train_config.dataset

    def best_val_acc(self) -> float | None:
        values = [r.val_acc for r in self.history if r.val_acc is not None]
        return max(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "version": RUN_VERSION,
            "run_id": self.run_id,
            "owner": self.owner,
            "name": self.name,
            "model_config": self.model_config.to_dict(),
            "train_config": self.train_config.to_dict(),
            "history": [r.to_dict() for r in self.history],
            "epoch_ended_at": list(self.epoch_ended_at),
            "status": self.status,
            "message": self.message,
            "test": self.test,
            "source": self.source,
            "generation": self.generation,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """A record from parsed JSON, every field's type and range checked first.

        Raises ``RunStoreError`` (not a run file), ``ConfigError`` or ``ValueError`` naming the bad field.
        """
        if not isinstance(data, dict) or data.get("format") != RUN_FORMAT:
            found = data.get("format") if isinstance(data, dict) else type(data).__name__
            raise RunStoreError(f"not a Digit Lab run file (format {found!r:.40})")
        if data.get("version") != RUN_VERSION:
            raise RunStoreError(f"run file version {data.get('version')!r:.20} is not {RUN_VERSION}")
        for key in ("run_id", "owner", "model_config", "train_config"):
            if key not in data:
                raise FieldTypeError(f"the run file has no {key}")
        model_config = ModelConfig.from_dict(data["model_config"])
        model_config.validate()
        train_config = TrainConfig.from_dict(data["train_config"])
        train_config.validate()
        history = data.get("history", [])
        if not isinstance(history, list):
            raise FieldTypeError("history must be a list of epoch records")
        ended = check_value(data.get("epoch_ended_at", []), tuple[float, ...], "epoch_ended_at")
        status = check_value(data.get("status", "ready"), str, "status")
        test = data.get("test")
        if test is not None:
            if not isinstance(test, dict) or not {"epoch", "loss", "acc"} <= set(test):
                raise FieldTypeError("test must hold epoch, loss and acc")
            test = {
                "epoch": check_value(test["epoch"], int, "test.epoch"),
                "loss": check_value(test["loss"], float, "test.loss", finite=False),
                "acc": check_value(test["acc"], float, "test.acc"),
            }
        run_id = check_value(data["run_id"], str, "run_id")
        return cls(
            run_id=run_id,
            owner=check_value(data["owner"], str, "owner"),
            name=check_value(data.get("name", run_id), str, "name"),
            model_config=model_config,
            train_config=train_config,
            history=[EpochMetrics.from_dict(r) for r in history],
            epoch_ended_at=list(ended),
            status=RunStatus(status) if status in STATUSES else RunStatus.INTERRUPTED,
            message=check_value(data.get("message", ""), str, "message"),
            test=test,
            source=check_value(data.get("source", "trained"), str, "source"),
            generation=check_value(data.get("generation", 0), int, "generation"),
            created_at=check_value(data.get("created_at", ""), str, "created_at"),
            updated_at=check_value(data.get("updated_at", ""), str, "updated_at"),
        )
