"""The data layer's errors: each message is written for a person and says what to do.

``DataError`` is the base the pages and the CLI catch; ``DataUnavailableError`` carries which
files are missing and where they belong, so a page can offer the download.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

ENV_VAR = "DIGIT_LAB_DATA"


class DataError(Exception):
    """Base of every data-layer error; the message is written for a person."""


class CorruptFileError(DataError):
    """A file exists but is damaged, truncated, of the wrong kind, or fails its checksum."""


class UnreadableFileError(DataError):
    """A file exists but this process may not read it (permissions) or it is not a regular file."""


def unreadable_message(path: Path, err: OSError | None = None) -> str:
    """What to say about a data file that exists but cannot be read."""
    why = f" ({err.strerror or err})" if err is not None else ""
    return (
        f"{path} cannot be read{why}. Give this user read access to it (for example `chmod a+r {path}`) "
        f"and to its folder, or set {ENV_VAR} to a folder holding readable copies."
    )


class DataUnavailableError(DataError):
    """Files are missing and could not (or were not allowed to) be downloaded.

    Attributes
    ----------
    missing : tuple of str
        File names that are needed but absent (or unusable).
    directory : Path or None
        Folder where those files are expected.
    """

    def __init__(self, message: str, missing: Iterable[str] = (), directory: Path | None = None):
        super().__init__(message)
        self.missing = tuple(missing)
        self.directory = directory
