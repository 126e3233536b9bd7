"""``mlfargate status SPEC [--json] [--watch SECONDS] [--endpoint-url URL] [--cluster C --service S]``:
the deployed service now (tasks, targets, events, stopped tasks, the last hour of metrics, scaling,
cost per hour), once or every N seconds."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlfargate.commands._common import (
    Subparsers,
    add_live_args,
    emit_json,
    examples,
    live_watcher,
    out,
    watch_seconds,
)
from mlfargate.spec.model import DEFAULT_FILE

if TYPE_CHECKING:
    from mlfargate.live.model import Snapshot

CLEAR = "\033[H\033[2J"


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "status",
        help="the deployed service now: tasks, targets, events, metrics, scaling, cost per hour",
        description="Read the deployed service from AWS (batched calls; a part that cannot be read is "
        "marked, not fatal) and print one snapshot, or refresh it every SECONDS with --watch "
        "(CloudWatch at most once a minute). Stop --watch with Ctrl-C.",
        epilog=examples(
            "mlfargate status mine.yaml",
            "mlfargate status mine.yaml --watch 30",
            "mlfargate status mine.yaml --json",
        ),
    )
    p.add_argument("spec", nargs="?", default=DEFAULT_FILE, help=f"spec file (default {DEFAULT_FILE})")
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object (with --watch: one JSON object per line, per refresh)",
    )
    p.add_argument(
        "--watch",
        nargs="?",
        const="15",
        metavar="SECONDS",
        help="refresh every SECONDS (default 15) until Ctrl-C",
    )
    add_live_args(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mlfargate.live import text
    from mlfargate.live.watch import watch
    from mlfargate.spec.rules import load_valid

    every = watch_seconds(args.watch) if args.watch is not None else None
    spec = load_valid(Path(args.spec))
    watcher = live_watcher(spec, args)
    if every is None:
        snap = watcher.refresh()
        if args.json:
            emit_json(snap.to_dict())
        else:
            for line in text.status_lines(snap):
                out(line)
        return 0
    tty = sys.stdout.isatty()

    def emit(snap: Snapshot) -> None:
        if args.json:
            sys.stdout.write(json.dumps(snap.to_dict(), default=str) + "\n")
        else:
            if tty:
                sys.stdout.write(CLEAR)
            sys.stdout.write("\n".join(text.status_lines(snap, every_s=every)) + "\n")
            if not tty:
                sys.stdout.write("\n")
        sys.stdout.flush()

    watch(watcher, every, emit)
    return 0
