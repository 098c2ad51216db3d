"""Tests for nn_core.schedules: the learning rate at given steps, worked out by hand."""

from __future__ import annotations

import math

import pytest

from nn_core.schedules import SCHEDULES, learning_rate


@pytest.mark.parametrize("step", [0, 1, 57, 10_000])
def test_constant(step):
    assert learning_rate("constant", 0.1, step, steps_per_epoch=10, total_epochs=5) == 0.1


@pytest.mark.parametrize(("step", "expected"), [(0, 0.1), (1, 0.1 / 1.5), (2, 0.05), (18, 0.01)])
def test_inverse(step, expected):
    lr = learning_rate("inverse", 0.1, step, steps_per_epoch=10, total_epochs=5, decay=0.5)
    assert lr == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("step", "expected"),
    [(0, 0.1), (29, 0.1), (30, 0.05), (59, 0.05), (60, 0.025), (95, 0.0125)],
)
def test_step_halves_every_step_epochs(step, expected):
    # 10 steps per epoch, halved every 3 epochs = every 30 steps
    lr = learning_rate("step", 0.1, step, steps_per_epoch=10, total_epochs=20, step_epochs=3, gamma=0.5)
    assert lr == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, 0.1),
        (25, 0.05 * (1 + math.cos(math.pi / 4))),
        (50, 0.05),
        (75, 0.05 * (1 - math.sqrt(0.5))),
        (100, 0.0),
    ],
)
def test_cosine(step, expected):
    # 10 steps per epoch over 10 epochs: t = step / 100
    lr = learning_rate("cosine", 0.1, step, steps_per_epoch=10, total_epochs=10)
    assert lr == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_cosine_stays_at_zero_after_the_planned_end():
    assert learning_rate("cosine", 0.1, 150, steps_per_epoch=10, total_epochs=10) == pytest.approx(
        0.0, abs=1e-15
    )


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_starts_at_lr0_and_never_increases(schedule):
    rates = [
        learning_rate(
            schedule, 0.2, s, steps_per_epoch=7, total_epochs=4, decay=0.1, step_epochs=1, gamma=0.5
        )
        for s in range(28)
    ]
    assert rates[0] == pytest.approx(0.2)
    assert all(b <= a + 1e-15 for a, b in zip(rates, rates[1:], strict=False))
    assert all(r >= 0 for r in rates)


def test_unknown_schedule_names_the_choices():
    with pytest.raises(ValueError, match="constant, inverse, step, cosine"):
        learning_rate("warmup", 0.1, 0, 10, 10)
