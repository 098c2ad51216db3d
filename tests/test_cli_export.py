"""Tests of ``python -m nn_core export``: both formats, where the file goes, and one-line errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from nn_core.architecture import parse_layers
from nn_core.cli.main import main
from nn_core.config import ModelConfig
from nn_core.network import build_network
from nn_core.store.model_file import SavedModel, save_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    network = build_network(ModelConfig(hidden=(16,)), np.random.default_rng(0))
    return save_model(tmp_path / "small.npz", SavedModel(network))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_export_onnx_to_a_named_file(model_file, tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    out = tmp_path / "model.onnx"
    status, stdout, err = run(
        capsys, "export", "--model", str(model_file), "--format", "onnx", "-o", str(out)
    )
    assert status == 0, err
    assert stdout.startswith(str(out)) and "onnx" in stdout
    onnx.checker.check_model(onnx.load(str(out)))


def test_export_a_cnn_to_onnx_and_numpy(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    config = ModelConfig(hidden=(), activations=(), layers=parse_layers("conv4x3same,bn,maxpool2,dense8"))
    model = save_model(tmp_path / "cnn.npz", SavedModel(build_network(config, np.random.default_rng(0))))
    for fmt in ("onnx", "numpy"):
        status, _, err = run(capsys, "export", "--model", str(model), "--format", fmt)
        assert status == 0, err
    graph = onnx.load(str(tmp_path / "cnn.onnx")).graph
    assert {"Conv", "BatchNormalization", "MaxPool"} <= {node.op_type for node in graph.node}
    with zipfile.ZipFile(tmp_path / "cnn.zip") as archive:
        assert "digit-lab-model/weights.npz" in archive.namelist()


def test_export_numpy_beside_the_model_or_into_a_folder(model_file, tmp_path, capsys):
    status, _, err = run(capsys, "export", "--model", str(model_file), "--format", "numpy")
    assert status == 0, err
    with zipfile.ZipFile(tmp_path / "small.zip") as archive:
        assert "digit-lab-model/predict.py" in archive.namelist()
    folder = tmp_path / "exports"
    folder.mkdir()
    status, _, err = run(capsys, "export", "--model", str(model_file), "--format", "numpy", "-o", str(folder))
    assert status == 0, err
    assert zipfile.is_zipfile(io.BytesIO((folder / "small.zip").read_bytes()))


def test_a_bad_model_file_is_one_line_and_status_1(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    status, out, err = run(
        capsys, "export", "--model", str(bad), "--format", "onnx", "-o", str(tmp_path / "x")
    )
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("python -m nn_core export: error:") and "bad.npz" in err
    assert not (tmp_path / "x").exists()


def test_an_unknown_format_is_a_usage_error(model_file, capsys):
    status, _, err = run(capsys, "export", "--model", str(model_file), "--format", "tflite")
    assert status == 2
    assert "invalid choice: 'tflite'" in err and "usage:" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_in_a_read_only_folder_is_one_line_and_status_1(model_file, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    status, _, err = run(
        capsys, "export", "--model", str(model_file), "--format", "numpy", "-o", str(locked / "m.zip")
    )
    assert status == 1 and err.count("\n") == 1 and "cannot write" in err


def test_an_output_in_a_missing_folder_is_one_line_and_status_1(model_file, tmp_path, capsys):
    out = tmp_path / "no" / "such" / "folder" / "m.onnx"
    status, _, err = run(capsys, "export", "--model", str(model_file), "--format", "numpy", "-o", str(out))
    assert status == 1
    assert err.count("\n") == 1 and f"cannot write {out}: No such file or directory" in err


def test_an_output_below_a_plain_file_is_one_line_and_status_1(model_file, tmp_path, capsys):
    plain = tmp_path / "plain.txt"
    plain.write_text("a file, not a folder")
    status, _, err = run(
        capsys, "export", "--model", str(model_file), "--format", "onnx", "-o", str(plain / "m.onnx")
    )
    assert status == 1 and err.count("\n") == 1 and "cannot write" in err


def test_export_runs_as_a_module(model_file, tmp_path):
    out = tmp_path / "m.zip"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nn_core",
            "export",
            "--model",
            str(model_file),
            "--format",
            "numpy",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert zipfile.is_zipfile(out)
