"""What the export tests share: onnxruntime on an exported model, image files for the zip's
``predict.py``, and running that script beside ``python -m nn_core predict`` on the same files."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from nn_core.export import to_numpy_zip
from nn_core.network import Network

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-5  # max abs difference of probabilities


def run_onnx(model: bytes, pixels: np.ndarray) -> np.ndarray:
    """Probabilities (n, classes) from onnxruntime for pixels (n, 28, 28) float32."""
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(["probabilities"], {"pixels": pixels})[0]


def drawn_images(folder: Path) -> list[Path]:
    """Canvas-style strokes (white on transparent RGBA), a photo-like dark digit on uneven paper (JPEG),
    a thin pen digit on white, a large grayscale scan, and an empty sheet (no digit)."""
    paths = []
    canvas = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).line([(80, 60), (200, 60), (110, 230)], fill=(255, 255, 255, 255), width=18)
    paths.append(folder / "drawn-7.png")
    canvas.save(paths[-1])
    rng = np.random.default_rng(3)
    paper = np.linspace(200, 235, 400, dtype=np.float32)[None, :].repeat(300, 0) + rng.normal(
        0, 3, (300, 400)
    )
    photo = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8)).convert("RGB")
    ImageDraw.Draw(photo).ellipse([150, 60, 250, 240], outline=(40, 40, 50), width=14)
    paths.append(folder / "photo-0.jpg")
    photo.filter(ImageFilter.GaussianBlur(1.2)).save(paths[-1], quality=85)
    pen = Image.new("L", (200, 300), 255)
    ImageDraw.Draw(pen).line([(100, 40), (100, 260)], fill=0, width=10)
    ImageDraw.Draw(pen).line([(70, 80), (100, 40)], fill=0, width=10)
    paths.append(folder / "pen-1.png")
    pen.save(paths[-1])
    empty = Image.new("RGB", (120, 120), (240, 240, 240))
    paths.append(folder / "empty.png")
    empty.save(paths[-1])
    return paths


def twenty_images(images: np.ndarray, labels: np.ndarray, folder: Path) -> list[Path]:
    """16 MNIST test digits as files (plain, inverted and enlarged; the label ends each name) and the
    4 drawn images, the empty sheet last."""
    files = []
    for i in range(16):
        im = Image.fromarray(images[i])
        if i % 4 == 1:
            im = Image.fromarray(255 - images[i])
        elif i % 4 == 2:
            im = im.resize((140, 140), Image.Resampling.BICUBIC)
        files.append(folder / f"mnist-{i}-label-{labels[i]}.png")
        im.save(files[-1])
    return files + drawn_images(folder)


def script_and_cli(network: Network, model_args: list[str], files: list[Path], folder: Path):
    """The JSON lines of the zip's ``predict.py`` and of ``python -m nn_core predict [model_args]`` on
    ``files``, with both exit codes: ((codes), mine, theirs)."""
    with zipfile.ZipFile(io.BytesIO(to_numpy_zip(network))) as archive:
        archive.extractall(folder / "unzipped")
    script = folder / "unzipped" / "digit-lab-model" / "predict.py"
    args = [str(f) for f in files]
    ours = subprocess.run(
        [sys.executable, str(script), "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
    )
    cli = subprocess.run(
        [sys.executable, "-m", "nn_core", "predict", *model_args, "--json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert ours.returncode == cli.returncode, (ours.stderr, cli.stderr)
    mine = [json.loads(line) for line in ours.stdout.splitlines()]
    theirs = [json.loads(line) for line in cli.stdout.splitlines()]
    assert [r["file"] for r in mine] == [r["file"] for r in theirs] == args
    return ours.returncode, mine, theirs


def max_difference(mine: list[dict], theirs: list[dict]) -> float:
    """The largest difference of any probability between two runs' results (images with an error skipped)."""
    return max(
        float(np.abs(np.subtract(a["probabilities"], b["probabilities"])).max())
        for a, b in zip(mine, theirs, strict=True)
        if "probabilities" in a and "probabilities" in b
    )
