"""Draw & predict in a real browser: mouse strokes on the canvas, Clear and Undo, photo upload, My digits
(label buttons, a reload, an owner of their own), the time from mouse-up to the updated chart, and a fresh
server with no data at all that predicts at once with the shipped default model.

The tests predict with the default model that ships in the package; the look-inside test adds a small
dense network (the ``fast`` preset on part of MNIST) to the shared server's home and picks it.
"""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from nn_core.experiment import load_training_data, make_trainer
from nn_core.presets import get_preset
from nn_core.store.model_file import SavedModel, save_model
from nn_core.store.my_digits import load_digits
from tests.browser.conftest import CANVAS, AppServer, assert_healthy, screenshot, wait_for_app

pytestmark = pytest.mark.browser

ONE = [(140, 45), (143, 240)]  # canvas pixels: a vertical stroke
SEVEN_BAR = [(75, 55), (205, 55)]
SEVEN_LEG = [(205, 55), (120, 240)]
HEADLINE = re.compile(r"^(Not sure: maybe )?\S+ \(\d+%( sure)?\)$")
PAGE_LOAD_BUDGET = 8.0  # seconds from opening the Draw page to a canvas ready to draw on (aim: 3-4 s)


@pytest.fixture(scope="module")
def mlp_in_home(app_server, mnist_root) -> Path:
    """A small dense network in the shared server's home (for the unit views of "Look inside")."""
    preset = get_preset("fast")
    config = dataclasses.replace(preset.train, epochs=2, train_size=12_000)
    trainer = make_trainer(preset.model, config, load_training_data(config, root=mnist_root))
    list(trainer)
    return save_model(app_server.home / "models" / "fast-mlp.npz", SavedModel(trainer.network, config))


def open_draw_page(page, url: str) -> object:
    """Open the app's root first (a server's first deep link skips the router), then the Draw page."""
    page.goto(url)
    wait_for_app(page)
    page.goto(f"{url}/draw")
    canvas = page.locator(CANVAS)
    expect(canvas).to_be_visible(timeout=60_000)
    wait_for_app(page)
    return canvas


def stroke(page, canvas, points, steps: int = 12) -> None:
    deadline = time.monotonic() + 30
    while (box := canvas.bounding_box()) is None:  # a rerun (a model switch) may be mounting it again
        assert time.monotonic() < deadline, "the canvas never settled"
        page.wait_for_timeout(100)
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=steps)
    page.mouse.up()


def scroll_to_last(page, locator, tries: int = 10) -> None:
    """Scroll the last match into view, again if a rerun replaced it meanwhile (the diagram redraws)."""
    for _ in range(tries - 1):
        try:
            locator.last.scroll_into_view_if_needed(timeout=5_000)
            return
        except PlaywrightError:
            page.wait_for_timeout(300)
    locator.last.scroll_into_view_if_needed(timeout=5_000)


def first_stroke(page, canvas, points) -> None:
    """The first stroke on a canvas mounted a moment ago, drawn again if the canvas missed it.

    Fabric sets up its mouse handlers a little after the canvas appears; a person never draws
    that fast, a test can. Any answer from the app (a headline) shows the stroke arrived.
    """
    for _ in range(3):
        stroke(page, canvas, points)
        try:
            expect(headline(page)).to_be_visible(timeout=5_000)
            wait_for_app(page)
            return
        except AssertionError:
            continue
    raise AssertionError("the canvas never reported a stroke")


def headline(page) -> object:
    return page.get_by_role("heading", level=3).filter(has_text=HEADLINE)


def expect_top_class(page, digit: str) -> None:
    expect(headline(page)).to_have_text(re.compile(rf"^(Not sure: maybe )?{digit} \("), timeout=15_000)
    wait_for_app(page)


def hint(page) -> object:
    return page.get_by_text("Draw a digit in the black square")


def test_draw_a_one_and_a_seven_clear_and_undo(page, app_url):
    canvas = open_draw_page(page, app_url)
    expect(hint(page)).to_be_visible()
    expect(page.locator(".st-key-draw_probabilities_empty [data-testid=stPlotlyChart]")).to_have_count(
        1
    )  # empty, drawn early
    stroke(page, canvas, ONE)
    expect_top_class(page, "1")
    expect(page.locator("[data-testid=stPlotlyChart] g.point").first).to_be_attached()
    screenshot(page, "draw-one")
    replaced = canvas.element_handle()
    page.get_by_role("button", name="Clear").click()  # Clear mounts a new, empty canvas
    page.wait_for_function("el => !el.isConnected", arg=replaced, timeout=15_000)
    expect(hint(page)).to_be_visible(timeout=15_000)
    expect(canvas).to_be_visible()
    wait_for_app(page)
    first_stroke(page, canvas, SEVEN_BAR)
    stroke(page, canvas, SEVEN_LEG)
    expect_top_class(page, "7")
    screenshot(page, "draw-seven")
    page.get_by_role("button", name="Reset canvas & history").click()  # the canvas toolbar's own reset
    expect(hint(page)).to_be_visible(timeout=15_000)
    wait_for_app(page)
    first_stroke(page, canvas, ONE)
    expect_top_class(page, "1")
    canvas.hover()
    page.get_by_role("button", name="Undo").click()  # the toolbar's undo takes the only stroke away
    expect(hint(page)).to_be_visible(timeout=15_000)
    assert_healthy(page)


