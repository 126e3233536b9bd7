"""The ``mlfargate`` command line: a thin front-end over the core.

Commands live in :mod:`mlfargate.commands`; each registers itself. User errors
(:class:`~mlfargate.errors.MlfargateError`) become one line each on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlfargate import __version__
from mlfargate.commands import discover
from mlfargate.commands._common import OutputClosed, err, examples
from mlfargate.errors import MlfargateError

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

#: The exit status when the reader of the output went away (``| head -1``): 128 + SIGPIPE, what a shell
#: reports for a Unix tool stopped by a closed pipe.
EXIT_PIPE = 128 + 13


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help with descriptions and epilogs kept as paragraphs: prose is wrapped to the
    terminal as usual, an indented line (an example command) is printed as written."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        lines: list[str] = []
        prose: list[str] = []

        def flush() -> None:
            if prose:
                lines.append(
                    textwrap.fill(" ".join(prose), width, initial_indent=indent, subsequent_indent=indent)
                )
                prose.clear()

        for line in text.splitlines():
            if not line.strip():
                flush()
                lines.append("")
            elif line[0] in " \t":
                flush()
                lines.append(indent + line)
            else:
                prose.append(line.strip())
        flush()
        return "\n".join(lines)


class _Parser(argparse.ArgumentParser):
    """Every parser of the CLI (subcommands too): help with paragraphs and examples kept
    (:class:`HelpFormatter`), and a command group run bare prints its help (see :func:`_run`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse drops write errors (so `--help | head -1` would exit 0 having lost its text); let a
        # closed pipe reach main(), which stops like every other command does.
        if message:
            (file or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlfargate",
        description="Deploy an ML model server on AWS ECS: spec -> Terraform workspace -> plan/apply, "
        "with cost estimates and GPU sizing. GPUs run on ECS on EC2 or Managed Instances, never Fargate. "
        "`mlfargate COMMAND --help` describes each command, with examples.",
        epilog=examples(
            "mlfargate init --out mine.yaml && mlfargate validate mine.yaml",
            "mlfargate cost mine.yaml",
            "mlfargate generate mine.yaml --out environments/mine",
            "mlfargate plan environments/mine && mlfargate apply environments/mine",
        ),
    )
    parser.add_argument("--version", action="version", version=f"mlfargate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in discover():
        module.register(sub)
    _bare_prints_help(parser)
    return parser


def _bare_prints_help(parser: argparse.ArgumentParser) -> None:
    """``mlfargate`` (or a command group such as ``mlfargate image``) without a command prints its help,
    exit 0, as ``kubectl`` and ``docker`` do, instead of a usage error: the handler of every parser that
    has subcommands is its own help."""

    def show_help(args: argparse.Namespace) -> int:
        parser.print_help()
        return 0

    parser.set_defaults(handler=show_help)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            action.required = False
            for child in action.choices.values():
                if any(isinstance(a, argparse._SubParsersAction) for a in child._actions):
                    _bare_prints_help(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status. Output whose reader went away stops the command quietly
    (:data:`EXIT_PIPE`), except that an error keeps its own status."""
    try:
        code = _run(argv)
        sys.stdout.flush()  # what is still buffered meets a closed pipe here, not in interpreter shutdown
        sys.stderr.flush()
    except (OutputClosed, BrokenPipeError):
        _discard_output()
        return EXIT_PIPE
    return code


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, a usage error
        return done.code if isinstance(done.code, int) else 2
    try:
        code: int = args.handler(args)
    except MlfargateError as error:
        return _fail(error.lines(), error.exit_code)
    except KeyboardInterrupt:
        return _fail(["interrupted"], 130)
    return code


def _fail(lines: list[str], code: int) -> int:
    """Print an error's lines on stderr and return its status, even when stderr has no reader."""
    try:
        for line in lines:
            err(line)
        sys.stderr.flush()
    except (OutputClosed, BrokenPipeError):
        _discard_output()
    return code


def _discard_output() -> None:
    """Point stdout and stderr at /dev/null, so that nothing still buffered for a closed pipe fails
    again when the interpreter flushes them on exit ("Exception ignored ... BrokenPipeError")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # this one has no reader (or is closed)
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
