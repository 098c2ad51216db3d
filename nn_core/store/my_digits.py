"""A person's own labelled digits ("My digits"), kept as one ``.npz`` file per owner on disk.

Digits belong to an owner as runs do (the id a browser tab keeps in its address): each owner's set is
``app_home()/digits/<owner>.npz``, and nobody else's page lists it. Sharing a set is explicit: its
download is the same file, and ``merge_digits`` adds an uploaded set to one's own. Each entry is a preprocessed 28x28 digit in MNIST format (bright ink on black) stored as uint8, its
label, a unique id (never reused, so deleting by id is safe while the set changes) and the time it was
added. The file is also the download: ``np.load`` gives
``images`` uint8 (n, 28, 28) and ``labels`` uint8 (n,) like MNIST, plus ``ids``, ``added`` and ``next_id``. Writes
replace the file atomically, and a process-wide lock keeps two sessions from losing each other's digits.
"""

from __future__ import annotations

import io
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nn_core.store.model_file import write_atomic
from nn_core.store.npz_reader import NpzError, NpzReader
from nn_core.store.paths import app_home
from nn_core.store.runstore import is_valid_id

FORMAT = "digit-lab-digits"
VERSION = 1
DOWNLOAD_NAME = "my-digits.npz"  # file name offered for the download
MAX_DIGITS = 10_000  # far more than anyone draws; keeps the file (and every rewrite) small
MAX_FILE_BYTES = 16 * 1024**2  # 10,000 digits take ~8 MB uncompressed
_LOCK = threading.Lock()


class DigitSetError(ValueError):
    """A digit-set file that cannot be read, or an entry that cannot be added; the message says why."""


class DamagedDigitsError(DigitSetError):
    """The file is there but damaged: ``set_aside`` keeps a copy so a new set can start."""

    def __init__(self, message: str, name: str = "") -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class DigitSet:
    """Labelled 28x28 digits.

    images : ndarray of shape (n, 28, 28), uint8, bright ink on black
    labels : ndarray of shape (n,), uint8 in 0..9
    ids : ndarray of shape (n,), int64, unique and increasing
    added : ndarray of shape (n,), float64, seconds since the epoch
    next_id : the id the next digit gets (ids of deleted digits are not given out again)
    """

    images: np.ndarray
    labels: np.ndarray
    ids: np.ndarray
    added: np.ndarray
    next_id: int = 1

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def empty(cls) -> DigitSet:
        return cls(
            np.zeros((0, 28, 28), np.uint8),
            np.zeros(0, np.uint8),
            np.zeros(0, np.int64),
            np.zeros(0, np.float64),
        )

    def inputs(self) -> np.ndarray:
        """float32 network inputs of shape (n, 784) in [0, 1]."""
        return self.images.reshape(len(self), 784).astype(np.float32) / np.float32(255)

    def counts(self) -> np.ndarray:
        """How many digits of each class: ndarray of shape (10,)."""
        return np.bincount(self.labels, minlength=10)


def digitset_path(owner: str) -> Path:
    """The owner's file: ``app_home()/digits/<owner>.npz``; ValueError for an id unfit for a file name."""
    if not is_valid_id(owner):
        raise ValueError(f"{owner!r} is not a valid owner id (letters, digits and dashes only)")
    return app_home() / "digits" / f"{owner}.npz"


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A (28, 28) float image in [0, 1] (or uint8) as uint8 (28, 28); raises DigitSetError otherwise."""
    a = np.asarray(image)
    if a.shape != (28, 28):
        raise DigitSetError(f"A digit must be a 28x28 image; got shape {a.shape}.")
    if a.dtype == np.uint8:
        return a.copy()
    if not np.issubdtype(a.dtype, np.floating) or not np.all(np.isfinite(a)):
        raise DigitSetError("A digit must hold finite float values in [0, 1] or uint8 values.")
    return np.round(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)


def digitset_to_bytes(digits: DigitSet) -> bytes:
    """The ``.npz`` file contents for ``digits`` (what is saved and what is downloaded)."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        format=np.array(FORMAT),
        version=np.array(VERSION),
        images=digits.images,
        labels=digits.labels,
        ids=digits.ids,
        added=digits.added,
        next_id=np.array(digits.next_id, np.int64),
    )
    return buffer.getvalue()


