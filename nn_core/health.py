"""Is a run learning? Checks over the per-epoch history that a finished-looking run can still fail.

A run whose loss turns NaN raises ``TrainingDiverged``; one whose learning rate is merely far too
high keeps finite numbers yet learns nothing: SGD at rate 10 on MNIST ends near 10% accuracy (what
guessing gives) with a training loss around 145. ``learning_problem`` spots that from the
``EpochMetrics`` records alone, so the app and the CLI can say so and give the advice of
``lr_advice`` (the same as for divergence) instead of reporting the run as a success.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nn_core.train uses lr_advice: no import cycle at run time
    from nn_core.train import EpochMetrics

LOSS_RISE = 2.0  # a training loss this many times its first epoch's value is "far above" it
CHANCE_MARGIN = 1.5  # accuracy below this many times 1/n_classes counts as guessing
CHANCE_LOSS_FACTOR = 1.5  # cross-entropy above this many times ln(n_classes) is worse than a uniform guess


@dataclass(frozen=True)
class LearningProblem:
    """Why a run is not learning, and which way its learning rate is most likely off."""

    reason: (
        str  # one clause with the figures, e.g. "the training loss rose from 0.9 (epoch 1) to 145 (epoch 5)"
    )
    lr_too_high: bool  # False: the rate is most likely too low (the loss barely moves)


def lr_advice(lr: float, optimizer: str, too_high: bool = True) -> str:
    """The advice for a diverging or non-learning run: the learning rate is most likely off by 10x."""
    if too_high:
        return f"The learning rate ({lr:g} with {optimizer}) is most likely too high: try {lr / 10:g}."
    return f"The learning rate ({lr:g} with {optimizer}) is most likely too low: try {lr * 10:g}."


def learning_problem(
    history: Sequence[EpochMetrics], n_classes: int = 10, loss: str = "cross_entropy"
) -> LearningProblem | None:
    """Why the run in ``history`` is not learning, or None when it looks fine (or has no epoch yet).

    - Too high a rate: the last epoch's training loss is over ``LOSS_RISE`` times the first's; or the
      accuracy is at chance and the loss went far above that of a uniform guess at some epoch
      (cross-entropy over ``CHANCE_LOSS_FACTOR * ln(n_classes)``; for other losses: it rose).
    - Too low a rate: the accuracy is at chance and the loss never went above a uniform guess's
      (for other losses: it fell, too slowly to matter).

    "At chance" is the last epoch's accuracy (validation when there is one, else training) below
    ``CHANCE_MARGIN / n_classes``. NaN or infinite losses are left to ``TrainingDiverged``.

    Parameters
    ----------
    history : EpochMetrics records, epoch 1 first
    n_classes : number of classes (chance accuracy is 1 / n_classes)
    loss : the loss's name; cross-entropy's uniform-guess level ln(n_classes) is known
    """
    if not history:
        return None
    losses = [r.train_loss for r in history]
    if not all(math.isfinite(v) for v in losses):
        return None
    first, last = history[0], history[-1]
    if len(history) > 1 and last.train_loss > LOSS_RISE * max(first.train_loss, 1e-12):
        return LearningProblem(
            f"the training loss rose from {first.train_loss:.3g} (epoch 1) to {last.train_loss:.3g} "
            f"(epoch {last.epoch})",
            lr_too_high=True,
        )
    acc = last.val_acc if last.val_acc is not None else last.train_acc
    if acc >= CHANCE_MARGIN / n_classes:
        return None
    epochs = f"{len(history)} epoch{'s' if len(history) != 1 else ''}"
    at_chance = f"after {epochs} the accuracy is {acc:.1%}, no better than guessing (1 in {n_classes})"
    peak = max(losses)
    if loss == "cross_entropy":
        guess = math.log(n_classes)
        if peak > CHANCE_LOSS_FACTOR * guess:
            return LearningProblem(
                f"{at_chance}, and the training loss reached {peak:.3g} (a uniform guess scores {guess:.2f})",
                lr_too_high=True,
            )
        return LearningProblem(f"{at_chance}, and the training loss is still {last.train_loss:.3g}", False)
    if len(history) < 2:
        return None  # one epoch of another loss: no level to compare with yet
    rose = last.train_loss >= first.train_loss
    trend = "has not fallen" if rose else "falls only slowly"
    return LearningProblem(
        f"{at_chance}, and the training loss {trend} ({first.train_loss:.3g} to {last.train_loss:.3g})",
        lr_too_high=rose,
    )
