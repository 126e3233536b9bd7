"""Writing files so that a failure never leaves anything half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from mlfargate.errors import MlfargateError

#: Where mlfargate keeps its caches (refreshed prices, the provider schema, gate verdicts):
#: ``$MLFARGATE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mlfargate``, else ``~/.cache/mlfargate``.
CACHE_ENV = "MLFARGATE_CACHE_DIR"


def user_cache_dir() -> Path:
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "mlfargate"


class OutputExistsError(MlfargateError):
    """The target exists and the operator did not ask to overwrite it."""


class OutputPathError(MlfargateError):
    """The path to write is a directory, or cannot be written."""


def write_text_atomic(path: Path, text: str, *, overwrite: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and a rename."""
    if path.is_dir():  # --force cannot help: a file never replaces a directory
        raise OutputPathError(f"{path}: is a directory; name a file to write")
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: already exists; pass --force to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OutputPathError(f"{path}: cannot write it ({exc.strerror or exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
