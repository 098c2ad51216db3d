"""Take the README's pictures of the pages.

Starts the app on a free port with a fresh home (the Draw page uses the shipped default model), draws
a 7 with touch strokes and saves the phone and tablet views (docs/draw-phone.png, docs/draw-tablet.png).
``--readme`` also takes the desktop pictures at the top of the README: the playground after a short
CNN run (docs/training.png), the Draw page with a drawn 7 (docs/draw.png) and the explorer
(docs/explorer.png). ``--all`` saves every page at every screen size of the browser tests into
test-artifacts/, for looking at the layout. Needs the dev requirements and Chromium, as the browser
tests do:

    DIGIT_LAB_DATA=/path/to/data python docs/screenshots.py [--readme] [--all]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.conftest import ARTIFACTS, CANVAS, CHROMIUM, CHROMIUM_ARGS, AppServer, wait_for_app  # noqa: E402
from tests.browser.test_screens_browser import PAGES, SCREENS, SEVEN, touch_stroke  # noqa: E402

SCROLL_TO = """el => {
  el.scrollIntoView({block: 'start'});
  let box = el.parentNode.host || el.parentElement;
  while (box && !(box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY !== 'visible')) {
    box = box.parentElement || (box.parentNode && box.parentNode.host);
  }
  if (box) box.scrollBy(0, -150);
}"""
SHOTS = {"phone": ROOT / "docs" / "draw-phone.png", "tablet": ROOT / "docs" / "draw-tablet.png"}
README_SIZE = {"width": 1200, "height": 1000}
README_RUN = "training?layers=conv8x5,maxpool2,dense64&epochs=4&n=10000&batch=64&opt=adam&lr=0.002"


def open_page(page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    wait_for_app(page)
    page.locator("h1").first.wait_for(timeout=60_000)
    wait_for_app(page)


def draw_seven(page, url: str) -> None:
    """Open the Draw page and draw a 7 with two finger strokes; wait for the answer."""
    open_page(page, url, "draw")
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible(timeout=60_000)
    page.wait_for_timeout(500)
    cdp = page.context.new_cdp_session(page)
    canvas.evaluate("el => el.scrollIntoView({block: 'center'})")
    for points in SEVEN:
        touch_stroke(cdp, canvas.bounding_box(), points)
        page.wait_for_timeout(800)
        wait_for_app(page)
    expect(page.get_by_role("heading", level=3)).to_have_count(1, timeout=15_000)
    wait_for_app(page)


def readme_shots(browser, url: str) -> None:
    """The desktop pictures at the top of the README: playground after a short CNN run, Draw, explorer."""
    context = browser.new_context(viewport=README_SIZE)
    page = context.new_page()
    open_page(page, url, "")
    open_page(page, url, README_RUN)
    page.get_by_role("button", name="Start a new run").click()
    expect(page.get_by_text(re.compile(r"Finished: 4 epochs"))).to_be_visible(timeout=300_000)
    wait_for_app(page)
    page.mouse.move(5, 500)  # no tooltip over the page
    page.wait_for_timeout(1500)  # the charts' last redraw
    page.screenshot(path=str(ROOT / "docs" / "training.png"))
    draw_seven(page, url)
    page.get_by_role("combobox", name="Model").evaluate(SCROLL_TO)  # the picker, canvas and answer
    page.mouse.move(5, 500)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ROOT / "docs" / "draw.png"))
    open_page(page, url, "explorer")
    page.wait_for_timeout(2000)
    page.screenshot(path=str(ROOT / "docs" / "explorer.png"))
    print("saved docs/training.png, docs/draw.png, docs/explorer.png")
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="also the README's desktop pictures")
    parser.add_argument("--all", action="store_true", help="every page at every size into test-artifacts/")
    args = parser.parse_args()
    server = AppServer(Path(tempfile.mkdtemp(prefix="digit-lab-shots-")))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            if args.readme:
                readme_shots(browser, server.url)
            for screen, (width, height, handheld) in SCREENS.items():
                if screen not in SHOTS and not args.all:
                    continue
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    has_touch=True,
                    is_mobile=handheld,
                    device_scale_factor=2 if screen == "phone" else 1,
                )
                page = context.new_page()
                open_page(page, server.url, "")
                if args.all:
                    ARTIFACTS.mkdir(exist_ok=True)
                    for name, path in PAGES.items():
                        open_page(page, server.url, path)
                        page.wait_for_timeout(1000)
                        page.screenshot(path=str(ARTIFACTS / f"look-{screen}-{name}.png"))
                draw_seven(page, server.url)
                page.locator(CANVAS).evaluate(SCROLL_TO)  # the canvas with its slider and toolbar above
                page.wait_for_timeout(500)
                target = SHOTS.get(screen, ARTIFACTS / f"look-{screen}-draw-seven.png")
                page.screenshot(path=str(target))
                print(f"saved {target}")
                context.close()
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
