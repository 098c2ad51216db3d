"""The export buttons in a real browser: a click on the Draw page downloads a working ONNX file and zip."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from playwright.sync_api import expect

from nn_core.config import ModelConfig
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model
from tests.browser.conftest import AppServer, assert_healthy, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own whose home holds one small model (so the Draw page starts at once)."""
    home = tmp_path_factory.mktemp("export-home")
    network = build_network(ModelConfig(hidden=(16,)), np.random.default_rng(0))
    save_model(home / "models" / "small.npz", SavedModel(network))
    app = AppServer(home)
    yield app
    app.stop()


def test_the_draw_pages_export_buttons_download_files(page, server):
    onnx = pytest.importorskip("onnx")
    page.goto(server.url)
    wait_for_app(page)
    page.goto(f"{server.url}/draw")
    wait_for_app(page)
    page.get_by_text("Export this model").click()
    files = {}
    for label in ("Download as ONNX", "Download as NumPy zip"):
        button = page.get_by_role("button", name=label)
        expect(button).to_be_visible(timeout=30_000)
        with page.expect_download(timeout=30_000) as info:
            button.click()
        download = info.value
        files[download.suggested_filename] = download.path().read_bytes()
    assert sorted(files) == ["digit-lab-small-numpy.zip", "digit-lab-small.onnx"]
    model = onnx.load_model_from_string(files["digit-lab-small.onnx"])
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["pixels"]
    with zipfile.ZipFile(io.BytesIO(files["digit-lab-small-numpy.zip"])) as archive:
        assert "digit-lab-model/predict.py" in archive.namelist()
    assert_healthy(page)
