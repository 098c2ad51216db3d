"""A queue of training runs with a cap on how many train at once, fair between owners.

Runs wait in one line per owner; whenever a place frees up, the next run is taken from the owners
in turn (round robin), so one person's 12-run sweep does not starve another's single run. The
queue hands each run to an executor (``concurrent.futures``: a local process pool, or a cluster's
executor) and knows, for a waiting run, how many runs will start before it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from nn_core.data.local import data_root
from nn_core.jobs.commands import request_stop
from nn_core.jobs.runner import mark_failed, train_stored_run
from nn_core.store.paths import app_home


@dataclass
class Job:
    owner: str
    run_id: str
    args: tuple[Any, ...] = ()  # given to the task after the run id
    future: Future = field(default_factory=Future)  # resolved with the run's summary


class RunQueue:
    """Dispatch runs to ``executor``, at most ``max_running`` at a time.

    ``task(run_id, *task_args)`` is what the executor runs (``train_stored_run`` by default, given
    the run and data folders of this process at the time of ``submit``); each ``submit`` returns a
    future resolved with its result. ``on_failure(run_id, error)`` is called when a task raises
    (default for ``train_stored_run``: ``mark_failed``, which records a killed worker in the run).
    """

    def __init__(
        self,
        executor: Executor,
        max_running: int,
        task: Callable[..., Any] = train_stored_run,
        task_args: tuple[Any, ...] | None = None,
        on_failure: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        if max_running < 1:
            raise ValueError("max_running must be at least 1")
        self.executor, self.max_running = executor, max_running
        self.task, self.task_args = task, task_args
        self.on_failure = on_failure or (mark_failed if task is train_stored_run else None)
        self._lock = threading.Lock()
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()  # owner -> runs, owners in turn order
        self._running: dict[str, Job] = {}

    def submit(self, owner: str, run_id: str) -> Future:
        """Queue ``run_id``; it starts when a place is free and it is its owner's turn."""
        args = self.task_args
        if args is None:
            args = (str(app_home()), str(data_root())) if self.task is train_stored_run else ()
        job = Job(owner, run_id, args)
        with self._lock:
            if run_id in self._running or any(j.run_id == run_id for q in self._waiting.values() for j in q):
                raise ValueError(f"run {run_id} is already queued or running")
            self._waiting.setdefault(owner, deque()).append(job)
            started = self._fill()
        self._watch(started)
        return job.future

    def _next_order(self) -> list[Job]:
        """The waiting runs in the order they will start (the lock is held)."""
        lines = [list(q) for q in self._waiting.values()]
        order: list[Job] = []
        for rank in range(max((len(line) for line in lines), default=0)):
            order.extend(line[rank] for line in lines if rank < len(line))
        return order

    def _fill(self) -> list[tuple[Job, Future]]:
        """Start waiting runs while there is room (the lock is held); returns them with their futures.

        The caller watches them (``_watch``) once the lock is released: a future that is already
        done runs its callback at once, and that callback takes the lock.
        """
        started = []
        while len(self._running) < self.max_running and self._waiting:
            owner, line = next(iter(self._waiting.items()))
            job = line.popleft()
            del self._waiting[owner]
            if line:  # the owner goes to the back of the turn order
                self._waiting[owner] = line
            self._running[job.run_id] = job
            try:
                inner = self.executor.submit(self.task, job.run_id, *job.args)
            except Exception as err:  # noqa: BLE001 - the executor is gone (shut down, cluster lost)
                inner = Future()
                inner.set_exception(err)
            started.append((job, inner))
        return started

    def _watch(self, started: list[tuple[Job, Future]]) -> None:
        for job, inner in started:
            inner.add_done_callback(lambda done, job=job: self._finished(job, done))

    def _finished(self, job: Job, done: Future) -> None:
        error = None if done.cancelled() else done.exception()
        if error is not None and self.on_failure is not None:  # before the run leaves the running set
            self.on_failure(job.run_id, error)
        with self._lock:
            self._running.pop(job.run_id, None)
            started = self._fill()
        self._watch(started)
        if done.cancelled():
            job.future.cancel()
        elif error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(done.result())

    def position(self, run_id: str) -> int | None:
        """How many waiting runs start before ``run_id`` (0: next); None when it is not waiting."""
        with self._lock:
            for i, job in enumerate(self._next_order()):
                if job.run_id == run_id:
                    return i
        return None

    def is_running(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._running

    def cancel(self, run_id: str) -> bool:
        """Take a waiting run out of the queue, or ask a running one to stop. False when unknown."""
        with self._lock:
            for owner, line in list(self._waiting.items()):
                for job in line:
                    if job.run_id == run_id:
                        line.remove(job)
                        if not line:
                            del self._waiting[owner]
                        job.future.cancel()
                        return True
            running = run_id in self._running
        if running:
            request_stop(run_id)
        return running

    def counts(self) -> tuple[int, int]:
        """(running, waiting) runs."""
        with self._lock:
            return len(self._running), sum(len(q) for q in self._waiting.values())
