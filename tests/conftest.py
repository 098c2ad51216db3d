"""Shared fixtures: access to the real datasets, which must fail loudly in CI when missing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nn_core.data.local import data_root, dataset_status


def require_real_data(name: str = "mnist") -> Path:
    """The data root holding ``name`` with good checksums; fails in CI and skips elsewhere when absent."""
    root = data_root()
    status = dataset_status(name, root)
    bad = {f: s for f, s in status.items() if s != "ok"}
    if bad:
        message = (
            f"real {name} data is needed but not usable under {root} ({bad}); "
            "set DIGIT_LAB_DATA to a folder holding mnist/ and fashion-mnist/ (CI uses ../shared/data)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    return require_real_data("mnist")


@pytest.fixture(scope="session")
def fashion_root() -> Path:
    return require_real_data("fashion-mnist")
