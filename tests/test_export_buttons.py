"""The export buttons under AppTest: on the Draw page and in the playground's Files tab, made on click."""

from __future__ import annotations

import io
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig
from nn_core.network import build_network
from nn_core.store.default_model import default_model_path
from nn_core.store.model_file import SavedModel, save_model
from ui import export_buttons
from ui.training import registry as reg

APP = str(Path(__file__).resolve().parents[1] / "app.py")
LABELS = ["Download as ONNX", "Download as NumPy zip"]


def _network():
    return build_network(ModelConfig(hidden=(8,)), np.random.default_rng(0))


def _cnn():
    layers = parse_layers("conv4x3same:linear,bn:relu,maxpool2,conv6x3s2,avgpool2,dropout0.2,dense8")
    return build_network(ModelConfig(hidden=(), activations=(), layers=layers), np.random.default_rng(0))


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    fake = types.ModuleType("streamlit_drawable_canvas")  # the Draw page's canvas, drawing nothing
    fake.st_canvas = lambda **kwargs: types.SimpleNamespace(image_data=None, json_data={"objects": []})
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", fake)
    yield tmp_path / "home"
    reg.forget_all()


def _buttons(at: AppTest, key: str) -> dict[str, object]:
    return {
        b.proto.label: b.proto
        for b in at.get("download_button")
        if b.proto.id.endswith(f"{key}_export_onnx") or b.proto.id.endswith(f"{key}_export_numpy")
    }


def test_the_draw_page_offers_both_exports_of_the_chosen_model(home):
    save_model(home / "models" / "tiny.npz", SavedModel(_network()))
    at = AppTest.from_file(APP, default_timeout=30).switch_page("app_pages/draw.py").run()
    assert not at.exception, at.exception
    buttons = _buttons(at, "draw")
    assert sorted(buttons) == sorted(LABELS)
    assert not any(b.disabled for b in buttons.values())
    assert "pixels" in buttons["Download as ONNX"].help


def test_the_playgrounds_files_tab_offers_both_exports(home):
    owner = "20260101-000000-abcdef"
    reg.import_model(owner, "Run 1", SavedModel(_network(), dataset="mnist"), "tiny.npz")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["owner"] = owner
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    assert sorted(_buttons(at, "train")) == sorted(LABELS)


def test_without_onnx_the_button_is_disabled_and_says_how_to_install(home, monkeypatch):
    monkeypatch.setattr(export_buttons, "onnx_available", lambda: False)
    save_model(home / "models" / "tiny.npz", SavedModel(_network()))
    at = AppTest.from_file(APP, default_timeout=30).switch_page("app_pages/draw.py").run()
    assert not at.exception, at.exception
    buttons = _buttons(at, "draw")
    assert buttons["Download as ONNX"].disabled and not buttons["Download as NumPy zip"].disabled
    assert any("pip install -r requirements-export.txt" in c.value for c in at.caption)


def test_the_files_are_made_from_a_model_file_or_a_network(tmp_path):
    pytest.importorskip("onnx")
    network = _network()
    path = save_model(tmp_path / "m.npz", SavedModel(network, dataset="fashion-mnist"))
    assert export_buttons._export(path, "onnx", None).startswith(
        b"\x08"
    )  # an ONNX protobuf: ir_version first
    with zipfile.ZipFile(io.BytesIO(export_buttons._export(network, "numpy", None))) as archive:
        assert "digit-lab-model/weights.npz" in archive.namelist()
    assert export_buttons._file_stem("Run 3 (saved run)") == "digit-lab-run-3-saved-run"


def test_the_draw_page_offers_cnns_the_default_model_first(home):
    save_model(home / "models" / "small-cnn.npz", SavedModel(_cnn(), dataset="mnist"))
    at = AppTest.from_file(APP, default_timeout=30).switch_page("app_pages/draw.py").run()
    assert not at.exception, at.exception
    labels = at.selectbox[0].options
    assert labels[0].startswith("Default model · CNN") and "small-cnn · CNN" in labels[1]
    assert at.selectbox[0].index == 0  # the shipped model, a CNN, is chosen first
    for index in (0, 1):
        at.selectbox[0].select_index(index).run()
        assert not at.exception, at.exception
        assert at.selectbox[0].index == index
        buttons = _buttons(at, "draw")
        assert sorted(buttons) == sorted(LABELS) and not any(b.disabled for b in buttons.values())


def test_the_playgrounds_files_tab_offers_a_cnns_exports(home):
    owner = "20260101-000000-abcdef"
    reg.import_model(owner, "Run 1", SavedModel(_cnn(), dataset="mnist"), "small-cnn.npz")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["owner"] = owner
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    buttons = _buttons(at, "train")
    assert sorted(buttons) == sorted(LABELS) and not any(b.disabled for b in buttons.values())


@pytest.mark.parametrize("which", ["small CNN", "default model"])
def test_a_cnns_files_are_made_in_both_formats(tmp_path, which):
    onnx = pytest.importorskip("onnx")
    path = default_model_path()
    if which == "small CNN":
        path = save_model(tmp_path / "small-cnn.npz", SavedModel(_cnn(), dataset="mnist"))
    model = onnx.load_model_from_string(export_buttons._export(path, "onnx", None))
    assert {"Conv", "BatchNormalization", "MaxPool"} <= {n.op_type for n in model.graph.node}
    with zipfile.ZipFile(io.BytesIO(export_buttons._export(path, "numpy", None))) as archive:
        assert "digit-lab-model/weights.npz" in archive.namelist()
