"""The export buttons in a real browser: a click on the Draw page downloads a working ONNX file and zip
of the model it opens with, the shipped default model (a CNN)."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from playwright.sync_api import expect

from nn_core.store.default_model import load_default_model
from tests.browser.conftest import AppServer, assert_healthy, wait_for_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server of its own with an empty home: the Draw page opens with the shipped default model."""
    app = AppServer(tmp_path_factory.mktemp("export-home"))
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
    assert sorted(files) == ["digit-lab-default-model-numpy.zip", "digit-lab-default-model.onnx"]
    model = onnx.load_model_from_string(files["digit-lab-default-model.onnx"])
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["pixels"]
    assert any(node.op_type == "Conv" for node in model.graph.node)
    ort = pytest.importorskip("onnxruntime")
    images = np.random.default_rng(0).random((4, 28, 28), dtype=np.float32)
    (probabilities,) = ort.InferenceSession(model.SerializeToString()).run(None, {"pixels": images})
    expected = load_default_model().network.predict_proba(images)
    np.testing.assert_allclose(probabilities, expected, atol=1e-5)
    with zipfile.ZipFile(io.BytesIO(files["digit-lab-default-model-numpy.zip"])) as archive:
        assert "digit-lab-model/predict.py" in archive.namelist()
    assert_healthy(page)
