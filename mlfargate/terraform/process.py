"""Running a Terraform engine as a child process, with progress from its ``-json`` events.

Why a child process for every engine, the embedded one included:

* Ctrl-C: the engine runs in its own session (``start_new_session``), so the terminal's SIGINT reaches
  only mlfargate, which forwards exactly one SIGINT (Terraform's graceful stop: running operations
  finish, state is saved). A second Ctrl-C is not forwarded: it produces an ``interrupt`` event
  explaining that forcing can lose state; a third forces (a second SIGINT, which Terraform treats as
  "exit immediately"). In-process, the Go runtime and Python would both own SIGINT.
* Streaming: the child's stdout is a pipe of ``-json`` lines read as they are written.
* Isolation: ``-chdir`` changes the working directory of the whole process running Terraform core.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlfargate.terraform.engine import Engine

EventKind = Literal["start", "progress", "complete", "errored", "log", "diagnostic", "summary", "interrupt"]


@dataclass(frozen=True)
class ProgressEvent:
    """One line of progress, built from Terraform's ``-json`` UI events."""

    kind: EventKind
    message: str
    address: str | None = None
    action: str | None = None
    elapsed_s: float = 0.0  # since the operation started
    resource_elapsed_s: float | None = None  # Terraform's own per-resource elapsed time
    done: int = 0
    total: int | None = None


@dataclass
class RunResult:
    """What a Terraform command returned, with its parsed JSON events and error diagnostics."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(summary, detail) of every error diagnostic in the event stream."""
        out = []
        for event in self.events:
            diag = event.get("diagnostic")
            if (
                event.get("type") == "diagnostic"
                and isinstance(diag, dict)
                and diag.get("severity") == "error"
            ):
                out.append((str(diag.get("summary", "")), str(diag.get("detail", ""))))
        return out


Callback = Callable[[ProgressEvent], None]


def _noop(_: ProgressEvent) -> None:
    return None


# ---------------------------------------------------------------------------------------------------
# Running the engine.


