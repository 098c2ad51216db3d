"""``python -m nn_core``: the engine's command line.

``main`` builds the parser and dispatches; ``train`` runs a configuration and prints one line (or
JSON object) per epoch; ``evaluate`` scores a model file on a test set and predicts image files;
``flags`` generates the setting flags from the settings schema, reads ``--config`` sources and
writes the command line that repeats a run; ``common`` holds the shared error type and output
helpers. Errors are one line on stderr: exit 2
for bad arguments or settings, 1 for a runtime problem.
"""

from nn_core.cli.flags import command_line
from nn_core.cli.main import main

__all__ = ["command_line", "main"]
