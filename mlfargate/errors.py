"""Typed errors. Every user-facing failure is one of these: the CLI prints ``str(error)`` as one
line (or one line per item for :class:`SpecErrors`) and exits with ``exit_code``; never a traceback."""

from __future__ import annotations

from dataclasses import dataclass


class MlfargateError(Exception):
    """An error the operator can act on. The message is one line naming what is wrong and what is allowed."""

    exit_code: int = 2
    prefix: str = "error"

    def lines(self) -> list[str]:
        return [f"{self.prefix}: {self}"]


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
        return [str(e) for e in self.errors]
