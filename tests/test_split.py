"""Tests for nn_core.speed.split: layers on two batch halves give what they give on the whole batch."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import nn_core.speed.split as split
from nn_core.activations import ReLU
from nn_core.conv import Conv2D
from nn_core.pooling import MaxPool2D
from nn_core.speed.threads import StepThreads, blas_threads, set_split_workers, split_workers
from tests.alloccheck import assert_no_batch_arrays


@pytest.fixture
def halves(monkeypatch):
    """Split every pass, however small, and go back to one thread after the test."""
    monkeypatch.setattr(split, "MIN_SPLIT_FLOATS", 0)
    yield
    set_split_workers(1)


def step(layer, x: np.ndarray, dy: np.ndarray, workers: int) -> list[np.ndarray]:
    """Copies of forward's output, backward's result and the gradients, on ``workers`` threads."""
    set_split_workers(workers)
    out = layer.forward(x, training=True).copy()
    dx = layer.backward(dy).copy()
    return [out, dx] + [g.copy() for g in layer.grads().values()]


def twin_runs(make, x_shape, rng) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """One step of two identical layers from ``make()``: on one thread, then on two halves."""
    x = rng.standard_normal(x_shape).astype(np.float32)
    one, two = make(), make()
    dy = rng.standard_normal(one.forward(x, training=True).shape).astype(np.float32)
    return step(one, x, dy, 1), step(two, x, dy, 2)


@pytest.mark.parametrize("seed", range(8))
def test_convolution_on_two_halves_equals_one_thread(seed, halves):
    rng = np.random.default_rng(seed)
    n, h, w = int(rng.integers(2, 8)), int(rng.integers(5, 12)), int(rng.integers(5, 12))
    c_in, c_out, k = int(rng.choice([1, 2, 3])), int(rng.integers(1, 5)), int(rng.choice([1, 3, 5]))
    stride, padding = int(rng.integers(1, 3)), str(rng.choice(["valid", "same"]))
    W = rng.standard_normal((k, k, c_in, c_out)).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    input_grad = bool(rng.integers(0, 2))
    one, two = twin_runs(lambda: Conv2D(W, b, stride, padding, input_grad), (n, h, w, c_in), rng)
    for a, c in zip(one, two, strict=True):
        assert c.dtype == np.float32
        np.testing.assert_allclose(c, a, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("size", "stride"), [(2, 2), (3, 2), (2, 1), (3, 3)])
@pytest.mark.parametrize("n", [2, 5])
def test_max_pooling_and_relu_on_two_halves_equal_one_thread(size, stride, n, halves):
    rng = np.random.default_rng(size * 10 + stride + n)
    for make in (lambda: MaxPool2D(size, stride), ReLU):
        one, two = twin_runs(make, (n, 9, 8, 3), rng)
        for a, c in zip(one, two, strict=True):
            np.testing.assert_array_equal(c, a)  # no sums: exactly equal


def test_run_halves_runs_the_second_half_on_another_thread(halves):
    calls = []
    record = lambda part, lo, hi: calls.append((part, lo, hi, threading.get_ident()))  # noqa: E731
    assert split.run_halves(record, 7, 100) == 1  # one worker: the whole batch here
    set_split_workers(2)
    assert split.run_halves(record, 7, 100) == 2
    assert sorted(c[:3] for c in calls[1:]) == [(0, 0, 3), (1, 3, 7)]
    here = threading.get_ident()
    assert [c[3] == here for c in sorted(calls[1:])] == [True, False]


def test_run_halves_keeps_small_passes_whole():
    set_split_workers(2)
    try:
        calls = []
        assert split.run_halves(lambda *a: calls.append(a), 128, split.MIN_SPLIT_FLOATS - 1) == 1
        assert calls == [(0, 0, 128)]
    finally:
        set_split_workers(1)


def test_worker_count_belongs_to_the_thread_that_set_it(halves):
    set_split_workers(2)
    seen = []
    other = threading.Thread(target=lambda: seen.append(split_workers()))
    other.start()
    other.join()
    assert seen == [1] and split_workers() == 2


def test_two_thread_steps_reuse_their_buffers(halves):
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 3, 4, 5)).astype(np.float32)
    set_split_workers(2)

    def make_step(n: int):
        conv, pool, relu = Conv2D(W, np.zeros(5)), MaxPool2D(2), ReLU()
        x = rng.standard_normal((n, 10, 10, 4)).astype(np.float32)
        dy = np.ones((n, 4, 4, 5), dtype=np.float32)

        def one_step():
            pool.forward(relu.forward(conv.forward(x, training=True), training=True), training=True)
            conv.backward(relu.backward(pool.backward(dy)))

        return one_step

    assert_no_batch_arrays(make_step, 64, 256)


@pytest.mark.skipif(blas_threads() is None, reason="NumPy's BLAS thread count is not controllable here")
def test_step_threads_with_halves_split_on_two_threads_and_keep_one_blas_thread():
    steps = StepThreads(n_weights=10**6, halves=True)
    with steps.epoch(batch_size=128, steps=1):  # too short to probe: the first candidate (1)
        assert split_workers() == 1 and blas_threads() == 1
        steps._apply(2)
        assert split_workers() == 2 and blas_threads() == 1
    assert split_workers() == 1


def counting_pool(calls: list[int]):
    """A stand-in for ``split._pool`` that counts the halves handed to the helper thread."""
    pool = split._pool()

    def get():
        calls.append(1)
        return pool

    return get


@pytest.mark.parametrize(
    "layers", ["conv4x3,maxpool2,conv6x3,maxpool2,dense16", "conv3x5same,maxpool3,bn,dense8"]
)
def test_training_on_two_halves_follows_the_one_thread_run(layers, halves, monkeypatch):
    """A few Adam steps of a CNN through the Trainer, on one thread and on batch halves."""
    from nn_core.architecture import parse_layers
    from nn_core.config import ModelConfig, TrainConfig
    from nn_core.network import build_network
    from nn_core.train import Trainer

    data = np.random.default_rng(5)
    X, y = data.random((96, 784), dtype=np.float32), data.integers(0, 10, 96)
    model = ModelConfig(hidden=(), activations=(), layers=parse_layers(layers))
    config = TrainConfig(epochs=1, batch_size=32, optimizer="adam", lr=1e-3, val_fraction=0.0)
    weights, used = [], []
    for threads in (1, 2):
        monkeypatch.setattr("nn_core.speed.threads.threads_for_batch", lambda *_, t=threads: t)
        parts: list[int] = []
        monkeypatch.setattr(split, "_pool", counting_pool(parts))
        trainer = Trainer(
            build_network(model, np.random.default_rng(0)), config, X, y, rng=np.random.default_rng(1)
        )
        trainer.run_epoch()
        weights.append(trainer.network.get_weights())
        used.append(len(parts))
    assert used[0] == 0 and used[1] > 0  # the second run did split
    for name, w in weights[0].items():
        np.testing.assert_allclose(weights[1][name], w, rtol=1e-4, atol=1e-5, err_msg=name)
