"""Fetching dataset files from public mirrors, safely.

Each file is streamed into a temporary file beside its destination, checked against its SHA-256,
and only then moved into place with ``os.replace``. An interrupted, truncated or wrong download
therefore never leaves a file that looks complete, and the temporary file is removed on any failure.
Mirrors are tried in order; only the standard library (urllib) is used.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from nn_core.data import checksums
from nn_core.data.local import ENV_VAR, DataUnavailableError, data_root, file_status, unusable_files_error
from nn_core.data.registry import DatasetInfo, get_dataset_info

_CHUNK = 1 << 16
_USER_AGENT = "digit-lab/0.1 (+urllib)"


class _BadDownload(Exception):
    """One mirror's attempt failed in a way worth reporting (not a network exception)."""


def download_file(
    urls: Sequence[str],
    dest: Path,
    sha256: str,
    progress: Callable[[int, int], None] | None = None,
    timeout: float = 30,
) -> Path:
    """Download one file, trying each URL in turn, and put it at ``dest`` only if its SHA-256 matches.

    Parameters
    ----------
    urls : sequence of str
        Candidate URLs for the same file, tried in order.
    dest : Path
        Final location; its folder is created if needed.
    sha256 : str
        Expected hex digest of the file's bytes.
    progress : callable, optional
        ``progress(bytes_done, bytes_total)``; total is 0 when the server does not send a length.
        Restarts from 0 for each mirror tried.
    timeout : float
        Seconds to wait for a connection or for each read from it.

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    DataUnavailableError
        Every URL failed; the message lists what each one said.
    """
    dest = Path(dest)
    if not urls:
        raise ValueError(f"No URL given to download {dest.name}.")
    make_data_folder(dest.parent)
    expected = sha256.lower()
    failures = []
    for url in urls:
        try:
            _fetch(url, dest, expected, progress, timeout)
        except urllib.error.HTTPError as exc:
            failures.append(f"{url}: HTTP {exc.code} {exc.reason}")
        except urllib.error.URLError as exc:
            failures.append(f"{url}: {_describe(exc.reason)}")
        except (OSError, http.client.HTTPException, _BadDownload) as exc:
            failures.append(f"{url}: {_describe(exc)}")
        else:
            return dest
    tried = "\n".join(f"  - {line}" for line in failures)
    raise DataUnavailableError(
        f"Could not download {dest.name}; every mirror failed:\n{tried}\n"
        f"Check the internet connection, or copy {dest.name} into {dest.parent} by hand "
        f"(or set {ENV_VAR} to a folder that already has the data).",
        missing=(dest.name,),
        directory=dest.parent,
    )


def make_data_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) for downloads; ``DataUnavailableError`` saying what to do."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        reason = "a file of that name is in the way"
    except NotADirectoryError:
        reason = "part of that path is a file, not a folder"
    except OSError as err:
        reason = err.strerror or str(err)
    else:
        if os.access(folder, os.W_OK | os.X_OK):
            return
        reason = "this user may not write to it"
    raise DataUnavailableError(
        f"Cannot make the data folder {folder}: {reason}. Set {ENV_VAR} to a folder you can write to "
        "(or fix the path), then download again.",
        directory=folder,
    )


def _describe(exc: object) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, _BadDownload) else f"{type(exc).__name__}: {text}"


def _fetch(url: str, dest: Path, expected: str, progress: Callable[[int, int], None] | None, timeout: float):
    """One attempt: stream ``url`` to a temp file next to ``dest``, verify, then move into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else 0
            digest = hashlib.sha256()
            done = 0
            if progress is not None:
                progress(0, total)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if total and done != total:
            raise _BadDownload(f"transfer cut short: got {done} of {total} bytes")
        actual = digest.hexdigest()
        if actual != expected:
            raise _BadDownload(f"checksum mismatch: SHA-256 {actual[:12]}..., expected {expected[:12]}...")
        os.replace(tmp, dest)
        checksums.remember(dest, actual)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def ensure_dataset(
    name: str,
    root: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    *,
    info: DatasetInfo | None = None,
    timeout: float = 30,
) -> Path:
    """Make sure every file of a dataset is present with the right checksum, downloading what is not.

    Parameters
    ----------
    name : str
        Dataset key ("mnist" or "fashion-mnist"); ignored for lookup when ``info`` is given.
    root : Path, optional
        Data root; defaults to ``data_root()``.
    progress : callable, optional
        ``progress(file_name, bytes_done, bytes_total)`` during each download.
    info : DatasetInfo, optional
        Entry to use instead of the registry's (its mirrors, files and checksums).
    timeout : float
        Per-connection timeout in seconds, passed to ``download_file``.

    Returns
    -------
    Path
        The dataset's folder.

    Raises
    ------
    DataUnavailableError
        A file could not be downloaded from any mirror, or the folder cannot be made.
    UnreadableFileError
        A file is there but cannot be read (a download would not help).
    """
    if info is None:
        info = get_dataset_info(name)
    directory = (Path(root) if root is not None else data_root()) / info.name
    status = {f: file_status(directory / f, sha) for f, sha in info.files.items()}
    if "unreadable" in status.values():  # a download would not fix it (nor should it replace the file)
        raise unusable_files_error(info, directory, status)
    todo = [f for f, state in status.items() if state != "ok"]
    for i, file_name in enumerate(todo):
        report = None if progress is None else _per_file(progress, file_name)
        try:
            download_file(info.urls(file_name), directory / file_name, info.files[file_name], report, timeout)
        except DataUnavailableError as exc:
            still = todo[i:]
            raise DataUnavailableError(
                f"{info.title} is incomplete in {directory}: {', '.join(still)} still needed.\n{exc}",
                missing=still,
                directory=directory,
            ) from None
    return directory


def _per_file(progress: Callable[[str, int, int], None], file_name: str) -> Callable[[int, int], None]:
    return lambda done, total: progress(file_name, done, total)
