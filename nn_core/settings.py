"""The settings schema: each setting is declared once, beside its config field, and read from there.

A field of ``ModelConfig`` or ``TrainConfig`` becomes a *setting* by carrying
``metadata=setting(...)``: its range, choices, help text, the panel it belongs to (``group``) and
the names it goes by in a shared playground link (``short``) and on the command line (``flag``).
Everything else is derived: ``validate()`` checks ranges and choices through ``check_settings``,
the command line builds its flags from ``all_settings()``, the playground's links and widgets read
the same records (``nn_core.links``). Fields without the metadata (``n_inputs``) are not settings.

Example::

    lr: float = field(default=0.05, metadata=setting(
        "the learning rate", min=0.0, min_open=True, max=100.0, log=True, group="Optimisation",
        short="lr", help="Step size ..."))
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

KEY = "digit_lab_setting"  # the metadata entry that marks a field as a setting
GROUPS = ("Network", "Optimisation", "Data", "Regularisation")  # the playground's panels, in order
_KINDS = {  # a field's annotation -> the setting's kind (choices turn "str" into "choice")
    "int": "int",
    "float": "float",
    "bool": "bool",
    "str": "choice",
    "tuple[int, ...]": "ints",
    "tuple[str, ...]": "choices",
}


def setting(
    label: str,
    *,
    help: str,
    group: str,
    short: str | None = None,
    flag: str | None = None,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None,
    hint: str = "",
    widget: tuple[float, float] | None = None,
    log: bool = False,
    grid: tuple[float, ...] = (),
    step: int | None = None,
    full: int | None = None,
    requires: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """Field metadata declaring a setting (use as ``field(default=..., metadata=setting(...))``).

    Parameters
    ----------
    label : the setting in an error message ("the learning rate"; "activation" for choices).
    help : one or two sentences for the widget's tooltip and the flag's ``--help``.
    group : the playground panel and ``--help`` section, one of ``GROUPS``.
    short : its name in a playground link (``None``: not in links nor in the playground).
    flag : its command-line flag without dashes (default: the field name with ``-`` for ``_``).
    min, max, min_open, max_open : the valid range (open ends exclude the bound); items of a tuple
        field are checked one by one.
    choices : the allowed strings, or a function returning them (read when needed).
    hint : advice appended to a range error, e.g. "(0.9 is typical)".
    widget : the span the playground's control offers, when narrower than ``min``-``max``.
    log : a log-scale quantity; ``grid`` then lists the stops of the playground's slider.
    step : the playground's slider moves by ``step`` (links are rounded to it).
    full : ``0`` means "all"; the playground shows and links write it as this value.
    requires : the name of a boolean setting without which this one is off.
    kind : one of ``_KINDS``' values, for a field whose annotation is not in ``_KINDS``.
    """
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
    spec = {k: v for k, v in locals().items() if k != "label"}
    return {KEY: {"label": label, **spec}}


@dataclass(frozen=True)
class Setting:
    """One setting as declared on its config field (see ``setting`` for the meaning of each entry)."""

    name: str  # the config field
    owner: str  # "model" (ModelConfig) or "train" (TrainConfig)
    kind: str  # "int", "float", "bool", "choice", "ints" (a tuple of ints) or "choices"
    default: Any
    label: str
    help: str
    group: str
    short: str | None = None
    flag: str | None = None
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    choices_from: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    hint: str = ""
    widget: tuple[float, float] | None = None
    log: bool = False
    grid: tuple[float, ...] = ()
    step: int | None = None
    full: int | None = None
    requires: str | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        """The allowed strings (empty for a number or a switch)."""
        c = self.choices_from
        return tuple(c() if callable(c) else c or ())

    @property
    def span(self) -> tuple[float, float] | None:
        """The playground's range: ``widget`` when declared, else ``(min, max)`` when both are set."""
        if self.widget is not None:
            return self.widget
        if self.min is not None and self.max is not None:
            return (self.min, self.max)
        return None

    def range_text(self) -> str:
        """The valid range in words: "1 to 10000", "in [0, 1)", "above 0 and at most 100", ..."""
        lo, hi = self.min, self.max
        integer = self.kind in ("int", "ints")
        if lo is not None and hi is not None:
            if not self.min_open and not self.max_open and integer:
                return f"{lo:g} to {hi:g}"
            if not self.min_open:
                return f"in [{lo:g}, {hi:g}{')' if self.max_open else ']'}"
            return f"above {lo:g} and {'below' if self.max_open else 'at most'} {hi:g}"
        if lo is not None:
            if integer and lo == 0 and not self.min_open:
                return "0 or more"
            return f"{'above' if self.min_open else 'at least'} {lo:g}"
        if hi is not None:
            return f"{'below' if self.max_open else 'at most'} {hi:g}"
        return "any number"

    def in_range(self, value: float) -> bool:
        """Whether ``value`` is finite and within the declared range."""
        if not math.isfinite(value):
            return False
        if self.min is not None and (value <= self.min if self.min_open else value < self.min):
            return False
        return self.max is None or (value < self.max if self.max_open else value <= self.max)

    def check(self, value: Any) -> None:
        """Raise ``ConfigError`` with advice when ``value`` is not allowed for this setting."""
        from nn_core.config import ConfigError

        items = value if self.kind in ("ints", "choices") else (value,)
        for item in items:
            if self.kind in ("choice", "choices"):
                if item not in self.choices:
                    raise ConfigError(
                        f"unknown {self.label} {item!r}: choose one of {', '.join(self.choices)}"
                    )
            elif self.kind != "bool" and not self.in_range(item):
                if self.kind in ("int", "ints") and self.min == 0 and self.max is None:
                    raise ConfigError(f"{self.label} cannot be negative, got {item}")
                hint = f" {self.hint}" if self.hint else ""
                raise ConfigError(f"{self.label} must be {self.range_text()}{hint}, got {item}")


