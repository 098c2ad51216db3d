"""Datasets: what exists, where its files are, and how they are read.

``registry`` names each dataset (files, SHA-256s, mirrors, class names); ``local`` finds the data
folder (``DIGIT_LAB_DATA``) and loads splits; ``idx`` parses IDX files strictly; ``errors`` holds
``DataError`` and its kinds, each with a sentence a person can act on; ``download`` fetches missing
files (checksummed, atomic, mirror fallback); ``checksums`` caches file digests; ``stats`` computes the explorer's statistics (class balance,
means, PCA). The training code asks ``local.load_split`` for arrays and never sees a file.
"""

from nn_core.data.download import ensure_dataset
from nn_core.data.local import (
    CorruptFileError,
    DataError,
    DataUnavailableError,
    UnreadableFileError,
    data_root,
    dataset_status,
    load_split,
    to_float,
)
from nn_core.data.registry import DATASETS, DatasetInfo, get_dataset_info

__all__ = [
    "DATASETS",
    "CorruptFileError",
    "DataError",
    "DataUnavailableError",
    "DatasetInfo",
    "UnreadableFileError",
    "data_root",
    "dataset_status",
    "ensure_dataset",
    "get_dataset_info",
    "load_split",
    "to_float",
]
