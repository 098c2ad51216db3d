"""Tests for ui.explorer.figures: each chart builder on small generated arrays, checked through its data."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from nn_core.data.stats import components_for_variance
from ui.explorer import figures as figs
from ui.palette import CLASS_COLORS

NAMES = ("zero", "one", "two")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def test_class_balance_figure():
    counts = np.array([5, 15, 10])
    fig = figs.class_balance_figure(counts, NAMES)
    bar = fig.data[0]
    assert list(bar.x) == list(NAMES) and list(bar.y) == [5, 15, 10]
    assert list(bar.marker.color) == list(CLASS_COLORS[:3])
    np.testing.assert_allclose(bar.customdata, [100 / 6, 50, 100 / 3])
    assert fig.layout.shapes[0].y0 == pytest.approx(10)  # the equal-share line: 30 images / 3 classes


def test_pixel_histogram_figure():
    histogram = np.arange(256)
    fig = figs.pixel_histogram_figure(histogram)
    assert len(fig.data[0].x) == 256 and fig.layout.yaxis.type == "log"
    assert fig.data[0].customdata[-1] == pytest.approx(255 / histogram.sum() * 100)


def test_class_distance_figure_blanks_the_diagonal_only():
    d = np.array([[0.0, 2.0, 3.0], [2.0, 0.0, 1.0], [3.0, 1.0, 0.0]])
    fig = figs.class_distance_figure(d, NAMES)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.isnan(np.diag(z)).all() and z[0, 2] == 3.0
    assert np.diag(d).sum() == 0.0  # the caller's array is untouched
    assert list(fig.data[0].x) == list(NAMES)


def test_pca_scatter_figure_one_trace_per_class(rng):
    labels = rng.integers(0, 3, size=40)
    coords = rng.normal(size=(40, 2)).astype(np.float32)
    indices = rng.permutation(1000)[:40]
    fig = figs.pca_scatter_figure(coords, labels, indices, NAMES, explained=(0.2, 0.1))
    assert [t.name for t in fig.data] == list(NAMES)
    assert all(isinstance(t, go.Scattergl) for t in fig.data)
    for c, trace in enumerate(fig.data):
        rows = np.asarray(trace.customdata)
        np.testing.assert_array_equal(rows, indices[labels == c])
        np.testing.assert_allclose(trace.x, coords[labels == c, 0])
        assert trace.marker.color == CLASS_COLORS[c]
    assert "20.0%" in fig.layout.xaxis.title.text and "10.0%" in fig.layout.yaxis.title.text


def test_pca_scatter_rings_the_selected_point_only_when_on_the_map(rng):
    coords = rng.normal(size=(6, 2))
    labels, indices = np.array([0, 1, 2, 0, 1, 2]), np.array([10, 11, 12, 13, 14, 15])
    ringed = figs.pca_scatter_figure(coords, labels, indices, NAMES, selected=13)
    assert len(ringed.data) == 4 and ringed.data[-1].x[0] == pytest.approx(coords[3, 0])
    assert len(figs.pca_scatter_figure(coords, labels, indices, NAMES, selected=99).data) == 3


def test_explained_variance_figure_marks_thresholds():
    ratio = np.array([0.4, 0.3, 0.2, 0.06, 0.04])
    fig = figs.explained_variance_figure(ratio, marks=(0.5, 0.9))
    line, half, most = fig.data
    assert line.y[-1] == pytest.approx(100.0) and line.y[0] == pytest.approx(40.0)
    assert half.x[0] == components_for_variance(ratio, 0.5) == 2
    assert most.x[0] == components_for_variance(ratio, 0.9) == 3
    assert "90%: 3" in most.text[0]
