"""Settings as flat values and as the playground's shareable links, derived from the settings schema.

A *values* dict holds one plain entry per setting that has a link name (``short`` in its
declaration): ``hidden`` and ``activations`` are tuples, log-scale numbers sit on their slider's
``grid``, ``train_size`` is 1,000 to 60,000 where 60,000 (``full``) means the whole set. It is what
the playground's controls edit and what a link carries (``lr=0.05&hidden=128-64``). The same
functions serve the playground and ``python -m nn_core train --config LINK``, so a run started in
the browser is repeated in a terminal with the same ``ModelConfig`` and ``TrainConfig``.

A bad link parameter is reported (``decode`` returns the problems) and its value kept from the
base; ``configs_from_link`` refuses a link with any problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from nn_core.config import MAX_HIDDEN_LAYERS, ConfigError, ModelConfig, TrainConfig
from nn_core.settings import Setting, all_settings, snap

# What a link's missing parameters mean: the playground's first screen.
LINK_MODEL = ModelConfig()
LINK_TRAIN = TrainConfig(epochs=5, batch_size=64, decay=1e-4, step_epochs=5, train_size=10_000)


def link_settings() -> tuple[Setting, ...]:
    """The settings a link (and the playground) carries, model first."""
    return tuple(s for s in all_settings() if s.short)


def default_values() -> dict[str, Any]:
    """The values of the playground's first screen."""
    return values_from_configs(LINK_MODEL, LINK_TRAIN)


def values_from_configs(model: ModelConfig, train: TrainConfig) -> dict[str, Any]:
    """Values reproducing ``model`` and ``train``, each put where the playground's control can show it.

    Log-scale numbers snap to their grid, others are clamped to the control's span; a subset size
    is rounded to the slider's step (0, the whole set, becomes ``full``).
    """
    configs = {"model": model, "train": train}
    return {s.name: to_value(s, getattr(configs[s.owner], s.name)) for s in link_settings()}


def to_value(s: Setting, value: Any) -> Any:
    """A config field's value as the playground's control holds it."""
    if s.kind in ("ints", "choices"):
        return tuple(int(v) for v in value) if s.kind == "ints" else tuple(value)
    if s.kind in ("choice", "bool"):
        return bool(value) if s.kind == "bool" else value
    if s.log:
        return snap(float(value), s.grid)
    if s.kind == "int":
        number = int(value) or (s.full or 0)
        if s.step:
            number = round(number / s.step) * s.step
    else:
        number = round(float(value), 4)
    if s.span is not None:
        lo, hi = s.span
        number = min(max(number, type(number)(lo)), type(number)(hi))
    return number


def configs_from_values(values: Mapping[str, Any]) -> tuple[ModelConfig, TrainConfig]:
    """The configs the values stand for (not validated; fields without a link name keep defaults)."""
    kwargs: dict[str, dict[str, Any]] = {"model": {}, "train": {}}
    for s in link_settings():
        value = values[s.name]
        if s.kind == "ints":
            value = tuple(int(v) for v in value)
        elif s.kind == "choices":
            value = tuple(value)
        elif s.kind == "bool":
            value = bool(value and (s.requires is None or values[s.requires]))
        elif s.kind == "int":
            value = int(value)
            value = 0 if s.full is not None and value >= s.full else value
        elif s.kind == "float":
            value = float(value)
        kwargs[s.owner][s.name] = value
    return ModelConfig(**kwargs["model"]), TrainConfig(**kwargs["train"])


def format_value(s: Setting, value: Any) -> str:
    """A value as link text: ``128-64``, ``relu-tanh``, ``1``/``0``, ``0.05``."""
    if s.kind == "ints":
        return "-".join(str(int(w)) for w in value)
    if s.kind == "choices":
        return "-".join(value)
    if s.kind == "bool":
        return "1" if value else "0"
    if s.kind == "float":
        return f"{float(value):g}"
    return str(value)


def encode(values: Mapping[str, Any]) -> dict[str, str]:
    """Link parameters (short name -> text) for the values."""
    return {s.short: format_value(s, values[s.name]) for s in link_settings() if s.short}


def decode(
    params: Mapping[str, str], base: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Values from link parameters over ``base`` (default: the first screen); returns (values, problems)."""
    values = dict(base if base is not None else default_values())
    problems: list[str] = []
    for s in link_settings():
        if s.short not in params:
            continue
        text = str(params[s.short]).strip()
        try:
            values[s.name] = parse_value(s, text)
        except ValueError as err:
            problems.append(f"`{s.short}={text[:40]}`: {err}; kept {format_value(s, values[s.name])}")
    for s in link_settings():
        if s.step:
            values[s.name] = to_value(s, values[s.name])
    hidden, acts = values["hidden"], values["activations"]
    if len(acts) != len(hidden):  # pad or cut the activations to one per layer
        values["activations"] = tuple(acts[: len(hidden)]) + (acts[-1] if acts else "relu",) * max(
            0, len(hidden) - len(acts)
        )
        if "act" in params:
            problems.append("`act` should list one activation per hidden layer; the list was adjusted")
    return values, problems


def parse_value(s: Setting, text: str) -> Any:
    """One link parameter's value; ``ValueError`` says what is wrong with ``text``."""
    if s.kind == "choice":
        if text not in s.choices:
            raise ValueError(f"choose one of {', '.join(s.choices)}")
        return text
    if s.kind == "bool":
        if text not in ("0", "1", "true", "false"):
            raise ValueError("use 0 or 1")
        return text in ("1", "true")
    if s.kind == "choices":
        items = tuple(t for t in text.split("-") if t)
        if not items or any(t not in s.choices for t in items):
            raise ValueError(f"{s.label}s are {', '.join(s.choices)}")
        return items
    if s.kind == "ints":
        try:
            widths = tuple(int(t) for t in text.split("-") if t)
        except ValueError:
            raise ValueError("give layer widths as numbers joined by '-', e.g. 128-64") from None
        if len(widths) > MAX_HIDDEN_LAYERS or not all(s.in_range(w) for w in widths):
            raise ValueError(f"up to {MAX_HIDDEN_LAYERS} layers of width {s.range_text()}")
        return widths
    try:
        number = float(text)
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if s.log:
        return snap(number, s.grid)
    lo, hi = s.span or (-math.inf, math.inf)
    if not lo <= number <= hi:
        show = (lambda x: str(int(x))) if s.kind == "int" else (lambda x: f"{x:g}")
        raise ValueError(f"must be {show(lo)} to {show(hi)}")
    if s.kind == "int":
        if number != int(number):
            raise ValueError("must be a whole number")
        return int(number)
    return number


def link_params(text: str) -> dict[str, str]:
    """The query parameters of a link, a ``?query`` or a bare ``a=1&b=2`` string (last value wins)."""
    text = text.strip()
    query = urlsplit(text).query if "?" in text else text
    return dict(parse_qsl(query, keep_blank_values=True))


def configs_from_link(text: str) -> tuple[ModelConfig, TrainConfig]:
    """The configs a playground link opens with; ``ConfigError`` when a parameter is not valid."""
    params = link_params(text)
    if not any(s.short in params for s in link_settings()):
        raise ConfigError("that link holds no playground settings (expected parameters such as lr=0.05)")
    values, problems = decode(params)
    if problems:
        raise ConfigError("the link has settings that cannot be used: " + "; ".join(problems))
    return configs_from_values(values)
