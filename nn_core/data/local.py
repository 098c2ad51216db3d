"""Finding and loading MNIST-style datasets on disk (IDX parsing: ``idx``; errors: ``errors``).

A dataset lives in ``data_root() / <name> /`` as the four canonical ``*-ubyte.gz`` files. Files are
checked against the SHA-256 in the registry (``nn_core.data.registry``) before use, parsed strictly (magic,
dimensions and byte count must agree) and returned as uint8 arrays; nothing is loaded at import time.
Every failure is a ``DataError`` whose message says what is wrong and what to do about it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nn_core.data.checksums import file_sha256
from nn_core.data.errors import ENV_VAR as ENV_VAR  # the errors and the IDX reader are re-exported here
from nn_core.data.errors import CorruptFileError as CorruptFileError
from nn_core.data.errors import DataError as DataError
from nn_core.data.errors import DataUnavailableError as DataUnavailableError
from nn_core.data.errors import UnreadableFileError as UnreadableFileError
from nn_core.data.errors import unreadable_message as unreadable_message
from nn_core.data.idx import MAX_IDX_BYTES as MAX_IDX_BYTES
from nn_core.data.idx import read_idx as read_idx
from nn_core.data.registry import DatasetInfo, get_dataset_info, split_files

IMAGE_SHAPE = (28, 28)


def data_root() -> Path:
    """Folder holding one sub-folder per dataset.

    ``$DIGIT_LAB_DATA`` if set and non-empty, else ``$XDG_CACHE_HOME/digit-lab`` (when that is an
    absolute path, as the XDG spec requires), else ``~/.cache/digit-lab``.
    """
    explicit = os.environ.get(ENV_VAR, "")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "digit-lab"
    return Path.home() / ".cache" / "digit-lab"


def dataset_dir(name: str, root: Path | None = None) -> Path:
    """Folder of one dataset: ``(root or data_root()) / name``."""
    info = get_dataset_info(name)
    return (Path(root) if root is not None else data_root()) / info.name


def file_status(path: Path, sha256: str) -> str:
    """ "ok", "missing", "corrupt" (checksum mismatch) or "unreadable" (permissions, not a file)."""
    try:
        if not path.exists():
            return "missing"
        if not path.is_file():
            return "unreadable"
        digest = file_sha256(path)
    except OSError:
        return "unreadable"
    return "ok" if digest == sha256 else "corrupt"


def dataset_status(name: str, root: Path | None = None) -> dict[str, str]:
    """State of each of a dataset's files: file name -> "ok", "missing", "corrupt" (checksum mismatch) or
    "unreadable" (it exists but cannot be read).

    Digests are cached in-process by (path, size, mtime), so repeated calls are cheap.
    """
    info = get_dataset_info(name)
    directory = dataset_dir(name, root)
    return {f: file_status(directory / f, sha) for f, sha in info.files.items()}


def load_split(
    name: str,
    split: str = "train",
    root: Path | None = None,
    download: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of one split, checked against the registry's SHA-256.

    Parameters
    ----------
    name : str
        Dataset key, "mnist" or "fashion-mnist".
    split : str
        "train" or "test".
    root : Path, optional
        Data root; defaults to ``data_root()``.
    download : bool
        Fetch files that are missing or fail their checksum. Otherwise such files raise.
    progress : callable, optional
        Called as ``progress(bytes_done, bytes_total)`` during each file's download (total 0 if unknown).

    Returns
    -------
    images : ndarray of uint8, shape (n, 28, 28)
    labels : ndarray of uint8, shape (n,)
        Both read-only.

    Raises
    ------
    DataUnavailableError
        Files missing and ``download`` is False, or every mirror failed.
    CorruptFileError
        A file fails its checksum (and ``download`` is False) or does not parse.
    """
    info = get_dataset_info(name)
    image_file, label_file = split_files(split)
    directory = dataset_dir(name, root)
    status = {f: file_status(directory / f, info.files[f]) for f in (label_file, image_file)}
    bad = [f for f, s in status.items() if s != "ok"]
    if bad and (not download or "unreadable" in status.values()):
        raise unusable_files_error(info, directory, status)
    if bad:
        from nn_core.data.download import download_file  # deferred: download imports this module

        for f in bad:
            download_file(info.urls(f), directory / f, info.files[f], progress=progress)
    images = read_idx(directory / image_file)
    labels = read_idx(directory / label_file)
    _check_pair(info, directory / image_file, images, directory / label_file, labels)
    return images, labels