@functools.cache
def settings_of(cls: type) -> tuple[Setting, ...]:
    """The settings declared on the fields of config class ``cls``, in field order."""
    owner = "model" if cls.__name__ == "ModelConfig" else "train"
    out = []
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(KEY)
        if spec is None:
            continue
        spec = dict(spec)
        kind = spec.pop("kind") or _KINDS.get(str(f.type))
        if kind is None:
            raise TypeError(f"{cls.__name__}.{f.name}: declare kind= for a setting of type {f.type}")
        choices = spec.pop("choices")
        flag = spec.pop("flag") or f.name.replace("_", "-")
        out.append(
            Setting(f.name, owner, kind, f.default, choices_from=choices, flag=flag, **spec)  # type: ignore[arg-type]
        )
    return tuple(out)


def all_settings() -> tuple[Setting, ...]:
    """Every setting: the model's, then the training run's."""
    from nn_core.config import ModelConfig, TrainConfig

    return settings_of(ModelConfig) + settings_of(TrainConfig)


def get_setting(name: str) -> Setting:
    """The setting of config field ``name`` (``KeyError`` when it is not one)."""
    for s in all_settings():
        if s.name == name:
            return s
    raise KeyError(name)


def check_settings(config: Any) -> None:
    """Check each setting of ``config`` against its declared range and choices (``ConfigError``)."""
    for s in settings_of(type(config)):
        s.check(getattr(config, s.name))


def snap(value: float, grid: tuple[float, ...], log: bool = True) -> float:
    """The stop of ``grid`` nearest to ``value``, on a log scale when ``log`` (0 matches only 0)."""
    if not log:
        return min(grid, key=lambda g: abs(g - value))
    if value <= 0:
        return min(grid, key=abs)
    positive = [g for g in grid if g > 0]
    return min(positive, key=lambda g: abs(math.log(g) - math.log(value)))


# Stops of the playground's log-scale sliders; links snap to them (declared as a setting's ``grid``).
LR_GRID = tuple(
    sorted({float(f"{m}e{k}") for k in range(-5, 1) for m in (1, 1.3, 1.6, 2, 2.5, 3, 4, 5, 6, 8)} | {10.0})
)
L2_GRID = (0.0, 1e-6, 3e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
DECAY_GRID = (1e-6, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
