"""The default model on drawings, not just on MNIST: at least 95% on canvas-style re-renderings.

MNIST test digits are redrawn the way the page's canvas produces them (random size, place and brush
width on a 280x280 sheet, see ``nn_core.images.canvas``) and put through the same preprocessing as a
drawing. The model is the default model's configuration trained on the real training set; the trained
weights are cached in pytest's cache folder (keyed by the configuration), so only the first run trains.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from nn_core.data.local import load_split
from nn_core.images.canvas import render_canvas_style
from nn_core.images.preprocess import preprocess_digit
from nn_core.network import Network
from nn_core.store.default_model import default_configs, train_default_model
from nn_core.store.model_file import ModelFileError, SavedModel, load_model, save_model

CACHE_NAME = "digit-lab-default-model"  # folder in pytest's cache (shared with the browser tests)
N_DRAWINGS = 2000  # at 96% accuracy the standard error is 0.4 points
REQUIRED = 0.95


def cached_default_model(cache_dir: Path, root: Path | None) -> SavedModel:
    """The default model's configuration trained on MNIST, from ``cache_dir`` when trained before."""
    model_config, train_config = default_configs()
    key = json.dumps([model_config.to_dict(), train_config.to_dict()], sort_keys=True)
    path = cache_dir / f"default-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if path.exists():
        try:
            return load_model(path)
        except ModelFileError:
            path.unlink()
    model = train_default_model(root=root)
    save_model(path, model)
    return model


def model_cache_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytest's cache folder for trained models (a temporary one when the cache plugin is off)."""
    cache = getattr(request.config, "cache", None)
    return cache.mkdir(CACHE_NAME) if cache is not None else tmp_path_factory.mktemp(CACHE_NAME)


@pytest.fixture(scope="module")
def default_network(request, tmp_path_factory, mnist_root) -> Network:
    return cached_default_model(model_cache_dir(request, tmp_path_factory), mnist_root).network


@pytest.fixture(scope="module")
def canvas_style_test_set(mnist_root) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(preprocessed drawings (n, 784), labels (n,), the same digits as MNIST has them (n, 784))."""
    images, labels = load_split("mnist", "test", mnist_root)
    rng = np.random.default_rng(2024)
    pick = rng.choice(len(labels), size=N_DRAWINGS, replace=False)
    drawings = np.stack([preprocess_digit(render_canvas_style(images[i], rng)) for i in pick])
    return (
        drawings.reshape(N_DRAWINGS, 784),
        labels[pick],
        images[pick].reshape(N_DRAWINGS, 784) / np.float32(255),
    )


def test_default_model_recognises_canvas_style_drawings(default_network, canvas_style_test_set):
    X, y, _ = canvas_style_test_set
    accuracy = float((default_network.predict(X) == y).mean())
    assert accuracy >= REQUIRED, f"{accuracy:.1%} of {len(y)} canvas-style drawings recognised"


def test_the_drawings_are_harder_than_mnist_but_not_broken(default_network, canvas_style_test_set):
    """The renderings must differ from the originals (or the test measures nothing) yet keep the digit."""
    X, y, originals = canvas_style_test_set
    assert np.abs(X - originals).mean() > 0.05
    on_mnist = float((default_network.predict(originals) == y).mean())
    assert on_mnist >= 0.97
