"""Tests of the command line, ``python -m nn_core``, mostly in-process through ``main(argv)``.

Training runs on a tiny synthetic dataset registered as "tiny": gzip IDX files written here, with
their SHA-256 in a registry entry added for the test (the data layer checks every file against it).
Each class is a bright bar at its own place on a noisy field, so a few epochs learn it.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import io
import json
import shlex
import struct
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nn_core.architecture import format_layers
from nn_core.cli.main import DownloadProgress, main
from nn_core.config import ModelConfig, TrainConfig
from nn_core.data import checksums
from nn_core.data.local import to_float
from nn_core.data.registry import DATASETS, SPLIT_FILES, DatasetInfo
from nn_core.presets import PRESETS
from nn_core.store.model_file import load_model
from nn_core.train import EpochMetrics, Trainer

REPO = Path(__file__).resolve().parents[1]
TINY = "tiny"
CLASS_NAMES = tuple(f"bar-{k}" for k in range(10))
RECORD_FIELDS = {f for f in EpochMetrics.__dataclass_fields__}
N_TRAIN, N_TEST = 300, 100


def bars(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (n, 28, 28): class k is an 8x5 bright bar at its own grid place; labels (n,)."""
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for image, k in zip(images, labels, strict=True):
        r, c = 3 + 12 * (k // 5), 1 + 5 * (k % 5)
        image[r : r + 8, c : c + 5] = 255
    return images, labels


def idx_gz(array: np.ndarray) -> bytes:
    magic = 2051 if array.ndim == 3 else 2049
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.tobytes())


def tiny_files() -> tuple[dict[str, bytes], dict[str, np.ndarray]]:
    """File name -> gzip IDX bytes for the four files, and the arrays they hold."""
    rng = np.random.default_rng(7)
    arrays = {}
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        image_file, label_file = SPLIT_FILES[split]
        arrays[image_file], arrays[label_file] = bars(n, rng)
    return {name: idx_gz(a) for name, a in arrays.items()}, arrays


def register_tiny(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes], mirrors: tuple[str, ...] = ()):
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    monkeypatch.setitem(DATASETS, TINY, DatasetInfo(TINY, "Tiny bars", CLASS_NAMES, sums, mirrors))


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> dict[str, np.ndarray]:
    """The tiny dataset on disk under DIGIT_LAB_DATA and in the registry; returns its arrays."""
    files, arrays = tiny_files()
    folder = tmp_path / "data" / TINY
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    register_tiny(monkeypatch, files)
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    return arrays


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def train_tiny(capsys, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "train", "--dataset", TINY, "--hidden", "32", "--epochs", "3", *extra)


def test_presets_lists_each_name_and_description(capsys):
    status, out, err = run(capsys, "presets")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(PRESETS)
    columns = set()
    for line, (name, preset) in zip(lines, PRESETS.items(), strict=True):
        assert line.startswith(name) and line.endswith(preset.description)
        columns.add(line.index(preset.description))
    assert len(columns) == 1  # descriptions start in one column


def test_module_runs_as_a_program():
    done = subprocess.run(
        [sys.executable, "-m", "nn_core", "presets"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()] == list(PRESETS)
    bad = subprocess.run(
        [sys.executable, "-m", "nn_core", "train", "--lr", "fast"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("usage: python -m nn_core train") and "--lr: invalid float" in bad.stderr


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["fly"],
        ["train", "--epochs", "many"],
        ["train", "--optimizer", "adamw"],
        ["train", "--preset", "slowest"],
        ["train", "--hidden", "64,x"],
        ["train", "--epochs", "0"],  # parsed, then refused by TrainConfig.validate
        ["train", "--val-fraction", "0.9"],
        ["train", "--hidden", "0"],
        ["evaluate"],
        ["predict", "--model", "m.npz"],
        ["download", "--dataset", "cifar"],
    ],
)
def test_bad_arguments_give_usage_and_status_2(capsys, tmp_path, monkeypatch, argv):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path))
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert "usage: python -m nn_core" in err and "error:" in err and "Traceback" not in err


