"""Running a Terraform engine as a child process, with progress from its ``-json`` events.

Why a child process for every engine, the embedded one included:

* Ctrl-C: the engine runs in its own session (``start_new_session``), so the terminal's SIGINT reaches
  only mlfargate, which forwards exactly one SIGINT (Terraform's graceful stop: running operations
  finish, state is saved). A second Ctrl-C is not forwarded: it produces an ``interrupt`` event
  explaining that forcing can lose state; a third forces (a second SIGINT, which Terraform treats as
  "exit immediately"). In-process, the Go runtime and Python would both own SIGINT.
* Stopping from another thread: a SIGINT handler can only be installed in the main thread, so a
  front-end that runs Terraform in a worker thread (the TUI) passes a :class:`Cancel` and calls
  :meth:`Cancel.stop` (the graceful stop, as the first Ctrl-C) or :meth:`Cancel.force` (as the third).
  The signal goes to the Terraform child only, never to the front-end's own process.
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

EventKind = Literal[
    "start",  # apply: a resource operation started
    "progress",  # apply: still running (Terraform's periodic progress, provisioner output)
    "complete",  # apply: a resource operation finished
    "errored",  # apply: a resource operation failed
    "refresh",  # plan: a resource was read (refreshed) from its provider
    "planned",  # plan: a resource change was planned
    "init",  # init: one line of its output (modules, provider installation)
    "log",
    "diagnostic",
    "summary",
    "interrupt",
]


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

    The SIGINT handler (main thread) and a :class:`Cancel` (any thread) both come here; ``sent`` counts
    the signals the child got, so a graceful stop is sent once and a forced one once after it.
    Installed before the child starts: a Ctrl-C while it is being started is forwarded as soon as it
    exists (never a KeyboardInterrupt that would kill it mid-start)."""

    def __init__(self, emit: Callable[[str], None]) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.emit = emit
        self.count = 0
        self.sent = 0
        self._lock = threading.Lock()

    def __call__(self, signum: int, frame: object) -> None:
        self.count += 1
        if self.proc is None:
            return  # forwarded by attach() once the child exists
        if self.count == 1:
            self.graceful()
        elif self.count == 2:
            if self.proc.poll() is None:
                self.emit(
                    "Terraform is still stopping. Forcing it now can lose state (resources created but not "
                    "recorded). Press Ctrl-C again to force, or wait."
                )
        else:
            self.force()

    def attach(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        if self.count:
            self.graceful()

    def _send(self, at_most: int) -> bool:
        """Send SIGINT unless the child has had ``at_most`` already, has not started or has ended."""
        with self._lock:
            if self.proc is None or self.sent >= at_most or self.proc.poll() is not None:
                return False
            self.sent += 1
            self.proc.send_signal(signal.SIGINT)
            return True

    def graceful(self) -> None:
        self.count = max(self.count, 1)
        if self._send(1):
            self.emit("interrupt received: Terraform is stopping gracefully and saving state")

    def force(self) -> None:
        self.count = max(self.count, 3)
        self._send(1)  # a force before any graceful stop still sends the graceful one first
        if self._send(2):
            self.emit("forcing Terraform to stop; check the state with `terraform state list` afterwards")


class Cancel:
    """Stops the Terraform command running under it, from any thread (what the first and third
    Ctrl-C do in the CLI, for front-ends whose Terraform runs in a worker thread).

    Pass one to :func:`run` (and the operations and :mod:`mlfargate.flow` steps that take ``cancel``);
    the command running when :meth:`stop` is called stops gracefully (Terraform finishes the resource
    operations in flight and saves the state), and no later command starts. Signals go to the
    Terraform child process only."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: _Interrupts | None = None
        self.requested = False
        self.forced = False

    def stop(self) -> None:
        """Ask the running command to stop gracefully (again: nothing more is sent)."""
        with self._lock:
            self.requested = True
            running = self._running
        if running is not None:
            running.graceful()

    def force(self) -> None:
        """Make the running command exit now (Terraform's second interrupt). Can lose state: resources
        being created may not be recorded."""
        with self._lock:
            self.requested = self.forced = True
            running = self._running
        if running is not None:
            running.force()

    def _attach(self, running: _Interrupts) -> None:
        with self._lock:
            self._running = running
            requested, forced = self.requested, self.forced
        if forced:
            running.force()
        elif requested:
            running.graceful()

    def _detach(self) -> None:
        with self._lock:
            self._running = None


class NotStartedError(Exception):
    """:func:`run` was asked to start a command after its :class:`Cancel` was stopped."""


def run(
    engine: Engine,
    workspace: Path,
    args: list[str],
    on_event: Callback = _noop,
    json_events: bool = False,
    total: int | None = None,
    cancel: Cancel | None = None,
    lines: bool = False,
) -> RunResult:
    """Run ``terraform -chdir=WORKSPACE ARGS`` and return its output; ``json_events`` streams
    ``-json`` lines through ``on_event`` as :class:`ProgressEvent` while the command runs, ``lines``
    streams every non-empty stdout line as an ``init`` event (commands without ``-json``). A stopped
    ``cancel`` raises :class:`NotStartedError` instead of starting the command. ``interrupted`` in the
    result says whether a Ctrl-C or a stop reached it (whatever Terraform then returned)."""
    if cancel is not None and cancel.requested:
        raise NotStartedError(args[0] if args else "terraform")
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
    if cancel is not None:
        cancel._attach(handler)
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
            if lines and line.strip():
                deliver(ProgressEvent("init", line.strip(), elapsed_s=time.monotonic() - started))
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
        if cancel is not None:
            cancel._detach()
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
        interrupted=handler.count > 0 or handler.sent > 0,
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
        if kind == "refresh_complete":
            return make("refresh")
        if kind == "planned_change":
            raw = event.get("change")
            change: dict[str, Any] = raw if isinstance(raw, dict) else {}
            resource = change.get("resource") or {}
            return ProgressEvent(
                "planned", message, resource.get("addr"), change.get("action"), elapsed, None, self.done,
                self.total,
            )  # fmt: skip
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
