"""Page timings a person feels, measured in headless Chromium against ``streamlit run app.py``.

Each figure runs from the user's action (navigation, click, mouse-up) to the end of the script run it
causes, with the changed element on screen. A small observer in the page stamps every change of
Streamlit's ``data-test-script-state`` attribute with ``performance.now()``, so an action's time is
"the first idle stamp after a running stamp that follows the action".

Usage (from the repository root; DIGIT_LAB_DATA must hold mnist/ and fashion-mnist/)::

    python benchmarks/page_timings.py --repeat 3 --out test-artifacts/page-timings.json

Each repeat starts a fresh server (an empty DIGIT_LAB_HOME holding a small model for the Draw page),
so "cold" means a new server process: nothing imported, nothing cached.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nn_core.config import ModelConfig  # noqa: E402
from nn_core.network import build_network  # noqa: E402
from nn_core.store.model_file import SavedModel, save_model  # noqa: E402
from tests.browser.conftest import CANVAS, CHROMIUM, CHROMIUM_ARGS, AppServer  # noqa: E402

OBSERVER = """() => {
  window.__stamps = [];
  const watch = () => {
    const app = document.querySelector('[data-testid=stApp]');
    if (!app) { setTimeout(watch, 5); return; }
    const note = () => window.__stamps.push([performance.now(), app.getAttribute('data-test-script-state')]);
    note();
    new MutationObserver(note).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
  };
  watch();
}"""
IDLE_AFTER = """(t0) => {
  const s = window.__stamps || [];
  const i = s.findIndex(([t, state]) => t >= t0 && state === 'running');
  if (i < 0) return null;
  const j = s.findIndex(([t, state], k) => k > i && state === 'notRunning');
  return j < 0 ? null : s[j][0];
}"""


def _now(page) -> float:
    return page.evaluate("() => performance.now()")


def _timed(page, action, ready_selector: str | None = None, timeout: float = 60.0) -> float:
    """Seconds from ``action()`` to the end of the script run it started (and ``ready_selector`` shown)."""
    t0 = _now(page)
    action()
    deadline = time.monotonic() + timeout
    while True:
        end = page.evaluate(IDLE_AFTER, t0)
        if end is not None:
            break
        if time.monotonic() > deadline:  # the action started no run (a lost click): no sample
            print("  no script run seen after the action; sample dropped", flush=True)
            return float("nan")
        time.sleep(0.02)
    if ready_selector:
        page.locator(ready_selector).first.wait_for(timeout=timeout * 1000)
        end = max(end, _now(page))
    return (end - t0) / 1000


def _goto(page, url: str, selector: str, timeout: float = 120.0) -> float:
    """Seconds from navigation to ``selector`` visible and the script idle."""
    start = time.perf_counter()
    page.goto(url)
    page.evaluate(OBSERVER)
    page.locator(selector).first.wait_for(timeout=timeout * 1000)
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=stApp]');"
        " return a && a.getAttribute('data-test-script-state') === 'notRunning'; }",
        timeout=timeout * 1000,
    )
    return time.perf_counter() - start


def _first_paint(page, url: str, selector: str, timeout: float = 120.0) -> float:
    """Seconds from navigation to ``selector`` visible (the script may still be running)."""
    start = time.perf_counter()
    page.goto(url)
    page.locator(selector).first.wait_for(timeout=timeout * 1000)
    return time.perf_counter() - start


def _stroke(page, canvas, points) -> None:
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    page.mouse.up()


def measure_explorer(browser, url: str) -> dict[str, float]:
    out = {}
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.evaluate(OBSERVER)
    page.locator("h1").first.wait_for(timeout=120_000)
    out["explorer: first load (cold server)"] = _goto(page, f"{url}/explorer", "[data-testid=stMetric]")
    fashion = page.get_by_role("radio", name="Fashion-MNIST")
    out["explorer: switch to Fashion-MNIST (first time)"] = _timed(page, lambda: fashion.check(force=True))
    mnist = page.get_by_role("radio", name="MNIST", exact=True)
    out["explorer: switch back to MNIST (seen)"] = _timed(page, lambda: mnist.check(force=True))
    out["explorer: switch to Fashion-MNIST (seen)"] = _timed(page, lambda: fashion.check(force=True))
    out["explorer: switch back to MNIST (seen) 2"] = _timed(page, lambda: mnist.check(force=True))
    tab = page.get_by_role("tab", name="PCA map")
    out["explorer: open PCA map (first time)"] = _timed(
        page, lambda: tab.click(), "[data-testid=stPlotlyChart] canvas"
    )
    sample = page.get_by_role("tab", name="Samples")
    out["explorer: open Samples"] = _timed(page, lambda: sample.click())
    out["explorer: open PCA map (seen)"] = _timed(
        page, lambda: tab.click(), "[data-testid=stPlotlyChart] canvas"
    )
    chart = page.locator("[data-testid=stPlotlyChart]").first
    box = chart.bounding_box()
    clicks = []
    for dx, dy in ((0.45, 0.5), (0.55, 0.45), (0.5, 0.55)):
        clicks.append(
            _timed(
                page,
                lambda dx=dx, dy=dy: page.mouse.click(
                    box["x"] + box["width"] * dx, box["y"] + box["height"] * dy
                ),
            )
        )
    out["explorer: PCA click (median of 3)"] = statistics.median(
        [c for c in clicks if c == c] or [float("nan")]
    )
    out["explorer: open again (warm server)"] = _goto(page, f"{url}/explorer", "[data-testid=stMetric]")
    page.context.close()
    return out


def measure_draw(browser, url: str) -> dict[str, float]:
    out = {}
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.locator("h1").first.wait_for(timeout=120_000)
    out["draw: open page"] = _goto(page, f"{url}/draw", CANVAS)
    canvas = page.locator(CANVAS)
    strokes = [
        [(140, 45), (143, 240)],
        [(75, 55), (205, 55)],
        [(205, 55), (120, 240)],
        [(60, 150), (220, 150)],
    ]
    times = [
        _timed(page, lambda s=s: _stroke(page, canvas, s), "[data-testid=stPlotlyChart]") for s in strokes
    ]
    out["draw: first stroke to probabilities"] = times[0]
    out["draw: later strokes (median of 3)"] = statistics.median(times[1:])
    page.context.close()
    return out


def measure_training(browser, url: str) -> dict[str, float]:
    """First paint of the Training page while a run of the same owner trains (a second tab)."""
    out = {}
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(url)
    page.locator("h1").first.wait_for(timeout=120_000)
    out["training: open page (no runs)"] = _goto(
        page, f"{url}/training?n=60000&epochs=30&hidden=512-256", "[data-testid=stButton]"
    )
    start = page.get_by_role("button", name="Start a new run")
    start.click()
    page.get_by_text(re.compile(r"Epoch 1 of 30")).first.wait_for(timeout=60_000)
    owner = page.evaluate("() => new URL(location.href).searchParams.get('owner')")
    other = context.new_page()
    other.goto(url)
    other.locator("h1").first.wait_for(timeout=120_000)
    firsts, idles = [], []
    for _ in range(3):
        firsts.append(_first_paint(other, f"{url}/training?owner={owner}", "[data-testid=stNumberInput]"))
        other.wait_for_function(
            "() => { const a = document.querySelector('[data-testid=stApp]');"
            " return a && a.getAttribute('data-test-script-state') === 'notRunning'; }",
            timeout=120_000,
        )
        idles.append(_goto(other, f"{url}/training?owner={owner}", "[data-testid=stNumberInput]"))
    out["training: first widget while a run trains (median of 3)"] = statistics.median(firsts)
    out["training: whole page while a run trains (median of 3)"] = statistics.median(idles)
    page.get_by_role("button", name="Stop").click()
    context.close()
    return out


import re  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "test-artifacts" / "page-timings.json")
    parser.add_argument("--only", choices=("explorer", "draw", "training"), action="append")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    runs: list[dict[str, float]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(args.repeat):
            home = Path(tempfile.mkdtemp(prefix="digit-lab-bench-"))
            network = build_network(
                ModelConfig(hidden=(128,), activations=("relu",)), np.random.default_rng(0)
            )
            save_model(home / "models" / "bench.npz", SavedModel(network))
            result: dict[str, float] = {}
            for name, measure in (
                ("explorer", measure_explorer),
                ("draw", measure_draw),
                ("training", measure_training),
            ):
                if args.only and name not in args.only:
                    continue
                server = AppServer(home)  # a fresh server per page: each page's first visit is cold
                try:
                    result.update(measure(browser, server.url))
                finally:
                    server.stop()
            runs.append(result)
            print(
                f"repeat {i + 1}: " + json.dumps({k: round(v, 2) for k, v in result.items()}, indent=1),
                flush=True,
            )
        browser.close()
    summary = {}
    for key in runs[0]:
        samples = [r[key] for r in runs if key in r and r[key] == r[key]]  # NaN: a dropped sample
        if samples:
            summary[key] = {
                "n": len(samples),
                "median": round(statistics.median(samples), 2),
                "min": round(min(samples), 2),
                "max": round(max(samples), 2),
            }
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"runs": runs, "summary": summary}, indent=1))
    for key, s in summary.items():
        print(f"| {key} | {s['median']:.2f} s | {s['min']:.2f}-{s['max']:.2f} s | {s['n']} |")


if __name__ == "__main__":
    main()
