"""The training playground behind ``app_pages/training.py``.

Runs train in worker processes, not in the server: ``worker`` is the server's thin handle on a
run (``RunWorker``: it queues the run on the server-wide queue that sweeps use too, sends pause,
stop, +1 epoch and learning-rate commands through files in the run folder, and reads the epoch
records and weights the worker process saves after every epoch). Handles live in the
server-wide ``registry`` keyed by run id and owner, so a reload or a second tab finds them.
``state`` keeps a session's settings and selected run (``params`` declares the settings and
their URL form); ``controls`` draws the settings panel; ``live`` is the polling fragment that
redraws a run's charts (``queued``: a queued run's place and Cancel button); ``runs`` compares and manages runs;
``analysis`` is the test-set analysis; ``figures`` builds the charts; ``view`` is the frozen
snapshot of a run the page reads; ``data`` caches the arrays the page's analysis needs.
"""
