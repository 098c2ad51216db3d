"""The dataset explorer in a real browser, on the real data: summary and charts render, switching to
Fashion-MNIST brings class names, a class filter changes the sample grid, the viewer steps with Next,
a click on a grid tile or a PCA point opens that image, and the page is ready fast once cached.

Each action waits for what it should change to appear *and* for the script to be idle: a fast rerun
can pass without the page ever showing the "running" state, so that state alone is no signal.
"""

from __future__ import annotations

import json
import re
import statistics
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, assert_healthy, screenshot, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.real_data]

VIEWER_TEXT = re.compile(r"Image #(\d+) of the training set: label (\d) \((.+)\)")
IDLE = (
    "document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state') === 'notRunning'"
)
TAB_CHART = {
    "Overview": "explorer_balance",
    "Samples": "explorer_grid",
    "Class averages": "explorer_means",
    "Viewer": "explorer_image",
    "PCA map": "explorer_pca",
}
MEAN_METRIC = "document.querySelectorAll('[data-testid=stMetricValue]')[3]?.innerText"


@pytest.fixture
def explorer(page, app_url, mnist_root, fashion_root):
    """The explorer page, opened through the app's root (a server's first deep link skips the router)."""
    page.goto(app_url)
    wait_for_app(page)
    page.goto(f"{app_url}/explorer")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Dataset explorer")).to_be_visible(timeout=60_000)
    return page


def chart(page, key: str):
    return page.locator(f".st-key-{key} [data-testid=stPlotlyChart]")


def settle(page, action, ready: str) -> float:
    """Do ``action``, then wait until the JS condition ``ready`` holds and the script is idle; seconds."""
    start = time.perf_counter()
    action()
    page.wait_for_function(f"() => ({ready}) && {IDLE}", timeout=60_000)
    return time.perf_counter() - start


def open_tab(page, label: str) -> float:
    """Click a tab; closed tabs do not run, so this reruns the page until the tab's chart is drawn."""
    ready = f"!!document.querySelector('.st-key-{TAB_CHART[label]} .js-plotly-plot')"
    return settle(page, lambda: page.get_by_role("tab", name=label).click(), ready)


def switch_dataset(page, title: str) -> float:
    """Choose a dataset; done when the pixel-mean figure has changed."""
    before = page.evaluate(MEAN_METRIC)
    click = page.get_by_text(title, exact=True).click
    return settle(page, click, f"{MEAN_METRIC} !== {json.dumps(before)}")


def captions(page, key: str) -> list[str]:
    """The caption under each tile of an image grid (Plotly annotations)."""
    return (
        chart(page, key)
        .locator("g.annotation-text-g text")
        .evaluate_all("els => els.map(e => e.textContent)")
    )


def click_point(page, key: str, trace: int, point: int) -> None:
    """Click where Plotly drew one point of one trace of a chart."""
    plot = chart(page, key).locator(".js-plotly-plot")
    x, y = plot.evaluate(
        """(gd, [t, p]) => { const L = gd._fullLayout, box = gd.getBoundingClientRect();
            return [box.left + L.xaxis._offset + L.xaxis.d2p(gd._fullData[t].x[p]),
                    box.top + L.yaxis._offset + L.yaxis.d2p(gd._fullData[t].y[p])]; }""",
        [trace, point],
    )
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def viewer_index(page) -> int:
    return int(VIEWER_TEXT.search(page.get_by_text(VIEWER_TEXT).inner_text()).group(1))