def unusable_files_error(info: DatasetInfo, directory: Path, status: dict[str, str]) -> DataError:
    """The error to raise when some files in ``status`` are not "ok" and may not be downloaded."""
    unreadable = [f for f, s in status.items() if s == "unreadable"]
    if unreadable:
        return UnreadableFileError(" ".join(unreadable_message(directory / f) for f in unreadable))
    missing = [f for f, s in status.items() if s == "missing"]
    corrupt = [f for f, s in status.items() if s == "corrupt"]
    if not missing:
        return CorruptFileError(
            f"{info.title}: {', '.join(corrupt)} in {directory} failed the SHA-256 check, so it is not "
            "used (damaged or a different release). Delete it and download it again, or replace it "
            "with a good copy."
        )
    note = f" ({', '.join(corrupt)} failed the SHA-256 check and is not used either.)" if corrupt else ""
    unusable = missing + corrupt
    return DataUnavailableError(
        f"{info.title} files not found: {', '.join(missing)}.{note} Put the files in {directory} "
        f"(they are published at {info.mirrors[0] if info.mirrors else 'the official site'}), "
        f"allow the app to download them, or set {ENV_VAR} to a folder with a {info.name}/ sub-folder "
        "that holds them.",
        missing=unusable,
        directory=directory,
    )


def _check_pair(
    info: DatasetInfo, image_path: Path, images: np.ndarray, label_path: Path, labels: np.ndarray
) -> None:
    if images.ndim != 3:
        raise CorruptFileError(f"{image_path}: expected an image file (IDX magic 2051) but found labels.")
    if images.shape[1:] != IMAGE_SHAPE:
        raise CorruptFileError(f"{image_path}: images are {images.shape[1:]}, expected {IMAGE_SHAPE}.")
    if labels.ndim != 1:
        raise CorruptFileError(f"{label_path}: expected a label file (IDX magic 2049) but found images.")
    if len(images) != len(labels):
        raise CorruptFileError(
            f"{image_path} has {len(images)} images but {label_path} has {len(labels)} labels; "
            "the two files must come from the same release."
        )
    if len(labels) and int(labels.max()) >= info.n_classes:
        raise CorruptFileError(
            f"{label_path}: label {int(labels.max())} is out of range for {info.n_classes} classes."
        )


def to_float(images: np.ndarray, flatten: bool = True) -> np.ndarray:
    """Scale uint8 images to float32 in [0, 1].

    Parameters
    ----------
    images : ndarray of uint8, shape (n, 28, 28)
    flatten : bool
        Return shape (n, 784) if True, else keep (n, 28, 28).

    Returns
    -------
    ndarray of float32, shape (n, 784) or (n, 28, 28)
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"to_float expects uint8 images (0-255), got {images.dtype}.")
    if images.ndim != 3:
        raise ValueError(f"to_float expects shape (n, rows, cols), got {images.shape}.")
    if flatten:
        images = images.reshape(len(images), -1)  # (n, rows*cols), a view
    out = images.astype(np.float32)  # the one copy; a mixed-type np.divide is ~4x slower
    out /= np.float32(255.0)  # divide rather than multiply by 1/255 so 255 maps to exactly 1.0
    return out


def train_val_split(
    X: np.ndarray, y: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hold out a random ``val_fraction`` of the rows for validation.

    Parameters
    ----------
    X : ndarray of shape (n, ...)
    y : ndarray of shape (n,)
    val_fraction : float
        In [0, 1). 0 gives empty validation arrays of shape (0, ...). At least one row stays in training.
    rng : numpy.random.Generator
        Source of the permutation; the same seed gives the same split.

    Returns
    -------
    X_train, y_train, X_val, y_val : ndarrays (copies), rows in their original relative order.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator, e.g. np.random.default_rng(seed).")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, int | float | np.floating | np.integer):
        raise ValueError(f"val_fraction must be a number in [0, 1), got {val_fraction!r}.")
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1) (e.g. 0.1 for 10%), got {val_fraction}.")
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match.")
    n = len(X)
    n_val = min(round(n * float(val_fraction)), max(n - 1, 0))
    perm = rng.permutation(n)
    val_idx = np.sort(perm[:n_val])
    train_idx = np.sort(perm[n_val:])
    return X[train_idx], y[train_idx], X[val_idx], y[val_idx]
