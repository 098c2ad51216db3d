"""Figure builders of the Draw page: what each trace holds, colours, layout of the grids."""

from __future__ import annotations

import numpy as np
import pytest

from ui.draw.figures import (
    OTHER_COLOR,
    activations_figure,
    as_grid,
    confusion_figure,
    grid_shape,
    probability_figure,
    tile_mosaic,
    units_figure,
)
from ui.palette import BAD_COLOR, GOOD_COLOR


def _probs(top: int, p: float) -> np.ndarray:
    probs = np.full(10, (1 - p) / 9, np.float32)
    probs[top] = p
    return probs


@pytest.mark.parametrize(("sure", "color"), [(True, GOOD_COLOR), (False, BAD_COLOR)])
def test_probability_bars_colour_the_top_class_by_certainty(sure, color):
    fig = probability_figure(_probs(7, 0.6), threshold=0.75, sure=sure)
    bar = fig.data[0]
    assert list(bar.x) == [str(i) for i in range(10)]
    np.testing.assert_allclose(bar.y, _probs(7, 0.6), rtol=1e-6)
    assert bar.marker.color[7] == color
    assert all(c == OTHER_COLOR for i, c in enumerate(bar.marker.color) if i != 7)
    assert bar.text[7] == "60%"
    lines = [s for s in fig.layout.shapes if s.type == "line"]
    assert len(lines) == 1 and lines[0].y0 == pytest.approx(0.75)


def test_probability_bars_take_class_names_and_check_their_number():
    names = tuple("abcdefghij")
    fig = probability_figure(_probs(2, 0.9), 0.5, True, names)
    assert list(fig.data[0].x) == list(names)
    with pytest.raises(ValueError, match="class names"):
        probability_figure(_probs(2, 0.9), 0.5, True, names[:5])


@pytest.mark.parametrize(
    ("n", "shape"), [(1, (1, 1)), (10, (3, 4)), (16, (4, 4)), (256, (16, 16)), (300, (17, 18))]
)
def test_grid_shape_is_nearly_square_and_big_enough(n, shape):
    rows, cols = grid_shape(n)
    assert (rows, cols) == shape
    assert rows * cols >= n and cols >= rows


def test_as_grid_fills_row_by_row_and_pads_with_nan():
    grid = as_grid(np.arange(10, dtype=np.float32))
    assert grid.shape == (3, 4)
    assert grid[0].tolist() == [0, 1, 2, 3] and grid[2, 1] == 9
    assert np.isnan(grid[2, 2:]).all()


def test_activations_figure_has_one_panel_per_layer():
    acts = [np.linspace(0, 1, 30, dtype=np.float32), np.linspace(-1, 1, 8, dtype=np.float32)]
    fig = activations_figure(acts, ("relu", "tanh"))
    assert len(fig.data) == 2
    assert np.asarray(fig.data[0].z).shape == (5, 6)
    assert np.asarray(fig.data[1].customdata)[0, 2] == 2  # hover names the unit
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["Layer 1: 30 relu units", "Layer 2: 8 tanh units"]
    with pytest.raises(ValueError):
        activations_figure([], ())


def test_tile_mosaic_places_tiles_row_by_row_with_blank_gaps():
    tiles = np.arange(3 * 2 * 2, dtype=np.float32).reshape(3, 2, 2)
    out = tile_mosaic(tiles, cols=2, gap=1, top=1)
    assert out.shape == (2 * (1 + 2 + 1) - 1, 2 * (2 + 1) - 1)
    np.testing.assert_array_equal(out[1:3, 0:2], tiles[0])
    np.testing.assert_array_equal(out[1:3, 3:5], tiles[1])
    np.testing.assert_array_equal(out[5:7, 0:2], tiles[2])
    assert np.isnan(out[0]).all() and np.isnan(out[:, 2]).all() and np.isnan(out[5:7, 3:5]).all()


def test_units_figure_titles_units_and_scales_each_tile_to_keep_zero_white():
    images = np.stack(
        [np.full((28, 28), -0.2, np.float32), np.linspace(-1, 3, 784, dtype=np.float32).reshape(28, 28)]
    )
    fig = units_figure(images, np.array([17, 3]), np.array([1.5, 0.25]))
    assert [a.text for a in fig.layout.annotations] == ["unit 17: +1.50", "unit 3: +0.25"]
    heatmap = fig.data[0]
    assert (heatmap.zmin, heatmap.zmax) == (-1.0, 1.0)
    z, weights = np.asarray(heatmap.z, dtype=float), np.asarray(heatmap.customdata, dtype=float)
    assert np.nanmin(z) == pytest.approx(-1.0) and np.nanmax(z) == pytest.approx(1.0)  # -0.2/0.2 and 3/3
    assert np.nanmax(weights) == pytest.approx(3.0)  # hover gives the real weight
    assert (np.isnan(z) == np.isnan(weights)).all()
    shown = ~np.isnan(z) & (np.abs(z) > 1e-6)
    assert set(np.round(weights[shown] / z[shown], 4)) == {0.2, 3.0}  # each tile over its own largest |w|


def test_confusion_figure_writes_non_zero_counts():
    confusion = np.zeros((10, 10), np.int64)
    confusion[7, 1] = 3
    confusion[4, 4] = 2
    fig = confusion_figure(confusion)
    text = fig.data[0].text
    assert text[7][1] == "3" and text[4][4] == "2" and text[0][0] == ""
    assert fig.layout.yaxis.title.text == "true" and fig.layout.xaxis.title.text == "predicted"
