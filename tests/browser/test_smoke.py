"""Every page opens in a real browser without an exception box or a console error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_healthy, screenshot, wait_for_app

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
    expect(page).to_have_url(re.compile(f"/{path}$"), timeout=15_000)
    wait_for_app(page)
    assert_healthy(page)
