"""The training playground behind ``app_pages/training.py``.

Each run has a background worker (``worker``: it owns the run's ``Trainer`` and takes the page's
commands; ``loop``: its training thread, which honours pause/stop/+1 epoch/lr requests between
epochs and saves the run to the run store after every epoch). Workers live in the server-wide
``registry`` keyed by run id and owner, so a reload or a second tab finds them. ``state`` keeps a session's settings and selected run (``params`` declares
the settings and their URL form); ``controls`` draws the settings panel; ``live`` is the polling
fragment that redraws a training run's charts; ``runs`` compares and manages runs; ``analysis``
is the test-set analysis; ``figures`` builds the charts; ``view`` is the frozen snapshot of a run
the page reads; ``data`` caches each run's training arrays.
"""
