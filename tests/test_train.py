"""Tests for nn_core.train: epoch records, learning on tiny data, buffers, divergence, early stopping."""

from __future__ import annotations

import dataclasses
import math
import tracemalloc

import numpy as np
import pytest

from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.network import Network, build_network
from nn_core.train import EpochMetrics, Trainer, TrainingDiverged, early_stopping, train

N_INPUTS = 784


def blobs(n: int, seed: int = 0, spread: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """n points of three fixed Gaussian blobs in 784-d: X float32 (n, 784), y ints (n,)."""
    centers = np.random.default_rng(1234).standard_normal((3, N_INPUTS)).astype(np.float32)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = (centers[y] + spread * rng.standard_normal((n, N_INPUTS))).astype(np.float32)
    return X, y


def small_net(seed: int = 0, **changes) -> Network:
    config = ModelConfig(n_inputs=N_INPUTS, hidden=(16,), activations=("relu",), n_classes=3)
    return build_network(dataclasses.replace(config, **changes), np.random.default_rng(seed))


def small_config(**changes) -> TrainConfig:
    return dataclasses.replace(TrainConfig(epochs=3, batch_size=16, optimizer="sgd", lr=0.05), **changes)


def weights_equal(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_train_yields_one_record_per_epoch():
    X, y = blobs(120)
    records = list(train(small_net(), small_config(epochs=4), X, y))
    assert [r.epoch for r in records] == [1, 2, 3, 4]


def test_iterating_a_trainer_runs_the_configured_epochs_then_stops():
    X, y = blobs(60)
    trainer = Trainer(small_net(), small_config(epochs=3), X, y)
    assert len(list(trainer)) == 3
    assert list(trainer) == []  # all epochs have run
    assert trainer.history == [r for r in trainer.history] and len(trainer.history) == 3
    trainer.set_config(epochs=5)
    assert [r.epoch for r in trainer] == [4, 5]


def test_records_are_frozen_with_python_floats():
    X, y = blobs(60)
    Xv, yv = blobs(30, seed=1)
    record = next(iter(train(small_net(), small_config(), X, y, Xv, yv)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.train_loss = 0.0  # type: ignore[misc]
    assert type(record.epoch) is int
    for name in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "examples_per_second"):
        assert type(getattr(record, name)) is float, name
    assert 0.0 <= record.train_acc <= 1.0 and 0.0 <= record.val_acc <= 1.0
    assert record.seconds > 0 and record.examples_per_second > 0


def test_validation_is_none_without_a_validation_set():
    X, y = blobs(60)
    record = next(iter(train(small_net(), small_config(), X, y)))
    assert record.val_loss is None and record.val_acc is None
    empty = next(iter(train(small_net(), small_config(), X, y, X[:0], y[:0])))
    assert empty.val_loss is None


def test_validation_figures_are_the_evaluation_of_the_trained_network():
    X, y = blobs(90)
    Xv, yv = blobs(40, seed=1)
    trainer = Trainer(small_net(), small_config(), X, y, Xv, yv)
    record = trainer.run_epoch()
    p = trainer.network.predict_proba(Xv).astype(np.float64)
    assert record.val_loss == pytest.approx(-np.mean(np.log(p[np.arange(40), yv])), rel=1e-4)
    assert record.val_acc == pytest.approx(np.mean(p.argmax(axis=1) == yv))


def test_epoch_metrics_round_trip_through_a_dict():
    record = EpochMetrics(3, 0.5, 0.8, None, None, 0.01, 1.5, 1000.0)
    assert EpochMetrics.from_dict(record.to_dict()) == record
    with_val = dataclasses.replace(record, val_loss=0.6, val_acc=0.75)
    data = with_val.to_dict()
    assert data["val_loss"] == 0.6 and data["epoch"] == 3
    assert EpochMetrics.from_dict(data) == with_val


def test_loss_falls_on_separable_blobs():
    X, y = blobs(300)
    Xv, yv = blobs(90, seed=1)  # same centres, fresh points
    records = list(train(small_net(), small_config(epochs=5, optimizer="momentum", lr=0.01), X, y, Xv, yv))
    assert records[-1].train_loss < 0.5 * records[0].train_loss
    assert records[-1].val_acc >= 0.95
    assert records[-1].train_acc >= 0.95


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_every_optimizer_learns(optimizer):
    X, y = blobs(150)
    lr = 0.001 if optimizer in ("rmsprop", "adam") else 0.01
    records = list(train(small_net(), small_config(epochs=3, optimizer=optimizer, lr=lr), X, y))
    assert records[-1].train_loss < records[0].train_loss


def test_epoch_loss_is_weighted_by_batch_size():
    """With a vanishing rate the weights stay put, so the epoch's loss is the data set's mean loss.

    10 examples in batches of 4, 4 and 2: an unweighted mean of batch means would differ.
    """
    X, y = blobs(10)
    trainer = Trainer(small_net(init="normal"), small_config(batch_size=4, lr=1e-30), X, y)
    before = trainer.network.get_weights()
    record = trainer.run_epoch()
    after = trainer.network.get_weights()
    assert max(float(np.abs(after[k] - before[k]).max()) for k in before) < 1e-20
    loss, acc = trainer.evaluate(trainer.X, trainer.y)
    assert record.train_loss == pytest.approx(loss, rel=1e-5)
    assert record.train_acc == pytest.approx(acc)
    assert trainer.steps_per_epoch == 3 and trainer.step == 3


def test_batch_size_one_and_full_batch():
    X, y = blobs(24)
    seen = []
    online = Trainer(small_net(), small_config(batch_size=1, lr=0.01), X, y)
    online.run_epoch(on_batch=lambda done, total: seen.append((done, total)))
    assert seen == [(i, 24) for i in range(1, 25)]
    assert math.isfinite(online.history[-1].train_loss)

    full = Trainer(small_net(), small_config(batch_size=10_000, epochs=6, lr=0.01), X, y)
    assert full.batch_size == 24 and full.steps_per_epoch == 1
    losses = [r.train_loss for r in full]
    # plain gradient descent with a small rate: the full-batch loss never goes up
    assert all(b <= a for a, b in zip(losses, losses[1:], strict=False))
    assert losses[-1] < losses[0]


def test_set_config_lr_between_epochs_takes_effect():
    X, y = blobs(60)
    trainer = Trainer(small_net(), small_config(lr=0.05, optimizer="momentum"), X, y)
    first = trainer.run_epoch()
    optimizer = trainer.optimizer
    trainer.set_config(lr=0.005)
    second = trainer.run_epoch()
    assert first.lr == pytest.approx(0.05) and second.lr == pytest.approx(0.005)
    assert trainer.optimizer is optimizer  # momentum state kept
    trainer.set_config(optimizer="adam", lr=0.001)
    assert type(trainer.optimizer).__name__ == "Adam"
    assert trainer.run_epoch().lr == pytest.approx(0.001)
    with pytest.raises(ConfigError, match="learning rate"):
        trainer.set_config(lr=-1.0)


def test_set_config_batch_size_reallocates_the_batch_buffers():
    X, y = blobs(60)
    trainer = Trainer(small_net(), small_config(batch_size=16), X, y)
    trainer.run_epoch()
    trainer.set_config(batch_size=32)
    assert trainer._xb.shape == (32, N_INPUTS) and trainer.steps_per_epoch == 2
    assert math.isfinite(trainer.run_epoch().train_loss)


def test_schedule_sets_the_rate_per_step():
    X, y = blobs(40)
    config = small_config(batch_size=10, schedule="inverse", decay=0.5, lr=0.1)
    trainer = Trainer(small_net(), config, X, y)
    record = trainer.run_epoch()
    # 4 steps; the last used step index 3
    assert record.lr == pytest.approx(0.1 / (1 + 0.5 * 3))
    assert trainer.run_epoch().lr == pytest.approx(0.1 / (1 + 0.5 * 7))


def test_same_seed_same_weights_and_different_seed_differs():
    X, y = blobs(64)

    def run(seed: int) -> tuple[dict, dict]:
        net = small_net(seed, dropout=0.3)
        built = net.get_weights()
        list(train(net, small_config(epochs=2, seed=seed, optimizer="adam", lr=0.001), X, y))
        return built, net.get_weights()

    built_a, trained_a = run(7)
    built_b, trained_b = run(7)
    built_c, trained_c = run(8)
    assert weights_equal(built_a, built_b) and weights_equal(trained_a, trained_b)
    assert not weights_equal(built_a, built_c) and not weights_equal(trained_a, trained_c)
    assert not weights_equal(built_a, trained_a)


def test_parameters_stay_float32_and_callers_data_is_untouched():
    X, y = blobs(50)
    X_before, y_before = X.copy(), y.copy()
    net = small_net(dropout=0.2)
    # a NumPy float64 rate must not turn the float32 updates into float64 arithmetic
    config = small_config(epochs=2, optimizer="rmsprop", lr=np.float64(0.001), weight_decay=1e-3)
    trainer = Trainer(net, config, X, y)
    list(trainer)
    assert type(trainer.optimizer.lr) is float
    for name, p in net.params().items():
        assert p.dtype == np.float32 and net.grads()[name].dtype == np.float32
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)


def test_batch_buffers_are_reused():
    X, y = blobs(10)
    trainer = Trainer(small_net(), small_config(batch_size=4), X, y)
    xb, yb = trainer._xb, trainer._yb
    first_dense = trainer.network.layers[0]
    trainer.run_epoch()
    out = first_dense._buffers["out"]
    trainer.run_epoch()
    assert trainer._xb is xb and trainer._yb is yb
    assert first_dense._buffers["out"] is out
    # the last batch of 2 went through a view of the same input buffer
    assert first_dense._x.shape == (2, N_INPUTS) and np.shares_memory(first_dense._x, xb)


def test_memory_does_not_grow_per_step():
    """Over 5 epochs of 120 steps each, traced memory grows only by the epoch records.

    A leak of even one small object per step would add 600 objects (tens of kilobytes).
    """
    X, y = blobs(120)
    trainer = Trainer(
        small_net(dropout=0.2),
        small_config(batch_size=1, epochs=20, optimizer="adam", weight_decay=1e-4),
        X,
        y,
    )
    trainer.run_epoch()
    trainer.run_epoch()
    tracemalloc.start()
    try:
        trainer.run_epoch()  # replaces the weight snapshot while traced
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            trainer.run_epoch()
        growth = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert growth < 5 * 1_000, f"memory grew by {growth} bytes over 600 steps"


def test_a_step_does_not_copy_its_batch():
    """The peak over an epoch stays far below the size of one mini-batch of inputs (400 kB)."""
    X, y = blobs(300)
    trainer = Trainer(small_net(hidden=(8,)), small_config(batch_size=128, epochs=10), X, y)
    trainer.run_epoch()
    trainer.run_epoch()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        trainer.run_epoch()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    batch_bytes = 128 * N_INPUTS * 4
    assert peak - base < batch_bytes / 4, f"an epoch peaked {peak - base} bytes above its start"


def test_huge_learning_rate_raises_and_restores_the_last_epoch():
    X, y = blobs(200)
    trainer = Trainer(small_net(init="normal", hidden=(32,)), small_config(batch_size=20, lr=0.001), X, y)
    trainer.run_epoch()
    after_epoch_1 = trainer.network.get_weights()
    steps_after_epoch_1 = trainer.step
    trainer.set_config(lr=100.0)
    with pytest.raises(TrainingDiverged, match="learning rate") as err:
        trainer.run_epoch()
    assert "100" in str(err.value) and "epoch 2" in str(err.value)
    weights = trainer.network.get_weights()
    assert all(np.isfinite(w).all() for w in weights.values())
    assert weights_equal(weights, after_epoch_1)
    assert trainer.epoch == 1 and len(trainer.history) == 1
    assert trainer.step == steps_after_epoch_1  # the failed epoch's steps do not count
    # the run can go on with a sensible rate
    trainer.set_config(lr=0.001)
    record = trainer.run_epoch()
    assert record.epoch == 2 and math.isfinite(record.train_loss)


def make_records(val_losses: list[float | None]) -> list[EpochMetrics]:
    return [
        EpochMetrics(i + 1, 1.0, 0.5, v, None if v is None else 0.5, 0.1, 1.0, 100.0)
        for i, v in enumerate(val_losses)
    ]


def test_early_stopping_after_patience_epochs_without_improvement():
    records = make_records([1.0, 0.8, 0.9, 0.85, 0.95, 0.7, 0.6])
    kept = list(early_stopping(records, patience=3))
    assert [r.epoch for r in kept] == [1, 2, 3, 4, 5]  # best at 2, then 3 epochs without improving
    assert [r.epoch for r in early_stopping(records, patience=4)] == [1, 2, 3, 4, 5, 6, 7]
    assert [r.epoch for r in early_stopping(records, patience=1)] == [1, 2, 3]


def test_early_stopping_min_delta_and_missing_validation():
    records = make_records([1.0, 0.95, 0.9, 0.85])
    assert len(list(early_stopping(records, patience=2, min_delta=0.1))) == 3
    assert len(list(early_stopping(records, patience=2, min_delta=0.01))) == 4
    assert len(list(early_stopping(make_records([None] * 6), patience=1))) == 6


def test_early_stopping_stops_the_training_run():
    X, y = blobs(60)
    trainer = Trainer(small_net(), small_config(epochs=50, lr=0.05), X, y, X[:20], y[:20])
    records = list(early_stopping(trainer, patience=1, min_delta=10.0))  # nothing improves by 10
    assert len(records) == 2 and trainer.epoch == 2


def test_trainer_checks_its_inputs():
    X, y = blobs(20)
    net, config = small_net(), small_config()
    with pytest.raises(ConfigError, match=r"shape \(n, 784\)"):
        Trainer(net, config, X[:, :100], y)
    with pytest.raises(ConfigError, match="labels must have shape"):
        Trainer(net, config, X, y[:5])
    with pytest.raises(ConfigError, match="labels must be 0 to 2"):
        Trainer(net, config, X, y + 1)
    with pytest.raises(ConfigError, match="empty"):
        Trainer(net, config, X[:0], y[:0])
    with pytest.raises(ConfigError, match="batch size"):
        Trainer(net, small_config(batch_size=0), X, y)


def test_the_thread_probe_uses_short_blocks_only_for_long_steps():
    X, y = blobs(1024)
    big_net = small_net(hidden=(256, 128), activations=("relu", "relu"))
    assert 512 * big_net.n_params() >= 25_000_000
    big = Trainer(big_net, small_config(batch_size=512, epochs=1), X, y)
    big.run_epoch()
    small = Trainer(small_net(), small_config(batch_size=512, epochs=1), X, y)
    small.run_epoch()
    assert big.threads._chooser[1].block == 2  # 512 x 235k weights: 3 ms steps time reliably
    assert small.threads._chooser[1].block == 4


class _Stop(Exception):
    pass


def test_abort_epoch_puts_back_the_last_finished_epoch():
    X, y = blobs(256)
    trainer = Trainer(small_net(), small_config(epochs=3), X, y)
    trainer.run_epoch()
    after_one = trainer.network.get_weights()
    step_after_one = trainer.step

    def stop_halfway(done: int, total: int) -> None:
        if done == total // 2:
            raise _Stop

    with pytest.raises(_Stop):
        trainer.run_epoch(on_batch=stop_halfway)
    assert not weights_equal(trainer.network.get_weights(), after_one)  # half an epoch trained
    trainer.abort_epoch()
    assert weights_equal(trainer.network.get_weights(), after_one)
    assert trainer.step == step_after_one and trainer.epoch == 1 and len(trainer.history) == 1
    trainer.abort_epoch()  # between epochs: nothing to undo
    assert weights_equal(trainer.network.get_weights(), after_one)
    record = trainer.run_epoch()
    assert record.epoch == 2 and trainer.step == 2 * trainer.steps_per_epoch


def test_abort_epoch_between_epochs_keeps_the_finished_epoch():
    X, y = blobs(128)
    trainer = Trainer(small_net(), small_config(epochs=2), X, y)
    trainer.run_epoch()
    trained = trainer.network.get_weights()
    trainer.abort_epoch()
    assert weights_equal(trainer.network.get_weights(), trained)
