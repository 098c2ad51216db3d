"""The Draw page under AppTest, with the drawing canvas replaced by a stub that returns a fixed image."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from nn_core.architecture import parse_layers
from nn_core.config import ModelConfig
from nn_core.data.registry import DATASETS
from nn_core.images.preprocess import preprocess_digit
from nn_core.network import build_network
from nn_core.store.default_model import load_default_model
from nn_core.store.model_file import SavedModel, save_model
from nn_core.store.my_digits import add_digit, digitset_path, load_digits
from nn_core.train import EpochMetrics
from ui import model_choices
from ui.draw.input import EMPTY_HINT
from ui.draw.predict import predict_digit
from ui.feature_maps import conv_maps

ROOT = Path(__file__).resolve().parents[1]
PAGE = "app_pages/draw.py"


def _seven() -> np.ndarray:
    im = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(im).line([(60, 50), (210, 50), (110, 240)], fill=(255, 255, 255, 255), width=20)
    return np.asarray(im)


def _tiny_network(seed: int = 0):
    return build_network(ModelConfig(hidden=(16,), activations=("relu",)), np.random.default_rng(seed))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An app home with one small saved model, and an empty data folder."""
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    return tmp_path / "home"


@pytest.fixture
def saved_network(home):
    network = _tiny_network()
    save_model(home / "models" / "tiny.npz", SavedModel(network))
    return network


@pytest.fixture
def canvas(monkeypatch):
    """Replace streamlit_drawable_canvas; set ``canvas.image`` to what the next run 'draws'.

    As the real canvas, a new key (after Clear or after adding a digit) starts empty."""
    fake = types.ModuleType("streamlit_drawable_canvas")
    fake.image = None
    fake.calls = []
    fake.drawn_on = None  # the canvas key the image was drawn on (None: whatever canvas comes next)

    def st_canvas(**kwargs):
        fake.calls.append(kwargs)
        if fake.drawn_on is None:
            fake.drawn_on = kwargs["key"]
        image = fake.image if kwargs["key"] == fake.drawn_on else None
        return types.SimpleNamespace(image_data=image, json_data={"objects": []})

    fake.st_canvas = st_canvas
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", fake)
    return fake


OWNER = "0123456789abcdef"


def _open(owner: str = OWNER, run: bool = True) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state["train_owner"] = owner
    at.switch_page(PAGE)
    return at.run() if run else at


def _file_key(path: Path) -> str:
    return f"file:{path}"


def _choose(at: AppTest, key: str) -> AppTest:
    return at.selectbox(key="draw_model").set_value(key).run()


def _history(acc: float) -> list[EpochMetrics]:
    return [EpochMetrics(1, 2.3, acc, None, None, 0.1, 1.0, 100.0)]


def _texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.markdown, at.subheader, at.info) for e in kind)


def _charts(at: AppTest) -> list:
    return [e for e in at.get("plotly_chart")]


def test_a_newcomer_starts_on_the_shipped_default_model_without_any_data(home, canvas):
    canvas.image = _seven()
    at = _open()
    assert not at.exception
    assert at.title[0].value == "Draw & predict"
    picker = at.selectbox(key="draw_model")
    assert picker.value == "default" and picker.options[0].startswith("Default model · CNN ")
    assert "MNIST" in picker.options[0] and "% test" in picker.options[0]
    assert not (home / "models").exists()  # nothing trained, nothing written
    expected = predict_digit(load_default_model().network, preprocess_digit(_seven(), invert=False), 0.8)
    assert expected.top == 7
    assert expected.headline() in _texts(at)
    assert at.query_params["owner"] == OWNER  # the owner id stays in the address


def test_empty_canvas_shows_a_hint_and_no_prediction(home, saved_network, canvas):
    at = _open()
    assert not at.exception
    assert any(EMPTY_HINT in i.value for i in at.info)
    (empty,) = _charts(at)  # drawn before the first stroke, so the browser has the chart library loaded
    assert empty.proto.id.endswith("-draw_probabilities_empty")
    bars = json.loads(empty.proto.spec)["data"][0]
    assert bars["type"] == "bar" and len(bars["x"]) == 10
    assert not any(bars["text"])  # no probabilities yet
    kwargs = canvas.calls[-1]
    assert kwargs["return_image_data"] and kwargs["drawing_mode"] == "freedraw"
    assert (kwargs["width"], kwargs["height"]) == (280, 280)
    assert kwargs["stroke_color"] == "#FFFFFF" and kwargs["background_color"] == "#000000"
    assert "current_model" not in at.session_state  # nothing chosen yet


