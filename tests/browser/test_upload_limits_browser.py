"""A file over the upload limit replaces the previous file's result with a clear message (real browser).

The browser refuses files over the server's ``maxUploadSize`` by itself: the widget turned red and the
page, which never saw the file, kept showing the previous photo's prediction. The server now takes
files far larger than the page's own limit, so the page sees the big file and says what is wrong.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from nn_core.config import ModelConfig
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model
from tests.browser.conftest import assert_healthy, wait_for_app

pytestmark = pytest.mark.browser


def test_a_too_large_upload_replaces_the_previous_result_with_a_message(page, app_server, tmp_path):
    network = build_network(ModelConfig(hidden=(16,), activations=("relu",)), np.random.default_rng(0))
    save_model(app_server.home / "models" / "tiny-upload-test.npz", SavedModel(network))
    photo = tmp_path / "one.png"
    im = Image.new("L", (200, 300), 235)
    ImageDraw.Draw(im).line([(100, 40), (100, 260)], fill=30, width=16)
    im.save(photo)
    big = tmp_path / "huge-scan.png"
    big.write_bytes(os.urandom(25_000_000))  # over the old 20 MB server limit

    page.goto(app_server.url)
    wait_for_app(page)
    page.goto(f"{app_server.url}/draw")
    wait_for_app(page)
    page.get_by_role("radio", name="Upload a photo").check(force=True)
    photo_uploader = page.locator("[data-testid=stFileUploader]").filter(
        has_text="Photo or scan of one digit"
    )
    upload = photo_uploader.locator("input[type=file]")  # My digits has an uploader of its own
    expect(upload).to_be_attached(timeout=30_000)
    upload.set_input_files(str(photo))
    expect(page.get_by_text("Your image (as read, in gray)")).to_be_visible(timeout=30_000)
    upload.set_input_files(str(big))
    expect(page.get_by_text("This file is 25.0 MB; the limit is 10 MB")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Your image (as read, in gray)")).to_have_count(0)
    assert page.get_by_text("must be").count() == 0  # no refusal by the widget itself
    assert_healthy(page)
