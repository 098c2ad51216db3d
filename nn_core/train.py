"""Training as a stream of per-epoch records.

``Trainer`` holds a run's state (network, optimizer, step counter, shuffling generator) and runs
one epoch at a time, so a consumer can pause between epochs, change the learning rate and go on.
``train(...)`` is the generator view (one frozen ``EpochMetrics`` per epoch; stop with ``break``)
and ``early_stopping`` wraps any such stream. Mini-batches are gathered into preallocated
buffers: the inner loop allocates no array data.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from nn_core.config import ConfigError, TrainConfig
from nn_core.conv import Conv2D
from nn_core.fields import FieldTypeError, from_plain
from nn_core.health import lr_advice
from nn_core.network import Network
from nn_core.optimizers import make_optimizer
from nn_core.schedules import learning_rate
from nn_core.speed.threads import StepThreads

BatchCallback = Callable[[int, int], None]  # (batches done, batches in the epoch)


@dataclass(frozen=True)
class EpochMetrics:
    """One epoch's figures, as Python floats. ``val_*`` are None without a validation set."""

    epoch: int  # 1-based
    train_loss: float  # mean over the epoch's examples, weighted by batch size (dropout on)
    train_acc: float  # running accuracy on the training batches as they were seen
    val_loss: float | None
    val_acc: float | None
    lr: float  # learning rate at the end of the epoch
    seconds: float  # training time of this epoch (validation excluded)
    examples_per_second: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochMetrics:
        """A record from a dict; ``FieldTypeError`` (a ValueError) for a missing or mistyped field."""
        missing = [
            f.name for f in dataclasses.fields(cls) if not isinstance(data, dict) or f.name not in data
        ]
        if missing:
            raise FieldTypeError(f"an epoch record lacks {', '.join(missing)}")
        return from_plain(cls, data, finite=False, where="epoch record")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the network was restored to its last finite weights."""


class Trainer:
    """Runs epochs of mini-batch training of ``network`` on X (n, n_inputs) float32, y (n,) ints."""

    def __init__(
        self,
        network: Network,
        config: TrainConfig,
        X: np.ndarray,
        y: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        config.validate()
        self.network = network
        self.X = _check_inputs(X, y, network.config.n_inputs, network.config.n_classes, "training")
        self.y = np.asarray(y, dtype=np.intp)
        self.X_val = self.y_val = None
        if X_val is not None and y_val is not None and len(y_val):
            self.X_val = _check_inputs(
                X_val, y_val, network.config.n_inputs, network.config.n_classes, "validation"
            )
            self.y_val = np.asarray(y_val, dtype=np.intp)
        self.config = config
        self.rng = rng if rng is not None else np.random.default_rng(config.seed)
        self.optimizer = make_optimizer(config.optimizer, config.lr, config.momentum)
        self.epoch = 0
        self.step = 0
        self.history: list[EpochMetrics] = []
        n = len(self.y)
        self._perm = np.arange(n)
        self._X_aug = np.empty_like(self.X) if config.augment else None
        self._snapshot = network.get_weights()  # weights at the start of the epoch under way
        self._snapshot_step = 0
        self._in_epoch = False  # an epoch has started and not finished (so abort_epoch restores)
        self.threads = StepThreads(
            network.n_params(), halves=any(isinstance(x, Conv2D) for x in network.layers)
        )
        self._alloc_batch_buffers()

    @property
    def batch_size(self) -> int:
        return min(self.config.batch_size, len(self.y))

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(len(self.y) / self.batch_size)

    def _alloc_batch_buffers(self) -> None:
        b = self.batch_size
        self._xb = np.empty((b, self.X.shape[1]), dtype=np.float32)
        self._yb = np.empty(b, dtype=np.intp)
        self._pred = np.empty(b, dtype=np.intp)
        self._hits = np.empty(b, dtype=np.bool_)

    def set_config(self, **changes: Any) -> None:
        """Change hyperparameters between epochs (e.g. ``lr=0.01``); the run goes on with them."""
        new = dataclasses.replace(self.config, **changes)
        new.validate()
        if new.optimizer != self.config.optimizer or new.momentum != self.config.momentum:
            self.optimizer = make_optimizer(new.optimizer, new.lr, new.momentum)
        if new.augment and self._X_aug is None:
            self._X_aug = np.empty_like(self.X)
        old_batch = self.batch_size
        self.config = new
        if self.batch_size != old_batch:
            self._alloc_batch_buffers()

    @property
    def blas_threads(self) -> int | None:
        """BLAS threads most of the last epoch ran on (None: the fixed one-thread rule applied)."""
        return self.threads.last_epoch

    def current_lr(self) -> float:
        c = self.config
        # a Python float: a NumPy float64 rate (from a NumPy-built slider, say) would run the float32
        # updates in float64 through cast buffers
        return float(
            learning_rate(
                c.schedule, c.lr, self.step, self.steps_per_epoch, c.epochs, c.decay, c.step_epochs, c.gamma
            )
        )

    def run_epoch(self, on_batch: BatchCallback | None = None) -> EpochMetrics:
        """Train one epoch over a fresh shuffle and return its record (also kept in ``history``)."""
        cfg, net = self.config, self.network
        for name, value in {**net.params(), **net.state()}.items():  # batch-norm statistics too
            np.copyto(self._snapshot[name], value)
        self._snapshot_step = self.step
        self._in_epoch = True
        X = self.X
        if self._X_aug is not None and cfg.augment:
            from nn_core.images.augment import AugmentConfig, augment_batch

            X = augment_batch(self.X, self.rng, AugmentConfig(elastic=cfg.elastic), out=self._X_aug)
        self.rng.shuffle(self._perm)
        n, b, steps = len(self.y), self.batch_size, self.steps_per_epoch
        loss_sum, hits = 0.0, 0
        start = time.perf_counter()
        with self.threads.epoch(b, steps), np.errstate(over="ignore", invalid="ignore"):
            for i in range(steps):
                self.threads.before(self.step)
                idx = self._perm[i * b : (i + 1) * b]
                m = len(idx)
                xb, yb = self._xb[:m], self._yb[:m]
                np.take(X, idx, axis=0, out=xb, mode="clip")  # clip: no buffering
                np.take(self.y, idx, out=yb, mode="clip")
                logits = net.forward(xb, training=True)
                value, dlogits = net.loss(logits, yb)
                value += net.l2_penalty(cfg.weight_decay)
                if not math.isfinite(value):
                    self._diverged(value, i + 1)
                np.argmax(logits, axis=1, out=self._pred[:m])
                hits += int(np.count_nonzero(np.equal(self._pred[:m], yb, out=self._hits[:m])))
                loss_sum += value * m
                net.backward(dlogits)
                net.add_l2_grads(cfg.weight_decay)
                self.optimizer.lr = self.current_lr()
                self.optimizer.step(net.params(), net.grads())
                self.threads.after(self.step)
                self.step += 1
                if on_batch is not None:
                    on_batch(i + 1, steps)
        seconds = time.perf_counter() - start
        if not all(np.isfinite(p).all() for p in net.params().values()):
            self._diverged(float("nan"), steps)
        val_loss, val_acc = self.evaluate(self.X_val, self.y_val) if self.X_val is not None else (None, None)
        record = EpochMetrics(
            epoch=self.epoch + 1,
            train_loss=loss_sum / n,
            train_acc=hits / n,
            val_loss=val_loss,
            val_acc=val_acc,
            lr=float(self.optimizer.lr),
            seconds=seconds,
            examples_per_second=n / max(seconds, 1e-9),
        )
        self.history.append(record)
        self.epoch += 1
        self._in_epoch = False
        return record

    def abort_epoch(self) -> None:
        """Undo an epoch cut short (a stop request, Ctrl-C): put back the weights and the step count
        of the last finished epoch. A no-op between epochs, so it is safe to call after any interrupt."""
        if self._in_epoch:
            self.network.set_weights(self._snapshot)
            self.step = self._snapshot_step  # the schedule goes back to the restored epoch's end too
            self._in_epoch = False

    def carried_state(self) -> dict[str, np.ndarray]:
        """Besides the weights, what the next epoch depends on: the optimizer's state, the shuffle
        generator's state and the order it shuffles (each epoch shuffles the last one's order)."""
        arrays = {f"optimizer/{k}": v for k, v in self.optimizer.state_arrays().items()}
        arrays["optimizer_name"] = np.array(self.config.optimizer)
        arrays["rng"] = np.array(json.dumps(self.rng.bit_generator.state))
        arrays["order"], arrays["epoch"] = self._perm, np.array(self.epoch)
        return arrays

    def restore_carried_state(self, arrays: dict[str, np.ndarray]) -> bool:
        """Take what ``carried_state`` gave at this same epoch; False (nothing changed) when it does
        not fit this trainer (another epoch, optimizer, shapes or data size)."""
        if str(arrays["optimizer_name"]) != self.config.optimizer or int(arrays["epoch"]) != self.epoch:
            return False
        if arrays["order"].shape != self._perm.shape:
            return False
        optimizer = {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("optimizer/")}
        if not self.optimizer.load_state_arrays(optimizer, self.network.params()):
            return False
        self.rng.bit_generator.state = json.loads(str(arrays["rng"]))
        np.copyto(self._perm, arrays["order"])
        return True

    def _diverged(self, value: float, batch: int) -> None:
        self.abort_epoch()
        self.optimizer = make_optimizer(self.config.optimizer, self.config.lr, self.config.momentum)
        lr = self.current_lr()
        raise TrainingDiverged(
            f"Training diverged in epoch {self.epoch + 1}, batch {batch}: the loss became {value}. "
            f"{lr_advice(lr, self.config.optimizer)} "
            + (
                f"The model keeps its weights from the end of epoch {self.epoch}."
                if self.epoch
                else "The model keeps its initial weights."
            )
        )

    def evaluate(self, X: np.ndarray, y: np.ndarray, batch_size: int = 4096) -> tuple[float, float]:
        """Mean loss (no dropout, no L2 term) and accuracy on X (n, n_inputs), y (n,)."""
        loss_sum, hits = 0.0, 0
        with np.errstate(over="ignore", invalid="ignore"):
            for s in range(0, len(y), batch_size):
                logits = self.network.logits(X[s : s + batch_size])
                value, _ = self.network.loss(logits, y[s : s + batch_size])
                loss_sum += value * len(logits)
                hits += int(np.count_nonzero(logits.argmax(axis=1) == y[s : s + batch_size]))
        return loss_sum / len(y), hits / len(y)

    def __iter__(self) -> Iterator[EpochMetrics]:
        """Epochs until ``config.epochs`` have run in total."""
        while self.epoch < self.config.epochs:
            yield self.run_epoch()


def train(
    network: Network,
    config: TrainConfig,
    X: np.ndarray,
    y: np.ndarray,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    rng: np.random.Generator | None = None,
) -> Iterator[EpochMetrics]:
    """Yield one ``EpochMetrics`` per epoch for ``config.epochs`` epochs; stop early with ``break``."""
    yield from Trainer(network, config, X, y, X_val, y_val, rng)


def early_stopping(
    records: Iterable[EpochMetrics], patience: int = 3, min_delta: float = 0.0
) -> Iterator[EpochMetrics]:
    """Pass records through until ``val_loss`` has not improved by ``min_delta`` for ``patience`` epochs."""
    best, waited = math.inf, 0
    for record in records:
        yield record
        if record.val_loss is None:
            continue
        if record.val_loss < best - min_delta:
            best, waited = record.val_loss, 0
        else:
            waited += 1
            if waited >= patience:
                return


def _check_inputs(X: np.ndarray, y: np.ndarray, n_inputs: int, n_classes: int, what: str) -> np.ndarray:
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != n_inputs:
        raise ConfigError(f"{what} inputs must have shape (n, {n_inputs}), got {X.shape}")
    if y.shape != (X.shape[0],):
        raise ConfigError(f"{what} labels must have shape ({X.shape[0]},), got {y.shape}")
    if len(y) == 0:
        raise ConfigError(f"the {what} set is empty")
    if y.min() < 0 or y.max() >= n_classes:
        raise ConfigError(f"{what} labels must be 0 to {n_classes - 1}")
    return X