def test_help_exits_zero(capsys):
    status, out, _ = run(capsys, "train", "--help")
    assert status == 0 and "--batch-size" in out and "--val-fraction" in out


def test_train_json_lines(tiny, capsys):
    status, out, err = train_tiny(capsys, "--val-fraction", "0.2", "--json")
    assert status == 0, err
    assert err == ""
    *epochs, final = json_lines(out)  # every line must parse
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for e in epochs:
        assert set(e) == RECORD_FIELDS
        assert 0 <= e["train_acc"] <= 1 and 0 <= e["val_acc"] <= 1 and e["seconds"] > 0
        assert e["examples_per_second"] == pytest.approx(0.8 * N_TRAIN / e["seconds"], rel=1e-6)
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"]
    assert final["seconds"] == pytest.approx(sum(e["seconds"] for e in epochs))
    assert final["wall_seconds"] >= final["seconds"]
    assert final["test_accuracy"] > 0.5  # ten classes: chance is 0.1
    assert final["epochs"] == 3 and final["best_val_acc"] == max(e["val_acc"] for e in epochs)
    assert final["interrupted"] is False and final["saved"] is None


def test_train_text_lines_are_aligned(tiny, capsys):
    status, out, err = train_tiny(capsys, "--epochs", "10", "--val-fraction", "0.2", "--hidden", "16")
    assert status == 0, err
    epoch_lines = [line for line in out.splitlines() if line.startswith("epoch")]
    assert [line.split()[1] for line in epoch_lines] == [f"{k}/10" for k in range(1, 11)]
    assert epoch_lines[0].startswith("epoch  1/10  loss ")
    for word in ("loss", " acc", "val_loss", "val_acc", " lr", "ex/s"):
        assert len({line.index(word) for line in epoch_lines}) == 1, word
    assert "240 training images, 60 validation, 100 test" in out
    assert "test accuracy" in out.splitlines()[-1]


def test_without_validation_no_val_columns(tiny, capsys):
    status, out, _ = train_tiny(capsys, "--val-fraction", "0", "--epochs", "1")
    assert status == 0 and "val_acc" not in out and "epoch 1/1  loss" in out
    status, out, _ = train_tiny(capsys, "--val-fraction", "0", "--epochs", "1", "--json")
    assert json_lines(out)[0]["val_acc"] is None


def test_flags_override_the_preset_and_save_writes_a_model(tiny, capsys, tmp_path):
    path = tmp_path / "out" / "model.npz"
    status, out, err = run(
        capsys,
        *("train", "--preset", "keras-dropout", "--dataset", TINY, "--hidden", "24,12"),
        *("--activation", "tanh", "--optimizer", "momentum", "--lr", "0.03", "--batch-size", "20"),
        *(
            "--epochs",
            "2",
            "--seed",
            "5",
            "--train-size",
            "200",
            "--val-fraction",
            "0.25",
            "--save",
            str(path),
        ),
    )
    assert status == 0, err
    assert f"saved the model to {path}" in out
    saved = load_model(path)
    model, train = saved.network.config, saved.train_config
    assert model.hidden == (24, 12) and model.activations == ("tanh", "tanh")
    assert model.dropout == PRESETS["keras-dropout"].model.dropout  # not overridden: kept
    assert (train.optimizer, train.lr, train.batch_size, train.epochs) == ("momentum", 0.03, 20, 2)
    assert (train.seed, train.train_size, train.val_fraction, train.dataset) == (5, 200, 0.25, TINY)
    assert saved.dataset == TINY and len(saved.history) == 2
    assert saved.best_val_acc == max(r.val_acc for r in saved.history)
    assert "150 training images, 50 validation" in out


def test_activation_alone_applies_to_every_preset_layer(tiny, capsys, tmp_path):
    path = tmp_path / "m.npz"
    status, _, err = run(
        capsys,
        "train",
        "--preset",
        "two-hidden-decay",
        "--dataset",
        TINY,
        "--epochs",
        "1",
        "--activation",
        "leaky_relu",
        "--save",
        str(path),
        "--json",
    )
    assert status == 0, err
    config = load_model(path).network.config
    assert config.hidden == PRESETS["two-hidden-decay"].model.hidden
    assert config.activations == ("leaky_relu",) * len(config.hidden)


