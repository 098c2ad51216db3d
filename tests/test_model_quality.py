"""How the model picker judges a model: where its figure comes from and whether it learnt at all."""

from __future__ import annotations

from nn_core.train import EpochMetrics
from ui.model_quality import from_history, judge


def _epoch(epoch: int, train_acc: float, val_acc: float | None = None) -> EpochMetrics:
    return EpochMetrics(
        epoch=epoch,
        train_loss=1.0,
        train_acc=train_acc,
        val_loss=None if val_acc is None else 1.0,
        val_acc=val_acc,
        lr=0.1,
        seconds=1.0,
        examples_per_second=100.0,
    )


def test_the_test_figure_wins_then_validation_then_training():
    history = [_epoch(1, 0.9, 0.88), _epoch(2, 0.95, 0.93)]
    assert (from_history(history, 0.94).accuracy, from_history(history, 0.94).where) == (0.94, "test")
    assert (from_history(history).accuracy, from_history(history).where) == (0.93, "validation")
    no_val = [_epoch(1, 0.97)]
    assert (from_history(no_val).accuracy, from_history(no_val).where) == (0.97, "training")
    assert from_history(history, 0.94).phrase() == "94.0% test"


def test_near_chance_is_marked_as_never_learnt():
    stuck = from_history([_epoch(1, 0.11, 0.1135)])
    assert stuck.health == "chance" and not stuck.usable
    assert stuck.phrase() == "never learnt (11.3% validation)"
    assert judge(0.19, "test").health == "chance"
    assert judge(0.21, "test").health == "ok"
    assert judge(0.4, "test", n_classes=2).health == "chance"  # chance is 50% for two classes


def test_diverged_and_untrained_runs_are_marked():
    diverged = from_history([_epoch(1, 0.6)], diverged=True)
    assert diverged.health == "diverged" and not diverged.usable
    assert diverged.phrase() == "diverged (60.0% training)"
    assert from_history([], diverged=True).phrase() == "diverged"
    fresh = from_history([])
    assert fresh.health == "untrained" and not fresh.usable and fresh.phrase() == "not trained yet"


def test_nothing_measured_is_usable_but_says_so():
    unknown = judge(None, "")
    assert unknown.usable and unknown.phrase() == "accuracy not measured"
