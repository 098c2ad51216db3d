"""The layout CSS (ui/layout.py) finds elements of other modules by their widget keys: those keys must
still be given, or the CSS silently stops applying (the browser tests in test_screens_browser.py would
then fail at some screen sizes only)."""

from __future__ import annotations

import re
from pathlib import Path

from ui import layout
from ui.training import controls

ROOT = Path(__file__).resolve().parents[1]
CSS = layout._DRAW_ROW + layout._LAYER_ROWS + layout._TRAIN_COLUMNS + layout._RUN_BUTTON_ROW


def keys_in_css() -> set[str]:
    """Every key the CSS names as ``st-key-<key>``."""
    return set(re.findall(r"st-key-([A-Za-z0-9_]+)", CSS))


def test_the_css_names_only_the_keys_checked_here():
    draw = {layout.DRAW_ROW_KEY, *layout.DRAW_PANEL_KEYS}
    training = {"train_del_layer_", "train_del_layer_0", "train_w_preset", "train_resume"}
    assert keys_in_css() == draw | training


def test_the_training_widgets_still_have_the_keys_the_css_names():
    assert controls._wkey("preset") == "train_w_preset"
    assert 'key=f"train_del_layer_{i}"' in (ROOT / "ui" / "training" / "controls.py").read_text()
    assert 'key="train_resume"' in (ROOT / "ui" / "training" / "live.py").read_text()


def test_the_draw_page_uses_the_keyed_panels():
    assert "draw_panels()" in (ROOT / "app_pages" / "draw.py").read_text()
