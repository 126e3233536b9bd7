"""``mlfargate init [--out FILE]``: write a commented, valid example spec to start from."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import Subparsers, out
from mlfargate.files import OutputPathError, write_text_atomic
from mlfargate.spec.model import DEFAULT_FILE, example_text


def run(args: argparse.Namespace) -> int:
    target = Path(args.out)
    if target.is_dir():
        raise OutputPathError(
            f"{target}: is a directory; --out names the spec file to write, e.g. {target / DEFAULT_FILE}"
        )
    write_text_atomic(target, example_text(), overwrite=args.force)
    out(f"wrote {target}; edit it, then run: mlfargate validate {target}")
    return 0


def register(sub: Subparsers) -> None:
    p = sub.add_parser("init", help="write a commented example spec")
    p.add_argument("--out", default=DEFAULT_FILE, help=f"file to write (default {DEFAULT_FILE})")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(handler=run)
