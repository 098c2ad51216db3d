"""The Training playground in Chromium: live charts, pause/resume/stop, reload, shared URLs, two users.

Timings measured here (click to first chart point, epoch end to chart update) are printed and
written to ``test-artifacts/training-timings.json``; screenshots of each step go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import expect

from nn_core.store.model_file import load_model
from tests.browser.conftest import ARTIFACTS, PageErrors, assert_healthy, screenshot, wait_for_app

pytestmark = pytest.mark.browser

# Online learning on 3,600 images: 0.6-1 s per epoch on 2 cores, bound by Python rather than BLAS,
# so slower than the page's half-second polling (each point can be seen arriving) and slow enough
# to click between epochs, yet light on the CPU. (With 1,800 images a fast machine finished an epoch
# every 0.3 s and the chart could jump by several points at once.)
SLOW = {"n": "4000", "hidden": "64", "act": "relu", "batch": "1", "lr": "0.005", "opt": "momentum"}


def new_page(browser):
    """A page in a fresh context (another user), recording console errors like the ``page`` fixture."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.errors = PageErrors()
    page.on("pageerror", lambda err: page.errors.append(f"pageerror: {err}"))
    page.on("console", page.errors.record_console)
    return context, page


def open_playground(page, app_url: str, params: dict[str, str] | None = None) -> None:
    page.goto(app_url)  # through the router first: a fresh server's very first page must be app.py
    wait_for_app(page)
    page.goto(f"{app_url}/training?{urlencode(params or {})}")
    expect(page.get_by_role("button", name="Start a new run")).to_be_visible(timeout=30_000)
    wait_for_app(page)


def owner_of(page) -> str:
    return parse_qs(urlparse(page.url).query)["owner"][0]


def loss_points(page):
    """The markers of the training-loss trace in the live loss chart."""
    return page.locator(".st-key-train_live_loss .scatterlayer .trace").first.locator("path.point")


def set_number(page, label: str, value: int) -> None:
    field = page.get_by_role("spinbutton", name=label)
    field.fill(str(value))
    field.press("Enter")
    expect(field).to_have_value(str(value))
    wait_for_app(page)


def run_file(home, owner: str, name: str) -> dict:
    for path in (home / "runs").glob("*/run.json"):
        data = json.loads(path.read_text())
        if data["owner"] == owner and data["name"] == name:
            return data
    raise AssertionError(f"no run {name} of {owner} on disk")


def tall_screenshot(page, name: str, height: int = 2600) -> None:
    """Streamlit scrolls inside the page, so a full-page shot is one viewport: make the viewport tall."""
    page.mouse.move(1, 1)  # no tooltip over the page
    page.set_viewport_size({"width": 1400, "height": height})
    time.sleep(0.6)
    screenshot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1000})


def status_text(page):
    return page.get_by_text(re.compile(r"(Paused|Finished|Stopped)[ :]"))