def test_explore_mnist_then_fashion(explorer):
    page = explorer
    expect(page.get_by_test_id("stMetricValue").first).to_have_text("60,000")
    expect(chart(page, "explorer_balance").locator("g.point")).to_have_count(10)
    expect(chart(page, "explorer_histogram").locator("g.point").first).to_be_attached()
    screenshot(page, "explorer-1-overview")

    open_tab(page, "Samples")
    expect(chart(page, "explorer_grid").locator("g.annotation-text-g")).to_have_count(40)
    digits = captions(page, "explorer_grid")
    assert set(digits) <= set("0123456789") and len(set(digits)) > 3
    screenshot(page, "explorer-2-samples-mnist")

    switch_dataset(page, "Fashion-MNIST")
    expect(page.get_by_role("button", name="Ankle boot")).to_be_visible()
    clothes = captions(page, "explorer_grid")
    assert len(clothes) == 40 and not set(clothes) & set("0123456789") and len(set(clothes)) > 3

    only_trousers = """(() => { const t = [...document.querySelectorAll(
        '.st-key-explorer_grid g.annotation-text-g text')].map(e => e.textContent);
        return t.length === 40 && t.every(x => x === 'Trouser'); })()"""
    settle(page, page.get_by_role("button", name="Trouser").click, only_trousers)
    assert captions(page, "explorer_grid") == ["Trouser"] * 40
    screenshot(page, "explorer-3-samples-trousers")

    open_tab(page, "Class averages")
    expect(chart(page, "explorer_means").locator("g.annotation-text-g")).to_have_count(10)
    expect(page.get_by_text("Which classes look alike?")).to_be_visible()
    screenshot(page, "explorer-4-class-averages")

    open_tab(page, "Viewer")
    assert viewer_index(page) == 0
    settle(
        page, page.get_by_role("button", name="Next").click, "document.body.innerText.includes('Image #1 of')"
    )
    assert viewer_index(page) == 1
    expect(chart(page, "explorer_image").locator(".gtitle")).to_have_text(re.compile(r"^#1: "))
    screenshot(page, "explorer-5-viewer")
    assert_healthy(page)


def test_clicking_a_tile_or_a_point_opens_the_image(explorer):
    page = explorer
    open_tab(page, "Samples")
    rows = (
        chart(page, "explorer_grid")
        .locator(".js-plotly-plot")
        .evaluate("gd => Array.from(gd._fullData[1].customdata)")
    )
    click_point(page, "explorer_grid", 1, 6)
    open_tab(page, "Viewer")
    expect(page.get_by_text(VIEWER_TEXT)).to_contain_text(f"Image #{rows[6]} of")

    open_tab(page, "PCA map")
    expect(chart(page, "explorer_pca").locator("canvas").first).to_be_visible()
    row = (
        chart(page, "explorer_pca").locator(".js-plotly-plot").evaluate("gd => gd._fullData[7].customdata[3]")
    )
    shows_it = f"""(() => {{ const t = [...document.querySelectorAll('.st-key-explorer_pca_image .gtitle')];
        return t.length === 1 && t[0].textContent === '#{row}: 7'; }})()"""
    settle(page, lambda: click_point(page, "explorer_pca", 7, 3), shows_it)  # a "7" on the map
    screenshot(page, "explorer-6-pca")
    assert_healthy(page)


def test_page_ready_with_a_warm_cache(explorer, app_url):
    """Navigation, dataset switches and tab switches, timed to the drawn chart and an idle script."""
    page = explorer
    for title in ("Fashion-MNIST", "MNIST"):  # warm both datasets' caches first
        switch_dataset(page, title)
    for label in ("Samples", "PCA map", "Overview"):  # and the heavier tabs
        open_tab(page, label)
    navigations, switches, tabs = [], [], []
    for _ in range(5):
        start = time.perf_counter()
        page.goto(f"{app_url}/explorer")
        page.wait_for_function(
            f"() => !!document.querySelector('.st-key-explorer_balance g.point') && {IDLE}"
        )
        navigations.append(time.perf_counter() - start)
        switches += [switch_dataset(page, "Fashion-MNIST"), switch_dataset(page, "MNIST")]
        tabs += [open_tab(page, "Samples"), open_tab(page, "PCA map"), open_tab(page, "Overview")]
    figures = {
        "navigation_s": [round(t, 3) for t in navigations],
        "dataset_switch_s": [round(t, 3) for t in switches],
        "tab_switch_s": [round(t, 3) for t in tabs],
        "navigation_median_s": round(statistics.median(navigations), 3),
        "dataset_switch_median_s": round(statistics.median(switches), 3),
        "tab_switch_median_s": round(statistics.median(tabs), 3),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "explorer-timings.json").write_text(json.dumps(figures, indent=2))
    for what in ("navigation_median_s", "dataset_switch_median_s", "tab_switch_median_s"):
        assert figures[what] < 2.0, figures
    assert_healthy(page)
