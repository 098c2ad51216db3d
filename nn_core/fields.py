"""Type-checked construction of frozen dataclasses from untrusted dicts (JSON in files and links).

``from_plain(cls, data)`` reads each field's annotation and checks the value against it before the
dataclass is built, so a config read from a model file, a run file or a URL can never hold a value of
the wrong type: ``bool`` is not accepted for ``int`` (nor the reverse), floats must be finite (when
``finite``), strings and tuples have a length cap, lists become tuples, and nested dataclasses are
read recursively. Unknown keys are ignored and missing keys take the field's default. The expected
types come from the dataclass itself, so a new field is checked as soon as it is declared;
``supported(cls)`` says whether every annotation is one this module can check.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, Union

MAX_TEXT = 10_000  # characters in one string field
MAX_ITEMS = 100_000  # items in one tuple field
MAX_INT = 2**53  # beyond this an int from JSON is not a setting anyone made


class ConfigError(ValueError):
    """A configuration that cannot be trained; the message says what to change."""


class FieldTypeError(ValueError):
    """A value whose type does not match its field; the message names the field and both types."""


def from_plain(cls: type, data: Any, *, finite: bool = True, where: str = "") -> Any:
    """Build dataclass ``cls`` from a dict, checking every given value against its annotation.

    Parameters
    ----------
    cls : a dataclass type
    data : dict of field name -> plain value (as parsed from JSON)
    finite : bool
        Refuse NaN and infinities in float fields.
    where : str
        A prefix for messages, e.g. ``"model_config"``.

    Raises
    ------
    FieldTypeError
        ``data`` is not a dict, or a value has the wrong type.
    """
    label = where or cls.__name__
    if not isinstance(data, dict):
        raise FieldTypeError(f"{label} must be a JSON object, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = check_value(data[f.name], hints[f.name], f"{label}.{f.name}", finite)
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise FieldTypeError(f"{label}: {err}") from err


def check_value(value: Any, annotation: Any, where: str, finite: bool = True) -> Any:
    """``value`` checked against ``annotation`` (and converted: list -> tuple, int -> float)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return check_value(value, option, where, finite)
            except FieldTypeError as err:
                errors.append(str(err))
        raise FieldTypeError(
            errors[0] if len(errors) == 1 else f"{where}: {_kind(value)} is not allowed here"
        )
    if origin is Literal:
        if value not in args or isinstance(value, bool) != any(isinstance(a, bool) for a in args):
            raise FieldTypeError(f"{where} must be one of {', '.join(map(repr, args))}, got {value!r:.60}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise FieldTypeError(f"{where} must be a list, got {_kind(value)}")
        if len(value) > MAX_ITEMS:
            raise FieldTypeError(f"{where} has {len(value):,} items, more than {MAX_ITEMS:,}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_value(v, args[0], f"{where}[{i}]", finite) for i, v in enumerate(value))
        if len(args) != len(value):
            raise FieldTypeError(f"{where} must have {len(args)} items, got {len(value)}")
        return tuple(
            check_value(v, a, f"{where}[{i}]", finite)
            for i, (v, a) in enumerate(zip(value, args, strict=True))
        )
    if annotation is bool:
        if not isinstance(value, bool):
            raise FieldTypeError(f"{where} must be true or false, got {_kind(value)}")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldTypeError(f"{where} must be a whole number, got {_kind(value)}")
        if abs(value) > MAX_INT:
            raise FieldTypeError(f"{where} is out of range ({len(str(abs(value)))} digits)")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FieldTypeError(f"{where} must be a number, got {_kind(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise FieldTypeError(f"{where} is out of range") from None
        if finite and not math.isfinite(number):
            raise FieldTypeError(f"{where} must be a finite number, got {number}")
        return number
    if annotation is str:
        if not isinstance(value, str):
            raise FieldTypeError(f"{where} must be text, got {_kind(value)}")
        if len(value) > MAX_TEXT:
            raise FieldTypeError(f"{where} is {len(value):,} characters long, more than {MAX_TEXT:,}")
        return value
    if dataclasses.is_dataclass(annotation):
        return from_plain(annotation, value, finite=finite, where=where)
    raise FieldTypeError(f"{where}: values of type {annotation!r} cannot be read from a file")


def supported(annotation: Any) -> bool:
    """True when ``check_value`` can check every value of ``annotation`` (a dataclass: all its fields)."""
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        hints = typing.get_type_hints(annotation)
        return all(supported(hints[f.name]) for f in dataclasses.fields(annotation))
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        return all(a is type(None) or supported(a) for a in args)
    if origin is Literal:
        return True
    if origin is tuple:
        return all(a is Ellipsis or supported(a) for a in args)
    return annotation in (bool, int, float, str)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"{type(value).__name__} {value!r:.40}"


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as plain JSON-ready values (tuples become lists)."""
    out = dataclasses.asdict(config)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}


def config_from_dict(cls: type, data: Any) -> Any:
    """Build a config from a dict: unknown keys ignored, lists turned into tuples, every value's type
    checked against its field; ``ConfigError`` names the field otherwise. Ranges and choices are
    checked by the config's ``validate()``."""
    try:
        return from_plain(cls, data)
    except FieldTypeError as err:
        raise ConfigError(str(err)) from err
