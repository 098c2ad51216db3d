"""SHA-256 of data files, remembered in-process.

Hashing a 26 MB image file takes a few tens of milliseconds, and the app checks the same files on
every rerun. Results are cached per process, keyed by the file's resolved path, size, modification
time and inode, so a file that is replaced or rewritten is hashed again. The cache is thread-safe.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

_CHUNK = 1 << 20
_cache: dict[tuple[str, int, int, int], str] = {}
_lock = threading.Lock()


def _key(path: Path) -> tuple[str, int, int, int]:
    st = os.stat(path)
    return (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _hash_file(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks (no cache)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: Path | str) -> str:
    """Lower-case hex SHA-256 of a file, from the cache when the file has not changed.

    Raises
    ------
    OSError
        If the file cannot be read (for example FileNotFoundError).
    """
    path = Path(path)
    key = _key(path)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = _hash_file(path)
    with _lock:
        _cache[key] = digest
    return digest


def remember(path: Path | str, sha256: str) -> None:
    """Record a digest computed elsewhere (for example while downloading) for the file as it is now."""
    with _lock:
        _cache[_key(Path(path))] = sha256.lower()


def clear_cache() -> None:
    """Forget every remembered digest."""
    with _lock:
        _cache.clear()
