"""Learning-rate schedules: the rate for a given optimizer step.

- ``constant``: ``lr0``.
- ``inverse``: ``lr0 / (1 + decay * step)``, step counted in mini-batches.
- ``step``: ``lr0 * gamma ** (epoch // step_epochs)``.
- ``cosine``: from ``lr0`` down to 0 over the run's planned steps, ``lr0 * (1 + cos(pi * t)) / 2``.
"""

from __future__ import annotations

import math

SCHEDULES = ("constant", "inverse", "step", "cosine")


def learning_rate(
    schedule: str,
    lr0: float,
    step: int,
    steps_per_epoch: int,
    total_epochs: int,
    decay: float = 0.0,
    step_epochs: int = 10,
    gamma: float = 0.5,
) -> float:
    """The learning rate at optimizer step ``step`` (0-based) of a run."""
    if schedule == "constant":
        return lr0
    if schedule == "inverse":
        return lr0 / (1.0 + decay * step)
    if schedule == "step":
        return lr0 * gamma ** (step // max(1, steps_per_epoch) // max(1, step_epochs))
    if schedule == "cosine":
        t = min(1.0, step / max(1, steps_per_epoch * total_epochs))
        return lr0 * 0.5 * (1.0 + math.cos(math.pi * t))
    raise ValueError(f"unknown schedule {schedule!r}: choose one of {', '.join(SCHEDULES)}")
