"""Tests for ui.explorer.images: mosaics, image grids and the single-image figure, on generated arrays."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from ui.explorer import images as figs

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


def test_sample_grid_captions_with_class_names(rng):
    tiles = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    labels, rows = np.array([2, 0, 2, 1]), np.array([17, 4, 900, 33])
    fig = figs.sample_grid_figure(tiles, labels, rows, NAMES, cols=2)
    assert [a.text for a in fig.layout.annotations] == ["two", "zero", "two", "one"]
    assert list(fig.data[1].text) == ["#17: two", "#4: zero", "#900: two", "#33: one"]
    np.testing.assert_array_equal(fig.data[1].customdata, rows)
