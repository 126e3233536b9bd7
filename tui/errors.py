"""Unexpected errors: the operator gets one line and the path of a log holding the traceback, never the
traceback itself. No Textual here."""

from __future__ import annotations

import os
import traceback
from datetime import UTC, datetime
from pathlib import Path

LOG_ENV = "MLFARGATE_TUI_LOG"


def log_path() -> Path:
    """``$MLFARGATE_TUI_LOG``, else ``$XDG_STATE_HOME/mlfargate/tui.log`` (``~/.local/state`` by default)."""
    explicit = os.environ.get(LOG_ENV)
    if explicit:
        return Path(explicit)
    state = os.environ.get("XDG_STATE_HOME")
    return (Path(state) if state else Path.home() / ".local" / "state") / "mlfargate" / "tui.log"


def one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def record(error: BaseException, context: str = "") -> str:
    """Append the traceback to the log; returns the sentence to show (with the log's path)."""
    path = log_path()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    body = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {stamp} {context}\n{body}\n")
    except OSError as exc:
        return f"unexpected error: {one_line(error)} (the log {path} could not be written: {exc.strerror})"
    return f"unexpected error: {one_line(error)}; details in {path}"


def note(message: str) -> None:
    """Append a line to the log (for events nobody is left to see, e.g. the terminal going away)."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} {message}\n")
    except OSError:
        return
