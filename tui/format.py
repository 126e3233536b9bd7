"""How numbers and paths read in the wizard (no Textual)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path


def money(value: float) -> str:
    return f"${value:,.2f}"


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
