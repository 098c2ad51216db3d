"""Home page (AppTest): dataset status, the Download button with its progress, and the offline message."""

from __future__ import annotations

import gzip
import hashlib
import struct
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.data import registry as datasets
from nn_core.data.registry import DatasetInfo

ROOT = Path(__file__).resolve().parents[1]


def _idx(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    return gzip.compress(struct.pack(f">I{array.ndim}I", magic, *array.shape) + array.tobytes())


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> tuple[str, dict[str, str]]:
    """A loopback HTTP server holding a tiny dataset in the four canonical files; (base URL, sha256s)."""
    folder = tmp_path_factory.mktemp("mirror")
    rng = np.random.default_rng(0)
    sums = {}
    for split, n in (("train", 30), ("t10k", 10)):
        for kind, array in (
            ("images-idx3", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
            ("labels-idx1", rng.integers(0, 10, n).astype(np.uint8)),
        ):
            name = f"{split}-{kind}-ubyte.gz"
            data = _idx(array)
            (folder / name).write_bytes(data)
            sums[name] = hashlib.sha256(data).hexdigest()
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/", sums
    server.shutdown()


def _use_mirror(monkeypatch, base: str, sums: dict[str, str]) -> None:
    info = datasets.MNIST
    fake = DatasetInfo(info.name, info.title, info.class_names, sums, (base,))
    monkeypatch.setitem(datasets.DATASETS, "mnist", fake)


def _open(monkeypatch, data: Path, tmp_path: Path) -> AppTest:
    monkeypatch.setenv("DIGIT_LAB_DATA", str(data))
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()


def test_with_the_data_present_both_datasets_are_ready(monkeypatch, tmp_path, mnist_root, fashion_root):
    at = _open(monkeypatch, mnist_root, tmp_path)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "**MNIST**: 60,000 training and 10,000 test images, ready" in text
    assert "**Fashion-MNIST**: 60,000 training" in text
    assert not at.button and "Models ready to predict with: **Default model**." in text  # ships with the app


def test_missing_data_offers_a_download_that_fills_the_folder(monkeypatch, tmp_path, mirror):
    base, sums = mirror
    _use_mirror(monkeypatch, base, sums)
    data = tmp_path / "data"
    at = _open(monkeypatch, data, tmp_path)
    assert not at.exception
    warning = at.warning[0].value
    assert "MNIST** is not on this computer yet" in warning and "DIGIT_LAB_DATA" in warning
    assert str(data / "mnist") in warning
    at.button(key="home_download_mnist").click().run()
    assert not at.exception
    assert at.success[0].value == "MNIST is ready."
    assert sorted(p.name for p in (data / "mnist").iterdir()) == sorted(sums)


def test_offline_download_says_so_and_leaves_no_partial_file(monkeypatch, tmp_path, mirror):
    _, sums = mirror
    _use_mirror(monkeypatch, "http://127.0.0.1:9/", sums)  # the discard port: nothing listens
    data = tmp_path / "data"
    at = _open(monkeypatch, data, tmp_path)
    at.button(key="home_download_mnist").click().run()
    assert not at.exception
    error = at.error[0].value
    assert "did not complete" in error and "train-images-idx3-ubyte.gz" in error
    leftovers = list((data / "mnist").iterdir()) if (data / "mnist").exists() else []
    assert leftovers == []


def test_saved_models_are_named_on_the_home_page(monkeypatch, tmp_path, mnist_root):
    from nn_core.config import ModelConfig
    from nn_core.network import build_network
    from nn_core.store.model_file import SavedModel, save_model

    network = build_network(ModelConfig(hidden=(4,), activations=("relu",)), np.random.default_rng(0))
    save_model(tmp_path / "home" / "models" / "my-model.npz", SavedModel(network))
    at = _open(monkeypatch, mnist_root, tmp_path)
    assert not at.exception
    assert "Models ready to predict with: **Default model**, **my-model**." in [m.value for m in at.markdown]
