"""Playground figures: curves, overlays, confusion matrix, per-class bars, weight mosaics, galleries."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest
from PIL import Image

from nn_core.train import EpochMetrics
from ui.training import figures as tf


def _history(n: int, val: bool = True, offset: float = 0.0) -> list[EpochMetrics]:
    return [
        EpochMetrics(
            e,
            1 / e + offset,
            0.8 + e / 100,
            1.2 / e if val else None,
            0.75 + e / 100 if val else None,
            0.1,
            0.5,
            1e4,
        )
        for e in range(1, n + 1)
    ]


def test_curve_figure_has_one_point_per_epoch_for_train_and_validation():
    fig = tf.curve_figure(_history(4), "loss", planned_epochs=10)
    assert [t.name for t in fig.data] == ["training", "validation"]
    assert list(fig.data[0].x) == [1, 2, 3, 4]
    assert fig.data[0].y[1] == pytest.approx(0.5) and fig.data[1].y[3] == pytest.approx(0.3)
    assert tuple(fig.layout.xaxis.range) == (0.5, 10.5)  # room for the epochs still to come
    assert fig.layout.hovermode == "x unified"


def test_curve_figure_without_validation_or_history():
    fig = tf.curve_figure(_history(3, val=False), "acc")
    assert [t.name for t in fig.data] == ["training"]
    assert fig.layout.yaxis.tickformat == ".1%"  # 81% to 83%: one decimal keeps the labels apart
    assert len(tf.curve_figure([], "acc", planned_epochs=3).data) == 1  # an empty training trace, axes ready


def test_compare_figure_draws_one_line_per_run_and_skips_missing_metrics():
    runs = [("Run 1", _history(3)), ("Run 2", _history(5, offset=1.0)), ("Run 3", _history(2, val=False))]
    fig = tf.compare_figure(runs, "train_loss")
    assert [t.name for t in fig.data] == ["Run 1", "Run 2", "Run 3"]
    assert len(fig.data[1].x) == 5 and fig.data[1].y[0] == pytest.approx(2.0)
    assert len({t.line.color for t in fig.data}) == 3
    assert [t.name for t in tf.compare_figure(runs, "val_acc").data] == ["Run 1", "Run 2"]


def test_confusion_figure_splits_errors_from_correct_and_makes_cells_clickable():
    confusion = np.array([[50, 2, 0], [5, 40, 1], [0, 0, 30]])
    fig = tf.confusion_figure(confusion, ["a", "b", "c"])
    errors, correct, cells = fig.data
    assert math.isnan(errors.z[0][0]) and errors.z[1][0] == 5
    assert correct.z[2][2] == 30 and math.isnan(correct.z[0][1])
    assert len(cells.x) == 9 and cells.mode == "markers"
    # the clickable marker of row 1, column 0 sits on that cell and carries its count
    i = next(i for i in range(9) if cells.y[i] == 1 and cells.x[i] == 0)
    assert list(cells.customdata[i]) == [1, 0, 5]
    assert list(fig.layout.xaxis.ticktext) == ["a", "b", "c"]
    assert fig.layout.yaxis.autorange == "reversed"


def test_per_class_figure_labels_each_class():
    recall = np.array([0.99, 0.5, np.nan])
    fig = tf.per_class_figure(recall, ["0", "1", "2"])
    assert list(fig.data[0].x) == ["0", "1", "2"]
    assert list(fig.data[0].text) == ["99.0%", "50.0%", ""]
    assert fig.layout.yaxis.range[0] == pytest.approx(0.4)


def test_weights_mosaic_places_each_unit_as_a_scaled_tile():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((784, 10)).astype(np.float32)
    mosaic = tf.weights_mosaic(W, max_units=10, cols=4)
    assert mosaic.shape == (3 * 29 - 1, 4 * 29 - 1)
    tile = mosaic[29:57, 29:57]  # unit 5: row 1, column 1
    np.testing.assert_allclose(tile, W[:, 5].reshape(28, 28) / np.abs(W[:, 5]).max(), rtol=1e-6)
    assert np.isnan(mosaic[28, :]).all()  # the gap between tile rows
    assert np.isnan(mosaic[2 * 29 :, 2 * 29 :]).all()  # no units 10 and 11
    assert np.nanmax(np.abs(mosaic)) == pytest.approx(1.0)


def test_weights_mosaic_survives_a_dead_unit_and_caps_the_count():
    W = np.zeros((784, 100), dtype=np.float32)
    mosaic = tf.weights_mosaic(W, max_units=64, cols=8)
    assert mosaic.shape == (8 * 29 - 1, 8 * 29 - 1)
    assert np.nanmax(np.abs(mosaic)) == 0
    assert "64 of 100" in tf.weights_figure(W).layout.title.text


def test_gallery_html_inlines_each_image_with_its_caption():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[1, 5, 7] = 255
    html = tf.gallery_html(images, ["3→5 <99%>", "ok"])
    assert html.count("<img") == 2 and "3→5 &lt;99%&gt;" in html
    uri = html.split('src="')[2].split('"')[0]
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    np.testing.assert_array_equal(decoded, images[1])


def test_history_csv_has_a_row_per_epoch_and_blank_missing_validation():
    import csv

    from ui.training.live import COLUMNS, history_csv

    rows = list(csv.reader(io.StringIO(history_csv(tuple(_history(3, val=False))))))
    assert tuple(rows[0]) == COLUMNS
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    assert rows[2][COLUMNS.index("val_loss")] == "" and float(rows[2][1]) == pytest.approx(0.5)


def _acc_history(accs: list[float]) -> list[EpochMetrics]:
    return [EpochMetrics(e, 0.5, a, 0.5, a, 0.1, 0.5, 1e4) for e, a in enumerate(accs, start=1)]


def _tick_labels(fmt: str, low: float, high: float) -> list[str]:
    """Labels of every tick step Plotly could choose (1, 2, 5 x 10^k, at least span / MAX_TICKS)."""
    spec = fmt.lstrip(".")
    labels_per_step = []
    span = high - low
    for k in range(-6, 1):
        for m in (1, 2, 5):
            step = m * 10.0**k
            if step < span / tf.MAX_TICKS or step > span:
                continue
            first = math.ceil(low / step) * step
            ticks = [first + i * step for i in range(int((high - first) / step) + 1)]
            labels_per_step.append([format(t, "." + spec) for t in ticks])
    return labels_per_step


@pytest.mark.parametrize(
    "values",
    [
        [0.9412, 0.9488, 0.9531, 0.9577, 0.9602],  # a good run: 94-96%
        [0.1009, 0.1011, 0.1003, 0.1015],  # a run stuck near 10%
        [0.12, 0.55, 0.83, 0.91],  # a wide range
        [0.97501, 0.97507],
    ],
)
def test_percent_ticks_never_repeat_a_label(values):
    axis = tf.percent_axis(values)
    fig = tf.compare_figure([("Run 1", _acc_history(values))], "val_acc")
    assert fig.layout.yaxis.tickformat == axis["tickformat"]
    for labels in _tick_labels(axis["tickformat"], min(values), max(values)):
        assert len(labels) == len(set(labels)), labels
    assert tf.curve_figure(_acc_history(values), "acc").layout.yaxis.tickformat == axis["tickformat"]


def test_a_wide_range_keeps_whole_percentages_and_flat_data_gets_a_range():
    assert tf.percent_axis([0.12, 0.91])["tickformat"] == ".0%"
    flat = tf.percent_axis([0.1, 0.1, None])
    assert flat["range"] == pytest.approx([0.095, 0.105]) and flat["tickformat"] == ".1%"
