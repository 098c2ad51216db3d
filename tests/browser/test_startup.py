"""A fresh server with several people arriving at once: every page renders without an error.

Each session's first run used to import pandas, plotly and the page modules concurrently with the
others; a half-imported module (``partially initialized module 'pandas' has no attribute 'Series'``)
then failed a chart. The test starts its own server so the race is fresh each time (a rerun too).
"""

from __future__ import annotations

import threading

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, AppServer, PageErrors

pytestmark = pytest.mark.browser

PAGES = ["", "explorer", "training", "draw", "training"]  # five people, two on the training page

WAIT_DONE = """() => { const a = document.querySelector('[data-testid=stApp]');
    return a && a.getAttribute('data-test-script-state') === 'notRunning'
           && a.getAttribute('data-test-connection-state') === 'CONNECTED'
           && document.querySelector('h1') !== null; }"""


def _visit(url: str, results: dict, index: int, start: threading.Barrier) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
            errors = PageErrors()
            page.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
            page.on("console", errors.record_console)
            start.wait(timeout=60)
            page.goto(url)
            page.wait_for_function(WAIT_DONE, timeout=90_000)
            page.wait_for_timeout(1500)  # a late rerun (fragments, charts) would show its error now
            exceptions = page.locator("[data-testid=stException]")
            texts = [exceptions.nth(i).inner_text() for i in range(exceptions.count())]
            results[index] = (texts, list(errors))
        except Exception as err:  # noqa: BLE001 - reported by the test below
            results[index] = ([f"visit failed: {err}"], [])
        finally:
            browser.close()


def test_five_people_open_pages_at_once_on_a_fresh_server(tmp_path):
    server = AppServer(tmp_path)
    try:
        results: dict[int, tuple[list[str], list[str]]] = {}
        start = threading.Barrier(len(PAGES))
        threads = [
            threading.Thread(target=_visit, args=(f"{server.url}/{path}", results, i, start))
            for i, path in enumerate(PAGES)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        log = server.log.read_text(errors="replace")
    finally:
        server.stop()
    assert len(results) == len(PAGES)
    for i, path in enumerate(PAGES):
        exceptions, errors = results[i]
        assert exceptions == [], (path, exceptions)
        assert errors == [], (path, errors)
    assert "Uncaught app execution" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