def test_bare_save_writes_into_the_models_folder(tiny, capsys, tmp_path):
    status, out, err = train_tiny(capsys, "--epochs", "1", "--json", "--save")
    assert status == 0, err
    saved = Path(json_lines(out)[-1]["saved"])
    assert saved.parent == tmp_path / "home" / "models" and saved.suffix == ".npz"
    assert len(load_model(saved).history) == 1


def write_digit_png(path: Path, dark_on_light: bool) -> None:
    """A hand-drawn-looking '1' with a flag, as a photo (dark ink) or a canvas export (light ink)."""
    ink, paper = (30, 235) if dark_on_light else (255, 0)
    image = Image.new("L", (120, 160), paper)
    draw = ImageDraw.Draw(image)
    draw.line([(60, 20), (62, 140)], fill=ink, width=12)
    draw.line([(40, 45), (60, 20)], fill=ink, width=10)
    image.save(path)


@pytest.fixture
def tiny_model(tiny, capsys, tmp_path) -> Path:
    path = tmp_path / "tiny.npz"
    status, _, err = train_tiny(capsys, "--save", str(path), "--json")
    assert status == 0, err
    return path


def test_evaluate_json_matches_the_saved_model(tiny, tiny_model, capsys):
    status, out, err = run(capsys, "evaluate", "--model", str(tiny_model), "--json")
    assert status == 0, err
    (result,) = json_lines(out)
    images, labels = tiny["t10k-images-idx3-ubyte.gz"], tiny["t10k-labels-idx1-ubyte.gz"]
    predicted = load_model(tiny_model).network.predict(to_float(images))
    assert result["dataset"] == TINY  # defaults to the model's own dataset
    assert result["n_test"] == N_TEST
    assert result["test_accuracy"] == pytest.approx(np.mean(predicted == labels))
    confusion = np.array(result["confusion_matrix"])
    assert confusion.shape == (10, 10) and confusion.sum() == N_TEST
    assert (confusion.sum(axis=1) == np.bincount(labels, minlength=10)).all()
    assert np.trace(confusion) == np.count_nonzero(predicted == labels)
    assert [row["name"] for row in result["per_class"]] == list(CLASS_NAMES)
    assert [row["support"] for row in result["per_class"]] == np.bincount(labels, minlength=10).tolist()


def test_evaluate_text_shows_names_table_and_matrix(tiny, tiny_model, capsys):
    status, out, err = run(capsys, "evaluate", "--model", str(tiny_model))
    assert status == 0, err
    assert "test accuracy on Tiny bars:" in out
    assert all(name in out for name in CLASS_NAMES)
    assert "confusion matrix (rows: true class, columns: predicted class)" in out
    matrix_rows = out.split("confusion matrix")[1].splitlines()[2:]
    assert len(matrix_rows) == 10
    assert len({len(row) for row in matrix_rows}) == 1  # right-aligned columns


def test_predict_uses_canvas_preprocessing_and_survives_a_bad_file(tiny_model, capsys, tmp_path):
    from nn_core.images.preprocess import preprocess_file

    photo, canvas = tmp_path / "photo.png", tmp_path / "canvas.jpg"
    write_digit_png(photo, dark_on_light=True)
    write_digit_png(canvas, dark_on_light=False)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    files = [str(photo), str(broken), str(canvas), str(tmp_path / "missing.png")]
    status, out, err = run(capsys, "predict", "--model", str(tiny_model), *files, "--json")
    assert status == 1  # some files failed
    results = json_lines(out)
    assert [r["file"] for r in results] == files
    network = load_model(tiny_model).network
    for r in (results[0], results[2]):
        expected = network.predict_proba(preprocess_file(r["file"]))[0]
        assert r["probabilities"] == pytest.approx(expected.tolist(), abs=1e-6)
        assert sum(r["probabilities"]) == pytest.approx(1.0, abs=1e-5)
        assert r["prediction"] == int(np.argmax(expected)) and r["confidence"] == max(r["probabilities"])
        assert r["name"] == CLASS_NAMES[r["prediction"]]
    assert "error" in results[1] and "error" in results[3] and "missing.png" in results[3]["error"]

    status, out, err = run(capsys, "predict", "--model", str(tiny_model), *files)
    assert status == 1
    assert [line.split()[0] for line in out.splitlines()] == [str(photo), str(canvas)]
    assert all(len(line.split("%")) == 12 for line in out.splitlines())  # top + ten probabilities
    error_lines = err.splitlines()
    assert len(error_lines) == 2 and error_lines[0].startswith(f"{broken}: error:")
    assert "Traceback" not in err


