"""A convolutional network end to end in Chromium: built row by row in the playground's layer builder,
trained for one epoch, then looked inside on the Draw page after drawing a digit.

Screenshots of the builder (desktop and a 390 px phone), the test-set feature maps and the Draw
page's feature maps go to ``test-artifacts/``.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.conftest import CANVAS, assert_healthy, screenshot, wait_for_app
from tests.browser.test_draw_browser import SEVEN_BAR, SEVEN_LEG, first_stroke, stroke
from tests.browser.test_training_browser import open_playground

pytestmark = pytest.mark.browser

START = {"hidden": "32", "n": "2000", "epochs": "1", "batch": "64", "opt": "adam", "lr": "0.003"}


def add_layer(page, kind: str) -> None:
    """Choose ``kind`` under "New layer" (typed into the menu, again if a rerun closed it), then Add."""
    chooser = page.get_by_role("combobox", name="New layer")
    for _ in range(3):
        wait_for_app(page)
        chooser.click()
        page.keyboard.type(kind)
        page.keyboard.press("Enter")
        try:
            expect(chooser).to_have_value(kind, timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    wait_for_app(page)
    page.get_by_role("button", name="Add", exact=True).click()
    wait_for_app(page)


def scroll_to(locator) -> None:
    """Scroll an element into view; a rerun may replace it meanwhile, so try again with the new one."""
    for _ in range(5):
        try:
            locator.scroll_into_view_if_needed(timeout=5_000)
            return
        except PlaywrightError:
            time.sleep(0.3)
    locator.scroll_into_view_if_needed()


def shot_at_width(page, name: str, width: int, height: int = 2400) -> None:
    page.mouse.move(1, 1)
    page.set_viewport_size({"width": width, "height": height})
    time.sleep(0.8)
    screenshot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1000})
    time.sleep(0.3)


def test_build_train_and_look_inside_a_cnn(page, app_url, mnist_root):
    open_playground(page, app_url, START)
    add_layer(page, "Conv")  # goes before the dense layer
    conv = page.locator(".st-key-train_row_0")
    expect(conv.get_by_role("combobox", name="Layer 1")).to_have_value("Conv")
    field = conv.get_by_role("spinbutton", name="Filters")
    field.fill("8")
    field.press("Enter")
    expect(field).to_have_value("8")
    wait_for_app(page)
    add_layer(page, "Pooling")
    expect(page.locator(".st-key-train_row_1").get_by_role("combobox", name="Layer 2")).to_have_value(
        "Pooling"
    )
    page.get_by_text("Share these settings").click()
    link = page.locator("[data-testid=stCode] code").last.inner_text().strip()
    assert "layers=conv8x3%2Cmaxpool2%2Cdense32" in link and "hidden=" not in link, link
    summary = page.locator("[data-testid=stHtml]").filter(has_text="mult-adds")
    expect(summary).to_contain_text("13×13×8")
    expect(summary).to_contain_text("conv8x3")
    expect(
        page.get_by_text(re.compile(r"^[\d,]+ parameters · [\d,]+ multiply-adds per image"))
    ).to_be_visible()
    shot_at_width(page, "cnn-01-builder", 1400)
    shot_at_width(page, "cnn-02-builder-phone", 390, 3200)

    page.get_by_role("button", name="Start a new run").click()
    expect(page.get_by_text("Finished: 1 epochs.")).to_be_visible(timeout=180_000)
    wait_for_app(page)
    filters = page.locator("[class*=st-key-train_filters_]")
    scroll_to(filters)
    expect(filters.locator("svg.main-svg").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("8 filters of 3x3")).to_be_visible()
    maps = page.locator("[class*=st-key-train_fmaps_][class*=_maps_]")
    expect(maps).to_have_count(2, timeout=30_000)  # the conv layer and the pooling layer
    scroll_to(maps.last)
    expect(page.get_by_text("layer 1 · conv8x3: 8 maps of 26x26")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("layer 2 · maxpool2: 8 maps of 13x13")).to_be_visible()
    shot_at_width(page, "cnn-03-test-set-maps", 1400, 3600)

    page.get_by_role("link", name=re.compile("Draw & predict")).click()  # same session: the run is offered
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible(timeout=60_000)
    wait_for_app(page)
    picker = page.get_by_role("combobox", name="Model")  # the shipped default model comes first
    picker.click()
    page.get_by_role("option", name=re.compile("conv8x3-maxpool2-dense32-10")).click()
    expect(picker).to_have_value(re.compile("conv8x3-maxpool2-dense32-10"), timeout=15_000)
    wait_for_app(page)
    canvas = page.locator(CANVAS)
    first_stroke(page, canvas, SEVEN_BAR)
    stroke(page, canvas, SEVEN_LEG)
    wait_for_app(page)
    page.get_by_text("Look inside the network").click()
    wait_for_app(page)
    time.sleep(0.5)  # the maps are drawn by the browser after the rerun
    wait_for_app(page)
    expect(page.locator(".st-key-draw_filters")).to_be_attached(timeout=15_000)
    for key, title in [
        ("draw_maps_1", "layer 1 · conv8x3: 8 maps of 26x26"),
        ("draw_maps_2", "layer 2 · maxpool2"),
    ]:
        chart = page.locator(f".st-key-{key}")
        scroll_to(chart)
        expect(chart.get_by_text(re.compile("^" + re.escape(title)))).to_be_visible(timeout=15_000)
        expect(chart.locator("g.heatmaplayer image, g.hm image").first).to_be_attached()
    expect(page.get_by_text(re.compile(r"^Layer 1: 32 relu units$"))).to_be_visible(timeout=15_000)
    shot_at_width(page, "cnn-04-draw-feature-maps", 1400, 2600)
    shot_at_width(page, "cnn-05-draw-feature-maps-phone", 390, 4200)
    assert_healthy(page)
