"""``python -m nn_core``: the engine's command line (see ``nn_core.cli.main``)."""

from __future__ import annotations

import os
import sys

from nn_core.cli.main import main

if __name__ == "__main__":
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (e.g. piped into head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 1
    sys.exit(status)