def test_predict_reports_a_blank_image(tiny_model, capsys, tmp_path):
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    status, out, err = run(capsys, "predict", "--model", str(tiny_model), str(blank))
    assert status == 1 and out == "" and "no digit found" in err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_corrupt_model_file_gives_a_clear_error(tiny_model, capsys, tmp_path, command):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(tiny_model.read_bytes()[:5000])
    text = tmp_path / "notes.npz"
    text.write_text("just some notes")
    for path in (truncated, text, tmp_path / "absent.npz"):
        extra = [str(tmp_path / "x.png")] if command == "predict" else []
        status, out, err = run(capsys, command, "--model", str(path), *extra)
        assert status == 1 and out == ""
        assert err.count("\n") == 1 and str(path) in err and "error:" in err, err


CNN = "conv4x5,maxpool2,conv8x3:linear,bn:relu,maxpool2,dense32,dropout0.1"


@pytest.fixture
def tiny_cnn(tiny, capsys, tmp_path) -> Path:
    path = tmp_path / "cnn.npz"
    status, out, err = run(
        capsys,
        *("train", "--dataset", TINY, "--layers", CNN, "--optimizer", "adam", "--lr", "0.003"),
        *("--epochs", "4", "--batch-size", "32", "--val-fraction", "0.2", "--save", str(path)),
    )
    assert status == 0, err
    assert out.startswith(
        "preset fast on Tiny bars: conv4x5-maxpool2-conv8x3:linear-bn:relu-maxpool2-dense32-dropout0.1-10 relu,"
    )
    return path


def test_train_with_layers_learns_and_saves_the_specs(tiny_cnn, capsys):
    saved = load_model(tiny_cnn)
    config, train = saved.network.config, saved.train_config
    assert format_layers(config.layers) == CNN and config.hidden == () and config.dropout == 0.0
    assert (train.optimizer, train.lr, train.batch_size, train.epochs) == ("adam", 0.003, 32, 4)
    assert len(saved.history) == 4 and saved.history[-1].train_loss < saved.history[0].train_loss
    assert set(saved.network.state()) == {"4.mean", "4.var"}


