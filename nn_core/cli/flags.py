"""The ``train`` command's setting flags, generated from the settings schema, and the reverse.

``add_setting_flags`` gives every declared setting a flag (``--lr``, ``--hidden 256,128``,
``--activation relu,tanh``, ``--augment/--no-augment``) with its type, choices and range in the
help, in one ``--help`` section per playground panel. ``apply_flags`` lays the flags given over a
pair of configs; ``load_config_source`` reads the configs of ``--config`` (a model file, a run
folder or its run.json, a JSON file, or a playground link); ``command_args`` / ``command_line``
write the flags that reproduce a pair of configs exactly.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
from pathlib import Path
from typing import Any

from nn_core import links
from nn_core.architecture import format_layers
from nn_core.config import ConfigError, ModelConfig, TrainConfig
from nn_core.settings import GROUPS, Setting, all_settings
from nn_core.store.model_file import load_model
from nn_core.store.runstore import RUN_FILE

PROGRAM = ("python", "-m", "nn_core", "train")


def hidden_widths(text: str) -> tuple[int, ...]:
    """Parse "256,128" into (256, 128); "" or "none" gives no hidden layer."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated widths such as 256,128, got {text!r}"
        ) from None


def _choice_list(spec: Setting) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        items = tuple(t.strip() for t in text.split(",") if t.strip())
        bad = [t for t in items if t not in spec.choices]
        if bad:
            raise argparse.ArgumentTypeError(
                f"unknown {spec.label} {bad[0]!r}: choose from {', '.join(spec.choices)}"
            )
        return items

    parse.__name__ = f"{spec.label} list"
    return parse


def _help(spec: Setting) -> str:
    text = spec.help
    if spec.kind == "ints":
        text += f" Comma-separated, each {spec.range_text()}, e.g. 256,128 ('' for none)."
    elif spec.kind == "choices":
        text += f" One for every layer, or one per layer, e.g. relu,tanh ({', '.join(spec.choices)})."
    elif spec.kind in ("int", "float"):
        text += f" Range: {spec.range_text()}{'; 0 means all' if spec.full else ''}."
    return text.replace("%", "%%")


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting, grouped like the playground's panels; each defaults to None (not given)."""
    groups = {g: parser.add_argument_group(f"{g.lower()} settings") for g in GROUPS}
    for spec in sorted(all_settings(), key=lambda s: GROUPS.index(s.group)):
        group, flag = groups[spec.group], f"--{spec.flag}"
        options: dict[str, Any] = {"dest": spec.name, "default": None, "help": _help(spec)}
        if spec.kind == "bool":
            group.add_argument(flag, action=argparse.BooleanOptionalAction, **options)
        elif spec.kind == "choice":
            group.add_argument(flag, choices=list(spec.choices), **options)
        elif spec.kind == "ints":
            group.add_argument(flag, type=hidden_widths, metavar="W1,W2", **options)
        elif spec.kind == "choices":
            group.add_argument(flag, type=_choice_list(spec), metavar="A1,A2", **options)
        else:
            kind = int if spec.kind == "int" else float
            group.add_argument(flag, type=kind, metavar="N" if kind is int else "X", **options)


def apply_flags(
    args: argparse.Namespace, model: ModelConfig, train: TrainConfig
) -> tuple[ModelConfig, TrainConfig]:
    """The configs with every setting flag given in ``args`` applied (not validated).

    One ``--activation`` applies to every hidden layer. ``--hidden`` alone keeps the activations
    when the number of layers is unchanged, else gives every layer the first one.
    """
    given = {s.name: getattr(args, s.name) for s in all_settings() if getattr(args, s.name, None) is not None}
    hidden = given.get("hidden", model.hidden)
    acts = given.get("activations", model.activations)
    if "activations" in given and len(acts) == 1:
        acts = acts * len(hidden)
    elif "activations" not in given and len(acts) != len(hidden):
        acts = (acts[0] if acts else "relu",) * len(hidden)
    given.update(hidden=tuple(hidden), activations=tuple(acts))
    owners = {s.name: s.owner for s in all_settings()}
    model = dataclasses.replace(model, **{k: v for k, v in given.items() if owners[k] == "model"})
    train = dataclasses.replace(train, **{k: v for k, v in given.items() if owners[k] == "train"})
    return model, train


