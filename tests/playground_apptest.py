"""Opening the Training playground under AppTest, shared by its page tests.

A test module takes the ``home`` fixture by importing it (``from tests.playground_apptest import
home``): every test gets its own ``DIGIT_LAB_HOME`` and the run registry is emptied after it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.training import registry as reg

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "app_pages/training.py"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGIT_LAB_HOME", str(tmp_path))
    yield tmp_path
    reg.forget_all()


def open_playground(params: dict[str, str] | None = None) -> AppTest:
    """The playground opened through the app (its navigation), with ``params`` as the URL's query."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at
