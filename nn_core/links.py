"""Settings as flat values and as the playground's shareable links, derived from the settings schema.

A *values* dict holds one plain entry per setting that has a link name (``short`` in its
declaration): ``hidden`` and ``activations`` are tuples, log-scale numbers sit on their slider's
``grid``, ``train_size`` is 1,000 to 60,000 where 60,000 (``full``) means the whole set. It is what
the playground's controls edit and what a link carries (``lr=0.05&hidden=128-64``). The same
functions serve the playground and ``python -m nn_core train --config LINK``, so a run started in
the browser is repeated in a terminal with the same ``ModelConfig`` and ``TrainConfig``.

Layer specs (``ModelConfig.layers``: conv, pooling, batch norm, dropout) go in ``values["layers"]``
(a tuple of ``LayerSpec``; empty for an MLP) and travel in one parameter in the layer grammar,
``layers=conv16x5,maxpool2,dense128``, which replaces ``hidden``, ``act`` and ``dropout``. A stack of
dense layers alone is kept as an MLP (``hidden``/``act``), so old links stay as they were.

A bad link parameter is reported (``decode`` returns the problems) and its value kept from the
base; ``configs_from_link`` refuses a link with any problem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from nn_core.architecture import LayerSpec, format_layers, parse_layers
from nn_core.config import MAX_HIDDEN_LAYERS, ConfigError, ModelConfig, TrainConfig
from nn_core.settings import Setting, all_settings, get_setting, snap

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
    values = {s.name: to_value(s, getattr(configs[s.owner], s.name)) for s in link_settings()}
    values[LAYER_PARAM] = ()
    if model.layers:
        set_stack(values, model.layers)
    return values


LAYER_PARAM = "layers"
MLP_SPEC_FIELDS = ("hidden", "activations", "dropout")  # what a layer stack replaces


def mlp_of(specs: tuple[LayerSpec, ...]) -> tuple[tuple[int, ...], tuple[str, ...]] | None:
    """(hidden, activations) when ``specs`` are dense layers an MLP can hold, else None."""
    choices = get_setting("activations").choices
    if len(specs) > MAX_HIDDEN_LAYERS or not all(
        s.kind == "dense" and s.activation in choices for s in specs
    ):
        return None
    return tuple(spec.units for spec in specs), tuple(spec.activation for spec in specs)


def set_stack(values: dict[str, Any], specs: tuple[LayerSpec, ...]) -> None:
    """Put the hidden layers ``specs`` into ``values``: as ``hidden``/``activations`` when they are
    plain dense layers (``layers`` empty), else as ``layers`` (``hidden`` and ``activations`` empty)."""
    mlp = mlp_of(specs)
    if mlp is not None:  # also for no layers at all
        values["hidden"], values["activations"] = mlp
        values[LAYER_PARAM] = ()
    else:
        values[LAYER_PARAM] = tuple(specs)
        values["hidden"], values["activations"] = (), ()
        values["dropout"] = 0.0  # a dropout row of its own instead


def stack(values: Mapping[str, Any]) -> tuple[LayerSpec, ...]:
    """The hidden layers of ``values`` as specs (dense specs for an MLP; its dropout is not a layer)."""
    if values.get(LAYER_PARAM):
        return tuple(values[LAYER_PARAM])
    return tuple(
        LayerSpec("dense", units=int(w), activation=a)
        for w, a in zip(values["hidden"], values["activations"], strict=False)
    )


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
    if values.get(LAYER_PARAM):
        kwargs["model"].update(layers=tuple(values[LAYER_PARAM]), hidden=(), activations=(), dropout=0.0)
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
    """Link parameters (short name -> text) for the values; ``layers=...`` for a layer stack."""
    layers = values.get(LAYER_PARAM)
    skip = MLP_SPEC_FIELDS if layers else ()
    params = {s.short: format_value(s, values[s.name]) for s in link_settings() if s.name not in skip}
    if layers:
        params[LAYER_PARAM] = format_layers(tuple(layers))
    return params


def decode(
    params: Mapping[str, str], base: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Values from link parameters over ``base`` (default: the first screen); returns (values, problems)."""
    values = dict(base if base is not None else default_values())
    values.setdefault(LAYER_PARAM, ())
    problems: list[str] = []
    for s in link_settings():
        if s.short not in params:
            continue
        text = str(params[s.short]).strip()
        try:
            values[s.name] = parse_value(s, text)
        except ValueError as err:
            problems.append(f"`{s.short}={text[:40]}`: {err}; kept {format_value(s, values[s.name])}")
            continue
        if s.log and not math.isclose(values[s.name], float(text), rel_tol=1e-6):
            problems.append(
                f"`{s.short}={text[:40]}`: {_snap_reason(float(text), s.grid)}; used {values[s.name]:g}"
            )
    for s in link_settings():
        if s.step:
            stepped = to_value(s, values[s.name])
            if stepped != values[s.name] and s.short in params:
                problems.append(
                    f"`{s.short}={str(params[s.short])[:40]}`: {s.label} goes in steps of {s.step:,}; used {stepped:,}"
                )
            values[s.name] = stepped
    hidden, acts = values["hidden"], values["activations"]
    if len(acts) != len(hidden):  # pad or cut the activations to one per layer
        values["activations"] = tuple(acts[: len(hidden)]) + (acts[-1] if acts else "relu",) * max(
            0, len(hidden) - len(acts)
        )
        if "act" in params:
            problems.append("`act` should list one activation per hidden layer; the list was adjusted")
    if LAYER_PARAM in params:
        text = str(params[LAYER_PARAM]).strip()
        try:
            set_stack(values, parse_layers(text))
        except ConfigError as err:
            kept = format_layers(stack(values))
            problems.append(f"`{LAYER_PARAM}={text[:60]}`: {err}; kept {kept or 'no hidden layers'}")
    return values, problems


def _snap_reason(number: float, options: tuple[float, ...]) -> str:
    """Why a number was replaced by the nearest option of a log-scale setting."""
    positive = [o for o in options if o > 0]
    if number < 0 or (number == 0 and 0 not in options):
        return f"must be {'0 or more' if 0 in options else 'above 0'}"
    if number > max(options):
        return f"the largest choice is {max(options):g}"
    if 0 < number < min(positive):
        return f"the smallest choice above 0 is {min(positive):g}"
    return "not one of the choices; the nearest was taken"


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
    if not any(s.short in params for s in link_settings()) and LAYER_PARAM not in params:
        raise ConfigError("that link holds no playground settings (expected parameters such as lr=0.05)")
    values, problems = decode(params)
    if problems:
        raise ConfigError("the link has settings that cannot be used: " + "; ".join(problems))
    return configs_from_values(values)
