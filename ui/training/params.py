"""The playground's controls as plain values: to and from configs, presets and URL query parameters.

A "values" dict holds one entry per control (``hidden`` and ``activations`` are tuples, one item
per hidden layer; ``layers`` holds layer specs instead when the stack has more than dense layers; ``train_size`` is 1,000 to 60,000 where 60,000 means the whole training set).
Everything here is pure Python, so it is tested without Streamlit; ``controls`` draws the
widgets. The values, their URL parameters (``lr=0.05&hidden=128-64``) and their ranges come from
the settings declared on the config fields (``nn_core.settings``, ``nn_core.links``); this module
adds the preset menu and advice. A bad parameter is reported and ignored, never raised.
"""

from __future__ import annotations

from typing import Any

from nn_core import links
from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.memory import check_run
from nn_core.model_summary import summary
from nn_core.presets import PRESETS
from nn_core.settings import DECAY_GRID, L2_GRID, LR_GRID, get_setting
from nn_core.settings import snap as _snap

FULL_TRAIN = 60_000
SGD_MAX_LR = 2.0  # above this step size (lr, or lr / (1 - momentum)) MNIST runs stop learning
CUSTOM = "custom"
LR_OPTIONS = LR_GRID
L2_OPTIONS = L2_GRID
DECAY_OPTIONS = DECAY_GRID

UI_PRESETS = tuple(PRESETS)  # the layer builder shows dense (MLP) and layer-spec (lenet, cnn-*) presets

DEFAULTS: dict[str, Any] = {**links.default_values(), "preset": CUSTOM}

# name -> (URL parameter, kind, allowed choices or (low, high) range), derived from the settings schema
FIELDS: dict[str, tuple[str, str, Any]] = {
    "preset": ("preset", "choice", (CUSTOM, *UI_PRESETS)),
    **{
        s.name: (s.short, "log" if s.log else s.kind, s.grid if s.log else s.choices or s.span)
        for s in links.link_settings()
    },
}


OTHER_PARAMS = ("owner",)  # query parameters of the page that are not controls


def snap(value: float, options: tuple[float, ...]) -> float:
    """The option nearest to ``value`` on a log scale (0 matches only 0)."""
    return _snap(value, options)


def build_configs(values: dict[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """Configs from control values; raises ``ConfigError`` (with advice) for an invalid combination."""
    model, train = links.configs_from_values(values)
    model.validate()
    train.validate()
    if not model.hidden and not model.layers:
        raise ConfigError("add at least one hidden layer (a network without one is a linear classifier)")
    check_run(model, train, train.train_size or FULL_TRAIN)  # MemoryBudgetError before anything is allocated
    return model, train


def values_from_configs(model: ModelConfig, train: TrainConfig, preset: str = CUSTOM) -> dict[str, Any]:
    """Control values that reproduce ``model`` and ``train`` (learning rates snapped to the slider)."""
    return {**links.values_from_configs(model, train), "preset": preset}


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
    return links.to_value(get_setting("train_size"), n)


def values_to_params(values: dict[str, Any]) -> dict[str, str]:
    """URL query parameters for the controls (short names, plain text)."""
    return {"preset": str(values["preset"]), **links.encode(values)}


def params_to_values(
    params: dict[str, str], base: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Control values from URL parameters over ``base``; returns (values, problems found)."""
    base = dict(base or DEFAULTS)
    values, problems = links.decode(params, base)
    values["preset"] = base.get("preset", CUSTOM)
    if "preset" in params:
        text = str(params["preset"]).strip()
        if text in FIELDS["preset"][2]:
            values["preset"] = text
        else:
            allowed = ", ".join(FIELDS["preset"][2])
            problems.insert(0, f"`preset={text[:40]}`: choose one of {allowed}; kept {values['preset']}")
    known = {key for key, _, _ in FIELDS.values()} | set(OTHER_PARAMS)
    for key in sorted(set(params) - known):
        problems.append(f"`{key}={str(params[key])[:40]}`: not a setting of this page; ignored")
    return values, problems


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
    if values["optimizer"] == "sgd" and values["lr"] > SGD_MAX_LR:
        notes.append(
            f"Plain SGD usually wants a learning rate of 0.01 to 1; {values['lr']:g} will likely diverge "
            "or stop learning (accuracy stuck near 10%)."
        )
    if values["optimizer"] in ("momentum", "nesterov"):
        step = values["lr"] / max(1e-9, 1 - float(values["momentum"]))
        if step > SGD_MAX_LR:
            notes.append(
                f"With momentum {float(values['momentum']):g} each step is about {step:g} times the gradient: "
                f"{values['optimizer']} usually wants a learning rate of 0.001 to 0.1; {values['lr']:g} will "
                "likely diverge or stop learning."
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


def model_params(model: ModelConfig) -> int:
    """Weights and biases of any valid model (MLP or layer specs)."""
    return sum(row.params for row in summary(model))


def count_params(hidden: tuple[int, ...], n_inputs: int = 784, n_classes: int = 10) -> int:
    widths = (n_inputs, *hidden, n_classes)
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:], strict=True))