def test_evaluate_predict_and_summary_read_a_cnn_model(tiny, tiny_cnn, capsys, tmp_path):
    status, out, err = run(capsys, "evaluate", "--model", str(tiny_cnn), "--json")
    assert status == 0, err
    (result,) = json_lines(out)
    images, labels = tiny["t10k-images-idx3-ubyte.gz"], tiny["t10k-labels-idx1-ubyte.gz"]
    network = load_model(tiny_cnn).network
    assert result["test_accuracy"] == pytest.approx(np.mean(network.predict(to_float(images)) == labels))
    assert result["test_accuracy"] > 0.5  # chance is 0.1
    status, out, err = run(capsys, "evaluate", "--model", str(tiny_cnn))
    assert status == 0 and "conv4x5-maxpool2-" in out.splitlines()[0]
    png = tmp_path / "one.png"
    write_digit_png(png, dark_on_light=True)
    status, out, err = run(capsys, "predict", "--model", str(tiny_cnn), str(png), "--json")
    assert status == 0, err
    (r,) = json_lines(out)
    assert sum(r["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    status, out, err = run(capsys, "summary", "--model", str(tiny_cnn))
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "conv4x5-maxpool2-conv8x3:linear-bn:relu-maxpool2-dense32-dropout0.1-10"
    assert f"{network.n_params():,} parameters" in lines[-1]


def test_summary_of_layers_preset_and_hidden(capsys):
    status, out, err = run(capsys, "summary", "--layers", "conv16x5,maxpool2,conv32x5,maxpool2,dense128")
    assert status == 0 and err == ""
    assert (
        "(24, 24, 16)" in out
        and "dense10 (output)" in out
        and out.splitlines()[-1].startswith("80,202 parameters")
    )
    status, out, _ = run(capsys, "summary", "--layers", "dense64:tanh", "--activation", "sigmoid", "--json")
    (result,) = json_lines(out)
    assert result["architecture"] == "dense64:tanh-10" and result["params"] == 785 * 64 + 65 * 10
    assert [row["layer"] for row in result["layers"]] == ["dense64", "dense10 (output)"]
    status, out, _ = run(capsys, "summary", "--hidden", "256,128")
    assert status == 0 and out.splitlines()[0] == "784-256-128-10"
    for name in PRESETS:
        status, out, err = run(capsys, "summary", "--preset", name)
        assert status == 0, (name, err)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "--layers", "conv16x5,pool2"], "layer 2 ('pool2'): not a layer"),
        (
            ["train", "--layers", "conv16x5,maxpool2,conv32x5,maxpool2,conv32x5"],
            "layer 5 (conv32x5): a 5x5 kernel does not fit a 4x4 map",
        ),
        (["train", "--layers", "dense32", "--hidden", "32"], "give --layers or --hidden, not both"),
        (["summary", "--layers", "conv999x3"], "layer 1 (conv999x3): a conv layer takes 1 to 256 filters"),
        (["summary", "--layers", "dense8:swish"], "unknown activation 'swish'"),
        (["summary"], "one of the arguments --layers --hidden --preset --model is required"),
    ],
)
def test_bad_layer_specs_exit_2_with_the_reason(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path))
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert "usage: python -m nn_core" in err and message in err and "Traceback" not in err


def test_activation_flag_applies_to_a_layer_preset(tiny, capsys, tmp_path):
    path = tmp_path / "lenet.npz"
    status, _, err = run(
        capsys,
        *("train", "--preset", "lenet", "--dataset", TINY, "--epochs", "1", "--activation", "relu"),
        *("--train-size", "100", "--save", str(path), "--json"),
    )
    assert status == 0, err
    layers = load_model(path).network.config.layers
    assert [s.kind for s in layers] == [s.kind for s in PRESETS["lenet"].model.layers]
    assert {s.activation for s in layers if s.kind in ("conv", "dense")} == {"relu"}


def test_a_diverging_learning_rate_stops_with_advice(tiny, capsys, tmp_path):
    path = tmp_path / "never.npz"
    status, out, err = run(
        capsys,
        "train",
        "--dataset",
        TINY,
        "--hidden",
        "32,32",
        "--activation",
        "leaky_relu",
        "--lr",
        "100",
        "--epochs",
        "5",
        "--save",
        str(path),
    )
    assert status == 1
    assert "diverged" in err and "learning rate" in err and "Nothing was saved" in err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not path.exists()


def test_ctrl_c_keeps_the_finished_epochs_and_saves_them(tiny, capsys, tmp_path, monkeypatch):
    original = Trainer.run_epoch
    after_first: dict[str, np.ndarray] = {}

    def run_epoch(self, on_batch=None):
        if self.epoch == 0:
            record = original(self, on_batch)
            after_first.update(self.network.get_weights())
            return record

        def interrupt(done, total):
            if done == 2:  # two batches of epoch 2 have changed the weights
                raise KeyboardInterrupt

        return original(self, interrupt)

    monkeypatch.setattr(Trainer, "run_epoch", run_epoch)
    path = tmp_path / "partial.npz"
    status, out, err = train_tiny(capsys, "--batch-size", "32", "--save", str(path), "--json")
    assert status == 130
    assert "interrupted" in err and "Traceback" not in err
    first, final = json_lines(out)
    assert first["epoch"] == 1
    assert final["interrupted"] is True and final["epochs"] == 1 and final["saved"] == str(path)
    saved = load_model(path)
    assert [r.epoch for r in saved.history] == [1]
    weights = saved.network.get_weights()
    assert all(np.array_equal(weights[k], after_first[k]) for k in after_first)


