"""Tests for ui.sweeps.figures: the sweep table, heatmap, parallel coordinates and loss curves."""

from __future__ import annotations

import math

import numpy as np

from nn_core.config import ModelConfig, TrainConfig
from nn_core.store.runstore import RunRecord
from nn_core.train import EpochMetrics
from ui.sweeps import figures
from ui.sweeps.service import RunState


def state(
    lr: float, batch: int, seed: int, val_accs: list[float], status: str = "finished", ahead=None
) -> RunState:
    history = [
        EpochMetrics(i + 1, 1.0 / (i + 1), 0.5, 0.9, acc, lr, 1.0, 1000.0) for i, acc in enumerate(val_accs)
    ]
    record = RunRecord(
        f"run-{lr}-{batch}-{seed}", "owner-1", "Sweep #1", ModelConfig(), TrainConfig(), history=history
    )
    return RunState(record.run_id, {"lr": lr, "batch_size": batch}, seed, status, record, ahead, history)


def test_rows_say_where_each_run_is():
    states = [
        state(0.1, 32, 0, [0.9, 0.95]),
        state(0.1, 128, 0, [], status="queued", ahead=0),
        state(0.3, 32, 0, [], status="queued", ahead=2),
        state(0.3, 128, 0, [0.8], status="running"),
    ]
    rows = figures.sweep_rows(states)
    assert [r["status"] for r in rows] == [
        "finished",
        "queued: next",
        "queued: 2 runs ahead",
        "running: epoch 1 done",
    ]
    assert rows[0]["lr"] == "0.1" and rows[0]["batch_size"] == "32" and rows[0]["best val acc"] == "95.00%"
    assert rows[1]["best val acc"] == ""


def test_heatmap_averages_seeds_and_leaves_missing_cells_empty():
    states = [
        state(0.1, 32, 0, [0.90]),
        state(0.1, 32, 1, [0.94]),
        state(0.3, 32, 0, [0.80]),
        state(0.1, 128, 0, [], status="queued", ahead=0),
    ]
    fig = figures.heatmap_figure(states, "lr", "batch_size")
    z = np.array(fig.data[0].z, dtype=float)
    assert list(fig.data[0].x) == ["0.1", "0.3"] and list(fig.data[0].y) == ["32", "128"]
    assert math.isclose(z[0, 0], 0.92) and math.isclose(z[0, 1], 0.80)
    assert np.isnan(z[1, 0]) and np.isnan(z[1, 1])


def test_parallel_coordinates_have_an_axis_per_setting_and_the_score():
    states = [state(0.1, 32, 0, [0.9]), state(0.3, 128, 0, [0.7])]
    fig = figures.parallel_figure(states, ["lr", "batch_size"])
    dims = fig.data[0].dimensions
    assert [d.label for d in dims] == ["lr", "batch_size", "best val acc"]
    assert list(dims[-1]["values"]) == [0.9, 0.7]


def test_loss_curves_draw_each_run_with_results_and_the_best_thicker():
    states = [
        state(0.1, 32, 0, [0.9, 0.95]),
        state(0.3, 32, 0, [0.7]),
        state(1.0, 32, 0, [], status="queued"),
    ]
    fig = figures.loss_curves_figure(states)
    assert len(fig.data) == 2
    assert fig.data[0].line.width > fig.data[1].line.width
    assert figures.best_state(states) is states[0]
