"""Typed errors. Every user-facing failure is one of these: the CLI prints ``str(error)`` as one
line (or one line per item for :class:`SpecErrors`) and exits with ``exit_code``; never a traceback."""

from __future__ import annotations

from dataclasses import dataclass

#: How much of a value an error message echoes (then an ellipsis): a 50 MB ``name`` must not make a
#: 50 MB error line.
ECHO_LIMIT = 80
#: The longest line an error prints; longer ones are cut with an ellipsis (paths and messages, once the
#: values in them are cut, stay far below it).
LINE_LIMIT = 1000


def _escaped(char: str) -> str:
    return repr(char)[1:-1]  # '\n', '\x1b', '\u2028'


def one_line(text: str, limit: int = LINE_LIMIT) -> str:
    """``text`` as one terminal line: every non-printable character (newline, tab, ANSI escape, line
    separator, bidi override) written as its escape, and at most ``limit`` characters."""
    head = text[: limit + 1]  # never escape megabytes only to cut them
    line = "".join(c if c.isprintable() or c == " " else _escaped(c) for c in head)
    return line if len(line) <= limit and len(head) == len(text) else line[: limit - 1] + "…"


def shown(value: object, limit: int = ECHO_LIMIT) -> str:
    """A value as an error message echoes it: quoted (``repr``) with non-printable characters escaped,
    at most ``limit`` characters, cut with an ellipsis."""
    if isinstance(value, str):
        text = repr(value[: limit + 1])
        if len(value) > limit or len(text) > limit:
            text = text[: limit - 1] + "…"
        return one_line(text)
    try:
        text = repr(value)
    except ValueError:  # an int too long to print (Python's 4300-digit limit)
        return (
            f"<an integer of {value.bit_length()} bits>" if isinstance(value, int) else "<unprintable value>"
        )
    return one_line(text if len(text) <= limit else text[: limit - 1] + "…")


class MlfargateError(Exception):
    """An error the operator can act on. The message is one line naming what is wrong and what is allowed."""

    exit_code: int = 2
    prefix: str = "error"

    def lines(self) -> list[str]:
        """What the CLI prints: one line each, whatever characters the message holds (:func:`one_line`)."""
        return [one_line(f"{self.prefix}: {self}")]


class InputFileError(MlfargateError):
    """A file the operator named is missing, unreadable or malformed (YAML with line/column)."""


@dataclass(frozen=True, order=True)
class SpecError:
    """One violation of the spec's rules, at a key path such as ``compute.instance_types[1]``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"spec error: {self.path}: {self.message}"


class SpecErrors(MlfargateError):
    """All violations found in one spec (rules collect every error, not just the first)."""

    def __init__(self, errors: list[SpecError]) -> None:
        self.errors = sorted(set(errors), key=lambda e: (e.path, e.message))
        super().__init__(f"{len(self.errors)} spec error(s)")

    def lines(self) -> list[str]:
        return [one_line(str(e)) for e in self.errors]