def test_missing_data_says_how_to_get_it(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path))
    status, out, err = run(capsys, "train", "--dataset", "fashion-mnist")
    assert status == 1 and out == ""
    assert "not found" in err and "python -m nn_core download --dataset fashion-mnist" in err


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def file_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving the tiny dataset's files; yields (base URL, files)."""
    files, _ = tiny_files()
    served = tmp_path / "served"
    served.mkdir()
    for name, data in files.items():
        (served / name).write_bytes(data)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", files
    server.shutdown()
    server.server_close()


def test_download_fetches_with_progress_then_has_nothing_to_do(file_server, capsys, tmp_path, monkeypatch):
    base, files = file_server
    register_tiny(monkeypatch, files, (base,))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("no_proxy", "*")
    status, out, err = run(capsys, "download", "--dataset", TINY)
    assert status == 0, err
    for name, data in files.items():
        assert (tmp_path / "data" / TINY / name).read_bytes() == data
        (line,) = [line for line in err.splitlines() if name in line]
        assert "100.0%" in line
    assert "fetching 4 file(s)" in err and "all 4 files present and verified" in out
    checksums.clear_cache()
    status, out, err = run(capsys, "download", "--dataset", TINY)
    assert status == 0 and err == "" and "all 4 files present" in out


def test_download_offline_names_what_is_missing(file_server, capsys, tmp_path, monkeypatch):
    _, files = file_server
    closed = ThreadingHTTPServer(("127.0.0.1", 0), _QuietHandler)
    port = closed.server_address[1]
    closed.server_close()  # nothing listens there now: connection refused
    register_tiny(monkeypatch, files, (f"http://127.0.0.1:{port}/",))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("no_proxy", "*")
    status, out, err = run(capsys, "download", "--dataset", TINY)
    assert status == 1 and "Traceback" not in err
    assert "still needed" in err and all(name in err for name in files)


def test_progress_redraws_one_line_per_file_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    progress = DownloadProgress(stream, interval=0.0)
    for done in (0, 500, 1000):
        progress("a.gz", done, 1000)
    progress("b.gz", 0, 0)  # unknown length
    progress("b.gz", 300, 0)
    progress.finish()
    lines = stream.getvalue().split("\n")
    assert lines[-1] == "" and len(lines) == 3  # one finished line per file
    assert lines[0].count("\r") == 3 and "100.0%" in lines[0].rsplit("\r", 1)[1]
    assert "b.gz" in lines[1] and "%" not in lines[1]


@pytest.mark.real_data
def test_train_on_a_real_mnist_subset(mnist_root, capsys, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(mnist_root))
    status, out, err = run(capsys, "train", "--train-size", "5000", "--epochs", "1", "--json")
    assert status == 0, err
    epoch, final = json_lines(out)
    assert epoch["epoch"] == 1 and epoch["examples_per_second"] > 0
    assert final["test_accuracy"] > 0.85


def test_predict_without_a_model_uses_the_shipped_default_model_and_needs_no_data(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "no-data"))
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    seven = tmp_path / "seven.png"
    im = Image.new("L", (280, 280), 255)  # dark ink on white paper, as a scan
    ImageDraw.Draw(im).line([(60, 50), (210, 50), (110, 240)], fill=0, width=18)
    im.save(seven)
    status, out, err = run(capsys, "predict", str(seven), "--json")
    assert status == 0, err
    (result,) = json_lines(out)
    assert result["prediction"] == 7 and result["name"] == "7"
    assert not (tmp_path / "no-data").exists()  # nothing downloaded


