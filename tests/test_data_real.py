"""Checks on the real MNIST and Fashion-MNIST files, found through DIGIT_LAB_DATA.

When the data are not there these tests skip on a developer's machine but fail loudly in CI
(environment variable CI set), so a CI run can never pass without having looked at the real data.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nn_core.data import checksums
from nn_core.data.local import ENV_VAR, dataset_status, load_split
from nn_core.data.registry import get_dataset_info

pytestmark = pytest.mark.real_data

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _problem(name: str) -> str | None:
    """Why the real files of ``name`` cannot be used, or None when all four are present and verified."""
    value = os.environ.get(ENV_VAR, "")
    if not value:
        return f"{ENV_VAR} is not set; point it at the folder holding mnist/ and fashion-mnist/."
    status = dataset_status(name, Path(value))
    bad = {f: s for f, s in status.items() if s != "ok"}
    if bad:
        listing = ", ".join(f"{f} ({s})" for f, s in bad.items())
        return f"{name} files in {Path(value) / name} are not usable: {listing}."
    return None


@pytest.fixture(scope="module")
def real_root() -> Callable[[str], Path]:
    """Return a function that gives the data root for a dataset, or skips/fails when it is absent."""

    def require(name: str) -> Path:
        problem = _problem(name)
        if problem is None:
            return Path(os.environ[ENV_VAR])
        if _in_ci():
            pytest.fail(f"Real data needed in CI: {problem}", pytrace=False)
        pytest.skip(problem)

    return require


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_registry_checksums_match_the_published_sums(real_root, name):
    sums_file = real_root(name) / name / "SHA256SUMS"
    if not sums_file.exists():
        pytest.skip(f"no SHA256SUMS beside the data in {sums_file.parent}")
    lines = [line.split() for line in sums_file.read_text().splitlines() if line.strip()]
    assert dict(get_dataset_info(name).files) == {file: digest for digest, file in lines}


@pytest.mark.parametrize(
    ("split", "n", "counts"),
    [("train", 60000, MNIST_TRAIN_COUNTS), ("test", 10000, MNIST_TEST_COUNTS)],
)
def test_mnist_shapes_and_class_counts(real_root, split, n, counts):
    images, labels = load_split("mnist", split, root=real_root("mnist"))
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert np.bincount(labels, minlength=10).tolist() == counts
    assert images.min() == 0 and images.max() == 255


@pytest.mark.parametrize(("split", "n", "per_class"), [("train", 60000, 6000), ("test", 10000, 1000)])
def test_fashion_mnist_shapes_and_class_counts(real_root, split, n, per_class):
    images, labels = load_split("fashion-mnist", split, root=real_root("fashion-mnist"))
    assert images.shape == (n, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (n,)
    assert np.bincount(labels, minlength=10).tolist() == [per_class] * 10


def test_mnist_train_loads_well_under_a_second(real_root):
    root = real_root("mnist")
    checksums.clear_cache()  # include the SHA-256 check, as on a first load
    start = time.perf_counter()
    load_split("mnist", "train", root=root)
    assert time.perf_counter() - start < 1.0
