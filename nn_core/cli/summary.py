"""The ``summary`` subcommand: a model's layers, output shapes, parameters and multiply-adds.

The model comes from ``--layers`` (the grammar of ``nn_core.architecture``), ``--hidden`` (an
MLP), a ``--preset`` or a saved ``--model`` file; ``--json`` prints one object with the rows and
totals instead of the table.
"""

from __future__ import annotations

import argparse
import dataclasses

from nn_core.activations import ACTIVATIONS
from nn_core.architecture import GRAMMAR_HELP, parse_layers
from nn_core.cli.common import json_line
from nn_core.config import ModelConfig
from nn_core.model_summary import architecture_string, summary, summary_text, totals
from nn_core.presets import PRESETS
from nn_core.store.model_file import load_model


def add_summary_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "summary",
        help="show a model's layers: output shapes, parameters, multiply-adds",
        description="Print a Keras-style summary of a model given by --layers, --hidden, --preset or --model.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--layers", metavar="SPEC", help=f"hidden layers, e.g. {GRAMMAR_HELP}")
    source.add_argument("--hidden", metavar="W1,W2", help="hidden-layer widths of an MLP, e.g. 256,128")
    source.add_argument("--preset", choices=list(PRESETS), metavar="NAME", help="a named preset's model")
    source.add_argument("--model", metavar="PATH", help="a model file saved by Digit Lab (.npz)")
    p.add_argument(
        "--activation", choices=ACTIVATIONS, help="activation of hidden layers without one (default: relu)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.set_defaults(run=run_summary, parser=p)


def config_from_args(args: argparse.Namespace) -> ModelConfig:
    """The model the arguments describe (``ConfigError`` for a bad spec)."""
    from nn_core.cli.flags import hidden_widths

    activation = args.activation or "relu"
    if args.layers is not None:
        return ModelConfig(hidden=(), activations=(), layers=parse_layers(args.layers, activation))
    if args.hidden is not None:
        try:
            hidden = hidden_widths(args.hidden)
        except argparse.ArgumentTypeError as err:
            args.parser.error(f"argument --hidden: {err}")
        return ModelConfig(hidden=hidden, activations=(activation,) * len(hidden))
    if args.preset is not None:
        return PRESETS[args.preset].model
    return load_model(args.model).network.config


def run_summary(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    rows = summary(config)
    if args.json:
        params, macs = totals(rows)
        print(
            json_line(
                {
                    "architecture": architecture_string(config),
                    "layers": [dataclasses.asdict(r) for r in rows],
                    "params": params,
                    "macs": macs,
                }
            )
        )
    else:
        print(architecture_string(config))
        print(summary_text(rows))
    return 0
