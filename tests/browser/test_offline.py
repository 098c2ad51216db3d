"""Every page works offline: the browser asks nothing of any host but the app's own (no font or icon CDN)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import assert_healthy, wait_for_app

pytestmark = pytest.mark.browser

PAGES = ["", "explorer", "training", "draw"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def is_external(url: str) -> bool:
    """True for a request that would leave the machine (data: and blob: URLs stay inside the page)."""
    parts = urlsplit(url)
    return parts.scheme not in ("data", "blob", "about") and parts.hostname not in LOCAL_HOSTS


def test_is_external_tells_local_from_remote():
    assert not is_external("http://127.0.0.1:8501/static/js/main.js")
    assert not is_external("ws://localhost:8501/_stcore/stream")
    assert not is_external("data:image/svg+xml;base64,AAAA")
    assert is_external("https://fonts.example.com/icons/draw/24px.svg")


def test_no_page_fetches_from_another_host(page, app_url):
    external: list[str] = []

    def guard(route):
        if is_external(route.request.url):
            external.append(route.request.url)
            route.abort()  # never wait on the network, and never reach it
        else:
            route.continue_()

    page.context.route("**/*", guard)
    page.on("request", lambda request: external.append(request.url) if is_external(request.url) else None)
    for path in PAGES:
        page.goto(f"{app_url}/{path}")
        wait_for_app(page)
        page.locator("h1").first.wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
        assert sorted(set(external)) == [], f"/{path} fetched from other hosts"
    page.errors.clear()  # an aborted request logs a console error; the assertion above says which
    assert_healthy(page)
