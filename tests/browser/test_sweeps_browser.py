"""Sweeps in Chromium: two owners share the run queue fairly, and a server killed mid-sweep loses no
finished epoch (its unfinished runs show as stopped and can be resumed)."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AppServer, assert_healthy, screenshot, wait_for_app
from tests.browser.test_training_browser import new_page, open_playground, owner_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TINY = {"n": "2000", "epochs": "2", "hidden": "32", "opt": "momentum"}


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory):
    """A server whose queue trains one run at a time, so queue positions can be seen."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DIGIT_LAB_MAX_RUNS", "1")
        server = AppServer(tmp_path_factory.mktemp("sweep-home"))
    yield server
    server.stop()


def start_sweep(page, values: dict[str, str]) -> None:
    page.get_by_text("Start a sweep: train many variations").click()
    for name, text in values.items():
        field = page.get_by_role("textbox", name=f"Values of {name}")
        field.fill(text)
        field.press("Enter")
        wait_for_app(page)
    page.get_by_role("button", name="Start sweep").click()
    expect(page.get_by_text("Sweep started")).to_be_visible(timeout=30_000)


def statuses(page) -> list[str]:
    """The status column of the sweep table, top to bottom."""
    table = page.locator("[data-testid=stTable] table")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    col = headers.index("status")
    return [row.locator("td, th").nth(col).inner_text().strip() for row in table.locator("tbody tr").all()]


def test_two_owners_share_the_queue_fairly_and_see_only_their_own(browser, one_at_a_time):
    url = one_at_a_time.url
    ctx_a, page_a = new_page(browser)
    ctx_b, page_b = new_page(browser)
    open_playground(page_a, url, TINY)
    start_sweep(page_a, {"lr": "0.01,0.03,0.1", "batch_size": "32,128"})  # 6 runs
    expect(page_a.locator("[data-testid=stTable]")).to_be_visible(timeout=30_000)
    open_playground(page_b, url, TINY)
    start_sweep(page_b, {"lr": "0.05,0.1", "batch_size": "64"})  # 2 runs
    expect(page_b.locator("[data-testid=stTable]")).to_be_visible(timeout=30_000)
    seen = statuses(page_b)
    assert len(seen) == 2, seen
    ahead = [int(m.group(1)) if (m := re.search(r"(\d+) runs? ahead", s)) else 0 for s in seen]
    if all(s.startswith("queued") for s in seen) and ahead[0] > 0:
        # owners take turns: one of A's waiting runs starts between B's two runs
        assert ahead[1] == ahead[0] + 2, seen
    screenshot(page_b, "sweep-queued")
    expect(page_a.get_by_text("6 of 6 runs done")).to_be_visible(timeout=240_000)
    expect(page_b.get_by_text("2 of 2 runs done")).to_be_visible(timeout=120_000)
    assert all(s == "finished" for s in statuses(page_a)), statuses(page_a)
    assert all(s == "finished" for s in statuses(page_b)), statuses(page_b)
    expect(
        page_a.get_by_text("Best validation accuracy", exact=True)
    ).to_be_visible()  # the heatmap of lr x batch size
    screenshot(page_a, "sweep-finished")
    # each owner sees only their own sweep
    for page, runs in ((page_a, 6), (page_b, 2)):
        box = page.get_by_label("Sweep", exact=True)
        expect(box).to_have_value(re.compile(f"· {runs} runs$"))
        assert len(statuses(page)) == runs
    assert_healthy(page_a)
    assert_healthy(page_b)
    ctx_a.close()
    ctx_b.close()


def _kill_tree(pid: int) -> None:
    """SIGKILL a process and every descendant (a crash of the server and its worker processes)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    for child in children:
        _kill_tree(child)
    os.kill(pid, signal.SIGKILL)


def test_a_server_killed_mid_sweep_keeps_every_finished_epoch_and_resumes(browser, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    server = AppServer(home)
    try:
        ctx, page = new_page(browser)
        open_playground(page, server.url, {**TINY, "epochs": "40", "batch": "16"})
        start_sweep(page, {"lr": "0.01,0.02", "batch_size": "16"})
        owner = owner_of(page)
        run_files = sorted(home.glob("runs/*/run.json"))
        assert len(run_files) == 2

        def epochs_done() -> list[int]:
            return [len(json.loads(f.read_text())["history"]) for f in run_files]

        page.wait_for_function("() => true")  # keep the page alive while training
        deadline_epochs = 2
        for _ in range(600):
            if max(epochs_done()) >= deadline_epochs:
                break
            page.wait_for_timeout(200)
        before = epochs_done()
        assert max(before) >= deadline_epochs, before
        ctx.close()
        server.proc.poll()
        _kill_tree(server.proc.pid)
        server.proc.wait(timeout=10)
    finally:
        server.stop()
    after_kill = epochs_done()
    assert all(a >= b for a, b in zip(after_kill, before, strict=True)), (before, after_kill)
    restarted = AppServer(home)
    try:
        ctx, page = new_page(browser)
        page.goto(restarted.url)
        wait_for_app(page, timeout=120_000)  # a fresh server's first page on a loaded machine
        open_playground(page, restarted.url, {**TINY, "owner": owner})
        screenshot(page, "sweep-after-restart")
        expect(page.locator("[data-testid=stTable]")).to_be_visible(timeout=30_000)
        seen = statuses(page)
        assert "stopped" in seen and "running" not in " ".join(seen), seen
        page.get_by_role("button", name="Resume the unfinished runs").click()
        expect(page.get_by_text("2 unfinished runs queued again")).to_be_visible(timeout=30_000)
        deadline = time.monotonic() + 240  # "2 of 2 runs done" is shown before the click too: read the table
        while statuses(page) != ["finished", "finished"] and time.monotonic() < deadline:
            page.wait_for_timeout(1000)
        assert statuses(page) == ["finished", "finished"]
        final = [json.loads(f.read_text()) for f in run_files]
        assert [len(r["history"]) for r in final] == [40, 40]
        assert [r["history"][0]["epoch"] for r in final] == [1, 1]
        assert_healthy(page)
        ctx.close()
    finally:
        restarted.stop()