def test_look_inside_shows_activations_and_units(page, app_url, mlp_in_home):
    canvas = open_draw_page(page, app_url)
    page.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name=re.compile(r"^fast-mlp · 784-384-10")).click()
    wait_for_app(page)
    canvas = page.locator(CANVAS)
    first_stroke(page, canvas, SEVEN_BAR)
    stroke(page, canvas, SEVEN_LEG)
    expect(headline(page)).to_be_visible(timeout=15_000)
    wait_for_app(page)
    page.get_by_text("Look inside the network").click()  # the toggle
    charts = page.locator("[data-testid=stPlotlyChart]")
    expect(charts).to_have_count(4, timeout=10_000)  # probabilities, network diagram, activations, units
    wait_for_app(page)  # the toggle's rerun may still replace the charts
    scroll_to_last(page, charts)  # charts below the fold are drawn when scrolled to
    expect(page.get_by_text(re.compile(r"^Layer 1: \d+ relu units$"))).to_be_visible(timeout=10_000)
    expect(page.get_by_text(re.compile(r"^unit \d+: \+\d"))).to_have_count(8)
    scroll_to_last(page, charts)
    screenshot(page, "draw-look-inside")
    assert_healthy(page)


def _photo_of_a_seven(size=(480, 640)) -> bytes:
    """A JPEG 'photo': a dark pen seven on unevenly lit, slightly noisy paper."""
    w, h = size
    shade = (
        np.linspace(215, 245, w, dtype=np.float32)[None, :] + np.linspace(0, 10, h, dtype=np.float32)[:, None]
    )
    noise = np.random.default_rng(0).normal(0, 3, size=(h, w)).astype(np.float32)
    paper = Image.fromarray(np.clip(shade + noise, 0, 255).astype(np.uint8))
    ImageDraw.Draw(paper).line([(130, 170), (350, 160), (220, 500)], fill=40, width=22, joint="curve")
    buffer = io.BytesIO()
    paper.filter(ImageFilter.GaussianBlur(1.2)).convert("RGB").save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def test_upload_a_photo_and_a_wrong_file(page, app_url, tmp_path):
    open_draw_page(page, app_url)
    page.get_by_role("radio", name="Upload a photo").check(force=True)
    uploader = page.locator("[data-testid=stFileUploader]").filter(has_text="Photo or scan of one digit")
    upload = uploader.locator("input[type=file]")
    expect(upload).to_be_attached(timeout=10_000)
    photo = tmp_path / "seven.jpg"
    photo.write_bytes(_photo_of_a_seven())
    upload.set_input_files(str(photo))
    expect_top_class(page, "7")
    expect(page.get_by_text("Your image")).to_be_visible()
    expect(page.locator("[data-testid=stPlotlyChart] g.point").first).to_be_attached(timeout=10_000)
    screenshot(page, "draw-upload")
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"shopping list: milk, bread" * 20)
    upload.set_input_files(str(fake))
    expect(page.get_by_text("not an image Pillow can read")).to_be_visible(timeout=15_000)
    assert headline(page).count() == 0
    assert_healthy(page)


def _owner(page) -> str:
    return parse_qs(urlparse(page.url).query)["owner"][0]


