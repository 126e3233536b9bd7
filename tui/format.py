"""How paths read in the wizard (no Textual); money and quantities: :mod:`mlfargate.cost.text`."""

from __future__ import annotations

import os
import shlex
from pathlib import Path


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
