"""The shipped default model on drawings, not just on MNIST: canvas-style re-renderings and variations.

MNIST test digits are redrawn the way the page's canvas produces them (random size, place and brush
width on a 280x280 sheet, see ``nn_core.images.canvas``) and put through the same preprocessing as a
drawing; each variation pushes one thing to an extreme (thinner or thicker strokes, a small digit in a
corner, a slant of 20 degrees either way). ``benchmarks/robustness.py`` prints the full table.
"""

from __future__ import annotations

import numpy as np
import pytest

from nn_core.data.local import load_split
from nn_core.images.canvas import VARIATIONS, canvas_test_set, render_canvas_style
from nn_core.images.preprocess import preprocess_digit
from nn_core.network import Network
from nn_core.store.default_model import load_default_model

N_DRAWINGS = 2000  # canvas-style drawings: at 99% accuracy the standard error is 0.22 points
N_VARIATION = 600  # per variation: at 98.5% the standard error is 0.5 points
# Floors half a point to a point under the shipped model's figures on these sets (99.2% canvas-style;
# 98.7, 97.3, 99.0, 98.5 and 98.5% for the variations), so a rebuilt model of the same quality passes;
# the README gives the figures on 5,000 drawings each and the aims (99% everywhere), which four
# variations still miss (three of them by 0.3 points or less).
REQUIRED = 0.985  # canvas-style
REQUIRED_VARIATION = {
    "strokes 2x thinner": 0.975,
    "strokes 2x thicker": 0.965,
    "a third of the canvas, off-centre": 0.98,
    "slanted +20°": 0.98,
    "slanted -20°": 0.98,
}

pytestmark = [pytest.mark.real_data, pytest.mark.slow]


@pytest.fixture(scope="module")
def default_network() -> Network:
    return load_default_model().network


@pytest.fixture(scope="module")
def mnist_test(mnist_root) -> tuple[np.ndarray, np.ndarray]:
    return load_split("mnist", "test", mnist_root)


def test_default_model_recognises_canvas_style_drawings(default_network, mnist_test):
    X, y = canvas_test_set(*mnist_test, N_DRAWINGS)
    accuracy = float((default_network.predict(X) == y).mean())
    assert accuracy >= REQUIRED, f"{accuracy:.2%} of {len(y)} canvas-style drawings recognised"


@pytest.mark.parametrize("name", list(REQUIRED_VARIATION))
def test_default_model_copes_with_each_variation(default_network, mnist_test, name):
    X, y = canvas_test_set(*mnist_test, N_VARIATION, seed=7, style=VARIATIONS[name])
    accuracy = float((default_network.predict(X) == y).mean())
    assert accuracy >= REQUIRED_VARIATION[name], f"{name}: {accuracy:.2%} of {len(y)} recognised"


def test_the_drawings_differ_from_mnist_but_keep_the_digit(default_network, mnist_test):
    """The renderings must differ from the originals (or the tests measure nothing) yet keep the digit."""
    images, labels = mnist_test
    rng = np.random.default_rng(5)
    pick = rng.choice(len(labels), 300, replace=False)
    drawn = np.stack([preprocess_digit(render_canvas_style(images[i], rng)) for i in pick]).reshape(300, 784)
    originals = images[pick].reshape(300, 784) / np.float32(255)
    assert np.abs(drawn - originals).mean() > 0.05
    for name, style in VARIATIONS.items():
        varied, _ = canvas_test_set(images, labels, 50, seed=1, style=style)
        plain, _ = canvas_test_set(images, labels, 50, seed=1)
        if name != "canvas-style":
            assert np.abs(varied - plain).mean() > 0.02, name  # each variation changes the drawings
    assert float((default_network.predict(originals) == labels[pick]).mean()) >= 0.98