def test_train_live_pause_resume_stop_and_reload(page, app_url, app_server):
    open_playground(page, app_url, SLOW)
    set_number(page, "Epochs", 5)  # a small config, set through the controls
    screenshot(page, "training-01-settings")

    clicked = time.time()
    page.get_by_role("button", name="Start a new run").click()
    seen: list[tuple[float, int]] = []  # (wall time, points on the chart)
    deadline = time.monotonic() + 90
    while (not seen or seen[-1][1] < 5) and time.monotonic() < deadline:
        n = loss_points(page).count()
        if not seen or n != seen[-1][1]:
            seen.append((time.time(), n))
            if n == 1:
                screenshot(page, "training-02-first-epoch")
        time.sleep(0.03)
    counts = [n for _, n in seen]
    expect(page.get_by_text("Finished: 5 epochs.")).to_be_visible(timeout=30_000)
    record = run_file(app_server.home, owner_of(page), "Run 1")
    first_seen = {n: t for t, n in reversed(seen)}
    latencies = [first_seen[k] - record["epoch_ended_at"][k - 1] for k in range(1, 6) if k in first_seen]
    timings = {
        "click_to_first_point_s": round(first_seen.get(1, seen[-1][0]) - clicked, 3),
        "epoch_end_to_chart_s": [round(x, 3) for x in latencies],
        "epoch_seconds": [round(r["seconds"], 3) for r in record["history"]],
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "training-timings.json").write_text(json.dumps(timings, indent=1))
    print("timings", timings, "points seen", counts)
    assert counts[-1] == 5, counts
    assert counts == sorted(counts) and len({n for n in counts if n > 0}) >= 3, (
        f"the chart must grow epoch by epoch: {counts}"
    )
    assert [r["epoch"] for r in record["history"]] == [1, 2, 3, 4, 5] and record["status"] == "finished"
    assert all(-0.05 < x < 5 for x in latencies), timings
    wait_for_app(page)
    tall_screenshot(page, "training-03-finished")

    # Clicking a confusion-matrix cell shows that cell's test images.
    # (Plotly markers take no pointer events themselves: click where the cell is, as a person does.)
    cell = page.locator("[class*=st-key-train_confusion_] .scatterlayer path.point").nth(
        0 * 10 + 9
    )  # true 0, predicted 9
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    chooser = page.get_by_role("combobox", name="Misclassified cell")
    expect(chooser).to_have_value("true 0 → predicted 9", timeout=15_000)
    wait_for_app(page)
    screenshot(page, "training-03b-confusion-cell")

    # A longer run: pause, resume, stop.
    set_number(page, "Epochs", 40)
    page.get_by_role("button", name="Start a new run").click()
    expect(loss_points(page)).not_to_have_count(0, timeout=60_000)
    page.get_by_role("button", name="Pause").click()
    expect(status_text(page)).to_have_text(re.compile(r"Paused after epoch \d+ of 40"), timeout=30_000)
    paused_at = int(re.search(r"epoch (\d+)", status_text(page).inner_text()).group(1))
    expect(loss_points(page)).to_have_count(paused_at)
    time.sleep(1.5)  # no epoch may run while paused
    assert loss_points(page).count() == paused_at
    paused = run_file(app_server.home, owner_of(page), "Run 2")
    assert paused["status"] == "paused" and len(paused["history"]) == paused_at
    screenshot(page, "training-04-paused")
    page.get_by_role("button", name="Resume").click()
    expect(loss_points(page)).not_to_have_count(paused_at, timeout=30_000)
    page.get_by_role("button", name="Stop").click()
    expect(status_text(page)).to_have_text(re.compile(r"Stopped after epoch \d+"), timeout=30_000)
    stopped = run_file(app_server.home, owner_of(page), "Run 2")
    assert stopped["status"] == "stopped" and paused_at < len(stopped["history"]) < 40
    screenshot(page, "training-05-stopped")

    # A reload is a new session: the owner id in the URL finds both runs again.
    page.reload()
    expect(status_text(page)).to_have_text(re.compile(r"Stopped after epoch"), timeout=30_000)
    wait_for_app(page)
    selector = page.get_by_role("combobox", name=re.compile("^Run"))
    selector.click()
    options = page.get_by_role("option")
    expect(options).to_have_count(2)
    expect(options.filter(has_text="Run 1")).to_have_count(1)
    page.keyboard.press("Escape")
    screenshot(page, "training-06-after-reload")

    # Download the model, then upload it back (a new run) and a damaged file (a clear message).
    page.get_by_role("tab", name="Files and sharing").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download model (.npz)").click()
    model_bytes = download.value.path().read_bytes()
    saved = load_model(model_bytes)
    assert len(saved.history) == len(stopped["history"])
    uploader = page.locator("[data-testid=stFileUploaderDropzoneInput]")
    uploader.set_input_files(
        files=[{"name": "junk.npz", "mimeType": "application/octet-stream", "buffer": b"not a model"}]
    )
    expect(page.get_by_text(re.compile("junk.npz was not added"))).to_be_visible(timeout=30_000)
    wait_for_app(page)  # a file set while the previous upload's rerun still runs can be dropped
    uploader.set_input_files(
        files=[{"name": "mine.npz", "mimeType": "application/octet-stream", "buffer": model_bytes}]
    )
    expect(page.get_by_text("mine.npz was added as Run 3.")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    tall_screenshot(page, "training-06b-uploaded")
    assert run_file(app_server.home, owner_of(page), "Run 3")["source"] == "uploaded"
    page.get_by_role("tab", name="Compare runs").click()
    expect(page.locator(".st-key-train_compare_chart .scatterlayer .trace")).to_have_count(3)
    tall_screenshot(page, "training-06c-compare")
    assert_healthy(page)


def test_a_shared_link_restores_the_same_controls(browser, app_url):
    wanted = {"hidden": "64-32", "act": "tanh-relu", "lr": "0.003", "opt": "adam", "seed": "42", "n": "5000"}
    first, page_a = new_page(browser)
    second, page_b = new_page(browser)
    try:
        open_playground(page_a, app_url, wanted)
        page_a.get_by_text("Share these settings").click()
        link = page_a.locator("[data-testid=stCode] code").last.inner_text().strip()
        assert "owner=" not in link and "seed=42" in link
        page_b.goto(app_url)
        wait_for_app(page_b)
        page_b.goto(link)
        expect(page_b.get_by_role("button", name="Start a new run")).to_be_visible(timeout=30_000)
        wait_for_app(page_b)
        for row, value in [(0, "64"), (1, "32")]:  # each layer is a row of the layer builder
            width = page_b.locator(f".st-key-train_row_{row}").get_by_role("spinbutton", name="Width")
            expect(width).to_have_value(value)
        expect(page_b.get_by_role("spinbutton", name="Seed")).to_have_value("42")
        expect(page_b.get_by_text("0.003").first).to_be_visible()
        expect(page_b.get_by_role("combobox", name="Optimizer")).to_have_value("Adam")
        row = page_b.locator(".st-key-train_row_0")
        expect(row.get_by_role("combobox", name="Activation")).to_have_value("tanh")
        assert owner_of(page_b) != owner_of(page_a)
        params_b = parse_qs(urlparse(page_b.url).query)
        assert params_b["seed"] == ["42"] and params_b["hidden"] == ["64-32"]
        screenshot(page_b, "training-07-shared-link")
        assert_healthy(page_a)
        assert_healthy(page_b)
    finally:
        first.close()
        second.close()


def test_two_browsers_training_at_once_stay_separate(browser, app_url, app_server):
    contexts, pages = zip(*(new_page(browser) for _ in range(2)), strict=True)
    try:
        for seed, page in enumerate(pages, start=1):
            open_playground(page, app_url, {**SLOW, "epochs": "3", "seed": str(seed)})
        for page in pages:
            page.get_by_role("button", name="Start a new run").click()
        for page in pages:
            expect(loss_points(page)).not_to_have_count(0, timeout=60_000)
        for page in pages:
            expect(page.get_by_text("Finished: 3 epochs.")).to_be_visible(timeout=90_000)
            wait_for_app(page)
        owners = [owner_of(p) for p in pages]
        assert owners[0] != owners[1]
        for seed, (page, owner) in enumerate(zip(pages, owners, strict=True), start=1):
            page.get_by_role("combobox", name=re.compile("^Run")).click()
            options = page.get_by_role("option")
            expect(options).to_have_count(1)
            expect(options.first).to_contain_text(f"seed {seed}")
            page.keyboard.press("Escape")
            record = run_file(app_server.home, owner, "Run 1")
            assert record["train_config"]["seed"] == seed and len(record["history"]) == 3
            # both ran at the same time: each one's epochs interleave with the other's
        ends = [run_file(app_server.home, o, "Run 1")["epoch_ended_at"] for o in owners]
        assert ends[0][0] < ends[1][-1] and ends[1][0] < ends[0][-1], "the two runs did not overlap"
        screenshot(pages[1], "training-08-second-user")
        for page in pages:
            assert_healthy(page)
    finally:
        for ctx in contexts:
            ctx.close()
