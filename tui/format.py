"""How numbers and paths read in the wizard (no Textual)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def money(value: float) -> str:
    return f"${value:,.2f}"


def money_change(value: float) -> str:
    """A difference in cost: ``+$1.00``, ``-$1.00``, or ``$0.00``."""
    sign = "+" if value > 0 else "-" if value < 0 else ""
    return f"{sign}{money(abs(value))}"


def qty(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value else "0"


def shown_path(path: Path) -> str:
    """A path as the operator typed it: relative to the working directory when it lies below it (no
    machine-specific prefix on screen), else as given."""
    try:
        rel = os.path.relpath(path.absolute(), Path.cwd())
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def shell_path(path: Path) -> str:
    return shlex.quote(shown_path(path))
