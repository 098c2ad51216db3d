"""How the shipped default model is made: the ``default`` preset trained with drawing-like augmentation.

Drawings reach the model through the preprocessing (crop, fit into 20x20, centre by mass), so their size
and place match MNIST; what still differs is the stroke width (a thin pen on a large digit, a thick pen
on a small one), the slant, and the wobble of a hand on a screen. So every epoch each training digit
gets its strokes thickened or thinned (``nn_core.images.strokes``), then a random shift, rotation, scale,
slant and elastic distortion (``nn_core.images.augment``); a share of the digits stays as it is, which
keeps accuracy on MNIST itself high. Two fine-tuning phases at a small rate follow
(``FINE_TUNE_PHASES``): the first on much thicker strokes, the second on thinner strokes and steeper
slants. ``scripts/build_default_model.py`` runs ``train_default_model`` and writes
``nn_core/store/default_model.npz``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from nn_core.experiment import TrainingData, load_training_data, make_trainer
from nn_core.images.augment import AugmentConfig, augment_batch
from nn_core.images.strokes import random_stroke_width
from nn_core.presets import get_preset
from nn_core.store.model_file import SavedModel
from nn_core.train import EpochMetrics, Trainer

PRESET = "default"
DRAWING_AUGMENT = AugmentConfig(
    max_shift=2.0, max_rotation=12.0, scale_range=(0.85, 1.1), elastic=True, max_shear=20.0
)
STROKE_RANGE = (-0.6, 1.5)  # thinning / thickening steps (see nn_core.images.strokes)
KEEP_SHARE = 0.15  # share of the digits left as they are each epoch


@dataclass(frozen=True)
class Phase:
    """A fine-tuning phase after the preset's epochs: a fresh optimizer at a small rate."""

    epochs: int
    lr: float
    schedule: str  # "constant" or "cosine" (down to 0 over the phase)
    strokes: tuple[float, float]  # range of thinning (negative) and thickening steps
    augment: AugmentConfig = DRAWING_AUGMENT
    seed_offset: int = 1  # its random draws are seeded with the preset's seed plus this


# Phase 2: much thicker strokes (a thick pen on a small digit gives strokes of 8-10 pixels after
# preprocessing, which the first phase never saw). Phase 3: thinner strokes too (1.5 thinning steps
# leave lines about a pixel wide, as a thin pen on a large digit does) and steeper slants (up to 28
# degrees: 20 was the edge of the earlier range), the rate going down to 0 so the model settles.
FINE_TUNE_PHASES = (
    Phase(epochs=2, lr=0.003, schedule="constant", strokes=(-0.6, 3.5), seed_offset=1),
    Phase(
        epochs=4,
        lr=0.003,
        schedule="cosine",
        strokes=(-1.5, 3.5),
        augment=dataclasses.replace(DRAWING_AUGMENT, max_shear=28.0),
        seed_offset=2,
    ),
)

# progress(fraction done in [0, 1], what is happening, in words)
Progress = Callable[[float, str], None]


def drawing_augment(
    X: np.ndarray,
    rng: np.random.Generator,
    out: np.ndarray,
    strokes: tuple[float, float] = STROKE_RANGE,
    augment: AugmentConfig = DRAWING_AUGMENT,
) -> np.ndarray:
    """One epoch's augmented copy of X (n, 784) float32, written into ``out`` (n, 784); ``strokes``
    is the range of thinning (negative) and thickening steps, ``augment`` the geometric ranges."""
    out[:] = random_stroke_width(X, rng, *strokes)
    augment_batch(out, rng, augment, out=out)
    keep = rng.random(len(X)) < KEEP_SHARE
    out[keep] = X[keep]
    return out


class DrawingTrainer(Trainer):
    """A ``Trainer`` whose epochs see ``drawing_augment``-ed digits (its config has augment off);
    ``strokes`` and ``augment`` are the ranges of its epochs."""

    strokes: tuple[float, float] = STROKE_RANGE
    augment: AugmentConfig = DRAWING_AUGMENT

    def run_epoch(self, on_batch: Callable[[int, int], None] | None = None) -> EpochMetrics:
        clean = self.X
        if not hasattr(self, "_drawn"):
            self._drawn = np.empty_like(clean)
        self.X = drawing_augment(clean, self.rng, self._drawn, self.strokes, self.augment)
        try:
            return super().run_epoch(on_batch)
        finally:
            self.X = clean


