"""Strict parsing of uint8 IDX files (the MNIST format), gzip-compressed or raw.

The magic number, the dimensions and the byte count must agree; gzip data is decompressed with a
cap, so a forged size cannot exhaust memory. Every failure is a ``DataError`` naming the file.
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from nn_core.data.errors import (
    CorruptFileError,
    DataUnavailableError,
    UnreadableFileError,
    unreadable_message,
)

_IDX_MAGIC = {2051: 3, 2049: 1}  # magic -> number of dimensions (uint8 images / uint8 labels)
_GZIP_MAGIC = b"\x1f\x8b"
MAX_IDX_BYTES = 256 * 1024**2  # MNIST's largest file is 47 MB once decompressed


def read_idx(path: Path | str) -> np.ndarray:
    """Read a uint8 IDX file, gzip-compressed or raw (told apart by the gzip magic bytes).

    Returns
    -------
    ndarray of uint8
        Shape (n, rows, cols) for an image file (magic 2051) or (n,) for a label file (magic 2049).
        The array is a read-only view of the decompressed bytes: copy it before changing it.

    Raises
    ------
    CorruptFileError
        Damaged gzip stream, unknown magic number, or a byte count that disagrees with the header.
    DataUnavailableError
        If the file does not exist.
    UnreadableFileError
        If it exists but cannot be read.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataUnavailableError(
            f"{path} does not exist.", missing=(path.name,), directory=path.parent
        ) from None
    except OSError as err:  # permissions, a folder in its place, an I/O error
        raise UnreadableFileError(unreadable_message(path, err)) from None
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = _gunzip(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise CorruptFileError(
                f"{path}: the gzip data is damaged or cut short ({exc}). "
                "Delete the file and download it again."
            ) from None
    return _parse_idx(raw, path)


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    if len(data) < 4:
        raise CorruptFileError(f"{path}: only {len(data)} bytes, too short to be an IDX file.")
    (magic,) = struct.unpack(">I", data[:4])
    ndim = _IDX_MAGIC.get(magic)
    if ndim is None:
        raise CorruptFileError(
            f"{path}: magic number {magic} (0x{magic:08x}) is not an MNIST IDX file; expected 2051 "
            "(images) or 2049 (labels). Is this the right file, and is it unpacked correctly?"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptFileError(f"{path}: the IDX header is cut short ({len(data)} of {header} bytes).")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    count = math.prod(dims)
    if len(data) != header + count:
        what = "truncated" if len(data) < header + count else "longer than its header says"
        raise CorruptFileError(
            f"{path}: file is {what}: header declares shape {dims} ({header + count} bytes) "
            f"but the data has {len(data)} bytes. Delete the file and download it again."
        )
    return np.frombuffer(data, dtype=np.uint8, count=count, offset=header).reshape(dims)


def _gunzip(raw: bytes) -> bytes:
    """Decompress, refusing more than ``MAX_IDX_BYTES`` (a forged size cannot exhaust memory)."""
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
        data = stream.read(MAX_IDX_BYTES + 1)
    if len(data) > MAX_IDX_BYTES:
        raise OSError(f"it decompresses to more than {MAX_IDX_BYTES / 1e6:.0f} MB")
    return data
