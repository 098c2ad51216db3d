"""Hyperparameter sweeps: from "vary these settings over these values" to a list of run configs.

A ``Vary`` names one setting (a field of ``ModelConfig`` or ``TrainConfig``, dashes or
underscores) and either a list of values or a range ``low..high`` (log-spaced for settings that
live on a log scale, such as the learning rate and weight decay). ``expand`` makes every
combination (grid) or N random ones, each repeated for several seeds.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nn_core.config import ConfigError, ModelConfig, TrainConfig

MAX_SETTINGS = 3  # a sweep varies at most three settings (a heatmap shows two, parallel coordinates more)
MAX_RUNS = 200
LOG_SCALE = ("lr", "weight_decay", "decay")
NOT_SWEPT = ("dataset", "n_inputs", "n_classes", "activations", "layers")  # fixed by the data or per layer


@dataclass(frozen=True)
class Vary:
    """One swept setting: ``values`` (a list) or ``low``/``high`` (a range, sampled or spaced)."""

    name: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None


@dataclass(frozen=True)
class SweepPoint:
    """One run of a sweep: the varied values (``settings``) and the full configs."""

    settings: dict[str, Any]
    seed: int
    model: ModelConfig
    train: TrainConfig


def _field_types() -> dict[str, tuple[type, Any]]:
    """Setting name -> (config class, default value) for every sweepable field."""
    out: dict[str, tuple[type, Any]] = {}
    for cls in (ModelConfig, TrainConfig):
        for f in dataclasses.fields(cls):
            if f.name not in NOT_SWEPT:
                out[f.name] = (cls, getattr(cls(), f.name))
    return out


def _convert(name: str, text: str, default: Any) -> Any:
    """A value of ``name``'s type from its text form ("0.01", "true", "256-128" for hidden widths)."""
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError
            return text.lower() in ("true", "1", "yes")
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
        if isinstance(default, tuple):
            return tuple(int(w) for w in text.split("-") if w)
        return text
    except ValueError:
        raise ConfigError(f"{name}: {text!r} is not a valid value for this setting") from None


def parse_vary(text: str) -> Vary:
    """Parse ``lr=0.01,0.03,0.1``, ``batch-size=32,128``, ``hidden=128,256-128`` or ``lr=1e-4..1e-1``."""
    name, sep, spec = text.partition("=")
    name = name.strip().replace("-", "_")
    types = _field_types()
    if not sep or not spec.strip():
        raise ConfigError(f"--vary needs NAME=VALUES, e.g. lr=0.01,0.1 (got {text!r})")
    if name not in types:
        raise ConfigError(f"cannot vary {name!r}: choose one of {', '.join(sorted(types))}")
    default = types[name][1]
    if ".." in spec:
        if not isinstance(default, (int, float)) or isinstance(default, bool):
            raise ConfigError(f"{name}: a range low..high needs a numeric setting")
        low, high = (_convert(name, part.strip(), 0.0) for part in spec.split("..", 1))
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ConfigError(f"{name}: a range needs low < high, got {spec!r}")
        if name in LOG_SCALE and low <= 0:
            raise ConfigError(f"{name} varies on a log scale: the range must be above 0")
        return Vary(name, low=float(low), high=float(high))
    values = tuple(dict.fromkeys(_convert(name, v.strip(), default) for v in spec.split(",") if v.strip()))
    if not values:
        raise ConfigError(f"{name}: give at least one value")
    return Vary(name, values=values)


def _range_values(vary: Vary, count: int, rng: np.random.Generator | None, is_int: bool) -> list[Any]:
    """``count`` values in [low, high]: evenly spaced (log-spaced for LOG_SCALE), or random with ``rng``."""
    low, high = float(vary.low), float(vary.high)  # type: ignore[arg-type]
    log = vary.name in LOG_SCALE
    a, b = (math.log10(low), math.log10(high)) if log else (low, high)
    points = rng.uniform(a, b, count) if rng is not None else np.linspace(a, b, count)
    values = [10**p if log else p for p in points]
    return [round(v) for v in values] if is_int else [float(f"{v:.4g}") for v in values]


def expand(
    model: ModelConfig,
    train: TrainConfig,
    varies: list[Vary],
    seeds: int = 1,
    random_runs: int = 0,
    rng: np.random.Generator | None = None,
    range_steps: int = 4,
) -> list[SweepPoint]:
    """Every run of the sweep: a grid over the values (ranges spaced in ``range_steps`` values), or
    ``random_runs`` random combinations (ranges sampled), each for ``seeds`` seeds (0, 1, ...
    added to the base seed). Raises ``ConfigError`` for a sweep that is empty, too big or invalid."""
    if not varies:
        raise ConfigError("a sweep needs at least one --vary setting")
    if len(varies) > MAX_SETTINGS:
        raise ConfigError(f"a sweep varies at most {MAX_SETTINGS} settings, got {len(varies)}")
    names = [v.name for v in varies]
    if len(set(names)) != len(names):
        raise ConfigError("each setting may be varied once")
    if seeds < 1 or random_runs < 0:
        raise ConfigError("seeds must be at least 1 and the number of random runs 0 or more")
    types = _field_types()
    rng = rng if rng is not None else np.random.default_rng(train.seed)
    combos: list[tuple[Any, ...]]
    if random_runs:
        columns = []
        for v in varies:
            is_int = isinstance(types[v.name][1], int) and not isinstance(types[v.name][1], bool)
            if v.is_range:
                columns.append(_range_values(v, random_runs, rng, is_int))
            else:
                columns.append([v.values[i] for i in rng.integers(0, len(v.values), random_runs)])
        combos = list(zip(*columns, strict=True))
    else:
        axes = []
        for v in varies:
            is_int = isinstance(types[v.name][1], int) and not isinstance(types[v.name][1], bool)
            axes.append(_range_values(v, range_steps, None, is_int) if v.is_range else list(v.values))
        combos = list(itertools.product(*axes))
    if len(combos) * seeds > MAX_RUNS:
        raise ConfigError(f"this sweep has {len(combos) * seeds} runs; at most {MAX_RUNS} are allowed")
    points = []
    for combo in combos:
        settings = dict(zip(names, combo, strict=True))
        for offset in range(seeds):
            points.append(_point(model, train, settings, train.seed + offset, types))
    return points


def _point(
    model: ModelConfig, train: TrainConfig, settings: dict[str, Any], seed: int, types: dict
) -> SweepPoint:
    model_changes = {k: v for k, v in settings.items() if types[k][0] is ModelConfig}
    train_changes = {k: v for k, v in settings.items() if types[k][0] is TrainConfig}
    if "hidden" in model_changes:  # keep one activation per hidden layer
        act = model.activations[0] if model.activations else "relu"
        model_changes["activations"] = (act,) * len(model_changes["hidden"])
    new_model = dataclasses.replace(model, **model_changes)
    new_train = dataclasses.replace(train, **train_changes, seed=seed)
    new_model.validate()
    new_train.validate()
    return SweepPoint(settings, seed, new_model, new_train)