def digitset_from_bytes(data: bytes, name: str = "the digit file") -> DigitSet:
    """Read a digit set from ``.npz`` bytes; raises ``DamagedDigitsError`` when damaged or inconsistent.

    Every entry's shape and dtype is read from its header and checked before any array is decompressed.
    """
    try:
        with NpzReader(data, MAX_FILE_BYTES) as npz:
            if "format" not in npz.entries or npz.scalar_text("format", 64) != FORMAT:
                raise DamagedDigitsError(f"{name} is not a Digit Lab digit set (no '{FORMAT}' marker).", name)
            version = npz.scalar_int("version")
            if version != VERSION:
                raise DigitSetError(f"{name} is version {version}; this Digit Lab reads {VERSION}.")
            _check_entries(npz, name)
            images, labels = npz.array("images"), npz.array("labels")
            ids, added = npz.array("ids"), npz.array("added")
            next_id = npz.scalar_int("next_id")
    except NpzError as err:
        raise _damaged(name, str(err)) from err
    n = len(labels)
    if n and (
        int(labels.max()) > 9
        or int(labels.min()) < 0
        or len(np.unique(ids)) != n
        or int(ids.max()) >= next_id
    ):
        raise _damaged(name, "labels must be 0-9 and ids unique and below next_id")
    if not np.isfinite(added).all():
        raise _damaged(name, "its dates are not numbers")
    return DigitSet(images, labels.astype(np.uint8), ids.astype(np.int64), added.astype(np.float64), next_id)


def _check_entries(npz: NpzReader, name: str) -> None:
    """Shapes and dtypes of the five arrays, from their headers (nothing is decompressed yet)."""
    expected = {"format", "version", "images", "labels", "ids", "added", "next_id"}
    if set(npz.entries) != expected or npz.others:
        raise _damaged(name, f"it holds {', '.join(sorted(npz.entries) + npz.others) or 'nothing'}")
    e = npz.entries
    n = e["labels"].shape[0] if len(e["labels"].shape) == 1 else -1
    if (
        not 0 <= n <= MAX_DIGITS
        or e["images"].shape != (n, 28, 28)
        or e["images"].dtype != np.uint8
        or e["labels"].dtype.kind not in "iu"
        or e["ids"].shape != (n,)
        or e["ids"].dtype.kind not in "iu"
        or e["added"].shape != (n,)
        or e["added"].dtype.kind not in "iuf"
    ):
        raise _damaged(name, "its arrays do not fit together")


def _damaged(name: str, detail: str) -> DamagedDigitsError:
    return DamagedDigitsError(
        f"{name} is damaged and cannot be read ({detail}). Keep a copy of it and start a new set.", name
    )


def set_aside(path: Path, now: float | None = None) -> Path:
    """Rename a damaged digit file to ``<owner>.damaged-<time>.npz`` beside it, so a new set can start.

    Returns the copy's path; the next ``load_digits`` finds no file and gives an empty set.
    """
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    with _LOCK:
        target = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
        k = 1
        while target.exists():
            k += 1
            target = path.with_name(f"{path.stem}.damaged-{stamp}-{k}{path.suffix}")
        try:
            path.rename(target)
        except OSError as err:
            raise DigitSetError(f"Could not keep a copy of the damaged set: {err.strerror or err}.") from err
    return target


