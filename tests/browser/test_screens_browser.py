"""Every page on a phone, a tablet, two laptops and a desktop: nothing sticks out of the viewport or is
cut off, and on the Draw page a finger draws on the whole canvas.

One server for the file (the default model placed in its home first) and two browser contexts, both
with touch: a handheld one (mobile viewport rules) for the phone and tablet sizes, a desktop one for
the laptop and desktop sizes. Each test resizes its context's page to the size it checks, so a page is
loaded once and looked at in every size (Streamlit lays out again on resize, as when a tablet turns).
Touch strokes go through the Chrome DevTools Protocol (``Input.dispatchTouchEvent``), the events a
finger on a touch screen produces.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import CANVAS, assert_healthy, screenshot, wait_for_app

pytestmark = pytest.mark.browser

SCREENS = {  # name: (width, height, a phone or tablet)
    "phone": (390, 844, True),
    "tablet": (820, 1180, True),
    "laptop-1024": (1024, 768, False),
    "laptop-1280": (1280, 800, False),
    "desktop": (1920, 1080, False),
}
PAGES = {  # name: address; "training-run" is the playground with a short run finished
    "home": "",
    "explorer": "explorer",
    "training": "training",
    "training-run": "training?epochs=1&hidden=16",
    "draw": "draw",
}
EDGE = 0.04  # edge strokes run this fraction of the canvas side inside its edges (11 px of 280)
EDGE_STROKES = {
    "top": [(0.1, EDGE), (0.9, EDGE)],
    "right": [(1 - EDGE, 0.1), (1 - EDGE, 0.9)],
    "bottom": [(0.9, 1 - EDGE), (0.1, 1 - EDGE)],
    "left": [(EDGE, 0.9), (EDGE, 0.1)],
}
SEVEN = [[(0.27, 0.2), (0.73, 0.2)], [(0.73, 0.2), (0.43, 0.86)]]  # fractions of the canvas side
HEADLINE = re.compile(r"^(Not sure: maybe )?\S+ \(\d+%( sure)?\)$")

# Layout problems on the page as it is now, as a list of strings (empty when all is well):
# - the document scrolls sideways, or the main area is narrower than the viewport (a sidebar);
# - a visible element reaches past the viewport's left or right edge (elements parked far off-screen
#   on purpose, as skip links and Plotly's text-measuring svg, end left of x = 0 and are skipped);
# - a canvas, button, image, heading, chart or metric is cut off by an ancestor that clips overflow;
# - a button's or a widget label's text ends in an ellipsis, or a word of any text is split across
#   two lines (code, such as a long file path, may break anywhere);
# - a canvas that is not square, or a canvas scroller that scrolls.
# Shadow roots are walked too (the drawing canvas lives in one).
LAYOUT_PROBLEMS = """() => {
  const vw = document.documentElement.clientWidth, problems = [];
  if (document.documentElement.scrollWidth > vw) problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${vw}`);
  const main = document.querySelector('[data-testid=stMain]');
  if (main && main.getBoundingClientRect().width < vw - 1) problems.push(`main area ${Math.round(main.getBoundingClientRect().width)} px of ${vw}`);
  const all = [];
  const walk = (root) => { for (const el of root.querySelectorAll('*')) { all.push(el); if (el.shadowRoot) walk(el.shadowRoot); } };
  walk(document);
  const parentOf = (el) => el.parentElement || (el.parentNode && el.parentNode.host) || null;
  const name = (el) => `${el.getAttribute('data-testid') || el.tagName.toLowerCase()} "${(el.innerText || el.className || '').toString().slice(0, 30).replace(/\\n/g, ' ')}"`;
  const hidden = (el) => { for (let e = el; e && e.nodeType === 1; e = parentOf(e)) { const s = getComputedStyle(e); if (s.visibility === 'hidden' || s.opacity === '0' || s.display === 'none') return true; } return false; };
  const KEY = 'canvas, button, img, h1, h2, h3, [data-testid=stPlotlyChart], [data-testid=stMetricValue], [data-testid=stMetricLabel], [data-testid=stWidgetLabel]';
  for (const el of all) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= 0 || hidden(el)) continue;
    let left = r.left, right = r.right;  // the part not cut off by an ancestor that clips overflow
    for (let a = parentOf(el); a && a.nodeType === 1; a = parentOf(a)) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const ar = a.getBoundingClientRect(); left = Math.max(left, ar.left); right = Math.min(right, ar.right);
    }
    if (right > left && (right > vw + 1 || left < -1)) problems.push(`${name(el)} spans x ${Math.round(left)}..${Math.round(right)} of ${vw}`);
    if (el.matches(KEY) && right - left < r.width - 1) problems.push(`${name(el)} shows ${Math.round(Math.max(0, right - left))} of ${Math.round(r.width)} px`);
    if (el.matches('button, button *, [data-testid=stWidgetLabel] *') && getComputedStyle(el).textOverflow === 'ellipsis'
        && el.scrollWidth > el.clientWidth + 1) problems.push(`${name(el)} is cut short`);
    if (el.matches('canvas') && Math.abs(r.width - r.height) > 1) problems.push(`canvas ${Math.round(r.width)}x${Math.round(r.height)} is not square`);
    if (el.matches('.dc-scroll') && el.scrollWidth > el.clientWidth + 1) problems.push(`the canvas scrolls sideways: ${el.scrollWidth} > ${el.clientWidth}`);
  }
  const texts = document.createTreeWalker(document.querySelector('[data-testid=stMain]') || document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  for (let t = texts.nextNode(); t; t = texts.nextNode()) {
    const host = t.parentElement;
    if (!host || host.closest('code, svg, .stCode, [data-testid=stPlotlyChart]') || hidden(host)) continue;
    for (const m of t.data.matchAll(/[\\p{L}\\p{N}]{2,}/gu)) {
      range.setStart(t, m.index); range.setEnd(t, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
      if (lines.size > 1) problems.push(`the word "${m[0]}" is split over ${lines.size} lines`);
    }
  }
  return problems;
}"""


# The playground's layer builder: each layer is a card whose kind and remove button share a line.
LAYER_ROWS_APART = """() => {
  const card = document.querySelector('.st-key-train_row_0');
  if (!card) return ['no layer card found'];
  const kind = card.querySelector('[data-testid=stSelectbox]');
  const remove = card.querySelector('[class*="st-key-train_del_layer_0"]');
  if (!kind || !remove) return ['the first layer card lacks its kind or its remove button'];
  const a = kind.getBoundingClientRect(), b = remove.getBoundingClientRect();
  return b.top >= a.bottom - 2 ? [`the remove button sits below the layer kind (${Math.round(a.bottom)} / ${Math.round(b.top)})`] : [];
}"""


@pytest.fixture(scope="module")
def devices(browser, app_url) -> dict[bool, object]:
    """A page per kind of device (True: handheld), each with the app opened at its root."""
    pages, contexts = {}, []
    for handheld in (True, False):
        width, height, _ = next(size for size in SCREENS.values() if size[2] == handheld)
        context = browser.new_context(
            viewport={"width": width, "height": height}, has_touch=True, is_mobile=handheld
        )
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda err, page=page: page.errors.append(f"pageerror: {err}"))
        page.goto(app_url)  # the root first: a server's first deep link skips the router
        wait_for_app(page)
        pages[handheld] = page
    yield pages
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def screenshots_on_failure(request) -> Iterator[None]:
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed and "devices" in request.fixturenames:
        for handheld, page in request.getfixturevalue("devices").items():
            screenshot(page, f"failed-{request.node.name}-{'handheld' if handheld else 'desktop'}")


def resize(page, screen: str) -> None:
    width, height, _ = SCREENS[screen]
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_timeout(600)  # charts redraw at the new size a moment after the window changes


def open_page(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    wait_for_app(page)
    page.locator("h1").first.wait_for(timeout=30_000)
    if path == "draw":
        expect(page.locator(CANVAS)).to_be_visible(timeout=60_000)
    wait_for_app(page)


@pytest.mark.parametrize("name", list(PAGES))
def test_a_page_fits_every_screen(devices, app_url, name):
    found = {}
    for handheld, page in devices.items():
        if name == "training-run" and not handheld:
            continue  # one short run is enough: the handheld page is looked at in every size below
        open_page(page, app_url, PAGES[name])
        if name == "training-run":
            page.get_by_role("button", name="Start a new run").click()
            expect(page.get_by_text(re.compile(r"Finished: \d+ epoch"))).to_be_visible(timeout=60_000)
            wait_for_app(page)
        for screen in (s for s, size in SCREENS.items() if size[2] == handheld or name == "training-run"):
            resize(page, screen)
            problems = page.evaluate(LAYOUT_PROBLEMS)
            if name.startswith("training"):
                problems += page.evaluate(LAYER_ROWS_APART)
            if problems:
                found[screen] = problems
                screenshot(page, f"screens-{screen}-{name}")
        assert_healthy(page)
    assert found == {}, found


def touch_stroke(cdp, box: dict, points: list[tuple[float, float]], steps: int = 8) -> None:
    """One finger stroke through ``points`` (fractions of the box), as touchStart, touchMoves, touchEnd."""
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": xy[0][0], "y": xy[0][1]}]}
    )
    for (x0, y0), (x1, y1) in zip(xy, xy[1:], strict=False):
        for k in range(1, steps + 1):
            x, y = x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def seen_image(page, app_url: str) -> tuple[str, np.ndarray]:
    """The "What the network sees" image: its address and its 28x28 pixels in [0, 1]."""
    src = page.locator(".st-key-draw_seen img").first.get_attribute("src")
    data = page.request.get(src if src.startswith("http") else app_url + src).body()
    big = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float32) / 255
    step = big.shape[0] // 28
    return src, big[step // 2 :: step, step // 2 :: step][:28, :28]


def stroke_and_wait(page, cdp, canvas, points, app_url: str, tries: int = 1) -> np.ndarray:
    """Draw one stroke and wait for the network's view of the drawing to change; returns the new view."""
    before, _ = seen_image(page, app_url)
    for _ in range(tries):  # a canvas mounted a moment ago may miss the very first stroke
        touch_stroke(cdp, canvas_box(page, canvas), points)
        try:
            page.wait_for_function(
                "before => { const i = document.querySelector('.st-key-draw_seen img');"
                " return i && i.getAttribute('src') !== before; }",
                arg=before,
                timeout=5_000 if tries > 1 else 15_000,
            )
            break
        except Exception:  # noqa: BLE001 - the playwright timeout: draw again
            continue
    else:
        box = canvas_box(page, canvas)
        raise AssertionError(f"the stroke {points} on the canvas at {box} never reached the app")
    wait_for_app(page)
    return seen_image(page, app_url)[1]


def canvas_box(page, canvas) -> dict:
    """The canvas' box in the viewport, scrolled into view first (strokes need the whole square on screen)."""
    canvas.evaluate("el => el.scrollIntoView({block: 'center'})")
    box = canvas.bounding_box()
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    return box


@pytest.mark.parametrize("screen", list(SCREENS))
def test_finger_strokes_reach_every_edge_and_a_digit_is_read(devices, app_url, screen):
    page = devices[SCREENS[screen][2]]
    if not page.url.endswith("/draw"):
        open_page(page, app_url, "draw")
    resize(page, screen)
    clear_canvas(page)
    canvas = page.locator(CANVAS)
    cdp = page.context.new_cdp_session(page)
    ink = 0.0
    for i, (edge, points) in enumerate(EDGE_STROKES.items()):
        seen = stroke_and_wait(page, cdp, canvas, points, app_url, tries=3 if i == 0 else 1)
        assert seen.sum() > ink, f"the {edge} stroke added nothing to what the network sees"
        ink = float(seen.sum())
    rows, cols = np.nonzero(seen > 0.2)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert 18 <= height <= 21 and abs(height - width) <= 1, (height, width)  # a square frame, all four sides
    assert seen[rows.min() + 4 : rows.max() - 3, cols.min() + 4 : cols.max() - 3].max() < 0.2  # hollow
    clear_canvas(page)
    for i, points in enumerate(SEVEN):
        stroke_and_wait(page, cdp, canvas, points, app_url, tries=3 if i == 0 else 1)
    headline = page.get_by_role("heading", level=3).filter(has_text=HEADLINE)
    expect(headline).to_have_text(re.compile(r"^(Not sure: maybe )?7 \("), timeout=15_000)
    wait_for_app(page)
    problems = page.evaluate(LAYOUT_PROBLEMS)  # with a prediction and the My digits form showing
    screenshot(page, f"screens-{screen}-seven")
    assert problems == [], problems
    assert_healthy(page)


def clear_canvas(page) -> None:
    """Press Clear (a new, empty canvas) unless the canvas is empty already."""
    hint = page.get_by_text("Draw a digit in the black square")
    if hint.count() == 0:
        replaced = page.locator(CANVAS).element_handle()
        page.get_by_role("button", name="Clear").click()
        page.wait_for_function("el => !el.isConnected", arg=replaced, timeout=15_000)
    expect(hint).to_be_visible(timeout=15_000)
    expect(page.locator(CANVAS)).to_be_visible()
    wait_for_app(page)
    page.wait_for_timeout(300)  # a new canvas sets up its touch handlers a moment after it appears
