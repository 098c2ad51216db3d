"""Where ``train --save`` writes, checked before training starts, and signals that must not lose epochs.

``save_target`` turns the ``--save`` value into a file path: no value means a new file in the models
folder; a folder (an existing one, or a path ending in ``/``) gets a file named like the automatic
names; an existing file is only replaced with ``--force``; a path whose folder is a regular file or
cannot be written to is refused at once, not after an hour of training. ``terminate_as_interrupt``
makes SIGTERM behave like Ctrl-C (SIGINT) while a run trains, so the finished epochs are saved.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from nn_core.config import ConfigError
from nn_core.store.paths import models_dir

DEFAULT_SAVE = ""  # the value of a bare --save: a new file in models_dir()


def auto_name(preset: str, dataset: str) -> str:
    """``fast-mnist-20250101-120301.npz``: the preset, the dataset and the local time."""
    return f"{preset}-{dataset}-{datetime.now().strftime('%Y%m%d-%H%M%S')}.npz"


def save_target(value: str | None, preset: str, dataset: str, force: bool = False) -> Path | None:
    """The file ``--save value`` writes to, or None without ``--save``.

    Raises
    ------
    ConfigError
        The file exists (and ``force`` is False), or its folder cannot hold a file.
    """
    if value is None:
        return None
    if value == DEFAULT_SAVE:
        return models_dir() / auto_name(preset, dataset)
    path = Path(value).expanduser()
    if value.endswith(("/", os.sep)) or path.is_dir():
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--save {value}: {path} is a file, not a folder")
        path = path / auto_name(preset, dataset)
    _check_folder(value, path.parent)
    if path.is_dir():
        raise ConfigError(f"--save {value}: that is a folder; give a file name such as {path / 'model.npz'}")
    if path.exists() and not force:
        raise ConfigError(
            f"--save {value}: {path} already exists; add --force to replace it, or choose another name"
        )
    return path


def _check_folder(value: str, folder: Path) -> None:
    """The nearest existing ancestor of ``folder`` must be a folder we may write to."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"--save {value}: {probe} is a file, so no folder can be made there")
    if probe.exists() and not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--save {value}: the folder {probe} cannot be written to")


@contextmanager
def terminate_as_interrupt() -> Iterator[list[str]]:
    """While inside, SIGTERM raises ``KeyboardInterrupt`` as Ctrl-C does; yields the names of signals seen.

    Only the main thread can set handlers; elsewhere this does nothing.
    """
    seen: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def handler(signum: int, frame: object) -> None:
        seen.append(signal.Signals(signum).name)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_deferred() -> Iterator[list[str]]:
    """While inside (e.g. while the model is written), SIGINT and SIGTERM are noted, not acted on."""
    seen: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return

    def note(signum: int, frame: object) -> None:
        seen.append(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield seen
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
