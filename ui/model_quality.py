"""How good a model is, in a few words for a model picker: its accuracy, where measured, and whether it
learnt at all.

Pure functions over what is recorded (a run's test figure and history, a file's history, a figure
measured on the test set), so they are tested without Streamlit. A model whose best accuracy is within
a few points of chance (1 / number of classes) never learnt; a run that stopped on a non-finite loss
diverged. Both are marked and listed after the models that work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nn_core.train import EpochMetrics

CHANCE_MARGIN = 0.1  # accuracy below chance + this margin (20% for ten classes) counts as "never learnt"
HEALTH = ("ok", "unknown", "untrained", "chance", "diverged")
MARKS = {"untrained": "not trained yet", "chance": "never learnt", "diverged": "diverged"}


@dataclass(frozen=True)
class Quality:
    """accuracy : in [0, 1] or None; where : "test", "validation" or "training" (empty when None);
    health : one of HEALTH ("ok" unless something is wrong, "unknown" when nothing was measured)."""

    accuracy: float | None = None
    where: str = ""
    health: str = "unknown"

    @property
    def usable(self) -> bool:
        """False for models that are offered only after the others, with a warning."""
        return self.health in ("ok", "unknown")

    def phrase(self) -> str:
        """ "99.1% test", "97.0% validation", "never learnt (11.2% test)", "not measured"."""
        figure = "" if self.accuracy is None else f"{self.accuracy:.1%} {self.where}"
        mark = MARKS.get(self.health)
        if mark:
            return f"{mark} ({figure})" if figure else mark
        return figure or "accuracy not measured"


def judge(accuracy: float | None, where: str, n_classes: int = 10, diverged: bool = False) -> Quality:
    """A figure and where it was measured, turned into a ``Quality`` with its health."""
    if diverged:
        return Quality(accuracy, where if accuracy is not None else "", "diverged")
    if accuracy is None:
        return Quality(None, "", "unknown")
    chance = 1.0 / max(n_classes, 1)
    health = "chance" if accuracy < chance + CHANCE_MARGIN else "ok"
    return Quality(float(accuracy), where, health)


def from_history(
    history: Sequence[EpochMetrics],
    test_acc: float | None = None,
    n_classes: int = 10,
    diverged: bool = False,
) -> Quality:
    """The best recorded figure: the test accuracy when known, else the last validation, else the last
    training accuracy; a run with no finished epoch is "untrained" (unless it diverged)."""
    if test_acc is not None:
        return judge(test_acc, "test", n_classes, diverged)
    if not history:
        return Quality(None, "", "diverged" if diverged else "untrained")
    last = history[-1]
    if last.val_acc is not None:
        return judge(last.val_acc, "validation", n_classes, diverged)
    return judge(last.train_acc, "training", n_classes, diverged)
