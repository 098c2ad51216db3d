"""The playground's controls as plain values: to and from configs, presets and URL query parameters.

A "values" dict holds one entry per control (``hidden`` and ``activations`` are tuples, one item
per hidden layer; ``train_size`` is 1,000 to 60,000 where 60,000 means the whole training set).
Everything here is pure Python, so it is tested without Streamlit; ``training_controls`` draws
the widgets. URL parameters use short names (``lr=0.05&hidden=128-64``); a bad parameter is
reported and ignored, never raised.
"""

from __future__ import annotations

import math
from typing import Any

from nn_core.activations import ACTIVATIONS
from nn_core.config import MAX_HIDDEN_LAYERS, MAX_WIDTH, ConfigError, ModelConfig, TrainConfig
from nn_core.data.registry import DATASETS
from nn_core.init import INITS
from nn_core.losses import LOSSES, OUTPUTS
from nn_core.optimizers import OPTIMIZERS
from nn_core.presets import PRESETS
from nn_core.schedules import SCHEDULES

FULL_TRAIN = 60_000
CUSTOM = "custom"
LR_OPTIONS = tuple(
    sorted({float(f"{m}e{k}") for k in range(-5, 1) for m in (1, 1.3, 1.6, 2, 2.5, 3, 4, 5, 6, 8)} | {10.0})
)
L2_OPTIONS = (0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
DECAY_OPTIONS = (1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)

# presets the controls can show: those of dense layers (``hidden``); layer-spec presets (lenet, cnn-*)
# need controls for layers
UI_PRESETS = tuple(name for name, preset in PRESETS.items() if not preset.model.layers)

DEFAULTS: dict[str, Any] = {
    "dataset": "mnist",
    "preset": CUSTOM,
    "hidden": (128,),
    "activations": ("relu",),
    "init": "he",
    "output": "softmax",
    "loss": "cross_entropy",
    "optimizer": "momentum",
    "momentum": 0.9,
    "lr": 0.05,
    "schedule": "constant",
    "decay": 1e-4,
    "step_epochs": 5,
    "gamma": 0.5,
    "batch_size": 64,
    "epochs": 5,
    "weight_decay": 0.0,
    "dropout": 0.0,
    "augment": False,
    "elastic": False,
    "train_size": 10_000,
    "val_fraction": 0.1,
    "seed": 0,
}

# name -> (URL parameter, kind, allowed choices or (low, high) range)
FIELDS: dict[str, tuple[str, str, Any]] = {
    "dataset": ("ds", "choice", tuple(DATASETS)),
    "preset": ("preset", "choice", (CUSTOM, *UI_PRESETS)),
    "hidden": ("hidden", "widths", (1, MAX_WIDTH)),
    "activations": ("act", "acts", ACTIVATIONS),
    "init": ("init", "choice", INITS),
    "output": ("out", "choice", OUTPUTS),
    "loss": ("loss", "choice", LOSSES),
    "optimizer": ("opt", "choice", OPTIMIZERS),
    "momentum": ("mom", "float", (0.0, 0.99)),
    "lr": ("lr", "log", LR_OPTIONS),
    "schedule": ("sched", "choice", SCHEDULES),
    "decay": ("decay", "log", DECAY_OPTIONS),
    "step_epochs": ("step", "int", (1, 1000)),
    "gamma": ("gamma", "float", (0.05, 1.0)),
    "batch_size": ("batch", "int", (1, FULL_TRAIN)),
    "epochs": ("epochs", "int", (1, 10_000)),
    "weight_decay": ("l2", "log", L2_OPTIONS),
    "dropout": ("dropout", "float", (0.0, 0.8)),
    "augment": ("aug", "bool", None),
    "elastic": ("elastic", "bool", None),
    "train_size": ("n", "int", (1000, FULL_TRAIN)),
    "val_fraction": ("val", "float", (0.0, 0.5)),
    "seed": ("seed", "int", (0, 2**31 - 1)),
}


def snap(value: float, options: tuple[float, ...]) -> float:
    """The option nearest to ``value`` on a log scale (0 matches only 0)."""
    if value <= 0:
        return min(options, key=abs)
    positive = [o for o in options if o > 0]
    return min(positive, key=lambda o: abs(math.log(o) - math.log(value)))


def build_configs(values: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """Configs from control values; raises ``ConfigError`` (with advice) for an invalid combination."""
    n = int(values["train_size"])
    model = ModelConfig(
        hidden=tuple(int(w) for w in values["hidden"]),
        activations=tuple(values["activations"]),
        output=values["output"],
        loss=values["loss"],
        init=values["init"],
        dropout=float(values["dropout"]),
    )
    train = TrainConfig(
        dataset=values["dataset"],
        epochs=int(values["epochs"]),
        batch_size=int(values["batch_size"]),
        optimizer=values["optimizer"],
        lr=float(values["lr"]),
        momentum=float(values["momentum"]),
        weight_decay=float(values["weight_decay"]),
        schedule=values["schedule"],
        decay=float(values["decay"]),
        step_epochs=int(values["step_epochs"]),
        gamma=float(values["gamma"]),
        augment=bool(values["augment"]),
        elastic=bool(values["augment"] and values["elastic"]),
        train_size=0 if n >= FULL_TRAIN else n,
        val_fraction=float(values["val_fraction"]),
        seed=int(values["seed"]),
    )
    model.validate()
    train.validate()
    if not model.hidden:
        raise ConfigError("add at least one hidden layer (a network without one is a linear classifier)")
    return model, train


def values_from_configs(model: ModelConfig, train: TrainConfig, preset: str = CUSTOM) -> dict[str, Any]:
    """Control values that reproduce ``model`` and ``train`` (learning rates snapped to the slider)."""
    return {
        "dataset": train.dataset,
        "preset": preset,
        "hidden": tuple(model.hidden),
        "activations": tuple(model.activations),
        "init": model.init,
        "output": model.output,
        "loss": model.loss,
        "optimizer": train.optimizer,
        "momentum": train.momentum,
        "lr": snap(train.lr, LR_OPTIONS),
        "schedule": train.schedule,
        "decay": snap(train.decay, DECAY_OPTIONS),
        "step_epochs": train.step_epochs,
        "gamma": train.gamma,
        "batch_size": min(train.batch_size, FULL_TRAIN),
        "epochs": train.epochs,
        "weight_decay": snap(train.weight_decay, L2_OPTIONS),
        "dropout": model.dropout,
        "augment": train.augment,
        "elastic": train.elastic,
        "train_size": round_size(train.train_size or FULL_TRAIN),
        "val_fraction": round(train.val_fraction, 4),
        "seed": train.seed,
    }


def values_from_preset(name: str, current: dict[str, Any]) -> dict[str, Any]:
    """Every control from preset ``name``, except the dataset, which stays as chosen."""
    preset = PRESETS[name]
    values = values_from_configs(preset.model, preset.train, preset=name)
    values["dataset"] = current.get("dataset", DEFAULTS["dataset"])
    return values


def preset_modified(values: dict[str, Any]) -> bool:
    """True when a preset is chosen but the controls no longer match it."""
    name = values.get("preset", CUSTOM)
    if name not in PRESETS:
        return False
    return values_from_preset(name, values) != values


def round_size(n: int) -> int:
    """A training-subset size on the slider's grid: a multiple of 1,000 from 1,000 to 60,000."""
    return int(min(max(round(n / 1000) * 1000, 1000), FULL_TRAIN))


def _format(name: str, value: Any) -> str:
    kind = FIELDS[name][1]
    if kind == "widths":
        return "-".join(str(int(w)) for w in value)
    if kind == "acts":
        return "-".join(value)
    if kind == "bool":
        return "1" if value else "0"
    if kind in ("float", "log"):
        return f"{float(value):g}"
    return str(value)


def values_to_params(values: dict[str, Any]) -> dict[str, str]:
    """URL query parameters for the controls (short names, plain text)."""
    return {FIELDS[name][0]: _format(name, values[name]) for name in FIELDS}


def params_to_values(
    params: dict[str, str], base: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Control values from URL parameters over ``base``; returns (values, problems found)."""
    values = dict(base or DEFAULTS)
    problems: list[str] = []
    for name, (key, kind, allowed) in FIELDS.items():
        if key not in params:
            continue
        text = str(params[key]).strip()
        try:
            values[name] = _parse(kind, text, allowed)
        except ValueError as err:
            problems.append(f"`{key}={text[:40]}`: {err}; kept {_format(name, values[name])}")
    values["train_size"] = round_size(values["train_size"])
    hidden, acts = values["hidden"], values["activations"]
    if len(acts) != len(hidden):  # pad or cut the activations to one per layer
        values["activations"] = tuple(acts[: len(hidden)]) + (acts[-1] if acts else "relu",) * max(
            0, len(hidden) - len(acts)
        )
        if "act" in params:
            problems.append("`act` should list one activation per hidden layer; the list was adjusted")
    return values, problems


def _parse(kind: str, text: str, allowed: Any) -> Any:
    if kind == "choice":
        if text not in allowed:
            raise ValueError(f"choose one of {', '.join(allowed)}")
        return text
    if kind == "bool":
        if text not in ("0", "1", "true", "false"):
            raise ValueError("use 0 or 1")
        return text in ("1", "true")
    if kind == "acts":
        items = tuple(t for t in text.split("-") if t)
        bad = [t for t in items if t not in allowed]
        if bad or not items:
            raise ValueError(f"activations are {', '.join(allowed)}")
        return items
    if kind == "widths":
        try:
            widths = tuple(int(t) for t in text.split("-") if t)
        except ValueError:
            raise ValueError("give layer widths as numbers joined by '-', e.g. 128-64") from None
        lo, hi = allowed
        if len(widths) > MAX_HIDDEN_LAYERS or not all(lo <= w <= hi for w in widths):
            raise ValueError(f"up to {MAX_HIDDEN_LAYERS} layers of width {lo} to {hi}")
        return widths
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if kind == "log":
        return snap(number, allowed)
    lo, hi = allowed
    if not lo <= number <= hi:
        raise ValueError(f"must be {lo:g} to {hi:g}")
    if kind == "int":
        if number != int(number):
            raise ValueError("must be a whole number")
        return int(number)
    return number


def advice(values: dict[str, Any], n_params: int) -> list[str]:
    """Warnings about settings that are valid but probably not what the user wants."""
    notes = []
    n_train = int(values["train_size"] * (1 - values["val_fraction"]))
    if values["batch_size"] == 1 and n_train > 5000:
        notes.append(
            f"Batch size 1 takes {n_train:,} separate small steps per epoch: expect minutes per epoch. "
            "32 to 128 is the usual range."
        )
    if values["batch_size"] >= n_train:
        notes.append(
            "The batch holds the whole training set: this is full-batch gradient descent (one step per epoch)."
        )
    if values["optimizer"] in ("adam", "rmsprop") and values["lr"] > 0.05:
        notes.append(
            f"{values['optimizer']} usually wants a learning rate of 1e-4 to 1e-2; {values['lr']:g} will likely diverge."
        )
    if values["optimizer"] in ("sgd", "momentum", "nesterov") and values["lr"] < 1e-3:
        notes.append("With plain or momentum SGD a rate below 0.001 learns very slowly.")
    if values["dropout"] > 0.5:
        notes.append("Dropout above 0.5 often keeps a small network from learning.")
    if n_params > 3_000_000:
        notes.append(
            f"This network has {n_params:,} parameters: each epoch on the full set will take a while."
        )
    if values["val_fraction"] == 0:
        notes.append("No validation set: only training curves will be drawn.")
    return notes


def count_params(hidden: tuple[int, ...], n_inputs: int = 784, n_classes: int = 10) -> int:
    widths = (n_inputs, *hidden, n_classes)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