def test_a_chosen_model_is_remembered_for_the_session(home, saved_network, canvas):
    at = _open()
    tiny = _file_key(home / "models" / "tiny.npz")
    caption = next(o for o in at.selectbox(key="draw_model").options if o.startswith("tiny"))
    assert caption == "tiny · 784-16-10 · MNIST · accuracy not measured"  # no test set on disk here
    _choose(at, tiny)
    assert at.session_state["current_model"] == tiny
    at.switch_page("app_pages/home.py").run()
    assert "Current model: **tiny**." in _texts(at)
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="draw_model").value == tiny


def test_a_drawing_shows_the_networks_answer_and_chart(home, saved_network, canvas):
    canvas.image = _seven()
    at = _choose(_open(), _file_key(home / "models" / "tiny.npz"))
    assert not at.exception
    digit = preprocess_digit(canvas.image, invert=False)
    expected = predict_digit(saved_network, digit, threshold=0.8)
    assert expected.headline() in _texts(at)
    assert len(_charts(at)) >= 1
    primary = [
        b.label for b in at.button if b.key and b.key.startswith("draw_add_") and b.proto.type == "primary"
    ]
    assert primary == [str(expected.top)]  # the first suggestion is the prediction
    at.slider(key="draw_threshold").set_value(0.5).run()
    relaxed = predict_digit(saved_network, digit, threshold=0.5)
    assert relaxed.headline() in _texts(at)


@pytest.mark.parametrize(
    ("hidden", "activations", "charts"),
    [((16,), ("relu",), 4), ((12, 8), ("tanh", "sigmoid"), 4), ((), (), 2)],
)
def test_look_inside_shows_the_hidden_layers(home, canvas, hidden, activations, charts):
    network = build_network(ModelConfig(hidden=hidden, activations=activations), np.random.default_rng(4))
    save_model(home / "models" / "inside.npz", SavedModel(network))
    canvas.image = _seven()
    at = _choose(_open(), _file_key(home / "models" / "inside.npz"))
    assert len(_charts(at)) == 2  # off by default: the probabilities and the network diagram
    at.toggle(key="draw_look_inside").set_value(True).run()
    assert not at.exception
    assert len(_charts(at)) == charts
    if not hidden:
        assert any("no hidden layer" in i.value for i in at.info)


def test_a_cnn_model_predicts_and_look_inside_shows_its_feature_maps(home, canvas):
    layers = parse_layers("conv4x5,maxpool2,conv8x3:linear,bn:relu,maxpool2,dense16")
    network = build_network(ModelConfig(hidden=(), activations=(), layers=layers), np.random.default_rng(4))
    save_model(home / "models" / "cnn.npz", SavedModel(network))
    canvas.image = _seven()
    at = _choose(_open(), _file_key(home / "models" / "cnn.npz"))
    assert not at.exception
    expected = predict_digit(network, preprocess_digit(canvas.image, invert=False), threshold=0.8)
    assert expected.headline() in _texts(at)
    at.toggle(key="draw_look_inside").set_value(True).run()
    assert not at.exception
    assert "conv4x5-maxpool2-conv8x3:linear-bn:relu-maxpool2-dense16-10" in _texts(at)
    digit = preprocess_digit(canvas.image, invert=False)
    maps = conv_maps(network, digit)
    assert [m.position for m in maps] == [1, 2, 3, 4, 5]  # every layer on maps; not the dense one
    charts = {c.proto.id: c for c in at.get("plotly_chart")}
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text") for c in charts.values()]
    assert "4 filters of 5x5" in titles
    for layer in maps:
        h, w, c = layer.maps.shape
        assert f"layer {layer.position} · {layer.name}: {c} maps of {h}x{w}" in titles
    assert "Layer 1: 16 relu units" in " ".join(c.proto.spec for c in charts.values())  # the dense layer


def test_brush_slider_and_clear_reach_the_canvas(home, saved_network, canvas):
    at = _open()
    at.slider(key="draw_brush").set_value(30).run()
    assert canvas.calls[-1]["stroke_width"] == 30
    first_key = canvas.calls[-1]["key"]
    at.button(key="draw_clear").click().run()
    assert not at.exception
    assert canvas.calls[-1]["key"] != first_key  # a new canvas: the drawing is gone


