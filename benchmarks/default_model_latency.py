"""What one drawing costs the Draw page with the shipped default model: preprocessing and prediction.

Run: ``python benchmarks/default_model_latency.py [--repeats 200]``. A 280x280 canvas drawing of a 7
is preprocessed (``preprocess_digit``) and predicted as the page does it (``ui.draw.predict.predict_digit``,
on one BLAS thread; also ``Network.predict_proba`` on all threads for comparison), each timed on its own; prints the first call (cold) and the median and 90th percentile of the repeats, in milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nn_core.images.preprocess import preprocess_digit  # noqa: E402
from nn_core.store.default_model import load_default_model  # noqa: E402
from ui.draw.predict import predict_digit  # noqa: E402 - what the page calls (one BLAS thread)


def drawing_of_a_seven() -> np.ndarray:
    """A canvas image (280, 280, 4) uint8: a white seven on black, as the Draw page sends it."""
    im = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    ImageDraw.Draw(im).line([(75, 55), (205, 55), (120, 240)], fill=(255, 255, 255, 255), width=20)
    return np.asarray(im)


def timed(call, repeats: int) -> tuple[float, list[float]]:
    """(first call, later calls) in milliseconds."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - start))
    return times[0], times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    start = time.perf_counter()
    network = load_default_model().network
    print(f"load the default model: {1000 * (time.perf_counter() - start):.0f} ms")
    canvas = drawing_of_a_seven()
    digit = preprocess_digit(canvas, invert=False)
    print(f"prediction: {int(network.predict_proba(digit)[0].argmax())}")
    for name, call in (
        ("preprocess", lambda: preprocess_digit(canvas, invert=False)),
        ("predict", lambda: predict_digit(network, digit, 0.8)),
        ("both", lambda: predict_digit(network, preprocess_digit(canvas, invert=False), 0.8)),
        ("predict, all BLAS threads", lambda: network.predict_proba(digit)),
    ):
        first, rest = timed(call, args.repeats)
        p90 = statistics.quantiles(rest, n=10)[-1]
        print(f"{name:>10}: first {first:.1f} ms, median {statistics.median(rest):.2f} ms, 90% {p90:.2f} ms")


if __name__ == "__main__":
    main()
