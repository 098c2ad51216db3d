"""Every page opens in a real browser without an exception box or a console error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AppServer, assert_healthy, screenshot, wait_for_app

pytestmark = pytest.mark.browser

PAGES = {"home": "", "explorer": "explorer", "training": "training", "draw": "draw"}


@pytest.mark.parametrize("name", list(PAGES))
def test_page_opens(page, app_url, name):
    page.goto(f"{app_url}/{PAGES[name]}")
    wait_for_app(page)
    page.locator("h1").first.wait_for(timeout=30_000)
    screenshot(page, f"smoke-{name}")
    assert_healthy(page)


LINKS = [
    ("Open the dataset explorer", "explorer"),
    ("Open the training playground", "training"),
    ("Open draw & predict", "draw"),
]


@pytest.mark.parametrize(("label", "path"), LINKS)
def test_home_links_to_each_page(page, app_url, label, path):
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("link", name=label).first.click()
    expect(page).to_have_url(re.compile(f"/{path}(\\?.*)?$"), timeout=15_000)
    wait_for_app(page)
    assert_healthy(page)


def test_a_deep_link_on_a_fresh_server_gets_the_router(page, tmp_path_factory):
    """The first request after a start goes straight to a page: it still has the app's navigation."""
    server = AppServer(tmp_path_factory.mktemp("deep-link-home"))
    try:
        page.goto(f"{server.url}/explorer")
        wait_for_app(page)
        nav = page.locator("[data-testid=stTopNav]")  # the navigation sits in the top bar
        expect(nav.get_by_text("Training playground")).to_be_visible(timeout=30_000)
        expect(nav.get_by_text("Draw & predict")).to_be_visible()
        assert nav.get_by_text("training", exact=True).count() == 0  # no raw file names
        assert_healthy(page)
    finally:
        server.stop()