def load_digits(path: Path) -> DigitSet:
    """The set saved at ``path`` (empty when there is no file yet); raises DigitSetError for a damaged file."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise DigitSetError("Your saved set is not a regular file on the server: it must be moved away.")
        if info.st_size > MAX_FILE_BYTES:
            raise _damaged(
                "Your saved set",
                f"it is {info.st_size / 1e6:,.0f} MB, far more than {MAX_DIGITS:,} digits take",
            )
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # no file (yet): an empty set
        return DigitSet.empty()
    except OSError as err:
        raise DigitSetError(
            f"Your saved set cannot be read: {err.strerror or err}. The server's DIGIT_LAB_HOME folder "
            "needs read access for the app."
        ) from err
    return digitset_from_bytes(data, name="Your saved set")


def _save(digits: DigitSet, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, digitset_to_bytes(digits))
    except OSError as err:
        raise DigitSetError(
            f"Cannot save My digits: {err.strerror or err}. The server's DIGIT_LAB_HOME folder must be "
            "writable by the app."
        ) from err


def add_digit(image: np.ndarray, label: int, path: Path, now: float | None = None) -> DigitSet:
    """Append one digit and save; returns the new set.

    Parameters
    ----------
    image : ndarray of shape (28, 28), float in [0, 1] or uint8, bright ink on black
    label : the digit it shows, 0..9
    """
    if isinstance(label, bool) or not isinstance(label, int | np.integer) or not 0 <= int(label) <= 9:
        raise DigitSetError(f"The label must be a digit 0-9; got {label!r}.")
    pixels = to_uint8(image)
    if not pixels.any():
        raise DigitSetError("The digit is blank: draw or upload one first.")
    path = Path(path)
    with _LOCK:
        digits = load_digits(path)
        if len(digits) >= MAX_DIGITS:
            raise DigitSetError(f"My digits holds the maximum of {MAX_DIGITS:,} digits: delete some first.")
        stamp = time.time() if now is None else float(now)
        updated = DigitSet(
            np.concatenate([digits.images, pixels[None]]),
            np.append(digits.labels, np.uint8(label)),
            np.append(digits.ids, np.int64(digits.next_id)),
            np.append(digits.added, stamp),
            digits.next_id + 1,
        )
        _save(updated, path)
    return updated


def delete_digits(ids: list[int] | np.ndarray, path: Path) -> DigitSet:
    """Remove the entries with these ids (unknown ids are ignored) and save; returns the new set."""
    path = Path(path)
    with _LOCK:
        digits = load_digits(path)
        keep = ~np.isin(digits.ids, np.asarray(list(ids), dtype=np.int64))
        if keep.all():
            return digits
        updated = DigitSet(
            digits.images[keep], digits.labels[keep], digits.ids[keep], digits.added[keep], digits.next_id
        )
        _save(updated, path)
    return updated


def merge_digits(incoming: DigitSet, path: Path, now: float | None = None) -> tuple[DigitSet, int]:
    """Add another set's digits (an uploaded file) to the set at ``path`` with new ids, and save.

    Digits already in the set (same pixels and label) and repeats within ``incoming`` are skipped.
    Returns (the new set, how many digits were added); raises DigitSetError when the result would
    hold more than ``MAX_DIGITS``.
    """
    path = Path(path)
    with _LOCK:
        digits = load_digits(path)
        seen = {img.tobytes() + bytes([lab]) for img, lab in zip(digits.images, digits.labels, strict=True)}
        keep = np.zeros(len(incoming), dtype=bool)
        for i, (img, lab) in enumerate(zip(incoming.images, incoming.labels, strict=True)):
            key = img.tobytes() + bytes([int(lab)])
            keep[i] = key not in seen
            seen.add(key)
        n_new = int(keep.sum())
        if n_new == 0:
            return digits, 0
        if len(digits) + n_new > MAX_DIGITS:
            raise DigitSetError(
                f"Adding {n_new:,} digits would pass the maximum of {MAX_DIGITS:,}: delete some first."
            )
        stamp = time.time() if now is None else float(now)
        updated = DigitSet(
            np.concatenate([digits.images, incoming.images[keep]]),
            np.concatenate([digits.labels, incoming.labels[keep]]),
            np.concatenate([digits.ids, np.arange(digits.next_id, digits.next_id + n_new, dtype=np.int64)]),
            np.concatenate([digits.added, np.full(n_new, stamp)]),
            digits.next_id + n_new,
        )
        _save(updated, path)
    return updated, n_new