def test_label_buttons_collect_digits_kept_for_their_owner_across_a_reload(
    page, app_url, app_server, browser
):
    canvas = open_draw_page(page, app_url)
    owner = _owner(page)
    store = app_server.home / "digits" / f"{owner}.npz"
    first_stroke(page, canvas, ONE)
    expect_top_class(page, "1")
    page.get_by_role("button", name="1", exact=True).click()  # the label: added at once
    expect(
        page.get_by_text(re.compile(r"^Added a 1 to My digits \(1 in all\)\. Now draw a 2\."))
    ).to_be_visible(timeout=15_000)
    expect(hint(page)).to_be_visible(timeout=15_000)  # a fresh canvas for the next digit
    wait_for_app(page)
    canvas = page.locator(CANVAS)
    first_stroke(page, canvas, SEVEN_BAR)
    stroke(page, canvas, SEVEN_LEG)
    expect_top_class(page, "7")
    page.get_by_role("button", name="7", exact=True).click()
    expect(page.get_by_text(re.compile(r"^Added a 7 to My digits \(2 in all\)"))).to_be_visible(
        timeout=15_000
    )
    digits = load_digits(store)
    assert digits.labels.tolist() == [1, 7]
    assert str(app_server.home) not in page.content()  # no server path on the page
    page.reload()
    expect(page.locator(CANVAS)).to_be_visible(timeout=60_000)
    wait_for_app(page)
    assert _owner(page) == owner
    caption = f"#{int(digits.ids[0])}: 1"
    thumbnail = page.get_by_text(caption, exact=True)  # the thumbnail's caption
    expect(thumbnail).to_be_attached(timeout=15_000)
    thumbnail.scroll_into_view_if_needed()
    expect(thumbnail).to_be_visible()
    screenshot(page, "draw-my-digits")
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()  # another person
    try:
        open_draw_page(other, app_url)
        assert _owner(other) != owner
        expect(other.get_by_text(re.compile(r"^No digits yet"))).to_be_visible(timeout=15_000)
        assert other.get_by_text(caption, exact=True).count() == 0
    finally:
        other.context.close()
    chooser = page.get_by_role("combobox", name="Delete entries")  # and it can be deleted again
    chooser.click()
    chooser.press_sequentially(caption)
    expect(page.get_by_role("option", name=caption)).to_be_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    delete = page.get_by_role("button", name="Delete", exact=True)
    expect(delete).to_be_enabled(timeout=15_000)
    delete.click()
    expect(page.get_by_text(re.compile(r"^Deleted 1 digit"))).to_be_visible(timeout=15_000)
    assert load_digits(store).labels.tolist() == [7]
    assert_healthy(page)


ARM_TIMER = """() => {
  window.drawLatency = null;
  window.drawMouseUp = null;
  const chart = () => document.querySelector('[data-testid=stPlotlyChart]');
  const before = chart() ? chart().innerHTML : '';
  window.addEventListener('mouseup', () => { window.drawMouseUp = performance.now(); }, {once: true, capture: true});
  const observer = new MutationObserver(() => {
    const c = chart();
    if (window.drawMouseUp !== null && c && c.querySelector('g.point') && c.innerHTML !== before) {
      window.drawLatency = performance.now() - window.drawMouseUp;
      observer.disconnect();
    }
  });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def test_chart_updates_quickly_after_each_stroke(page, app_url):
    """Mouse-up to the changed probability chart, measured in the page (median of 10 strokes)."""
    canvas = open_draw_page(page, app_url)
    stroke(page, canvas, ONE)
    expect_top_class(page, "1")
    undo = page.get_by_role("button", name="Undo")
    latencies = []
    for i in range(10):
        page.evaluate(ARM_TIMER)
        lean = -50 + 11 * i  # a different second stroke each time, so the chart has to change
        stroke(page, canvas, [(100, 60), (180, 60), (140 + lean, 200)])
        page.wait_for_function("() => window.drawLatency !== null", timeout=15_000)
        latencies.append(page.evaluate("window.drawLatency"))
        wait_for_app(page)
        canvas.hover()
        undo.click()  # back to the "1"
        wait_for_app(page)
        page.wait_for_timeout(200)
    median = statistics.median(latencies)
    print(
        f"mouse-up to updated chart: median {median:.0f} ms, range {min(latencies):.0f}-{max(latencies):.0f} ms"
    )
    assert median < 1000, latencies  # the aim is 400 ms; a loaded CI machine gets some slack
    assert_healthy(page)


def test_a_fresh_server_without_data_predicts_at_once(page, tmp_path_factory, monkeypatch):
    """Empty home, empty data folder: the shipped default model answers a drawn 7 straight away."""
    empty_data = tmp_path_factory.mktemp("no-data")
    monkeypatch.setenv("DIGIT_LAB_DATA", str(empty_data))
    server = AppServer(tmp_path_factory.mktemp("fresh-home"))
    try:
        page.goto(server.url)
        wait_for_app(page)
        start = time.perf_counter()
        page.goto(f"{server.url}/draw")
        canvas = page.locator(CANVAS)
        expect(canvas).to_be_visible(timeout=60_000)
        expect(hint(page)).to_be_visible(timeout=60_000)
        wait_for_app(page)
        seconds = time.perf_counter() - start
        print(f"fresh server: Draw page ready to draw on in {seconds:.2f} s")
        expect(page.get_by_role("combobox", name="Model")).to_match_aria_snapshot(
            '- combobox "Model": /Default model · CNN .* · MNIST · \\d+\\.\\d% test/'
        )
        first_stroke(page, canvas, SEVEN_BAR)
        stroke(page, canvas, SEVEN_LEG)
        expect_top_class(page, "7")
        screenshot(page, "draw-fresh-server")
        assert list(empty_data.iterdir()) == []  # nothing downloaded
        assert not (server.home / "models").exists()  # nothing trained
        assert seconds < PAGE_LOAD_BUDGET, seconds
        assert_healthy(page)
    finally:
        server.stop()
        shutil.rmtree(server.home, ignore_errors=True)
