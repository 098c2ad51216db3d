"""Tests for ui.explorer_figures: each builder on small generated arrays, checked through the figure's data."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from nn_core.dataset_stats import components_for_variance
from ui import explorer_figures as figs
from ui.palette import CLASS_COLORS

NAMES = ("zero", "one", "two")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def test_mosaic_places_tiles_with_gaps(rng):
    tiles = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    out = figs.mosaic(tiles, cols=2, caption_rows=1)
    cell_h, cell_w = 4 + 1 + figs.GAP, 3 + figs.GAP
    assert out.shape == (3 * cell_h - figs.GAP, 2 * cell_w - figs.GAP) and out.dtype == np.float32
    for i in range(5):
        r, c = divmod(i, 2)
        block = out[r * cell_h : r * cell_h + 4, c * cell_w : c * cell_w + 3]
        np.testing.assert_allclose(block, tiles[i] / 255, atol=1e-6)
    assert np.isnan(out[4, :]).all()  # the caption row under the first row of tiles
    assert np.isnan(out[2 * cell_h :, cell_w:]).all()  # no sixth tile


def test_mosaic_keeps_float_values():
    tiles = np.full((2, 2, 2), 0.25, dtype=np.float32)
    out = figs.mosaic(tiles, cols=5)
    assert out.shape[1] == 2 * (2 + figs.GAP) - figs.GAP  # columns capped at the number of tiles
    assert np.nanmax(out) == pytest.approx(0.25)


def test_image_grid_with_indices_is_clickable(rng):
    tiles = rng.integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    indices = np.array([70, 3, 55, 8, 1, 900, 42])
    captions = [f"c{i}" for i in range(7)]
    fig = figs.image_grid_figure(tiles, captions, cols=4, indices=indices, hover=[f"#{i}" for i in indices])
    heatmap, markers = fig.data
    assert isinstance(heatmap, go.Heatmap) and heatmap.hoverinfo == "skip"
    np.testing.assert_array_equal(markers.customdata, indices)
    assert list(markers.text) == [f"#{i}" for i in indices]
    assert [a.text for a in fig.layout.annotations] == captions
    # The fifth tile starts the second row: its marker sits one cell lower than the first.
    assert markers.y[4] - markers.y[0] == 28 + figs.CAPTION + figs.GAP
    assert markers.x[4] == markers.x[0]
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.autorange == "reversed"


def test_image_grid_without_indices_shows_values_and_sizes_with_columns(rng):
    tiles = rng.random((10, 28, 28)).astype(np.float32)
    wide = figs.image_grid_figure(tiles, [str(i) for i in range(10)], cols=10, title="means")
    narrow = figs.image_grid_figure(tiles, [str(i) for i in range(10)], cols=5, title="means")
    assert len(wide.data) == 1 and "%{z" in wide.data[0].hovertemplate
    assert wide.layout.width > narrow.layout.width and wide.layout.height < narrow.layout.height
    with pytest.raises(ValueError, match="captions"):
        figs.image_grid_figure(tiles, ["a"], cols=10)


def test_image_grid_colour_scale_gets_a_colorbar(rng):
    tiles = rng.random((3, 6, 6)).astype(np.float32)
    grey = figs.image_grid_figure(tiles, list(NAMES))
    coloured = figs.image_grid_figure(tiles, list(NAMES), colorscale="Viridis", zmax=0.5)
    assert not grey.data[0].showscale and coloured.data[0].showscale
    assert coloured.data[0].zmax == 0.5 and coloured.layout.width > grey.layout.width


def test_image_figure_shows_raw_values(rng):
    image = rng.integers(0, 256, size=(28, 28), dtype=np.uint8)
    fig = figs.image_figure(image, "#5: two")
    np.testing.assert_array_equal(np.asarray(fig.data[0].z), image)
    assert fig.data[0].zmax == 255 and "value %{z}" in fig.data[0].hovertemplate
    assert fig.layout.title.text == "#5: two"
    plain = figs.image_figure(np.full((4, 4), 0.5, dtype=np.float32), "mean", colorbar=False)
    assert plain.data[0].zmax == pytest.approx(0.5) and plain.data[0].showscale is False


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
