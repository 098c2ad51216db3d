"""Browser-test harness: the real app under ``streamlit run`` and Debian's Chromium through Playwright.

The server gets its own ``DIGIT_LAB_HOME`` (an empty temporary folder) and the caller's
``DIGIT_LAB_DATA``. A failed test leaves a full-page screenshot in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("DIGIT_LAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CANVAS = "[data-testid=stBidiComponentIsolated] canvas.upper-canvas"
HARMLESS_CONSOLE = ("/_stcore/host-config", "/_stcore/health", "Failed to load resource")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """A running ``streamlit run app.py`` on a loopback port."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "DIGIT_LAB_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        self.log = home / "server.log"
        self._log_handle = open(self.log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.headless",
                "true",
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(self.port),
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._wait_healthy()

    def _wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=1) as response:
                    if response.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the app did not start:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._log_handle.close()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium)"
        )
    server = AppServer(tmp_path_factory.mktemp("digit-lab-home"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_url(app_server: AppServer) -> str:
    return app_server.url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class PageErrors(list):
    """Console errors and page errors seen by a page, less the harmless ones."""

    def record_console(self, message: object) -> None:
        text = message.text  # type: ignore[attr-defined]
        if message.type == "error" and not any(h in text for h in HARMLESS_CONSOLE):  # type: ignore[attr-defined]
            self.append(f"console: {text}")


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context and page; ``page.errors`` collects console and page errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    pg = context.new_page()
    errors = PageErrors()
    pg.on("pageerror", lambda err: errors.append(f"pageerror: {err}"))
    pg.on("console", errors.record_console)
    pg.errors = errors
    yield pg
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        try:
            pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        except Exception as err:  # noqa: BLE001 - a failed screenshot must not hide the failure
            print(f"screenshot failed: {err}")
    context.close()


def wait_for_app(page: object, timeout: float = 60_000) -> None:
    """Wait until the script has finished running and the app is connected."""
    page.wait_for_function(  # type: ignore[attr-defined]
        """() => { const a = document.querySelector('[data-testid=stApp]');
                   return a && a.getAttribute('data-test-script-state') === 'notRunning'
                          && a.getAttribute('data-test-connection-state') === 'CONNECTED'; }""",
        timeout=timeout,
    )


def assert_healthy(page: object) -> None:
    """No exception box on the page and no console or page error."""
    exceptions = page.locator("[data-testid=stException]")  # type: ignore[attr-defined]
    assert exceptions.count() == 0, exceptions.first.inner_text()
    assert page.errors == [], page.errors  # type: ignore[attr-defined]


def screenshot(page: object, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (for looking at the pages)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A browser test that fails is run once more; the summary counts it as "rerun".

    On a loaded 2-core machine a real browser now and then loses a race with Streamlit's reruns
    (an event sent while a rerun starts); a second failure is a real one.
    """
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=1))
