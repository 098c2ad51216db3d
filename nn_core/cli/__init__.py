"""``python -m nn_core``: the engine's command line.

``main`` builds the parser and dispatches; ``train`` runs a configuration and prints one line (or
JSON object) per epoch; ``evaluate`` scores a model file on a test set and predicts image files;
``common`` holds the shared error type and output helpers. Errors are one line on stderr: exit 2
for bad arguments or settings, 1 for a runtime problem.
"""

from nn_core.cli.main import main

__all__ = ["main"]
