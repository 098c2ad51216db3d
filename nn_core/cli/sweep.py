"""``python -m nn_core sweep``: train every combination of a few settings through the run queue.

Example: ``sweep --vary lr=0.01,0.03,0.1 --vary batch-size=32,128 --seeds 3 --epochs 5 --json``.
Runs go through the same queue and executor as the app's (``DIGIT_LAB_EXECUTOR``,
``DIGIT_LAB_MAX_RUNS``) and are kept in the run store, so the playground lists them. With
``--json`` each finished run prints one object (``run_id``, ``settings``, ``best_val_acc``,
``test_accuracy``, ``seconds``, ...), then a final ``{"best": ...}``.
"""

from __future__ import annotations

import argparse

from nn_core.cli.common import json_line
from nn_core.cli.train import add_config_arguments, configs_from_args
from nn_core.jobs.executors import make_executor, max_running
from nn_core.jobs.queue import RunQueue
from nn_core.jobs.sweep import expand, parse_vary
from nn_core.jobs.sweeps import best_run, create_sweep, run_sweep

CLI_OWNER = "command-line"


def add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="train many runs that vary a few settings",
        description="Train every combination of the --vary values (or --random N of them) through the run queue.",
    )
    p.add_argument(
        "--vary",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="a setting and its values: lr=0.01,0.1, batch-size=32,128, hidden=128,256-128 or a range lr=1e-4..1e-1",
    )
    p.add_argument("--seeds", type=int, default=1, metavar="K", help="repeat each combination with K seeds")
    p.add_argument(
        "--random", type=int, default=0, metavar="N", help="N random combinations instead of the grid"
    )
    p.add_argument("--executor", metavar="SPEC", help="local (default) or dask://HOST:PORT")
    p.add_argument("--max-runs", type=int, metavar="K", help="runs training at once (default: cores)")
    p.add_argument("--owner", default=CLI_OWNER, metavar="ID", help="owner id the runs are stored under")
    add_config_arguments(p)
    p.add_argument("--json", action="store_true", help="print JSON Lines instead of text")
    p.set_defaults(run=run_sweep_command, parser=p)


def run_sweep_command(args: argparse.Namespace) -> int:
    model, train = configs_from_args(args)
    points = expand(
        model, train, [parse_vary(v) for v in args.vary], seeds=args.seeds, random_runs=args.random
    )
    sweep = create_sweep(points, args.owner)
    if not args.json:
        print(f"Sweep {sweep['sweep_id']}: {len(points)} runs")
    cap = args.max_runs or max_running()
    results = []
    with make_executor(args.executor, workers=cap) as executor:
        queue = RunQueue(executor, cap)
        for result in run_sweep(sweep, queue):
            results.append(result)
            if args.json:
                print(json_line(result), flush=True)
            else:
                acc = result.get("test_accuracy")
                acc_text = f"{acc:.2%} test" if acc is not None else result.get("status", "")
                print(f"{len(results)}/{len(points)}  {result['settings']}  {acc_text}", flush=True)
    best = best_run(results)
    if args.json:
        print(json_line({"sweep_id": sweep["sweep_id"], "best": best}), flush=True)
    elif best is not None:
        print(f"Best: {best['settings']} (run {best['run_id']})")
    return 0 if best is not None else 1