def test_predict_says_how_to_restore_a_missing_default_model(capsys, tmp_path, monkeypatch):
    from nn_core.store import default_model

    monkeypatch.setattr(default_model, "SHIPPED_PATH", tmp_path / "gone.npz")
    seven = tmp_path / "seven.png"
    Image.new("L", (28, 28), 0).save(seven)
    status, out, err = run(capsys, "predict", str(seven))
    assert status == 1
    assert "default model file is missing" in err and "build_default_model" in err and "--model" in err


# ----- settings flags from the schema, --config, and the command line of a run ---------------------


def parsed_configs(*argv: str):
    """The configs ``train`` would run with for ``argv`` (parsed and validated, nothing trained)."""
    from nn_core.cli.main import build_parser
    from nn_core.cli.train import configs_from_args

    return configs_from_args(build_parser().parse_args(["train", *argv]))


def test_help_lists_every_setting_grouped_like_the_playground(capsys):
    from nn_core.settings import GROUPS, all_settings

    status, out, _ = run(capsys, "train", "--help")
    assert status == 0
    starts = [out.index(f"\n{group.lower()} settings:") for group in GROUPS]
    assert starts == sorted(starts)  # the panels' order
    for s in all_settings():
        where = out.index(f"\n  --{s.flag}")
        section = max(i for i, start in enumerate(starts) if start < where)
        assert GROUPS[section] == s.group, s.flag
    for flag in ("--schedule", "--momentum", "--weight-decay", "--dropout", "--init", "--loss", "--elastic"):
        assert flag in out
    assert "Range: above 0 and at most 100." in out  # --lr's declared range


def test_every_setting_has_a_flag_and_per_layer_activations():
    model, train = parsed_configs(
        *("--hidden", "48,24", "--activation", "tanh,leaky_relu", "--init", "xavier", "--output", "sigmoid"),
        *("--loss", "mse", "--dropout", "0.3", "--leaky-slope", "0.1", "--optimizer", "momentum"),
        *(
            "--momentum",
            "0.8",
            "--schedule",
            "step",
            "--step-epochs",
            "2",
            "--gamma",
            "0.7",
            "--decay",
            "0.01",
        ),
        *(
            "--weight-decay",
            "1e-4",
            "--augment",
            "--elastic",
            "--train-size",
            "5000",
            "--val-fraction",
            "0.2",
        ),
        *(
            "--seed",
            "11",
            "--epochs",
            "4",
            "--batch-size",
            "16",
            "--lr",
            "0.02",
            "--dataset",
            "fashion-mnist",
        ),
    )
    assert model == ModelConfig(
        hidden=(48, 24),
        activations=("tanh", "leaky_relu"),
        output="sigmoid",
        loss="mse",
        init="xavier",
        dropout=0.3,
        leaky_slope=0.1,
    )
    assert train == TrainConfig(
        dataset="fashion-mnist",
        epochs=4,
        batch_size=16,
        optimizer="momentum",
        lr=0.02,
        momentum=0.8,
        weight_decay=1e-4,
        schedule="step",
        decay=0.01,
        step_epochs=2,
        gamma=0.7,
        augment=True,
        elastic=True,
        train_size=5000,
        val_fraction=0.2,
        seed=11,
    )
    model, _ = parsed_configs("--preset", "nielsen", "--hidden", "20,10,5")  # same activation everywhere
    assert model.activations == ("sigmoid",) * 3
    model, _ = parsed_configs("--preset", "nielsen", "--activation", "relu,tanh")  # keeps the widths
    assert model.hidden == (30, 25) and model.activations == ("relu", "tanh")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden", "32,16", "--activation", "relu,tanh,relu"], "one activation per hidden layer"),
        (["--activation", "relu,swish"], "unknown activation 'swish'"),
        (["--momentum", "1"], "momentum must be in [0, 1)"),
        (["--dropout", "1", "--gamma", "0.5"], "dropout must be in [0, 1)"),
        (["--schedule", "warmup"], "invalid choice"),
        (["--preset", "fast", "--config", "x.json"], "not allowed with argument"),
        (["--config", "no-such-file.npz"], "no such file"),
        (["--config", "lr=fast&opt=adam"], "lr=fast"),
    ],
)
def test_bad_settings_and_sources_give_status_2(capsys, tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "train", *argv)
    assert status == 2 and out == "" and message in err and "Traceback" not in err


