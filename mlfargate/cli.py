"""The ``mlfargate`` command line: a thin front-end over the core.

Commands live in :mod:`mlfargate.commands`; each registers itself. User errors
(:class:`~mlfargate.errors.MlfargateError`) become one line each on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from mlfargate import __version__
from mlfargate.commands import discover
from mlfargate.errors import MlfargateError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.handler(args)
    except MlfargateError as error:
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`mlfargate status --watch | head`): stop quietly, like a process that
        # gets SIGPIPE, and keep the interpreter's final flush from complaining about the closed pipe.
        _silence_stdout()
        return 141
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
