"""Uploads on the Draw page in every common image mode, end to end through the page (AppTest).

A 16-bit PNG used to crash ``st.image`` (it cannot re-encode I;16 as JPEG) and a float TIFF with a NaN
pixel printed a RuntimeWarning: every mode below must give a prediction, an 8-bit preview and no error.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from nn_core.config import ModelConfig
from nn_core.images.preprocess import ImageFileError, load_image
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model

ROOT = Path(__file__).resolve().parents[1]


def _gray_seven() -> np.ndarray:
    """Dark ink on light paper, (160, 120) uint8."""
    im = Image.new("L", (120, 160), 230)
    ImageDraw.Draw(im).line([(20, 20), (100, 20), (50, 140)], fill=20, width=12)
    return np.asarray(im)


def _palette_with_transparency() -> Image.Image:
    """A palette image whose paper index is transparent (GIF/PNG 'tRNS'), ink opaque black."""
    im = Image.new("P", (120, 160), 1)
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    ImageDraw.Draw(im).line([(20, 20), (100, 20), (50, 140)], fill=0, width=12)
    im.info["transparency"] = 1
    return im


def _with_missing_pixels(a: np.ndarray) -> np.ndarray:
    """A float image with a NaN pixel on the paper and an infinite one on the ink (a damaged scan)."""
    a = a.copy()
    a[5, 5], a[20, 60] = np.nan, np.inf
    return a


def _file(mode: str) -> tuple[str, bytes]:
    a = _gray_seven()
    base = Image.fromarray(a)
    images = {
        "I;16": ("png", Image.fromarray(a.astype(np.uint16) * 257)),
        "I": ("tiff", Image.fromarray(a.astype(np.int32) * 1000)),
        "F": ("tiff", Image.fromarray(a.astype(np.float32) / 255)),
        "F-nan": ("tiff", Image.fromarray(_with_missing_pixels(a.astype(np.float32) / 255))),
        "LA": ("png", base.convert("LA")),
        "P-transparent": ("png", _palette_with_transparency()),
        "RGBA": ("png", base.convert("RGBA")),
        "CMYK": ("jpeg", base.convert("CMYK")),
        "1": ("png", base.convert("1")),
    }
    ext, im = images[mode]
    buffer = io.BytesIO()
    im.save(buffer, format=ext.upper(), **({"transparency": 1} if mode == "P-transparent" else {}))
    return f"digit.{ext}", buffer.getvalue()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    network = build_network(ModelConfig(hidden=(16,), activations=("relu",)), np.random.default_rng(0))
    save_model(tmp_path / "home" / "models" / "tiny.npz", SavedModel(network))
    return tmp_path / "home"


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value((name, data, "application/octet-stream"))
    return at.run()


@pytest.mark.parametrize("mode", ["I;16", "I", "F", "F-nan", "LA", "P-transparent", "RGBA", "CMYK", "1"])
def test_every_image_mode_gives_a_prediction_and_an_8bit_preview(home, mode):
    name, data = _file(mode)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    at.switch_page("app_pages/draw.py")
    at.run()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _upload(at, name, data)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    headline = " ".join(s.value for s in at.subheader)
    assert "sure" in headline  # "7 (..% sure)" or "Not sure: maybe ..."
    assert any("Your image" in str(e.proto) for e in at.get("image"))


@pytest.mark.parametrize("mode", ["I;16", "I", "F", "F-nan", "LA", "P-transparent", "RGBA", "CMYK", "1"])
def test_every_mode_reads_as_dark_ink_on_light_gray(mode):
    _, data = _file(mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        gray = load_image(data)
    assert gray.dtype == np.uint8 and gray.shape == (160, 120)
    assert gray[6, 6] > 200  # paper (transparent paper over white: the ink is dark)
    assert gray[20, 62] < 80  # the top bar of the 7


def test_an_image_of_only_nan_pixels_gets_a_clear_message():
    buffer = io.BytesIO()
    Image.fromarray(np.full((20, 20), np.nan, np.float32)).save(buffer, format="TIFF")
    with pytest.raises(ImageFileError, match="NaN"):
        load_image(buffer.getvalue())
