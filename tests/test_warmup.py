"""The warm-up imports every page module once, and concurrent callers wait for the first."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import warmup

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DIGIT_LAB_DATA", str(tmp_path / "data"))


def test_app_warms_up_before_the_first_page_runs(home):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert warmup.is_warm()


def test_concurrent_callers_all_return_after_the_imports():
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(warmup.warm())) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(seen) == 5 and len(set(seen)) == 1  # one measurement, shared by every caller
    import sys

    assert all(name in sys.modules for name in warmup.MODULES)


def test_every_listed_page_module_exists():
    for name in warmup.MODULES:
        if name.startswith("ui."):
            assert (ROOT / Path(*name.split("."))).with_suffix(".py").is_file(), name
