"""Helpers shared by the CLI commands (the only layer besides ``cli.py`` that prints)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

#: The type of the object ``register(subparsers)`` receives.
if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction


def emit_json(data: Any) -> None:
    """Print one JSON document (commands with ``--json`` print exactly this to stdout)."""
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def out(line: str = "") -> None:
    print(line)


def err(line: str) -> None:
    print(line, file=sys.stderr)
