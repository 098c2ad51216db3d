"""Reading ``.npz`` files from untrusted sources: every entry's size is known before it is read.

``NpzReader(data)`` opens the zip archive and, for each ``.npy`` entry, reads only its header
(``numpy.lib.format.read_magic`` / ``read_array_header_*``): shape, dtype and byte count, which must
agree with the size the zip directory declares. Object arrays (pickles) are refused, as are entries
whose compression ratio is beyond anything a real array reaches and archives whose declared total is
above the caller's cap. Callers compare the shapes with what they expect and only then call
``array(name)``, which decompresses that one entry (never more than its declared size).
"""

from __future__ import annotations

import io
import math
import struct
import zipfile
import zlib
from dataclasses import dataclass

import numpy as np
from numpy.lib import format as npy_format

MAX_RATIO = 100  # uncompressed / compressed beyond this (for entries over 1 MB) is not real data
MAX_ENTRIES = 1_000
KINDS = "biuf" + "U"  # booleans, integers, floats and text; never objects, bytes or records
_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    OSError,
    ValueError,  # also UnicodeDecodeError
    SyntaxError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    NotImplementedError,  # unsupported compression
    RuntimeError,  # encrypted entries
    struct.error,
    zlib.error,
)


class NpzError(ValueError):
    """The archive is damaged, holds something other than plain arrays, or is too large."""


@dataclass(frozen=True)
class Entry:
    """One array as its header declares it."""

    name: str  # without ".npy"
    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int  # bytes of array data once decompressed


class NpzReader:
    """The arrays of an ``.npz`` held in memory, checked entry by entry before reading.

    Parameters
    ----------
    data : bytes of the file
    max_bytes : int
        Cap on the total declared (decompressed) size of all entries.
    """

    def __init__(self, data: bytes, max_bytes: int) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self._zip.infolist()
        except _ERRORS as err:
            raise NpzError(f"not a complete .npz file (truncated or damaged: {err})") from err
        if len(infos) > MAX_ENTRIES:
            raise NpzError(f"it holds {len(infos):,} entries")
        total = sum(info.file_size for info in infos)
        if total > max_bytes:
            raise NpzError(
                f"its arrays would take {total / 1e6:,.0f} MB, more than the {max_bytes / 1e6:,.0f} MB allowed"
            )
        self.entries: dict[str, Entry] = {}
        self.others: list[str] = []  # names of entries that are not .npy arrays (never read)
        self._infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if not info.filename.endswith(".npy"):
                self.others.append(info.filename)
                continue
            entry = self._header(info)
            self.entries[entry.name] = entry
            self._infos[entry.name] = info

    def _header(self, info: zipfile.ZipInfo) -> Entry:
        name = info.filename[: -len(".npy")]
        if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise NpzError(
                f"entry {name!r:.60} claims {info.file_size / 1e6:,.0f} MB packed into "
                f"{info.compress_size / 1e3:,.0f} kB: damaged or not made by Digit Lab"
            )
        try:
            with self._zip.open(info) as handle:
                version = npy_format.read_magic(handle)
                if version == (1, 0):
                    shape, fortran, dtype = npy_format.read_array_header_1_0(handle)
                elif version == (2, 0):
                    shape, fortran, dtype = npy_format.read_array_header_2_0(handle)
                else:
                    raise NpzError(f"entry {name!r:.60} has an unknown .npy version {version}")
                offset = handle.tell()
        except NpzError:
            raise
        except _ERRORS as err:
            raise NpzError(f"entry {name!r:.60} is damaged ({err})") from err
        if dtype.kind not in KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise NpzError(f"entry {name!r:.60} holds Python objects, which are never read")
        if any(d < 0 for d in shape):
            raise NpzError(f"entry {name!r:.60} has a negative dimension")
        nbytes = math.prod(shape) * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise NpzError(
                f"entry {name!r:.60} declares shape {shape} of {dtype} ({nbytes:,} bytes) "
                f"but holds {info.file_size - offset:,} bytes"
            )
        return Entry(name, tuple(int(d) for d in shape), dtype, nbytes)

    def array(self, name: str) -> np.ndarray:
        """Decompress and return one entry (its header was checked when the reader was made)."""
        info = self._infos[name]
        try:
            with self._zip.open(info) as handle:
                return npy_format.read_array(handle, allow_pickle=False)
        except _ERRORS as err:
            raise NpzError(f"entry {name!r:.60} is damaged ({err})") from err

    def scalar_text(self, name: str, max_chars: int) -> str:
        """A 0-d unicode entry as ``str`` (e.g. a format marker or JSON), refused when too long."""
        entry = self.entries.get(name)
        if entry is None:
            raise NpzError(f"it has no {name!r} entry")
        if entry.shape != () or entry.dtype.kind != "U" or entry.dtype.itemsize > 4 * max_chars:
            raise NpzError(f"its {name!r} entry is not a short text")
        return str(self.array(name))

    def scalar_int(self, name: str) -> int:
        """A 0-d integer entry as ``int``."""
        entry = self.entries.get(name)
        if entry is None:
            raise NpzError(f"it has no {name!r} entry")
        if entry.shape != () or entry.dtype.kind not in "iu":
            raise NpzError(f"its {name!r} entry is not a whole number")
        return int(self.array(name))

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
