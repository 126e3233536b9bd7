"""``mlfargate init [--out FILE]``: write a commented, valid example spec to start from."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import Subparsers, emit_json, examples, out
from mlfargate.files import OutputPathError, write_text_atomic
from mlfargate.spec.model import DEFAULT_FILE, example_text


def run(args: argparse.Namespace) -> int:
    target = Path(args.out)
    if target.is_dir():
        raise OutputPathError(
            f"{target}: is a directory; --out names the spec file to write, e.g. {target / DEFAULT_FILE}"
        )
    text = example_text()
    write_text_atomic(target, text, overwrite=args.force)
    if args.json:
        emit_json({"wrote": str(target), "bytes": len(text.encode()), "next": f"mlfargate validate {target}"})
        return 0
    out(f"wrote {target}; edit it, then run: mlfargate validate {target}")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "init",
        help="write a commented example spec",
        description="Write a commented, valid example spec to start from: a CPU model server on Fargate "
        "with Fargate Spot, every key explained, the defaults spelled out. Refuses to overwrite an "
        "existing file unless --force.",
        epilog=examples(
            "mlfargate init",
            "mlfargate init --out mine.yaml && mlfargate validate mine.yaml",
            "mlfargate init --out mine.yaml --force --json",
        ),
    )
    p.add_argument("--out", default=DEFAULT_FILE, help=f"file to write (default {DEFAULT_FILE})")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.add_argument(
        "--json", action="store_true", help="print a JSON object (the file written) instead of a line"
    )
    p.set_defaults(handler=run)
