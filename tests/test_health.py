"""``learning_problem`` tells a run that learns from one that does not, on made-up and real histories."""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.config import ModelConfig, TrainConfig
from nn_core.data.local import load_split, to_float
from nn_core.health import learning_problem, lr_advice
from nn_core.network import build_network
from nn_core.train import EpochMetrics, train


def _history(losses, accs, val=True):
    return [
        EpochMetrics(i + 1, loss, acc, loss if val else None, acc if val else None, 0.1, 1.0, 1000.0)
        for i, (loss, acc) in enumerate(zip(losses, accs, strict=True))
    ]


def test_an_empty_or_learning_history_is_fine():
    assert learning_problem([]) is None
    assert learning_problem(_history([0.9, 0.35, 0.24], [0.87, 0.89, 0.9])) is None
    assert learning_problem(_history([0.5], [0.85])) is None


def test_a_loss_far_above_its_first_value_means_the_rate_is_too_high():
    problem = learning_problem(_history([0.9, 3.0, 145.0], [0.8, 0.5, 0.3]))
    assert problem is not None and problem.lr_too_high
    assert "0.9" in problem.reason and "145" in problem.reason


def test_chance_accuracy_after_a_huge_loss_is_reported_even_when_the_loss_settles():
    # SGD at rate 10 on MNIST: the first epoch's loss blows up, then the dead network guesses
    problem = learning_problem(_history([90.4, 2.52, 2.40], [0.14, 0.103, 0.101]))
    assert problem is not None and problem.lr_too_high
    assert "10.1%" in problem.reason and "90.4" in problem.reason
    assert learning_problem(_history([145.0], [0.1009])).lr_too_high  # after one epoch already


def test_chance_accuracy_with_a_barely_moving_loss_means_the_rate_is_too_low():
    problem = learning_problem(_history([2.435, 2.427, 2.419], [0.087, 0.09, 0.093]))
    assert problem is not None and not problem.lr_too_high


def test_validation_accuracy_decides_when_there_is_one():
    history = [EpochMetrics(1, 40.0, 0.5, 40.0, 0.1, 0.1, 1.0, 1.0)]
    assert learning_problem(history) is not None  # train 50% (while it blew up), validation at chance
    history = [EpochMetrics(1, 40.0, 0.1, None, None, 0.1, 1.0, 1.0)]
    assert learning_problem(history) is not None  # no validation: training accuracy
    assert learning_problem(_history([40.0], [0.1]), n_classes=100) is None  # 10% is ten times chance here


def test_other_losses_need_two_epochs_and_use_the_trend():
    assert learning_problem(_history([0.09], [0.1]), loss="mse") is None
    assert learning_problem(_history([0.09, 0.095], [0.1, 0.1]), loss="mse").lr_too_high
    assert not learning_problem(_history([0.09, 0.089], [0.1, 0.1]), loss="mse").lr_too_high


def test_non_finite_losses_are_left_to_divergence():
    assert learning_problem(_history([0.9, float("nan")], [0.8, 0.1])) is None


def test_advice_points_the_rate_the_right_way():
    assert lr_advice(10.0, "sgd") == "The learning rate (10 with sgd) is most likely too high: try 1."
    assert "too low: try 0.0001" in lr_advice(1e-5, "momentum", too_high=False)


@pytest.mark.parametrize(("optimizer", "lr", "stuck"), [("sgd", 10.0, True), ("momentum", 0.05, False)])
def test_real_mnist_runs(mnist_root, optimizer, lr, stuck):
    images, labels = load_split("mnist", "train", mnist_root)
    X, y = to_float(images[:3000]), labels[:3000]
    network = build_network(ModelConfig(hidden=(128,), activations=("relu",)), np.random.default_rng(0))
    config = TrainConfig(epochs=2, optimizer=optimizer, lr=lr, batch_size=64)
    history = list(train(network, config, X[:2700], y[:2700], X[2700:], y[2700:], np.random.default_rng(1)))
    problem = learning_problem(history)
    assert (problem is not None) == stuck
    if stuck:
        assert problem.lr_too_high
