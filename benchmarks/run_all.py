"""Run the engine benchmarks and (with ``--write``) refresh their tables in BENCHMARKS.md.

Parts: ``epoch`` (one training epoch, nn_core vs PyTorch), ``accuracy`` (the ``fast`` preset's
test accuracy per second of training, several seeds), ``predict`` (single-image latency) and
``best`` (the ``best`` preset trained to the end, about 3 minutes). The first three run by
default; add ``--best`` for the fourth. Results are merged into ``benchmarks/results.json``
(parts not rerun keep their last figures) and rendered from there.

From the repository root, in the benchmark venv (see BENCHMARKS.md):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE DIGIT_LAB_DATA=/path/to/data \\
        /work/bench-venv/bin/python benchmarks/run_all.py --best --write
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import bench_utils
import epoch_vs_torch
import predict_latency
import report
import time_to_accuracy

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
BENCHMARKS_MD = HERE.parent / "BENCHMARKS.md"
PARTS = ("epoch", "accuracy", "predict", "best")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_part(part: str, data: bench_utils.Mnist, args: argparse.Namespace) -> object:
    if part == "epoch":
        return epoch_vs_torch.run(data, args.samples, log)
    if part == "accuracy":
        return time_to_accuracy.run(data, args.seeds, "fast", log)
    if part == "predict":
        return predict_latency.run()
    if part == "best":
        return time_to_accuracy.run_preset("best", 0, data, log=log)
    raise ValueError(part)


def render(results: dict[str, dict[str, object]]) -> dict[str, str]:
    """Markdown for every part present in ``results``."""
    sections = {}
    latest = max(results.values(), key=lambda r: r["finished"])
    sections["machine"] = report.machine_md(latest["machine"], latest["command"])
    makers = {
        "epoch": report.epoch_md,
        "accuracy": report.accuracy_md,
        "predict": report.predict_md,
        "best": report.best_md,
    }
    for part, make in makers.items():
        if part in results:
            entry = results[part]
            load = entry["machine"]["load_average"][0]
            stamp = f"\n\n_Measured {entry['finished']}, load average {load:.2f} at the start._"
            sections[part] = make(entry["data"]) + stamp
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="refresh the tables in BENCHMARKS.md")
    parser.add_argument("--best", action="store_true", help="also train the best preset (~3 min)")
    parser.add_argument("--only", nargs="+", choices=PARTS, help="run just these parts")
    parser.add_argument("--samples", type=int, default=5, help="epoch samples per side and thread count")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds for the fast preset")
    parser.add_argument("--render-only", action="store_true", help="rewrite BENCHMARKS.md from results.json")
    args = parser.parse_args()

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.render_only:
        parts = args.only or [p for p in PARTS if p != "best" or args.best]
        command = shlex.join(["python", "benchmarks/run_all.py", *sys.argv[1:]])
        data = bench_utils.load_mnist()
        start_machine = bench_utils.machine_info()  # before any part changes a thread count
        for part in parts:
            machine = {**start_machine, "load_average": list(os.getloadavg())}
            log(f"== {part} (load average {machine['load_average'][0]:.2f})")
            data_out = run_part(part, data, args)
            results[part] = {
                "data": data_out,
                "machine": machine,
                "command": command,
                "finished": time.strftime("%Y-%m-%d %H:%M"),
            }
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")  # keep what finished
    sections = render(results)
    for name, body in sections.items():
        print(f"\n## {name}\n\n{body}")
    if args.write:
        report.write_sections(BENCHMARKS_MD, sections)
        log(f"updated {BENCHMARKS_MD}")


if __name__ == "__main__":
    main()