def test_a_label_button_adds_the_digit_clears_the_canvas_and_suggests_the_next(home, canvas):
    canvas.image = _seven()
    at = _open()
    first_key = canvas.calls[-1]["key"]
    at.button(key="draw_add_7").click().run()
    assert not at.exception
    digits = load_digits(digitset_path(OWNER))
    assert digits.labels.tolist() == [7]
    np.testing.assert_allclose(
        digits.images[0] / 255.0, preprocess_digit(_seven(), invert=False), atol=0.5 / 255
    )
    assert canvas.calls[-1]["key"] != first_key  # a fresh canvas for the next digit
    assert any("Added a 7 to My digits (1 in all). Now draw a 8." in s.value for s in at.success)
    assert any(EMPTY_HINT in i.value for i in at.info)
    assert "1 digit (7 ×1)" in _texts(at)
    assert any(m.label.startswith("Accuracy of Default model") for m in at.metric)
    assert not any("/" in m.value and "digits" in m.value for m in at.markdown)  # no server path shown
    canvas.image, canvas.drawn_on = _seven(), None  # the next drawing
    at.run()
    primary = [
        b.label for b in at.button if b.key and b.key.startswith("draw_add_") and b.proto.type == "primary"
    ]
    assert primary == ["8"]
    at.button(key="draw_add_8").click().run()
    assert load_digits(digitset_path(OWNER)).labels.tolist() == [7, 8]


def test_deleting_my_digits(home, canvas):
    add_digit(preprocess_digit(_seven(), invert=False), 7, digitset_path(OWNER))
    at = _open()
    digits = load_digits(digitset_path(OWNER))
    at.multiselect(key="draw_digits_delete").set_value([int(digits.ids[0])]).run()
    at.button(key="draw_digits_delete_button").click().run()
    assert not at.exception
    assert len(load_digits(digitset_path(OWNER))) == 0
    assert any("Deleted 1 digit" in s.value for s in at.success)


def test_my_digits_belong_to_their_owner(home, canvas):
    add_digit(preprocess_digit(_seven(), invert=False), 7, digitset_path(OWNER))
    mine = _open()
    assert "1 digit (7 ×1)" in _texts(mine)
    stranger = _open(owner="fedcba9876543210")
    assert not stranger.exception
    assert "1 digit (7 ×1)" not in _texts(stranger)
    assert any("No digits yet" in i.value for i in stranger.info)
    fresh = _open(owner="", run=False)  # a new browser: a new owner id, and no digits
    del fresh.session_state["train_owner"]
    fresh.run()
    assert fresh.session_state["train_owner"] not in ("", OWNER)
    assert any("No digits yet" in i.value for i in fresh.info)


def test_my_digits_are_scored_with_the_chosen_model(home, saved_network, canvas):
    images = np.random.default_rng(0).integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    predicted = saved_network.predict(images.reshape(6, 784))
    labels = [int(p) for p in predicted[:4]] + [(int(p) + 1) % 10 for p in predicted[4:]]  # two wrong
    for image, label in zip(images, labels, strict=True):
        add_digit(image, label, digitset_path(OWNER))
    at = _choose(_open(), _file_key(home / "models" / "tiny.npz"))
    assert not at.exception
    metric = next(m for m in at.metric if m.label.startswith("Accuracy of tiny"))
    assert metric.value == "66.7%"
    assert "6 digits" in _texts(at)


def test_a_live_run_is_offered_and_a_run_without_weights_is_marked(home, saved_network, canvas):
    live = _tiny_network(seed=1)
    at = _open(run=False)
    at.session_state["live_models"] = {
        "id3": ("mnist", lambda: live, "run 3"),
        "id4": ("mnist", lambda: None, "run 4"),
    }
    canvas.image = _seven()
    at.run()
    assert not at.exception
    options = at.selectbox(key="draw_model").options
    assert options[0].startswith("Default model")
    assert options[1:3] == ["run 3 · MNIST · accuracy not measured", "run 4 · MNIST · accuracy not measured"]
    assert at.selectbox(key="draw_model").value == "default"
    _choose(at, "live:id3")
    expected = predict_digit(live, preprocess_digit(canvas.image, invert=False), 0.8)
    assert expected.headline() in _texts(at)
    _choose(at, "live:id4")
    assert any("no weights yet" in i.value for i in at.info)


def test_models_that_never_learnt_are_marked_and_listed_last(home, canvas):
    network = _tiny_network(seed=3)
    save_model(home / "models" / "stuck.npz", SavedModel(network, history=_history(0.1124)))
    save_model(home / "models" / "good.npz", SavedModel(network, history=_history(0.97)))
    at = _open()
    options = at.selectbox(key="draw_model").options
    assert options[-1] == "⚠ stuck · 784-16-10 · MNIST · never learnt (11.2% training)"
    assert "good · 784-16-10 · MNIST · 97.0% training" in options
    _choose(at, _file_key(home / "models" / "stuck.npz"))
    assert any("never learnt" in w.value for w in at.warning)


