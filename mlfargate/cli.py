"""The ``mlfargate`` command line: a thin front-end over the core.

Commands live in :mod:`mlfargate.commands`; each registers itself. User errors
(:class:`~mlfargate.errors.MlfargateError`) become one line each on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlfargate import __version__
from mlfargate.commands import discover
from mlfargate.commands._common import OutputClosed, err
from mlfargate.errors import MlfargateError

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

#: The exit status when the reader of the output went away (``| head -1``): 128 + SIGPIPE, what a shell
#: reports for a Unix tool stopped by a closed pipe.
EXIT_PIPE = 128 + 13


class _Parser(argparse.ArgumentParser):
    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        # argparse drops write errors (so `--help | head -1` would exit 0 having lost its text); let a
        # closed pipe reach main(), which stops like every other command does.
        if message:
            (file or sys.stderr).write(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlfargate",
        description="Deploy an ML model server on AWS ECS: spec -> Terraform workspace -> plan/apply, "
        "with cost estimates and GPU sizing. GPUs run on ECS on EC2 or Managed Instances, never Fargate.",
    )
    parser.add_argument("--version", action="version", version=f"mlfargate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in discover():
        module.register(sub)
    return parser


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
