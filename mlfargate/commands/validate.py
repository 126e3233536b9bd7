"""``mlfargate validate SPEC``: shape and AWS rules; exit 2 with every error line on failure."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import Subparsers, emit_json, examples, out
from mlfargate.spec.model import DEFAULT_FILE
from mlfargate.spec.rules import load_valid


def run(args: argparse.Namespace) -> int:
    spec = load_valid(Path(args.spec))
    if args.json:
        emit_json(
            {"valid": True, "name": spec.name, "environment": spec.environment, "summary": spec.summary()}
        )
    else:
        out(f"ok: {spec.summary()}")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "validate",
        help="check a spec against its shape and the AWS rules",
        description="Check a spec against its shape (keys, types, ranges) and the AWS rules (GPUs never "
        "on Fargate, Fargate CPU/memory pairs, instance types and regions from the catalog, schedules, "
        "exposure). Every problem is reported, one line each with its key path; exit 2 when there is any.",
        epilog=examples("mlfargate validate", "mlfargate validate mine.yaml --json"),
    )
    p.add_argument("spec", nargs="?", default=DEFAULT_FILE, help=f"spec file (default {DEFAULT_FILE})")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a line")
    p.set_defaults(handler=run)