class _Interrupts:
    """SIGINT policy while Terraform runs: forward once, warn on the second, force on the third.

    Installed before the child starts: a Ctrl-C while it is being started is forwarded as soon as it
    exists (never a KeyboardInterrupt that would kill it mid-start)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.emit = emit
        self.count = 0

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.proc is not None:
            self._act(self.count)

    def attach(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        if self.count:
            self._act(1)

    def _act(self, count: int) -> None:
        assert self.proc is not None
        if self.proc.poll() is not None:
            return
        if count == 1:
            self.proc.send_signal(signal.SIGINT)
            self.emit("interrupt received: Terraform is stopping gracefully and saving state")
        elif count == 2:
            self.emit(
                "Terraform is still stopping. Forcing it now can lose state (resources created but not "
                "recorded). Press Ctrl-C again to force, or wait."
            )
        else:
            self.emit("forcing Terraform to stop; check the state with `terraform state list` afterwards")
            self.proc.send_signal(signal.SIGINT)


def run(
    engine: Engine,
    workspace: Path,
    args: list[str],
    on_event: Callback = _noop,
    json_events: bool = False,
    total: int | None = None,
) -> RunResult:
    """Run ``terraform -chdir=WORKSPACE ARGS`` and return its output; ``json_events`` streams
    ``-json`` lines through ``on_event`` as :class:`ProgressEvent` while the command runs.
    ``interrupted`` in the result says whether a Ctrl-C reached it (whatever Terraform then returned)."""
    argv = engine.argv(f"-chdir={workspace}", *args)
    started = time.monotonic()
    tracker = _Tracker(started, total)
    failed: list[Exception] = []

    def deliver(event: ProgressEvent) -> None:
        """A failing ``on_event`` (a front-end's bug, or its output's reader gone) never cuts Terraform
        short: killing it mid-apply could lose state. Later events are dropped; the failure is raised
        once Terraform has finished."""
        if failed:
            return
        try:
            on_event(event)
        except Exception as exc:
            failed.append(exc)

    def emit_interrupt(message: str) -> None:
        deliver(ProgressEvent("interrupt", message, elapsed_s=time.monotonic() - started, done=tracker.done))

    handler = _Interrupts(emit_interrupt)
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.signal(signal.SIGINT, handler)
    events: list[dict[str, Any]] = []
    stdout_lines: list[str] = []
    stderr_chunks: list[bytes] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=engine.env(),
            start_new_session=True,
        )
        handler.attach(proc)
        for line in _stream(proc, stderr_chunks):
            stdout_lines.append(line)
            if not json_events or not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            events.append(event)
            progress = tracker.convert(event)
            if progress is not None:
                deliver(progress)
        proc.wait()
    finally:
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        if in_main:
            signal.signal(signal.SIGINT, previous)
    if failed:
        raise failed[0]
    return RunResult(
        argv=argv,
        returncode=proc.returncode,
        stdout="".join(stdout_lines),
        stderr=b"".join(stderr_chunks).decode(errors="replace"),
        events=events,
        seconds=time.monotonic() - started,
        interrupted=handler.count > 0,
    )


def _stream(proc: subprocess.Popen[bytes], stderr_chunks: list[bytes]) -> Iterator[str]:
    """The child's stdout, line by line as each line arrives, while its stderr collects in
    ``stderr_chunks``; both pipes drained from one thread with a selector (as ``communicate`` does).

    One selector instead of a stderr reader thread plus ``readline``: no thread to start and no GIL
    hand-off per line (5-12 ms per command ahead of the reader it replaced in three 41-round
    interleaved comparisons, about the size of this 2-core machine's noise; benchmarks/RESULTS.md).
    Lines are split as bytes and decoded one by one: a UTF-8 sequence never contains a newline byte,
    so no character is cut."""
    assert proc.stdout is not None and proc.stderr is not None
    stdout = proc.stdout
    partial: list[bytes] = []  # the start of a line still being written (`show -json` is one long line)
    with selectors.DefaultSelector() as selector:
        selector.register(stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        while selector.get_map():
            for key, _ in selector.select():  # PEP 475: retried after our SIGINT handler runs
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fileobj)
                    continue
                if key.fileobj is not stdout:
                    stderr_chunks.append(data)
                    continue
                partial.append(data)
                if b"\n" in data:
                    *complete, rest = b"".join(partial).split(b"\n")
                    partial = [rest] if rest else []
                    for raw in complete:
                        yield raw.decode(errors="replace") + "\n"
    if partial:
        yield b"".join(partial).decode(errors="replace")


class _Tracker:
    """Turns Terraform's ``-json`` UI events into :class:`ProgressEvent` with counts."""

    def __init__(self, started: float, total: int | None) -> None:
        self.started = started
        self.total = total
        self.done = 0

    def convert(self, event: dict[str, Any]) -> ProgressEvent | None:
        kind = event.get("type")
        message = str(event.get("@message", ""))
        elapsed = time.monotonic() - self.started
        hook = event.get("hook") if isinstance(event.get("hook"), dict) else {}
        address = hook.get("resource", {}).get("addr") if hook else None
        action = hook.get("action") if hook else None
        resource_elapsed = hook.get("elapsed_seconds") if hook else None

        def make(k: EventKind) -> ProgressEvent:
            return ProgressEvent(
                k, message, address, action, elapsed,
                float(resource_elapsed) if resource_elapsed is not None else None, self.done, self.total,
            )  # fmt: skip

        if kind == "apply_start":
            return make("start")
        if kind == "apply_progress":
            return make("progress")
        if kind == "apply_complete":
            self.done += 1
            return make("complete")
        if kind == "apply_errored":
            return make("errored")
        if kind == "provision_progress":
            return make("progress")
        if kind == "change_summary":
            changes = event.get("changes", {})
            if self.total is None and changes.get("operation") == "plan":
                self.total = (
                    int(changes.get("add", 0)) + int(changes.get("change", 0)) + int(changes.get("remove", 0))
                )
            return make("summary")
        if kind == "diagnostic":
            return make("diagnostic")
        if kind == "log" and ("Interrupt" in message or "Stopping" in message):
            return make("log")
        return None
