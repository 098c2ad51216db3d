"""Where Digit Lab keeps what a user makes: runs, models and personal digit sets.

``app_home()`` is ``$DIGIT_LAB_HOME`` when set, else ``$XDG_DATA_HOME/digit-lab`` or
``~/.local/share/digit-lab``. (Downloaded datasets live elsewhere: see ``nn_core.data.local.data_root``.)
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV_VAR = "DIGIT_LAB_HOME"


def app_home() -> Path:
    """The folder for runs, models and digit sets (created on first use by whoever writes)."""
    explicit = os.environ.get(HOME_ENV_VAR, "").strip()
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(base).expanduser() if base else Path.home() / ".local" / "share") / "digit-lab"


def models_dir() -> Path:
    """Saved standalone models (``*.npz``), the default model among them."""
    return app_home() / "models"


def runs_dir() -> Path:
    """One sub-folder per training run."""
    return app_home() / "runs"
