"""``mlfargate schema``: the spec's JSON Schema, generated from the model (for editor completion)."""

from __future__ import annotations

import argparse

from mlfargate.commands._common import Subparsers, emit_json, examples
from mlfargate.spec.model import json_schema


def run(args: argparse.Namespace) -> int:
    emit_json(json_schema())
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "schema",
        help="print the spec's JSON Schema",
        description="Print the JSON Schema of the deployment spec, generated from the model the CLI "
        "validates with: point an editor's YAML language server at it for completion and checks while "
        "you type. The output is always one JSON document (--json is accepted for uniformity).",
        epilog=examples(
            "mlfargate schema > mlfargate.schema.json",
            "# then, first line of mlfargate.yaml: # yaml-language-server: $schema=mlfargate.schema.json",
        ),
    )
    p.add_argument("--json", action="store_true", help="the schema is JSON already: the same output")
    p.set_defaults(handler=run)
