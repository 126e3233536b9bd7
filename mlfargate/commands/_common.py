"""The one module the CLI commands share (besides the core): printing, tables, the engine options, and
how the deploy flow's results and events are shown in a terminal. With ``cli.py``, the only layer that
prints. Commands import the core and this module, never each other."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from mlfargate import flow
    from mlfargate.live.collect import Watcher
    from mlfargate.policy.report import PolicyReport, Waiver
    from mlfargate.spec.model import Spec
    from mlfargate.terraform.engine import Engine
    from mlfargate.terraform.plan_summary import PlanSummary
    from mlfargate.terraform.process import ProgressEvent

#: The type of the object ``register(subparsers)`` receives.
if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subparsers = argparse._SubParsersAction


class OutputClosed(Exception):
    """The reader of stdout or stderr went away (``mlfargate cost x.yaml | head -1``): the command stops
    there, quietly, as a Unix tool does (``cli.main`` exits 141, 128 + SIGPIPE)."""


def _write(stream: TextIO, text: str) -> None:
    try:
        stream.write(text)
    except BrokenPipeError:  # also through checkov's colorama wrapper of sys.stdout
        raise OutputClosed from None


def emit_json(data: Any) -> None:
    """Print one JSON document (commands with ``--json`` print exactly this to stdout)."""
    _write(sys.stdout, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def out(line: str = "") -> None:
    _write(sys.stdout, f"{line}\n")


def err(line: str) -> None:
    """One line on stderr: whatever it echoes (a path, a Terraform message), it stays one printable line."""
    from mlfargate.errors import one_line

    _write(sys.stderr, f"{one_line(line)}\n")


# --------------------------------------------------------------------------------------------------
# Help


def examples(*commands: str) -> str:
    """A subcommand's ``epilog``: its example command lines, printed as written under ``--help``."""
    head = "example:" if len(commands) == 1 else "examples:"
    return "\n".join([head, *(f"  {command}" for command in commands)])


