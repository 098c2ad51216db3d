"""``train --save``: the target is checked before training, nothing is replaced without --force, a folder
gets an automatic name, SIGTERM keeps the finished epochs like Ctrl-C, and leftovers of killed saves go."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nn_core.store.model_file import load_model, remove_leftovers
from tests.test_cli import TINY, run, tiny, tiny_files, train_tiny  # noqa: F401 - tiny is a fixture

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.usefixtures("tiny")
def test_an_existing_file_is_not_replaced_without_force(capsys, tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"precious")
    status, out, err = train_tiny(capsys, "--save", str(path))
    assert status == 2 and out == ""  # refused before any training
    assert "already exists" in err and "--force" in err and "Traceback" not in err
    assert path.read_bytes() == b"precious"
    status, out, err = train_tiny(capsys, "--save", str(path), "--force")
    assert status == 0, err
    assert len(load_model(path).history) == 3


@pytest.mark.usefixtures("tiny")
def test_a_folder_that_is_a_file_is_refused_before_training(capsys, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("a file")
    status, out, err = train_tiny(capsys, "--save", str(blocker / "sub" / "model.npz"))
    assert status == 2 and out == ""
    assert f"{blocker} is a file" in err
    status, out, err = train_tiny(capsys, "--save", f"{blocker}/")
    assert status == 2 and out == "" and "is a file, not a folder" in err


@pytest.mark.usefixtures("tiny")
@pytest.mark.parametrize("slash", [True, False], ids=["new-folder-with-slash", "existing-folder"])
def test_a_folder_gets_a_file_with_an_automatic_name(capsys, tmp_path, slash):
    folder = tmp_path / "somedir"
    if not slash:
        folder.mkdir()
    status, out, err = train_tiny(capsys, "--save", f"{folder}/" if slash else str(folder), "--json")
    assert status == 0, err
    (saved,) = folder.iterdir()
    assert saved.name.startswith(f"fast-{TINY}-") and saved.suffix == ".npz"
    assert json.loads(out.splitlines()[-1])["saved"] == str(saved)
    assert len(load_model(saved).history) == 3


def _driver(data_root: Path) -> str:
    """Python code that registers the tiny dataset found under ``data_root`` and runs the CLI."""
    return (
        "import hashlib, signal, sys, pathlib\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # a shell's background job ignores Ctrl-C
        "from nn_core.data.registry import DATASETS, DatasetInfo\n"
        f"folder = pathlib.Path({str(data_root / TINY)!r})\n"
        "sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}\n"
        f"DATASETS[{TINY!r}] = DatasetInfo({TINY!r}, 'Tiny', tuple(map(str, range(10))), sums, ())\n"
        "from nn_core.cli.main import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )


def _start(tmp_path: Path, *argv: str) -> subprocess.Popen:
    files, _ = tiny_files()
    folder = tmp_path / "data" / TINY
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    env = {**os.environ, "DIGIT_LAB_DATA": str(tmp_path / "data"), "DIGIT_LAB_HOME": str(tmp_path / "home")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.Popen(
        [sys.executable, "-c", _driver(tmp_path / "data"), "train", "--dataset", TINY, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_training_saves_the_finished_epochs(tmp_path, sig):
    path = tmp_path / "model.npz"
    proc = _start(tmp_path, "--hidden", "64", "--epochs", "10000", "--json", "--save", str(path))
    try:
        first = proc.stdout.readline()  # the first epoch has finished
        assert json.loads(first)["epoch"] == 1, proc.stderr.read()
        proc.send_signal(sig)
        out = proc.stdout.read()  # through the same buffer as readline (communicate would skip what it holds)
        err = proc.stderr.read()
        proc.wait(timeout=60)
    finally:
        proc.kill()
    lines = [json.loads(line) for line in [first, *out.splitlines()]]
    summary = lines[-1]
    epochs = [line["epoch"] for line in lines[:-1]]
    assert proc.returncode == 130, err
    how = "terminated" if sig == signal.SIGTERM else "interrupted"
    kept = summary["epochs"]  # the signal may land after an epoch ends but before its line is printed
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) <= kept <= len(epochs) + 1
    assert f"{how}: keeping the {kept} of 10000 epochs" in err and "Traceback" not in err
    assert summary["interrupted"] is True and summary["saved"] == str(path)
    assert [r.epoch for r in load_model(path).history] == list(range(1, kept + 1))


@pytest.mark.usefixtures("tiny")
def test_leftovers_of_a_killed_save_are_removed_by_the_next_save(capsys, tmp_path):
    path = tmp_path / "model.npz"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        alive_part = tmp_path / f".model.npz.p{sleeper.pid}.x1.part"  # a save still in progress
        dead_part = tmp_path / f".model.npz.p{dead.pid}.x2.part"  # its writer was killed
        other_part = tmp_path / f".other.npz.p{dead.pid}.x3.part"  # another file's: not ours to judge
        for part in (alive_part, dead_part, other_part):
            part.write_bytes(b"half a model")
        status, _, err = train_tiny(capsys, "--save", str(path))
        assert status == 0, err
        assert not dead_part.exists()
        assert alive_part.exists() and other_part.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    time.sleep(0.01)
    assert remove_leftovers(path) == [alive_part]
