"""The ``evaluate`` and ``predict`` subcommands: using a saved model on the test set or on image files.

``evaluate`` reports test accuracy, per-class precision and recall, and the confusion matrix, on the
dataset the model was trained on unless ``--dataset`` names another. ``predict`` sends each PNG or
JPG file through the same preprocessing as the drawing canvas (``nn_core.images.preprocess``) and reports
the top class and all class probabilities, with the shipped default model unless ``--model`` names
another (so it works before any dataset is downloaded); a file that cannot be used gets an error line and the
others still run (the exit status is then 1).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from nn_core.cli.common import CommandError, describe_model, download_hint, json_line
from nn_core.data.local import load_split, to_float
from nn_core.data.registry import DATASETS, DatasetInfo, get_dataset_info
from nn_core.metrics import accuracy, confusion_matrix, per_class_report
from nn_core.store.model_file import SavedModel, load_model

IMAGE_PIXELS = 28 * 28


def add_evaluate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="test a saved model: accuracy, per-class figures, confusion matrix",
        description="Evaluate a saved model on a dataset's test split.",
    )
    p.add_argument("--model", required=True, metavar="PATH", help="a model file saved by Digit Lab (.npz)")
    p.add_argument(
        "--dataset",
        choices=list(DATASETS),
        help="test set to use (default: the one the model was trained on)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=run_evaluate, parser=p)


def add_predict_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="classify image files of digits with a saved model",
        description="Classify PNG/JPG images (drawn, scanned or photographed), preprocessed as the canvas is.",
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        help="a model file saved by Digit Lab (.npz); default: the default model that ships with Digit Lab",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files, one digit each")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.set_defaults(run=run_predict, parser=p)


def _load(path: str) -> SavedModel:
    saved = load_model(path)
    if saved.network.config.n_inputs != IMAGE_PIXELS:
        raise CommandError(
            f"{path} takes {saved.network.config.n_inputs} inputs, not {IMAGE_PIXELS} (28x28 pixels): "
            "it is not an image classifier this command can use"
        )
    return saved


def _load_default() -> SavedModel:
    """The shipped default model (no dataset needed); ``CommandError`` saying how to restore it."""
    from nn_core.store.default_model import DefaultModelError, load_default_model

    try:
        return load_default_model()
    except DefaultModelError as err:
        raise CommandError(f"{err} (or pass --model PATH)") from None


def _class_names(saved: SavedModel) -> tuple[str, ...]:
    n = saved.network.config.n_classes
    info = DATASETS.get(saved.dataset)
    if info is not None and info.n_classes == n:
        return info.class_names
    return tuple(str(k) for k in range(n))


def run_evaluate(args: argparse.Namespace) -> int:
    saved = _load(args.model)
    name = args.dataset or saved.dataset
    try:
        info = get_dataset_info(name)
    except ValueError:
        raise CommandError(
            f"the model was trained on {name!r}, which is not a known dataset: "
            f"pass --dataset ({' or '.join(DATASETS)})"
        ) from None
    n_classes = saved.network.config.n_classes
    if n_classes != info.n_classes:
        raise CommandError(f"the model has {n_classes} classes but {info.title} has {info.n_classes}")
    with download_hint(name):
        images, labels = load_split(name, "test")
    predicted = saved.network.predict(to_float(images))  # (n,)
    confusion = confusion_matrix(labels, predicted, n_classes)
    report = per_class_report(confusion)
    result = {
        "model": args.model,
        "dataset": name,
        "trained_on": saved.dataset,
        "n_test": int(len(labels)),
        "test_accuracy": accuracy(labels, predicted),
        "per_class": [
            {
                "class": k,
                "name": info.class_names[k],
                "precision": report["precision"][k],
                "recall": report["recall"][k],
                "support": report["support"][k],
            }
            for k in range(n_classes)
        ],
        "confusion_matrix": confusion.tolist(),
    }
    if args.json:
        print(json_line(result))
    else:
        _print_evaluation(result, saved, info)
    return 0


def _print_evaluation(result: dict[str, Any], saved: SavedModel, info: DatasetInfo) -> None:
    n = len(saved.history)
    epochs = f", {n} epoch{'s' * (n != 1)}" if n else ""
    print(f"model {result['model']}: {describe_model(saved.network.config)}{epochs}")
    if result["trained_on"] != result["dataset"]:
        print(f"note: the model was trained on {result['trained_on']}, not {result['dataset']}")
    correct = int(np.trace(np.asarray(result["confusion_matrix"])))
    print(
        f"test accuracy on {info.title}: {100 * result['test_accuracy']:.2f}%  "
        f"({correct:,} of {result['n_test']:,} images)\n"
    )
    names = [row["name"] for row in result["per_class"]]
    show_names = names != [str(k) for k in range(len(names))]
    w = max(len(n) for n in names) if show_names else 0
    print(
        f"class  {'name':<{w}}  precision  recall  support"
        if show_names
        else "class  precision  recall  support"
    )
    for row in result["per_class"]:
        name = f"{row['name']:<{w}}  " if show_names else ""
        print(
            f"{row['class']:>5}  {name}{_percent(row['precision']):>9}  {_percent(row['recall']):>6}  "
            f"{row['support']:>7,}"
        )
    matrix = result["confusion_matrix"]
    cw = max(5, len(f"{max(max(r) for r in matrix):,}") + 1)
    print("\nconfusion matrix (rows: true class, columns: predicted class)")
    print("true " + "".join(f"{k:>{cw}}" for k in range(len(matrix))))
    for k, row in enumerate(matrix):
        print(f"{k:>4} " + "".join(f"{count:>{cw},}" for count in row))


def _percent(value: float) -> str:
    return "-" if np.isnan(value) else f"{100 * value:.1f}%"


def run_predict(args: argparse.Namespace) -> int:
    from nn_core.images.preprocess import EmptyDrawingError, ImageFileError, preprocess_file

    saved = _load(args.model) if args.model else _load_default()
    names = _class_names(saved)
    labels = [name if name == str(k) else f"{k} ({name})" for k, name in enumerate(names)]
    width, label_width = max(len(path) for path in args.images), max(len(label) for label in labels)
    failures = 0
    for path in args.images:
        try:
            digit = preprocess_file(path)  # (28, 28) float32, as the canvas's drawings
        except EmptyDrawingError:
            failures += 1
            _file_error(path, "no digit found: nothing stands out from the background", args.json)
            continue
        except (ImageFileError, OSError, ValueError) as err:
            failures += 1
            _file_error(path, str(err), args.json)
            continue
        probs = saved.network.predict_proba(digit)[0]  # (n_classes,)
        top = int(probs.argmax())
        if args.json:
            result = {
                "file": path,
                "prediction": top,
                "name": names[top],
                "confidence": float(probs[top]),
                "probabilities": [float(p) for p in probs],
            }
            print(json_line(result), flush=True)
        else:
            spread = "  ".join(f"{k} {100 * p:5.1f}%" for k, p in enumerate(probs))
            print(
                f"{path:<{width}}  {labels[top]:<{label_width}}  {100 * probs[top]:5.1f}%  |  {spread}",
                flush=True,
            )
    return 1 if failures else 0


def _file_error(path: str, message: str, as_json: bool) -> None:
    if as_json:
        print(json_line({"file": path, "error": message}), flush=True)
    else:
        print(f"{path}: error: {message}", file=sys.stderr, flush=True)
