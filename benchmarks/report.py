"""Markdown for BENCHMARKS.md from the results of ``run_all.py``, and the in-place section writer.

BENCHMARKS.md mixes prose written by people with tables written by the benchmarks. Each table
lives between ``<!-- generated:NAME -->`` and ``<!-- /generated:NAME -->``; ``write_sections``
replaces only what is between those markers, so everything else (explanations, sections that
other benchmarks add) is kept.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def _pair(summary: dict[str, float], scale: float = 1.0, digits: int = 3) -> str:
    return f"{summary['fastest'] * scale:.{digits}f} / {summary['median'] * scale:.{digits}f}"


def machine_md(machine: dict[str, Any], command: str) -> str:
    env = machine["blas_env"]
    env_text = ", ".join(f"`{k}` {'unset' if v is None else f'= `{v}`'}" for k, v in env.items())
    blas = []
    for lib in machine["blas"]:
        parts = [str(lib.get("prefix"))]
        if lib.get("architecture"):
            parts.append(f"kernel {lib['architecture']}")
        if lib.get("threading_layer"):
            parts.append(str(lib["threading_layer"]))
        name = " ".join(str(x) for x in (lib.get("internal_api"), lib.get("version")) if x)
        blas.append(f"{name} ({', '.join(parts)})")
    load = ", ".join(f"{x:.2f}" for x in machine["load_average"])
    return "\n".join(
        [
            f"- Machine: {machine['nproc']} cores (`nproc`), {machine['cpu']}"
            + (f" at {machine['cpu_mhz']:.0f} MHz" if machine.get("cpu_mhz") else "")
            + f" ({machine['cpu_flags']}).",
            f"- Python {machine['python']}, NumPy {machine['numpy']}, PyTorch {machine['torch']} (CPU build).",
            "- Libraries loaded (threadpoolctl): " + "; ".join(blas) + ".",
            f"- OpenBLAS environment in this run: {env_text}.",
            f"- Load average (1, 5, 15 minutes) when the run started: {load}; our own benchmark accounts for 1 to 2.",
            f"- Command: `{command}`",
        ]
    )


def epoch_md(rows: list[dict[str, Any]]) -> str:
    counts = rows[0]["thread_counts"]
    head = ["network", "batch", "nn_core (auto)"]
    head += [f"nn_core {t} thr" for t in counts] + [f"torch {t} thr" for t in counts]
    head += ["ratio (fastest)", "ratio (median)"] + [f"ratio at {t} thr" for t in counts]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        s = row["summary"]
        picked = sorted({p for p in row["nn_core_picked"] if p is not None})
        cells = [row["network"], str(row["batch"])]
        cells.append(_pair(s["nn_core_auto"]) + (f" ({'/'.join(map(str, picked))} thr)" if picked else ""))
        cells += [_pair(s[f"nn_core{t}"]) for t in counts] + [_pair(s[f"torch{t}"]) for t in counts]
        cells += [
            f"**{row['ratio_fastest']:.2f}** (torch {row['torch_best_threads_fastest']} thr)",
            f"{row['ratio_median']:.2f} (torch {row['torch_best_threads_median']} thr)",
        ]
        equal = {int(t): ratio for t, ratio in row["ratio_equal_threads"].items()}  # JSON keys are str
        cells += [f"{equal[t]:.2f}" for t in counts]
        lines.append("| " + " | ".join(cells) + " |")
    n = rows[0]["summary"]["nn_core_auto"]["n"]
    worst = max(r["ratio_fastest"] for r in rows)
    worst_median = max(r["ratio_median"] for r in rows)
    lines += [
        "",
        f"Seconds per epoch (60,000 images), fastest / median of {n} samples per cell. nn_core (auto) "
        "is the trainer as the app runs it, with the thread counts it settled on. Ratio = nn_core (auto) / "
        "PyTorch at its faster thread count for that shape, per statistic (below 1: nn_core is faster); "
        '"ratio at N thr" compares both sides pinned to N threads (fastest samples). '
        f"Largest ratio in this run: {worst:.2f} (fastest), {worst_median:.2f} (median).",
    ]
    return "\n".join(lines)


def _reached(result: dict[str, Any]) -> str:
    r = result["reached"]
    return "not reached" if r is None else f"**{r['epoch_seconds']:.2f} s** (epoch {r['epoch']})"


def accuracy_md(results: list[dict[str, Any]]) -> str:
    lines = [
        "| seed | time to 98.0% | epochs | training s | of which the loop | wall s (with data prep and evaluation) "
        "| final test acc |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['seed']} | {_reached(r)} | {len(r['curve'])} | {r['epoch_seconds']:.2f} | "
            f"{r['training_seconds']:.2f} | {r['wall_seconds']:.2f} | {r['final_test_acc'] * 100:.2f}% |"
        )
    lines += [
        "",
        'Training seconds are the `run_epoch` calls timed from outside, summed; "of which the loop" is '
        "what `EpochMetrics.seconds` reports. Test accuracy is measured after each epoch, outside the timing.",
        "",
        "Accuracy reached per second (test accuracy after each epoch against cumulative training seconds):",
        "",
    ]
    seeds = [r["seed"] for r in results]
    lines.append("| epoch | " + " | ".join(f"seed {s}: s, test acc" for s in seeds) + " |")
    lines.append("|---|" + "---|" * len(seeds))
    for i in range(max(len(r["curve"]) for r in results)):
        cells = []
        for r in results:
            if i < len(r["curve"]):
                point = r["curve"][i]
                cells.append(f"{point['epoch_seconds']:.2f} s, {point['test_acc'] * 100:.2f}%")
            else:
                cells.append("")
        lines.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def predict_md(results: list[dict[str, Any]]) -> str:
    sides = [k for k in results[0]["summary_us"]]
    head = ["preset", "network"] + [
        s.replace("torch", "torch ") + (" thr" if s != "nn_core" else "") for s in sides
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [r["preset"], r["network"]] + [_pair(r["summary_us"][s], 1.0, 1) for s in sides]
        lines.append("| " + " | ".join(cells) + " |")
    n = results[0]["summary_us"][sides[0]]["n"]
    calls = results[0]["calls_per_block"]
    lines += [
        "",
        f"Microseconds per single (28, 28) image, fastest / median of {n} blocks of {calls} calls, the "
        "sides alternating block by block. nn_core: `Network.predict_proba(image)` with NumPy's BLAS at "
        "its default threads, as the Draw page calls it; PyTorch: `softmax(model(x))` in `inference_mode`.",
    ]
    return "\n".join(lines)


def best_md(result: dict[str, Any], limit: float = 180.0) -> str:
    seconds = result["epoch_seconds"]
    verdict = "within" if seconds <= limit else "OVER"
    lines = [
        f"`best`, seed {result['seed']}: **{result['final_test_acc'] * 100:.2f}%** test accuracy after "
        f"{len(result['curve'])} epochs and **{seconds:.1f} s** of training with augmentation ({verdict} the "
        f"{limit:.0f} s budget; the training loop alone {result['training_seconds']:.1f} s; "
        f"{result['wall_seconds']:.1f} s wall clock with data preparation and per-epoch evaluation).",
        "",
        "| epoch | cumulative training s | test acc |",
        "|---|---|---|",
    ]
    for point in result["curve"]:
        lines.append(f"| {point['epoch']} | {point['epoch_seconds']:.1f} | {point['test_acc'] * 100:.2f}% |")
    return "\n".join(lines)


def write_sections(path: Path, sections: dict[str, str]) -> None:
    """Replace the text between each ``<!-- generated:NAME -->`` pair of markers in ``path``."""
    text = path.read_text(encoding="utf-8")
    for name, body in sections.items():
        pattern = re.compile(
            rf"(<!-- generated:{re.escape(name)} -->\n).*?(<!-- /generated:{re.escape(name)} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(
                f"{path} has no <!-- generated:{name} --> ... <!-- /generated:{name} --> markers; "
                "put them back where the table belongs"
            )
        text = pattern.sub(lambda m, body=body: m.group(1) + body.rstrip() + "\n" + m.group(2), text)
    path.write_text(text, encoding="utf-8")