def load_config_source(text: str) -> tuple[ModelConfig, TrainConfig]:
    """The configs held by a model file (.npz), a run folder or run.json, a JSON file, or a link.

    A JSON file holds ``model_config`` and ``train_config`` objects (as run.json and a model file's
    metadata do); a missing one takes its class's defaults. A link is the playground's address (or
    just its query string): its missing parameters take the playground's first-screen values.
    """
    path = Path(text).expanduser()
    try:  # a link is no path; a long one is even too long a name to look up
        path.stat()
    except (OSError, ValueError):
        path = None
    if path is None:
        if "=" in text:
            return links.configs_from_link(text)
        raise ConfigError(f"--config {text}: no such file, and not a playground link (it has no '=')")
    if path.is_dir():
        if not (path / RUN_FILE).is_file():
            raise ConfigError(f"--config {text}: that folder holds no {RUN_FILE}")
        path = path / RUN_FILE
    if path.is_file():
        if path.suffix == ".npz":
            saved = load_model(path)
            train = saved.train_config or TrainConfig(dataset=saved.dataset)
            return saved.network.config, train
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ConfigError(f"--config {text}: not a model file, run.json or JSON file ({err})") from None
        return configs_from_json(data, text)
    raise ConfigError(f"--config {text}: not a file or a folder")


def configs_from_json(data: Any, source: str = "JSON") -> tuple[ModelConfig, TrainConfig]:
    """The configs in a dict with ``model_config`` and/or ``train_config`` entries."""
    if not isinstance(data, dict) or not ({"model_config", "train_config"} & set(data)):
        raise ConfigError(f"--config {source}: expected a JSON object with model_config and train_config")
    model, train = data.get("model_config") or {}, data.get("train_config") or {}
    if not isinstance(model, dict) or not isinstance(train, dict):
        raise ConfigError(f"--config {source}: model_config and train_config must be JSON objects")
    return ModelConfig.from_dict(model), TrainConfig.from_dict(train)


def _text(spec: Setting, value: Any) -> str:
    if spec.kind == "choices" and len(set(value)) == 1:
        return value[0]  # one value stands for every layer
    if spec.kind in ("ints", "choices"):
        return ",".join(str(v) for v in value)
    return repr(float(value)) if spec.kind == "float" else str(value)


def command_args(model: ModelConfig, train: TrainConfig) -> list[list[str]]:
    """The setting flags reproducing ``model`` and ``train`` exactly, one list per ``--help`` group."""
    configs = {"model": model, "train": train}
    out = []
    for group in GROUPS:
        words: list[str] = []
        if model.layers and group == "Network":  # layer specs replace hidden, activations and dropout
            words += ["--layers", format_layers(model.layers, "relu")]
        for spec in (s for s in all_settings() if s.group == group):
            if model.layers and spec.name in ("hidden", "activations", "dropout"):
                continue
            value = getattr(configs[spec.owner], spec.name)
            if spec.kind == "bool":
                words.append(f"--{'' if value else 'no-'}{spec.flag}")
            else:
                words += [f"--{spec.flag}", _text(spec, value)]
        out.append(words)
    return out


def command_line(model: ModelConfig, train: TrainConfig, multiline: bool = False, width: int = 80) -> str:
    """``python -m nn_core train ...`` reproducing the configs.

    ``multiline`` starts each group on a new line (continued with ``\\``), wrapping at ``width``.
    """
    groups = command_args(model, train)
    if not multiline:
        return shlex.join([*PROGRAM, *(w for words in groups for w in words)])
    lines = [shlex.join(PROGRAM)]
    for words in groups:
        options: list[list[str]] = []
        for word in words:  # a flag with its value, if any
            if word.startswith("--"):
                options.append([word])
            else:
                options[-1].append(word)
        line = ""
        for option in (shlex.join(o) for o in options):
            if line and len(line) + 1 + len(option) > width - 6:
                lines.append(line)
                line = option
            else:
                line = f"{line} {option}".strip()
        lines.append(line)
    return " \\\n    ".join(lines)
