"""Tests for nn_core.speed.threads.ThreadChooser: the per-step BLAS thread choice, on simulated step times.

Each test feeds the chooser made-up step durations as a function of (step, thread count), so the
decisions are exact and need no real BLAS or timing.
"""

from __future__ import annotations

import pytest

import nn_core.speed.threads as threads_module
from nn_core.speed.threads import ThreadChooser


@pytest.fixture(autouse=True)
def quiet_machine(monkeypatch):
    """Unless a test says otherwise, the load average shows no other process."""
    monkeypatch.setattr(threads_module, "machine_busy", lambda: False)


def run(chooser: ThreadChooser, seconds, steps: int) -> list[int]:
    """Drive the chooser for ``steps`` steps; ``seconds(step, threads)`` gives each step's time."""
    used = []
    for step in range(steps):
        count = chooser.threads(step)
        chooser.record(step, seconds(step, count))
        used.append(count)
    return used


def test_settles_on_more_threads_when_they_are_clearly_faster():
    chooser = ThreadChooser(candidates=(1, 2))
    used = run(chooser, lambda step, t: 1.0 if t == 1 else 0.7, 2000)
    assert used.count(2) > 0.7 * len(used)  # the rest are the one-thread blocks of the probes
    assert chooser.most_used() == 2


def test_prefers_one_thread_unless_more_are_faster_by_the_margin():
    chooser = ThreadChooser(candidates=(1, 2), margin=0.9)
    used = run(chooser, lambda step, t: 1.0 if t == 1 else 0.95, 2000)  # 5% faster is not enough
    assert chooser.most_used() == 1
    assert used.count(2) < 0.05 * len(used)


def test_probes_grow_rarer_while_one_thread_wins():
    chooser = ThreadChooser(candidates=(1, 2), period=64)
    used = run(chooser, lambda step, t: 1.0 if t == 1 else 3.0, 4000)
    starts = [i for i in range(1, len(used)) if used[i] == 2 and used[i - 1] == 1]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) <= 8
    assert gaps == sorted(gaps) and gaps[-1] > 4 * gaps[0]


def test_probes_grow_rarer_while_more_threads_win_up_to_a_shorter_cap():
    chooser = ThreadChooser(candidates=(1, 2), period=64, block=4)
    used = run(chooser, lambda step, t: 1.0 if t == 1 else 0.7, 6000)
    starts: list[int] = []  # where probes begin: back on one thread after a stretch on two
    for i in range(1, len(used)):
        if used[i] == 1 and used[i - 1] == 2 and (not starts or i - starts[-1] > chooser.probe_len):
            starts.append(i)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert gaps[1] > gaps[0] and gaps == sorted(gaps)
    assert max(gaps) <= 8 * 64 + chooser.probe_len  # still probes now and then: the load may change
    assert used.count(1) < 0.03 * len(used)


def test_at_least_min_seconds_of_training_pass_between_probes():
    chooser = ThreadChooser(candidates=(1, 2), period=64, block=4, min_seconds=1.0)
    used = run(chooser, lambda step, t: 0.003 if t == 1 else 0.002, 3000)  # 2-3 ms steps
    assert used[:16].count(1) == 8  # the first probe
    assert used[16 : 16 + 490] == [2] * 490  # then one second (500 steps of 2 ms) on two threads


def test_a_slow_pooled_step_ends_the_probe_at_once():
    chooser = ThreadChooser(candidates=(1, 2), block=4)
    used = run(chooser, lambda step, t: 1.0 if t == 1 else 50.0, 20)
    assert used[:4] == [1, 1, 1, 1]  # the first one-thread block gives the reference
    assert used[4] == 2 and used[5:] == [1] * 15  # one 50x step is enough to stop


def test_falls_back_to_one_thread_soon_after_the_pool_stalls():
    chooser = ThreadChooser(candidates=(1, 2), period=64)

    def seconds(step: int, t: int) -> float:
        if t == 1:
            return 1.0
        return 0.7 if step < 500 else 10.0  # from step 500 another process holds the second core

    used = run(chooser, seconds, 700)
    assert used[450:496] == [2] * 46  # between probes, on two threads
    assert all(t == 1 for t in used[503:560])  # three slow steps, then one thread


def test_never_probes_while_the_machine_is_busy(monkeypatch):
    monkeypatch.setattr(threads_module, "machine_busy", lambda: True)
    chooser = ThreadChooser(candidates=(1, 2))
    used = run(chooser, lambda step, t: 1.0 if t == 1 else 0.5, 1000)
    assert set(used) == {1}


def test_a_single_candidate_is_inactive():
    chooser = ThreadChooser(candidates=(1,))
    assert not chooser.active
    assert set(run(chooser, lambda step, t: 1.0, 100)) == {1}


def test_machine_busy_reads_the_load_average_against_the_cores(monkeypatch):
    monkeypatch.undo()  # the real function, not the fixture's stand-in
    monkeypatch.setattr(threads_module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(threads_module.os, "getloadavg", lambda: (3.0, 1.0, 1.0))
    assert threads_module.machine_busy()
    monkeypatch.setattr(threads_module.os, "getloadavg", lambda: (2.0, 5.0, 5.0))  # our own 2 threads
    assert not threads_module.machine_busy()

    def unavailable():
        raise OSError("no load average here")

    monkeypatch.setattr(threads_module.os, "getloadavg", unavailable)
    assert not threads_module.machine_busy()
