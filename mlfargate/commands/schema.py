"""``mlfargate schema``: the spec's JSON Schema, generated from the model (for editor completion)."""

from __future__ import annotations

import argparse

from mlfargate.commands._common import Subparsers, emit_json
from mlfargate.spec.model import json_schema


def run(args: argparse.Namespace) -> int:
    emit_json(json_schema())
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("schema", help="print the spec's JSON Schema")
    p.set_defaults(handler=run)