# --------------------------------------------------------------------------------------------------
# Tables and numbers


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """Plain-text columns; ``right`` lists the columns to right-align (numbers)."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    return [fmt(headers), "  ".join("-" * w for w in widths), *(fmt(r) for r in rows)]


# --------------------------------------------------------------------------------------------------
# Terraform engine options


def add_engine_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--terraform",
        metavar="PATH",
        help="terraform/tofu binary to run, or 'embedded' (default: $MLFARGATE_TERRAFORM, then "
        "terraform or tofu on PATH, then the embedded engine)",
    )
    parser.add_argument("--plugin-dir", metavar="DIR", help="provider mirror directory for init (air-gapped)")
    parser.add_argument(
        "--cli-config", metavar="FILE", help="Terraform CLI config (e.g. with a filesystem_mirror)"
    )


def engine_from(args: argparse.Namespace) -> Engine:
    from mlfargate.terraform import engine

    return engine.select(args.terraform, args.plugin_dir, args.cli_config)


# --------------------------------------------------------------------------------------------------
# The live service (status, doctor SPEC)


def add_live_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="send every AWS call to this endpoint (an emulator such as moto_server); "
        "default: $MLFARGATE_AWS_ENDPOINT_URL, else AWS",
    )
    parser.add_argument(
        "--cluster", metavar="C", help="ECS cluster (default: the spec's <name>-<environment>)"
    )
    parser.add_argument(
        "--service", metavar="S", help="ECS service (default: the spec's <name>-<environment>)"
    )


def watch_seconds(text: str) -> int:
    """``--watch SECONDS``: a whole number of seconds in the allowed range, else one clear error."""
    from mlfargate.errors import MlfargateError
    from mlfargate.live.watch import MAX_EVERY_S, MIN_EVERY_S

    try:
        value = int(text)
    except ValueError:
        value = 0
    if not MIN_EVERY_S <= value <= MAX_EVERY_S:
        raise MlfargateError(
            f"--watch {text!r}: give a whole number of seconds from {MIN_EVERY_S} to {MAX_EVERY_S} (default 15)"
        )
    return value


def live_watcher(spec: Spec, args: argparse.Namespace) -> Watcher:
    """The live stage's watcher for ``spec`` with the command's --endpoint-url/--cluster/--service."""
    from mlfargate.errors import MlfargateError
    from mlfargate.live.collect import watcher_for

    url = args.endpoint_url
    if url is not None and not url.startswith(("http://", "https://")):
        raise MlfargateError(f"--endpoint-url {url!r}: give an http:// or https:// URL")
    for flag, value in (("--cluster", args.cluster), ("--service", args.service)):
        if value is not None and not value.strip():
            raise MlfargateError(f"{flag} is empty: give the ECS {flag[2:]} name")
    return watcher_for(spec, endpoint_url=url, cluster=args.cluster, service=args.service)


# --------------------------------------------------------------------------------------------------
# The deploy flow in a terminal


def render_gate(reports: list[PolicyReport], verbose: bool = False, every_waiver: str = "--verbose") -> None:
    """The gate's reports: verdict and counts, then everything that blocks (unparsed, unchecked, each
    failure by severity); the waivers grouped by check with one reason each, or every waiver with
    ``verbose`` (``every_waiver`` says how to ask for that)."""
    for report in reports:
        what = "configuration" if report.kind == "directory" else "plan"
        verdict = "pass" if report.ok else "FAIL"
        out(
            f"gate ({what} {report.target}): {verdict}: {len(report.failed)} failed, "
            f"{len(report.waived)} waived, {report.passed} passed"
            + (f", {report.unread} unchecked" if report.unread else "")
        )
        for path in report.parsing_errors:
            out(f"  UNPARSED {path}: checkov could not parse it, so it is unchecked")
        for line in report.unchecked:
            out(f"  UNCHECKED {line}")
        for severity, findings in report.by_severity().items():
            out(f"  {severity}")
            for f in findings:
                note = f" ({f.note})" if f.note else ""
                out(f"    {f.check_id} {f.resource} at {f.location}: {f.check_name}{note}")
        if verbose:
            for w in report.waived:
                out(f"  waived {w.check_id} {w.resource} at {w.location}: {w.reason}")
        elif report.waived:
            out(f"  waived, by check (every waiver with {every_waiver}):")
            groups = _waivers_by_check(report)
            width = max(len(check_id) for check_id, _, _ in groups)
            count_width = max(len(str(len(waivers))) for _, waivers, _ in groups) + 1
            for check_id, waivers, reasons in groups:
                others = len(reasons) - 1
                more = f" (+{others} other reason{'s' if others > 1 else ''})" if others else ""
                out(
                    f"    {check_id.ljust(width)}  {f'x{len(waivers)}'.rjust(count_width)}  {reasons[0]}{more}"
                )


def _waivers_by_check(report: PolicyReport) -> list[tuple[str, list[Waiver], list[str]]]:
    """(check id, its waivers, their distinct reasons, most used first) per waived check: the most
    waived checks first."""
    from collections import Counter

    by_check: dict[str, list[Waiver]] = {}
    for w in report.waived:
        by_check.setdefault(w.check_id, []).append(w)
    groups = []
    for check_id, waivers in by_check.items():
        reasons = [reason for reason, _ in Counter(w.reason for w in waivers).most_common()]
        groups.append((check_id, waivers, reasons))
    return sorted(groups, key=lambda g: (-len(g[1]), g[0]))


def render_summary(summary: PlanSummary) -> None:
    t = summary.totals
    out(f"plan: {t.add} to add, {t.change} to change, {t.destroy} to destroy, {t.replace} to replace")
    for rtype, c in sorted(summary.by_type.items()):
        parts = [f"{n} {label}" for n, label in ((c.add, "add"), (c.change, "change"),
                 (c.destroy, "destroy"), (c.replace, "REPLACE")) if n]  # fmt: skip
        out(f"  {rtype}: {', '.join(parts)}")
    for r in summary.replacements:
        why = f" ({r.reason})" if r.reason else ""
        paths = f" because of {', '.join(r.paths)}" if r.paths else ""
        out(f"  REPLACE {r.address}{why}{paths}: destroyed and re-created")


class Progress:
    """The deploy flow's events in a terminal, as they happen: what :func:`mlfargate.flow.plan`,
    ``apply``, ``destroy`` and ``gate`` are doing, so a slow step (a provider download, checkov) never
    looks hung.

    On stderr, each phase (terraform init, plan, the policy gate, apply) and its steps: on a terminal,
    one status line redrawn in place (a spinner, the phase, its elapsed seconds, its latest step: the
    provider being installed, the resource just refreshed), each finished phase and Terraform's
    per-resource apply lines kept above it; elsewhere (a pipe, a CI log) plain lines: one when a phase
    starts and ends, init's own lines, each refresh, each resource operation. On stdout, the plan
    summary before the confirmation. With ``json_mode`` only interrupts are shown (stdout stays one
    JSON document). Interrupts (what Ctrl-C does) are always shown.

    Use it as a context manager around the flow call: leaving it stops the spinner and marks a phase
    that did not finish, above the error line."""

    FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
    ASCII_FRAMES = "|/-\\"

    def __init__(self, json_mode: bool, *, tty: bool | None = None, interval: float = 0.1) -> None:
        import threading

        self.stream = sys.stderr
        self.json_mode = json_mode
        self.tty = _isatty(self.stream) if tty is None else tty
        self.interval = interval
        encoding = (getattr(self.stream, "encoding", None) or "").lower().replace("-", "")
        self.unicode = encoding in ("utf8", "utf8sig")
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._phase: str | None = None  # the running phase's message
        self._started = 0.0
        self._step = ""
        self._counts: dict[str, int] = {}
        self._frame = 0
        self._drawn = False
        self.closed = False  # stderr has no reader

    # -- the context manager -----------------------------------------------------------------------

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, *_: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1)
        with self._lock:
            if self._phase is not None and kind is not None:
                import time

                interrupted = isinstance(error, KeyboardInterrupt) or getattr(error, "exit_code", 0) == 130
                what = "interrupted" if interrupted else "failed"
                line = f"{self._phase}: {what} after {time.monotonic() - self._started:.1f}s"
                self._phase = None  # no status line under it
                self._line(f"{self._mark(False)} {line}" if self.tty else line)
            self._clear()
            self._phase = None
        if self.closed and kind is None:
            raise OutputClosed  # now that the flow step has done what it was asked to

    # -- events ------------------------------------------------------------------------------------

    def __call__(self, event: flow.Event) -> None:
        from mlfargate import flow
        from mlfargate.terraform.process import ProgressEvent

        with self._lock:
            if isinstance(event, ProgressEvent) and event.kind == "interrupt":
                self._line(event.message)
                return
            if self.json_mode:
                return
            if isinstance(event, flow.SummaryReady):
                self._clear()
                render_summary(event.summary)
            elif isinstance(event, flow.PhaseStarted):
                self._start(event.message)
            elif isinstance(event, flow.PhaseFinished):
                self._finish(event.message, event.seconds)
            elif isinstance(event, flow.PhaseStep):
                self._show_step(event.message, plain=True)
            elif isinstance(event, ProgressEvent):
                self._progress(event)

    def _start(self, message: str) -> None:
        import threading
        import time

        self._phase, self._started, self._step, self._counts = message, time.monotonic(), "", {}
        if not self.tty:
            self._line(f"{message} ...")
            return
        self._draw()
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="mlfargate-progress", daemon=True)
            self._ticker.start()

    def _finish(self, message: str, seconds: float) -> None:
        self._phase = None
        self._line(
            f"{self._mark(True)} {message}: done in {seconds:.1f}s"
            if self.tty
            else f"{message}: done in {seconds:.1f}s"
        )

    def _show_step(self, message: str, plain: bool) -> None:
        self._step = message
        if self.tty:
            self._draw()
        elif plain:
            self._line(f"  {message}")

    def _progress(self, event: ProgressEvent) -> None:
        message = event.message.strip()
        if event.kind == "init":
            self._show_step(message, plain=True)
        elif event.kind in ("refresh", "planned"):
            self._counts[event.kind] = self._counts.get(event.kind, 0) + 1
            counts = ", ".join(
                f"{n} {'refreshed' if k == 'refresh' else 'planned'}" for k, n in self._counts.items()
            )
            if self.tty:
                self._show_step(f"{counts}: {message}", plain=False)
            elif event.kind == "refresh":
                self._line(f"  {message}")
        elif event.kind in ("start", "complete", "errored", "progress", "log"):
            count = f"{event.done}/{event.total}" if event.total else f"{event.done}"
            self._line(f"[{event.elapsed_s:6.1f}s] {count:>7} {message}")
            if self.tty:
                self._step = message

    # -- drawing -----------------------------------------------------------------------------------

    def _mark(self, ok: bool) -> str:
        if self.unicode:
            return "✓" if ok else "✗"
        return "ok" if ok else "FAILED"

    def _line(self, text: str) -> None:
        """A line kept on the screen (above the status line on a terminal)."""
        from mlfargate.errors import one_line

        self._clear()
        self._write(f"{one_line(text)}\n")
        if self._phase is not None and self.tty:
            self._draw()

    def _clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[2K")
            self._drawn = False

    def _write(self, text: str) -> None:
        """Progress is best effort: when stderr has no reader, the flow step still does what it was
        asked to (an apply is never stopped between its confirmation and Terraform, nor cut short);
        leaving the context raises :class:`OutputClosed` afterwards."""
        if self.closed:
            return
        try:
            _write(self.stream, text)
            self.stream.flush()
        except (OutputClosed, BrokenPipeError):
            self.closed = True

    def _draw(self) -> None:
        import time

        from mlfargate.errors import one_line

        if self._phase is None:
            return
        frames = self.FRAMES if self.unicode else self.ASCII_FRAMES
        spinner = frames[self._frame % len(frames)]
        text = f"{spinner} {self._phase} {time.monotonic() - self._started:5.1f}s"
        if self._step:
            text += f"  {self._step}"
        width = _width(self.stream) - 1
        text = one_line(text, limit=max(width, 10))
        self._write(f"\r\x1b[2K{text}")
        self._drawn = True

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._frame += 1
                try:
                    self._draw()
                except (OSError, ValueError):  # the terminal went away: stop drawing
                    return


def progress(json_mode: bool) -> Progress:
    """The flow's events in this terminal (see :class:`Progress`): ``with progress(args.json) as show:``
    then ``on_event=show``."""
    return Progress(json_mode)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _width(stream: TextIO) -> int:
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def typed_confirmation(yes: bool) -> flow.Confirm:
    """The CLI's confirmation: the workspace name typed at a terminal prompt (``--yes`` skips it). The
    core decides whether what was typed confirms (:func:`mlfargate.flow.confirmed`)."""
    from mlfargate import flow

    def ask(request: flow.ConfirmRequest) -> str | None:
        if yes:
            return request.name
        if not sys.stdin.isatty():
            raise flow.NotConfirmedError(
                f"refusing to {request.verb} without confirmation: stdin is not a terminal; pass --yes"
            )
        try:
            return input(f"Type the workspace name ({request.name}) to {request.verb}: ")
        except EOFError:
            return None

    return ask