def _epochs(
    trainer: DrawingTrainer,
    data: TrainingData,
    report: Progress,
    first: int,
    total: int,
    on_epoch: Callable[[Trainer, EpochMetrics, float], None] | None,
) -> None:
    """Run the trainer's epochs, numbered from ``first`` + 1 out of ``total`` for the progress."""
    start = time.perf_counter()
    for epoch in range(first, first + trainer.config.epochs):

        def on_batch(done: int, steps: int, epoch: int = epoch) -> None:
            elapsed = time.perf_counter() - start
            report(
                (epoch + done / steps) / total,
                f"epoch {epoch + 1}/{total}, batch {done}/{steps} ({elapsed:.0f} s)",
            )

        record = trainer.run_epoch(on_batch=on_batch)
        if on_epoch is not None:
            on_epoch(trainer, record, trainer.evaluate(data.X_test, data.y_test)[1])


def fine_tune(
    model: SavedModel,
    data: TrainingData,
    progress: Progress | None = None,
    phases: Sequence[Phase] = FINE_TUNE_PHASES,
    on_epoch: Callable[[Trainer, EpochMetrics, float], None] | None = None,
) -> SavedModel:
    """Run ``phases`` one after the other on ``model`` (each with a fresh optimizer and its own seed);
    returns the model with the history of every phase. Starting it from a first-phase checkpoint gives what
    ``train_default_model`` gives; ``phases=FINE_TUNE_PHASES[1:]`` continues a second-phase model."""
    report = progress or (lambda fraction, message: None)
    base_config = model.train_config or get_preset(PRESET).train
    network, history = model.network, list(model.history)
    total = len(history) + sum(phase.epochs for phase in phases)
    for phase in phases:
        config = dataclasses.replace(
            base_config,
            augment=False,
            elastic=False,
            epochs=phase.epochs,
            lr=phase.lr,
            schedule=phase.schedule,
        )
        rng = np.random.default_rng(base_config.seed + phase.seed_offset)
        trainer = DrawingTrainer(network, config, data.X_train, data.y_train, data.X_val, data.y_val, rng)
        trainer.strokes, trainer.augment = phase.strokes, phase.augment
        trainer.epoch = len(history)  # the records go on numbering from the earlier phases
        trainer.history = list(history)  # so a checkpoint taken in on_epoch keeps them
        _epochs(trainer, data, report, len(history), total, on_epoch)
        network, history = trainer.network, list(trainer.history)
    recorded = dataclasses.replace(base_config, epochs=len(history))
    return SavedModel(network, recorded, history, model.dataset)


def train_default_model(
    progress: Progress | None = None,
    data: TrainingData | None = None,
    epochs: int | None = None,
    on_epoch: Callable[[Trainer, EpochMetrics, float], None] | None = None,
    phases: Sequence[Phase] = FINE_TUNE_PHASES,
) -> SavedModel:
    """Train the ``default`` preset with drawing-like augmentation, then ``fine_tune`` it through
    ``phases``; returns the model (not saved).

    Parameters
    ----------
    progress : called with (fraction done, message) after every batch
    data : MNIST split as the preset says (read through the data layer when None)
    epochs : fewer (or more) first-phase epochs than the preset's, for quick checks
    on_epoch : called after every epoch with (trainer, its record, MNIST test accuracy)
    phases : the fine-tuning phases after the first (empty: none)

    Raises ``nn_core.data.local.DataError`` when MNIST is not available.
    """
    report = progress or (lambda fraction, message: None)
    preset = get_preset(PRESET)
    train_config = preset.train
    if epochs is not None:
        train_config = dataclasses.replace(train_config, epochs=epochs)
    if data is None:
        data = load_training_data(train_config)
    base = make_trainer(preset.model, train_config, data)
    plain = dataclasses.replace(train_config, augment=False, elastic=False)  # drawing_augment does it
    trainer = DrawingTrainer(
        base.network, plain, data.X_train, data.y_train, data.X_val, data.y_val, base.rng
    )
    total = train_config.epochs + sum(phase.epochs for phase in phases)
    _epochs(trainer, data, report, 0, total, on_epoch)
    model = SavedModel(trainer.network, train_config, list(trainer.history), train_config.dataset)
    if not phases:
        return model
    return fine_tune(model, data, report, phases, on_epoch)
