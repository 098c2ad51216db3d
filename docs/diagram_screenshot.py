"""Take docs/diagram.png: the Draw page's network diagram for a drawn 7 (with ``--click``, the most
active neuron or feature map of the first layer clicked, beside its details).

Run from the repository root:

    python docs/diagram_screenshot.py [--model MODEL.npz] [--click] [--out docs/diagram.png] [--width 1400]

Without ``--model`` the Draw page uses the default model that ships with the app (a convolutional
network: its first layers are drawn as feature maps). The app runs under ``streamlit run`` with an
empty home (holding only ``--model`` when given), driven by Debian's Chromium, as in the browser tests.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from nn_core.store.model_file import load_model, save_model  # noqa: E402
from tests.browser.conftest import CANVAS, CHROMIUM, CHROMIUM_ARGS, AppServer, wait_for_app  # noqa: E402
from tests.browser.test_diagram_browser import brightest, neuron_point, read_diagram  # noqa: E402
from tests.browser.test_draw_browser import SEVEN_BAR, SEVEN_LEG, headline, stroke  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a model file (default: the shipped default model)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "diagram.png")
    parser.add_argument("--width", type=int, default=1400, help="browser window width in pixels")
    parser.add_argument("--click", action="store_true", help="click the first layer's most active neuron")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="digit-lab-shot-"))
    if args.model:
        save_model(home / "models" / args.model.name, load_model(args.model))
    server = AppServer(home)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": args.width, "height": 1000}, device_scale_factor=1)
            page.goto(server.url)
            wait_for_app(page)
            page.goto(f"{server.url}/draw")
            canvas = page.locator(CANVAS)
            expect(canvas).to_be_visible(timeout=60_000)
            wait_for_app(page)
            if args.model:  # the default model comes first in the picker
                page.get_by_role("combobox", name="Model").click()
                page.get_by_role("option").filter(has_text=f"{args.model.stem} · ").first.click()
                wait_for_app(page)
                canvas = page.locator(CANVAS)
            page.wait_for_timeout(1000)  # the canvas sets up its mouse handlers a moment after it appears
            stroke(page, canvas, SEVEN_BAR)
            stroke(page, canvas, SEVEN_LEG)
            expect(headline(page)).to_be_visible(timeout=15_000)  # a 7 at the usual width
            wait_for_app(page)
            box = page.locator(".st-key-draw_diagram_box")
            box.scroll_into_view_if_needed()
            read_diagram(page)  # the diagram is drawn
            if args.click:
                x, y = neuron_point(page, 1, brightest(read_diagram(page), 1))
                page.mouse.click(x, y)
                expect(page.get_by_text(re.compile(r"^Layer 1: (neuron|channel) \d+$"))).to_be_visible(
                    timeout=15_000
                )
                wait_for_app(page)
            page.mouse.move(5, 5)  # no hover label in the picture
            box.scroll_into_view_if_needed()
            page.wait_for_timeout(800)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            box.screenshot(path=str(args.out))
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
