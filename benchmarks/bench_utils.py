"""Shared pieces of the benchmarks: the machine's description, MNIST in memory, sample statistics.

The benchmarks run in their own virtual environment (``benchmarks/requirements.txt``: PyTorch,
NumPy, Pillow, threadpoolctl), never in the app's. They import ``nn_core`` from this checkout and
read MNIST from ``$DIGIT_LAB_DATA`` (a folder holding ``mnist/``) through ``nn_core.data.local``.
Timings on a shared machine are noisy, so every figure comes from several samples taken in
alternation with the thing it is compared to, and is reported as the fastest and the median.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import nn_core.speed.threads  # noqa: E402
import nn_core.train  # noqa: E402
from nn_core.data.local import load_split, to_float  # noqa: E402

BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


@dataclass(frozen=True)
class Mnist:
    """MNIST as float32 (n, 784) in [0, 1] and int64 labels (n,)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_mnist() -> Mnist:
    """The full MNIST train (60,000) and test (10,000) sets, from ``$DIGIT_LAB_DATA``."""
    train_images, train_labels = load_split("mnist", "train")
    test_images, test_labels = load_split("mnist", "test")
    return Mnist(
        to_float(train_images),
        train_labels.astype(np.int64),
        to_float(test_images),
        test_labels.astype(np.int64),
    )


@dataclass(frozen=True)
class Summary:
    """Seconds of repeated samples: the fastest (most robust on a noisy machine) and the median."""

    fastest: float
    median: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        return cls(min(samples), statistics.median(samples), len(samples))

    def to_dict(self) -> dict[str, float]:
        return {"fastest": self.fastest, "median": self.median, "n": self.n}


@contextmanager
def nn_core_threads(threads: int | None) -> Iterator[None]:
    """Make ``Trainer.run_epoch`` run at ``threads`` BLAS threads (None: its own choice).

    The trainer normally times a few blocks of steps at one thread and at all of them and keeps
    the faster (``nn_core.speed.threads.ThreadChooser``); a fixed count replaces both that chooser and
    the fallback rule ``threads_for_batch`` for the duration.
    """
    if threads is None:
        yield
        return
    chooser, rule = nn_core.speed.threads.ThreadChooser, nn_core.speed.threads.threads_for_batch
    nn_core.speed.threads.ThreadChooser = lambda **options: chooser(**{**options, "candidates": (threads,)})
    nn_core.speed.threads.threads_for_batch = lambda batch_size, n_weights: threads
    try:
        yield
    finally:
        nn_core.speed.threads.ThreadChooser, nn_core.speed.threads.threads_for_batch = chooser, rule


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_mhz() -> float | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("cpu MHz"):
                    return float(line.split(":", 1)[1])
    except (OSError, ValueError):
        pass
    return None


def cpu_flags() -> str:
    """The widest vector extensions the CPU reports (what the BLAS kernels can use)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in flags)
    except OSError:
        pass
    return ""


def blas_libraries() -> list[dict[str, object]]:
    """What threadpoolctl reports for each BLAS / OpenMP library loaded in this process."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "threading_layer", "num_threads")
    return [{k: lib.get(k) for k in keys if lib.get(k) is not None} for lib in threadpool_info()]


def machine_info() -> dict[str, object]:
    """Cores, CPU, versions, BLAS kernel and the OpenBLAS environment of this run."""
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu_model(),
        "cpu_mhz": cpu_mhz(),
        "cpu_flags": cpu_flags(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch_version,
        "blas": blas_libraries(),
        "blas_env": {name: os.environ.get(name) for name in BLAS_ENV},
        "load_average": list(os.getloadavg()),
    }
