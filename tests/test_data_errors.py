"""Data files that cannot be read and folders that cannot be made: a DataError naming the file and what
to do, in the engine, the CLI and the pages (never a PermissionError or FileNotFoundError traceback).

Tests run as root, for whom file permissions do not apply, so an unreadable file is simulated by making
``open`` raise PermissionError for it (as the kernel does for other users).
"""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nn_core.cli.main import main
from nn_core.data import checksums
from nn_core.data.download import ensure_dataset
from nn_core.data.local import DataError, UnreadableFileError, dataset_status, load_split, read_idx
from nn_core.data.registry import TEST_LABELS, TRAIN_IMAGES
from tests.test_cli import TINY, tiny  # noqa: F401 - tiny is a fixture
from ui.datasets import files_state

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def make_unreadable(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """``open`` of any of ``paths`` raises PermissionError from now on (for this test)."""
    blocked = {os.path.abspath(p) for p in paths}
    real_open = io.open

    def guarded(file, *args, **kwargs):
        if isinstance(file, str | os.PathLike) and os.path.abspath(file) in blocked:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(io, "open", guarded)
    monkeypatch.setattr(builtins, "open", guarded)
    checksums.clear_cache()


def test_the_simulation_really_blocks_reading(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")
    make_unreadable(monkeypatch, path)
    with pytest.raises(PermissionError):
        path.read_bytes()
    with pytest.raises(PermissionError):
        open(path, "rb")  # noqa: SIM115


@pytest.mark.usefixtures("tiny")
def test_an_unreadable_file_is_a_data_error_naming_it(tmp_path, monkeypatch):
    folder = tmp_path / "data" / TINY
    make_unreadable(monkeypatch, folder / TRAIN_IMAGES)
    assert dataset_status(TINY)[TRAIN_IMAGES] == "unreadable"
    for call in (lambda: load_split(TINY, "train"), lambda: load_split(TINY, "train", download=True)):
        with pytest.raises(UnreadableFileError) as caught:
            call()
        text = str(caught.value)
        assert str(folder / TRAIN_IMAGES) in text and "cannot be read" in text and "chmod a+r" in text
    with pytest.raises(UnreadableFileError, match=TRAIN_IMAGES):
        read_idx(folder / TRAIN_IMAGES)
    with pytest.raises(UnreadableFileError, match=TRAIN_IMAGES):
        ensure_dataset(TINY)  # a download would not help, nor replace the file


@pytest.mark.usefixtures("tiny")
def test_the_cli_says_which_file_cannot_be_read(tmp_path, monkeypatch, capsys):
    make_unreadable(monkeypatch, tmp_path / "data" / TINY / TRAIN_IMAGES)
    status = main(["train", "--dataset", TINY, "--epochs", "1"])
    err = capsys.readouterr().err
    assert status == 1 and TRAIN_IMAGES in err and "cannot be read" in err and "Traceback" not in err


@pytest.mark.parametrize("blocker", ["file", "file-parent"])
def test_download_into_a_folder_that_cannot_be_made(tmp_path, monkeypatch, capsys, blocker):
    in_the_way = tmp_path / "in-the-way"
    in_the_way.write_text("a file")
    root = in_the_way if blocker == "file" else in_the_way / "deeper"
    monkeypatch.setenv("DIGIT_LAB_DATA", str(root))
    status = main(["download", "--dataset", "mnist"])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err
    assert "Cannot make the data folder" in err and "DIGIT_LAB_DATA" in err and str(root) in err
    with pytest.raises(DataError, match="Cannot make the data folder"):
        ensure_dataset("mnist")


def test_the_missing_files_message_names_them():
    status = {TRAIN_IMAGES: "missing", "b.gz": "ok", TEST_LABELS: "corrupt", "c.gz": "missing"}
    text = files_state(status)
    assert text == f"`{TRAIN_IMAGES}` and `c.gz` are missing; `{TEST_LABELS}` is damaged"
    assert files_state({"a.gz": "missing"}) == "`a.gz` is missing"


def test_pages_show_an_unreadable_file_instead_of_crashing(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    blocked = mnist_root / "mnist" / TRAIN_IMAGES
    make_unreadable(monkeypatch, blocked)
    for page in ("app_pages/training.py", "app_pages/explorer.py"):
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        errors = "\n".join(e.value for e in at.error)
        assert str(blocked) in errors and "cannot be read" in errors, page


def test_the_download_panel_names_a_missing_file(mnist_root, tmp_path, monkeypatch):
    """With one file gone the panel says which one (copy the other three into a fresh data folder)."""
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in dataset_status("mnist", mnist_root):
        if name != TEST_LABELS:
            (folder / name).symlink_to(mnist_root / "mnist" / name)
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/training.py").run()
    assert not at.exception, at.exception
    warnings = "\n".join(w.value for w in at.warning)
    assert f"`{TEST_LABELS}` is missing" in warnings