def _custom_configs():
    model = ModelConfig(hidden=(40, 20, 10), activations=("tanh", "relu", "leaky_relu"), dropout=0.15)
    train = TrainConfig(optimizer="adam", lr=0.0007, schedule="inverse", decay=3e-5, val_fraction=1 / 7)
    return model, dataclasses.replace(train, weight_decay=2e-5, train_size=1234, seed=99, epochs=3)


@pytest.mark.parametrize("name", [*PRESETS, "custom"])
def test_the_command_line_of_a_run_repeats_its_configs_exactly(name):
    from nn_core.cli.flags import command_line

    model, train = _custom_configs() if name == "custom" else (PRESETS[name].model, PRESETS[name].train)
    words = shlex.split(command_line(model, train, multiline=True).replace("\\\n", " "))
    assert words[:4] == ["python", "-m", "nn_core", "train"]
    assert parsed_configs(*words[4:]) == (model, train)


def test_a_playground_link_gives_the_playground_s_configs():
    from ui.training import params as tp

    values = {**tp.DEFAULTS, "hidden": (300, 100), "activations": ("tanh", "relu"), "optimizer": "nesterov"}
    values.update(lr=0.16, schedule="cosine", weight_decay=3e-4, dropout=0.25, augment=True, elastic=True)
    values.update(train_size=60_000, val_fraction=0.15, seed=1234, dataset="fashion-mnist", preset="best")
    expected = tp.build_configs(values)
    query = urlencode({**tp.values_to_params(values), "owner": "0123456789abcdef"})
    for link in (f"http://localhost:8501/training?{query}", query):
        assert parsed_configs("--config", link) == expected
    model, train = parsed_configs("--config", query, "--lr", "0.01", "--activation", "sigmoid")
    assert train.lr == 0.01 and model.activations == ("sigmoid", "sigmoid")  # flags override the link
    assert dataclasses.replace(train, lr=expected[1].lr) == expected[1]


def test_a_model_file_run_folder_or_json_gives_its_configs(tiny, capsys, tmp_path):
    path = tmp_path / "m.npz"
    status, _, err = train_tiny(
        capsys, "--preset", "nielsen", "--hidden", "24,12", "--seed", "3", "--save", str(path)
    )
    assert status == 0, err
    saved = load_model(path)
    configs = (saved.network.config, saved.train_config)
    assert parsed_configs("--config", str(path)) == configs
    folder = tmp_path / "run"
    folder.mkdir()
    meta = {"model_config": configs[0].to_dict(), "train_config": configs[1].to_dict(), "status": "finished"}
    (folder / "run.json").write_text(json.dumps(meta))
    assert parsed_configs("--config", str(folder)) == configs
    assert parsed_configs("--config", str(folder / "run.json")) == configs
    model, train = parsed_configs("--config", str(path), "--epochs", "1", "--no-augment")
    assert model == configs[0] and train == dataclasses.replace(configs[1], epochs=1, augment=False)
    status, out, err = run(capsys, "train", "--config", str(path), "--epochs", "1")
    assert status == 0, err
    assert out.startswith("settings of m.npz on Tiny bars: 784-24-12-10 sigmoid")
    (tmp_path / "bad.json").write_text("[1, 2]")
    status, _, err = run(capsys, "train", "--config", str(tmp_path / "bad.json"))
    assert status == 2 and "model_config and train_config" in err


def test_train_from_a_link_keeps_the_json_output(tiny, capsys):
    from ui.training import params as tp

    query = urlencode(tp.values_to_params({**tp.DEFAULTS, "hidden": (32,), "epochs": 2, "val_fraction": 0.2}))
    status, out, err = run(
        capsys, "train", "--config", query, "--dataset", TINY, "--train-size", "0", "--json"
    )
    assert status == 0, err
    *epochs, final = json_lines(out)
    assert [set(e) for e in epochs] == [RECORD_FIELDS] * 2
    assert {"test_accuracy", "test_loss", "seconds", "wall_seconds", "epochs", "saved"} <= set(final)