def test_a_fashion_model_file_answers_with_clothing_names(home, canvas):
    network = _tiny_network(seed=5)
    save_model(home / "models" / "clothes.npz", SavedModel(network, dataset="fashion-mnist"))
    canvas.image = _seven()
    at = _choose(_open(), _file_key(home / "models" / "clothes.npz"))
    assert not at.exception
    assert "Fashion-MNIST" in at.selectbox(key="draw_model").options[1]
    expected = predict_digit(network, preprocess_digit(_seven(), invert=False), 0.8)
    names = DATASETS["fashion-mnist"].class_names
    assert expected.headline(names) in _texts(at)
    assert not [b for b in at.button if b.key and b.key.startswith("draw_add_")]  # My digits is for digits


def test_a_damaged_model_file_gets_a_message(home, canvas):
    (home / "models").mkdir(parents=True)
    (home / "models" / "broken.npz").write_bytes(b"not a model")
    at = _choose(_open(), _file_key(home / "models" / "broken.npz"))
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)


def test_a_missing_default_model_gets_a_clear_message(home, canvas, tmp_path, monkeypatch):
    monkeypatch.setattr(model_choices, "default_model_path", lambda: tmp_path / "gone.npz")
    at = _open()
    assert not at.exception
    assert any("default model that ships with Digit Lab is missing" in e.value for e in at.error)


def test_a_damaged_default_model_gets_a_clear_message(home, canvas, tmp_path, monkeypatch):
    broken = tmp_path / "default_model.npz"
    broken.write_bytes(b"PK damaged")
    monkeypatch.setattr(model_choices, "default_model_path", lambda: broken)
    at = _open()
    assert not at.exception
    assert any("default model file is damaged" in e.value for e in at.error)


def test_saved_runs_show_their_test_figure_and_a_diverged_run_is_marked(home, canvas):
    from nn_core.config import TrainConfig
    from nn_core.store.runstore import RunRecord, save_run

    config = ModelConfig(hidden=(16,), activations=("relu",))
    good = RunRecord("run-good-1", OWNER, "Run 1", config, TrainConfig(), _history(0.9), status="finished")
    good.test = {"epoch": 1, "loss": 0.3, "acc": 0.912}
    bad = RunRecord("run-bad-2", OWNER, "Run 2", config, TrainConfig(), _history(0.4), status="diverged")
    theirs = RunRecord("run-other-3", "fedcba9876543210", "Run 9", config, TrainConfig(), _history(0.95))
    for record in (good, bad, theirs):
        save_run(record, _tiny_network())
    at = _open()
    assert not at.exception
    options = at.selectbox(key="draw_model").options
    assert "Run 1 (saved run) · 784-16-10 · MNIST · 91.2% test" in options
    assert options[-1] == "⚠ Run 2 (saved run) · 784-16-10 · MNIST · diverged (40.0% training)"
    assert not any("Run 9" in o for o in options)  # another owner's run
    at.session_state["live_models"] = {"run-good-1": ("mnist", lambda: _tiny_network(), "Run 1 · 784-16-10")}
    at.run()
    assert "Run 1 · 784-16-10 · MNIST · 91.2% test" in at.selectbox(key="draw_model").options  # no repeats


def test_a_damaged_my_digits_file_is_kept_aside_for_a_new_set(home, saved_network, canvas):
    """The damaged-file message never suggests unsafe loading; the page offers to keep a copy."""
    import io

    path = digitset_path(OWNER)
    path.parent.mkdir(parents=True)
    pickled = io.BytesIO()
    np.savez(
        pickled, format=np.array("digit-lab-digits"), version=np.array(1), images=np.array([{}], dtype=object)
    )
    path.write_bytes(pickled.getvalue())
    canvas.image = _seven()
    at = _open()
    assert not at.exception
    errors = "\n".join(e.value for e in at.error)
    assert "damaged" in errors and "Keep a copy" in errors
    assert "pickle" not in errors.lower() and "unsafe" not in errors.lower()
    assert str(home) not in errors  # no server path on the page
    at.button(key="draw_digits_set_aside").click().run()
    assert not at.exception
    (copy,) = path.parent.glob(f"{OWNER}.damaged-*.npz")
    assert copy.read_bytes() == pickled.getvalue() and not path.exists()
    assert any("kept as a copy" in s.value for s in at.success)
    assert any("No digits yet" in i.value for i in at.info)
    at.button(key="draw_add_7").click().run()
    assert load_digits(path).labels.tolist() == [7]
